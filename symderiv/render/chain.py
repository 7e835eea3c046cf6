"""A step as the renderers print it: the chain ``lhs = formula = substitution = exact ≈ float``.

A link equal to the one before it is dropped, and the float is left out when the exact value is
an integer.
"""

from __future__ import annotations

from collections.abc import Callable

import sympy as sp

from .. import printing
from ..printing import Shown, format_approx, format_float, text
from ..record import Solution, Step


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


def cell_text(v: Shown, digits: int) -> str:
    """A value for a table cell: exact when it is a plain number, else the float."""
    if v.exact.is_Integer or v.approx is None:
        return str(v.exact)
    return format_float(v.approx, digits)
