"""Issue 25 (and 29's bounds): what the checker reads, what it refuses up front, and the CLI's
exit status. Expected values by hand: sigmoid-neuron's f6 = e^{-1} = 0.367879…, f7 = 1.367879…;
conv2d's outputs are sums of whole numbers, computed here."""

from __future__ import annotations

import contextlib
import io
import json
import random
import sys

import mpmath
import pytest

import symderiv
from symderiv.check import MAX_ANSWER_BYTES, AnswerError, Verdict, check_answers
from symderiv.cli import main


def run_cli(argv, stdin: bytes = b""):
    out, err = io.StringIO(), io.StringIO()
    old = sys.stdin
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8")
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv)
    finally:
        sys.stdin = old
    return code, out.getvalue(), err.getvalue()


def test_an_unreadable_line_is_reported_and_the_rest_checked():
    code, out, err = run_cli(["check", "sigmoid-neuron", "-"], b"f6 = 0.3679\nf7 = one point three\nf8 = 0.7311\n")
    assert code == 1 and err == ""
    assert "✓ line 1: f6" in out and "✓ line 3: f8" in out
    assert "? line 2: not read: line 2: f7: 'one point three' is not a number" in out
    assert "1 line not read" in out


@pytest.mark.parametrize("value, message", [
    ("0.e100000000", "an exponent beyond ±400"),
    ("1e" + "9" * 5000, "an exponent beyond ±400"),
    ("[1e99999, 2, 3]", "an exponent beyond ±400"),
])
def test_huge_exponents_are_one_line_and_quick(value, message):
    name = "h1" if value.startswith("[") else "f6"
    model = "rnn" if name == "h1" else "sigmoid-neuron"
    code, out, err = run_cli(["check", model, "--answer", f"{name} = {value}"])
    assert code == 2 and out == "" and message in err and err.count("\n") == 1


def test_an_answers_file_over_the_bound_is_refused_up_front(tmp_path):
    big = tmp_path / "big.txt"
    big.write_bytes(b"f6 = 0.3679\n" * (MAX_ANSWER_BYTES // 12 + 2))
    code, out, err = run_cli(["check", "sigmoid-neuron", str(big)])
    assert code == 2 and "longer than 1,000,000 bytes" in err
    code, out, err = run_cli(["check", "sigmoid-neuron", "-"], b"f6 = 0.3679\n" * (MAX_ANSWER_BYTES // 12 + 2))
    assert code == 2 and "longer than 1,000,000 bytes" in err


def test_too_many_numbers_are_refused_before_solving():
    lines = "\n".join(f"PE[{p}][{i}] = 0.5" for p in range(1, 60) for i in range(1, 513))
    with pytest.raises(AnswerError, match="numbers; at most 20,000"):
        check_answers("positional-encoding", lines, length=390, d=512)


def test_conv2d_forty_by_forty_with_every_output_written():
    rng = random.Random(1)
    n = 40
    X = [[rng.randint(-5, 5) for _ in range(n)] for _ in range(n)]
    K = [[1, 0, -1], [2, 0, -2], [1, 0, -1]]
    O = [[sum(K[a][b] * X[i + a][j + b] for a in range(3) for b in range(3)) for j in range(n - 2)]
         for i in range(n - 2)]
    text = "\n".join(f"O[{i + 1},{j + 1}] = {O[i][j]}" for i in range(n - 2) for j in range(n - 2))
    report = check_answers("conv2d", text, image=json.dumps(X), kernel=json.dumps(K))
    assert report.ok and len(report.lines) == (n - 2) ** 2
    # two-digit indices are read as written
    two = check_answers("conv2d", f"O[11,1] = {O[10][0]}\nO[1,11] = {O[0][11] + 1}", image=json.dumps(X),
                        kernel=json.dumps(K))
    assert [(x.name, str(x.verdict)) for x in two.lines] == [("O_1_11", "wrong"), ("O_11_1", "right")]


def test_integers_and_floats_through_the_api():
    assert check_answers("graph-add-mul", {"q": 3, "f": -12, "∂f/∂z": 3}).ok
    with pytest.raises(AnswerError):
        check_answers("graph-add-mul", {"q": True})


def test_utf16_and_latin1_files(tmp_path):
    for encoding in ("utf-16", "latin-1", "utf-8-sig"):
        path = tmp_path / f"{encoding}.txt"
        path.write_bytes("# Lösung\nf6 = 0.3679\n".encode(encoding))
        code, out, err = run_cli(["check", "sigmoid-neuron", str(path)])
        assert (code, err) == (0, ""), encoding
        assert "✓ line 2: f6 = 0.3679" in out


def test_hints_never_print_a_value():
    # ∂L/∂z3 = ∂L/∂a3·a3 (σ for σ′): a3 = σ(σ(σ(1/2)/2)/2) = 0.57165…
    s = lambda z: 1 / (1 + mpmath.exp(-z))
    a3 = s(s(s(mpmath.mpf(1) / 2) / 2) / 2)
    slip = mpmath.nstr((a3 - 1) * a3, 4)
    exact = mpmath.nstr((a3 - 1) * a3 * (1 - a3), 4)
    answers = f"a3 = {mpmath.nstr(a3, 4)}\n∂L/∂z3 = {slip}\n"
    code, out, _ = run_cli(["check", "sigmoid-chain", "-", "--hints"], answers.encode())
    assert code == 1 and "the first slip is here (look for: σ for σ′" in out and exact not in out
    code, out, _ = run_cli(["check", "sigmoid-chain", "-", "--hints", "--format", "json"], answers.encode())
    data = json.loads(out)
    assert all("exact" not in x and "float" not in x for x in data["lines"])
    assert data["lines"][1]["diagnoses"] == [{"kind": "sigmoid-derivative"}]


def test_a_teachers_tolerance():
    # f6 = 0.3679 exactly e^{-1} to 4 digits; 0.37 is right at 2 digits, 0.368 within 0.1 %
    assert check_answers("sigmoid-neuron", {"f6": "0.3700"}).lines[0].verdict is Verdict.WRONG
    assert check_answers("sigmoid-neuron", {"f6": "0.3700"}, tolerance="2").ok
    assert check_answers("sigmoid-neuron", {"f6": "0.3682"}, tolerance="0.1%").ok
    assert not check_answers("sigmoid-neuron", {"f6": "0.3700"}, tolerance="0.1%").ok
    with pytest.raises(symderiv.ParameterError, match="tolerance"):
        check_answers("sigmoid-neuron", {"f6": "0.3679"}, tolerance="two")


def test_a_transposed_gradient_is_a_slip_not_bad_input():
    report = check_answers("self-attention", "∂L/∂V = [[0.1, 0.2], [0.3, 0.4], [0.5, 0.6], [0.7, 0.8]]")
    assert {str(x.verdict) for x in report.lines} == {"wrong"}
    assert all(d.kind == "transposed" and "written 4x2" in d.text for x in report.lines for d in x.diagnoses)


def _attention_by_hand():
    """Self-attention's first row by hand: S = Q·Kᵀ, A = S/√4, P = softmax(A), L = ΣZ = Σ P·V, so
    ∂L/∂P_1j = Σ_k V_jk and ∂L/∂A_1j = P_1j (∂L/∂P_1j − Σ_l P_1l ∂L/∂P_1l), ∂L/∂S = ∂L/∂A / 2."""
    m = mpmath.mpf
    Q1 = [m("0.212"), m("0.04"), m("0.63"), m("0.36")]
    K = [[m("0.31"), m("0.84"), m("0.963"), m("0.57")], [m("0.45"), m("0.94"), m("0.73"), m("0.58")]]
    V = [[m("0.36"), m("0.83"), m("0.1"), m("0.35")], [m("0.31"), m("0.36"), m("0.19"), m("0.72")]]
    S = [mpmath.fsum(q * k for q, k in zip(Q1, row)) for row in K]
    A = [s / 2 for s in S]
    e = [mpmath.exp(a) for a in A]
    P = [x / sum(e) for x in e]
    g = [sum(row) for row in V]
    dA = [P[j] * (g[j] - mpmath.fsum(P[l] * g[l] for l in range(2))) for j in range(2)]
    return S, A, dA


def test_a_scaling_step_is_right_from_your_own_values():
    S, A, dA = _attention_by_hand()
    s = mpmath.nstr(S[0], 3)  # 0.911: the student's own S_1_1, to 3 digits
    a = mpmath.nstr(mpmath.mpf(s) / 2, 4)  # 0.4555, from it (A_1_1 itself is 0.45560…)
    assert not rounds(A[0], a)
    report = check_answers("self-attention", f"S_1_1 = {s}\nA_1_1 = {a}")
    assert [str(x.verdict) for x in report.lines] == ["right", "rounded"]
    da = mpmath.nstr(dA[0], 4)
    ds = mpmath.nstr(mpmath.mpf(da) / 2, 4)  # exactly half of what was written
    report = check_answers("self-attention", f"∂L/∂A_1_1 = {da}\n∂L/∂S_1_1 = {ds}")
    assert [str(x.verdict) for x in report.lines][0] == "right"
    assert report.ok


def rounds(x, written: str) -> bool:
    places = len(written.split(".")[1])
    return abs(mpmath.mpf(written) - x) <= mpmath.mpf(10) ** -places / 2


def test_half_of_a_squared_loss_only_where_the_output_is_one():
    # graph-add-mul (f = (x + y)·z, no squared loss): q = 3 written as 6 gets no "½ of a squared loss"
    line = check_answers("graph-add-mul", {"q": "6"}).lines[0]
    assert line.verdict is Verdict.WRONG and "factor-2" not in {d.kind for d in line.diagnoses}
    # autoencoder: L = ½‖x̂ − x‖² = ½((1 − 2)² + (1/2)²) = 5/8; without the ½: 5/4
    line = check_answers("autoencoder", {"L": "1.250"}).lines[0]
    assert {d.kind for d in line.diagnoses} == {"factor-2"}
