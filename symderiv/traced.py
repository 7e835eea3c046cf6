"""Traced Python: ordinary arithmetic on :func:`var` values records the graph, as micrograd does.

>>> reset()
>>> x = var("x", -4)
>>> z = 2 * x + 2 + x
>>> q = relu(z) + z * x
>>> q.backward().results["x"].exact  # relu'(-10)·3 + (3x + z) = 0 + (-12 - 10)
-22

The gate functions (``exp``, ``log``, ``sqrt``, ``sin``, ``cos``, ``tan``, ``tanh``, ``sigmoid``,
``relu``, ``abs``, ``maximum``, ``minimum``, ...) come from the gate table: every row with a
``function`` (or ``traced``) name is one here. The tape is per thread (and per asyncio task).
"""

from __future__ import annotations

import functools
from contextvars import ContextVar
from typing import Any

from .engine.gates import Gate, traced_functions
from .errors import GraphError
from .graph import Graph, Node
from .record import Solution

_tape: ContextVar[Graph | None] = ContextVar("symderiv_traced_tape", default=None)


def var(name: str, value: Any = None, graph: Graph | None = None) -> Node:
    """An input named ``name`` (a symbol when ``value`` is None), on ``graph`` or on the current
    tape. An input name the tape already has starts a new tape (so a re-run notebook cell
    works); :func:`reset` starts one explicitly."""
    if graph is not None:
        return graph.input(name, value)
    tape = _tape.get()
    if tape is not None:
        taken = next((n for n in tape.nodes if n.name == name), None)
        if taken is not None and not taken.is_input:
            raise GraphError(f"var({name!r}): {name} is already the name of a gate on this tape; "
                             "choose another name, or call symderiv.traced.reset() to start a new tape")
        if taken is not None:
            tape = None
    if tape is None:
        tape = Graph("traced")
        _tape.set(tape)
    return tape.input(name, value)


def reset() -> None:
    """Start a new tape: the next :func:`var` begins a new graph."""
    _tape.set(None)


def solution(node: Node, **kwargs: Any) -> Solution:
    """The worked solution of the graph ``node`` ends (the same as ``node.backward()``)."""
    if not isinstance(node, Node):
        raise GraphError(f"solution() takes a traced value (a Node), got {type(node).__name__}")
    return node.graph.solution(node, **kwargs)


@functools.cache
def gate_function(gate: Gate):
    """The traced function of a gate row: ``f(x, ..., name=None)`` applies it on x's graph."""
    def apply(*inputs: Any, name: str | None = None) -> Node:
        first = next((x for x in inputs if isinstance(x, Node)), None)
        if first is None:
            raise GraphError(f"{gate.traced_name}(): expected a traced value (made with var), got "
                             f"{', '.join(type(x).__name__ for x in inputs) or 'nothing'}")
        return first.graph.apply(gate, *inputs, name=name)
    apply.__name__ = apply.__qualname__ = gate.traced_name
    apply.__doc__ = f"The {gate.name} gate applied to traced values. {gate.doc}"
    return apply


def __getattr__(attr: str):
    gate = traced_functions().get(attr)
    if gate is None:
        raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")
    return gate_function(gate)


def __dir__() -> list[str]:
    return sorted([*globals(), *traced_functions()])
