"""A step as the renderers print it: the chain ``lhs = formula = substitution = exact ≈ float``.

A link equal to the one before it is dropped, and the float is left out when the exact value is
an integer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sympy as sp

from .. import printing
from ..printing import Shown, format_approx, format_float, text
from ..record import Solution, Step


#: An exact value longer than this (in plain text) is left to the formula over earlier names,
#: which is the exact answer let-bound, and the float follows it.
MAX_EXACT = 60


def _nesting(expr: sp.Basic) -> int:
    """How deeply functions are nested in ``expr`` (exp(-1) is 1, exp(1/(1 + exp(-1))) is 2)."""
    inner = max((_nesting(a) for a in expr.args), default=0)
    return inner + 1 if isinstance(expr, sp.Function) else inner


def fits(exact: sp.Basic, names, written: str | None = None) -> bool:
    """Whether an exact value is short enough to show: no function nested in another (a tower of
    exponentials hides the arithmetic) and at most :data:`MAX_EXACT` characters of text
    (``written``: its text, when already printed)."""
    return _nesting(exact) <= 1 and len(written if written is not None else text(exact, names)) <= MAX_EXACT


@dataclass(frozen=True)
class Printer:
    """What a format prints a step's chain with: ``expression(expr, names[, values, digits])``
    prints a formula, ``approx`` spells the relation to a rounded value, ``tex_floats`` writes
    floats (and their matrices) as TeX; ``plain``: its print is the plain text that
    :func:`fits` measures (so an exact value is printed once, not twice)."""

    expression: Callable[..., str]
    approx: str
    tex_floats: bool = False
    plain: bool = False


#: The plain-text printer (the terminal's chains) and the LaTeX one (``align*`` rows).
TEXT = Printer(printing.text, "≈", plain=True)
LATEX = Printer(printing.latex, r"\approx", tex_floats=True)


def chain(sol: Solution, step: Step, digits: int, printer: Printer = TEXT) -> tuple[str, list[tuple[str, str]]]:
    """``(lhs, [(relation, link), ...])`` of a step: the formula, the substitution and the exact
    value joined by ``=``; a substitution that shows rounded floats, and the float, by
    ``printer.approx`` (after the exact value). A link that repeats the one before it or the
    left-hand side is dropped; an exact value longer than :data:`MAX_EXACT` characters is left out
    where a float follows (the formula, over names defined earlier, is the exact value), never
    where none does (a matrix of whole numbers is shown whole); so is an exact value over the
    names of other steps (a let-bound value restates the formula: the float is its value)."""
    links: list[tuple[str, str]] = []
    rounded_substitution = None
    if step.formula is not None:
        links.append(("=", printer.expression(step.formula, sol.names)))
        if step.values:
            substitution = printer.expression(step.formula, sol.names, step.values, digits)
            if printing.shows_rounded(step.values, step.formula, digits):
                rounded_substitution = substitution
            else:
                links.append(("=", substitution))
    if step.exact is not None:
        written = printer.expression(step.exact, sol.names) if printer.plain else None
        if step.approx is None or _all_integers(step.exact) or (
                not step.exact.free_symbols and fits(step.exact, sol.names, written)):
            links.append(("=", written if written is not None else printer.expression(step.exact, sol.names)))
    if rounded_substitution is not None:
        links.append((printer.approx, rounded_substitution))
    if step.approx is not None and not (step.exact is not None and _all_integers(step.exact)):
        links.append((printer.approx, format_approx(step.approx, digits, printer.tex_floats)))
    lhs = printer.expression(step.lhs, sol.names)
    kept: list[tuple[str, str]] = []
    seen = {lhs.replace(" ", "")}
    for relation, link in links:
        squeezed = link.replace(" ", "")
        if squeezed in seen and (relation == "=" or kept and kept[-1][1].replace(" ", "") == squeezed):
            continue
        if kept and kept[-1][1].replace(" ", "") == squeezed:
            continue
        seen.add(squeezed)
        kept.append((relation, link))
    return lhs, kept


def _all_integers(exact: sp.Basic) -> bool:
    if isinstance(exact, sp.MatrixBase):
        return all(e.is_Integer for e in exact)
    return bool(exact.is_Integer)


def cell_text(v: Shown, digits: int) -> str:
    """A value for a table cell: exact when it is a plain number, else the float."""
    if v.exact.is_Integer or v.approx is None:
        return str(v.exact)
    return format_float(v.approx, digits)
