"""Issue 25's acceptance, on answer sets typed as students type them (tests/check_sets: derived by
hand with mpmath in derive.py, never with symderiv), and the notations students write."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent / "check_sets"
ROOT = HERE.parents[1]


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"check_sets_{name}", HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


derive, score, notations = _load("derive"), _load("score"), _load("notations")


def test_the_sets_are_what_the_derivation_writes():
    for spec in derive.sets():
        text, _ = derive.write_set(spec)
        assert (HERE / "sets" / f"{spec['id']}.txt").read_bytes() == text.encode(spec["encoding"]), spec["id"]


def test_no_right_value_is_marked_wrong_and_every_planted_slip_is_found():
    import symderiv
    from symderiv.check import decode
    c = score.score(symderiv.check_answers, decode)
    assert c["sets"] >= 80 and c["right_sets"] >= 40 and c["slips"] >= 40
    assert c["false_alarms"] == 0 and c["right_sets_with_false_alarm"] == 0
    assert c["refused"] == 0 and c["internal"] == 0 and c["unread_lines"] == 0
    assert c["found"] == c["slips"]
    # a diagnosis, where one is given, is the planted kind and reproduces the number
    assert c["diagnosis_right"] == c["diagnosed"] == c["diagnosis_reproduces"]


@pytest.mark.parametrize("what, model, text, expected", notations.NOTATIONS, ids=[n[0] for n in notations.NOTATIONS])
def test_each_notation_is_read_or_refused_as_documented(what, model, text, expected):
    got = notations.outcome(model, text)
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert g.startswith(e), (g, e)


def test_the_docs_notations_table_is_generated_from_these_rows():
    page = (ROOT / "docs" / "check.md").read_text(encoding="utf-8")
    assert notations.table() in page, "regenerate it: python3 tests/check_sets/notations.py"
