"""Catalogue models against derivations done by hand, written out here."""

import sympy as sp
import pytest

import symderiv

E = sp.exp(-1)


def exact(sol, name):
    return sol.results[name].exact


def same(a, b):
    return sp.simplify(sp.sympify(a) - b) == 0


def test_graph_add_mul_notes_example():
    # q = x + y = 3, f = q z = -12; df/dq = z = -4, df/dx = df/dy = df/dq * 1 = -4, df/dz = q = 3
    sol = symderiv.solve("graph-add-mul")
    assert {k: exact(sol, k) for k in "xyz"} == {"x": -4, "y": -4, "z": 3}


def test_graph_mul_add_notes_example():
    # q = y z, f = x + q: df/dx = 1, df/dy = z = -4, df/dz = y = 5 ("overall influence")
    sol = symderiv.solve("graph-mul-add")
    assert {k: exact(sol, k) for k in "xyz"} == {"x": 1, "y": -4, "z": 5}


@pytest.mark.parametrize("staging", ["gates", "sum3", "sigmoid"])
def test_sigmoid_neuron_cs231n(staging):
    # w0 x0 + w1 x1 + w2 = -2 + 6 - 3 = 1, f = s(1) with s = 1/(1+e^-1); df/dz = s(1-s) = e^-1/(1+e^-1)^2.
    sol = symderiv.solve("sigmoid-neuron", staging=staging)
    dz = E / (1 + E) ** 2
    expected = {"w0": -1 * dz, "x0": 2 * dz, "w1": -2 * dz, "x1": -3 * dz, "w2": dz}
    for name, value in expected.items():
        assert same(exact(sol, name), value), name
    # the float values quoted in the issue (CS231n)
    quoted = {"w0": -0.1966, "x0": 0.3932, "w1": -0.3932, "x1": -0.5898, "w2": 0.1966}
    for name, value in quoted.items():
        assert float(sol.results[name].approx) == pytest.approx(value, abs=5e-5)


def test_sigmoid_neuron_forward_steps_f1_to_f8():
    sol = symderiv.solve("sigmoid-neuron")
    forward = next(s for s in sol.sections if s.kind == "forward")
    values = [step.exact for step in forward.items]
    # f1 = -2, f2 = 6, f3 = 4, f4 = 1, f5 = -1, f6 = e^-1, f7 = 1 + e^-1, f8 = 1/(1 + e^-1)
    assert values[:5] == [-2, 6, 4, 1, -1]
    assert same(values[5], E) and same(values[6], 1 + E) and same(values[7], 1 / (1 + E))
    assert len(values) == 8


def test_max_gate_default_and_first_gate_parameter():
    # f = 2(xy + max(z, w)), z = 2 > w = -1: df/dx = 2y = -8, df/dy = 2x = 6, df/dz = 2, df/dw = 0
    sol = symderiv.solve("max-gate")
    assert {k: exact(sol, k) for k in "xyzw"} == {"x": -8, "y": 6, "z": 2, "w": 0}
    # the OCR's reading f1 = x + 8y: df/dx = 2, df/dy = 16
    sol = symderiv.solve("max-gate", first="add8")
    assert (exact(sol, "x"), exact(sol, "y")) == (2, 16)
    # any SymPy expression in x and y: f1 = x^2 y -> df/dx = 2 * 2xy = -48 at (3, -4)
    x, y = sp.symbols("x y")
    sol = symderiv.solve("max-gate", first=x ** 2 * y)
    assert (exact(sol, "x"), exact(sol, "y")) == (2 * 2 * 3 * -4, 2 * 9)


@pytest.mark.parametrize("convention, shares", [("pytorch", (1, 1)), ("tensorflow", (2, 0)), ("half", (1, 1))])
def test_max_gate_tie_follows_convention(convention, shares):
    # z = w: the upstream 2 is split by the convention
    sol = symderiv.solve("max-gate", z=2, w=2, convention=convention)
    assert (exact(sol, "z"), exact(sol, "w")) == shares
    text = sol.to_text()
    assert "undefined" in text and f"convention {convention}" in text


def test_xor_truth_table():
    # hidden z = (x1 + x2, x1 + x2 - 1); y_hat = relu(a1 - 2 a2) gives XOR
    sol = symderiv.solve("xor-mlp")
    table = next(s for s in sol.sections if s.kind == "table").items[0]
    rows = [[c.exact for c in row] for row in table.rows]
    # columns: x1 x2 y z1 z2 a1 a2 z yhat
    assert rows == [[0, 0, 0, 0, -1, 0, 0, 0, 0],
                    [0, 1, 1, 1, 0, 1, 0, 1, 1],
                    [1, 0, 1, 1, 0, 1, 0, 1, 1],
                    [1, 1, 0, 2, 1, 2, 1, 0, 0]]
    assert "computes XOR" in sol.to_text()


def test_xor_backward_by_hand_nonzero_loss():
    # W1 = [[1,1],[1,1]], b1 = [0,-1], w2 = [1,-2], b2 = 1/2, row 1: x = (0, 1), y = 1.
    # z1 = (1, 0), a = (1, 0), z = 1 + 1/2 = 3/2, y_hat = 3/2, dL/dyhat = 1/2 = dL/dz.
    # dL/dw2 = dL/dz * a = (1/2, 0); dL/db2 = 1/2; dL/da1 = 1/2, dL/da2 = -1.
    # a1: z = 1 > 0 -> dL/dz1_1 = 1/2; a2: z = 0, ReLU'(0) = 0 (pytorch) -> dL/dz1_2 = 0.
    # dL/dW1_1j = 1/2 * x_j = (0, 1/2); dL/db1_1 = 1/2; second row all 0.
    sol = symderiv.solve("xor-mlp", b2=0.5, row=1)
    got = {k: exact(sol, k) for k in sol.results}
    R = sp.Rational
    assert got == {"W1_11": 0, "W1_12": R(1, 2), "b1_1": R(1, 2), "W1_21": 0, "W1_22": 0,
                   "b1_2": 0, "w2_1": R(1, 2), "w2_2": 0, "b2": R(1, 2)}
    # the 'half' convention: ReLU'(0) = 1/2 sends -1 * 1/2 back into z1_2
    sol = symderiv.solve("xor-mlp", b2=0.5, row=1, convention="half")
    assert exact(sol, "b1_2") == R(-1, 2) and exact(sol, "W1_22") == R(-1, 2)


def test_sigmoid_chain_three_layers_by_hand():
    s = lambda t: 1 / (1 + sp.exp(-t))  # noqa: E731
    h = sp.Rational(1, 2)
    a1 = s(h)
    a2 = s(h * a1)
    a3 = s(h * a2)
    dL_da3 = a3 - 1
    dL_dz3 = dL_da3 * a3 * (1 - a3)
    dL_dz2 = dL_dz3 * h * a2 * (1 - a2)
    dL_dz1 = dL_dz2 * h * a1 * (1 - a1)
    expected = {"w3": dL_dz3 * a2, "w2": dL_dz2 * a1, "w1": dL_dz1 * 1, "x": dL_dz1 * h}
    sol = symderiv.solve("sigmoid-chain")
    for name, value in expected.items():
        assert float(sol.results[name].approx) == pytest.approx(float(sp.N(value, 30)), rel=1e-14), name
    loss = next(s for s in sol.sections if s.kind == "forward").items[-1]
    assert float(loss.approx) == pytest.approx(float(sp.N((a3 - 1) ** 2 / 2, 30)), rel=1e-14)


def test_sigmoid_chain_layer_factors_are_at_most_w_over_4():
    sol = symderiv.solve("sigmoid-chain", depth=6, w=[1, -2, 3, 0.5, 4, -1])
    factors = next(s for s in sol.sections if s.kind == "vanishing").items
    steps = [f for f in factors if isinstance(f, symderiv.Step)]
    assert len(steps) == 6
    for step, w in zip(steps, [-1, 4, 0.5, 3, -2, 1]):  # listed from the last layer back
        assert abs(float(step.approx)) <= abs(w) / 4


def test_sigmoid_chain_depth_and_w_list_must_agree():
    with pytest.raises(symderiv.ParameterError, match="depth is 4 but w has 2"):
        symderiv.solve("sigmoid-chain", depth=4, w=[1, 2])
