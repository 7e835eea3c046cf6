"""conv2d, conv2d-padding and pooling against PyTorch float64; output sizes and counts by hand."""

import pytest
import sympy as sp

import symderiv

torch = pytest.importorskip("torch")
F = torch.nn.functional

IMAGE = [[3, 0, 1, 2, 7, 4], [1, 5, 8, 9, 3, 1], [2, 7, 2, 5, 1, 3], [0, 1, 3, 1, 7, 8], [4, 2, 1, 6, 2, 8],
         [2, 4, 5, 2, 3, 9]]
EDGE = [[1, 0, -1], [1, 0, -1], [1, 0, -1]]


def t(rows):
    return torch.tensor(rows, dtype=torch.float64, requires_grad=True)


def matrix(sol, lhs):
    """The float matrix of the forward step named ``lhs``, flattened row by row."""
    step = next(s for sec in sol.sections for s in sec.items
                if isinstance(s, symderiv.Step) and str(s.lhs) == lhs and s.formula is not None)
    return [float(v) for row in step.approx for v in row]


def flat(tensor):
    return [float(v) for v in tensor.detach().flatten()]


def check_grads(sol, name, grad):
    for i in range(grad.shape[0]):
        for j in range(grad.shape[1]):
            got = float(sol.results[f"{name}_{i + 1}_{j + 1}"].approx)
            assert got == pytest.approx(float(grad[i, j]), rel=1e-12, abs=1e-14), (name, i, j)


CASES = [
    ("conv2d", dict(), 1, 0),
    ("conv2d", dict(stride=2), 2, 0),
    ("conv2d", dict(padding=1, kernel=[[0.5, -1], [2, 0.25]]), 1, 1),
    ("conv2d-padding", dict(), 2, 1),
    ("conv2d-padding", dict(stride=3, padding=2), 3, 2),
]


@pytest.mark.parametrize("model, params, stride, padding", CASES)
def test_conv_forward_and_backward_match_torch(model, params, stride, padding):
    sol = symderiv.solve(model, **params)
    image = params.get("image", IMAGE if model == "conv2d" else
                       [[2, 3, 7, 4, 6], [6, 6, 9, 8, 7], [3, 4, 8, 3, 8], [7, 8, 3, 6, 6], [4, 2, 1, 8, 3]])
    kernel = params.get("kernel", EDGE if model == "conv2d" else [[1, -1], [0, -1]])
    X, K = t(image), t(kernel)
    out = F.conv2d(X[None, None], K[None, None], stride=stride, padding=padding)[0, 0]
    out.sum().backward()
    assert matrix(sol, "O") == pytest.approx(flat(out), rel=1e-12)
    check_grads(sol, "X", X.grad)
    check_grads(sol, "K", K.grad)


def test_notes_feature_map():
    # the notes' vertical-edge feature map, worked by hand there
    sol = symderiv.solve("conv2d")
    assert matrix(sol, "O") == [-5, -4, 0, 8, -10, -2, 2, 3, 0, -2, -4, -7, -3, -2, -3, -16]


def test_output_size_formula_with_floor():
    # (5 + 2·1 − 2)/2 = 5/2 -> floor 2, + 1 = 3; the floor is remarked
    sol = symderiv.solve("conv2d-padding")
    sizes = next(s for s in sol.sections if s.kind == "sizes").items
    assert [s.exact for s in sizes if str(s.lhs) in ("h_out", "w_out")] == [3, 3]
    assert "not whole" in sol.to_text()


def test_conv_with_upstream_gradient():
    up = [[1, -2, 0, 3], [0.5, 0, 0, 0], [0, 0, 1, 0], [0, 0, 0, -1]]
    sol = symderiv.solve("conv2d", upstream=up)
    X, K = t(IMAGE), t(EDGE)
    (F.conv2d(X[None, None], K[None, None])[0, 0] * torch.tensor(up, dtype=torch.float64)).sum().backward()
    check_grads(sol, "X", X.grad)
    check_grads(sol, "K", K.grad)


@pytest.mark.parametrize("inp", [
    [[-5, -4, 0, 8], [-10, -2, 2, 3], [0, -2, -4, -7], [-3, -2, -3, -16]],
    [[1, 3, 2, 2], [3, 0, 1, 0], [0, 0, 5, 5], [1, 2, 5, 4]],  # ties inside windows
])
@pytest.mark.parametrize("mode", ["max", "average"])
def test_pooling_matches_torch(inp, mode):
    sol = symderiv.solve("pooling", input=inp, mode=mode)
    X = t(inp)
    pool = F.max_pool2d if mode == "max" else F.avg_pool2d
    out = pool(X[None, None], 2, 2)[0, 0]
    out.sum().backward()
    assert matrix(sol, "Y") == pytest.approx(flat(out), rel=1e-12)
    for i in range(4):
        for j in range(4):
            got = float(sol.results[f"X_{i + 1}_{j + 1}"].approx)
            assert got == pytest.approx(float(X.grad[i, j]), abs=1e-14)


def test_pooling_tie_is_stated():
    sol = symderiv.solve("pooling", input=[[1, 3, 2, 2], [3, 0, 1, 0], [0, 0, 5, 5], [1, 2, 5, 4]], mode="max")
    assert "first maximum" in sol.to_text()


def test_conv_volume_counts():
    # 3·3·3 = 27 weights + 1 bias per filter; ten filters: 280; output 2×2×10
    sol = symderiv.solve("conv-volume")
    values = [s.exact for s in next(s for s in sol.sections if s.kind == "counts").items]
    assert values == [27, 28, 280, 2, 2]
    assert "2×2×10" in sol.to_text()


@pytest.mark.parametrize("params, message", [
    (dict(kernel=[[1] * 7] * 7), "larger than the padded"),
    (dict(image=[[1] * 110] * 110), "over the limit of 200,000; raise it with --max-size"),
    (dict(upstream=[[1, 2]]), "upstream: expected shape 4x4"),
])
def test_conv_refusals(params, message):
    with pytest.raises(symderiv.ParameterError, match=message):
        symderiv.solve("conv2d", **params)


def test_pooling_exact_average_is_rational():
    sol = symderiv.solve("pooling", mode="average")
    step = next(s for sec in sol.sections for s in sec.items
                if isinstance(s, symderiv.Step) and str(s.lhs) == "Y" and s.formula is not None)
    # window [[-5, -4], [-10, -2]] averages to -21/4
    assert step.exact[0, 0] == sp.Rational(-21, 4)


def test_conv_volume_with_values_matches_torch():
    volume = [[[1, 2, 0], [0, 1, 3], [2, 2, 1]], [[0, 1, 1], [1, 0, 2], [3, 1, 0]]]
    filt = [[[1, 0], [0, -1]], [[2, 1], [0, 1]]]
    sol = symderiv.solve("conv-volume", volume=volume, filter=filt, bias=0.5)
    X, K = t(volume), t(filt)
    b = torch.tensor([0.5], dtype=torch.float64, requires_grad=True)
    out = F.conv2d(X[None], K[None], bias=b)[0, 0]
    out.sum().backward()
    assert matrix(sol, "O") == pytest.approx(flat(out), rel=1e-12)
    for c in range(2):
        for i in range(3):
            for j in range(3):
                assert float(sol.results[f"X{c + 1}_{i + 1}_{j + 1}"].approx) == pytest.approx(float(X.grad[c, i, j]))
        for i in range(2):
            for j in range(2):
                assert float(sol.results[f"K{c + 1}_{i + 1}_{j + 1}"].approx) == pytest.approx(float(K.grad[c, i, j]))
    assert float(sol.results["b_1_1"].approx) == pytest.approx(float(b.grad[0]))


def test_conv_volume_values_must_come_in_pairs():
    with pytest.raises(symderiv.ParameterError, match="both volume and filter"):
        symderiv.solve("conv-volume", volume=[[[1, 2], [3, 4]]])
    with pytest.raises(symderiv.ParameterError, match="one per channel"):
        symderiv.solve("conv-volume", volume=[[[1, 2], [3, 4]]], filter=[[[1]], [[2]]])
