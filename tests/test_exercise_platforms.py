"""Issue 26: exercises a teacher can ship. Every given value is stated in every format; the
PrairieLearn folder runs with nothing but the standard library (PrairieLearn's image has no
latex2mathml) and its elements are the ones PrairieLearn's own code reads; Moodle's cloze parts
are what its importer's regular expressions accept, and 50 variants stay under 5 MB; the QTI
package has the structure of the IMS QTI 1.2 schema; the formats come from one table."""

from __future__ import annotations

import contextlib
import html
import io
import json
import math
import re
import subprocess
import sys
import sysconfig
import uuid
import xml.etree.ElementTree as ET
import zipfile
from collections import Counter
from fractions import Fraction
from pathlib import Path

import pytest

import symderiv

from symderiv.cli import main
from symderiv.exercise import Record, build, draw, plan
from symderiv.export import EXPORTS, export
from symderiv.export.common import statement
from symderiv.models import MODELS

EXERCISE_MODELS = [m for m, model in MODELS.items() if model.exercise.ask]
MATHML = "{http://www.w3.org/1998/Math/MathML}"


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


# ----- reading the numbers a statement gives, format by format ---------------------------------
_TEX_NUMBER = re.compile(r"(-\s*)?(?:\\frac\{(\d+)\}\{(\d+)\}|(\d+(?:\.\d+)?))")


def _tex_numbers(tex: str) -> list[Fraction]:
    """The numbers of a TeX right-hand side, in order (signs, decimals, \\frac{a}{b})."""
    out = []
    for sign, num, den, plain in _TEX_NUMBER.findall(tex):
        value = Fraction(int(num), int(den)) if num else Fraction(plain)
        out.append(-value if sign else value)
    return out


def _given_tex(text: str, opening: str, closing: str) -> list[Fraction]:
    """The numbers on the right of ``=`` in every maths chunk of a statement's Given part, and in
    its plain sentences (the row of a table, a size said in words)."""
    numbers: list[Fraction] = []
    pattern = re.escape(opening) + r"(.*?)" + re.escape(closing)
    for chunk in re.findall(pattern, text, flags=re.S):
        if "=" in chunk:
            numbers += _tex_numbers(chunk.split("=", 1)[1])
    numbers += _tex_numbers(re.sub(pattern, " ", text, flags=re.S))
    return numbers


def _html_part(statement_html: str) -> str:
    """From a statement in HTML with TeX maths: from 'Given' to the forward pass or what to find."""
    text = html.unescape(statement_html)
    start = text.index("Given")
    ends = [i for i in (text.find("The forward pass", start), text.find("Find", start)) if i > 0]
    return text[start:min(ends, default=len(text))]


def _mathml_numbers(element: ET.Element) -> list[Fraction]:
    out: list[Fraction] = []
    sign = 1
    for child in element:
        tag = child.tag.removeprefix(MATHML)
        if tag == "mo" and (child.text or "").strip() in ("−", "-"):
            sign = -1
        elif tag == "mn":
            out.append(sign * Fraction(child.text))
            sign = 1
        elif tag == "mfrac":
            num, den = (Fraction("".join(part.itertext())) for part in child)
            out.append(sign * num / den)
            sign = 1
        else:
            out += _mathml_numbers(child)
    return out


def _given_mathml(page: str) -> list[Fraction]:
    """The numbers right of ``=`` in each <math> of the first variant's Given paragraph and in
    its sentences."""
    section = page[page.index('<section class="exercise" id="variant-1">'):]
    part = section[section.index("<p>Given"):]
    part = part[:min((i for i in (part.find("<p>The forward pass"), part.find("<p>Find")) if i > 0), default=len(part))]
    numbers: list[Fraction] = []
    for maths in re.findall(r"<math.*?</math>", part, flags=re.S):
        row = ET.fromstring(maths)[0]
        children = list(row)
        equals = next(i for i, c in enumerate(children) if c.tag == MATHML + "mo" and c.text == "=")
        holder = ET.Element("r")
        holder.extend(children[equals + 1:])
        numbers += _mathml_numbers(holder)
    numbers += _tex_numbers(html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<math.*?</math>", " ", part, flags=re.S))))
    return numbers


def _statements(model: str, tmp_path: Path) -> dict[str, list[Fraction]]:
    """Each format's first variant: the numbers its statement gives."""
    p = plan(model, seed=1)
    ex, _ = draw(p, 0)
    st = statement(ex)
    record = Record(ex.model, ex.index, ex.parameters, ex.asked)

    def made(fmt: str, **options):
        row = EXPORTS[fmt]
        return row.join(p, [record], [row.piece(ex, st, p.digits)], key=options.get("key", False),
                        output=options.get("output"))

    out = {}
    for fmt, key in (("latex", False), ("key", True)):
        tex = made("latex", key=key)
        part = tex[tex.index("\\question"):tex.index("Find (to")]
        out[fmt] = _given_tex(part[part.index("Given"):], "$", "$")
    quiz = ET.fromstring(made("moodle").encode())
    out["moodle"] = _given_tex(_html_part(quiz.find("question[@type='cloze']").findtext("questiontext/text")),
                               "\\(", "\\)")
    files = made("prairielearn", output=str(tmp_path / model))
    variant = json.loads(files["variants.json"])[0]
    out["prairielearn"] = _given_tex(_html_part(variant["params"]["symderiv"]["statement"]), "\\(", "\\)")
    with zipfile.ZipFile(io.BytesIO(made("qti"))) as z:
        assessment = next(n for n in z.namelist() if n != "imsmanifest.xml")
        first = ET.fromstring(z.read(assessment)).find(".//{*}item//{*}mattext").text
    out["qti"] = _given_tex(_html_part(first), "\\(", "\\)")
    out["html"] = _given_mathml(made("html"))
    data = json.loads(made("json"))["variants"][0]["statement"]
    out["json"] = [n for g in data["given"] for n in _tex_numbers(g.split("=", 1)[1])] + \
        [n for r in data["remarks"] for n in _tex_numbers(r)]
    return out


def _parameter_numbers(model: str) -> Counter:
    """Every number of the first variant's JSON ``parameters`` (exact), as a multiset."""
    data = json.loads(export(plan(model, seed=1), 1, "json"))["variants"][0]

    def flat(v):
        return [x for item in v for x in flat(item)] if isinstance(v, list) else [v]

    numbers = Counter()
    for name, value in data["parameters_exact"].items():
        for x in flat(value):
            if x not in ("None",) and re.fullmatch(r"-?\d+(/\d+)?(\.\d+)?", x):
                numbers[Fraction(x)] += 1
    return numbers


@pytest.mark.parametrize("model", EXERCISE_MODELS)
def test_every_given_value_is_stated_in_every_format(model, tmp_path):
    wanted = _parameter_numbers(model)
    assert wanted, model
    for fmt, numbers in _statements(model, tmp_path).items():
        missing = wanted - Counter(numbers)
        assert not missing, f"{model} {fmt}: not stated: {dict(missing)}"


def test_the_statement_says_what_a_value_does_not():
    for model, words in (("self-attention", ("d_{k} = 4", "softmax is taken along each row")),
                         ("xor-mlp", ("row ", "truth table")), ("conv2d", ("s = 1", "p = 0"))):
        st = statement(draw(plan(model, seed=1), 0)[0])
        text = " ".join(st.given + st.remarks)
        assert all(w in text for w in words), (model, text)


# ----- PrairieLearn ----------------------------------------------------------------------------
def _pl_folder(model: str, tmp_path: Path, n: int = 6) -> Path:
    folder = tmp_path / "questions" / model
    code, out, err = run_cli(["exercise", model, "--variants", str(n), "--seed", "2", "--format", "prairielearn",
                              "-o", str(folder)])
    assert (code, out, err) == (0, "", "")
    return folder


GENERATE = """
import json, sys, time
sys.path[:] = json.loads(sys.argv[1])
import server
seen = []
for seed in range(12):
    data = {"params": {}, "correct_answers": {}, "variant_seed": seed}
    start = time.perf_counter()
    server.generate(data)
    seen.append(data)
print(json.dumps({"modules": sorted(m for m in sys.modules if m.split(".")[0] in ("symderiv", "sympy", "latex2mathml",
                                                                             "numpy", "mpmath")),
                  "variants": seen}))
"""


@pytest.mark.parametrize("model", ["sigmoid-neuron", "rnn", "conv2d", "self-attention"])
def test_prairielearn_server_runs_with_the_standard_library_and_the_folder_alone(model, tmp_path):
    folder = _pl_folder(model, tmp_path)
    stdlib = [sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"],
              str(Path(sysconfig.get_paths()["stdlib"]) / "lib-dynload")]
    # -S: no site-packages (no sympy, no latex2mathml); -I: no PYTHONPATH, no user site
    run = subprocess.run([sys.executable, "-S", "-I", "-c", GENERATE, json.dumps([str(folder), *stdlib])],
                         capture_output=True, text=True, cwd=folder, timeout=120)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["modules"] == []
    stored = json.loads((folder / "variants.json").read_text(encoding="utf-8"))
    page = (folder / "question.html").read_text(encoding="utf-8")
    names = re.findall(r'answers-name="([^"]+)"', page)
    for seed, data in enumerate(result["variants"]):
        assert data["correct_answers"] == stored[seed % len(stored)]["correct_answers"]
        assert sorted(data["correct_answers"]) == sorted(names)
        assert "Given" in data["params"]["symderiv"]["statement"]
        assert "<h4>" in data["params"]["symderiv"]["solution"]
    assert len({json.dumps(d["correct_answers"], sort_keys=True) for d in result["variants"][:6]}) == 6


def test_prairielearn_elements_are_the_ones_its_code_reads(tmp_path):
    """Attributes from PrairieLearn's pl-number-input (schemas/pl-number-input.json: comparison
    sigfig|decdig|relabs, digits) and pl-matrix-component-input (its prepare()'s allowed
    attributes; a correct answer a 2-D list); the info.json fields its infoQuestion schema
    requires (uuid, type, title, topic)."""
    folder = _pl_folder("rnn", tmp_path)
    page = (folder / "question.html").read_text(encoding="utf-8")
    matrix_attributes = {"answers-name", "weight", "label", "aria-label", "suffix", "comparison", "rtol", "atol",
                         "digits", "allow-partial-credit", "allow-feedback", "allow-fractions", "rows", "columns",
                         "allow-blank", "blank-value"}
    elements = re.findall(r"<(pl-[a-z-]+)((?:\s+[a-z-]+=\"[^\"]*\")*)>", page)
    matrices = [attrs for tag, attrs in elements if tag == "pl-matrix-component-input"]
    assert len(matrices) == 4  # y1, y2, ∂L/∂W_hh, ∂L/∂W_hy
    for attrs in matrices:
        assert set(re.findall(r'([a-z-]+)="', attrs)) <= matrix_attributes
    variant = json.loads((folder / "variants.json").read_text(encoding="utf-8"))[0]
    w_hh = variant["correct_answers"]["dL_dW_hh"]
    assert len(w_hh) == 3 and all(len(row) == 3 and all(isinstance(v, float) for v in row) for row in w_hh)
    scalars = _pl_folder("sigmoid-neuron", tmp_path)
    page = (scalars / "question.html").read_text(encoding="utf-8")
    assert page.count('comparison="sigfig" digits="2"') == 6 and "rtol" not in page
    ints = _pl_folder("graph-add-mul", tmp_path)
    assert (ints / "question.html").read_text(encoding="utf-8").count('comparison="decdig" digits="0"') == 4
    info = json.loads((folder / "info.json").read_text(encoding="utf-8"))
    assert {"uuid", "type", "title", "topic"} <= set(info) and info["type"] == "v3"


def test_prairielearn_uuids_differ_by_path_and_settings_and_stay_for_the_same_question(tmp_path):
    def uuid_of(folder: Path, *extra: str) -> str:
        assert run_cli(["exercise", "graph-add-mul", "--variants", "3", "--format", "prairielearn",
                        "-o", str(folder), *extra])[0] == 0
        return json.loads((folder / "info.json").read_text(encoding="utf-8"))["uuid"]

    a = uuid_of(tmp_path / "course1" / "questions" / "q")
    b = uuid_of(tmp_path / "course2" / "questions" / "q")  # the same basename, another question
    c = uuid_of(tmp_path / "course1" / "questions" / "r", "--seed", "5")
    assert len({a, b, c}) == 3 and all(uuid.UUID(u).version == 4 for u in (a, b, c))
    assert uuid_of(tmp_path / "course1" / "questions" / "q") == a


def _pl_sigfig(submitted: float, true: float, digits: int) -> bool:
    """PrairieLearn's grading_utils.is_correct_scalar_sf, as read in its source."""
    n = digits - 1 if true == 0 else -int(math.floor(math.log10(abs(true)))) + (digits - 1)
    eps = 0.51 * 10 ** -n
    return true - eps < submitted < true + eps


def _pl_precision_warning(raw: str, digits: int) -> bool:
    """pl-number-input's grade(): a wrong sigfig answer is told of its precision only when it has
    fewer significant digits than ``digits`` (get_string_significant_digits)."""
    s = raw.strip().lstrip("+-")
    whole, _, frac = s.partition(".")
    stripped = (whole + frac).lstrip("0")
    return len(stripped) < digits


def test_prairielearn_marks_a_wrong_sign_wrong_without_a_precision_message(tmp_path):
    folder = _pl_folder("sigmoid-neuron", tmp_path)
    page = (folder / "question.html").read_text(encoding="utf-8")
    digits = int(re.search(r'comparison="sigfig" digits="(\d+)"', page).group(1))
    for variant in json.loads((folder / "variants.json").read_text(encoding="utf-8")):
        for true in variant["correct_answers"].values():
            shown = f"{true:.3e}"  # the value to 4 significant digits, as the sheet asks
            assert _pl_sigfig(float(shown), true, digits)
            wrong = f"{-true:.3e}"
            assert not _pl_sigfig(float(wrong), true, digits)
            assert not _pl_precision_warning(f"{-true:.4g}", digits)


# ----- Moodle ------------------------------------------------------------------------------------
# qtype_multianswer's regular expressions (question/type/multianswer/questiontype.php), in Python
NUMBER_REGEX = r"-?(([0-9]+[.,]?[0-9]*|[.,][0-9]+)([eE][-+]?[0-9]+)?)"
NUMERICAL_ALTERNATIVE_REGEX = re.compile("^(" + NUMBER_REGEX + ")(:" + NUMBER_REGEX + ")?$")
ANSWER_START_REGEX = re.compile(r"\{([0-9]*):(NUMERICAL|NM|MULTICHOICE|MC|SHORTANSWER|SA|MW):")
ANSWER_ALTERNATIVE = r"(=|%(-?[0-9]+)%)?(.+?(?<!\\|&)(?=[~#}]|$))(#(.*?(?<!\\)(?=[~}]|$)))?"
ANSWER_REGEX = re.compile(ANSWER_START_REGEX.pattern + "(" + ANSWER_ALTERNATIVE + "(~" + ANSWER_ALTERNATIVE + r")*)\}")


def test_moodle_cloze_parts_read_as_moodles_importer_reads_them():
    """A mirror of the importer's required structure (php is not installed by .ci/run): the
    <quiz> of questions with a type, a cloze question's name, questiontext in html, and parts that
    qtype_multianswer's ANSWER_REGEX finds, each a NUMERICAL alternative whose answer and
    tolerance match NUMERICAL_ALTERNATIVE_REGEX, as many parts as values asked."""
    p = plan("rnn", seed=4)
    quiz = ET.fromstring(export(p, 2, "moodle").encode())
    assert quiz.tag == "quiz" and all(q.get("type") in ("category", "cloze") for q in quiz)
    questions = quiz.findall("question[@type='cloze']")
    exercises = [e for e, _ in build(p, 2)]
    for q, e in zip(questions, exercises, strict=True):
        assert q.findtext("name/text") and q.find("questiontext").get("format") == "html"
        text = q.findtext("questiontext/text")
        parts = [m for m in ANSWER_REGEX.finditer(text)]
        assert len(parts) == len(e.asked) == len(ANSWER_START_REGEX.findall(text))
        for m, a in zip(parts, e.asked, strict=True):
            assert m.group(2) == "NUMERICAL" and m.group(4) == "="
            alternative = NUMERICAL_ALTERNATIVE_REGEX.match(m.group(6))
            assert alternative, m.group(0)
            assert float(alternative.group(1)) == pytest.approx(a.value, rel=1e-12)
            answer, tolerance = m.group(6).split(":")
            assert float(tolerance) == pytest.approx(a.tolerance, rel=1e-12)
        assert "<table" in text  # the matrices as grids
        assert q.findtext("generalfeedback/text").count("<h4>") >= 3


@pytest.mark.parametrize("model", ["rnn", "conv2d"])
def test_fifty_moodle_variants_stay_under_five_megabytes(model):
    out = export(plan(model, seed=1), 50, "moodle", jobs=2)
    size = len(out.encode())
    assert size < 5_000_000, size
    assert ET.fromstring(out.encode()).findall("question[@type='cloze']").__len__() == 50


# ----- QTI 1.2 -------------------------------------------------------------------------------------
# The content model of the elements used, from the IMS QTI 1.2.1 ASI schema (ims_qtiasiv1p2p1.xsd):
# children allowed, in order, and the attributes required. No Python package ships the XSD, so
# the structure is checked against this transcription.
QTI = {
    "questestinterop": (["assessment"], []),
    "assessment": (["section"], ["ident", "title"]),
    "section": (["section", "item"], ["ident"]),
    "item": (["itemmetadata", "presentation", "resprocessing", "itemfeedback"], ["ident"]),
    "itemmetadata": (["qtimetadata"], []),
    "qtimetadata": (["qtimetadatafield"], []),
    "qtimetadatafield": (["fieldlabel", "fieldentry"], []),
    "presentation": (["material", "response_str"], []),
    "material": (["mattext"], []),
    "response_str": (["render_fib"], ["ident"]),
    "render_fib": (["response_label"], []),
    "resprocessing": (["outcomes", "respcondition"], []),
    "outcomes": (["decvar"], []),
    "respcondition": (["conditionvar", "setvar", "displayfeedback"], []),
    "conditionvar": (["or", "and", "other", "varequal", "vargte", "varlte"], []),
    "or": (["varequal", "and"], []),
    "and": (["vargte", "varlte"], []),
    "itemfeedback": (["flow_mat"], ["ident"]),
    "flow_mat": (["material"], []),
}
LEAVES = {"fieldlabel", "fieldentry", "mattext", "response_label", "decvar", "setvar", "displayfeedback", "other",
          "varequal", "vargte", "varlte"}


def _check_qti(element: ET.Element) -> None:
    tag = element.tag.split("}")[-1]
    if tag in LEAVES:
        return
    allowed, required = QTI[tag]
    children = [c.tag.split("}")[-1] for c in element]
    assert all(c in allowed for c in children), (tag, children)
    assert [allowed.index(c) for c in children] == sorted(allowed.index(c) for c in children) or tag in ("or",), \
        (tag, children)
    assert all(element.get(a) for a in required), (tag, required)
    for c in element:
        _check_qti(c)


def test_the_qti_package_is_a_canvas_zip_with_numeric_answers_and_tolerances():
    p = plan("sigmoid-neuron", seed=3)
    data = export(p, 3, "qti")
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        manifest = ET.fromstring(z.read("imsmanifest.xml"))
        resource = manifest.find(".//{*}resource")
        assert resource.get("type") == "imsqti_xmlv1p2"
        root = ET.fromstring(z.read(resource.get("href")))
    assert root.tag == "{http://www.imsglobal.org/xsd/ims_qtiasiv1p2}questestinterop"
    _check_qti(root)
    exercises = [e for e, _ in build(p, 3)]
    items = root.findall(".//{*}item")
    assert len(items) == sum(len(e.asked) for e in exercises)
    asked = [a for e in exercises for a in e.asked]
    for item, a in zip(items, asked, strict=True):
        fields = {f.findtext("{*}fieldlabel"): f.findtext("{*}fieldentry") for f in item.findall(".//{*}qtimetadatafield")}
        assert fields["question_type"] == "numerical_question"
        low = float(item.find(".//{*}vargte").text)
        high = float(item.find(".//{*}varlte").text)
        assert low < a.value < high and (high - low) / 2 == pytest.approx(a.tolerance, rel=1e-9)
    firsts = [i for i in items if i.find("{*}itemfeedback") is not None]
    assert len(firsts) == 3 and all("Backward pass" in "".join(f.find("{*}itemfeedback").itertext()) for f in firsts)
    assert export(p, 3, "qti") == data  # the same variants, the same bytes


# ----- the table of formats ---------------------------------------------------------------------
def test_the_cli_formats_and_folder_case_come_from_the_table(tmp_path):
    code, out, err = run_cli(["exercise", "graph-add-mul", "--format", "nope"])
    assert code == 2 and all(name in err for name in EXPORTS)
    help_text = io.StringIO()
    with contextlib.redirect_stdout(help_text), pytest.raises(SystemExit):
        main(["exercise", "--help"])
    flat = " ".join(help_text.getvalue().split())
    assert all(" ".join(row.help.split()) in flat for row in EXPORTS.values())
    for name, row in EXPORTS.items():
        if row.folder:
            code, out, err = run_cli(["exercise", "graph-add-mul", "--format", name])
            assert code == 2 and "-o FOLDER" in err
    target = tmp_path / "quiz.zip"
    assert run_cli(["exercise", "graph-add-mul", "--variants", "2", "--format", "qti", "-o", str(target)])[0] == 0
    assert zipfile.is_zipfile(target)


# ----- variants worth giving --------------------------------------------------------------------
@pytest.mark.parametrize("model", [pytest.param(m, marks=pytest.mark.xfail(
    strict=True, reason="mle's sample has a fixed length: its answers depend only on the count of ones "
                        "(at most 9 answer sets for 8 draws)")) if m == "mle" else m for m in EXERCISE_MODELS])
def test_fifty_variants_give_at_least_45_different_answer_sets(model):
    # rnn's 50 variants weigh 219,600 by issue 29's draw weights, over the default limit (open: the
    # weights were calibrated before closed forms were left out of non-JSON exports)
    with symderiv.size_limit(400_000):
        answers = {tuple(a.shown for a in ex.asked) for ex, _ in build(plan(model, seed=0), 50)}
    assert len(answers) >= 45, len(answers)


def test_no_dead_hidden_layer_and_rows_that_differ():
    for ex, _ in build(plan("xor-mlp", seed=0), 30):
        gradients = [a.value for a in ex.asked if a.name in ("∂L/∂w2_1", "∂L/∂w2_2", "∂L/∂b1_1", "∂L/∂b1_2")]
        assert any(gradients), ex.parameters
    # the rows of rnn's ∂L/∂W_hy are neither equal nor parallel; self-attention's ∂L/∂Q rows differ
    # (with two tokens they are parallel whatever the upstream: row t is ∂L/∂A_t1·(K_1 − K_2)/√d_k,
    # the softmax's Jacobian summing to zero along a row)
    for model, group, width, parallel in (("rnn", "∂L/∂W_hy", 3, False), ("self-attention", "∂L/∂Q", 4, True)):
        for ex, _ in build(plan(model, seed=0), 10):
            rows = [a.value for a in ex.asked if a.group == group]
            first, second = rows[:width], rows[width:2 * width]
            ratios = {round(s / f, 9) for f, s in zip(first, second, strict=True) if f}
            assert first != second and (parallel or len(ratios) > 1), (model, ex.parameters)


def test_conv2d_kernels_have_few_zeros():
    zeros = [sum(v == 0 for row in ex.parameters["kernel"] for v in row) for ex, _ in build(plan("conv2d", seed=0), 50)]
    assert sum(z >= 5 for z in zeros) <= 1 and max(zeros) < 9


def test_the_html_sheet_says_the_size_of_each_matrix_asked():
    page = export(plan("rnn", seed=1), 1, "html")
    finds = page[page.index("<p>Find"):page.index("</ol>")]
    assert finds.count("(a vector of 2 entries)") == 2 and "(a 3×3 matrix)" in finds and "(a 2×3 matrix)" in finds
