"""Traced Python: ordinary arithmetic on :func:`var` values records the graph, as micrograd does.

>>> reset()
>>> x = var("x", -4)
>>> z = 2 * x + 2 + x
>>> q = relu(z) + z * x
>>> q.backward().results["x"].exact  # relu'(-10)·3 + (3x + z) = 0 + (-12 - 10)
-22
"""

from __future__ import annotations

from typing import Any

from .graph import Graph, Node


_tape: Graph | None = None


def var(name: str, value: Any = None, graph: Graph | None = None) -> Node:
    """An input named ``name`` (a symbol when ``value`` is None), on ``graph`` or on the current
    tape; a name the tape already has starts a new tape (so a re-run notebook cell works), and
    :func:`reset` starts one explicitly."""
    global _tape
    if graph is not None:
        return graph.input(name, value)
    if _tape is None or any(n.name == name for n in _tape.nodes):
        _tape = Graph("traced")
    return _tape.input(name, value)


def reset() -> None:
    """Start a new tape: the next :func:`var` begins a new graph."""
    global _tape
    _tape = None


def _unary(gate: str):
    def f(x: Node, *, name: str | None = None) -> Node:
        return x.graph.apply(gate, x, name=name)
    f.__name__ = gate
    f.__doc__ = f"The {gate} gate applied to a traced value."
    return f


exp, log, sqrt, sin, cos, tan, tanh, sigmoid, relu = (_unary(g) for g in (
    "exp", "log", "sqrt", "sin", "cos", "tan", "tanh", "sigmoid", "relu"))


def maximum(a: Node, b: Any, *, name: str | None = None) -> Node:
    """max(a, b) of traced values."""
    return a.graph.max(a, b, name=name)


def minimum(a: Node, b: Any, *, name: str | None = None) -> Node:
    """min(a, b) of traced values."""
    return a.graph.min(a, b, name=name)
