"""Behaviour kept: every model (defaults and two overrides) and the README's formula and traced
examples print exactly what ``tests/snapshots/generate.py`` recorded, in every format.

A snapshot guards refactors only; the numbers themselves are checked independently elsewhere
(hand derivations, PyTorch, mpmath).
"""

import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parent / "snapshots"))
from cases import FORMATS, cases, render  # noqa: E402

OUT = pathlib.Path(__file__).parent / "snapshots" / "out"
CASES = cases()


def test_every_case_is_recorded():
    assert sorted(p.name for p in OUT.iterdir()) == sorted(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_output_is_unchanged(name):
    sol = CASES[name]()
    for fmt in FORMATS:
        want = (OUT / name / fmt).read_text(encoding="utf-8")
        assert render(sol, fmt) == want, f"{name} {fmt}: differs from tests/snapshots/out/{name}/{fmt}"
