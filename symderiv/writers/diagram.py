"""The computational-graph diagram of a backward pass, as data (:class:`symderiv.diagram.Diagram`).

A wire carries the value that flows forward along it and the gradient that flows back along it:
the share of ∂out/∂(tail) that passes through this one gate (local derivative × upstream
gradient). Where a value feeds several gates the gradients on its wires add up to its gradient,
which the vertex shows ("gradients add at branches"). A graph of matrix gates is drawn at matrix
level: one vertex per matrix gate, each wire labelled with the matrix's shape, and with its values
and gradient when the matrix has at most :data:`SMALL` entries.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import mpmath
import sympy as sp

from .. import numeric
from ..diagram import Diagram, Vertex, VertexKind, Wire
from ..engine import Backward, Graph, Node
from ..printing import Shown

#: A matrix wire shows its values when the matrix has at most this many entries.
SMALL = 9


def build(g: Graph, bw: Backward) -> Diagram:
    """The diagram of the backward pass ``bw`` of graph ``g``: its scalar gates, or its matrix
    gates where the graph has matrices. Linear in the size of the graph."""
    nodes = g.ancestors(bw.output)
    needed = set(nodes)
    live = [t for t in g.tensors if any(n in needed for n in t.entries)]
    owner: dict[Node, Any] = {}  # an entry belongs to the first matrix that holds it
    for t in live:
        for n in t.entries:
            owner.setdefault(n, t)
    units: list[tuple[int, int, Any]] = [(max(n.index for n in t.entries), k, t) for k, t in enumerate(live)]
    units += [(n.index, len(live), n) for n in nodes if n not in owner and n.named]
    units.sort(key=lambda u: u[:2])
    ids = {id(u): f"n{k}" for k, (_, _, u) in enumerate(units)}

    def unit_of(n: Node) -> Any:
        return owner.get(n, n)

    edges: list[tuple[Any, Any]] = []
    for _, _, u in units:
        if _is_matrix(u):
            sources = list(u.parents) + [unit_of(p) for n in u.entries if n.op is not None
                                          for p in n.parents if p.named and p not in owner]
        else:
            sources = [unit_of(p) for p in u.parents if p.named]
        edges += [(s, u) for s in _unique(sources) if id(s) in ids]
    fan = Counter(id(s) for s, _ in edges)

    vertices = [_vertex(g, bw, u, ids[id(u)], fan[id(u)] > 1) for _, _, u in units]
    wires = [Wire(ids[id(s)], ids[id(u)], _value(bw, s), _through(bw, s, u), _shape(s)) for s, u in edges]
    out = bw.output
    vertices.append(Vertex("out", VertexKind.OUTPUT, bw.label.text))
    wires.append(Wire(ids[id(unit_of(out))], "out", _value(bw, out),
                      Shown(bw.grads[out], bw.approx[out]), None))
    return Diagram(bw.label.text, tuple(vertices), tuple(wires))


def _unique(xs: list) -> list:
    return list({id(x): x for x in xs}.values())


def _is_matrix(u: Any) -> bool:
    return hasattr(u, "entries")


def _shape(u: Any) -> tuple[int, int] | None:
    return u.shape if _is_matrix(u) else None


def _small(u: Any) -> bool:
    return not _is_matrix(u) or len(u.entries) <= SMALL


def _vertex(g: Graph, bw: Backward, u: Any, vid: str, fans_out: bool) -> Vertex:
    grad = _total(bw, u) if fans_out else None
    if _is_matrix(u):
        if u.gate is None:
            kind = VertexKind.DATA if all(n.constant for n in u.entries) else VertexKind.INPUT
            return Vertex(vid, kind, u.name, shape=u.shape, grad=grad)
        return Vertex(vid, VertexKind.GATE, u.name, u.gate.glyph_of(u), u.formula, u.shape, grad)
    name = g.names[u.symbol].text
    if u.op is None:
        return Vertex(vid, VertexKind.DATA if u.constant else VertexKind.INPUT, name, grad=grad)
    return Vertex(vid, VertexKind.GATE, name, u.op.glyph_of(u), u.formula, None, grad)


def _value(bw: Backward, u: Any) -> Shown | None:
    """The forward value on a wire out of ``u``."""
    if not _is_matrix(u):
        return _scalar(bw, u.value, u.ref, u.approx)
    if not _small(u):
        return None
    cells = [[_scalar(bw, n.value, n.ref, n.approx) for n in row] for row in u.nodes]
    return _matrix(cells)


def _scalar(bw: Backward, exact: sp.Expr, ref: sp.Expr, approx: mpmath.mpf | None) -> Shown:
    """A value as a wire shows it: its float, or (symbolic) its expression while short."""
    return Shown(ref if approx is not None else bw.inline(exact), approx)


def _matrix(cells: list[list[Shown | None]]) -> Shown | None:
    if all(c is None for row in cells for c in row):
        return None
    zero = Shown(sp.Integer(0), mpmath.mpf(0))
    cells = [[zero if c is None else c for c in row] for row in cells]
    approx = None if any(c.approx is None for row in cells for c in row) else \
        tuple(tuple(c.approx for c in row) for row in cells)
    return Shown(sp.ImmutableMatrix([[c.exact for c in row] for row in cells]), approx)


def _total(bw: Backward, u: Any) -> Shown | None:
    """The whole gradient of ``u`` (all its wires together)."""
    def one(n: Node) -> Shown | None:
        return _scalar(bw, bw.grads[n], bw.ref(n), bw.approx[n]) if n in bw.grads else None
    if not _is_matrix(u):
        return one(u)
    return _matrix([[one(n) for n in row] for row in u.nodes]) if _small(u) else None


def _through(bw: Backward, s: Any, u: Any) -> Shown | None:
    """The gradient that flows back from ``u`` into ``s``: for each entry of ``s``, the sum over
    the gates of ``u`` it feeds of local derivative × upstream gradient."""
    if not _small(s):
        return None
    heads = set(u.entries) if _is_matrix(u) else {u}
    if not _is_matrix(s):
        return _entry_through(bw, s, heads)
    return _matrix([[_entry_through(bw, n, heads) for n in row] for row in s.nodes])


def _entry_through(bw: Backward, n: Node, heads: set) -> Shown | None:
    if n not in bw.grads:
        return None
    consumers = bw.consumers.get(n, [])
    mine = [c for c in consumers if c in heads]
    if n in heads or len(mine) == len(consumers):  # all of its gradient goes this way
        return _scalar(bw, bw.grads[n], bw.ref(n), bw.approx[n])
    locs = [(bw.locals[(c, n)], c) for c in mine]
    exact = sp.Add(*(loc.ref * bw.ref(c) for loc, c in locs))
    parts = [(loc.approx, bw.approx[c]) for loc, c in locs]
    if any(a is None or b is None for a, b in parts):
        return Shown(exact, None)
    with mpmath.workdps(numeric.DIGITS + 10):
        return Shown(exact, sum((a * b for a, b in parts), mpmath.mpf(0)))
