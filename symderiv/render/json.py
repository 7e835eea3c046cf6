"""JSON: plain data for other programs. Exact values as strings (a matrix as nested lists of
strings), floats as doubles, every step's parts in text and LaTeX."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sympy as sp

from ..printing import Shown, latex, text
from ..record import Item, Remark, Solution, Step
from .latex import title_latex


def solution_data(sol: Solution, digits: int) -> dict[str, Any]:
    """The solution as plain data (what ``--format json`` prints)."""
    return {
        "model": sol.model,
        "title": str(sol.title),
        "title_latex": title_latex(sol.title),
        "parameters": {k: _plain(v) for k, v in sol.parameters.items()},
        "sections": [{"kind": s.kind, "title": str(s.title), "title_latex": title_latex(s.title),
                      "items": [_item(sol, i, digits) for i in s.items]} for s in sol.sections],
        "results": {k: _shown(v) for k, v in sol.results.items()},
    }


def render_json(sol: Solution, digits: int) -> str:
    """One solution as a JSON object."""
    return json.dumps(solution_data(sol, digits), indent=2, ensure_ascii=False) + "\n"


def join_json(data: Sequence[dict[str, Any]]) -> str:
    """Several solutions' :func:`solution_data` as a JSON list."""
    return json.dumps(list(data), indent=2, ensure_ascii=False) + "\n"


def _item(sol: Solution, item: Item, digits: int) -> dict[str, Any]:
    if isinstance(item, Step):
        out: dict[str, Any] = {"type": "step", "lhs": text(item.lhs, sol.names),
                               "lhs_latex": latex(item.lhs, sol.names)}
        if item.formula is not None:
            out["formula"] = text(item.formula, sol.names)
            out["formula_latex"] = latex(item.formula, sol.names)
            if item.values:
                out["substitution"] = text(item.formula, sol.names, item.values, digits)
        if item.exact is not None:
            out["exact"] = _exact(item.exact)
            out["exact_latex"] = latex(item.exact, sol.names)
        if item.approx is not None:
            out["float"] = _floats(item.approx)
        if item.note:
            out["note"] = sol.note_text(item.note)
        return out
    if isinstance(item, Remark):
        return {"type": "remark", "text": sol.note_text(item.note)}
    return {"type": "table", "caption": item.caption, "header": [text(h, sol.names) for h in item.header],
            "rows": [[_shown(c) for c in row] for row in item.rows]}


def _shown(v: Shown) -> dict[str, Any]:
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
