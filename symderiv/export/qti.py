"""QTI 1.2, the version Canvas (and Blackboard) import: a zip of ``imsmanifest.xml`` and one
assessment whose sections are the variants, each asked value a ``numerical_question`` item.

An item's answer is accepted when it is the value or lies within its tolerance
(``<varequal>``, or ``<vargte>`` and ``<varlte>`` around it: how Canvas itself exports a
numerical answer with a margin). The first item of a variant states the problem, and its
general feedback (``<itemfeedback ident="general_fb">``) is the variant's worked solution. Maths
is TeX in ``\\( … \\)``, which Canvas typesets.
"""

from __future__ import annotations

import hashlib
import html
import io
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Sequence

from ..exercise import Asked, Exercise, Plan
from .common import Statement, asked_phrase, statement_html, tex_html

#: The namespace of a QTI 1.2 assessment (questestinterop) and of the IMS content package.
QTI_NS = "http://www.imsglobal.org/xsd/ims_qtiasiv1p2"
MANIFEST_NS = "http://www.imsglobal.org/xsd/imscp_v1p1"


def _ident(*parts: object) -> str:
    return "g" + hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:24]


def _mattext(parent: ET.Element, text: str) -> None:
    material = ET.SubElement(parent, "material")
    ET.SubElement(material, "mattext", {"texttype": "text/html"}).text = text


def _number(x: float) -> str:
    text = repr(float(x))
    return f"{x:.17f}".rstrip("0").rstrip(".") if "e" in text else text


def _item(ex: Exercise, a: Asked, text: str, feedback: str | None) -> ET.Element:
    item = ET.Element("item", {"ident": _ident(ex.model, ex.index, a.key), "title": f"Variant {ex.index + 1}: {a.name}"})
    fields = ET.SubElement(ET.SubElement(item, "itemmetadata"), "qtimetadata")
    for label, entry in (("question_type", "numerical_question"), ("points_possible", "1")):
        field = ET.SubElement(fields, "qtimetadatafield")
        ET.SubElement(field, "fieldlabel").text = label
        ET.SubElement(field, "fieldentry").text = entry
    presentation = ET.SubElement(item, "presentation")
    _mattext(presentation, text)
    response = ET.SubElement(presentation, "response_str", {"ident": "response1", "rcardinality": "Single"})
    ET.SubElement(ET.SubElement(response, "render_fib", {"fibtype": "Decimal"}), "response_label", {"ident": "answer1"})
    processing = ET.SubElement(item, "resprocessing")
    ET.SubElement(ET.SubElement(processing, "outcomes"), "decvar",
                  {"maxvalue": "100", "minvalue": "0", "varname": "SCORE", "vartype": "Decimal"})
    if feedback is not None:
        general = ET.SubElement(processing, "respcondition", {"continue": "Yes"})
        ET.SubElement(ET.SubElement(general, "conditionvar"), "other")
        ET.SubElement(general, "displayfeedback", {"feedbacktype": "Response", "linkrefid": "general_fb"})
    right = ET.SubElement(processing, "respcondition", {"continue": "No"})
    either = ET.SubElement(ET.SubElement(right, "conditionvar"), "or")
    value = a.shown if a.tolerance == 0 else _number(a.value)
    ET.SubElement(either, "varequal", {"respident": "response1"}).text = value
    if a.tolerance:
        within = ET.SubElement(either, "and")
        ET.SubElement(within, "vargte", {"respident": "response1"}).text = _number(a.value - a.tolerance)
        ET.SubElement(within, "varlte", {"respident": "response1"}).text = _number(a.value + a.tolerance)
    ET.SubElement(right, "setvar", {"action": "Set", "varname": "SCORE"}).text = "100"
    if feedback is not None:
        _mattext(ET.SubElement(ET.SubElement(item, "itemfeedback", {"ident": "general_fb"}), "flow_mat"), feedback)
    return item


def variant_item(ex: Exercise, st: Statement, digits: int) -> str:
    """The variant's section: an item per value asked, the first with the statement and, as its
    general feedback, the answers and the worked solution."""
    section = ET.Element("section", {"ident": _ident(ex.model, ex.index, "section"), "title": f"Variant {ex.index + 1}"})
    groups = {g[0]: g for g in st.asked}
    precision = f", to {digits} significant digits"
    answers = "".join(f"\\({html.escape(a.latex)} = {html.escape(a.shown)}\\)<br>\n" for a in ex.asked)
    for i, a in enumerate(ex.asked):
        _, tex, shape = groups[a.group]
        entry = f"the entry \\({html.escape(a.latex)}\\) of " if a.name != a.group else ""
        ask = f"<p>Find {entry}{asked_phrase(tex, shape)}{precision if a.tolerance else ' (a whole number)'}.</p>\n"
        if i == 0:
            text, feedback = statement_html(st, digits) + ask, f"<p>The answers:<br>\n{answers}</p>\n" + tex_html(
                ex.solution, digits)
        else:
            text, feedback = f"<p>Variant {ex.index + 1}, continued.</p>\n" + ask, None
        section.append(_item(ex, a, text, feedback))
    ET.indent(section, level=2)
    return ET.tostring(section, encoding="unicode")


def package(p: Plan, pieces: Sequence[str]) -> bytes:
    """The zip Canvas imports (Settings → Import course content → QTI .zip file)."""
    quiz = _ident(p.model, p.seed, p.digits, "assessment")
    head = (f'<?xml version="1.0" encoding="UTF-8"?>\n<questestinterop xmlns="{QTI_NS}">\n'
            f'  <assessment ident="{quiz}" title="{html.escape(f"symderiv exercise: {p.model} (seed {p.seed})")}">\n'
            '    <section ident="root_section">\n')
    body = "".join("      " + s + "\n" for s in pieces)
    assessment = head + body + "    </section>\n  </assessment>\n</questestinterop>\n"
    manifest = (f'<?xml version="1.0" encoding="UTF-8"?>\n<manifest identifier="{_ident(quiz, "manifest")}" '
                f'xmlns="{MANIFEST_NS}">\n  <metadata><schema>IMS Content</schema><schemaversion>1.1.3</schemaversion>'
                f'</metadata>\n  <organizations/>\n  <resources>\n'
                f'    <resource identifier="{quiz}" type="imsqti_xmlv1p2" href="{quiz}/{quiz}.xml">\n'
                f'      <file href="{quiz}/{quiz}.xml"/>\n    </resource>\n  </resources>\n</manifest>\n')
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in (("imsmanifest.xml", manifest), (f"{quiz}/{quiz}.xml", assessment)):
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))  # the same bytes for the same variants
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, text)
    return out.getvalue()
