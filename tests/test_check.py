"""Issue 16: `symderiv check`. Every expected verdict is derived here with mpmath at 50 digits
(or by hand for exact numbers), never read from the checker."""

from __future__ import annotations

import contextlib
import io
import json
import random
from decimal import Decimal
from pathlib import Path

import mpmath
import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symderiv
from symderiv.check import AnswerError, errata, errata_page, notes_answers
from symderiv.cli import main
from symderiv.numeric import evaluate
from symderiv.notation import MaxOf
from symderiv.printing import text

mpmath.mp.dps = 60
E1 = mpmath.exp(-1)
SIGMA1 = 1 / (1 + E1)  # the sigmoid neuron's output σ(1)


def rounds_to(x, written: str) -> bool:
    """Hand rule of the docs: the written decimal is x to its last written place (half a unit)."""
    places = len(written.split(".")[1])
    return abs(mpmath.mpf(written) - x) <= mpmath.mpf(10) ** -places / 2


def verdicts(report) -> dict[str, str]:
    return {line.name: line.verdict for line in report.lines}


def kinds(report, name: str) -> set[str]:
    return {d.kind for line in report.lines if line.name == name for d in line.diagnoses}


def run_cli(argv, stdin: str = ""):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
            contextlib.ExitStack() as stack:
        import sys
        old = sys.stdin
        sys.stdin = io.StringIO(stdin)
        stack.callback(setattr, sys, "stdin", old)
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


# ---------------------------------------------------------------- each verdict, by hand

@pytest.mark.parametrize("written", ["0.7311", "0.731", "0.73", "0.7310"])
def test_right_is_the_exact_value_at_the_precision_written(written):
    expected = "right" if rounds_to(SIGMA1, written) else "wrong"
    assert (written, expected) != ("0.7310", "right")  # 0.731058… rounds to 0.7311
    # f7 written to 6 digits: the student's own f7 pins f8 (issue 25: an unwritten f7 may have been
    # rounded to 1.368, and 1/1.368 = 0.73099 is 0.7310 from the student's own value)
    assert verdicts(symderiv.check_answers("sigmoid-neuron", {"f7": "1.36788", "f8": written}))["f8"] == expected


def test_right_from_own_rounded_values():
    # f7 = 1 + e^-1 = 1.3679 → the student writes 1.37 (right); 1/1.37 = 0.72993 → 0.730,
    # while the exact f8 = 0.731058… is 0.731 at that precision.
    assert rounds_to(1 + E1, "1.37") and rounds_to(1 / mpmath.mpf("1.37"), "0.730")
    assert not rounds_to(SIGMA1, "0.730")
    report = symderiv.check_answers("sigmoid-neuron", {"f7": "1.37", "f8": "0.730"})
    assert verdicts(report) == {"f7": "right", "f8": "rounded"}
    assert report.ok


def test_the_notes_product_is_not_called_a_mistake():
    # 0.3678 × −0.53 = −0.1949 → −0.195, though the exact −e^-1/(1 + e^-1)² = −0.1966
    assert not rounds_to(-E1 * SIGMA1 ** 2, "-0.195")
    report = symderiv.check_answers("sigmoid-neuron", {"f6": "0.3679", "∂f/∂f6": "-0.53", "∂f/∂f5": "-0.195"})
    assert verdicts(report)["∂f/∂f5"] == "rounded"


def test_carried_from_an_earlier_slip():
    # f6 = 0.5 is wrong (e^-1); f7 = 1 + 0.5 and f8 = 1/1.5 follow from it.
    report = symderiv.check_answers("sigmoid-neuron", {"f6": "0.5", "f7": "1.5", "f8": "0.6667"})
    assert verdicts(report) == {"f6": "wrong", "f7": "carried", "f8": "carried"}
    assert [line.follows for line in report.lines] == [None, "f6", "f6"]
    assert report.first_wrong.name == "f6" and [x.name for x in report.following(report.first_wrong)] == ["f7", "f8"]
    assert not report.ok


def test_wrong_with_no_usual_slip():
    # the notes: ∂f8/∂f7 = −0.33, but −1/f7² = −1/(1 + e^-1)² = −0.5344
    report = symderiv.check_answers("sigmoid-neuron", {"∂f8/∂f7": "-0.33"})
    line = report.lines[0]
    assert line.verdict == "wrong" and line.diagnoses == ()
    assert abs(line.value - (-SIGMA1 ** 2)) < mpmath.mpf(10) ** -45
    assert "none of the usual slips" in report.render()


def test_whole_numbers_and_fractions_claim_the_exact_value():
    # graph-add-mul: q = x + y = 3, f = q·z = -12, ∂f/∂z = q = 3
    assert verdicts(symderiv.check_answers("graph-add-mul", {"q": "3", "f": "-12", "∂f/∂z": "3/1"})) == \
        {"q": "right", "f": "right", "∂f/∂z": "right"}
    assert verdicts(symderiv.check_answers("sigmoid-chain", {"z1": "1/2", "w1": "0.50"})) == {"w1": "right", "z1": "right"}
    assert verdicts(symderiv.check_answers("sigmoid-neuron", {"f6": "1/3"}))["f6"] == "wrong"


# ---------------------------------------------------------------- each diagnosis, on its own slip

DIAGNOSIS_CASES = [
    # kind, model, params, answers, name; the slip's value derived beside each
    ("sign", "sigmoid-neuron", {}, {"∂f/∂x0": "-0.3932"}, "∂f/∂x0"),  # exact +2e^-1/(1+e^-1)^2
    ("degrees", "positional-encoding", {}, {"PE[1] (am)[3]": str(mpmath.nstr(mpmath.sin(mpmath.pi / 1800), 5))},
     "PE[1] (am)[3]"),  # sin(0.1°)
    ("swapped", "rnn", {}, {"v1": "[1.200, -0.100, 0.900]"}, "v1_1"),  # v1 = [-0.1, 1.2, 0.9]
    ("transposed", "conv2d", {}, {"∂L/∂K": "[[50, 57, 47], [62, 63, 52], [65, 68, 66]]"}, None),
    ("exp-sign", "sigmoid-neuron", {}, {"f6": "2.718"}, "f6"),  # e^{+1} for e^{-1}
    ("missing-factor", "sigmoid-chain", {}, {"∂L/∂z3": "0.24487"}, "∂L/∂z3"),  # the local σ'(z3) alone
    ("sigmoid-derivative", "sigmoid-chain", {}, {"∂a1/∂z1": "0.62246"}, "∂a1/∂z1"),  # a1 for a1(1 − a1)
    ("fan-out", "derive", {}, {"∂f/∂x": "3"}, "∂f/∂x"),  # f = x·y + x: y alone, not y + 1
    ("factor-2", "autoencoder", {}, {"L": "1.250"}, "L"),  # ½‖x̂ − x‖² = 5/8 without the ½
    ("term", "conv2d", {}, {"O_1_1": "11"}, "O_1_1"),  # −5 with the term K_2_3·X_2_3 = −8 as +8
    ("truncated", "sigmoid-neuron", {}, {"f7": "1.36788", "f8": "0.7310"}, "f8"),  # 0.731058… cut to 0.7310
    ("activation", "sigmoid-chain", {}, {"a1": "0.5000"}, "a1"),  # z1 = 1/2, σ not applied
    ("operation", "graph-mul-add", {}, {"q": "1"}, "q"),  # y + z = 1 for y·z = −20
]


def _slip_value(kind: str):
    """The slip each case makes, derived by hand."""
    sig = lambda z: 1 / (1 + mpmath.exp(-z))  # noqa: E731
    a1 = sig(mpmath.mpf(1) / 2)
    a3 = sig(sig(a1 / 2) / 2)
    return {
        "missing-factor": a3 * (1 - a3),
        "sign": -2 * E1 * SIGMA1 ** 2,
        "degrees": mpmath.sin(mpmath.pi / 1800),
        "exp-sign": mpmath.e,
        "sigmoid-derivative": a1,
        "factor-2": mpmath.mpf(5) / 4,
        "term": mpmath.mpf(3 - 1 + 1 + 8 + 2 - 2),
        "activation": mpmath.mpf(1) / 2,
        "operation": mpmath.mpf(5 - 4),
    }.get(kind)


@pytest.mark.parametrize("kind, model, params, answers, name", DIAGNOSIS_CASES, ids=[c[0] for c in DIAGNOSIS_CASES])
def test_each_diagnosis_triggers_on_its_slip_and_nothing_else(kind, model, params, answers, name):
    if model == "derive":
        report = symderiv.check_answers(symderiv.derive("x*y + x", x=2, y=3), answers)
    else:
        report = symderiv.check_answers(model, answers, **params)
    names = [name] if name else [x.name for x in report.lines if x.verdict == "wrong"]
    assert names
    for n in names:
        assert kinds(report, n) == {kind}, (n, [d.says() for x in report.lines for d in x.diagnoses])
    slip = _slip_value(kind)
    if slip is not None:
        shown = next(line for line in report.lines if line.name == names[0]).diagnoses[0].value
        assert abs(shown - slip) < mpmath.mpf(10) ** -40


def test_a_right_answer_gets_no_diagnosis():
    report = symderiv.check_answers("sigmoid-neuron", {"f8": "0.7311", "∂f/∂x0": "0.3932"})
    assert report.ok and all(not x.diagnoses for x in report.lines)


# ---------------------------------------------------------------- the property test

SCALAR_MODELS = {
    "graph-add-mul": ("x", "y", "z"),
    "graph-mul-add": ("x", "y", "z"),
    "sigmoid-neuron": ("w0", "x0", "w1", "x1", "w2"),
    "max-gate": ("x", "y", "z", "w"),
}


def write(v, p: int) -> str:
    """v to p significant digits, as a student writes it: '2.4e+0', '1.0e+4' (the digits claimed)."""
    return f"{Decimal(mpmath.nstr(v, 50, min_fixed=-10**6, max_fixed=10**6)):.{p - 1}e}"


def _student(sol, digits: list[int], perturb: int | None = None):
    """A student's working: every step after Given, in order, computed from the student's own
    written (rounded) values and written to its precision; step ``perturb`` written wrong."""
    value_of: dict[str, mpmath.mpf] = {}
    exact_of: dict[str, mpmath.mpf] = {}
    for section in sol.sections:
        for item in section.items:
            if isinstance(item, symderiv.Step) and section.kind == "given":
                value_of[text(item.lhs, sol.names)] = item.approx
    env_of = lambda step: {s: value_of[sol.names[s].text] for s in step.formula.free_symbols}  # noqa: E731
    written: dict[str, str] = {}
    unrounded: dict[str, mpmath.mpf] = {}
    k = 0
    for section in sol.sections:
        if section.kind == "given":
            continue
        for item in section.items:
            if not isinstance(item, symderiv.Step) or item.approx is None:
                continue
            name = text(item.lhs, sol.names)
            if name in written:
                continue
            formula = None if item.formula is None else item.formula.replace(
                lambda e: isinstance(e, MaxOf), lambda e: sympy.Max(*e.args))  # max(z, w) as written
            v = item.approx if formula is None else evaluate(formula, env_of(item))
            exact_of[name] = item.approx
            if k == perturb:
                v = v + (abs(v) + 1) * mpmath.mpf("0.37")
            unrounded[name] = v
            s = write(v, digits[k % len(digits)])
            written[name] = s
            value_of[name] = mpmath.mpf(s)
            k += 1
    return written, unrounded, exact_of


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(model=st.sampled_from(sorted(SCALAR_MODELS)), seed=st.integers(0, 10**6),
       digits=st.lists(st.integers(2, 6), min_size=1, max_size=5))
def test_property_right_answers_pass_and_one_slip_is_pinpointed(model, seed, digits):
    rng = random.Random(seed)
    params = {p: str(rng.choice([-3, -2, -1, 1, 2, 3]) * rng.choice([1, 0.5, 1.5])) for p in SCALAR_MODELS[model]}
    sol = symderiv.solve(model, **params)
    written, plain, exact = _student(sol, digits)
    # the exact values rounded: all right; the student's own rounded chain: right or ≈
    rounded = {n: write(exact[n], digits[0] + 1) for n in exact}
    assert set(verdicts(symderiv.check_answers(sol, rounded)).values()) == {"right"}
    assert set(verdicts(symderiv.check_answers(sol, written)).values()) <= {"right", "rounded"}
    # one perturbed value: wrong exactly there; later steps computed from it follow from it
    k = rng.randrange(len(written))
    slipped, slipped_plain, _ = _student(sol, digits, perturb=k)
    report = symderiv.check_answers(sol, slipped)
    got = verdicts(report)
    names = list(slipped)
    assert got[names[k]] == "wrong"
    for name in names[:k]:
        assert got[name] in ("right", "rounded")
    for name in names[k + 1:]:
        unit = mpmath.mpf(10) ** -len(slipped[name].split(".")[1].split("e")[0]) * \
            mpmath.mpf(10) ** int(slipped[name].split("e")[1] if "e" in slipped[name] else 0)
        moved = abs(slipped_plain[name] - plain[name])
        if moved > unit:
            assert got[name] == "carried", (name, slipped[name])
            assert next(x for x in report.lines if x.name == name).follows == names[k]
        elif moved == 0:
            assert got[name] in ("right", "rounded"), name


# ---------------------------------------------------------------- matrices, names, input

def test_matrix_whole_and_per_entry_agree():
    # h1 = tanh(W_xh·x1) = tanh([-0.1, 1.2, 0.9])
    h1 = [mpmath.tanh(v) for v in (mpmath.mpf("-0.1"), mpmath.mpf("1.2"), mpmath.mpf("0.9"))]
    assert rounds_to(h1[0], "-0.0997") and rounds_to(h1[1], "0.8337") and not rounds_to(h1[2], "0.7100")
    whole = symderiv.check_answers("rnn", "h1 = [[-0.0997], [0.8337], [0.7100]]")
    entries = symderiv.check_answers("rnn", "h1_1 = -0.0997\nh1[2] = 0.8337\nh13 = 0.7100")
    assert [x.verdict for x in whole.lines] == [x.verdict for x in entries.lines] == ["right", "right", "wrong"]
    assert [x.name for x in whole.lines] == [x.name for x in entries.lines]
    flat = symderiv.check_answers("rnn", "h1 = [-0.0997, 0.8337, 0.7100]")
    assert [x.verdict for x in flat.lines] == ["right", "right", "wrong"]


def test_ascii_names():
    # ∂f/∂w0 = -e^-1/(1 + e^-1)^2
    value = -E1 * SIGMA1 ** 2
    assert rounds_to(value, "-0.1966")
    for spelling in ("df/dw0", "∂f/∂w0", "d f / d w0", "df/dw_0"):
        assert verdicts(symderiv.check_answers("sigmoid-neuron", {spelling: "-0.1966"})) == {"∂f/∂w0": "right"}
    assert verdicts(symderiv.check_answers("self-attention", {"S11": "0.91121", "S_1_2": "0.8017", "S[2,1]": "1.41568"})) \
        == {"S_1_1": "right", "S_1_2": "right", "S_2_1": "right"}  # 4424/3125 = 1.41568 exactly


@pytest.mark.parametrize("answers, message", [
    ("f9 = 1", "line 1: f9: the solution has no step of that name; closest: f8, f7, f6"),
    ("f6 = abc", "line 1: f6: 'abc' is not a number (write -0.53, 5.23e-5 or 1/3)"),
    ("f6 = 0.3\ndf6/df5 = 1\nf6 = 0.4", "line 3: f6 is given twice (first on line 1)"),
    ("f6 0.3", "line 1: expected NAME = VALUE, like 'f6 = 0.3679', got 'f6 0.3'"),
    ("f6 = [1, 2]", "line 1: f6 is a number, not a matrix"),
])
def test_bad_answers_are_one_line(answers, message):
    with pytest.raises(AnswerError) as e:
        symderiv.check_answers("sigmoid-neuron", answers)
    assert str(e.value) == message
    code, out, err = run_cli(["check", "sigmoid-neuron", "-"], stdin=answers)
    assert (code, out, err) == (2, "", f"symderiv: error: {message}\n")


def test_wrong_shape_and_duplicate_entry():
    with pytest.raises(AnswerError, match=r"^line 1: h1 is 3x1, but the value given is 2x1$"):
        symderiv.check_answers("rnn", "h1 = [1, 2]")
    with pytest.raises(AnswerError, match=r"^line 2: h1_2 is given twice \(first on line 1\)$"):
        symderiv.check_answers("rnn", "h1 = [1, 2, 3]\nh1[2] = 2")


def test_exit_status_and_formats(tmp_path):
    good, bad = tmp_path / "good.txt", tmp_path / "bad.txt"
    good.write_text("# a student's working\nf6 = 0.3679\n\ndf/df7: -0.53\n", encoding="utf-8")
    bad.write_text("f6 = 0.3688\n", encoding="utf-8")
    assert run_cli(["check", "sigmoid-neuron", str(good)])[0] == 0
    code, out, _ = run_cli(["check", "sigmoid-neuron", str(bad), "--format", "json"])
    data = json.loads(out)
    assert code == 1 and data["ok"] is False and data["first_wrong"]["name"] == "f6"
    assert data["lines"][0]["verdict"] == "wrong" and abs(data["lines"][0]["float"] - float(E1)) < 1e-15
    code, out, _ = run_cli(["check", "sigmoid-neuron", str(bad), "--format", "html"])
    assert code == 1 and out.startswith("<!DOCTYPE html>") and "✗ you wrote f6 = 0.3688" in out
    code, out, _ = run_cli(["check", "sigmoid-neuron", str(bad), "--format", "latex", "--standalone"])
    assert code == 1 and "\\begin{document}" in out and "0.3688" in out
    # the image's first window [[3, 0], [1, 5]] ⋆ [[1, 0], [0, -1]] = 3·1 + 5·(−1) = −2
    assert run_cli(["check", "conv2d", "--answer", "O_1_1 = -2", "--set", "kernel=[[1,0],[0,-1]]"])[0] == 0
    assert run_cli(["check", "conv2d", "--answer", "O_1_1 = -5", "--set", "kernel=[[1,0],[0,-1]]"])[0] == 1


# ---------------------------------------------------------------- the notes' own numbers

def test_the_notes_slips_are_flagged_and_what_they_got_right_is_not():
    # conv2d's last window [[1, 7, 8], [6, 2, 8], [2, 3, 9]] ⋆ [[1, 0, -1]]*3 = (1 + 6 + 2) - (8 + 8 + 9) = -16
    conv = symderiv.check_answers("conv2d", notes_answers("conv2d"))
    assert [(x.name, x.verdict) for x in conv.lines if not x.ok] == [("O_4_4", "wrong")]
    assert conv.lines[-1].value == -16
    # positional encoding: sin(0.1°) = 0.001745 for sin(0.1) = 0.0998
    pe = verdicts(symderiv.check_answers("positional-encoding", notes_answers("positional-encoding")))
    assert pe["PE[1] (am)[3]"] == "wrong"
    assert kinds(symderiv.check_answers("positional-encoding", notes_answers("positional-encoding")), "PE[1] (am)[3]") \
        == {"degrees"}
    # the sigmoid neuron: −0.33 for −1/(1 + e^-1)² = −0.5344; −0.195 from the notes' 0.3678 × −0.53
    neuron = verdicts(symderiv.check_answers("sigmoid-neuron", notes_answers("sigmoid-neuron")))
    assert neuron["∂f8/∂f7"] == "wrong" and neuron["∂f/∂f5"] == "rounded" and neuron["∂f/∂f7"] == "right"
    # self-attention's softmax: e^{−0.456}/(e^{−0.456} + e^{−0.401}) = 0.486, the other weight
    # (issue 25: "P_1_1 and P_1_2 swapped" is no longer offered: the notes' P_1_2 = 0.5138 is not
    # P_1_1 = 0.51368…, so no swap reproduces both numbers)
    sa = symderiv.check_answers("self-attention", notes_answers("self-attention"))
    assert kinds(sa, "P_1_1") == {"exp-sign"}
    # graph-mul-add: q = y·z = −20 (the notes 5 + (−4) = 1), f = x + q = −22 (the notes −3)
    assert {k: v for k, v in verdicts(symderiv.check_answers("graph-mul-add", notes_answers("graph-mul-add"))).items()
            if v != "right"} == {"q": "wrong", "f": "wrong"}
    # dot-attention: the notes round α₂ = α₃ = e/(2e + e²) = 0.2119 to one digit, 0.2, and their
    # c = 0.776 follows from it (exact 0.7881); a one-digit decimal is right only at the notes' usual digits
    alpha = mpmath.e / (2 * mpmath.e + mpmath.e ** 2)
    assert not rounds_to(alpha, "0.20")
    dot = verdicts(symderiv.check_answers("dot-attention", notes_answers("dot-attention")))
    assert dot["alpha_2"] == "wrong" and dot["c_1"] == "carried"
    for model in ("graph-add-mul", "max-gate", "xor-mlp", "dropout", "conv2d-padding", "conv-volume",
                  "autoencoder", "sigmoid-chain"):
        assert symderiv.check_answers(model, notes_answers(model)).ok, model
        assert errata(model) is None
    assert "O_4_4 = 6 is -16" in errata("conv2d").note[0]


def test_every_notes_file_checks_and_ships():
    root = Path(__file__).resolve().parents[1]
    assert '"notes/*.txt", "notes/errata/*.txt"' in (root / "pyproject.toml").read_text(encoding="utf-8")
    shipped = sorted(p.stem for p in (root / "symderiv" / "notes").glob("*.txt"))
    assert len(shipped) == 17 and "pooling" not in shipped and "mle" not in shipped
    for model in shipped:
        code, out, err = run_cli(["check", model, "--notes"])
        assert code in (0, 1) and err == "" and "checked" in out


def test_the_errata_page_is_what_the_script_writes():
    page = Path(__file__).resolve().parents[1] / "docs" / "errata.md"
    assert page.read_text(encoding="utf-8") == errata_page() + "\n", \
        "regenerate it: python3 -m symderiv.errata > docs/errata.md"


def test_each_default_solution_ends_with_where_the_notes_differ():
    """The shipped errata files are what the checker finds now (regenerate them with
    ``python3 -m symderiv.errata --remarks``), and the default solution ends with them."""
    from symderiv.check import errata_lines
    for model in symderiv.models():
        lines = errata_lines(model)
        sol = symderiv.solve(model)
        last = sol.sections[-1]
        if lines:
            assert last.kind == "errata", model
            assert [r.note[0] for r in last.items] == lines, model
        else:
            assert last.kind != "errata", model
    assert symderiv.solve("conv2d", stride=1).sections[-1].kind != "errata"  # only the notes' own example
