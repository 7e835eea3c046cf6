"""Moodle XML: one cloze (``multianswer``) question per variant, every asked value a numerical
part with its tolerance, a matrix's parts set as a grid, the worked solution once as the
question's general feedback.

The format is Moodle's documented question XML (``<quiz>``, ``<question type="cloze">`` whose
``<questiontext format="html">`` holds the parts as ``{1:NUMERICAL:=VALUE:TOLERANCE}``, read by
``qtype_multianswer``'s ``ANSWER_REGEX``). Maths is TeX in ``\\( … \\)`` and ``\\[ … \\]``, which
Moodle's MathJax filter typesets. Every variant is in one category
(``$course$/top/symderiv/MODEL-seed-SEED``), so a quiz slot of a random question from it gives
each student a whole variant.
"""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from ..exercise import Asked, Exercise, Plan
from .common import Statement, answers_by_group, asked_phrase, statement_html, tex_html


def _text(parent: ET.Element, tag: str, value: str, fmt: str | None = None) -> ET.Element:
    e = ET.SubElement(parent, tag, {"format": fmt} if fmt else {})
    ET.SubElement(e, "text").text = value
    return e


def _number(x: float) -> str:
    """A number as Moodle's cloze NUMBER_REGEX reads it (no exponent, no '+')."""
    text = repr(float(x))
    if "e" in text or "E" in text:
        text = f"{x:.17f}".rstrip("0").rstrip(".")
    return text


def cloze_part(a: Asked) -> str:
    """One numerical part: the value (the exact integer, or the float) and its tolerance."""
    value = a.shown if a.tolerance == 0 else _number(a.value)
    return f"{{1:NUMERICAL:={value}:{_number(a.tolerance)}}}"


def _grid(values: list[Asked], shape: tuple[int, ...]) -> str:
    rows, cols = (shape[0], shape[1]) if len(shape) == 2 else (shape[0], 1)
    cells = "".join("<tr>" + "".join(f"<td>{cloze_part(values[r * cols + c])}</td>" for c in range(cols)) + "</tr>"
                    for r in range(rows))
    return f'<table class="symderiv-grid" style="border-collapse: collapse">{cells}</table>'


def asked_html(ex: Exercise, st: Statement, digits: int) -> str:
    """What to find, each asked value an answer box (a matrix as a grid of boxes)."""
    groups = answers_by_group(ex.asked)
    out = [f"<p>Find (to {digits} significant digits where not a whole number):</p>"]
    for name, tex, shape in st.asked:
        values = groups[name]
        if shape and len(values) > 1:
            out.append(f"<p>{asked_phrase(tex, shape)} =</p>\n{_grid(values, shape)}")
        else:
            out.append(f"<p>\\({html.escape(tex)}\\) = {cloze_part(values[0])}</p>")
    return "\n".join(out) + "\n"


def variant_question(ex: Exercise, st: Statement, digits: int) -> str:
    """The variant's cloze question, as XML text."""
    q = ET.Element("question", {"type": "cloze"})
    _text(q, "name", f"{ex.model} variant {ex.index + 1}")
    _text(q, "questiontext", statement_html(st, digits) + asked_html(ex, st, digits), "html")
    answers = "".join(f"\\({html.escape(a.latex)} = {html.escape(a.shown)}\\)<br>\n" for a in ex.asked)
    _text(q, "generalfeedback", f"<p>The answers:<br>\n{answers}</p>\n" + tex_html(ex.solution, digits), "html")
    ET.SubElement(q, "penalty").text = "0.3333333"
    ET.SubElement(q, "hidden").text = "0"
    ET.SubElement(q, "idnumber").text = f"symderiv-{ex.model}-{ex.index + 1}"
    ET.indent(q, level=1)
    return ET.tostring(q, encoding="unicode")


def quiz(p: Plan, pieces: Sequence[str]) -> str:
    """The quiz file: the exercise's category, then every variant's question."""
    category = ET.Element("question", {"type": "category"})
    _text(category, "category", f"$course$/top/symderiv/{p.model}-seed-{p.seed}")
    ET.indent(category, level=1)
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n<quiz>\n', "  " + ET.tostring(category, encoding="unicode") + "\n"]
    out += ["  " + q + "\n" for q in pieces]
    out.append("</quiz>\n")
    return "".join(out)
