"""Issue 27: from_torch reads everyday PyTorch, and crashes on models it accepted are fixed.

Expected gradients come from PyTorch float64 autograd run here, on a float64 copy of each model;
entries are dyadic (0.5, -1.25, ...), so float32 and float64 hold the same exact numbers the
solution reads. Refusals are checked as the user would read them.
"""

from __future__ import annotations

import copy

import pytest
import sympy as sp

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional

import symderiv  # noqa: E402
from symderiv.pytorch import supported_table  # noqa: E402
from symderiv.pytorch.front import python_number  # noqa: E402

REL = 1e-12


def autograd(model, x):
    m = copy.deepcopy(model).double()
    out = m(x.double())
    out.backward()
    return {name: p.grad.reshape(-1).tolist() for name, p in m.named_parameters()}


def check(model, x):
    """The worked gradient of every parameter, by its own name and shape, against autograd."""
    sol = symderiv.from_torch(model, x)
    want = autograd(model, x)
    assert set(sol.results) >= set(want)
    for name, grads in want.items():
        got = [float(v) for row in sol.results[name].approx for v in row]
        assert len(got) == len(grads)
        for g, w in zip(got, grads):
            assert abs(g - w) <= 1e-15 + REL * abs(w), (name, got, grads)
    return sol


class Fn(nn.Module):
    def __init__(self, f, w):
        super().__init__()
        self.w = nn.Parameter(torch.tensor(w))
        self.f = f

    def forward(self, x):
        return self.f(self.w, x)


W = [[0.5, -1.25], [1.5, 0.75]]
X = torch.tensor([[0.25, -0.5], [1.0, 2.0]])
FUNCTIONS = {
    "x ** 2": lambda w, x: (w ** 2 * x).sum(),
    "x ** 0.5": lambda w, x: ((w * w + 1) ** 0.5).sum(),
    "x ** y": lambda w, x: ((w * w + 1) ** (x + 3)).sum(),
    "2 ** x": lambda w, x: (2 ** (w * x)).sum(),
    "torch.pow": lambda w, x: torch.pow(w - x, 3).sum(),
    ".pow": lambda w, x: (w * x).pow(2).sum(),
    "torch.sqrt": lambda w, x: torch.sqrt(w * w + x * x).sum(),
    ".sqrt": lambda w, x: (w * w + 1).sqrt().sum(),
    "torch.abs": lambda w, x: torch.abs(w - x).sum(),
    ".abs": lambda w, x: (w * x).abs().mean(),
    "torch.square": lambda w, x: torch.square(w + x).sum(),
    "torch.clamp": lambda w, x: torch.clamp(w * x, min=-0.5, max=1).sum(),
    ".clamp min": lambda w, x: (w * x).clamp(min=0).sum(),
    "torch.maximum": lambda w, x: torch.maximum(w, x).sum(),
    "torch.minimum": lambda w, x: torch.minimum(w, x * 2).sum(),
    "methods add sub mul div": lambda w, x: w.add(x).mul(w).sub(1).div(x + 3).sum(),
    "torch.add torch.mul": lambda w, x: torch.mul(torch.add(w, x), w).sum(),
    ".matmul": lambda w, x: x.matmul(w).sum(),
    "torch.mm": lambda w, x: torch.mm(x, w).tanh().sum(),
    ".mean() before the last op": lambda w, x: (w * x).mean() * 3,
    ".sum(axis=1)": lambda w, x: ((w * x).sum(axis=1) ** 2).sum(),
    ".mean(dim=0, keepdim=True)": lambda w, x: (w - (w * x).mean(dim=0, keepdim=True)).pow(2).sum(),
    "torch.sum over a dim": lambda w, x: torch.sum(w * x, 1).exp().sum(),
    "weight decay": lambda w, x: (x @ w).sum() + 0.01 * (w * w).sum(),
}


@pytest.mark.parametrize("case", FUNCTIONS)
def test_function_against_autograd(case):
    check(Fn(FUNCTIONS[case], W), X)


class FourMatmuls(nn.Module):
    """Attention's four products (q·kᵀ, ·v, and two more), which once collided on entry names."""

    def __init__(self):
        super().__init__()
        self.q, self.k = nn.Parameter(torch.tensor(W)), nn.Parameter(torch.tensor([[0.25, 0.5], [-0.5, 1.0]]))

    def forward(self, x):
        a = (x @ self.q) @ (x @ self.k).T
        return ((a @ x) @ x.T).tanh().sum()


class ParameterLoop(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Parameter(torch.tensor([0.5, -0.25]))
        self.b = nn.Parameter(torch.tensor([1.5, 0.75]))

    def forward(self, x):
        return sum((p * x).sum() for p in self.parameters())


def test_four_matmuls_and_a_loop_over_parameters_against_autograd():
    check(FourMatmuls(), X)
    check(ParameterLoop(), torch.tensor([0.5, 2.0]))


def test_a_python_float_is_its_shortest_decimal_or_a_square_root():
    assert python_number(0.1) == sp.Rational(1, 10)
    assert python_number(2 ** -0.5) == sp.sqrt(2) / 2
    assert python_number(-(3 ** 0.5)) == -sp.sqrt(3)
    assert python_number(0.7) == sp.Rational(7, 10) and python_number(3) == 3


def test_a_constant_scale_of_two_to_the_minus_half_is_exact():
    sol = check(Fn(lambda w, x: (w * x * 2 ** -0.5).sum(), W), X)
    assert sol.results["w"].exact[0, 0] == sp.Rational(1, 4) * sp.sqrt(2) / 2


def test_refusals_are_all_listed_at_once_as_the_user_wrote_them():
    def f(w, x):
        return F.cosine_similarity(torch.atan(w * x), x).sum() + torch.cumsum(w, 0).sum()
    with pytest.raises(symderiv.TorchError) as info:
        symderiv.from_torch(Fn(f, W), X)
    message = str(info.value)
    assert message.startswith("from_torch: 3 operations are not supported: (1) torch.atan at "
                              "test_from_torch_vocabulary.py:")
    assert "(2) F.cosine_similarity at " in message and "write (a * b).sum(-1)" in message
    assert "(3) torch.cumsum at " in message
    assert "\n" not in message


def test_a_power_is_named_as_written():
    with pytest.raises(symderiv.TorchError) as info:
        symderiv.from_torch(Fn(lambda w, x: (w // x).sum(), W), X)
    assert "not supported: x // y at test_from_torch_vocabulary.py:" in str(info.value)


def test_dropout_in_training_mode_is_refused_and_in_evaluation_mode_worked():
    model = nn.Sequential(nn.Linear(2, 1), nn.Dropout(0.25))
    with pytest.raises(symderiv.TorchError, match=r"in training mode: .*call model.eval\(\) first"):
        symderiv.from_torch(model, torch.tensor([0.5, 1.0]))
    assert symderiv.from_torch(model.eval(), torch.tensor([0.5, 1.0])).results["0.weight"]


def test_the_docs_supported_table_is_the_vocabulary_table():
    from pathlib import Path
    page = (Path(__file__).resolve().parents[1] / "docs" / "pytorch.md").read_text(encoding="utf-8")
    begin, end = "<!-- supported: generated by symderiv.pytorch.supported_table() -->", "<!-- end supported -->"
    assert page.split(begin)[1].split(end)[0].strip() == supported_table().strip()


HOSTILE = ["javascript:alert(1)", "x onerror=alert(1)", "a}\\input{/etc/passwd}{", "<script>alert(1)</script>"]


class Hostile(nn.Module):
    """Layers named by a ModuleDict's keys and add_module, which reach every output format."""

    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleDict({k: nn.Linear(2, 2) for k in HOSTILE})
        self.add_module("\\write18{ls}", nn.Tanh())
        self.register_buffer("scale", torch.tensor([0.5, 2.0]))
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.round(p * 16) / 16)

    def forward(self, x):
        for k in HOSTILE:
            x = self.layers[k](x)
        return getattr(self, "\\write18{ls}")(x * self.scale).sum()


def test_names_from_the_model_are_escaped_in_every_format_and_a_buffer_has_no_result():
    from symderiv.render.markdown import render_markdown
    sol = check(Hostile(), torch.tensor([0.5, -1.0]))
    assert "scale" not in sol.results and len(sol.results) == 2 * len(HOSTILE)
    tex, html, md = sol.to_latex(), sol.to_html(), render_markdown(sol, 4)
    assert "\\input" not in tex and "\\write18" not in tex
    for page in (html, md):  # the names are text: never a tag
        assert "<script>alert" not in page


def test_a_model_too_big_is_refused_up_front_by_the_size_limit():
    with pytest.raises(symderiv.SizeError, match=r"parameters and inputs would have 1,002,000 entries"):
        symderiv.from_torch(nn.Linear(1000, 1000), torch.ones(1000), loss=nn.MSELoss(), target=torch.ones(1000))


def test_an_integer_input_and_a_tuple_output_are_typed_errors():
    with pytest.raises(symderiv.TorchError, match="fails on this input in PyTorch: .*Long and Float"):
        symderiv.from_torch(nn.Linear(2, 1), torch.tensor([[1, 2]]))
    with pytest.raises(symderiv.TorchError, match="returns a tuple of 2 values"):
        symderiv.from_torch(Fn(lambda w, x: ((w * x).sum(), x), W), X)


def test_a_100_by_100_linear_layer_is_worked():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(100, 100), nn.Tanh(), nn.Linear(100, 1))
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.round(p * 64) / 64)
    sol = check(model, torch.round(torch.linspace(-1, 1, 100) * 8) / 8)
    assert sol.results["0.weight"].exact.shape == (100, 100)


class Masked(nn.Module):
    """A causal softmax: the first row keeps one entry (its weight is 1), the others a few."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.tensor([[0.5, -1.25, 0.75], [1.5, 0.25, -0.5], [0.125, 1.0, -2.0]]))
        self.v = nn.Parameter(torch.tensor([[0.5, 1.0], [-0.75, 0.25], [1.25, -0.5]]))
        self.register_buffer("tril", torch.tril(torch.ones(3, 3)))

    def forward(self, x):
        att = (x * self.w).masked_fill(self.tril == 0, float("-inf"))
        return ((F.softmax(att, dim=-1) @ self.v) ** 2).sum()


def test_a_causal_mask_of_minus_infinity_then_softmax_against_autograd():
    sol = check(Masked(), torch.tensor([[0.5, 1.0, -0.5], [2.0, -1.0, 0.25], [1.0, 0.5, 0.75]]))
    assert "tril" not in sol.results


LOGITS = [[0.5, -1.25, 0.75], [1.5, 0.25, -0.5]]
CLASSES = torch.tensor([2, 0])
PROBS = torch.tensor([[0.25, 0.5, 0.25], [0.5, 0.0, 0.5]], dtype=torch.float64)


class Lossy(nn.Module):
    """A loss inside forward, of the parameter (the logits) and a fixed target."""

    def __init__(self, f, squash=False):
        super().__init__()
        self.w = nn.Parameter(torch.tensor(LOGITS))
        self.f, self.squash = f, squash

    def forward(self, x):
        z = self.w * x
        return self.f(torch.sigmoid(z) if self.squash else z)


X23 = torch.tensor([[1.0, 0.5, -0.5], [0.25, 2.0, 1.0]])
IN_FORWARD = {
    "F.mse_loss": (lambda z: F.mse_loss(z, PROBS), False),
    "F.mse_loss sum": (lambda z: F.mse_loss(z, PROBS, reduction="sum"), False),
    "F.mse_loss none": (lambda z: F.mse_loss(z, PROBS, reduction="none").sum(), False),
    "F.l1_loss": (lambda z: F.l1_loss(z, PROBS), False),
    "F.binary_cross_entropy": (lambda p: F.binary_cross_entropy(p, PROBS), True),
    "F.binary_cross_entropy_with_logits": (lambda z: F.binary_cross_entropy_with_logits(z, PROBS), False),
    "F.cross_entropy": (lambda z: F.cross_entropy(z, CLASSES), False),
    "F.cross_entropy sum": (lambda z: F.cross_entropy(z, CLASSES, reduction="sum"), False),
    "F.cross_entropy probabilities": (lambda z: F.cross_entropy(z, PROBS), False),
    "F.cross_entropy label smoothing": (lambda z: F.cross_entropy(z, CLASSES, label_smoothing=0.25), False),
    "F.cross_entropy ignore_index": (lambda z: F.cross_entropy(z, torch.tensor([2, -100])), False),
    "F.nll_loss": (lambda z: F.nll_loss(F.log_softmax(z, dim=1), CLASSES), False),
    "F.huber_loss": (lambda z: F.huber_loss(z, PROBS * 4, delta=0.5), False),
    "F.smooth_l1_loss": (lambda z: F.smooth_l1_loss(z, PROBS * 4, beta=0.5), False),
    "F.kl_div": (lambda z: F.kl_div(F.log_softmax(z, dim=1), PROBS, reduction="batchmean"), False),
    "logsumexp": (lambda z: torch.logsumexp(z, dim=0).sum(), False),
    "log_softmax dim 0": (lambda z: (F.log_softmax(z, dim=0) * PROBS).sum(), False),
    "softmax dim 0": (lambda z: (torch.softmax(z, dim=0) * PROBS).sum(), False),
    "var std": (lambda z: z.var(dim=1).sum() + z.std() + z.var(dim=0, unbiased=False).sum(), False),
    "max min": (lambda z: z.max() + z.min(dim=1).values.sum() + z.amax(dim=0).sum(), False),
    "gelu exact and tanh": (lambda z: F.gelu(z).sum() + F.gelu(z, approximate="tanh").sum(), False),
    "silu softplus leaky elu-free": (lambda z: (F.silu(z) + F.softplus(z) + F.leaky_relu(z, 0.125)).sum(), False),
    "where masked_fill tril": (lambda z: torch.where(PROBS > 0.3, z, 0.5 * z).sum()
                               + z.masked_fill(PROBS == 0, 2.0).sum() + (z[:, :2].tril() ** 2).sum(), False),
    "cat stack chunk split": (lambda z: (torch.cat([z, z * 2], dim=1) ** 2).sum()
                              + (torch.stack(z.chunk(3, dim=1)) ** 3).sum() + z.split(1, dim=0)[1].exp().sum(),
                              False),
    "transpose permute unsqueeze squeeze view": (lambda z: (z.T.unsqueeze(0).permute(2, 1, 0).squeeze(2)
                                                           .reshape(3, 2) ** 2 * torch.arange(6.0).view(3, 2)).sum(),
                                                 False),
    "indexing": (lambda z: z[1, 2] * z[0] .sum() + z[:, torch.tensor([2, 0, 2])].pow(2).sum()
                 + z[..., None][0, 1:, 0].sum(), False),
    "tensors made in forward": (lambda z: (z * torch.ones(2, 3) + torch.arange(3.0) * z).sum()
                                + (z @ torch.zeros(3, 1)).sum(), False),
    "sdpa causal": (lambda z: F.scaled_dot_product_attention(z.unsqueeze(0), z.unsqueeze(0), z.unsqueeze(0),
                                                             is_causal=True).sum(), False),
    "bmm": (lambda z: torch.bmm(z.unsqueeze(0), z.T.unsqueeze(0)).tanh().sum(), False),
    "F.linear": (lambda z: F.linear(z, z.flip(0), z[0, :2]).tanh().sum(), False),
    "embedding": (lambda z: F.embedding(torch.tensor([[1, 0], [1, 1]]), z).pow(2).sum(), False),
}


@pytest.mark.parametrize("case", IN_FORWARD)
def test_losses_and_operations_in_forward_against_autograd(case):
    f, squash = IN_FORWARD[case]
    torch.set_default_dtype(torch.float64)  # the tensors made in forward, as the float64 reference makes them
    try:
        check(Lossy(f, squash).double(), X23.double())
    finally:
        torch.set_default_dtype(torch.float32)


GIVEN_LOSSES = {
    "L1Loss": (nn.L1Loss(), PROBS),
    "BCEWithLogitsLoss": (nn.BCEWithLogitsLoss(reduction="sum"), PROBS),
    "NLLLoss": (nn.NLLLoss(), CLASSES),
    "HuberLoss": (nn.HuberLoss(delta=0.5), PROBS * 4),
    "SmoothL1Loss": (nn.SmoothL1Loss(beta=0.5), PROBS * 4),
    "KLDivLoss": (nn.KLDivLoss(reduction="batchmean"), PROBS),
    "CrossEntropyLoss label smoothing": (nn.CrossEntropyLoss(label_smoothing=0.25), CLASSES),
    "CrossEntropyLoss ignore_index": (nn.CrossEntropyLoss(ignore_index=0), CLASSES),
}


class Logits(nn.Module):
    def __init__(self, log: bool):
        super().__init__()
        self.w = nn.Parameter(torch.tensor(LOGITS))
        self.log = log

    def forward(self, x):
        z = self.w * x
        return F.log_softmax(z, dim=1) if self.log else z


@pytest.mark.parametrize("case", GIVEN_LOSSES)
def test_losses_given_as_loss_against_autograd(case):
    loss, target = GIVEN_LOSSES[case]
    model = Logits(case in ("NLLLoss", "KLDivLoss"))
    sol = symderiv.from_torch(model.double(), X23.double(), loss=loss, target=target)
    m = copy.deepcopy(model).double()
    loss(m(X23.double()), target).backward()
    got = [float(v) for row in sol.results["w"].approx for v in row]
    for g, w in zip(got, m.w.grad.reshape(-1).tolist()):
        assert abs(g - w) <= 1e-15 + REL * abs(w), (case, got, m.w.grad)


def test_gradients_for_inputs_marked_requires_grad_or_named_in_wrt():
    model = Fn(lambda w, x: torch.tanh(x @ w).sum(), W)
    x = X.clone().requires_grad_(True)
    sol = symderiv.from_torch(model, x)
    reference = copy.deepcopy(model).double()
    x64 = X.double().requires_grad_(True)
    reference(x64).backward()
    got = [float(v) for row in sol.results["x"].approx for v in row]
    for g, w in zip(got, x64.grad.reshape(-1).tolist()):
        assert abs(g - w) <= 1e-15 + REL * abs(w)
    assert sol.results["x"].exact.shape == (2, 2)
    assert "x" in symderiv.from_torch(model, X, wrt=["x"]).results
    assert "x" not in symderiv.from_torch(model, X).results
    with pytest.raises(symderiv.TorchError, match="wrt: y is not a float argument of forward"):
        symderiv.from_torch(model, X, wrt=["y"])
