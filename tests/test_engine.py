"""The engine: let-bound values, linear cost structure, conventions, data nodes, errors."""

import mpmath
import pytest
import sympy as sp

import symderiv
from symderiv.engine import SHORT, expr_size as _size


def test_users_graph_gives_the_notes_first_example():
    g = symderiv.Graph()
    x, y, z = g.input("x", -2), g.input("y", 5), g.input("z", -4)
    f = (x + y) * z  # operators record gates, as micrograd's Value does
    assert g.gradients(f) == {"x": -4, "y": -4, "z": 3}
    X, Y, Z = x.symbol, y.symbol, z.symbol
    assert g.composed(f) == (X + Y) * Z
    assert g.closed_form(f) == {"x": Z, "y": Z, "z": X + Y}
    sol = g.solution(f)
    assert isinstance(sol, symderiv.Solution) and sol.results["z"].exact == 3


def test_reused_value_gathers_gradient_from_each_consumer():
    # f = x*x + 3x at x = 2: df/dx = 2x + 3 = 7, shown as a sum of two contributions
    g = symderiv.Graph()
    x = g.input("x", 2)
    f = g.add(g.mul(x, x), g.mul(3, x), name="f")
    assert g.gradients(f) == {"x": 7}
    text = g.solution(f).to_text()
    assert "x feeds 2 gates" in text


def test_exact_values_stay_small_in_a_deep_chain():
    # let-bound: no value or gradient grows with depth
    sol = symderiv.solve("sigmoid-chain", depth=60)
    for section in sol.sections[:4]:
        for step in section.items:
            if getattr(step, "exact", None) is not None:
                assert _size(step.exact, 200) < 120


def test_floats_agree_with_mpmath_node_by_node_at_depth_60():
    # an independent forward/backward pass in mpmath at 50 digits
    mpmath.mp.dps = 50
    n, w = 60, mpmath.mpf(1) / 2
    a = [mpmath.mpf(1)]
    for _ in range(n):
        a.append(1 / (1 + mpmath.exp(-w * a[-1])))
    g = a[-1] - 1
    grads = {}
    for k in range(n, 0, -1):
        dz = g * a[k] * (1 - a[k])
        grads[f"w{k}"] = dz * a[k - 1]
        g = dz * w
    grads["x"] = g
    sol = symderiv.solve("sigmoid-chain", depth=n)
    for name in ("w1", "w30", "w60", "x"):
        assert abs(sol.results[name].approx / grads[name] - 1) < mpmath.mpf(10) ** -40


def test_short_values_are_substituted_long_ones_named():
    g = symderiv.Graph()
    x = g.input("x", sp.Rational(1, 2))
    a = g.sigmoid(x, name="a")
    assert _size(a.value, SHORT) <= SHORT and a.ref == a.value  # 1/(1 + e^{-1/2}): substituted
    b = a
    for k in range(6):
        b = g.sigmoid(g.mul(b, 3), name=f"s{k}")
    assert any(n.ref == n.symbol for n in g.nodes)  # long values are referred to by name
    assert all(_size(n.ref, SHORT + 1) <= SHORT for n in g.nodes if n.kind == "gate")


@pytest.mark.parametrize("convention, expected", [("pytorch", 0), ("half", sp.Rational(1, 2)),
                                                  ("tensorflow", 0)])
def test_relu_at_zero_convention_and_note(convention, expected):
    g = symderiv.Graph()
    x = g.input("x", 0)
    y = g.relu(x, name="y")
    assert g.gradients(y, convention=convention) == {"x": expected}
    text = g.solution(y, convention=convention).to_text()
    assert "undefined" in text and f"convention {convention}" in text


def test_convention_object_and_unknown_name():
    g = symderiv.Graph()
    z, w = g.input("z", 1), g.input("w", 1)
    m = g.max(z, w)
    conv = symderiv.Convention("mine", max_tie=(sp.Rational(1, 3), sp.Rational(2, 3)))
    assert g.gradients(m, convention=conv) == {"z": sp.Rational(1, 3), "w": sp.Rational(2, 3)}
    with pytest.raises(symderiv.GraphError, match="unknown convention"):
        g.gradients(m, convention="numpy")


def test_min_and_abs_route_and_kink():
    g = symderiv.Graph()
    a, b = g.input("a", -1), g.input("b", 3)
    m = g.min(a, b)
    assert g.gradients(m) == {"a": 1, "b": 0}
    h = symderiv.Graph()
    x = h.input("x", 0)
    assert h.gradients(h.abs(x)) == {"x": 0}


def test_data_nodes_get_no_gradient_but_are_named():
    g = symderiv.Graph()
    w, x = g.input("w", 3), g.data("x", 2)
    f = g.mul(w, x, name="f")
    assert g.gradients(f) == {"w": 2}
    assert "f = w·x = 3·2 = 6" in g.solution(f).to_text()


def test_upstream_gradient_is_a_parameter():
    g = symderiv.Graph()
    x = g.input("x", 5)
    f = g.mul(x, 2, name="f")
    assert g.gradients(f, upstream=sp.Rational(-1, 2)) == {"x": -1}


def test_define_takes_smooth_expressions_of_nodes():
    g = symderiv.Graph()
    x, y = g.input("x", 1), g.input("y", 2)
    f = g.define("f", sp.sin(x.symbol) * y.symbol ** 2)
    grads = g.gradients(f)
    assert grads == {"x": 4 * sp.cos(1), "y": 4 * sp.sin(1)}
    with pytest.raises(symderiv.GraphError, match="not smooth"):
        g.define("m", sp.Max(x.symbol, y.symbol))
    with pytest.raises(symderiv.GraphError, match="not nodes"):
        g.define("u", sp.Symbol("u") + x.symbol)


@pytest.mark.parametrize("make, message", [
    (lambda g, x: g.input("x", 1), "exists already"),
    (lambda g, x: g.input("1x", 1), "not a name"),
    (lambda g, x: g.apply("frob", x), "unknown gate"),
    (lambda g, x: g.apply("max", x), "takes 2 inputs"),
    (lambda g, x: g.input("v", [1, 2]), "scalar"),
    (lambda g, x: symderiv.Graph().add(x, 1), "another graph"),
])
def test_graph_errors_are_typed(make, message):
    g = symderiv.Graph()
    x = g.input("x", 1)
    with pytest.raises(symderiv.GraphError, match=message):
        make(g, x)


def test_api_errors_are_typed():
    with pytest.raises(symderiv.UnknownModelError):
        symderiv.solve("nope")
    with pytest.raises(symderiv.ParameterError, match="unknown parameter"):
        symderiv.solve("graph-add-mul", q=1)
    with pytest.raises(symderiv.ParameterError, match="not finite"):
        symderiv.solve("graph-add-mul", x=float("nan"))
    with pytest.raises(symderiv.ParameterError, match="expected shape 2"):
        symderiv.solve("xor-mlp", b1=[1, 2, 3])


def test_python_floats_are_read_as_decimals():
    sol = symderiv.solve("graph-add-mul", x=0.1, y=0.2, z=1)
    assert sol.results["z"].exact == sp.Rational(3, 10)  # not 0.30000000000000004


def test_parse_value():
    R = sp.Rational
    assert symderiv.parse_value("0.5") == R(1, 2)
    assert symderiv.parse_value("-1/3") == R(-1, 3)
    assert symderiv.parse_value("1e-3") == R(1, 1000)
    assert symderiv.parse_value(" [[0.5, -0.3], [0.8, 0.2]] ") == [[R(1, 2), R(-3, 10)], [R(4, 5), R(1, 5)]]
    for bad in ["", "[", "[]", "[1,]", "1 2", "0x10", "1/", "--1", "[1]]"]:
        with pytest.raises(symderiv.ParameterError):
            symderiv.parse_value(bad)


def test_inputs_without_values_give_symbolic_gradients():
    g = symderiv.Graph()
    x, y = g.input("x"), g.input("y")
    f = g.add(g.mul(x, y), g.exp(x), name="f")
    X, Y = x.symbol, y.symbol
    assert g.gradients(f) == {"x": Y + sp.exp(X), "y": X}
    relu = g.relu(x, name="r")
    assert g.gradients(relu)["x"].subs(X, 2) == 1 and g.gradients(relu)["x"].subs(X, -2) == 0
    text = g.solution(f).to_text()
    assert "∂f/∂x = (∂f1/∂x)·(∂f/∂f1) + (∂f2/∂x)·(∂f/∂f2) = y·1 + exp(x)·1 = y + exp(x)" in text


def test_matrix_rules_agree_with_the_scalar_engine_entry_by_entry():
    # y = W x, z = tanh(y) ⊙ u, L = sum(z): the matrix-calculus rules, applied to the engine's
    # exact gradients of the outputs, give the engine's gradients of the inputs.
    from symderiv import tensor as T
    g = symderiv.Graph()
    W = T.tensor(g, "W", [[1, -2, sp.Rational(1, 2)], [3, 0, -1]])
    x = T.tensor(g, "x", [2, -1, 4])
    u = T.tensor(g, "u", [sp.Rational(1, 3), -5])
    y = T.matmul(W, x, name="y")
    t = T.elementwise("tanh", y, name="t")
    z = T.hadamard(t, u, name="z")
    L = T.total(z)
    bw = g.backward(L)
    grad = lambda ten: sp.Matrix(ten.matrix(lambda n: bw.grads[n]))  # noqa: E731
    value = lambda ten: sp.Matrix(ten.matrix(lambda n: n.value))  # noqa: E731
    dy, dz, dt = grad(y), grad(z), grad(t)
    assert dz == sp.ones(2, 1)  # the sum: an upstream gradient of ones
    assert sp.simplify(dt - dz.multiply_elementwise(value(u))) == sp.zeros(2, 1)  # ⊙ swaps
    assert sp.simplify(grad(u) - dz.multiply_elementwise(value(t))) == sp.zeros(2, 1)
    assert sp.simplify(dy - dt.multiply_elementwise(sp.ones(2, 1) - value(t).applyfunc(lambda v: v ** 2))) == sp.zeros(2, 1)
    assert sp.simplify(grad(W) - dy * value(x).T) == sp.zeros(2, 3)  # ∂L/∂W = δ·xᵀ
    assert sp.simplify(grad(x) - value(W).T * dy) == sp.zeros(3, 1)  # ∂L/∂x = Wᵀ·δ
    assert bw.grads[L] == 1
