"""Every value on the page: a step that has a value prints it, in every printer, for every model
(its defaults and its registered examples), and a subtraction of a number reads as one."""

from __future__ import annotations

import re

import mpmath
import pytest
import sympy as sp

import symderiv
from symderiv.quantities import SolutionIndex
from symderiv.record import Step
from symderiv.render.chain import LATEX, TEXT, chain

CASES = [(m, {}) for m in symderiv.models()] + \
    [(m, s) for m in symderiv.models() for s in symderiv.get_model(m).examples]


@pytest.mark.parametrize("model, settings", CASES, ids=[f"{m}-{i}" for i, (m, _) in enumerate(CASES)])
def test_every_step_with_a_value_prints_one(model, settings):
    sol = symderiv.solve(model, **settings)
    for section in sol.sections:
        for step in section.items:
            if isinstance(step, Step) and (step.exact is not None or step.approx is not None):
                for printer in (TEXT, LATEX):
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


def test_the_staged_sigmoid_names_its_shortcut_with_the_numbers():
    # by hand at the defaults: z = f4 = 2·(-1) + (-3)·(-2) - 3 = 1, σ(1) = 1/(1 + e^-1) ≈ 0.7311,
    # σ(1)(1 - σ(1)) ≈ 0.1966, and the staged locals are -1/f7² ≈ -0.5344, 1, e^-1 ≈ 0.3679, -1
    out = symderiv.solve("sigmoid-neuron").to_text()
    assert "(-0.5344)·1·0.3679·(-1) ≈ 0.1966" in out.replace("\n", " ")
    assert "≈ 0.7311·0.2689" in out.replace("\n", " ")
    assert "shortcut" not in symderiv.solve("sigmoid-neuron", staging="sigmoid").to_text()


@pytest.mark.parametrize("model", ["graph-add-mul", "graph-mul-add", "sigmoid-neuron", "max-gate"])
def test_what_a_gradient_means_is_a_finite_difference(model):
    """The sensitivity line's prediction against a central finite difference of the model itself
    (solved again with the input moved by ±0.01: an independent route, no gradient involved)."""
    sol = symderiv.solve(model)
    line = next(r for s in sol.sections for r in s.items if not isinstance(r, Step)
                and "What a gradient means" in sol.note_text(r.note))
    text_ = sol.note_text(line.note)
    name, predicted = re.search(r"raising (\w+) by 0\.01 .* ≈ (-?[\d.e-]+),", text_).groups()
    params = {p.name: p.default for p in symderiv.get_model(model).params}

    def output(delta):
        s = symderiv.solve(model, **{name: sympy_add(params[name], delta)})
        last = [st for sec in s.sections if sec.kind == "forward" for st in sec.items if isinstance(st, Step)][-1]
        return mpmath.mpf(last.approx) if last.approx is not None else mpmath.mpf(str(last.exact))

    def sympy_add(value, delta):
        return sp.nsimplify(value) + sp.Rational(delta)

    difference = (output("1/100") - output("-1/100")) / 2
    assert abs(difference - mpmath.mpf(predicted)) <= abs(difference) * 2e-3 + 1e-12


@pytest.mark.parametrize("model", [m for m in symderiv.models() if m in ("rnn", "lstm-step", "autoencoder",
                                                                          "dot-attention", "self-attention")])
def test_every_matrix_product_rule_states_shapes_that_conform(model):
    sol = symderiv.solve(model)
    stated = 0
    for section in sol.sections:
        for step in section.items:
            if not isinstance(step, Step) or step.formula is None or not step.formula.has(sp.MatMul):
                continue
            if step.quantity.role.value != "gradient":
                continue
            note = sol.note_text(step.note)
            m = re.search(r"shapes: (\d+)×(\d+) = ([^;]+)", note)
            assert m, f"{sol.note_text((step.lhs,))} states no shapes"
            stated += 1
            whole = (int(m.group(1)), int(m.group(2)))
            assert whole == step.quantity.shape
            for term in m.group(3).split(" + "):
                dims = [tuple(map(int, f.split("×"))) for f in re.findall(r"\((\d+×\d+)\)", term)]
                if len(dims) < 2:
                    continue
                for (_, inner), (rows, _) in zip(dims, dims[1:]):
                    assert inner == rows, term  # the product conforms
                assert (dims[0][0], dims[-1][1]) == whole, term
    assert stated


def test_the_matrix_models_show_their_element_wise_local_derivatives_with_numbers():
    # by hand: tanh'(z) = 1 - tanh(z)², applied to the forward pass's h2 (the rnn's second hidden state)
    sol = symderiv.solve("rnn")
    index = SolutionIndex(sol)
    h2 = [float(v.approx) for v in index.find("h2").values()]
    step = index.find("∂L/∂z2").steps[0]
    note = sol.note_text(step.note)
    assert "∂h2_1/∂z2_1 = 1 - h2_1^2" in note
    shown = [float(x) for x in re.search(r"all of them ≈ \[([^\]]+)\]", note).group(1).split(",")]
    assert shown == pytest.approx([1 - h * h for h in h2], abs=6e-5)


@pytest.mark.parametrize("model, settings", CASES, ids=[f"{m}-{i}" for i, (m, _) in enumerate(CASES)])
def test_no_exact_slot_restates_names_where_a_float_follows(model, settings):
    sol = symderiv.solve(model, **settings)
    for section in sol.sections:
        for step in section.items:
            if not isinstance(step, Step) or step.approx is None or step.exact is None:
                continue
            if not step.exact.free_symbols:
                continue
            lhs, links = chain(sol, step, 4, TEXT)
            restated = TEXT.expression(step.exact, sol.names).replace(" ", "")
            later = [link.replace(" ", "") for _, link in links[1:]]  # the formula itself may be it
            assert restated not in later, f"{lhs}: the exact slot restates {restated}"
