"""Probability models of the notes: dropout's scaling, the KL divergence, maximum likelihood.

These are derivations rather than graphs: each builds its :class:`Solution` from steps directly.
"""

from __future__ import annotations

import mpmath
import sympy as sp

from ..errors import ParameterError
from ..printing import latex
from ..record import Maths, Remark, Section, SectionKind, Solution, Step, Title
from ..writers import SHOW_TERMS, Derivation, shown_number, written_sum
from .registry import Param, Setup, register

# ----------------------------------------------------------------------------------------- dropout

@register("dropout",
          Param("p", sp.Rational(1, 2), "keep probability, 0 < p <= 1"),
          Param("outputs", [2, 2, 2, 2], "the activations a_i of the units", kind="array", shape=(None,)),
          exercise=Setup({"p": "{1/2, 1/4, 3/4, 1/5, 2/5, 3/5, 4/5}", "outputs": "int(0..19)[6]"},
                     ("S", "E[T_train]", "T_test(standard)", "E[T_train(inverted)]"), places=2, forward_gives_answer=True),
          examples=({'p': '0.8'}, {'p': '1/3', 'outputs': '[1, 2, 3]'}))
def dropout(p, outputs) -> Solution:
    if not 0 < p <= 1:
        raise ParameterError(f"dropout: p: expected a keep probability with 0 < p <= 1, got {p}")
    from sympy import stats  # slow to import: only when this model is built

    derivation = Derivation()
    n = len(outputs)
    P = derivation.symbol("p", "p", "p", positive=True)
    N = derivation.symbol("n", "n", "n", positive=True, integer=True)
    A, avals = derivation.entries("a", "a", outputs)
    S = derivation.symbol("S", "S", "S")
    K = derivation.symbol("K", r"\mathrm{E}[K]", "E[K]")
    T = derivation.symbol("T", r"\mathrm{E}[T_{\mathrm{train}}]", "E[T_train]")
    Tstd = derivation.symbol("T_std", r"T_{\mathrm{test}}^{\mathrm{std}}", "T_test(standard)")
    Tinv = derivation.symbol("T_inv", r"\mathrm{E}[T_{\mathrm{train}}^{\mathrm{inv}}]", "E[T_train(inverted)]")
    pv = {P: shown_number(p), N: shown_number(sp.Integer(n))}

    total = sp.Add(*outputs)
    kept = p * n
    expected = p * total
    given = (derivation.step(P, None, None, p, "the keep probability"),
             derivation.step(N, None, None, sp.Integer(n), "units"),
             *(derivation.step(ai, None, None, avals[ai].exact) for ai in A[:SHOW_TERMS]))
    totals = (
        derivation.sum_step(S, A, avals, total,
                  "Everything kept (no dropout; the test time of inverted dropout): the total of the outputs."),
        derivation.step(K, P * N, pv, kept, "Units kept on average while training: each is kept with probability p, "
              "the rest are dropped."),
        derivation.step(T, sp.Mul(P, S, evaluate=False), {**pv, S: shown_number(total)}, expected,
              "The expected training total E[sum of m_i a_i] = sum of p a_i, with masks m_i ~ Bernoulli(p)",
              " (half the units dropped)" if p == sp.Rational(1, 2) else "", "."),
        derivation.step(Tstd, sp.Mul(P, S, evaluate=False), {**pv, S: shown_number(total)}, expected,
              "Standard dropout keeps with probability p while training and multiplies by p at test time: "
              "the test total equals the expected training total."),
        derivation.step(Tinv, sp.Mul(sp.Pow(P, -1, evaluate=False), T, evaluate=False), {**pv, T: shown_number(expected)},
              expected / p,
              "Inverted dropout multiplies by 1/p while training: the expected training total is the "
              "unscaled total S, so test time needs no scaling."),
    )

    a = derivation.symbol("a", "a", "a", real=True)
    m = stats.Bernoulli("m", P)
    e_std = stats.E(m * a)
    e_inv = stats.E(m * a / P)
    Estd = derivation.symbol("E_std", r"\mathrm{E}[m \cdot a]", "E[m·a]")
    Einv = derivation.symbol("E_inv", r"\mathrm{E}\left[\frac{m \cdot a}{p}\right]", "E[m·a/p]")
    Yst = derivation.symbol("y_std", r"y_{\mathrm{test}}^{\mathrm{std}}", "y_test(standard)")
    Yin = derivation.symbol("y_inv", r"y_{\mathrm{test}}^{\mathrm{inv}}", "y_test(inverted)")
    zero = sp.Mul(1 - P, 0, evaluate=False)
    d_std = sp.simplify(e_std - P * a)
    d_inv = sp.simplify(e_inv - a)
    proof = (
        Remark((a, " = the activation of one unit, and m ~ Bernoulli(p) its mask: m = 1 (kept) with probability "
                "p, m = 0 (dropped) with probability 1 - p. The expectations below are sympy.stats's.",)),
        Step(Estd, sp.Add(P * a, zero, evaluate=False), None, e_std, None,
             ("Standard dropout: the training output is m·a.",)),
        Step(Yst, P * a, None, P * a, None, ("Its test output: a scaled by p.",)),
        Step(Estd - Yst, None, None, d_std, None,
             ("for every a and p: the expected training activation is the test activation.",)),
        Step(Einv, sp.Add(sp.Mul(P, a / P, evaluate=False), zero, evaluate=False), None, e_inv, None,
             ("Inverted dropout: the training output is m·a/p.",)),
        Step(Yin, a, None, a, None, ("Its test output: a, unscaled.",)),
        Step(Einv - Yin, None, None, d_inv, None,
             ("for every a and p: again the expected training activation is the test activation.",)),
    )
    if d_std != 0 or d_inv != 0:  # pragma: no cover - sympy.stats would have to be wrong
        raise AssertionError("dropout: the expectations do not match the test activations")
    return derivation.solution(
        "dropout", Title("Dropout with keep probability ", Maths(f"p = {latex(p, {})}", f"p = {p}")),
        (Section(SectionKind.GIVEN, "Given", given),
         Section(SectionKind.TOTALS, "The totals: standard against inverted dropout", totals),
         Section(SectionKind.PROOF, "Expected training activation = test activation", proof)),
        dict(p=p, outputs=outputs),
        {"total": shown_number(total), "expected_training_total": shown_number(expected),
         "standard_test_total": shown_number(expected), "inverted_training_total": shown_number(expected / p)})


# ------------------------------------------------------------------------------------ KL divergence

def _check_distribution(name: str, values: list) -> None:
    for i, v in enumerate(values, 1):
        if v < 0:
            raise ParameterError(f"kl-divergence: {name}: expected non-negative probabilities, "
                                 f"got {v} at entry {i}")
    total = sp.Add(*values)
    if total != 1:
        raise ParameterError(f"kl-divergence: {name}: expected probabilities summing to exactly 1, "
                             f"got a sum of {total}")


def _kl(first: str, second: str, xs: list, ys: list, term: str, derivation: Derivation,
        entries: dict[str, tuple[list, dict]]) -> tuple[list, sp.Expr, sp.Symbol]:
    """The steps of D_KL(first || second) = sum of x ln(x/y), and its exact value; ``entries``
    holds each distribution's symbols and their shown values (made once, in the Given section)."""
    (X, xvals), (Y, yvals) = entries[first], entries[second]
    steps, terms, exacts = [], [], []
    for i, (x, y, xv, yv) in enumerate(zip(X, Y, xs, ys), 1):
        t = derivation.symbol(f"{term}{i}", f"{term}_{{{i}}}", f"{term}{i}")
        terms.append(t)
        formula = x * sp.log(x / y)
        values = {x: xvals[x], y: yvals[y]}
        if xv == 0:
            exacts.append(sp.Integer(0))
            steps.append(derivation.step(t, formula, None, sp.Integer(0),
                               f"{first.lower()}{i} = 0: the term is 0 (x ln x tends to 0 as x tends to 0)."))
        elif yv == 0:
            exacts.append(sp.oo)
            steps.append(derivation.step(t, formula, values, sp.oo,
                               f"{second.lower()}{i} = 0 where {first.lower()}{i} > 0: the term is +∞ "
                               f"({first} puts mass where {second} puts none)."))
        else:
            value = xv * sp.log(xv / yv)
            exacts.append(value)
            steps.append(derivation.step(t, formula, values, value))
    total = sp.Add(*exacts)
    D = derivation.symbol(f"D_{first}{second}", rf"D_{{\mathrm{{KL}}}}({first} \| {second})", f"D_KL({first}‖{second})")
    note = ("Infinite: some term is +∞.",) if total == sp.oo else ("In nats (natural logarithms).",)
    values = {t: shown_number(e) for t, e in zip(terms, exacts)}
    steps.append(derivation.step(D, written_sum(terms), values, total, *note))
    return steps, total, D


@register("kl-divergence",
          Param("P", [sp.Rational(9, 25), sp.Rational(12, 25), sp.Rational(4, 25)],
                "a probability vector (default Binomial(2, 0.4))", kind="array", shape=(None,)),
          Param("Q", [sp.Rational(1, 3)] * 3, "a probability vector of the same length (default uniform)",
                kind="array", shape=(None,)),
          exercise=Setup({"P": "normalized(int(1..6))", "Q": "normalized(int(1..6))"},
                           ("D_KL(P‖Q)", "D_KL(Q‖P)"), places=6),
          examples=({'P': '[0.5, 0.5]', 'Q': '[0.9, 0.1]'}, {'P': '[0.2, 0.3, 0.5]', 'Q': '[1/3, 1/3, 1/3]'}))
def kl_divergence(P, Q) -> Solution:
    if len(P) != len(Q):
        raise ParameterError(f"kl-divergence: P and Q: expected the same length, got {len(P)} and {len(Q)}")
    _check_distribution("P", P)
    _check_distribution("Q", Q)
    derivation = Derivation()
    entries = {"P": derivation.entries("p", "p", P), "Q": derivation.entries("q", "q", Q)}
    given = Section(SectionKind.GIVEN, "Given", tuple(derivation.step(sym, None, None, value) for name, values in
                                            (("P", P), ("Q", Q)) for sym, value in zip(entries[name][0], values)))
    pq_steps, pq, Dpq = _kl("P", "Q", P, Q, "t", derivation, entries)
    qp_steps, qp, Dqp = _kl("Q", "P", Q, P, "u", derivation, entries)
    pq_s, qp_s = shown_number(pq), shown_number(qp)
    if pq == sp.oo and qp == sp.oo:
        note = ("Both directions are infinite here (each puts mass where the other puts none); "
                "in general KL is not symmetric.",)
    elif pq == sp.oo or qp == sp.oo:
        note = (Dpq, " and ", Dqp, " differ (one is infinite, the other not): KL is not symmetric.")
    elif abs(pq_s.approx - qp_s.approx) > mpmath.mpf(10) ** -40 or \
            sp.expand_log(pq - qp, force=True) != 0:
        note = (Dpq, f" ≈ {mpmath.nstr(pq_s.approx, 4)} and ", Dqp, f" ≈ {mpmath.nstr(qp_s.approx, 4)} differ: "
                "KL is not symmetric (it is not a distance).")
    else:
        note = (Dpq, " = ", Dqp, " here" + (" (P = Q, both 0)" if P == Q else "") +
                ", but in general KL is not symmetric.",)
    return derivation.solution(
        "kl-divergence", Title("The Kullback-Leibler divergence of ", Maths("P", "P"), " and ", Maths("Q", "Q")),
        (given, Section(SectionKind.FORWARD, Title(Maths.of(Dpq, derivation.names), ": the sum of ",
                                         Maths(r"p \cdot \log\left(\frac{p}{q}\right)", "p·log(p/q)")), tuple(pq_steps)),
         Section(SectionKind.REVERSE, Title(Maths.of(Dqp, derivation.names), ": the sum of ",
                                  Maths(r"q \cdot \log\left(\frac{q}{p}\right)", "q·log(q/p)")), tuple(qp_steps)),
         Section(SectionKind.REMARKS, "Remarks", (Remark(note),))),
        dict(P=P, Q=Q), {"D_KL(P||Q)": pq_s, "D_KL(Q||P)": qp_s})


# ------------------------------------------------------------------------------ maximum likelihood

_DATA = {"bernoulli": [1, 0, 1, 1, 0, 1, 1, 1], "gaussian": [2, 3, 5, 6]}


@register("mle",
          Param("family", "bernoulli", "the model of the data", kind="choice", choices=("bernoulli", "gaussian")),
          Param("data", None, "the sample (default: 1,0,1,1,0,1,1,1 for bernoulli; 2,3,5,6 for gaussian)",
                kind="array", shape=(None,)),
          alternatives=(("a Gaussian model of 2, 3, 5, 6: the mean and the variance", {"family": "gaussian"}),),
          exercise=Setup({"family": "bernoulli", "data": "int(0..1)[8]"}, ("θ̂", "L(θ̂)"), places=3, forward_gives_answer=True,
                         draw_size=400),
          examples=({'family': 'gaussian'}, {'family': 'bernoulli', 'data': '[1, 1, 0]'}))
def mle(family, data) -> Solution:
    if data is None:
        data = [sp.Integer(x) for x in _DATA[family]]
    derivation = Derivation()
    N = derivation.symbol("n", "n", "n", positive=True, integer=True)
    X, xvals = derivation.entries("x", "x", data)
    if family == "bernoulli":
        bad = next((i for i, x in enumerate(data, 1) if x not in (0, 1)), None)
        if bad is not None:
            raise ParameterError(f"mle: data: Bernoulli data must be 0 or 1, got {data[bad - 1]} at entry {bad}")
        sections, results = _bernoulli(data, N, X, xvals, derivation)
    else:
        if len(data) < 2 or all(x == data[0] for x in data):
            raise ParameterError("mle: data: Gaussian data needs at least 2 values, not all equal "
                                 f"(got {len(data)} value{'s' if len(data) > 1 else ''}"
                                 f"{', all equal' if len(data) > 1 else ''})")
        sections, results = _gaussian(data, N, X, xvals, derivation)
    return derivation.solution("mle", f"Maximum likelihood: a {family.capitalize()} model of {len(data)} values",
                               tuple(sections), dict(family=family, data=data), results)


def _data_steps(X: list, xvals: dict, derivation: Derivation) -> list[Step]:
    """x1 = ..., x2 = ...: the data, a step each (at most SHOW_TERMS of them written out)."""
    return [derivation.step(xi, None, None, xvals[xi].exact) for xi in X[:SHOW_TERMS]]


def _bernoulli(data, N, X, xvals, derivation):
    n, k = len(data), sp.Add(*data)
    K = derivation.symbol("k", "k", "k", nonnegative=True, integer=True)
    th = derivation.symbol("theta", r"\theta", "θ", positive=True)
    x = derivation.symbol("x", "x", "x", real=True)
    L, dL, d2L, hat, Lhat = (derivation.symbol(*spec) for spec in (
        ("L", r"L(\theta)", "L(θ)"), ("dL", r"\frac{dL}{d\theta}", "dL/dθ"),
        ("d2L", r"\frac{d^{2}L}{d\theta^{2}}", "d²L/dθ²"), ("theta_hat", r"\hat{\theta}", "θ̂"),
        ("L_hat", r"L(\hat{\theta})", "L(θ̂)")))
    nk = {N: shown_number(sp.Integer(n)), K: shown_number(k)}

    general = -K * sp.log(th) - (N - K) * sp.log(1 - th)
    nll = general.subs({N: n, K: k})
    d_general = sp.diff(general, th)
    d_nll = sp.diff(nll, th)
    dd_general = sp.simplify(sp.diff(general, th, 2))  # small: simplify only tidies its display
    given = (
        Remark((th, " = the probability of a 1: unknown, estimated below",)),
        Remark((x, " = one value of the data, 0 or 1, drawn from Bernoulli(", th, "): p(x) = ",
                th ** x * (1 - th) ** (1 - x), ".")),
        *_data_steps(X, xvals, derivation),
        Step(N, exact=sp.Integer(n), note=("values",)),
        derivation.sum_step(K, X, xvals, k, "the number of ones."),
    )
    steps = [
        derivation.step(L, general, nk, nll, "The negative log-likelihood: the sum over the data of ",
              -(x * sp.log(th) + (1 - x) * sp.log(1 - th)), ", with k ones among n values."),
        derivation.step(dL, d_general, nk, d_nll),
    ]
    general_roots = sp.solve(d_general, th)
    roots = [r for r in sp.solve(d_nll, th) if 0 < r < 1]
    theta = roots[0] if roots else k / n
    if roots:
        dd = dd_general.subs({N: n, K: k, th: theta})
        steps += [
            derivation.step(hat, general_roots[0], nk, roots[0],
                  "The root of ", dL, " = 0 found by sympy.solve: the sample mean, the fraction of ones."),
            derivation.step(d2L, dd_general, {**nk, th: shown_number(theta)}, dd,
                  "at ", th, " = ", hat, ": positive, so ", hat, " is a minimum of L (L is convex on (0, 1))."),
        ]
        value = -k * sp.log(theta) - (n - k) * sp.log(1 - theta)
    else:
        side = "increasing" if k == 0 else "decreasing"
        steps.append(derivation.step(hat, K / N, nk, theta,
                           "sympy.solve finds no root of ", dL, f" = 0 in (0, 1): every value is {int(k != 0)}, "
                           f"so L is {side} on (0, 1) and its minimum is at the boundary ", th, f" = {theta}",
                           ", the sample mean."))
        value = sp.Integer(0)
    steps.append(derivation.step(Lhat, general, {**nk, th: shown_number(theta)}, value,
                       "The minimum of the NLL on the data" + ("" if roots else " (0 ln 0 = 0)") + "."))
    remark = Remark(("Minimizing L is minimizing the average NLL L/n, the empirical expectation of -log p(x): "
                     "the same ", hat, ".",))
    sections = [Section(SectionKind.GIVEN, "The data", given), Section(SectionKind.FORWARD, "The negative log-likelihood", tuple(steps)),
                Section(SectionKind.REMARKS, "Remarks", (remark,))]
    return sections, {"theta": shown_number(theta), "nll": shown_number(value)}


def _gaussian(data, N, X, xvals, derivation):
    n = len(data)
    s1, s2 = sp.Add(*data), sp.Add(*(x ** 2 for x in data))
    S1 = derivation.symbol("s1", r"s_{1}", "s1", real=True)
    S2 = derivation.symbol("s2", r"s_{2}", "s2", nonnegative=True)
    mu = derivation.symbol("mu", r"\mu", "μ", real=True)
    v = derivation.symbol("v", r"\sigma^{2}", "σ²", positive=True)
    x = derivation.symbol("x", "x", "x", real=True)
    L, Lm, Lv, Lmm, Lmv, Lvv = (derivation.symbol(*spec) for spec in (
        ("L", r"L(\mu, \sigma^{2})", "L(μ, σ²)"), ("L_mu", r"\frac{\partial L}{\partial \mu}", "∂L/∂μ"),
        ("L_v", r"\frac{\partial L}{\partial \sigma^{2}}", "∂L/∂σ²"),
        ("L_mumu", r"\frac{\partial^{2} L}{\partial \mu^{2}}", "∂²L/∂μ²"),
        ("L_muv", r"\frac{\partial^{2} L}{\partial \mu \, \partial \sigma^{2}}", "∂²L/∂μ∂σ²"),
        ("L_vv", r"\frac{\partial^{2} L}{\partial (\sigma^{2})^{2}}", "∂²L/∂(σ²)²")))
    H = [derivation.symbol(f"H{ij}", f"H_{{{ij}}}", f"H{ij}") for ij in ("11", "12", "22")]
    det = derivation.symbol("det_H", r"\det H", "det H")
    mhat = derivation.symbol("mu_hat", r"\hat{\mu}", "μ̂")
    vhat = derivation.symbol("v_hat", r"\hat{\sigma}^{2}", "σ̂²")
    Lhat = derivation.symbol("L_hat", r"L(\hat{\mu}, \hat{\sigma}^{2})", "L(μ̂, σ̂²)")
    sums = {N: shown_number(sp.Integer(n)), S1: shown_number(s1), S2: shown_number(s2)}

    given = (
        Remark((mu, " and ", v, ": the mean and the variance, unknown, estimated below",)),
        Remark((x, " = one value of the data, drawn from N(", mu, ", ", v, "): p(x) = ",
                sp.Mul(sp.exp(-(x - mu) ** 2 / (2 * v)),
                       sp.Pow(sp.Pow(sp.Mul(2, sp.pi, v, evaluate=False), sp.S.Half, evaluate=False), -1,
                              evaluate=False), evaluate=False), ".")),
        *_data_steps(X, xvals, derivation),
        Step(N, exact=sp.Integer(n), note=("values",)),
        derivation.sum_step(S1, X, xvals, s1, "the sum of the data."),
        derivation.sum_step(S2, [x ** 2 for x in X], xvals, s2, "the sum of squares."),
    )
    squares = S2 - 2 * mu * S1 + N * mu ** 2
    general = N / 2 * sp.log(2 * sp.pi * v) + squares / (2 * v)
    at = {N: n, S1: s1, S2: s2}
    nll = general.subs(at)
    gm, gv = (sp.simplify(sp.diff(general, w)) for w in (mu, v))  # small: simplify only tidies the display
    dm, dv = gm.subs(at), gv.subs(at)
    steps = [
        derivation.step(L, general, sums, nll, "The negative log-likelihood, with the sum of (x_i - ", mu, ")^2 written as ",
              squares, "."),
        derivation.step(Lm, gm, sums, dm),
        derivation.step(Lv, gv, sums, dv),
    ]
    general_sol = sp.solve([gm, gv], [mu, v], dict=True)
    sol = sp.solve([dm, dv], [mu, v], dict=True)
    m_, v_ = sol[0][mu], sol[0][v]  # the one stationary point (data not all equal: v > 0)
    g_mu, g_v = general_sol[0][mu], general_sol[0][v]
    steps += [
        derivation.step(mhat, g_mu, sums, m_, "sympy.solve of ", Lm, " = 0 and ", Lv, " = 0: the sample mean."),
        derivation.step(vhat, g_v, sums, v_, "the biased sample variance: the mean of (x_i - ", mhat,
              ")^2, dividing by n, not n - 1."),
    ]
    point = {**at, mu: m_, v: v_}
    shown_point = {**sums, mu: shown_number(m_), v: shown_number(v_)}
    second = ((H[0], Lmm, (mu, mu)), (H[1], Lmv, (mu, v)), (H[2], Lvv, (v, v)))
    h = {}
    for sym, name, wrt in second:
        expr = sp.simplify(sp.diff(general, *wrt))
        h[sym] = expr.subs(point)
        steps.append(derivation.step(sym, expr, shown_point, h[sym], f"the second derivative {derivation.names[name].text} at (", mhat, ", ",
                           vhat, ")."))
    d = h[H[0]] * h[H[2]] - h[H[1]] ** 2
    steps.append(derivation.step(det, sp.Add(H[0] * H[2], -H[1] ** 2, evaluate=False), {s: shown_number(h[s]) for s in H}, d,
                       "Both leading minors of the Hessian H are positive (", H[0], " > 0 and det H > 0): H is "
                       "positive-definite, so (", mhat, ", ", vhat, ") is a minimum."))
    value = nll.subs({mu: m_, v: v_})
    steps.append(derivation.step(Lhat, general, shown_point, value, "The minimum of the NLL on the data: ",
                       N / 2 * sp.log(2 * sp.pi * vhat) + N / 2, "."))
    remark = Remark(("Minimizing L is minimizing the average NLL L/n, the empirical expectation of -log p(x): "
                     "the same estimates.",))
    sections = [Section(SectionKind.GIVEN, "The data", given), Section(SectionKind.FORWARD, "The negative log-likelihood", tuple(steps)),
                Section(SectionKind.REMARKS, "Remarks", (remark,))]
    return sections, {"mu": shown_number(m_), "variance": shown_number(v_), "nll": shown_number(value)}
