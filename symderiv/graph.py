"""Your own computational graph: the engine's :class:`~symderiv.engine.Graph` with its backward
pass, closed forms and worked solution one call away.

>>> g = Graph()
>>> x, y, z = g.input("x", -2), g.input("y", 5), g.input("z", -4)
>>> f = g.mul(g.add(x, y, name="q"), z, name="f")
>>> g.gradients(f)["x"]
-4
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import sympy as sp

from . import engine, writers
from .engine import SHORT, Backward, Convention, Node, is_short
from .record import Section, Solution


class Graph(engine.Graph):
    """A computational graph with exact SymPy values, and its worked solution.

    Build it with :meth:`input`, :meth:`data`, :meth:`const`, :meth:`define` and the gates
    (:meth:`apply`, or one method per row of the gate table: ``g.add``, ``g.mul``, ``g.sigmoid``,
    ...); then :meth:`solution` writes the worked solution of an output node.
    """

    def backward(self, output: Node, *, upstream: Any = 1, convention: str | Convention = "pytorch",
                 label: str | None = None, label_latex: str | None = None) -> Backward:
        """Reverse-mode accumulation from ``output`` seeded with ``upstream`` (a record; the graph
        is not changed)."""
        return engine.backward(self, output, upstream=upstream, convention=convention, label=label,
                               label_latex=label_latex)

    def gradients(self, output: Node, **kwargs: Any) -> dict[str, sp.Expr]:
        """Exact gradient of ``output`` with respect to every input, by input name."""
        return engine.gradients(self, output, **kwargs)

    def composed(self, output: Node) -> sp.Expr:
        """The forward expression of ``output`` in the input symbols (built on request only)."""
        return engine.composed(self, output)[output]

    def closed_form(self, output: Node, convention: str | Convention = "pytorch") -> dict[str, sp.Expr]:
        """The gradient of ``output`` with respect to each input as one expression in the inputs."""
        return engine.closed_form(self, output, convention)

    def solution(self, output: Node, *, upstream: Any = 1, convention: str | Convention = "pytorch",
                 label: str | None = None, label_latex: str | None = None, model: str = "graph",
                 title: str | None = None, parameters: Mapping[str, Any] | None = None,
                 extra: Iterable[Section] = ()) -> Solution:
        """The worked solution: given values, forward pass, local derivatives, backward pass, results."""
        bw = self.backward(output, upstream=upstream, convention=convention, label=label, label_latex=label_latex)
        return self.solution_of(bw, model=model, title=title, parameters=parameters, extra=extra)

    def solution_of(self, bw: Backward, *, model: str = "graph", title: str | None = None,
                    parameters: Mapping[str, Any] | None = None, before: Iterable[Section] = (),
                    extra: Iterable[Section] = (), names: Mapping = ()) -> Solution:
        """The worked solution of a backward pass already run, with sections ``before`` it and
        ``extra`` sections after it (``names``: how their own symbols are written)."""
        return writers.scalar_solution(self, bw, model=model, title=title, parameters=parameters, before=before,
                                       extra=extra, names=names)


__all__ = ["SHORT", "Backward", "Graph", "Node", "is_short"]
