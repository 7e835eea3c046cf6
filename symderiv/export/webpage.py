"""The sheet and key as one HTML page with native MathML: each variant's statement, then its
answers and worked solution folded in ``<details>``."""

from __future__ import annotations

import html
from collections.abc import Sequence

from ..exercise import Exercise, Plan
from ..render.latex import align
from ..render.mathml import heading_html, page, to_mathml
from .common import Statement, answers_by_group, size_text

_CSS = """<style>
section.exercise { border-top: 1px solid #bbb; padding-top: 0.5em; margin-top: 2em; }
section.exercise details { margin: 1em 0; }
section.exercise summary { cursor: pointer; font-weight: 600; }
table.answers td { padding: 0.2em 0.8em; }
</style>
"""


def _matrix(cells: list[str], shape: tuple[int, ...]) -> str:
    rows, cols = shape
    return r"\begin{bmatrix} " + r" \\ ".join(" & ".join(cells[r * cols:(r + 1) * cols]) for r in range(rows)) + \
        r" \end{bmatrix}"


def variant_html(ex: Exercise, st: Statement, digits: int) -> str:
    """One variant: statement, then the answers and worked solution in ``<details>``."""
    out = [f'<section class="exercise" id="variant-{ex.index + 1}">',
           f"<h2>Variant {ex.index + 1}: {heading_html(st.title)}</h2>"]
    if st.given:
        out.append("<p>Given " + ", ".join(to_mathml(g, "inline") for g in st.given) + ".</p>")
    out += [f"<p>{html.escape(r)}</p>" for r in st.remarks]
    if st.forward:
        out.append("<p>The forward pass:</p>")
        out.append(to_mathml(align(list(st.forward))))
    groups = answers_by_group(ex.asked)
    out.append(f"<p>Find (to {digits} significant digits where not a whole number):</p>\n<ol type=\"a\">")
    for _, tex, shape in st.asked:
        out.append(f"<li>{to_mathml(tex, 'inline')}{html.escape(size_text(shape))}</li>")
    out.append("</ol>")
    rows = []
    for name, tex, shape in st.asked:
        values = [a.shown for a in groups[name]]
        answer = _matrix(values, shape) if shape else values[0]
        rows.append(f"<tr><td>{to_mathml(tex + ' = ' + answer, 'inline')}</td></tr>")
    out.append("<details><summary>Answers and worked solution</summary>")
    out.append('<table class="answers">' + "".join(rows) + "</table>")
    out.append(ex.solution.render("mathml", digits=digits))
    out.append("</details>\n</section>")
    return "\n".join(out) + "\n"


def sheet(p: Plan, pieces: Sequence[str]) -> str:
    """The page of every variant."""
    return page(f"Exercises: {p.model}", _CSS + f"<h1>Exercises: {html.escape(p.model)}</h1>\n" + "".join(pieces))
