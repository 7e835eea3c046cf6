"""Your own formula: parsed into the engine's gates as written, never evaluated."""

import re
import subprocess
import sys

import pytest
import sympy as sp

import symderiv
from symderiv.cli import main
from symderiv.formula import FormulaError, build, derive

E = sp.exp(-1)


def test_notes_sigmoid_neuron_typed_as_a_formula_gives_gates_f1_to_f8():
    g, out = build("1/(1 + exp(-(w0*x0 + w1*x1 + w2)))", dict(w0=2, x0=-1, w1=-3, x1=-2, w2=-3))
    gates = [n for n in g.nodes if n.op is not None]
    assert [n.name for n in gates] == [f"f{k}" for k in range(1, 9)]
    assert [n.op.name for n in gates] == ["mul", "mul", "add", "add", "neg", "exp", "add", "recip"]
    # by hand: z = 1, σ'(z) = e^-1/(1 + e^-1)^2; ∂f/∂w0 = x0 σ', ∂f/∂x1 = w1 σ'
    sol = derive("1/(1 + exp(-(w0*x0 + w1*x1 + w2)))", w0=2, x0=-1, w1=-3, x1=-2, w2=-3)
    dz = E / (1 + E) ** 2
    for name, factor in dict(w0=-1, x0=2, w1=-2, x1=-3, w2=1).items():
        assert sp.simplify(sol.results[name].exact - factor * dz) == 0


def test_notes_first_graph_from_the_cli(capsys):
    assert main(["derive", "(x + y) * z", "--set", "x=-2", "--set", "y=5", "--set", "z=-4"]) == 0
    out = capsys.readouterr().out
    assert "f1 = x + y = -2 + 5 = 3" in out and "f = f1·z" not in out
    assert "∂f/∂x = -4" in out and "∂f/∂z = 3" in out


def test_written_structure_is_kept():
    g, _ = build("-(a + b) - c/d + 1/e2", {})
    assert [n.op.name for n in g.nodes if n.op] == ["add", "neg", "div", "sub", "recip", "add"]
    g, _ = build("a + b + c", {}, nary=True)
    assert [n.op.name for n in g.nodes if n.op] == ["add"]
    g, _ = build("a + b + c", {})
    assert [n.op.name for n in g.nodes if n.op] == ["add", "add"]


def test_reused_name_gathers_gradient_from_each_use():
    # f = x·y + x at x = 3, y = 2: ∂f/∂x = y + 1 = 3, shown as the sum of two contributions
    sol = derive("x*y + x", x=3, y=2)
    assert sol.results["x"].exact == 3 and sol.results["y"].exact == 3
    assert "x feeds 2 gates" in sol.to_text()


def test_symbolic_when_values_are_missing():
    sol = derive("x^2 * sin(y)")
    x, y = sp.symbols("x y", real=True)
    assert sp.simplify(sol.results["x"].exact - 2 * x * sp.sin(y)) == 0
    assert sp.simplify(sol.results["y"].exact - x ** 2 * sp.cos(y)) == 0


def test_constants_and_functions():
    sol = derive("max(x, 0.5) + sqrt(y) * e", x=2, y=4)
    assert sol.results["x"].exact == 1
    assert sol.results["y"].exact == sp.E / 4  # e/(2·sqrt(4))


@pytest.mark.parametrize("text, message", [
    ("__import__('os').system('touch /tmp/symderiv-pwned')", "expected a call of one of"),
    ("x.__class__", "expected a number, a name"),
    ("x[0]", "expected a number, a name"),
    ("'abc'", "expected a number"),
    ("lambda: 1", "expected a number, a name"),
    ("foo(x)", "expected a call of one of"),
    ("exp(x, y)", "takes 1 argument"),
    ("_x + 1", "not a variable name"),
    ("x +", "not an expression"),
    ("1/0 + x", "division by zero"),
    ("(" * 300 + "x" + ")" * 300, "formula"),
])
def test_refused_formulas(text, message):
    with pytest.raises(FormulaError, match=message):
        derive(text)


def test_refusals_in_the_cli_run_nothing(tmp_path):
    marker = tmp_path / "ran"
    for text in (f"__import__('os').system('touch {marker}')", f"exec('open(\"{marker}\", \"w\")')"):
        p = subprocess.run([sys.executable, "-m", "symderiv.cli", "derive", text], capture_output=True, text=True)
        assert p.returncode == 2 and p.stderr.count("\n") == 1 and "Traceback" not in p.stderr
    assert not marker.exists()


def test_unknown_set_name_and_wrt():
    with pytest.raises(FormulaError, match="'q' does not appear"):
        derive("x + 1", q=2)
    with pytest.raises(symderiv.SymderivError, match="not an input"):
        derive("x + 1", x=1, wrt=["z"])
    assert list(derive("x * y", x=1, y=2, wrt=["y"]).results) == ["y"]


@pytest.mark.parametrize("fmt", ["text", "latex", "mathml", "html", "json"])
def test_every_format(fmt, capsys):
    assert main(["derive", "relu(x) * tanh(y)", "--set", "x=0", "--set", "y=1/2", "--format", fmt]) == 0
    assert capsys.readouterr().out


def test_sympy_expression_route_shares_equal_subexpressions():
    a, b = sp.symbols("a b")
    g, out = symderiv.formula.build_sympy(sp.exp(a * b) + a * b, {"a": 1, "b": 2})
    assert [n.op.name for n in g.nodes if n.op] == ["mul", "exp", "add"]  # a·b built once
    # by hand: f = e^{ab} + ab, ∂f/∂a = b(e^{ab} + 1) = 2(e^2 + 1), ∂f/∂b = a(e^{ab} + 1) = e^2 + 1
    sol = derive(sp.exp(a * b) + a * b, a=1, b=2)
    assert sp.simplify(sol.results["a"].exact - 2 * (sp.exp(2) + 1)) == 0
    assert sp.simplify(sol.results["b"].exact - (sp.exp(2) + 1)) == 0
    with pytest.raises(FormulaError, match="not one of"):
        derive(sp.gamma(a))


def test_traced_python_records_the_graph():
    from symderiv.traced import relu, reset, var
    reset()
    x = var("x", -4)
    z = 2 * x + 2 + x           # z = -10
    q = relu(z) + z * x         # dq/dx = relu'(z)·3 + (3x + z) = 0 + (-12 - 10), by hand
    assert q.backward().results["x"].exact == -22
    y = var("x", 3)             # the same name again: a fresh tape
    assert (y * y).backward().results["x"].exact == 6


def test_three_routes_agree():
    from symderiv.traced import reset, sigmoid, var
    reset()
    w, x = var("w", sp.Rational(1, 2)), var("x", 3)
    traced = sigmoid(w * x).backward().results
    text = derive("sigmoid(w*x)", w=0.5, x=3).results
    ws, xs = sp.symbols("w x")
    expr = derive(1 / (1 + sp.exp(-ws * xs)), w=0.5, x=3).results
    for name in ("w", "x"):
        assert float(traced[name].approx) == pytest.approx(float(text[name].approx), rel=1e-15)
        assert float(expr[name].approx) == pytest.approx(float(text[name].approx), rel=1e-15)


from hypothesis import given, settings, strategies as st  # noqa: E402

_X, _Y = sp.symbols("x y", real=True)
# Each generated formula comes as (text, SymPy expression, torch function of (x, y)), built side by side.
_LEAVES = st.sampled_from([("x", _X, lambda x, y: x), ("y", _Y, lambda x, y: y),
                           ("2", sp.Integer(2), lambda x, y: 2.0), ("0.5", sp.Rational(1, 2), lambda x, y: 0.5)])
_UNARY = [("exp", sp.exp, "exp"), ("tanh", sp.tanh, "tanh"), ("sin", sp.sin, "sin"), ("cos", sp.cos, "cos"),
          ("sigmoid", lambda a: 1 / (1 + sp.exp(-a)), "sigmoid")]
_BINARY = {"+": (lambda a, b: a + b), "-": (lambda a, b: a - b), "*": (lambda a, b: a * b)}


def _extend(children):
    binary = st.tuples(children, st.sampled_from(sorted(_BINARY)), children).map(
        lambda t: (f"({t[0][0]} {t[1]} {t[2][0]})", _BINARY[t[1]](t[0][1], t[2][1]),
                   lambda x, y, a=t[0][2], b=t[2][2], f=_BINARY[t[1]]: f(a(x, y), b(x, y))))
    unary = st.tuples(st.sampled_from(_UNARY), children).map(
        lambda t: (f"{t[0][0]}({t[1][0]})", t[0][1](t[1][1]),
                   lambda x, y, name=t[0][2], a=t[1][2]: _torch_unary(name, a(x, y))))
    return binary | unary


def _torch_unary(name, v):
    import torch
    v = v if isinstance(v, torch.Tensor) else torch.tensor(v, dtype=torch.float64)
    return getattr(torch, name)(v)


FORMULAS = st.recursive(_LEAVES, _extend, max_leaves=8)
VALUES = st.integers(-20, 20).map(lambda k: sp.Rational(k, 10))


@settings(max_examples=40, deadline=None)
@given(triple=FORMULAS, x=VALUES, y=VALUES)
def test_random_formulas_match_sympy_diff_and_torch(triple, x, y):
    """The engine's gradient of a random formula equals sympy.diff of the same function written
    as a SymPy expression, and PyTorch float64 autograd of it written with torch, at 1e-12."""
    text, expr, fn = triple
    present = {n: v for n, v in (("x", x), ("y", y)) if re.search(rf"\b{n}\b", text)}
    sol = derive(text, present)
    torch = pytest.importorskip("torch")
    tx = torch.tensor(float(x), dtype=torch.float64, requires_grad=True)
    ty = torch.tensor(float(y), dtype=torch.float64, requires_grad=True)
    out = fn(tx, ty)
    if isinstance(out, torch.Tensor) and out.requires_grad:
        out.backward()
    for name, sym, leaf in (("x", _X, tx), ("y", _Y, ty)):
        if name not in present:
            continue
        expected = float(sp.N(sp.diff(expr, sym).subs({_X: x, _Y: y}), 40))
        got = float(sol.results[name].approx)
        assert abs(got - expected) <= 1e-12 * max(1, abs(expected)), (text, name, "sympy")
        autograd = float(leaf.grad) if leaf.grad is not None else 0.0
        assert abs(got - autograd) <= 1e-12 * max(1, abs(autograd)), (text, name, "torch")


def test_a_long_sum_is_long_not_deep():
    # sum_{i=1}^{600} x*i at x = 2 is 2 * 600*601/2 = 360600, and d/dx is 600*601/2 = 180300
    formula = "+".join(f"x*{i}" for i in range(1, 601))
    sol = symderiv.derive(formula, x=2)
    assert sol.results["x"].exact == 180300
    assert symderiv.derive(formula, x=2, nary=True).results["x"].exact == 180300


def test_long_formulas_are_quoted_short_in_errors():
    with pytest.raises(symderiv.FormulaError) as info:
        symderiv.derive("+".join(["x"] * 2000) + "+%")
    assert len(str(info.value)) < 200 and "…" in str(info.value)
    with pytest.raises(symderiv.FormulaError, match="too long a chain of operations"):
        symderiv.derive("+".join(["x"] * 3300))


def test_wrt_keeps_only_those_gradients_in_the_results_section():
    sol = symderiv.derive("(x + y) * z", x=-2, y=5, z=-4, wrt=["z"])
    (results,) = [s for s in sol.sections if s.kind == "results"]
    assert [step.exact for step in results.items] == [3]  # df/dz = x + y = 3
    assert list(sol.results) == ["z"]


def test_input_names_like_the_gates_own_are_kept():
    # f = f1·y + f2 at f1 = 2, y = 3, f2 = 5: ∂f/∂f1 = y = 3, ∂f/∂y = f1 = 2, ∂f/∂f2 = 1
    sol = symderiv.derive("f1*y + f2", f1=2, y=3, f2=5)
    assert {k: v.exact for k, v in sol.results.items()} == {"f1": 3, "y": 2, "f2": 1}


@pytest.mark.parametrize("formula, values, message", [
    ("log(x)", {"x": 0}, "f1 = log(x) is not a finite real number at x = 0"),
    ("x/y", {"x": 1, "y": 0}, "not a finite real number"),
    ("x^y", {"x": -8, "y": "1/3"}, "not a finite real number at x = -8, y = 1/3"),
    ("sqrt(x)", {"x": 0}, "the backward pass: ∂f/∂x is not a finite real number"),
    ("x^y", {"x": 10, "y": "1e300"}, "exponent beyond ±10,000"),
])
def test_values_where_a_formula_is_undefined_are_one_error(formula, values, message):
    with pytest.raises(symderiv.GraphError, match=re.escape(message)):
        symderiv.derive(formula, **values)
