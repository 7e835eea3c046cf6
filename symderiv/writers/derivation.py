"""Worked solutions that are derivations rather than graphs (dropout's scaling, the KL divergence,
maximum likelihood, positional encoding, a layer's parameter count), and solutions made of parts.

A :class:`Derivation` keeps the names its symbols are written with and builds steps whose float is
the 50-digit value of their exact value; :func:`combine` puts several solutions into one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sympy as sp

from .. import numeric
from ..diagram import merge
from ..printing import Name, Shown
from ..record import Remark, Section, SectionKind, Solution, Step, Title

#: Data sums are written out term by term up to this many values.
SHOW_TERMS = 12


def shown_number(value: sp.Expr) -> Shown:
    """A number as a substitution shows it, with its 50-digit float (none for ±∞)."""
    return Shown(value, _float(value))


def _float(exact: sp.Basic):
    return None if exact.has(sp.oo, -sp.oo, sp.zoo, sp.nan) else numeric.evaluate(exact, {})


def written_sum(terms: Sequence[sp.Expr]) -> sp.Expr:
    """The terms as written (no reordering); a single term as itself."""
    return terms[0] if len(terms) == 1 else sp.Add(*terms, evaluate=False)


class Derivation:
    """Symbols and steps of a derivation; :attr:`names` says how each symbol is written."""

    def __init__(self, names: Mapping[sp.Basic, Name] = ()):
        self.names: dict[sp.Basic, Name] = dict(names)

    def symbol(self, name: str, latex: str, text: str | None = None, **assumptions: Any) -> sp.Symbol:
        """A symbol written ``latex`` / ``text`` (default: its name)."""
        s = sp.Symbol(name, **assumptions)
        self.names[s] = Name(latex, name if text is None else text)
        return s

    def matrix_symbol(self, name: str, shape: tuple[int, int], latex: str, text: str) -> sp.MatrixSymbol:
        """A matrix symbol written ``latex`` / ``text``."""
        s = sp.MatrixSymbol(name, *shape)
        self.names[s] = Name(latex, text)
        return s

    def entries(self, prefix: str, latex: str, values: Sequence[sp.Expr]) -> tuple[list[sp.Symbol], dict]:
        """Symbols prefix1, prefix2, ... for ``values``, and the substitution that shows each."""
        syms = [self.symbol(f"{prefix}{i}", f"{latex}_{{{i}}}") for i in range(1, len(values) + 1)]
        return syms, {s: shown_number(v) for s, v in zip(syms, values)}

    def step(self, lhs: sp.Basic, formula: sp.Basic | None, values: Mapping | None, exact: sp.Expr, *note: Any,
             with_float: bool = True) -> Step:
        """``lhs = formula = substitution = exact ≈ float``; the float is left out for ±∞ and with
        ``with_float=False`` (a count)."""
        return Step(lhs, formula, values or None, exact, _float(exact) if with_float else None, tuple(note))

    def sum_step(self, lhs: sp.Symbol, terms: Sequence[sp.Expr], values: Mapping, exact: sp.Expr, what: str) -> Step:
        """A sum of data, written term by term when there are at most :data:`SHOW_TERMS` terms."""
        if len(terms) <= SHOW_TERMS:
            return self.step(lhs, written_sum(terms), values, exact, what)
        return self.step(lhs, None, None, exact, what.rstrip("."), f" ({len(terms)} terms).")

    def solution(self, model: str, title: str, sections: Sequence[Section], parameters: Mapping[str, Any],
                 results: Mapping[str, Shown] = ()) -> Solution:
        """The derivation's worked solution."""
        return Solution(model, title, tuple(sections), dict(self.names), dict(parameters), dict(results))


def combine(model: str, title: str, parts: Sequence[tuple[str, str, Solution]], parameters: Mapping[str, Any],
            remarks: Sequence[Remark] = ()) -> Solution:
    """Several solutions as one. ``parts`` are ``(key, heading, solution)``: each part's sections
    are titled ``"{heading}: {section title}"``, its results keyed ``"{key}:{name}"`` (a single
    part keeps its own title and result names), the diagrams drawn side by side."""
    if len(parts) == 1:
        title = parts[0][2].title
    sections, names = [], {}
    for _, heading, part in parts:
        names.update(part.names)
        sections += [Section(s.kind, Title(heading, ": ", s.title), s.items) for s in part.sections]
    if remarks:
        sections.append(Section(SectionKind.REMARKS, "Remarks", tuple(remarks)))
    results = parts[0][2].results if len(parts) == 1 else \
        {f"{key}:{k}": v for key, _, part in parts for k, v in part.results.items()}
    diagrams = [part.diagram for _, _, part in parts if part.diagram is not None]
    return Solution(model, title, tuple(sections), names, dict(parameters), results,
                    merge(diagrams) if diagrams else None, sum(part.size for _, _, part in parts))
