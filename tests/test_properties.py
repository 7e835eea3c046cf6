"""Property tests: symderiv's gradients against references computed here, on random inputs.

Random small graphs are drawn as *programs*: a list of (gate, operand, operand) steps over the
inputs x, y, z and the earlier steps. Every gate below is written twice, once as symderiv graph
calls and once as an mpmath function, so a program can be both built as a Graph and evaluated
independently. The references are:

* ``sympy.diff`` of the graph's composed forward expression, evaluated at the point;
* central finite differences at 50 digits of the mpmath forward written here.

Inputs are small rationals (Fractions of bounded ints). A drawn point is rejected when it lies
within 1e-6 of a kink (ReLU, |.|, max, min) or when a value gets large, judged by the mpmath
forward written here, not by symderiv.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction as F

import mpmath
import pytest
import sympy as sp
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

import symderiv

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DPS = 50
FD_STEP = mpmath.mpf(10) ** -15
FD_REL = mpmath.mpf(10) ** -20
NUM_REL = mpmath.mpf(10) ** -40
KINK_GAP = mpmath.mpf(10) ** -6
BIG = 1e4
INPUTS = ("x", "y", "z")


# ----- the gate table of this test ----------------------------------------------------------------
@dataclass(frozen=True)
class Gate:
    """A gate as symderiv calls (``build(g, *nodes)``) and as mpmath (``mp(*values)``).

    ``kink(*values)``: the quantity that is zero where the gate is not differentiable.
    ``rational``: the gate maps rationals to rationals (its gradient at a rational point is rational).
    """

    arity: int
    build: Callable
    mp: Callable
    kink: Callable | None = None
    rational: bool = False


GATES: dict[str, Gate] = {
    # rational gates
    "add": Gate(2, lambda g, a, b: g.add(a, b), lambda a, b: a + b, rational=True),
    "sub": Gate(2, lambda g, a, b: g.sub(a, b), lambda a, b: a - b, rational=True),
    "mul": Gate(2, lambda g, a, b: g.mul(a, b), lambda a, b: a * b, rational=True),
    "add3": Gate(2, lambda g, a, b: g.add(a, b, 3), lambda a, b: a + b + 3, rational=True),
    "neg": Gate(1, lambda g, a: g.neg(a), lambda a: -a, rational=True),
    "square": Gate(1, lambda g, a: g.pow(a, 2), lambda a: a ** 2, rational=True),
    "cube_op": Gate(1, lambda g, a: a ** 3 - a / 2, lambda a: a ** 3 - a / 2, rational=True),
    "div_safe": Gate(2, lambda g, a, b: g.div(a, g.add(1, g.mul(b, b))), lambda a, b: a / (1 + b * b),
                     rational=True),
    "recip_safe": Gate(1, lambda g, a: g.recip(g.add(g.mul(a, a), F(1, 2))), lambda a: 1 / (a * a + mpmath.mpf(1) / 2),
                       rational=True),
    "linear": Gate(2, lambda g, a, b: g.linear((a, b), (F(-2, 3), a), bias=F(1, 4)),
                   lambda a, b: a * b - 2 * a / 3 + mpmath.mpf(1) / 4, rational=True),
    # transcendental, smooth
    "exp": Gate(1, lambda g, a: g.exp(a), mpmath.exp),
    "tanh": Gate(1, lambda g, a: g.tanh(a), mpmath.tanh),
    "sigmoid": Gate(1, lambda g, a: g.sigmoid(a), lambda a: 1 / (1 + mpmath.exp(-a))),
    "log_safe": Gate(1, lambda g, a: g.log(g.add(1, g.mul(a, a))), lambda a: mpmath.log(1 + a * a)),
    "pow_pos": Gate(2, lambda g, a, b: g.pow(g.add(2, g.tanh(a)), b), lambda a, b: (2 + mpmath.tanh(a)) ** b),
    "define": Gate(2, lambda g, a, b: g.define(None, sp.sin(a.symbol) * b.symbol + sp.cos(b.symbol)),
                   lambda a, b: mpmath.sin(a) * b + mpmath.cos(b)),
    # kinked (points near the kink are rejected)
    "relu": Gate(1, lambda g, a: g.relu(a), lambda a: max(a, 0), kink=lambda a: a, rational=True),
    "abs": Gate(1, lambda g, a: g.abs(a), abs, kink=lambda a: a, rational=True),
    "max": Gate(2, lambda g, a, b: g.max(a, b), max, kink=lambda a, b: a - b, rational=True),
    "min": Gate(2, lambda g, a, b: g.min(a, b), min, kink=lambda a, b: a - b, rational=True),
}
SMOOTH = [name for name, gate in GATES.items() if gate.kink is None]
RATIONAL = [name for name, gate in GATES.items() if gate.rational]
ALL = list(GATES)


# ----- strategies ------------------------------------------------------------------------------
def rationals(bound=12, den=6):
    """Small rationals n/d with |n| <= bound, 1 <= d <= den."""
    return st.builds(F, st.integers(-bound, bound), st.integers(1, den))


def programs(gates, max_steps=5):
    """Lists of (gate, operand index, operand index); the indices are taken modulo the pool size."""
    step = st.tuples(st.sampled_from(gates), st.integers(0, 63), st.integers(0, 63))
    return st.lists(step, min_size=1, max_size=max_steps)


points = st.tuples(rationals(), rationals(), rationals())


# ----- running a program -----------------------------------------------------------------------
def operands(pool, gate, i, j):
    return [pool[i % len(pool)], pool[j % len(pool)]][: gate.arity]


def build(program, point):
    """The program as a symderiv Graph at ``point``: (graph, input nodes, output node)."""
    g = symderiv.Graph()
    inputs = [g.input(name, v) for name, v in zip(INPUTS, point)]
    pool = list(inputs)
    for op, i, j in program:
        gate = GATES[op]
        pool.append(gate.build(g, *operands(pool, gate, i, j)))
    return g, inputs, pool[-1]


def mp_forward(program, values, check=False):
    """The program's output evaluated with mpmath. With ``check``, reject (hypothesis ``assume``)
    points near a kink or with large intermediate values."""
    pool = [mpmath.mpf(v) if not isinstance(v, F) else mpmath.mpf(v.numerator) / v.denominator
            for v in values]
    for op, i, j in program:
        gate = GATES[op]
        args = operands(pool, gate, i, j)
        if check and gate.kink is not None:
            assume(abs(gate.kink(*args)) > KINK_GAP)
        pool.append(gate.mp(*args))
        if check:
            assume(abs(pool[-1]) < BIG)
    return pool[-1]


def central_difference(fn, values, k):
    """d fn / d values[k] by the central difference (f(v + h) − f(v − h)) / 2h at 50 digits."""
    with mpmath.workdps(DPS):
        v = [mpmath.mpf(a.numerator) / a.denominator if isinstance(a, F) else mpmath.mpf(a) for a in values]
        up, down = list(v), list(v)
        up[k] += FD_STEP
        down[k] -= FD_STEP
        return (fn(up) - fn(down)) / (2 * FD_STEP)


def assert_fd_close(got, fd, what):
    """Within 1e-20 relative of the finite difference (1e-25 absolute for a vanishing gradient)."""
    with mpmath.workdps(DPS):
        tol = max(FD_REL * abs(fd), mpmath.mpf(10) ** -25)
        assert abs(to_mp(got) - fd) <= tol, f"{what}: engine {got}, finite difference {fd}"


def at_point(point):
    """The substitution input symbol -> exact rational (the graph's input symbols are real)."""
    return {sp.Symbol(n, real=True): sp.Rational(v.numerator, v.denominator) for n, v in zip(INPUTS, point)}


def sympy_gradient(g, out, point):
    """{input: sympy.diff of the composed forward, at the point} — computed with SymPy only."""
    expr = g.composed(out)
    subs = at_point(point)
    return {s.name: sp.diff(expr, s).xreplace(subs) for s in subs}


def unfold_gradient(bw, node):
    """The exact gradient ``bw.grads[node]`` with every let-bound name it uses (node values, local
    derivatives, other nodes' gradients) replaced by its value, until only numbers remain."""
    defs = {n.symbol: n.value for n in node.graph.nodes if n.op is not None}
    defs.update({loc.symbol: loc.value for loc in bw.locals.values()})
    defs.update({bw.symbols[n]: g for n, g in bw.grads.items()})
    expr = bw.grads[node]
    for _ in range(4 * len(defs) + 1):
        if not expr.free_symbols:
            return expr
        expr = expr.xreplace(defs)
    raise AssertionError(f"{node.name}: the names in {bw.grads[node]} do not unfold to a number")


def to_mp(value):
    """An mpmath number at 50 digits from an mpf or a real SymPy number (without a trip through float)."""
    with mpmath.workdps(DPS + 10):
        if isinstance(value, sp.Basic):
            n = sp.N(value, DPS + 10)
            assert n.is_real, f"{value} is not a real number"
            return mpmath.mpf(sp.Float(n, DPS + 10)._mpf_)
        return mpmath.mpf(value)


def close_40(a, b):
    """|a − b| within 1e-40 relative (or absolute, near zero), evaluating SymPy values at 50 digits."""
    with mpmath.workdps(DPS):
        a, b = to_mp(a), to_mp(b)
        return abs(a - b) <= NUM_REL * max(abs(b), 1)


# ----- (1) engine gradients = sympy.diff of the composed expression ------------------------------
@SETTINGS
@given(program=programs(ALL), point=points)
def test_gradients_equal_sympy_diff(program, point):
    """Exact and float gradients of a random graph equal sympy.diff(g.composed(out), x) at the point."""
    mp_forward(program, point, check=True)
    g, inputs, out = build(program, point)
    bw = g.backward(out)
    expected = sympy_gradient(g, out, point)
    for node in inputs:
        want = expected[node.name]
        if node not in bw.grads:  # the output does not depend on this input
            assert want == 0, node.name
            continue
        assert close_40(bw.approx[node], want), (node.name, bw.approx[node], sp.N(want, 30))
        assert close_40(unfold_gradient(bw, node), want), (node.name, bw.grads[node])


@SETTINGS
@given(program=programs(RATIONAL), point=points)
def test_rational_graph_gradients_are_exact(program, point):
    """For graphs of rational gates, g.gradients() is the exact rational sympy.diff gives."""
    mp_forward(program, point, check=True)
    g, inputs, out = build(program, point)
    bw = g.backward(out)
    assert g.gradients(out) == {n.name: bw.grads[n] for n in inputs if n in bw.grads}
    expected = sympy_gradient(g, out, point)
    for node in inputs:
        want = expected[node.name]
        assert want.is_Rational
        got = unfold_gradient(bw, node) if node in bw.grads else sp.Integer(0)
        assert got == want, (node.name, bw.grads.get(node), want)


@SETTINGS
@given(program=programs(ALL), point=points)
def test_gradients_do_not_depend_on_convention_away_from_kinks(program, point):
    """Away from every kink the three conventions give identical exact gradients."""
    mp_forward(program, point, check=True)
    g, _, out = build(program, point)
    first = g.gradients(out, convention="pytorch")
    for convention in ("tensorflow", "half"):
        assert g.gradients(out, convention=convention) == first


# ----- (2) closed_form = sympy.diff of the composed expression, symbolically ----------------------
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(program=programs(SMOOTH, max_steps=3), point=points)
def test_closed_form_equals_sympy_diff(program, point):
    """g.closed_form(out) is sympy.diff(g.composed(out), x) as a function: their difference is 0
    symbolically where SymPy can show it (expand), else at the point and at two other points."""
    g, _, out = build(program, point)
    composed = g.composed(out)
    closed = g.closed_form(out)
    others = [tuple(v + F(k, 7) for v in point) for k in (1, 2)]
    for name in INPUTS:
        sym = sp.Symbol(name, real=True)
        diff = sp.diff(composed, sym) - closed.get(name, sp.Integer(0))
        if diff == 0 or sp.expand(diff) == 0:
            continue
        checked = 0
        for pt in (point, *others):
            value = sp.N(diff.xreplace(at_point(pt)), 50)
            if value.is_real and value.is_finite:  # points outside a log's or a power's domain are skipped
                assert abs(value) < sp.Float("1e-35"), (name, pt, closed.get(name))
                checked += 1
        assert checked, (name, "no point of the domain to compare at")


@SETTINGS
@given(program=programs(ALL), point=points)
def test_closed_form_at_the_point_equals_sympy_diff(program, point):
    """The closed form evaluated at the point equals sympy.diff at the point (kinked graphs too)."""
    mp_forward(program, point, check=True)
    g, inputs, out = build(program, point)
    closed = g.closed_form(out)
    expected = sympy_gradient(g, out, point)
    subs = at_point(point)
    for node in inputs:
        value = closed.get(node.name, sp.Integer(0)).xreplace(subs)
        assert close_40(value, expected[node.name]), (node.name, closed.get(node.name))


# ----- the worked solution: one name, one value ---------------------------------------------------
@SETTINGS
@given(program=programs(ALL), point=points)
@example(program=[("add", 0, 0), ("add", 0, 3)], point=(F(0), F(0), F(0)))  # f2 = x + (x + x)
def test_each_name_in_the_worked_solution_has_one_value(program, point):
    """A name written in the local-derivative or backward section (as text, and as LaTeX) stands
    for one value: the local derivative ∂out/∂n of the output gate and the gradient of n, which
    differ when n also reaches the output another way, must not be written alike."""
    mp_forward(program, point, check=True)
    g, _, out = build(program, point)
    sol = g.solution(out)
    for style in ("text", "latex"):
        seen = {}
        for section in sol.sections:
            if section.kind not in ("local", "backward"):
                continue
            for step in section.items:
                if getattr(step, "lhs", None) is None or step.approx is None:
                    continue
                written = getattr(sol.names[step.lhs], style)
                if written in seen:
                    kind, value = seen[written]
                    assert close_40(step.approx, value), (
                        f"{written} is {mpmath.nstr(value, 8)} in the {kind} section and "
                        f"{mpmath.nstr(step.approx, 8)} in the {section.kind} section")
                else:
                    seen[written] = (section.kind, step.approx)


# ----- (3) gradients = central finite differences of a forward written here ----------------------
@SETTINGS
@given(program=programs(ALL), point=points)
def test_gradients_equal_finite_differences(program, point):
    """Each input's gradient agrees with a 50-digit central difference of the mpmath forward."""
    mp_forward(program, point, check=True)
    g, inputs, out = build(program, point)
    bw = g.backward(out)
    for k, node in enumerate(inputs):
        fd = central_difference(lambda v: mp_forward(program, v), point, k)
        assert_fd_close(bw.approx.get(node, 0), fd, node.name)


# ----- (4) catalogue models against finite differences of their formulas --------------------------
NEURON_PARAMS = ("w0", "x0", "w1", "x1", "w2")


def neuron(v):
    """f = 1/(1 + exp(-(w0 x0 + w1 x1 + w2)))."""
    w0, x0, w1, x1, w2 = v
    return 1 / (1 + mpmath.exp(-(w0 * x0 + w1 * x1 + w2)))


@SETTINGS
@given(params=st.tuples(*[rationals()] * 5), staging=st.sampled_from(["gates", "sum3", "sigmoid"]))
def test_sigmoid_neuron_equals_finite_differences(params, staging):
    """solve('sigmoid-neuron') gradients agree with central differences of the neuron's formula."""
    sol = symderiv.solve("sigmoid-neuron", staging=staging, **dict(zip(NEURON_PARAMS, params)))
    assert set(sol.results) == set(NEURON_PARAMS)
    for k, name in enumerate(NEURON_PARAMS):
        fd = central_difference(neuron, params, k)
        assert_fd_close(sol.results[name].approx, fd, name)
        exact = sol.results[name].exact
        if not exact.free_symbols:
            assert_fd_close(to_mp(exact), fd, f"{name} (exact)")


def chain_loss(y):
    """L = ½(a_n − y)², a_k = σ(w_k a_{k−1}), a_0 = v[0], weights v[1:]."""
    def loss(v):
        a = v[0]
        for w in v[1:]:
            a = 1 / (1 + mpmath.exp(-w * a))
        return (a - (mpmath.mpf(y.numerator) / y.denominator)) ** 2 / 2
    return loss


@SETTINGS
@given(x=rationals(), y=rationals(), ws=st.lists(rationals(bound=8, den=4), min_size=1, max_size=8))
def test_sigmoid_chain_equals_finite_differences(x, y, ws):
    """solve('sigmoid-chain') with a list of weights agrees with central differences of the chain."""
    sol = symderiv.solve("sigmoid-chain", x=x, w=ws, y=y)
    names = ["x"] + [f"w{k}" for k in range(1, len(ws) + 1)]
    assert set(sol.results) == set(names)
    for k, name in enumerate(names):
        fd = central_difference(chain_loss(y), [x, *ws], k)
        assert_fd_close(sol.results[name].approx, fd, name)


@pytest.mark.parametrize("convention", ["pytorch", "tensorflow", "half"])
@SETTINGS
@given(point=st.tuples(*[rationals()] * 4))
def test_max_gate_equals_finite_differences(point, convention):
    """solve('max-gate') away from a tie agrees with central differences of 2(xy + max(z, w))."""
    x, y, z, w = point
    assume(z != w)
    sol = symderiv.solve("max-gate", x=x, y=y, z=z, w=w, convention=convention)
    for k, name in enumerate("xyzw"):
        fd = central_difference(lambda v: 2 * (v[0] * v[1] + max(v[2], v[3])), point, k)
        assert_fd_close(sol.results[name].approx, fd, name)
