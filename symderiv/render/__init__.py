"""Renderers: pure functions from a :class:`~symderiv.solution.Solution` to text.

Each step is printed as a chain ``lhs = formula = substitution = exact ≈ float``; a link equal to
the one before it is dropped, and the float is left out when the exact value is an integer.
"""

from __future__ import annotations

import json

import sympy as sp
from collections.abc import Callable

from ..errors import SymderivError
from .. import printing
from ..printing import format_approx, text
from ..solution import Solution, Step

FORMATS = ("text", "latex", "mathml", "html", "markdown", "json", "dot", "svg")


def chain(sol: Solution, step: Step, digits: int, printer: Callable = text) -> tuple[str, list[str], str | None]:
    """``(lhs, [formula, substitution, exact], float)`` of a step, with repeats dropped."""
    links: list[str] = []
    if step.formula is not None:
        links.append(printer(step.formula, sol.names))
        if step.values:
            links.append(printer(step.formula, sol.names, step.values, digits))
    if step.exact is not None:
        links.append(printer(step.exact, sol.names))
    lhs = printer(step.lhs, sol.names)
    squeeze = [s.replace(" ", "") for s in [lhs, *links]]
    kept = [s for i, s in enumerate(links) if squeeze[i + 1] != squeeze[i]]
    approx = None
    if step.approx is not None and not (step.exact is not None and _all_integers(step.exact)):
        approx = format_approx(step.approx, digits, printer is printing.latex)
        if kept and kept[-1].replace(" ", "") == approx.replace(" ", ""):
            approx = None
    return lhs, kept, approx


def _all_integers(exact: sp.Basic) -> bool:
    if isinstance(exact, sp.MatrixBase):
        return all(e.is_Integer for e in exact)
    return bool(exact.is_Integer)


def _check_digits(digits: int) -> None:
    if not isinstance(digits, int) or isinstance(digits, bool) or not 1 <= digits <= 30:
        raise SymderivError(f"digits must be a whole number from 1 to 30, got {digits!r}")


def render(sol: Solution, fmt: str = "text", *, digits: int = 4, standalone: bool = False) -> str:
    """The solution in ``fmt`` (one of :data:`FORMATS`), values shown to ``digits`` significant digits."""
    _check_digits(digits)
    if fmt == "text":
        from .text import render_text
        return render_text(sol, digits)
    if fmt == "latex":
        from .latex import render_latex
        return render_latex(sol, digits, standalone)
    if fmt == "mathml":
        from .mathml import render_mathml
        return render_mathml(sol, digits)
    if fmt == "html":
        from .mathml import render_html
        return render_html(sol, digits)
    if fmt == "json":
        return json.dumps(sol.to_dict(digits), indent=2, ensure_ascii=False) + "\n"
    if fmt == "markdown":
        from .markdown import render_markdown
        return render_markdown(sol, digits)
    if fmt == "dot":
        from .dot import to_dot
        return to_dot(sol, digits)
    if fmt == "svg":
        from .dot import to_svg
        return to_svg(sol, digits)
    raise SymderivError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")


def render_many(solutions: list[Solution], fmt: str = "text", *, digits: int = 4,
                standalone: bool = False) -> str:
    """Several solutions in one output: one document, one page, one JSON list, DOT digraphs one
    after another, or one SVG with the figures one below the other."""
    if len(solutions) == 1:
        return render(solutions[0], fmt, digits=digits, standalone=standalone)
    if fmt in ("dot", "svg"):
        _check_digits(digits)
        from .dot import dot_many, svg_many
        return (dot_many if fmt == "dot" else svg_many)(solutions, digits)
    if fmt == "json":
        return json.dumps([s.to_dict(digits) for s in solutions], indent=2, ensure_ascii=False) + "\n"
    if fmt == "html":
        from .mathml import page
        return page("symderiv worked solutions", "".join(render(s, "mathml", digits=digits) for s in solutions))
    body = "\n".join(render(s, fmt, digits=digits) for s in solutions)
    if fmt == "latex" and standalone:
        from .latex import document
        return document(body)
    return body


__all__ = ["FORMATS", "chain", "render", "render_many"]
