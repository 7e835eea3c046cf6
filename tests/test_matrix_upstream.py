"""The loss of the matrix models is a parameter: L = Σ upstream ⊙ output, checked with PyTorch."""

import pytest

import symderiv

torch = pytest.importorskip("torch")


def T(rows):
    return torch.tensor(rows, dtype=torch.float64, requires_grad=True)


def check_close(sol, name, grad):
    assert float(sol.results[name].approx) == pytest.approx(float(grad), rel=1e-12, abs=1e-14), name


def test_dot_attention_weighted_loss():
    hs, s, up = [[1, 0, 1], [0, 1, 1], [1, 1, 0]], [1, 0, 1], [1, 0, 2]
    H, S = T(hs), T(s)
    alpha = torch.softmax(H @ S, dim=0)
    c = H.T @ alpha
    (c * torch.tensor(up, dtype=torch.float64)).sum().backward()
    sol = symderiv.solve("dot-attention", hs=hs, s=s, upstream=up)
    for i in range(3):
        check_close(sol, f"s_{i + 1}", S.grad[i])
        for j in range(3):
            check_close(sol, f"H_{i + 1}_{j + 1}", H.grad[i, j])


def test_rnn_weighted_loss_per_step():
    W_xh, W_hh, W_hy = [[0.5, -0.3], [0.8, 0.2]], [[0.1, 0.4], [-0.2, 0.3]], [[1.0, -1.0]]
    xs, up = [[1, 2], [-1, 1]], [[0.5], [-2]]
    A, B, C, h = T(W_xh), T(W_hh), T(W_hy), torch.zeros(2, dtype=torch.float64, requires_grad=True)
    loss, state = 0, h
    for x, u in zip(xs, up):
        state = torch.tanh(B @ state + A @ torch.tensor(x, dtype=torch.float64))
        loss = loss + (C @ state * torch.tensor(u, dtype=torch.float64)).sum()
    loss.backward()
    sol = symderiv.solve("rnn", W_xh=W_xh, W_hh=W_hh, W_hy=W_hy, h0=[0, 0], xs=xs, upstream=up)
    for name, grad in (("W_xh", A.grad), ("W_hh", B.grad), ("W_hy", C.grad)):
        for i in range(grad.shape[0]):
            for j in range(grad.shape[1]):
                check_close(sol, f"{name}_{i + 1}_{j + 1}", grad[i, j])
    check_close(sol, "h0_1", h.grad[0])


def test_upstream_of_the_wrong_shape_is_refused():
    with pytest.raises(symderiv.ParameterError, match="upstream"):
        symderiv.solve("self-attention", upstream=[[1, 2]])
