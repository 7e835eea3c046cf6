"""dropout, kl-divergence and mle against derivations done by hand, written out here."""

import json
from fractions import Fraction

import mpmath
import pytest
import sympy as sp

import symderiv
from symderiv.cli import main
from symderiv.errors import ParameterError

mpmath.mp.dps = 50
TOL = mpmath.mpf(10) ** -45
FORMATS = ("text", "latex", "mathml", "html", "json")


def by_text(sol):
    """The solution's symbols by their plain-text names."""
    return {name.text: sym for sym, name in sol.names.items()}


def step(sol, lhs_text):
    """The step whose left-hand side prints as ``lhs_text``."""
    from symderiv.printing import text
    found = [i for s in sol.sections for i in s.items
             if isinstance(i, symderiv.Step) and text(i.lhs, sol.names) == lhs_text]
    assert len(found) == 1, lhs_text
    return found[0]


def close(approx, expected):
    return abs(mpmath.mpf(approx) - expected) < TOL


def strict_json(out):
    def no_constant(name):
        raise AssertionError(f"non-standard JSON constant {name}")
    return json.loads(out, parse_constant=no_constant)


def renders_everywhere(sol):
    for fmt in FORMATS:
        out = sol.render(fmt)
        assert out.strip()
        if fmt == "json":
            strict_json(out)
        if fmt == "latex":
            assert "?" not in out  # every non-ASCII character of a note was a known one


# --------------------------------------------------------------------------------------- dropout

def test_dropout_notes_totals():
    # 4 units, each output 2, p = 1/2: everything kept 2+2+2+2 = 8; on average half are dropped:
    # 1/2 * 8 = 4 (standard: test time scales 8 by p = 4 too); inverted: 4 * (1/p) = 4 * 2 = 8.
    sol = symderiv.solve("dropout")
    r = {k: v.exact for k, v in sol.results.items()}
    assert r == {"total": 8, "expected_training_total": 4, "standard_test_total": 4, "inverted_training_total": 8}
    assert step(sol, "E[K]").exact == 2  # 4 units * 1/2 kept on average
    renders_everywhere(sol)


def test_dropout_expectation_proof():
    # m ~ Bernoulli(p): E[m a] = p*(1*a) + (1-p)*(0*a) = p a = the standard test activation;
    # E[m a / p] = p*(a/p) + (1-p)*0 = a = the inverted test activation.
    sol = symderiv.solve("dropout")
    sym = by_text(sol)
    p, a = sym["p"], sym["a"]
    assert sp.simplify(step(sol, "E[m·a]").exact - p * a) == 0
    assert sp.simplify(step(sol, "E[m·a/p]").exact - a) == 0
    assert step(sol, "y_test(standard)").exact == p * a
    assert step(sol, "y_test(inverted)").exact == a
    assert step(sol, "E[m·a] - y_test(standard)").exact == 0
    assert step(sol, "E[m·a/p] - y_test(inverted)").exact == 0


def test_dropout_overrides():
    # p = 1/4, outputs 1, 3, -1/2: total 7/2; expected training total 7/8; inverted (7/8)*4 = 7/2
    sol = symderiv.solve("dropout", p=Fraction(1, 4), outputs=[1, 3, Fraction(-1, 2)])
    r = sol.results
    assert r["total"].exact == sp.Rational(7, 2)
    assert r["expected_training_total"].exact == sp.Rational(7, 8)
    assert r["standard_test_total"].exact == sp.Rational(7, 8)
    assert r["inverted_training_total"].exact == sp.Rational(7, 2)
    assert close(r["expected_training_total"].approx, mpmath.mpf(7) / 8)
    # p = 1 keeps everything: every total is the plain sum 6
    sol = symderiv.solve("dropout", p=1, outputs=[1, 2, 3])
    assert {v.exact for v in sol.results.values()} == {6}


@pytest.mark.parametrize("p", [0, -Fraction(1, 2), Fraction(3, 2)])
def test_dropout_p_out_of_range(p):
    with pytest.raises(ParameterError, match="0 < p <= 1"):
        symderiv.solve("dropout", p=p)


# --------------------------------------------------------------------------------- KL divergence

P0 = [mpmath.mpf(9) / 25, mpmath.mpf(12) / 25, mpmath.mpf(4) / 25]


def test_kl_defaults():
    # Q uniform: D(P||Q) = sum p ln(p/(1/3)) = sum p ln(3p); D(Q||P) = sum (1/3) ln(1/(3p))
    pq = mpmath.fsum(p * mpmath.log(3 * p) for p in P0)
    qp = mpmath.fsum(mpmath.log(1 / (3 * p)) / 3 for p in P0)
    sol = symderiv.solve("kl-divergence")
    got_pq, got_qp = sol.results["D_KL(P||Q)"], sol.results["D_KL(Q||P)"]
    assert close(got_pq.approx, pq) and close(got_qp.approx, qp)
    # the exact values are sums of logarithms of rationals, and agree with the floats
    for got, want in ((got_pq, pq), (got_qp, qp)):
        assert got.exact.atoms(sp.log) and all(l.args[0].is_Rational for l in got.exact.atoms(sp.log))
        assert close(mpmath.mpf(str(got.exact.evalf(55))), want)
    assert abs(pq - qp) > mpmath.mpf("0.01")  # 0.0853 against 0.0975
    assert "not symmetric" in sol.render("text")
    renders_everywhere(sol)


def test_kl_override_exact():
    # P = (1/2, 1/2), Q = (1/4, 3/4): D(P||Q) = 1/2 ln 2 + 1/2 ln(2/3); D(Q||P) = 1/4 ln(1/2) + 3/4 ln(3/2)
    sol = symderiv.solve("kl-divergence", P=[Fraction(1, 2), Fraction(1, 2)], Q=[Fraction(1, 4), Fraction(3, 4)])
    half = sp.Rational(1, 2)
    want_pq = half * sp.log(2) + half * sp.log(sp.Rational(2, 3))
    want_qp = sp.Rational(1, 4) * sp.log(half) + sp.Rational(3, 4) * sp.log(sp.Rational(3, 2))
    assert sp.expand_log(sol.results["D_KL(P||Q)"].exact - want_pq, force=True) == 0
    assert sp.expand_log(sol.results["D_KL(Q||P)"].exact - want_qp, force=True) == 0


def test_kl_equal_by_coincidence_and_zero_for_equal():
    # P = (1/2, 1/4, 1/4), Q = (1/4, 1/2, 1/4): both directions are 1/2 ln 2 - 1/4 ln 2 = (1/4) ln 2
    sol = symderiv.solve("kl-divergence", P=[Fraction(1, 2), Fraction(1, 4), Fraction(1, 4)],
                         Q=[Fraction(1, 4), Fraction(1, 2), Fraction(1, 4)])
    for key in ("D_KL(P||Q)", "D_KL(Q||P)"):
        assert close(sol.results[key].approx, mpmath.log(2) / 4)
    assert "in general KL is not symmetric" in sol.render("text")
    same = [Fraction(9, 25), Fraction(12, 25), Fraction(4, 25)]
    sol = symderiv.solve("kl-divergence", P=same, Q=same)
    assert sol.results["D_KL(P||Q)"].exact == 0 and sol.results["D_KL(Q||P)"].exact == 0


def test_kl_zero_p_contributes_zero_and_reverse_is_infinite():
    # P = (1/2, 1/2, 0), Q uniform: D(P||Q) = ln(3/2) (the p = 0 term is 0);
    # D(Q||P) has q3 = 1/3 > 0 where p3 = 0: +infinity
    sol = symderiv.solve("kl-divergence", P=[Fraction(1, 2), Fraction(1, 2), 0], Q=[Fraction(1, 3)] * 3)
    assert close(sol.results["D_KL(P||Q)"].approx, mpmath.log(mpmath.mpf(3) / 2))
    assert step(sol, "t3").exact == 0
    assert sol.results["D_KL(Q||P)"].exact == sp.oo and sol.results["D_KL(Q||P)"].approx is None
    renders_everywhere(sol)


def test_kl_infinite_renders_in_every_format():
    # P = (1/2, 1/2), Q = (1, 0): q2 = 0 < p2 gives D(P||Q) = +infinity; D(Q||P) = 1 ln(1/(1/2)) = ln 2
    sol = symderiv.solve("kl-divergence", P=[Fraction(1, 2), Fraction(1, 2)], Q=[1, 0])
    inf = sol.results["D_KL(P||Q)"]
    assert inf.exact == sp.oo and inf.approx is None
    assert step(sol, "t2").exact == sp.oo and step(sol, "t2").approx is None
    assert close(sol.results["D_KL(Q||P)"].approx, mpmath.log(2))
    renders_everywhere(sol)
    assert "+∞" in sol.render("text")
    assert r"\infty" in sol.render("latex")
    data = strict_json(sol.render("json"))
    assert data["results"]["D_KL(P||Q)"] == {"exact": "oo"}


def test_kl_both_directions_infinite():
    sol = symderiv.solve("kl-divergence", P=[1, 0], Q=[0, 1])
    assert {v.exact for v in sol.results.values()} == {sp.oo}
    renders_everywhere(sol)


@pytest.mark.parametrize("P, Q, message", [
    ([Fraction(1, 2), Fraction(1, 4), Fraction(1, 8)], [Fraction(1, 3)] * 3,
     "P: expected probabilities summing to exactly 1"),
    ([Fraction(1, 2), Fraction(1, 2)], [Fraction(1, 3)] * 3, "expected the same length, got 2 and 3"),
    ([Fraction(3, 2), Fraction(-1, 2), 0], [Fraction(1, 3)] * 3, "P: expected non-negative probabilities"),
    ([Fraction(1, 3)] * 3, [1, 1, -1], "Q: expected non-negative probabilities"),
])
def test_kl_bad_distributions(P, Q, message):
    with pytest.raises(ParameterError, match=message):
        symderiv.solve("kl-divergence", P=P, Q=Q)


# ------------------------------------------------------------------------------------------- MLE

def test_mle_bernoulli_default():
    # 1,0,1,1,0,1,1,1: k = 6 ones of n = 8; theta = 6/8 = 3/4;
    # NLL = -(6 ln(3/4) + 2 ln(1/4)); L'' = k/t^2 + (n-k)/(1-t)^2 = 6*16/9 + 2*16 = 128/3 > 0
    sol = symderiv.solve("mle")
    data = [1, 0, 1, 1, 0, 1, 1, 1]
    theta = Fraction(sum(data), len(data))
    assert theta == Fraction(3, 4) and sol.results["theta"].exact == sp.Rational(3, 4)
    nll = -(6 * mpmath.log(mpmath.mpf(3) / 4) + 2 * mpmath.log(mpmath.mpf(1) / 4))
    assert close(sol.results["nll"].approx, nll)
    assert step(sol, "d²L/dθ²").exact == sp.Rational(128, 3)
    sym = by_text(sol)
    th = sym["θ"]
    # the NLL as a function of theta, and its derivative
    assert sp.simplify(step(sol, "L(θ)").exact - (-6 * sp.log(th) - 2 * sp.log(1 - th))) == 0
    assert sp.simplify(step(sol, "dL/dθ").exact - (-6 / th + 2 / (1 - th))) == 0
    renders_everywhere(sol)


def test_mle_bernoulli_override_and_boundary():
    # 0,0,1,0,1: theta = 2/5, NLL = -(2 ln(2/5) + 3 ln(3/5))
    sol = symderiv.solve("mle", data=[0, 0, 1, 0, 1])
    assert sol.results["theta"].exact == sp.Rational(2, 5)
    assert close(sol.results["nll"].approx, -(2 * mpmath.log(mpmath.mpf(2) / 5) + 3 * mpmath.log(mpmath.mpf(3) / 5)))
    # all ones: no stationary point in (0, 1); the minimum is theta = 1, NLL = -3 ln 1 = 0
    sol = symderiv.solve("mle", data=[1, 1, 1])
    assert sol.results["theta"].exact == 1 and sol.results["nll"].exact == 0
    renders_everywhere(sol)


def test_mle_gaussian_default():
    # 2,3,5,6: mean 16/4 = 4; deviations -2,-1,1,2, squares 4+1+1+4 = 10; variance 10/4 = 5/2 (biased);
    # NLL at the optimum = n/2 ln(2 pi v) + n/2 = 2 ln(5 pi) + 2; Hessian diag(n/v, n/(2v^2)) = (8/5, 8/25)
    sol = symderiv.solve("mle", family="gaussian")
    data = [Fraction(x) for x in (2, 3, 5, 6)]
    mean = sum(data) / len(data)
    var = sum((x - mean) ** 2 for x in data) / len(data)
    assert (mean, var) == (4, Fraction(5, 2))
    assert sol.results["mu"].exact == 4 and sol.results["variance"].exact == sp.Rational(5, 2)
    assert close(sol.results["nll"].approx, 2 * mpmath.log(5 * mpmath.pi) + 2)
    assert step(sol, "H11").exact == sp.Rational(8, 5)
    assert step(sol, "H12").exact == 0
    assert step(sol, "H22").exact == sp.Rational(8, 25)
    assert step(sol, "det H").exact == sp.Rational(64, 125)
    sym = by_text(sol)
    mu, v = sym["μ"], sym["σ²"]
    # dL/dmu = sum (mu - x)/v = (4 mu - 16)/v
    assert sp.simplify(step(sol, "∂L/∂μ").exact - (4 * mu - 16) / v) == 0
    renders_everywhere(sol)


def test_mle_gaussian_override():
    data = [Fraction(1, 2), Fraction(-1), Fraction(2), Fraction(2), Fraction(7, 3)]
    n = len(data)
    mean = sum(data) / n
    var = sum((x - mean) ** 2 for x in data) / n
    sol = symderiv.solve("mle", family="gaussian", data=data)
    assert sol.results["mu"].exact == sp.Rational(mean.numerator, mean.denominator)
    assert sol.results["variance"].exact == sp.Rational(var.numerator, var.denominator)
    v = mpmath.mpf(var.numerator) / var.denominator
    assert close(sol.results["nll"].approx, n * mpmath.log(2 * mpmath.pi * v) / 2 + mpmath.mpf(n) / 2)


@pytest.mark.parametrize("params, message", [
    (dict(data=[1, 0, 2]), "Bernoulli data must be 0 or 1, got 2 at entry 3"),
    (dict(family="gaussian", data=[3]), "at least 2 values"),
    (dict(family="gaussian", data=[3, 3, 3]), "not all equal"),
    (dict(family="poisson"), "expected one of bernoulli, gaussian"),
])
def test_mle_bad_data(params, message):
    with pytest.raises(ParameterError, match=message):
        symderiv.solve("mle", **params)


# ------------------------------------------------------------------------------------------- CLI

@pytest.mark.parametrize("args", [
    ["dropout"], ["dropout", "--set", "p=0.25", "--set", "outputs=[1,2]"],
    ["kl-divergence"], ["kl-divergence", "--set", "P=[0.5,0.5]", "--set", "Q=[1,0]"],
    ["mle"], ["mle", "--set", "family=gaussian"], ["mle", "--set", "family=gaussian", "--set", "data=[1,2,4]"],
])
def test_cli_json(args, capsys):
    assert main(["solve", *args, "--format", "json"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert strict_json(out)["model"] == args[0]


@pytest.mark.parametrize("args, message", [
    (["dropout", "--set", "p=0"], "0 < p <= 1"),
    (["dropout", "--set", "p=1.5"], "0 < p <= 1"),
    (["kl-divergence", "--set", "P=[0.5,0.4,0.2]"], "summing to exactly 1"),
    (["kl-divergence", "--set", "Q=[0.5,0.5]"], "the same length"),
    (["kl-divergence", "--set", "P=[1.2,-0.2,0]"], "non-negative"),
    (["mle", "--set", "data=[1,0,2]"], "0 or 1"),
    (["mle", "--set", "family=gaussian", "--set", "data=[5]"], "at least 2 values"),
])
def test_cli_bad_input_is_one_line_and_status_2(args, message, capsys):
    assert main(["solve", *args]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("symderiv: error: ") and message in err
