"""Every value on the page: a step that has a value prints it, in every printer, for every model
(its defaults and its registered examples), and a subtraction of a number reads as one."""

from __future__ import annotations

import pytest

import symderiv
from symderiv.printing import latex, text
from symderiv.record import Step
from symderiv.render import chain

CASES = [(m, {}) for m in symderiv.models()] + \
    [(m, s) for m in symderiv.models() for s in symderiv.get_model(m).examples]


@pytest.mark.parametrize("model, settings", CASES, ids=[f"{m}-{i}" for i, (m, _) in enumerate(CASES)])
def test_every_step_with_a_value_prints_one(model, settings):
    sol = symderiv.solve(model, **settings)
    for section in sol.sections:
        for step in section.items:
            if isinstance(step, Step) and (step.exact is not None or step.approx is not None):
                for printer in (text, latex):
                    lhs, links = chain(sol, step, 4, printer)
                    assert links, f"{section.title}: {lhs} is printed without its value"


def test_a_given_image_and_the_inputs_gradient_are_printed_whole():
    out = symderiv.solve("conv2d").to_text()
    # the catalogue's image, typed from ../shared/CATALOGUE.md's conv2d row
    assert "X = [[3, 0, 1, 2, 7, 4], [1, 5, 8, 9, 3, 1]," in out
    # by hand: with upstream ones, ∂L/∂X[i][j] sums the kernel entries that cover (i, j); the
    # kernel's columns are 1, 0, -1, so column 1 gets 1 per covering row, column 3 gets 1 + 0 - 1 = 0
    assert "∂L/∂X = [[1, 1, 0, 0, -1, -1], [2, 2, 0, 0, -2, -2], [3, 3, 0, 0, -3, -3]," in out


def test_subtracting_a_number_reads_as_a_subtraction():
    out = symderiv.derive("x - 2", x=3).to_text()
    assert "f1 = x - 2 = 3 - 2 = 1" in out and "1·2" not in out
