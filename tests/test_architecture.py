"""The structure a newcomer relies on: one-way layers, one row per gate, a traced tape per thread,
and the engine's backward pass as a record that leaves the graph as it was."""

import pathlib
import shutil
import subprocess
import threading
import tomllib

import mpmath
import pytest
import sympy as sp

import symderiv
from symderiv import traced
from symderiv.notation import written


def test_the_layers_contract_holds():
    """``lint-imports`` (import-linter, configured in pyproject.toml) finds no import upward."""
    exe = shutil.which("lint-imports")
    if exe is None:
        pytest.skip("import-linter is not installed (pip install -e '.[test]')")
    done = subprocess.run([exe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    contracts = tomllib.loads((pathlib.Path(__file__).parents[1] / "pyproject.toml").read_text())["tool"][
        "importlinter"]["contracts"]
    # the layers, and the renderers kept apart from the engine, the writers and the models
    assert {"layers", "forbidden"} <= {c["type"] for c in contracts}
    assert f"{len(contracts)} kept, 0 broken" in done.stdout


def test_no_module_imports_another_in_a_circle():
    grimp = pytest.importorskip("grimp")
    graph = grimp.build_graph("symderiv")
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            assert not graph.chain_exists(imported, module), f"{module} and {imported} import each other"


def test_a_new_gate_is_one_row():
    """One row added in one place is a graph method, a formula function, a traced function and a
    diagram glyph. softplus(x) = log(1 + e^x), whose derivative is σ(x) (by hand)."""
    row = symderiv.Gate(name="softplus", forward=lambda a: sp.log(1 + sp.exp(a)),
                        written=written("softplus_", r"\operatorname{softplus}", "softplus"),
                        local=lambda a, o, c: (1 / (1 + sp.exp(-a[0])),), function="softplus", glyph="sp",
                        doc="log(1 + e^a).")
    symderiv.add_gate(row)
    try:
        with mpmath.workdps(50):
            want = 2 / (1 + mpmath.exp(-mpmath.mpf(1) / 2))  # d/dx 2·softplus(x) = 2σ(x) at x = 1/2

        def close(got):
            with mpmath.workdps(50):
                return abs(got - want) < mpmath.mpf(10) ** -40
        sol = symderiv.derive("2 * softplus(x)", x=sp.Rational(1, 2))
        assert close(sol.results["x"].approx)
        assert "softplus(x)" in sol.to_text()
        assert 'POINT-SIZE="16">sp</FONT>' in sol.to_dot()  # the gate's circle shows its glyph

        g = symderiv.Graph()
        x = g.input("x", sp.Rational(1, 2))
        assert close(g.backward(g.mul(2, g.softplus(x))).approx[x])

        t = symderiv.var("x", sp.Rational(1, 2))
        assert close(symderiv.solution(2 * symderiv.softplus(t)).results["x"].approx)
    finally:
        symderiv.GATES.pop("softplus")
    with pytest.raises(symderiv.FormulaError):
        symderiv.derive("softplus(x)")


def test_backward_leaves_the_graph_as_it_was():
    g = symderiv.Graph()
    x, y = g.input("x", 3), g.input("y", -4)
    f = g.mul(x, y, name="f")
    names = dict(g.names)
    bw = g.backward(f)
    assert g.names == names  # the gradient names are the record's own
    assert bw.names[bw.symbols[x]].text == "∂f/∂x"
    assert bw.local(f, x).value == -4  # ∂(xy)/∂x = y


def test_two_threads_trace_two_graphs():
    """Each thread has its own tape: interleaved var() calls never mix their graphs."""
    results: dict[str, object] = {}
    barrier = threading.Barrier(2)

    def work(value: int) -> None:
        traced.reset()
        x = symderiv.var("x", value)
        barrier.wait()  # both threads have made their x before either goes on
        y = symderiv.var("y", 2)
        barrier.wait()
        results[value] = symderiv.solution(x * y + x).results  # ∂/∂x = y + 1 = 3, ∂/∂y = x

    threads = [threading.Thread(target=work, args=(v,)) for v in (5, 7)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for value in (5, 7):
        assert results[value]["x"].exact == 3 and results[value]["y"].exact == value


def test_a_traced_name_that_is_already_a_gate_is_refused():
    traced.reset()
    x = symderiv.var("x", 7)
    symderiv.tanh(x)  # the gate f1
    with pytest.raises(symderiv.GraphError, match="already the name of a gate"):
        symderiv.var("f1", 7)


def test_a_malformed_block_is_an_internal_error_not_bad_input():
    from symderiv.render.mathml import to_mathml
    with pytest.raises(symderiv.InternalError):
        to_mathml(r"\begin{aligned} a &= b \end{aligned}")
    assert not issubclass(symderiv.InternalError, symderiv.SymderivError)


