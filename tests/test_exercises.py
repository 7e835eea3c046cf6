"""Issue 17: exercise sheets. Variants are fixed by their seed, degenerate draws are rejected,
every asked value is the model's own (symderiv.solve) and PyTorch float64 autograd's, the
LaTeX compiles both ways, the Moodle XML and the PrairieLearn folder are what the platforms
read, and bad input is one line with status 2."""

from __future__ import annotations

import contextlib
import decimal
import importlib.util
import io
import json
import math
import re
import shutil
import subprocess
import uuid
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path

import pytest

import symderiv
from symderiv.cli import main
from symderiv.exercise import plan
from symderiv.quantities import SolutionIndex
from symderiv.export import export

torch = pytest.importorskip("torch")


@pytest.fixture(autouse=True)
def _float64():
    """The PyTorch references here are float64; the default is restored for the other modules."""
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(before)


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def _f(v) -> float:
    return float(Fraction(str(v)))


# ----- independent values: PyTorch float64 autograd, written here --------------------------
def torch_sigmoid_neuron(p: dict) -> dict[str, float]:
    t = {k: torch.tensor(_f(p[k]), requires_grad=True) for k in ("w0", "x0", "w1", "x1", "w2")}
    f = torch.sigmoid(t["w0"] * t["x0"] + t["w1"] * t["x1"] + t["w2"])
    f.backward()
    return {"f8": f.item(), **{f"∂f/∂{k}": v.grad.item() for k, v in t.items()}}


def torch_graph_add_mul(p: dict) -> dict[str, float]:
    t = {k: torch.tensor(_f(p[k]), requires_grad=True) for k in "xyz"}
    f = (t["x"] + t["y"]) * t["z"]
    f.backward()
    return {"f": f.item(), **{f"∂f/∂{k}": v.grad.item() for k, v in t.items()}}


def _tensor(rows) -> torch.Tensor:
    return torch.tensor([[_f(v) for v in r] for r in rows], requires_grad=True)


def torch_rnn(p: dict) -> dict[str, float]:
    W_xh, W_hh, W_hy = _tensor(p["W_xh"]), _tensor(p["W_hh"]), _tensor(p["W_hy"])
    h = torch.tensor([_f(v) for v in p["h0"]]) if p.get("h0") is not None else torch.zeros(W_hh.shape[0])
    ys = []
    for x in p["xs"]:
        h = torch.tanh(W_hh @ h + W_xh @ torch.tensor([_f(v) for v in x]))
        ys.append(W_hy @ h)
    given = json.loads(p["upstream"]) if isinstance(p.get("upstream"), str) else p.get("upstream")  # a fixed range
    upstream = torch.ones(len(ys), W_hy.shape[0]) if given is None else \
        torch.tensor([[_f(v) for v in row] for row in given])
    (torch.stack(ys) * upstream).sum().backward()
    out = {f"y{t + 1}[{i + 1}]": y[i].item() for t, y in enumerate(ys) for i in range(len(y))}
    for name, W in (("W_hh", W_hh), ("W_hy", W_hy)):
        out.update({f"∂L/∂{name}[{i + 1},{j + 1}]": W.grad[i, j].item()
                    for i in range(W.shape[0]) for j in range(W.shape[1])})
    return out


TORCH = {"sigmoid-neuron": torch_sigmoid_neuron, "graph-add-mul": torch_graph_add_mul, "rnn": torch_rnn}


def _sigfig_band(value: float, digits: int) -> float:
    """PrairieLearn's is_correct_scalar_sf: 0.51 units in the last of ``digits`` significant digits."""
    return 0.51 * 10.0 ** (math.floor(math.log10(abs(value))) - (digits - 1))


def _unit_of_last_digit(value: float, digits: int) -> float:
    """One unit in the last of ``digits`` significant digits of ``value`` rounded."""
    return 10.0 ** (decimal.Decimal(f"{value:.{digits - 1}e}").adjusted() - digits + 1)


# ----- determinism ------------------------------------------------------------------------
def test_the_same_seed_gives_byte_identical_output_for_any_number_of_jobs():
    p = plan("sigmoid-neuron", seed=7)
    one = export(p, 6, "moodle", jobs=1)
    assert export(plan("sigmoid-neuron", seed=7), 6, "moodle", jobs=1) == one
    assert export(p, 6, "moodle", jobs=2) == one
    assert export(plan("sigmoid-neuron", seed=8), 6, "moodle") != one
    code, out, err = run_cli(["exercise", "graph-add-mul", "--variants", "5", "--seed", "3", "--format", "latex",
                              "--jobs", "2"])
    assert (code, err) == (0, "")
    assert run_cli(["exercise", "graph-add-mul", "--variants", "5", "--seed", "3", "--format", "latex",
                    "--jobs", "1"])[1] == out


def test_variants_differ_and_a_prefix_of_a_longer_run_is_the_shorter_run():
    ten = symderiv.exercises("graph-add-mul", 10, seed=4)
    keys = [tuple(sorted((k, str(v)) for k, v in e.parameters.items())) for e in ten]
    assert len(set(keys)) == 10
    assert [e.parameters for e in symderiv.exercises("graph-add-mul", 4, seed=4)] == [e.parameters for e in ten[:4]]


# ----- nice numbers -----------------------------------------------------------------------
def test_degenerate_draws_are_rejected_where_most_draws_are_degenerate():
    # every input in {-1, 0, 1}: a zero in w0, x0, w1 or x1 zeroes an asked gradient
    # (∂f/∂w0 = x0·σ', ∂f/∂x0 = w0·σ', ...): (2/3)^4 ≈ 20% of draws survive
    vary = {k: "int(-1..1)" for k in ("w0", "x0", "w1", "x1")}
    for e in symderiv.exercises("sigmoid-neuron", 8, seed=2, vary=vary):
        assert all(e.parameters[k] != 0 for k in vary), e.parameters


def test_a_tie_in_max_is_rejected_unless_kinks_are_allowed():
    vary = {"z": "{1, 2}", "w": "{1, 2}"}
    nice = symderiv.exercises("max-gate", 12, seed=5, vary=vary)
    assert all(e.parameters["z"] != e.parameters["w"] for e in nice)
    kinks = symderiv.exercises("max-gate", 30, seed=5, vary=vary, allow_kinks=True)
    assert any(e.parameters["z"] == e.parameters["w"] for e in kinks)


def test_an_integer_model_keeps_its_intermediates_whole():
    # halves for x and y: q = x + y must come out whole in every variant kept
    for e in symderiv.exercises("graph-add-mul", 10, seed=1, vary={"x": "int(-6..6)/2", "y": "int(-6..6)/2"}):
        assert (Fraction(str(e.parameters["x"])) + Fraction(str(e.parameters["y"]))).denominator == 1


# ----- the asked values: symderiv.solve and PyTorch ---------------------------------------
@pytest.mark.parametrize("model, n, ask", [("sigmoid-neuron", 12, None), ("graph-add-mul", 12, None),
                                          ("rnn", 3, ["y1", "y2", "∂L/∂W_hh", "∂L/∂W_hy"])])
def test_every_asked_value_is_the_models_and_pytorchs(model, n, ask):
    for e in symderiv.exercises(model, n, seed=11, ask=ask):
        sol = symderiv.solve(model, **e.parameters)
        index = SolutionIndex(sol)
        expected = TORCH[model](e.parameters)
        assert {a.name for a in e.asked} == set(expected)
        for a in e.asked:
            found = index.find(a.group)
            step = found.steps[0] if hasattr(found, "entries") else found.step
            ours = step.approx if not a.name.endswith("]") else _entry(step.approx, a.name)
            assert a.value == pytest.approx(float(ours), rel=1e-15, abs=1e-300)
            assert a.value == pytest.approx(expected[a.name], rel=1e-9, abs=1e-12)
            # the tolerance: PrairieLearn's sigfig band at 2 digits (4 asked), never below a twentieth
            # of that band at the largest entry of the same matrix; the shown value has its 4 digits
            if a.tolerance:
                group = [v for k, v in expected.items() if k.split("[")[0] == a.group]
                band = max(_sigfig_band(expected[a.name], 2), _sigfig_band(max(group, key=abs), 2) / 20)
                assert a.tolerance == pytest.approx(band, rel=0.05)
                assert abs(float(a.shown) - expected[a.name]) <= _unit_of_last_digit(expected[a.name], 4) / 2 * (1 + 1e-9)
                assert len(a.shown.lstrip("-").replace(".", "").lstrip("0")) == 4, a.shown
            else:
                assert float(a.shown) == expected[a.name] == round(expected[a.name])


def _entry(approx, name: str):
    index = [int(i) - 1 for i in re.search(r"\[([\d,]+)\]$", name).group(1).split(",")]
    rows = approx
    if len(index) == 1:
        return rows[index[0]][0] if len(rows) > 1 else rows[0][index[0]]
    return rows[index[0]][index[1]]


@pytest.mark.parametrize("model", list(symderiv.models()))
def test_every_model_gives_two_nice_variants_that_solve_gives_again(model):
    assert symderiv.get_model(model).exercise.ask
    for e in symderiv.exercises(model, 2, seed=1):
        again = SolutionIndex(symderiv.solve(model, **e.parameters))
        for a in e.asked:
            assert again.find(a.group) is not None
        assert e.solution.title


# ----- LaTeX ------------------------------------------------------------------------------
def _pdflatex(tex: str, where: Path) -> str:
    (where / "sheet.tex").write_text(tex, encoding="utf-8")
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "sheet.tex"], cwd=where,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-3000:]
    assert (where / "sheet.pdf").stat().st_size > 1000
    if shutil.which("pdftotext") is None:
        return ""
    return subprocess.run(["pdftotext", "sheet.pdf", "-"], cwd=where, capture_output=True, text=True).stdout


@pytest.mark.parametrize("key", [False, True])
def test_the_latex_compiles_as_the_sheet_and_as_the_key(key, tmp_path):
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex is missing (Debian: texlive-latex-base)")
    if shutil.which("kpsewhich") and not subprocess.run(["kpsewhich", "exam.cls"], capture_output=True,
                                                        text=True).stdout.strip():
        pytest.skip("the exam class is missing (Debian: texlive-latex-extra)")
    tex = export(plan("sigmoid-neuron", seed=7), 2, "latex", key=key) + ""
    assert ("\n\\printanswers\n" in tex) == key
    pdf = _pdflatex(tex, tmp_path)
    if pdf:
        assert "Variant 2" in pdf
        assert ("Worked solution" in pdf) == key
        first = symderiv.exercises("sigmoid-neuron", 1, seed=7)[0]
        assert (first.asked[1].shown.replace("-", "−") in pdf.replace("-", "−")) == key


# ----- Moodle XML -------------------------------------------------------------------------
def test_the_moodle_xml_has_one_cloze_question_per_variant_with_every_answer_and_tolerance():
    code, out, err = run_cli(["exercise", "sigmoid-neuron", "--variants", "4", "--seed", "9", "--format", "moodle"])
    assert (code, err) == (0, "")
    quiz = ET.fromstring(out.encode())
    assert quiz.tag == "quiz"
    questions = quiz.findall("question[@type='cloze']")
    exercises = symderiv.exercises("sigmoid-neuron", 4, seed=9)
    assert len(questions) == 4
    assert [c.findtext("category/text") for c in quiz.findall("question[@type='category']")] == \
        ["$course$/top/symderiv/sigmoid-neuron-seed-9"]
    by_id = {q.findtext("idnumber"): q for q in questions}
    for e in exercises:
        expected = list(torch_sigmoid_neuron(e.parameters).values())
        q = by_id[f"symderiv-sigmoid-neuron-{e.index + 1}"]
        parts = re.findall(r"\{1:NUMERICAL:=([^:}]+):([^}]+)\}", q.findtext("questiontext/text"))
        assert len(parts) == len(expected) == 6
        for (value, tolerance), want in zip(parts, expected):
            assert float(value) == pytest.approx(want, rel=1e-12)
            assert float(tolerance) == pytest.approx(_sigfig_band(want, 2), rel=0.05)
        assert q.find("questiontext").get("format") == "html"
        assert "\\(" in q.findtext("questiontext/text")
        assert q.findtext("generalfeedback/text").count("Backward pass") == 1  # the worked solution, once


def test_moodle_answers_of_an_integer_model_are_exact():
    out = export(plan("graph-add-mul", seed=2), 3, "moodle")
    for q in ET.fromstring(out.encode()).findall("question[@type='cloze']"):
        parts = re.findall(r"\{1:NUMERICAL:=([^:}]+):([^}]+)\}", q.findtext("questiontext/text"))
        assert len(parts) == 4
        assert all(re.fullmatch(r"-?\d+", v) and t == "0.0" for v, t in parts)


# ----- PrairieLearn -----------------------------------------------------------------------
def _server(folder: Path):
    spec = importlib.util.spec_from_file_location(f"server_{uuid.uuid4().hex}", folder / "server.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_prairielearn_folder_is_a_valid_question_whose_server_draws_variants(tmp_path):
    folder = tmp_path / "questions" / "neuron"
    code, out, err = run_cli(["exercise", "sigmoid-neuron", "--seed", "3", "--variants", "5", "--format",
                              "prairielearn", "-o", str(folder)])
    assert (code, out, err) == (0, "", "")
    assert sorted(p.name for p in folder.iterdir()) == ["info.json", "question.html", "server.py", "variants.json"]
    info = json.loads((folder / "info.json").read_text(encoding="utf-8"))
    u = uuid.UUID(info["uuid"])
    assert str(u) == info["uuid"] and u.version == 4 and u.variant == uuid.RFC_4122
    assert info["type"] == "v3"
    assert isinstance(info["title"], str) and info["title"] and isinstance(info["topic"], str) and info["topic"]
    assert isinstance(info["tags"], list) and all(isinstance(t, str) for t in info["tags"])
    page = (folder / "question.html").read_text(encoding="utf-8")
    assert page.count("<pl-question-panel>") == 1 and page.count("<pl-answer-panel>") == 1
    inputs = re.findall(r'<pl-number-input answers-name="([^"]+)"[^>]*comparison="sigfig" digits="2"', page)
    assert len(inputs) == len(set(inputs)) == 6
    server = _server(folder)
    seen = set()
    for seed in (1, 2, 98765):
        data = {"params": {}, "correct_answers": {}, "submitted_answers": {}, "format_errors": {},
                "partial_scores": {}, "score": 0, "feedback": {}, "variant_seed": seed, "options": {}}
        server.generate(data)
        json.dumps(data)  # what PrairieLearn stores must be plain JSON
        params = data["params"]
        assert all(isinstance(params[k], int | float) for k in ("w0", "x0", "w1", "x1", "w2"))
        assert sorted(data["correct_answers"]) == sorted(inputs)
        expected = torch_sigmoid_neuron(params)
        by_key = dict(zip(["f8", "df_dw0", "df_dx0", "df_dw1", "df_dx1", "df_dw2"], expected.values()))
        for k, v in data["correct_answers"].items():
            assert isinstance(v, float) and v == pytest.approx(by_key[k], rel=1e-12)
        seen.add(tuple(params[k] for k in ("w0", "x0", "w1", "x1", "w2")))
        again = {"params": {}, "correct_answers": {}, "variant_seed": seed}
        server.generate(again)
        assert again["correct_answers"] == data["correct_answers"]
    assert len(seen) == 3
    # written again: the same files (the same uuid); a folder with other files is not replaced
    before = (folder / "info.json").read_text(encoding="utf-8")
    assert run_cli(["exercise", "sigmoid-neuron", "--seed", "3", "--variants", "5", "--format", "prairielearn",
                    "-o", str(folder)])[0] == 0
    assert (folder / "info.json").read_text(encoding="utf-8") == before
    (folder / "notes.txt").write_text("mine")
    code, out, err = run_cli(["exercise", "sigmoid-neuron", "--format", "prairielearn", "-o", str(folder)])
    assert code == 2 and err.count("\n") == 1 and "holds other files (notes.txt)" in err
    assert (folder / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in folder.parent.iterdir()) == ["neuron"]  # no temporary folder left


# ----- JSON and HTML ----------------------------------------------------------------------
def test_json_carries_parameters_and_asked_values_exact_and_float():
    data = json.loads(export(plan("graph-add-mul", seed=6), 3, "json"))
    assert [v["index"] for v in data["variants"]] == [1, 2, 3]
    for v in data["variants"]:
        p = v["parameters"]
        expected = torch_graph_add_mul(p)
        for a in v["asked"]:
            assert a["float"] == expected[a["name"]] and Fraction(a["exact"]) == Fraction(int(expected[a["name"]]))


def test_html_is_one_page_with_answers_folded_and_wellformed_mathml():
    page = export(plan("sigmoid-neuron", seed=1), 2, "html")
    assert page.startswith("<!DOCTYPE html>") and page.count("<details>") == 2
    blocks = re.findall(r"<math\b.*?</math>", page, re.S)
    assert len(blocks) > 10
    for block in blocks:
        ET.fromstring(block)


# ----- bad input ----------------------------------------------------------------------------
def test_bad_ranges_and_names_raise_a_typed_error_from_python():
    with pytest.raises(symderiv.UnknownModelError):
        symderiv.exercises("nosuch")
    with pytest.raises(symderiv.ParameterError, match="empty range: 3 is above 1"):
        symderiv.exercises("sigmoid-neuron", vary={"w0": "int(3..1)"})
    with pytest.raises(symderiv.ParameterError, match="prints no value of that name"):
        symderiv.exercises("sigmoid-neuron", ask=["∂f/∂q"])
    marker = Path("never-made")
    for payload in ("__import__('os').system('touch never-made')", "int(__import__('os')..2)",
                    "{open('never-made','w')}"):
        code, out, err = run_cli(["exercise", "sigmoid-neuron", "--vary", f"w0={payload}"])
        assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert not marker.exists()


def test_ask_takes_ascii_d_for_the_partial_sign_and_single_entries():
    e = symderiv.exercises("conv2d", 1, seed=3, ask=["dL/dK[2,3]"])[0]
    assert [a.name for a in e.asked] == ["∂L/∂K[2,3]"]
    image, kernel = e.parameters["image"], e.parameters["kernel"]
    # by hand: ∂L/∂K[i,j] is the sum of the image over the 4x4 window at (i, j) (upstream ones)
    assert e.asked[0].value == sum(int(image[r][c]) for r in range(1, 5) for c in range(2, 6))
    assert len(kernel) == 3
