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


def _nested_function(expr: sp.Basic) -> bool:
    """Whether a function is nested in another in ``expr`` (exp(1/(1 + exp(-1))) has one, exp(-1)
    has not), stopping at the first such pair."""
    stack = [(expr, False)]
    while stack:
        e, in_function = stack.pop()
        if isinstance(e, sp.Function):
            if in_function:
                return True
            in_function = True
        stack.extend((a, in_function) for a in e.args)
    return False


def _surely_longer(expr: sp.Basic, n: int) -> bool:
    """Whether ``expr``'s text is surely longer than ``n`` characters without printing it: it has
    more than 2n atoms (each printed as at least one character but for a coefficient -1 or an
    exponent -1, which print as a sign or a slash: at most one in two)."""
    atoms = 0
    for e in sp.preorder_traversal(expr):
        if not e.args:
            atoms += 1
            if atoms > 2 * n:
                return True
    return False


def shown_exact(exact: sp.Basic, names) -> str | None:
    """An exact value's text when it is short enough to show, else None: no function nested in
    another (a tower of exponentials hides the arithmetic) and at most :data:`MAX_EXACT`
    characters of text (printed only when it may be that short)."""
    if _nested_function(exact) or _surely_longer(exact, MAX_EXACT):
        return None
    written = text(exact, names)
    return written if len(written) <= MAX_EXACT else None


@dataclass(frozen=True)
class Printer:
    """What a format prints a step's chain with: ``expression(expr, names[, values, digits])``
    prints a formula, ``approx`` spells the relation to a rounded value, ``tex_floats`` writes
    floats (and their matrices) as TeX; ``plain``: its print is the plain text that
    :func:`shown_exact` measures (so an exact value is printed once, not twice)."""

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
        shows, written = step.approx is None or _all_integers(step.exact), None
        if not shows and not step.exact.free_symbols:
            written = shown_exact(step.exact, sol.names)  # plain text, printed only when it may fit
            shows = written is not None
        if shows:
            links.append(("=", written if written is not None and printer.plain else
                          printer.expression(step.exact, sol.names)))
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
