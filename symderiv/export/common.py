"""What every exercise format shares: a variant's statement, its asked values, numbers as plain
data."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sympy as sp

from ..exercise import Asked, Exercise, Plan, Record, named_steps
from ..printing import latex, text
from ..render import chain
from ..render.latex import blocks, escape
from ..record import Solution, Step, written_title
from ..render.mathml import table_html

#: The formats of ``symderiv exercise --format``.
FORMATS = ("latex", "moodle", "prairielearn", "json", "html")


@dataclass(frozen=True)
class Statement:
    """What a student is told, as TeX: the title (plain text), the given values, the forward
    pass (rows ``lhs &= formula``, no numbers) and each asked group's name and shape."""

    title: str
    given: tuple[str, ...]
    forward: tuple[str, ...]
    asked: tuple[tuple[str, str, tuple[int, ...]], ...]  # (name, TeX, shape: () for a scalar)


def statement(ex: Exercise) -> Statement:
    """The problem statement of an exercise, from its solution."""
    sol = ex.solution
    given = [row for s in sol.sections if s.kind == "given" for row in _given_rows(sol, s.items)]
    if not given:
        given = [f"\\text{{{escape(name)}}} = {_python_tex(value)}" for name, value in sol.parameters.items()
                 if value is not None]
    forward: list[str] = []
    if ex.model not in NO_FORWARD:
        for section in sol.sections:
            if section.kind == "forward":
                forward += _formula_rows(sol, section.items)
    steps = named_steps(sol)
    groups = []
    for group in dict.fromkeys(a.group for a in ex.asked):
        step = steps[group][0]
        shape = _shape(step)
        groups.append((group, latex(step.lhs, sol.names), shape))
    return Statement(sol.title, tuple(given), tuple(forward), tuple(groups))


#: Models whose forward pass is the answer itself (its formulas would give it away).
NO_FORWARD = ("mle", "conv-volume", "dropout", "positional-encoding")


def _shape(step: Step) -> tuple[int, ...]:
    if isinstance(step.exact, sp.MatrixBase):
        return step.exact.shape
    if isinstance(step.approx, tuple):
        return (len(step.approx), len(step.approx[0]))
    return ()


def _given_rows(sol: Solution, items: Sequence[Any]) -> list[str]:
    rows = []
    for step in items:
        if not isinstance(step, Step):
            continue
        lhs, links = chain(sol, step, 4, latex)
        floats = [link for relation, link in links if relation == "≈"]
        exacts = [link for relation, link in links if relation == "="]
        approx = floats[-1] if floats else None
        exact = step.exact
        entries = list(exact) if isinstance(exact, sp.MatrixBase) else [exact]
        decimal = all(e is not None and e.is_Rational and not _other_primes(e.q) for e in entries)
        value = approx if approx and decimal else (exacts[-1] if exacts else approx)
        if value:
            rows.append(f"{lhs} = {value}")
    return rows


def _other_primes(q: int) -> int:
    for p in (2, 5):
        while q % p == 0:
            q //= p
    return q - 1


def _python_tex(value: Any) -> str:
    if isinstance(value, str):
        return f"\\text{{{escape(value)}}}"
    if isinstance(value, list):
        rows = value if isinstance(value[0], list) else [[v] for v in value]
        return r"\begin{bmatrix} " + r" \\ ".join(" & ".join(_python_tex(v) for v in r) for r in rows) + r" \end{bmatrix}"
    return sp.latex(sp.sympify(value)) if isinstance(value, (int, sp.Basic)) else str(value)


def _formula_rows(sol: Solution, items: Sequence[Any]) -> list[str]:
    """``lhs &= formula`` of each step with a formula, leaving out the entries that a matrix
    step of the same section holds (``u1_1`` beside ``u1``)."""
    steps = [i for i in items if isinstance(i, Step) and i.formula is not None]
    matrices = {text(s.lhs, sol.names) for s in steps if _shape(s)}
    rows = []
    for s in steps:
        entry = re.fullmatch(r"(.+?)((?:_\d+)+)", text(s.lhs, sol.names))
        if entry and not _shape(s) and entry.group(1) in matrices:
            continue
        formula = latex(s.formula, sol.names)
        if isinstance(s.formula, sp.Add) and len(s.formula.args) > 6:  # a long sum: its ends, and dots
            terms = [latex(t, sol.names) for t in s.formula.args]
            formula = f"{terms[0]} + {terms[1]} + \\dots + {terms[-1]}"
        rows.append(f"{latex(s.lhs, sol.names)} &= {formula}")
    return rows


# ----- the worked solution as HTML with TeX maths (Moodle's MathJax filter, PrairieLearn) ----
def tex_html(sol: Solution, digits: int) -> str:
    """The worked solution as HTML whose maths is TeX in ``\\( … \\)`` and ``\\[ … \\]``."""
    out = []
    for section in sol.sections:
        out.append(f"<h4>{title_html(section.title)}</h4>")
        for kind, block in blocks(sol, section, digits):
            if kind == "align":
                body = " \\\\\n".join(block)
                out.append(f"<p>\\[\\begin{{aligned}}\n{html.escape(body)}\n\\end{{aligned}}\\]</p>")
            elif kind == "note":
                out.append(f"<p>{note_html(sol, block)}</p>")
            else:
                out.append(table_html(sol, block, digits, lambda tex: f"\\({html.escape(tex)}\\)", ""))
    return "\n".join(out) + "\n"


def title_html(title: str) -> str:
    """A title's text escaped for HTML, its maths as ``\\( … \\)``."""
    return written_title(title, lambda tex: f"\\({html.escape(tex)}\\)", html.escape)


def note_html(sol: Solution, note: Sequence[Any]) -> str:
    """A note's text escaped for HTML, its maths as ``\\( … \\)``."""
    return "".join(html.escape(p) if isinstance(p, str) else f"\\({html.escape(latex(p, sol.names))}\\)"
                   for p in note)


def statement_html(st: Statement, digits: int) -> str:
    """The statement as HTML with TeX maths: the given values, the forward pass, what to find."""
    out = [f"<p>{title_html(st.title)}.</p>"]
    if st.given:
        out.append("<p>Given " + ", ".join(f"\\({html.escape(g)}\\)" for g in st.given) + ".</p>")
    if st.forward:
        out.append("<p>The forward pass:</p>\n<p>\\[\\begin{aligned}\n" + html.escape(" \\\\\n".join(st.forward))
                   + "\n\\end{aligned}\\]</p>")
    return "\n".join(out) + "\n"


def asked_phrase(group_tex: str, shape: tuple[int, ...]) -> str:
    """``\\(name\\)``, with its shape for a matrix (HTML with TeX)."""
    size = f" (a {shape[0]}×{shape[1]} matrix)" if shape and min(shape) > 1 else \
        f" (a vector of {max(shape)} entries)" if shape else ""
    return f"\\({html.escape(group_tex)}\\){size}"


def as_json(p: Plan, records: Sequence[Record | Exercise]) -> dict[str, Any]:
    """Plain data for any other platform: every variant's parameters and asked values."""
    return {"model": p.model, "seed": p.seed, "digits": p.digits,
            "ranges": {k: r.text for k, r in p.ranges.items()}, "ask": list(p.ask),
            "variants": [{"index": r.index + 1, "parameters": {k: numbers(v) for k, v in r.parameters.items()},
                          "parameters_exact": {k: _exact(v) for k, v in r.parameters.items()},
                          "asked": [_asked_json(a) for a in r.asked]} for r in records]}


def _asked_json(a: Asked) -> dict[str, Any]:
    return {"name": a.name, "group": a.group, "key": a.key, "exact": a.exact, "float": a.value,
            "shown": a.shown, "tolerance": a.tolerance}


def _exact(v: Any) -> Any:
    return [_exact(x) for x in v] if isinstance(v, list) else str(v)


def numbers(v: Any) -> Any:
    """A parameter as plain numbers: int for a whole number, else float; lists of them."""
    if isinstance(v, list):
        return [numbers(x) for x in v]
    if isinstance(v, str):
        return v
    if isinstance(v, int) or (isinstance(v, sp.Basic) and v.is_Integer):
        return int(v)
    return float(v)


def answers_by_group(asked: Sequence[Asked]) -> Mapping[str, list[Asked]]:
    """The asked values, grouped by the name asked for, in order."""
    out: dict[str, list[Asked]] = {}
    for a in asked:
        out.setdefault(a.group, []).append(a)
    return out


__all__ = ["FORMATS", "Statement", "answers_by_group", "as_json", "asked_phrase", "note_html", "numbers",
           "statement", "statement_html", "tex_html"]
