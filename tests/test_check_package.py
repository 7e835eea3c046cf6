"""Issue 23's checker: a package reading the solution's index and the gate table when it runs,
diagnoses as rows of a table, verdicts an enum, ``symderiv.check`` the module (calling it warns).
Expected values are derived here with mpmath, never read from the checker."""

from __future__ import annotations

import importlib
import warnings
from pathlib import Path

import mpmath
import pytest
import sympy as sp

import symderiv
from symderiv import tensor as T
from symderiv.check import DIAGNOSES, Verdict, check_answers, diagnoses_table
from symderiv.notation import written

mpmath.mp.dps = 50
ROOT = Path(__file__).resolve().parents[1]


def softplus_row():
    return symderiv.Gate(name="softplus", forward=lambda a: sp.log(1 + sp.exp(a)),
                         written=written("softplus_", r"\operatorname{softplus}", "softplus"),
                         local=lambda a, o, c: (1 / (1 + sp.exp(-a[0])),), function="softplus", glyph="sp",
                         activation=True, elementwise=written("softplus_m", r"\operatorname{softplus}", "softplus"),
                         doc="log(1 + e^a).")


def scalar_graph(fn: str):
    g = symderiv.Graph()
    x, w = g.input("x", 1), g.input("w", -1)
    a = g.mul(x, w, name="a_1")
    return g.solution(getattr(g, fn)(a, name="y_1"))


def softplus(x):
    return mpmath.log(1 + mpmath.exp(x))


@pytest.mark.parametrize("fn, f", [("tanh", mpmath.tanh), ("softplus", softplus)])
def test_a_gate_added_later_is_recomputed_like_a_built_in_one(fn, f):
    """a_1 = x·w = −1; the student writes a_1 = −2 (wrong) and y_1 = f(−2) from it: ↳, never ✗."""
    symderiv.add_gate(softplus_row())
    try:
        sol = scalar_graph(fn)
        carried = mpmath.nstr(f(mpmath.mpf(-2)), 4)
        report = check_answers(sol, {"a_1": "-2", "y_1": carried})
        assert [x.verdict for x in report.lines] == [Verdict.WRONG, Verdict.CARRIED]
        assert report.lines[1].follows == "a_1"
        right = mpmath.nstr(f(mpmath.mpf(-1)), 4)  # y_1 = f(−1)
        assert check_answers(sol, {"y_1": right}).ok
        # a slip in the new gate's step is diagnosed as in a built-in one's: the activation not applied
        line = check_answers(sol, {"y_1": "-1"}).lines[0]
        assert line.verdict is Verdict.WRONG and {d.kind for d in line.diagnoses} == {"activation"}
    finally:
        symderiv.GATES.pop("softplus")


def test_an_elementwise_gate_added_later_is_recomputed_on_a_matrix():
    """y = softplus(W·x) with W = [[1/2, −3/10], [4/5, 1/5]], x = [1, 2]: a = [−1/10, 6/5]."""
    symderiv.add_gate(softplus_row())
    try:
        g = symderiv.Graph("y = softplus(W x)")
        W, x = T.tensor(g, "W", [[0.5, -0.3], [0.8, 0.2]]), T.tensor(g, "x", [1, 2])
        y = T.elementwise("softplus", T.matmul(W, x, name="a"), name="y")
        sol = T.solution(T.total(y), model="mine")
        a = [mpmath.mpf(-1) / 10, mpmath.mpf(6) / 5]
        right = ", ".join(mpmath.nstr(softplus(v), 5) for v in a)
        assert check_answers(sol, f"y = [{right}]").ok
        # a wrong a, and y computed from it: y follows from the slip
        slipped = ", ".join(mpmath.nstr(softplus(v), 5) for v in (mpmath.mpf(1) / 10, mpmath.mpf(6) / 5))
        report = check_answers(sol, f"a = [0.1, 1.2]\ny = [{slipped}]")
        assert [str(x.verdict) for x in report.lines] == ["wrong", "right", "carried", "right"]
    finally:
        symderiv.GATES.pop("softplus")


def test_no_gate_is_copied_when_the_checker_is_imported():
    """The package reads the gate table when it runs: nothing at module level holds a gate's
    function or a SymPy expression built from the table."""
    for module in ("answers", "world", "diagnoses", "verdicts", "report", "run", "notes"):
        src = (ROOT / "symderiv" / "check" / f"{module}.py").read_text(encoding="utf-8")
        top = [line for line in src.splitlines() if line and not line[0].isspace()]
        assert not any("written_forms()" in line or "GATES[" in line for line in top), module
        assert "simplify" not in src, module


def test_symderiv_check_is_the_module_and_calling_it_warns():
    module = importlib.import_module("symderiv.check")
    assert symderiv.check is module and module.check_answers is symderiv.check_answers
    with pytest.warns(DeprecationWarning, match="check_answers"):
        report = symderiv.check("graph-add-mul", {"q": "3"})
    assert report.ok
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert symderiv.check_answers("graph-add-mul", {"q": "3"}).ok


def test_verdicts_are_an_enum_with_marks():
    assert [v.mark for v in Verdict] == ["✓", "≈", "↳", "✗", "?"]
    assert Verdict.RIGHT.ok and Verdict.ROUNDED.ok and not Verdict.CARRIED.ok and not Verdict.UNREAD.ok


def test_the_diagnoses_are_the_rows_of_one_table():
    kinds = [r.kind for r in DIAGNOSES]
    assert len(kinds) == len(set(kinds))
    page = (ROOT / "docs" / "check.md").read_text(encoding="utf-8")
    assert diagnoses_table() in page, "regenerate the table in docs/check.md from symderiv.check.diagnoses_table()"


def test_a_new_diagnosis_kind_is_one_row(monkeypatch):
    """A row added to the table is offered where its recomputation reproduces the number: here a
    slip invented for the test, f6 = e^{−1} written as e^{−1}·10 (3.679)."""
    from symderiv.check import diagnoses
    row = diagnoses.Rule("times-ten", "the value times ten", lambda c: iter([("ten times", 10 * c.base)]))
    monkeypatch.setattr(diagnoses, "DIAGNOSES", diagnoses.DIAGNOSES + (row,))
    line = check_answers("sigmoid-neuron", {"f6": "3.679"}).lines[0]
    assert line.verdict is Verdict.WRONG and "times-ten" in {d.kind for d in line.diagnoses}
    assert abs(next(d.value for d in line.diagnoses if d.kind == "times-ten") - 10 * mpmath.exp(-1)) < 1e-40
