"""A model is its builder plus one registration: adding one there puts it in `list`, `solve`,
`exercise`, `check` and the snapshot cases, with nothing else to edit."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import symderiv
from symderiv.cli import main
from symderiv.models import MODELS, Param, Setup, register

sys.path.insert(0, str(Path(__file__).parent / "snapshots"))
import cases  # noqa: E402  (the snapshot suite's case list)


@pytest.fixture
def throwaway():
    """f = (w·x)², registered for the test only: at w = 3, x = -2, f = 36 and ∂f/∂w = 2·(w·x)·x = 24."""
    @register("throwaway-square", Param("w", 3, "weight"), Param("x", -2, "input"), title="f = (w·x)²",
              exercise=Setup({"w": "int(1..4)", "x": "int(-3..-1)"}, ("f", "∂f/∂w")), examples=({"w": "1/2"},))
    def build(w, x):
        g = symderiv.Graph("f = (w x)^2")
        p = g.mul(g.input("w", w), g.input("x", x), name="p")
        return g.solution(g.mul(p, p, name="f"), model="throwaway-square", parameters=dict(w=w, x=x))
    try:
        yield "throwaway-square"
    finally:
        del MODELS["throwaway-square"]


def test_a_registered_model_is_listed_solved_exercised_checked_and_snapshotted(throwaway, capsys):
    assert main(["list"]) == 0
    assert capsys.readouterr().out.splitlines()[-1].split()[0] == throwaway  # after the catalogue's
    sol = symderiv.solve(throwaway)
    assert sol.results["w"].exact == 24 and sol.results["x"].exact == -36  # by hand: 2·(w·x)·w = -36
    assert main(["solve", throwaway, "--set", "w=1/2"]) == 0
    assert "f = p·p" in capsys.readouterr().out
    ex = symderiv.exercises(throwaway, 3, seed=2)
    for e in ex:
        w, x = e.parameters["w"], e.parameters["x"]
        assert {a.name: a.value for a in e.asked} == {"f": float((w * x) ** 2), "∂f/∂w": float(2 * w * x * x)}
    report = symderiv.check_answers(throwaway, "f = 36\n∂f/∂w = 24\n∂f/∂x = -35\n")
    assert [line.verdict for line in report.lines][:2] == ["right", "right"] and not report.ok
    assert f"{throwaway}-defaults" in cases.cases() and f"{throwaway}-override1" in cases.cases()
