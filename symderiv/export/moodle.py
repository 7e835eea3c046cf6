"""Moodle XML: one ``numerical`` question per variant per value asked.

The format is Moodle's documented question XML (``<quiz>``, ``<question type="numerical">``,
``<answer fraction="100">`` with its ``<tolerance>``, ``<questiontext format="html">``,
``<generalfeedback>``). Maths is TeX in ``\\( … \\)`` and ``\\[ … \\]``, which Moodle's MathJax
filter typesets. The questions of each value asked share a category
(``$course$/top/symderiv/MODEL/KEY``), so a quiz slot can draw a random variant from it.
"""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from ..exercise import Asked, Exercise, Plan, Record
from .common import Statement, asked_phrase, statement_html, tex_html


def _text(parent: ET.Element, tag: str, value: str, fmt: str | None = None) -> ET.Element:
    e = ET.SubElement(parent, tag, {"format": fmt} if fmt else {})
    ET.SubElement(e, "text").text = value
    return e


def _answer_number(a: Asked) -> str:
    """The answer as Moodle reads it: the exact integer, or the float to 17 significant digits."""
    return a.shown if a.tolerance == 0 else repr(a.value)


def _tolerance(a: Asked) -> str:
    return "0" if a.tolerance == 0 else repr(a.tolerance)


def question(ex: Exercise, st: Statement, a: Asked, feedback: str, digits: int) -> ET.Element:
    """One numerical question: the statement, the value asked, its answer and tolerance."""
    q = ET.Element("question", {"type": "numerical"})
    _text(q, "name", f"{ex.model} variant {ex.index + 1}: {a.name}")
    group = next(g for g in st.asked if g[0] == a.group)
    entry = ""
    if a.name != a.group:
        entry = f"the entry \\({html.escape(a.latex)}\\) of "
    ask = (f"<p>Find {entry}{asked_phrase(group[1], group[2])}"
           f"{', to ' + str(digits) + ' significant digits' if a.tolerance else ' (a whole number)'}.</p>\n")
    _text(q, "questiontext", statement_html(st, digits) + ask, "html")
    _text(q, "generalfeedback", f"<p>The answer: \\({html.escape(a.latex)} = {html.escape(a.shown)}\\).</p>\n"
          + feedback, "html")
    ET.SubElement(q, "defaultgrade").text = "1.0000000"
    ET.SubElement(q, "penalty").text = "0.3333333"
    ET.SubElement(q, "hidden").text = "0"
    ET.SubElement(q, "idnumber").text = f"symderiv-{ex.model}-{ex.index + 1}-{a.key}"
    answer = ET.SubElement(q, "answer", {"fraction": "100", "format": "moodle_auto_format"})
    ET.SubElement(answer, "text").text = _answer_number(a)
    ET.SubElement(answer, "tolerance").text = _tolerance(a)
    _text(answer, "feedback", "", "html")
    ET.SubElement(q, "unitgradingtype").text = "0"
    ET.SubElement(q, "unitpenalty").text = "0.1000000"
    ET.SubElement(q, "showunits").text = "3"
    ET.SubElement(q, "unitsleft").text = "0"
    return q


def variant_questions(ex: Exercise, st: Statement, digits: int) -> list[str]:
    """The questions of one variant, one per value asked, as XML text (keyed by the value)."""
    feedback = tex_html(ex.solution, digits)
    out = []
    for a in ex.asked:
        q = question(ex, st, a, feedback, digits)
        ET.indent(q, level=1)
        out.append(ET.tostring(q, encoding="unicode"))
    return out


def quiz(p: Plan, records: Sequence[Record], pieces: Sequence[list[str]]) -> str:
    """The quiz file: a category per value asked, then that value's question of every variant."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n<quiz>\n']
    keys = [a.key for a in records[0].asked]
    for i, key in enumerate(keys):
        category = ET.Element("question", {"type": "category"})
        _text(category, "category", f"$course$/top/symderiv/{p.model}/{key}")
        ET.indent(category, level=1)
        out.append("  " + ET.tostring(category, encoding="unicode") + "\n")
        for questions in pieces:
            out.append("  " + questions[i] + "\n")
    out.append("</quiz>\n")
    return "".join(out)
