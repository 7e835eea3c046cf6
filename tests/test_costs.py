"""The requests that ran for minutes (issue 15): the algorithms that replaced them are checked
against independent references (PyTorch float64, sympy.diff, hand derivations), and what stays too
big is refused up front with the limit named. No test here measures time (benchmarks/costs.py does).
"""

from __future__ import annotations

import os
import stat

import pytest
import sympy as sp
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import symderiv
from symderiv import limits
from symderiv.cli import main
from symderiv.limits import size_limit
from symderiv.render import dot as dot_renderer


def _grads(sol, names):
    return [sol.results[n].exact for n in names]


# ----- max pooling: the arg-max ---------------------------------------------------------------

@pytest.mark.parametrize("size, seed", [(15, 0), (15, 1), (12, 2)])
def test_one_large_max_pooling_window_matches_torch(size, seed):
    gen = torch.Generator().manual_seed(seed)
    values = torch.randint(-3, 4, (size, size), generator=gen).tolist()  # many ties for the maximum
    sol = symderiv.solve("pooling", input=values, size=size, stride=size, mode="max")
    X = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    F.max_pool2d(X[None, None], size, size).sum().backward()
    for i in range(size):
        for j in range(size):
            assert sol.results[f"X_{i + 1}_{j + 1}"].exact == int(X.grad[i, j])
    assert "first maximum" in sol.to_text()  # the tie is stated


def test_many_windows_with_ties_match_torch():
    values = [[(3 * i + 5 * j) % 4 for j in range(9)] for i in range(9)]
    sol = symderiv.solve("pooling", input=values, size=3, stride=2, mode="max")
    X = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    F.max_pool2d(X[None, None], 3, 2).sum().backward()
    got = [[sol.results[f"X_{i + 1}_{j + 1}"].exact for j in range(9)] for i in range(9)]
    assert got == [[int(g) for g in row] for row in X.grad.tolist()]


def test_max_pooling_decides_the_maximum_exactly():
    # 1/3 and 1/3 + 10^-70 are one float at 50 digits: the exact values decide
    g = symderiv.Graph()
    a, b = g.input("a", sp.Rational(1, 3)), g.input("b", sp.Rational(1, 3) + sp.Rational(1, 10**70))
    sol = g.solution(g.maxpool(a, b, name="m"))
    assert _grads(sol, ["a", "b"]) == [0, 1]
    assert "tie" not in sol.to_text()


def test_max_pooling_of_a_symbolic_entry_stays_a_case_split():
    g = symderiv.Graph()
    x, y, z = g.input("x"), g.input("y", 2), g.input("z", 5)
    sol = g.solution(g.maxpool(x, y, z, name="m"))
    dx = sol.results["x"].exact  # by hand: 1 where x is the first maximum (x >= 5), else 0
    assert {dx.subs(sp.Symbol("x", real=True), v) for v in (6, 5)} == {1}
    assert dx.subs(sp.Symbol("x", real=True), 4) == 0
    assert sol.results["z"].exact.subs(sp.Symbol("x", real=True), 4) == 1


# ----- a wide product: out/x_i -----------------------------------------------------------------

@settings(max_examples=30, deadline=None)
@given(st.lists(st.fractions(min_value=-3, max_value=3, max_denominator=4), min_size=2, max_size=40))
def test_a_long_product_has_the_gradients_sympy_diff_gives(values):
    names = [f"x{i}" for i in range(len(values))]
    xs = sp.symbols(names, real=True)
    sol = symderiv.derive("*".join(names), {n: f"{v.numerator}/{v.denominator}" for n, v in zip(names, values)},
                          nary=True)
    point = {x: sp.Rational(v.numerator, v.denominator) for x, v in zip(xs, values)}
    product = sp.Mul(*xs)
    assert _grads(sol, names) == [sp.diff(product, x).subs(point) for x in xs]


def test_a_wide_product_writes_the_quotient_and_at_a_zero_the_others():
    values = {f"x{i}": str(i + 1) for i in range(12)}
    values["x3"] = "0"
    text = symderiv.derive("*".join(values), values, nary=True).to_text()
    assert "∂f1/∂x0 = f1/x0 = 0/1 = 0" in text
    # at the zero, d/dx3 is the product of the others, 12!/4 by hand
    assert "∂f1/∂x3 = x0·x1·x10·x11·x2·x4·x5·x6·x7·x8·x9 = " in text and f"= {479001600 // 4}\n" in text


def test_a_short_product_still_writes_the_others():
    text = symderiv.derive("a*b*c", {"a": "1", "b": "2", "c": "3"}, nary=True).to_text()
    assert "∂f1/∂a = b·c = 2·3 = 6" in text


def test_a_symbolic_wide_product_is_exact_and_its_cost_is_counted():
    names = [f"x{i}" for i in range(12)]
    xs = sp.symbols(names, real=True)
    sol = symderiv.derive("*".join(names), nary=True)
    assert [sp.expand(d) for d in _grads(sol, names)] == [sp.diff(sp.Mul(*xs), x) for x in xs]
    with pytest.raises(symderiv.SizeError, match="passed the size limit of 200,000 while it was being built"):
        symderiv.derive("*".join(f"x{i}" for i in range(1500)), nary=True)  # 1500 products of 1499


# ----- an exact zero without simplify ----------------------------------------------------------

def test_attention_whose_value_rows_sum_alike_has_exactly_zero_score_gradients():
    # By hand: L = Σ Z = Σ_t Σ_j P_tj (Σ_c V_jc); with both rows of V summing to 1, L = Σ_t 1 = 2
    # whatever Q and K are, so ∂L/∂Q = ∂L/∂K = 0 exactly (the floats only cancel to ~1e-50).
    Q = [[0.212, 0.04, 0.63], [0.1, 0.14, 0.86]]
    K = [[0.31, 0.84, 0.963], [0.45, 0.94, 0.73]]
    V = [[0.25, 0.75], [0.5, 0.5]]
    sol = symderiv.solve("self-attention", Q=Q, K=K, V=V)
    for name in ("Q", "K"):
        assert all(sol.results[f"{name}_{i}_{j}"].exact == 0 for i in (1, 2) for j in (1, 2, 3))


# ----- refused up front, with the limit named --------------------------------------------------

def _cli(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_the_issue_requests_are_refused_with_the_limit_and_its_raise(capsys):
    for argv in (["solve", "sigmoid-chain", "--set", "depth=5000"],
                 ["solve", "sigmoid-chain", "--set", "depth=5000", "--format", "html"],
                 ["solve", "sigmoid-chain", "--set", "depth=3000", "--format", "svg"],
                 ["derive", "*".join(f"x{i}" for i in range(1500)), "--nary"]):
        code, out, err = _cli(argv, capsys)
        assert code == 2 and out == "" and err.count("\n") == 1, argv
        assert "the size limit of 200,000" in err and "raise it with --max-size N for an N above 200,000" in err


def test_a_format_weighs_the_size(capsys):
    # depth 100, by the gate table's costs: the first product w1·x of two rationals 2, each later one
    # (w_k times an exponential) 2 × 10, each sigmoid 80, the loss ½(a − y)² (one gate of 2 inputs)
    # 2 × 80: 2 + 99·20 + 100·80 + 160 = 10,142 as text, 3 times that as MathML, twice as JSON
    with size_limit(10_142):
        sol = symderiv.solve("sigmoid-chain", depth=100)
        assert sol.size == 10_142 and sol.to_text()
        with pytest.raises(symderiv.SizeError) as info:
            sol.render("html")
    assert str(info.value) == ("sigmoid-chain: the worked solution would have size 10,142 (3 times that for html "
                               "output: 30,426), over the limit of 10,142; raise it with --max-size 30426 "
                               "(in Python: with symderiv.size_limit(30426): ...)")
    assert _cli(["solve", "sigmoid-chain", "--set", "depth=100", "--format", "json", "--max-size", "20284"],
                capsys)[0] == 0
    code, _, err = _cli(["solve", "sigmoid-chain", "--set", "depth=100", "--format", "json", "--max-size", "20283"],
                        capsys)
    assert code == 2 and "counted 2 times for json output" in err


def test_the_page_goes_without_a_figure_graphviz_would_take_too_long_for(monkeypatch):
    sol = symderiv.solve("graph-add-mul")
    monkeypatch.setattr(dot_renderer, "GRAPHVIZ_SCALE", 1e-9)  # every drawing now passes the limit
    with pytest.raises(symderiv.SizeError, match="drawing its diagram with Graphviz"):
        sol.render("svg")
    page = sol.render("html")
    assert "too big for Graphviz to draw here" in page and "<svg" not in page


def test_graphviz_is_stopped_at_the_time_the_limit_allows(tmp_path, monkeypatch):
    fake = tmp_path / "dot"
    fake.write_text("#!/bin/sh\nexec sleep 30\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(limits, "DEFAULT_SECONDS", 0.5)
    from symderiv.render.dot import svg_of_dot
    svg_of_dot.cache_clear()  # a figure drawn earlier in this process would not run dot again
    with pytest.raises(symderiv.SizeError) as info:
        symderiv.solve("graph-add-mul").render("svg")
    assert str(info.value) == ("Graphviz's dot did not finish within 0.5 s, the time allowed under the size limit "
                               "of 200,000; raise it with --max-size N for an N above 200,000 "
                               "(in Python: with symderiv.size_limit(N): ...)")
