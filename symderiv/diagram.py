"""A computational-graph diagram as data: gates and inputs as vertices, wires as edges.

Built from a graph and its backward pass when the solution is made
(:func:`symderiv.writers.diagram.build`), drawn by :mod:`symderiv.render.dot`.
"""

from __future__ import annotations

from collections.abc import Iterable
import enum
from dataclasses import dataclass, replace

import sympy as sp

from .printing import Shown


class VertexKind(enum.StrEnum):
    """What a vertex is drawn as."""

    INPUT = "input"  # a leaf the gradient is taken with respect to
    DATA = "data"  # a value that gets no gradient
    GATE = "gate"
    OUTPUT = "output"


@dataclass(frozen=True)
class Vertex:
    """A vertex: an input, a data value (no gradient), a gate, or the output.

    ``formula`` is the gate as written over its inputs' names (printed with the solution's
    names); ``shape`` is a matrix's (rows, columns), None for a scalar; ``grad`` is the total
    gradient of a value that feeds several gates, else None.
    """

    id: str
    kind: VertexKind
    name: str
    op: str = ""
    formula: sp.Basic | None = None
    shape: tuple[int, int] | None = None
    grad: Shown | None = None


@dataclass(frozen=True)
class Wire:
    """A wire from vertex ``tail`` into vertex ``head``: the forward value and the gradient
    through it (None: not shown, for data values and large matrices)."""

    tail: str
    head: str
    value: Shown | None
    grad: Shown | None
    shape: tuple[int, int] | None = None


@dataclass(frozen=True)
class Diagram:
    """A computational graph to draw; ``label`` names the output the gradients are of."""

    label: str
    vertices: tuple[Vertex, ...]
    wires: tuple[Wire, ...]


def merge(diagrams: Iterable[Diagram]) -> Diagram:
    """Several diagrams as one drawing of separate graphs (e.g. max and average pooling)."""
    parts = list(diagrams)
    vertices, wires = [], []
    for k, d in enumerate(parts):
        vertices += [replace(v, id=f"g{k}{v.id}") for v in d.vertices]
        wires += [replace(w, tail=f"g{k}{w.tail}", head=f"g{k}{w.head}") for w in d.wires]
    return Diagram(parts[0].label, tuple(vertices), tuple(wires))
