"""Computational-graph diagrams: DOT source for Graphviz, and SVG through Graphviz's ``dot``.

Drawn as the lecture figures are (CS231n): left to right, inputs as plain names, gates as
circles labelled with their operation (and, small, the gate's name and formula), and on each
wire the forward value in green above the gradient in red. The DOT source needs nothing
installed; SVG needs Graphviz's ``dot`` program on the PATH.
"""

from __future__ import annotations

import functools
import hashlib
import html
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence

import sympy as sp

from .. import limits
from ..diagram import Diagram, Vertex, VertexKind, Wire
from ..errors import DiagramError
from ..printing import Name, Shown, format_float, is_plain_number, text
from ..record import Solution

FORWARD, GRADIENT, QUIET = "#1a7f37", "#cf222e", "#57606a"
FONT = "Helvetica,Arial,sans-serif"
#: A gate's formula longer than this is left out of its circle (its name stays).
CAPTION = 40
NO_DOT = "svg needs Graphviz's dot program (Debian: apt-get install graphviz); --format dot works without it"
#: Graphviz's layout time grows as the 2.5th power of the ranks its wires cross (a wire from a
#: matrix used at every step of an RNN crosses them all): drawing a diagram that crosses r has
#: size r^2.5 / GRAPHVIZ_SCALE (symderiv.limits), e.g. 3,003 (a sigmoid chain of depth 1000,
#: 13 s of dot) 164,000; 15,201 (an RNN of 50 steps, many minutes) 9.5 million.
GRAPHVIZ_SCALE = 3_000


def no_graph(model: str) -> DiagramError:
    """The error for a diagram of ``model``, which has no computational graph."""
    return DiagramError(f"{model} has no computational graph to draw (--format dot and svg are for graph-based models)")


def diagram_of(sol: Solution) -> Diagram:
    """The solution's diagram, or a :class:`DiagramError` naming the model."""
    if sol.diagram is None:
        raise no_graph(sol.model)
    return sol.diagram


def _esc(s: str) -> str:
    return html.escape(s, quote=False)


def _font(s: str, color: str | None = None, size: int | None = None) -> str:
    attrs = (f' COLOR="{color}"' if color else "") + (f' POINT-SIZE="{size}"' if size else "")
    return f"<FONT{attrs}>{_esc(s)}</FONT>" if attrs else _esc(s)


def _name(name: str) -> str:
    """A name as the notes write it: W1_11 as W1 with the subscript 11, h_prev_1 as h with prev,1."""
    head, _, sub = name.partition("_")
    sub = ",".join(filter(None, sub.split("_")))
    return _esc(head) + (f"<SUB>{_esc(sub)}</SUB>" if sub else "")


def _minus(s: str) -> str:
    """Numbers set with a true minus sign (−2, not -2)."""
    return s.replace("-", "−")


def _entry(exact: sp.Expr, approx, names: Mapping[sp.Symbol, Name], digits: int, fraction: bool = True) -> str:
    """An integer exactly; with ``fraction``, a fraction or its float, whichever is shorter (53/250
    as 0.212, 1/3 as 1/3); anything else as its float, or (symbolic) its expression."""
    if approx is None or exact.is_Integer:
        return text(exact, names) if approx is None else _minus(text(exact, names))
    s = format_float(approx, digits)
    return _minus(str(exact) if fraction and is_plain_number(exact) and len(str(exact)) < len(s) else s)


def value_lines(v: Shown, names: Mapping[sp.Symbol, Name], digits: int) -> list[str]:
    """A wire's value as lines of text: a number, a column vector on one line, a matrix by rows
    (its entries all integers or floats, not a mix of fractions and floats)."""
    if not isinstance(v.exact, sp.MatrixBase):
        return [_entry(v.exact, v.approx, names, digits)]
    rows = [[_entry(e, None if v.approx is None else v.approx[i][j], names, digits, fraction=False)
             for j, e in enumerate(v.exact.row(i))] for i in range(v.exact.rows)]
    if v.exact.cols == 1 and v.exact.rows > 1:
        return ["[" + ", ".join(r[0] for r in rows) + "]ᵀ"]
    return ["[" + ", ".join(r) + "]" for r in rows]


def _shape(shape: tuple[int, int]) -> str:
    return f"{shape[0]}×{shape[1]}"


def _vertex(v: Vertex, d: Diagram, names: Mapping[sp.Symbol, Name], digits: int) -> str:
    lines: list[str] = []
    if v.kind is VertexKind.GATE:
        lines.append(_font(_minus(v.op), size=16))
        caption = v.name
        if v.formula is not None:
            formula = text(v.formula, names)
            if len(formula) <= CAPTION:
                caption = f"{v.name} = {_minus(formula)}"
        lines.append(_font(caption, QUIET, 10))
        attrs = "shape=ellipse, margin=0.05"
    elif v.kind is VertexKind.DATA:
        lines.append(f'<I><FONT COLOR="{QUIET}">{_name(v.name)}</FONT></I>')
        attrs = "shape=plaintext"
    else:
        lines.append(f"<B>{_name(v.name)}</B>")
        attrs = "shape=plaintext"
    if v.grad is not None:
        lines += [_font(s, GRADIENT, 10) for s in _total_lines(v, d, names, digits)]
    return f'  {v.id} [{attrs}, label=<{"<BR/>".join(lines)}>];'


def _total_lines(v: Vertex, d: Diagram, names: Mapping[sp.Symbol, Name], digits: int) -> list[str]:
    lines = value_lines(v.grad, names, digits)
    return [f"∂{d.label}/∂{v.name} = {lines[0]}", *lines[1:]]


def _wire(w: Wire, names: Mapping[sp.Symbol, Name], digits: int) -> str:
    lines = [_font(_shape(w.shape), QUIET, 9)] if w.shape else []
    if w.value is not None:
        lines += [_font(s, FORWARD) for s in value_lines(w.value, names, digits)]
    if w.grad is not None:
        lines += [_font(s, GRADIENT) for s in value_lines(w.grad, names, digits)]
    label = f" [label=<{'<BR/>'.join(lines)}>]" if lines else ""
    return f"  {w.tail} -> {w.head}{label};"


def to_dot(sol: Solution, digits: int = 4) -> str:
    """The DOT source of the solution's computational graph."""
    d = diagram_of(sol)
    legend = "<BR/>".join([_font(sol.title), _font("forward value above each wire", FORWARD, 10),
                           _font(f"gradient ∂{d.label}/∂(wire) below it", GRADIENT, 10)])
    model = sol.model.replace("\\", "\\\\").replace('"', '\\"')
    out = [f'digraph "{model}" {{',
           f'  graph [rankdir=LR, fontname="{FONT}", labelloc=b, nodesep=0.3, ranksep=0.5, label=<{legend}>];',
           f'  node [fontname="{FONT}", fontsize=12];',
           f'  edge [fontname="{FONT}", fontsize=11, arrowsize=0.7];']
    out += [_vertex(v, d, sol.names, digits) for v in d.vertices]
    out += [_wire(w, sol.names, digits) for w in d.wires]
    return "\n".join(out) + "\n}\n"


@functools.lru_cache(maxsize=64)
def svg_of_dot(source: str) -> str:
    """SVG from DOT source by Graphviz's ``dot``, without the XML prolog (it can be inlined in HTML),
    drawn once per distinct source (a page rendered again reuses its figure); a
    :class:`~symderiv.errors.SizeError` when ``dot`` runs past the time the size limit allows."""
    exe = shutil.which("dot")
    if exe is None:
        raise DiagramError(NO_DOT)
    try:
        p = subprocess.run([exe, "-Tsvg"], input=source.encode("utf-8"), capture_output=True,
                           timeout=limits.seconds_allowed())
    except subprocess.TimeoutExpired:
        raise limits.out_of_time("Graphviz's dot") from None
    if p.returncode != 0:
        why = (p.stderr.decode("utf-8", "replace").strip().splitlines() or ["no message"])[0]
        raise DiagramError(f"Graphviz's dot failed: {why}")
    out = p.stdout.decode("utf-8")
    # Graphviz names its elements graph0, node1, edge1, ...: prefix them so that several
    # diagrams on one page keep their ids unique (the prefix depends only on the source).
    prefix = "g" + hashlib.sha1(source.encode("utf-8")).hexdigest()[:8] + "-"
    return re.sub(r'\b(id="|href="#|url\(#)', lambda m: m.group(1) + prefix, out[out.index("<svg"):])


def ranks_crossed(d: Diagram) -> int:
    """How many ranks the diagram's wires cross in all (at least its vertices): each vertex ranked
    one after its latest input, each input one before its first use."""
    inputs: dict[str, list[str]] = {}
    uses: dict[str, list[str]] = {}
    for w in d.wires:
        inputs.setdefault(w.head, []).append(w.tail)
        uses.setdefault(w.tail, []).append(w.head)
    waiting = {v.id: len(inputs.get(v.id, ())) for v in d.vertices}
    ready = [v for v, n in waiting.items() if n == 0]
    rank = dict.fromkeys(ready, 0)
    while ready:  # in topological order
        v = ready.pop()
        for head in uses.get(v, ()):
            rank[head] = max(rank.get(head, 0), rank[v] + 1)
            waiting[head] -= 1
            if waiting[head] == 0:
                ready.append(head)
    for v in waiting:
        if v not in inputs and v in uses:
            rank[v] = min(rank.get(h, 1) for h in uses[v]) - 1
    return max(len(d.vertices), sum(rank.get(w.head, 0) - rank.get(w.tail, 0) for w in d.wires))


def check_drawable(sol: Solution) -> None:
    """Raise :class:`~symderiv.errors.SizeError` when solving and drawing the solution's diagram
    with Graphviz would pass the size limit (see :data:`GRAPHVIZ_SCALE`)."""
    crossed = ranks_crossed(diagram_of(sol))
    limits.check(sol.size + int(crossed ** 2.5) // GRAPHVIZ_SCALE,
                 f"{sol.model}: drawing its diagram with Graphviz (its wires cross {crossed:,} ranks)",
                 output=("svg", 1))


def to_svg(sol: Solution, digits: int = 4) -> str:
    """The solution's computational graph as an SVG element (Graphviz's ``dot`` must be installed)."""
    check_drawable(sol)
    return svg_of_dot(to_dot(sol, digits))


def dot_part(sol: Solution, digits: int = 4) -> str:
    """A solution's share of several diagrams' DOT (one digraph after another, which ``dot`` draws
    each of): its digraph, or a comment when the model has no graph."""
    return to_dot(sol, digits) if sol.diagram is not None else f"// {sol.model}: no computational graph\n"


def svg_part(sol: Solution, digits: int = 4) -> str | None:
    """A solution's share of several diagrams' SVG (:func:`join_svgs`): its figure, or None when
    the model has no graph."""
    return to_svg(sol, digits) if sol.diagram is not None else None


_SIZE = re.compile(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"')


def join_svgs(figures: Sequence[str | None]) -> str:
    """Several figures as one SVG, each below the one before (None, a model without a graph, is
    left out)."""
    parts, width, y = [], 0.0, 0.0
    for svg in figures:
        if svg is None:
            continue
        m = _SIZE.match(svg)
        if m is None:
            raise DiagramError("Graphviz's dot wrote an SVG without its size in points")
        w, h = float(m.group(1)), float(m.group(2))
        parts.append(_SIZE.sub(f'<svg x="0" y="{y:g}" width="{w:g}" height="{h:g}"', svg, count=1))
        width, y = max(width, w), y + h + 20
    height = max(y - 20, 0)
    return (f'<svg width="{width:g}pt" height="{height:g}pt" viewBox="0 0 {width:g} {height:g}" '
            'xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">\n'
            + "".join(parts) + "</svg>\n")
