"""What every exercise format shares: a variant's statement, its asked values, numbers as plain
data."""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sympy as sp

from ..exercise import Asked, Exercise, Plan, Record, compared_digits
from ..models import get_model
from ..printing import format_float, latex
from ..quantities import Matrix, SolutionIndex, Value
from ..render.latex import BlockWriter, escape, write_sections
from ..record import SectionKind, Solution, Step, written_title
from ..render.mathml import table_html

@dataclass(frozen=True)
class Statement:
    """What a student is told, as TeX: the title (plain text), the given values, the forward
    pass (rows ``lhs &= formula``, no numbers) and each asked group's name and shape."""

    title: str
    given: tuple[str, ...]
    forward: tuple[str, ...]
    asked: tuple[tuple[str, str, tuple[int, ...]], ...]  # (name, TeX, shape: () for a scalar)
    remarks: tuple[str, ...] = ()  # plain text: what the values and formulas do not say


def statement(ex: Exercise) -> Statement:
    """The problem statement of an exercise, from its solution's quantities: every given value
    (matrices included), the forward pass's formulas unless they are the answer, and what is asked."""
    sol = ex.solution
    index = SolutionIndex(sol)
    given = [f"{latex(x.symbol if isinstance(x, Matrix) else x.step.lhs, sol.names)} = {_given_tex(x)}"
             for x in index.given()]
    setup = get_model(ex.model).exercise
    given += [f"\\text{{{escape(name)}}} = {_python_tex(ex.parameters[name])}" for name in setup.stated
              if ex.parameters.get(name) is not None]
    for section in sol.sections:  # the sizes a model states (a stride, a padding, d_k), not derives
        if section.kind is SectionKind.SIZES:
            given += [f"{latex(s.lhs, sol.names)} = {latex(s.exact, sol.names)}" for s in section.items
                      if isinstance(s, Step) and s.formula is None and s.exact is not None]
    if not given:
        given = [f"\\text{{{escape(name)}}} = {_python_tex(value)}" for name, value in sol.parameters.items()
                 if value is not None]
    forward: list[str] = []
    if not get_model(ex.model).exercise.forward_gives_answer:
        for section in sol.sections:
            if section.kind is SectionKind.FORWARD:
                forward += _formula_rows(sol, section.items)
    groups = []
    for group in dict.fromkeys(a.group for a in ex.asked):
        found = index.find(group)
        if isinstance(found, Matrix):
            groups.append((group, latex(found.symbol, sol.names), found.shape))
        else:
            groups.append((group, latex(found.step.lhs, sol.names), ()))
    remarks = (setup.explain.format(**{k: numbers(v) for k, v in ex.parameters.items()}),) if setup.explain else ()
    return Statement(sol.title, tuple(given), tuple(forward), tuple(groups), remarks)


def _given_tex(x: Value | Matrix) -> str:
    """A given value as TeX: a decimal when it is one exactly, else its exact form; a matrix as
    a bmatrix of its entries."""
    if isinstance(x, Matrix):
        return (r"\begin{bmatrix} " + r" \\ ".join(" & ".join(_number_tex(v) for v in row) for row in x.entries)
                + r" \end{bmatrix}")
    return _number_tex(x)


def _number_tex(v: Value) -> str:
    exact = v.exact
    if exact is not None and exact.is_Rational and not _other_primes(exact.q):
        return decimal_text(exact)
    if exact is not None and not exact.free_symbols:
        return sp.latex(exact)
    return format_float(v.approx, 4)


def decimal_text(r: sp.Rational) -> str:
    """A rational whose denominator has no prime but 2 and 5, written out as a decimal exactly."""
    places = 0
    while (r * 10**places).q != 1:
        places += 1
    digits = str(abs(r.p * 10**places // r.q)).rjust(places + 1, "0")
    out = digits if not places else f"{digits[:-places]}.{digits[-places:]}"
    return ("-" if r < 0 else "") + out


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
    if isinstance(value, sp.Rational) and not _other_primes(value.q):
        return decimal_text(value)
    return sp.latex(sp.sympify(value)) if isinstance(value, (int, sp.Basic)) else str(value)


def _formula_rows(sol: Solution, items: Sequence[Any]) -> list[str]:
    """``lhs &= formula`` of each step with a formula, leaving out the entries that a matrix
    step of the same section holds (``u1_1`` beside ``u1``)."""
    steps = [i for i in items if isinstance(i, Step) and i.formula is not None and i.quantity is not None]
    matrices = {s.quantity.node for s in steps if s.quantity.entry is None and len(s.quantity.shape) == 2}
    rows = []
    for s in steps:
        if s.quantity.entry is not None and s.quantity.entry[0] in matrices:
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
    writer = BlockWriter(
        section=lambda section: f"<h4>{title_html(section.title)}</h4>", align=_aligned_html,
        note=lambda note: f"<p>{note_html(sol, note)}</p>",
        table=lambda table: table_html(sol, table, digits, lambda tex: f"\\({html.escape(tex)}\\)", ""))
    return "\n".join(write_sections(sol, digits, writer)) + "\n"


def _aligned_html(rows: Sequence[str]) -> str:
    body = " \\\\\n".join(rows)
    return f"<p>\\[\\begin{{aligned}}\n{html.escape(body)}\n\\end{{aligned}}\\]</p>"


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
    out += [f"<p>{html.escape(r)}</p>" for r in st.remarks]
    if st.forward:
        out.append("<p>The forward pass:</p>\n<p>\\[\\begin{aligned}\n" + html.escape(" \\\\\n".join(st.forward))
                   + "\n\\end{aligned}\\]</p>")
    return "\n".join(out) + "\n"


def size_text(shape: tuple[int, ...]) -> str:
    """`` (a 2×3 matrix)``, `` (a vector of 3 entries)``, or nothing for a scalar."""
    return f" (a {shape[0]}×{shape[1]} matrix)" if shape and min(shape) > 1 else \
        f" (a vector of {max(shape)} entries)" if shape else ""


def asked_phrase(group_tex: str, shape: tuple[int, ...]) -> str:
    """``\\(name\\)``, with its shape for a matrix (HTML with TeX)."""
    return f"\\({html.escape(group_tex)}\\){size_text(shape)}"


def json_piece(ex: Exercise, st: Statement, digits: int) -> dict[str, Any]:
    """A variant's statement as data (TeX lines): what the JSON export adds to its record."""
    return {"title": st.title, "given": list(st.given), "remarks": list(st.remarks), "forward": list(st.forward)}


def as_json(p: Plan, records: Sequence[Record | Exercise], statements: Sequence[Mapping[str, Any]]) -> str:
    """Plain data for any other platform: every variant's parameters, statement and asked values
    (each with its tolerance), as JSON text."""
    data = {"model": p.model, "seed": p.seed, "digits": p.digits, "compared_digits": compared_digits(p.digits),
            "ranges": {k: r.text for k, r in p.ranges.items()}, "ask": list(p.ask),
            "variants": [{"index": r.index + 1, "parameters": {k: numbers(v) for k, v in r.parameters.items()},
                          "parameters_exact": {k: _exact(v) for k, v in r.parameters.items()},
                          "statement": st, "asked": [_asked_json(a) for a in r.asked]}
                         for r, st in zip(records, statements, strict=True)]}
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


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


__all__ = ["Statement", "answers_by_group", "as_json", "json_piece", "asked_phrase", "note_html", "numbers",
           "size_text", "statement", "statement_html", "tex_html"]
