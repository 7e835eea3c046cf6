"""Acceptance (issue 27): a CNN with BatchNorm2d (training and evaluation) and cross-entropy over a
batch of two images, and the recurrent cells of torch.nn over two steps, against PyTorch float64
autograd (every parameter gradient to 1e-12 relative); BatchNorm's also against mpmath at 50
digits. Entries are multiples of 1/16, so float32 and float64 hold the numbers the solution reads.
"""

from __future__ import annotations

import copy

import mpmath
import pytest

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional

import symderiv  # noqa: E402


def dyadic_(model, seed):
    torch.manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.round(torch.randn(p.shape) * 8) / 16)
    return model


def compare(sol, model, inputs, loss=None, target=None):
    reference = copy.deepcopy(model).double()
    out = reference(*(x.double() if x.is_floating_point() else x for x in inputs))
    (loss(out, target) if loss is not None else out).backward()
    worst = 0.0
    for name, p in reference.named_parameters():
        result = sol.results[name]
        got = [float(v) for row in result.approx for v in row] if result.approx is not None else \
            list(sol.worked[name])
        assert (result.exact.shape == tuple(p.shape) if p.dim() != 1 else result.exact.shape == (p.numel(), 1)), name
        want = p.grad.reshape(-1).tolist()
        assert len(got) == len(want), name
        scale = max(abs(w) for w in want)
        for g, w in zip(got, want):
            assert abs(g - w) <= 1e-12 * max(abs(w), 1e-3 * scale) + 1e-15, (name, got, want)
            worst = max(worst, abs(g - w) / max(abs(w), 1e-3 * scale, 1e-300))
    return worst


def cnn(train: bool):
    model = nn.Sequential(nn.Conv2d(1, 2, 2), nn.BatchNorm2d(2), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(2, 3))
    dyadic_(model, 4)
    with torch.no_grad():
        model[1].running_mean.copy_(torch.tensor([0.25, -0.5]))
        model[1].running_var.copy_(torch.tensor([1.5, 0.75]))
    return model.train(train)


IMAGES = torch.tensor([[[[0.5, -1.0, 2.0], [1.5, 0.25, -0.5], [0.0, 1.0, -2.0]]],
                       [[[1.0, 0.5, -0.5], [0.25, 2.0, 1.0], [-1.0, 0.0, 0.75]]]])


@pytest.mark.parametrize("train", [True, False])
def test_a_cnn_with_batchnorm_and_cross_entropy_on_a_batch_of_two(train):
    model = cnn(train)
    target = torch.tensor([2, 0])
    sol = symderiv.from_torch(model, IMAGES, loss=nn.CrossEntropyLoss(), target=target)
    compare(sol, model, (IMAGES,), nn.CrossEntropyLoss(), target)
    assert "1.running_mean" not in sol.results


def test_batchnorm_in_training_against_mpmath_at_50_digits():
    """BatchNorm1d's gradients by the textbook formula, evaluated in mpmath at 50 digits:
    x̂ = (x − μ)/√(σ² + ε), dL/dγ = Σ dy·x̂, dL/dβ = Σ dy, for L = Σ c ⊙ y."""
    model = nn.BatchNorm1d(2)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([1.5, -0.5]))
        model.bias.copy_(torch.tensor([0.25, 0.75]))
    x = torch.tensor([[0.5, -1.0], [1.5, 0.25], [-0.75, 2.0]])
    weights = torch.tensor([[1.0, 2.0], [-1.0, 0.5], [0.25, -2.0]])

    class Weighted(nn.Module):
        def __init__(self):
            super().__init__()
            self.bn = model

        def forward(self, x):
            return (self.bn(x) * weights).sum()
    sol = symderiv.from_torch(Weighted(), x)
    with mpmath.workdps(50):  # the module-wide precision other tests set is left as it was
        eps = mpmath.mpf(1) / 100000
        for c in range(2):
            column = [mpmath.mpf(float(v)) for v in x[:, c].tolist()]
            mu = sum(column) / 3
            var = sum((v - mu) ** 2 for v in column) / 3
            xhat = [(v - mu) / mpmath.sqrt(var + eps) for v in column]
            dgamma = sum(mpmath.mpf(float(weights[i, c])) * xhat[i] for i in range(3))
            dbeta = sum(mpmath.mpf(float(weights[i, c])) for i in range(3))
            got_gamma = sol.results["bn.weight"].exact[c, 0]
            assert abs(mpmath.mpf(str(got_gamma.evalf(60))) - dgamma) < mpmath.mpf(10) ** -45
            assert sol.results["bn.bias"].exact[c, 0] == sympy_number(dbeta)


def sympy_number(x):
    import sympy as sp
    return sp.nsimplify(float(x))


class TwoSteps(nn.Module):
    def __init__(self, cell):
        super().__init__()
        self.cell = cell

    def forward(self, xs):
        if isinstance(self.cell, nn.LSTMCell):
            h, c = self.cell(xs[0])
            h, c = self.cell(xs[1], (h, c))
        else:
            h = self.cell(xs[0])
            h = self.cell(xs[1], h)
        return (h * h).sum()


@pytest.mark.parametrize("cell", ["RNNCell", "GRUCell", "LSTMCell"])
def test_recurrent_cells_over_two_steps(cell):
    model = TwoSteps(dyadic_(getattr(nn, cell)(2, 3), 5))
    xs = torch.tensor([[[0.5, -1.0]], [[1.5, 0.25]]])
    sol = symderiv.from_torch(model, xs)
    compare(sol, model, (xs,))
