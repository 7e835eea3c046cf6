"""A worked solution as data: sections of steps. Renderers are pure functions of it.

A :class:`Step` is one line of working, ``lhs = formula = substitution = exact ≈ float``:
``formula`` is written with names, the substitution is the same formula printed with each name
replaced by its value (``values``), ``exact`` is the exact value (let-bound: it may name earlier
steps), ``approx`` its high-precision float.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Union

import mpmath
import sympy as sp

from .diagram import Diagram
from .errors import SymderivError
from .printing import Name, Shown, format_float, latex, text

#: A note mixes plain text (str) with maths (SymPy expressions, printed with the names).
Note = tuple[Union[str, sp.Basic], ...]


@dataclass(frozen=True)
class Step:
    """One line of working: ``lhs = formula = substitution = exact ≈ approx``, and a note."""

    lhs: sp.Basic
    formula: sp.Basic | None = None
    values: Mapping[sp.Symbol, Shown] | None = None
    exact: sp.Basic | None = None
    approx: mpmath.mpf | None = None
    note: Note = ()


@dataclass(frozen=True)
class Remark:
    """A sentence of the solution (a gate lesson, a convention, an observation)."""

    note: Note


@dataclass(frozen=True)
class Table:
    """A table of values: ``header`` cells are SymPy expressions (names), ``rows`` values."""

    caption: str
    header: tuple[sp.Basic, ...]
    rows: tuple[tuple[Shown, ...], ...]


Item = Union[Step, Remark, Table]


@dataclass(frozen=True)
class Section:
    """A titled part of the solution: ``kind`` is given, forward, local, backward, results, ..."""

    kind: str
    title: str
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Solution:
    """An ordered record of the working, with the names needed to print it.

    ``results`` maps each input's name to the exact gradient of the output with respect to it;
    ``diagram`` is the computational graph to draw (None for a model without one).
    """

    model: str
    title: str
    sections: tuple[Section, ...]
    names: Mapping[sp.Symbol, Name]
    parameters: Mapping[str, Any] = field(default_factory=dict)
    results: Mapping[str, Shown] = field(default_factory=dict)
    diagram: Diagram | None = None

    def render(self, fmt: str = "text", *, digits: int = 4, standalone: bool = False) -> str:
        """The solution as ``text``, ``latex``, ``mathml``, ``html``, ``json``, ``dot`` or ``svg``."""
        from .render import render

        return render(self, fmt, digits=digits, standalone=standalone)

    def to_text(self, digits: int = 4) -> str:
        """Plain text for a terminal."""
        return self.render("text", digits=digits)

    def to_latex(self, digits: int = 4, standalone: bool = False) -> str:
        """A LaTeX fragment (amsmath), or a complete document with ``standalone=True``."""
        return self.render("latex", digits=digits, standalone=standalone)

    def to_mathml(self, digits: int = 4) -> str:
        """An HTML fragment whose maths is native MathML."""
        return self.render("mathml", digits=digits)

    def to_html(self, digits: int = 4) -> str:
        """A complete HTML page with native MathML and no JavaScript."""
        return self.render("html", digits=digits)

    def to_dot(self, digits: int = 4) -> str:
        """The computational graph as Graphviz DOT source (an error for a model without one)."""
        return self.render("dot", digits=digits)

    def to_svg(self, digits: int = 4) -> str:
        """The computational graph as an SVG element, drawn by Graphviz's ``dot`` program."""
        return self.render("svg", digits=digits)

    def to_dict(self, digits: int = 4) -> dict[str, Any]:
        """Plain data: exact values as strings, floats as doubles (what ``--format json`` prints)."""
        return {
            "model": self.model,
            "title": self.title,
            "parameters": {k: _plain(v) for k, v in self.parameters.items()},
            "sections": [{"kind": s.kind, "title": s.title,
                          "items": [self._item_dict(i, digits) for i in s.items]} for s in self.sections],
            "results": {k: _shown_dict(v) for k, v in self.results.items()},
        }

    def _item_dict(self, item: Item, digits: int) -> dict[str, Any]:
        if isinstance(item, Step):
            out: dict[str, Any] = {"type": "step", "lhs": text(item.lhs, self.names),
                                   "lhs_latex": latex(item.lhs, self.names)}
            if item.formula is not None:
                out["formula"] = text(item.formula, self.names)
                out["formula_latex"] = latex(item.formula, self.names)
                if item.values:
                    out["substitution"] = text(item.formula, self.names, item.values, digits)
            if item.exact is not None:
                out["exact"] = _exact(item.exact)
                out["exact_latex"] = latex(item.exact, self.names)
            if item.approx is not None:
                out["float"] = _floats(item.approx)
            if item.note:
                out["note"] = self.note_text(item.note)
            return out
        if isinstance(item, Remark):
            return {"type": "remark", "text": self.note_text(item.note)}
        return {"type": "table", "caption": item.caption,
                "header": [text(h, self.names) for h in item.header],
                "rows": [[_shown_dict(c) for c in row] for row in item.rows]}

    def note_text(self, note: Note) -> str:
        """A note as plain text."""
        return "".join(p if isinstance(p, str) else text(p, self.names) for p in note)

    def _repr_latex_(self) -> str:
        return self.to_latex()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        """What Jupyter shows: native MathML (unless :func:`notebook_output` chose ``"latex"``),
        Markdown with TeX maths, the LaTeX fragment (for nbconvert's PDF) and plain text."""
        from .embed import CSS

        bundle = {"text/markdown": self.render("markdown"), "text/latex": self.to_latex(),
                  "text/plain": self.to_text()}
        if _NOTEBOOK["output"] == "mathml":
            bundle["text/html"] = f"<style>\n{CSS}</style>\n" + self.to_mathml()
        return bundle

    def __str__(self) -> str:
        return self.to_text()


_NOTEBOOK = {"output": "mathml"}


def notebook_output(kind: str) -> None:
    """Choose what a Solution shows in Jupyter: ``"mathml"`` (the default: HTML with native
    MathML, drawn in a trusted notebook) or ``"latex"`` (Markdown with TeX maths, typeset by
    MathJax, which an untrusted notebook shows too: it strips MathML from HTML output)."""
    if kind not in ("mathml", "latex"):
        raise SymderivError(f"notebook output: expected 'mathml' or 'latex', got {kind!r}")
    _NOTEBOOK["output"] = kind


def _shown_dict(v: Shown) -> dict[str, Any]:
    out: dict[str, Any] = {"exact": _exact(v.exact)}
    if v.approx is not None:
        out["float"] = _floats(v.approx)
    return out


def _exact(e: sp.Basic) -> Any:
    """An exact value as a string; a matrix as nested lists of strings (one list per row)."""
    if isinstance(e, sp.MatrixBase):
        return [[str(x) for x in e.row(i)] for i in range(e.rows)]
    return str(e)


def _floats(a: Any) -> Any:
    """A float, or a matrix of floats as nested lists."""
    if isinstance(a, tuple):
        return [[float(x) for x in row] for row in a]
    return float(a)


def _plain(v: Any) -> Any:
    if isinstance(v, list):
        return [_plain(x) for x in v]
    if isinstance(v, sp.Basic):
        return str(v)
    return v


def shown_text(v: Shown, digits: int) -> str:
    """A value for a table cell: exact when it is a plain number, else the float."""
    if v.exact.is_Integer or v.approx is None:
        return str(v.exact)
    return format_float(v.approx, digits)
