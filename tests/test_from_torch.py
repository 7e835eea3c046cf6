"""Issue 18: symderiv.from_torch, a traced nn.Module worked by hand.

Every expected gradient here comes from PyTorch float64 autograd, run in this file on a float64
copy of the model whose entries are set to the exact values the solution is meant to read them
as (the shortest decimal of each float32 entry, found with numpy's own ``repr``), or from the
hand derivation of a published worked example (Matt Mazur's 2-2-2 network).
"""

from __future__ import annotations

import copy
import re
import random
import struct
import sys
from fractions import Fraction

import pytest

torch = pytest.importorskip("torch")
np = pytest.importorskip("numpy")
nn = torch.nn
F = torch.nn.functional

import symderiv  # noqa: E402
from symderiv.pytorch import INSTALL, shortest_decimal  # noqa: E402

REL, ABS = 1e-10, 1e-13


def decimal_of(x: float, dtype) -> Fraction:
    """numpy's shortest round-trip repr at ``dtype``, as a Fraction (the oracle)."""
    return Fraction(repr(float(x)) if dtype == torch.float64 else
                    np.format_float_positional({torch.float32: np.float32, torch.float16: np.float16}[dtype](x),
                                               unique=True, trim="-"))


def at_decimals(t: torch.Tensor) -> torch.Tensor:
    """``t`` in float64 at the shortest decimals of its float32 entries."""
    if not t.is_floating_point():
        return t
    return torch.tensor([float(decimal_of(v, t.dtype)) for v in t.reshape(-1).tolist()],
                        dtype=torch.float64).reshape(t.shape)


def autograd_grads(model, inputs, loss=None, target=None) -> dict[str, list[float]]:
    """Every parameter's gradient by PyTorch float64 autograd at the decimals of its entries."""
    m = copy.deepcopy(model).double().eval()
    with torch.no_grad():
        for (name, p), (_, p32) in zip(m.named_parameters(), model.named_parameters()):
            p.copy_(at_decimals(p32.detach()))
    xs = inputs if isinstance(inputs, tuple) else (inputs,)
    out = m(*(at_decimals(x) for x in xs))
    if loss is not None:
        out = loss(out, at_decimals(target))
    out.backward()
    return {name: p.grad.reshape(-1).tolist() for name, p in m.named_parameters()}


def worked(sol, name: str) -> list[float]:
    """A result's floats in torch's order (a conv weight: its exact array of the weight's shape)."""
    result = sol.results[name]
    if result.approx is None:  # an array past two dims: its floats by the parameter's name
        return list(sol.worked[name])
    return [float(v) for row in result.approx for v in row]


def assert_close(got: list[float], want: list[float]) -> None:
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert abs(g - w) <= ABS + REL * abs(w), (got, want)


def check(model, inputs, loss=None, target=None, names=None):
    sol = symderiv.from_torch(model, inputs, loss=loss, target=target)
    want = autograd_grads(model, inputs, loss, target)
    for name in names or want:
        assert_close(worked(sol, name), want[name])
    return sol


# ----- values ----------------------------------------------------------------------------------

def test_a_float32_entry_is_its_shortest_decimal():
    f32 = struct.unpack("f", struct.pack("f", 0.15))[0]  # 0.1500000059604644775390625
    assert shortest_decimal(f32, 24, -126) == Fraction(3, 20)
    assert shortest_decimal(f32, 53, -1022) == Fraction("0.15000000596046448")  # read as a float64
    third = struct.unpack("f", struct.pack("f", 1 / 3))[0]
    assert shortest_decimal(third, 24, -126) == Fraction("0.33333334")


@pytest.mark.parametrize("dtype, precision, low", [(torch.float32, 24, -126), (torch.float64, 53, -1022),
                                                   (torch.float16, 11, -14)])
def test_shortest_decimal_agrees_with_numpy_repr(dtype, precision, low):
    rng = random.Random(18)
    values = [rng.uniform(-1, 1) * 10 ** rng.randint(-40, 30) for _ in range(400)]
    values += [2.0 ** -130, 2.0 ** -149, 2.0 ** 10, 1.0, 0.1, 2.0 ** -24, 65504.0, 6e-8]
    t = torch.tensor(values, dtype=dtype)
    for v in t.tolist():
        if v != 0 and abs(v) != float("inf"):
            assert shortest_decimal(v, precision, low) == decimal_of(v, dtype), v


def test_exact_binary_keeps_the_binary_value():
    net = nn.Sequential(nn.Linear(1, 1, bias=False, dtype=torch.float32))  # float32 whatever the default
    with torch.no_grad():
        net[0].weight.fill_(0.15)
    x = torch.tensor([1.0], dtype=torch.float32)
    f32 = Fraction(struct.unpack("f", struct.pack("f", 0.15))[0])
    decimal = symderiv.from_torch(net, x, loss=nn.MSELoss(), target=torch.tensor([0.0]))
    binary = symderiv.from_torch(net, x, loss=nn.MSELoss(), target=torch.tensor([0.0]), exact_binary=True)
    # L = (w·1 − 0)², dL/dw = 2w, by hand
    assert decimal.results["0.weight"].exact[0, 0] == 2 * Fraction(3, 20)
    assert binary.results["0.weight"].exact[0, 0] == 2 * f32


# ----- the models of the issue -----------------------------------------------------------------

def mazur():
    """Matt Mazur's 2-2-2 sigmoid network ("A Step by Step Backpropagation Example")."""
    net = nn.Sequential(nn.Linear(2, 2), nn.Sigmoid(), nn.Linear(2, 2), nn.Sigmoid())
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[0.15, 0.20], [0.25, 0.30]]))
        net[0].bias.fill_(0.35)
        net[2].weight.copy_(torch.tensor([[0.40, 0.45], [0.50, 0.55]]))
        net[2].bias.fill_(0.60)
    return net, torch.tensor([0.05, 0.10]), torch.tensor([0.01, 0.99])


def test_the_2_2_2_sigmoid_network_against_autograd_and_by_hand():
    net, x, y = mazur()
    sol = check(net, x, nn.MSELoss(reduction="sum"), y)
    # Mazur, with E = ½Σ(t − o)²: ∂E/∂w5 = 0.082167041, ∂E/∂w1 = 0.000438568; MSELoss(sum) is 2E
    assert abs(float(sol.results["2.weight"].approx[0][0]) - 2 * 0.082167041) < 2e-9
    assert abs(float(sol.results["0.weight"].approx[0][0]) - 2 * 0.000438568) < 2e-9
    titles = [s.title for s in sol.sections]
    assert titles[:3] == ["Given", "Forward: layer 0, Linear(in_features=2, out_features=2, bias=True)",
                          "Forward: layer 1, Sigmoid()"]
    assert "Forward: the loss, MSELoss(reduction='sum')" in titles
    assert titles.index("Backward: layer 3, Sigmoid()") < titles.index(
        "Backward: layer 0, Linear(in_features=2, out_features=2, bias=True)")
    assert sol.results["0.weight"].exact.shape == (2, 2)
    assert sol.check_against_autograd() < 1e-12


def test_every_format_prints_the_parameter_names():
    net, x, y = mazur()
    sol = symderiv.from_torch(net, x, loss=nn.MSELoss(), target=y)
    assert "0.weight = [[3/20, 1/5], [1/4, 3/10]]" in sol.to_text()
    assert "∂L/∂0.weight = (∂L/∂h0)·xᵀ" in sol.to_text()
    latex = sol.to_latex()
    assert "W^{[0]}" in latex and "b^{[2]}" in latex
    assert "<math" in sol.to_html()
    data = sol.to_dict()
    assert data["results"]["2.bias"]["exact"][0][0]
    assert sol.to_dot().startswith("digraph")


def test_a_cnn_against_autograd():
    torch.manual_seed(1)
    cnn = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(18, 2))
    x = torch.randn(1, 1, 6, 6)
    sol = symderiv.from_torch(cnn, x, loss=nn.CrossEntropyLoss(), target=torch.tensor([1]))
    want = autograd_grads(cnn, x, nn.CrossEntropyLoss(), torch.tensor([1]))
    assert sol.results["0.weight"].exact.shape == (2, 1, 3, 3)
    kernels = worked(sol, "0.weight")
    assert_close(kernels, want["0.weight"])
    for name in ("0.bias", "4.weight", "4.bias"):
        assert_close(worked(sol, name), want[name])
    assert any(s.title.startswith("Backward: layer 2, MaxPool2d") for s in sol.sections)


class Head(nn.Module):
    """One attention head, written by hand."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(2)
        self.Wq, self.Wk, self.Wv = (nn.Parameter(torch.randn(2, 2) / 2) for _ in range(3))

    def forward(self, x):
        q, k, v = x @ self.Wq, x @ self.Wk, x @ self.Wv
        weights = F.softmax(torch.tanh(q @ k.T) / 2, dim=-1)
        return (weights @ v).sum()


def test_a_hand_written_attention_head_against_autograd():
    sol = check(Head(), torch.tensor([[1.0, 0.5], [-0.5, 2.0]]))
    assert "matmul3 = matmul·matmul1ᵀ" in sol.to_text()  # k.T folded into the product (fx's matmul_3)


# ----- each module and function alone ----------------------------------------------------------

class Fn(nn.Module):
    """``f(w, x)`` with a parameter ``w``, so that every function has a gradient to check."""

    def __init__(self, f, shape):
        super().__init__()
        torch.manual_seed(3)
        self.w = nn.Parameter(torch.rand(shape) + 0.5)
        self.f = f

    def forward(self, x):
        return self.f(self.w, x)


V = torch.tensor([0.5, -1.25, 2.0])
M = torch.tensor([[0.5, -1.0], [1.5, 0.25]])
IMG = torch.tensor([[[[0.5, -1.0, 2.0, 0.0], [1.5, 0.25, -0.5, 1.0], [0.0, 1.0, -2.0, 0.5],
                      [1.0, -0.5, 0.75, 2.5]]]])
MODULES = {
    "Linear": (nn.Linear(3, 2), V, nn.MSELoss(), torch.tensor([1.0, -1.0])),
    "Linear on rows": (nn.Linear(2, 2), M, nn.MSELoss(), torch.tensor([[1.0, -1.0], [0.5, 0.0]])),
    "Linear without bias": (nn.Linear(3, 1, bias=False), V, nn.MSELoss(), torch.tensor([0.5])),
    "Conv2d": (nn.Conv2d(1, 1, 2), IMG, None, None),
    "Conv2d stride padding": (nn.Conv2d(1, 2, 3, stride=2, padding=1), IMG, None, None),
    "MaxPool2d": (nn.Sequential(nn.Conv2d(1, 1, 1), nn.MaxPool2d(2)), IMG, None, None),
    "AvgPool2d": (nn.Sequential(nn.Conv2d(1, 1, 1), nn.AvgPool2d(2, stride=1)), IMG, None, None),
    "ReLU": (nn.Sequential(nn.Linear(3, 3), nn.ReLU()), V, None, None),
    "Sigmoid": (nn.Sequential(nn.Linear(3, 2), nn.Sigmoid()), V, nn.BCELoss(), torch.tensor([1.0, 0.0])),
    "Tanh": (nn.Sequential(nn.Linear(3, 2), nn.Tanh()), V, None, None),
    "Softmax": (nn.Sequential(nn.Linear(3, 3), nn.Softmax(dim=-1)), V, nn.MSELoss(), torch.tensor([1.0, 0.0, 0.0])),
    "Flatten": (nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(8, 1)), IMG, None, None),
    "Identity": (nn.Sequential(nn.Linear(3, 2), nn.Identity()), V, None, None),
    "Dropout": (nn.Sequential(nn.Linear(3, 2), nn.Dropout(0.5)).eval(), V, None, None),
    "MSELoss sum": (nn.Linear(3, 2), V, nn.MSELoss(reduction="sum"), torch.tensor([1.0, -1.0])),
    "CrossEntropyLoss": (nn.Linear(3, 3), V, nn.CrossEntropyLoss(), torch.tensor(2)),
    "CrossEntropyLoss batch": (nn.Linear(2, 3), M, nn.CrossEntropyLoss(reduction="sum"), torch.tensor([0, 2])),
    "CrossEntropyLoss probabilities": (nn.Linear(3, 2), V, nn.CrossEntropyLoss(), torch.tensor([0.25, 0.75])),
    "BCELoss sum": (nn.Sequential(nn.Linear(3, 2), nn.Sigmoid()), V, nn.BCELoss(reduction="sum"),
                    torch.tensor([0.5, 1.0])),
}


class Summed(nn.Module):
    """A module returning the sum of another's output: its loss."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        return self.inner(x).sum()


@pytest.mark.parametrize("case", MODULES)
def test_each_module_alone_against_autograd(case):
    model, x, loss, target = MODULES[case]
    check(Summed(model) if loss is None else model, x, loss, target)


FUNCTIONS = {
    "+": (lambda w, x: (w + x).sum(), (2, 2), M),
    "+ broadcast": (lambda w, x: (x + w).sum(), (2,), M),
    "-": (lambda w, x: (w - x).sum(), (2, 2), M),
    "- number": (lambda w, x: (3 - w).sum(), (2, 2), M),
    "*": (lambda w, x: (w * x).sum(), (2, 2), M),
    "* number": (lambda w, x: (w * 1.5).sum(), (2, 2), M),
    "/": (lambda w, x: (x / w).sum(), (2, 2), M),
    "/ number": (lambda w, x: (w / 4).sum(), (2, 2), M),
    "unary -": (lambda w, x: (-w * x).sum(), (2, 2), M),
    "@": (lambda w, x: (w @ x).sum(), (2, 2), M),
    "@ vector": (lambda w, x: w @ x, (3,), V),
    "torch.matmul": (lambda w, x: torch.matmul(x, w).sum(), (2, 2), M),
    "torch.relu": (lambda w, x: torch.relu(w * x).sum(), (2, 2), M),
    "F.relu": (lambda w, x: F.relu(w * x).sum(), (2, 2), M),
    "torch.sigmoid": (lambda w, x: torch.sigmoid(w * x).sum(), (2, 2), M),
    "torch.tanh": (lambda w, x: torch.tanh(w * x).sum(), (2, 2), M),
    "torch.exp": (lambda w, x: torch.exp(w * x).sum(), (2, 2), M),
    "torch.log": (lambda w, x: torch.log(w).sum(), (2, 2), M),
    "F.softmax": (lambda w, x: (F.softmax(w * x, dim=-1) * x).sum(), (2, 2), M),
    "torch.softmax": (lambda w, x: (torch.softmax(w * x, dim=1) * x).sum(), (2, 2), M),
    ".sum()": (lambda w, x: (w * x).sum() * 2, (2, 2), M),
    ".mean()": (lambda w, x: (w * x).mean(), (2, 2), M),
    ".t()": (lambda w, x: (w.t() * x).sum(), (2, 2), M),
    ".T": (lambda w, x: (x @ w.T).sum(), (2, 2), M),
    ".view": (lambda w, x: (w.view(4) * x.view(-1)).sum(), (2, 2), M),
    ".reshape": (lambda w, x: (w.reshape(1, 4) @ x.reshape(4, 1)).sum(), (2, 2), M),
    "torch.flatten": (lambda w, x: (torch.flatten(w) * torch.flatten(x)).sum(), (2, 2), M),
    ".flatten": (lambda w, x: (w.flatten() * x.flatten()).sum(), (2, 2), M),
    "methods": (lambda w, x: (w.tanh() + w.sigmoid() + w.relu() + w.exp() + w.log()).sum(), (2, 2), M),
    ".shape": (lambda w, x: (w.view(x.shape[0], x.size(1)) * x).sum(), (4,), M),
}


@pytest.mark.parametrize("case", FUNCTIONS)
def test_each_function_alone_against_autograd(case):
    f, shape, x = FUNCTIONS[case]
    check(Fn(f, shape), x)


# ----- refusals --------------------------------------------------------------------------------

def one_line(error) -> str:
    message = str(error.value)
    assert "\n" not in message and message.startswith("from_torch: ")
    return message


def test_an_unsupported_module_is_refused_with_its_place():
    with pytest.raises(symderiv.TorchError) as info:
        symderiv.from_torch(Recurrent(), torch.ones(1, 2))
    message = one_line(info)
    assert message.startswith("from_torch: not supported: the layer nn.LSTM at test_from_torch.py:")
    assert "in forward: return self.rnn(x)[0].sum()" in message and "docs/pytorch.md" in message


def test_an_unsupported_function_is_refused_with_its_place():
    with pytest.raises(symderiv.TorchError) as info:
        symderiv.from_torch(Fn(lambda w, x: torch.atan(w * x).sum(), (2, 2)), M)
    message = one_line(info)
    assert message.startswith("from_torch: not supported: torch.atan at test_from_torch.py:")
    assert "in forward: return self.f(self.w, x)" in message


def test_data_dependent_control_flow_is_refused_with_fx_reason():
    with pytest.raises(symderiv.TorchError) as info:
        symderiv.from_torch(Branch(), torch.ones(2))
    message = one_line(info)
    assert "torch.fx cannot trace Branch at test_from_torch.py:" in message
    assert "in forward: if (self.w * x).sum() > 0:" in message
    assert "(symbolically traced variables cannot be used as inputs to control flow)" in message


def test_a_batch_of_images_is_worked_image_by_image():
    check(Summed(nn.Conv2d(1, 2, 2)), torch.tensor([[[[0.5, -1.0, 2.0], [1.5, 0.25, -0.5], [0.0, 1.0, -2.0]]],
                                                    [[[1.0, 0.5, -0.5], [0.25, 2.0, 1.0], [-1.0, 0.0, 0.75]]]]))


def test_a_model_returning_a_tensor_needs_a_loss():
    with pytest.raises(symderiv.TorchError) as info:
        symderiv.from_torch(nn.Linear(2, 2), torch.ones(2))
    assert "not a number: give loss=" in one_line(info)


def test_the_size_limit_applies():
    with symderiv.size_limit(50), pytest.raises(symderiv.SizeError) as info:
        symderiv.from_torch(nn.Linear(20, 20), torch.ones(20), loss=nn.MSELoss(), target=torch.zeros(20))
    assert "limit of 50" in str(info.value)


def test_without_torch_it_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch now raises ImportError
    with pytest.raises(symderiv.TorchError) as info:
        symderiv.from_torch(object(), None)
    assert str(info.value) == INSTALL == "from_torch needs PyTorch: pip install 'symderiv[torch]'"


# ----- the table of docs/errors.md -------------------------------------------------------------

class Recurrent(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(2, 2)

    def forward(self, x):
        return self.rnn(x)[0].sum()


class Branch(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.ones(2))

    def forward(self, x):
        if (self.w * x).sum() > 0:
            return (self.w * x).sum()
        return -(self.w * x).sum()


CASES = {
    "an unsupported module": lambda: symderiv.from_torch(Recurrent(), torch.ones(1, 2)),
    "an unsupported function": lambda: symderiv.from_torch(Fn(lambda w, x: torch.atan(w * x).sum(), (2, 2)), M),
    "control flow on values": lambda: symderiv.from_torch(Branch(), torch.ones(2)),
    "a tensor output, no loss": lambda: symderiv.from_torch(nn.Linear(2, 2), torch.ones(2)),
    "an unsupported loss": lambda: symderiv.from_torch(nn.Linear(2, 2), torch.ones(2),
                                                       loss=nn.MSELoss(reduction="none"), target=torch.ones(2)),
    "the model fails in PyTorch": lambda: symderiv.from_torch(nn.Linear(3, 2), torch.ones(2), loss=nn.MSELoss(),
                                                              target=torch.ones(2)),
    "several unsupported operations": lambda: symderiv.from_torch(
        Fn(lambda w, x: F.cosine_similarity(torch.atan(w * x), x).sum(), (2, 2)), M),
    "dropout in training mode": lambda: symderiv.from_torch(nn.Sequential(nn.Linear(2, 1), nn.Dropout(0.5)),
                                                            torch.ones(2)),
    "a tuple returned": lambda: symderiv.from_torch(Fn(lambda w, x: ((w * x).sum(), x), (2,)), torch.ones(2)),
    "an empty input": lambda: symderiv.from_torch(Summed(nn.Linear(2, 1)), torch.ones(0, 2)),
}


def documented() -> dict[str, str]:
    from pathlib import Path
    text = (Path(__file__).resolve().parents[1] / "docs" / "errors.md").read_text(encoding="utf-8")
    section = text.split("## From Python: `from_torch`")[1].split("\n## ")[0]
    return dict(re.findall(r"^\| ([^|`]+) \| `([^`]*)` \|$", section, re.M))


def test_every_documented_from_torch_message_is_the_one_raised():
    rows = documented()
    assert set(rows) == set(CASES) | {"PyTorch not installed"}
    assert rows["PyTorch not installed"] == INSTALL
    for case, call in CASES.items():
        with pytest.raises(symderiv.TorchError) as info:
            call()
        message = one_line(info)
        pattern = ".*".join(re.escape(part) for part in rows[case].split("…"))
        assert re.fullmatch(pattern, message, re.S), (case, message)
