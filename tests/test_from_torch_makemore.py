"""Acceptance (issue 27): makemore part 4's forward pass, as Andrej Karpathy wrote it in the
"backprop ninja" notebook (karpathy/nn-zero-to-hero, lectures/makemore/makemore_part4_backprop.ipynb,
the cell that begins ``emb = C[Xb]``), at vocabulary 5, block 3, embedding 2, hidden 4, batch 4.

The expected gradients are his own: Exercise 1's manual backward pass (``dlogprobs`` ... ``dC``),
run here in float64 exactly as he wrote it, and PyTorch's float64 autograd for the parameters. The
parameters are his initialisation rounded to multiples of 1/64, so float32 and float64 hold the
same numbers the solution reads.
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional

import symderiv  # noqa: E402

vocab_size, block_size, n_embd, n_hidden, batch_size = 5, 3, 2, 4, 4
n = batch_size  # a shorter variable also, for convenience (his line)


def dyadic(t):
    return torch.round(t * 64) / 64


class MakemoreMLP(nn.Module):
    """His parameters (initialised as he did), and his forward pass, line by line."""

    def __init__(self):
        super().__init__()
        g = torch.Generator().manual_seed(2147483647)
        self.C = nn.Parameter(dyadic(torch.randn((vocab_size, n_embd), generator=g)))
        self.W1 = nn.Parameter(dyadic(torch.randn((n_embd * block_size, n_hidden), generator=g) * (5 / 3)
                                      / ((n_embd * block_size) ** 0.5)))
        self.b1 = nn.Parameter(dyadic(torch.randn(n_hidden, generator=g) * 0.1))
        self.W2 = nn.Parameter(dyadic(torch.randn((n_hidden, vocab_size), generator=g) * 0.5))
        self.b2 = nn.Parameter(dyadic(torch.randn(vocab_size, generator=g) * 0.1))
        self.bngain = nn.Parameter(dyadic(torch.randn((1, n_hidden)) * 0.1 + 1.0))
        self.bnbias = nn.Parameter(dyadic(torch.randn((1, n_hidden)) * 0.1))

    def forward(self, Xb, Yb):
        C, W1, b1, W2, b2, bngain, bnbias = self.C, self.W1, self.b1, self.W2, self.b2, self.bngain, self.bnbias
        emb = C[Xb] # embed the characters into vectors
        embcat = emb.view(emb.shape[0], -1) # concatenate the vectors
        # Linear layer 1
        hprebn = embcat @ W1 + b1 # hidden layer pre-activation
        # BatchNorm layer
        bnmeani = 1/n*hprebn.sum(0, keepdim=True)
        bndiff = hprebn - bnmeani
        bndiff2 = bndiff**2
        bnvar = 1/(n-1)*(bndiff2).sum(0, keepdim=True) # note: Bessel's correction (dividing by n-1, not n)
        bnvar_inv = (bnvar + 1e-5)**-0.5
        bnraw = bndiff * bnvar_inv
        hpreact = bngain * bnraw + bnbias
        # Non-linearity
        h = torch.tanh(hpreact) # hidden layer
        # Linear layer 2
        logits = h @ W2 + b2 # output layer
        # cross entropy loss (same as F.cross_entropy(logits, Yb))
        logit_maxes = logits.max(1, keepdim=True).values
        norm_logits = logits - logit_maxes # subtract max for numerical stability
        counts = norm_logits.exp()
        counts_sum = counts.sum(1, keepdims=True)
        counts_sum_inv = counts_sum**-1 # if I use (1.0 / counts_sum) instead then I can't get backprop to be bit exact...
        probs = counts * counts_sum_inv
        logprobs = probs.log()
        loss = -logprobs[range(n), Yb].mean()
        return loss


Xb = torch.tensor([[0, 0, 1], [0, 1, 3], [1, 3, 4], [2, 4, 0]])
Yb = torch.tensor([3, 4, 0, 2])


def his_forward_and_backward(model):
    """His forward (float64, every intermediate kept) and Exercise 1, his manual backward pass."""
    C, W1, b1, W2, b2, bngain, bnbias = (p.detach().double() for p in
                                         (model.C, model.W1, model.b1, model.W2, model.b2, model.bngain, model.bnbias))
    emb = C[Xb]
    embcat = emb.view(emb.shape[0], -1)
    hprebn = embcat @ W1 + b1
    bnmeani = 1/n*hprebn.sum(0, keepdim=True)
    bndiff = hprebn - bnmeani
    bndiff2 = bndiff**2
    bnvar = 1/(n-1)*(bndiff2).sum(0, keepdim=True)
    bnvar_inv = (bnvar + 1e-5)**-0.5
    bnraw = bndiff * bnvar_inv
    hpreact = bngain * bnraw + bnbias
    h = torch.tanh(hpreact)
    logits = h @ W2 + b2
    logit_maxes = logits.max(1, keepdim=True).values
    norm_logits = logits - logit_maxes
    counts = norm_logits.exp()
    counts_sum = counts.sum(1, keepdims=True)
    counts_sum_inv = counts_sum**-1
    probs = counts * counts_sum_inv
    logprobs = probs.log()
    # Exercise 1, as he wrote it
    dlogprobs = torch.zeros_like(logprobs)
    dlogprobs[range(n), Yb] = -1.0/n
    dprobs = (1.0 / probs) * dlogprobs
    dcounts_sum_inv = (counts * dprobs).sum(1, keepdim=True)
    dcounts = counts_sum_inv * dprobs
    dcounts_sum = (-counts_sum**-2) * dcounts_sum_inv
    dcounts += torch.ones_like(counts) * dcounts_sum
    dnorm_logits = counts * dcounts
    dlogits = dnorm_logits.clone()
    dlogit_maxes = (-dnorm_logits).sum(1, keepdim=True)
    dlogits += F.one_hot(logits.max(1).indices, num_classes=logits.shape[1]) * dlogit_maxes
    dh = dlogits @ W2.T
    dW2 = h.T @ dlogits
    db2 = dlogits.sum(0)
    dhpreact = (1.0 - h**2) * dh
    dbngain = (bnraw * dhpreact).sum(0, keepdim=True)
    dbnraw = bngain * dhpreact
    dbnbias = dhpreact.sum(0, keepdim=True)
    dbndiff = bnvar_inv * dbnraw
    dbnvar_inv = (bndiff * dbnraw).sum(0, keepdim=True)
    dbnvar = (-0.5*(bnvar + 1e-5)**-1.5) * dbnvar_inv
    dbndiff2 = (1.0/(n-1))*torch.ones_like(bndiff2) * dbnvar
    dbndiff += (2*bndiff) * dbndiff2
    dhprebn = dbndiff.clone()
    dbnmeani = (-dbndiff).sum(0)
    dhprebn += 1.0/n * (torch.ones_like(hprebn) * dbnmeani)
    dembcat = dhprebn @ W1.T
    dW1 = embcat.T @ dhprebn
    db1 = dhprebn.sum(0)
    demb = dembcat.view(emb.shape)
    dC = torch.zeros_like(C)
    for k in range(Xb.shape[0]):
        for j in range(Xb.shape[1]):
            ix = Xb[k,j]
            dC[ix] += demb[k,j]
    return dict(logprobs=dlogprobs, probs=dprobs, counts_sum_inv=dcounts_sum_inv, counts_sum=dcounts_sum,
                counts=dcounts, norm_logits=dnorm_logits, logit_maxes=dlogit_maxes, logits=dlogits, h=dh,
                hpreact=dhpreact, bnraw=dbnraw, bnvar_inv=dbnvar_inv, bnvar=dbnvar, bndiff2=dbndiff2,
                bndiff=dbndiff, bnmeani=dbnmeani, hprebn=dhprebn, embcat=dembcat, emb=demb,
                W2=dW2, b2=db2, bngain=dbngain, bnbias=dbnbias, W1=dW1, b1=db1, C=dC)


def his_names(model) -> dict[str, str]:
    """Each of his variables' torch.fx node: the last node of the line that assigns it."""
    import inspect
    lines, first = inspect.getsourcelines(type(model).forward)
    assigned = {first + k: line.split("=")[0].strip() for k, line in enumerate(lines)
                if "=" in line.split("#")[0] and not line.strip().startswith(("#", "C,"))}
    tracer = torch.fx.Tracer()
    tracer.record_stack_traces = True
    graph = tracer.trace(model)
    names = {}
    for node in graph.nodes:
        trace = (node.stack_trace or "").strip().splitlines()
        lineno = next((int(t.split("line ")[1].split(",")[0]) for t in trace if __file__ in t), None)
        if lineno in assigned:
            names[assigned[lineno]] = node.name  # the line's last node wins
    return names


def close(got, want, rel=1e-12):
    assert len(got) == len(want)
    scale = max(abs(w) for w in want) or 1.0
    return all(abs(g - w) <= rel * max(abs(w), 1e-3 * scale) + 1e-15 for g, w in zip(got, want))  # b1: exactly 0


def test_makemore_part4_forward_as_karpathy_wrote_it_gives_his_gradients():
    model = MakemoreMLP()
    sol = symderiv.from_torch(model, (Xb, Yb))
    his = his_forward_and_backward(model)
    for name in ("C", "W1", "b1", "W2", "b2", "bngain", "bnbias"):  # every parameter, by name and shape
        got = sol.results[name]
        want = his[name].reshape(tuple(getattr(model, name).shape) if getattr(model, name).dim() == 2 else (-1, 1))
        assert got.exact.shape == tuple(want.shape) or got.exact.shape == (want.numel(), 1), name
        assert close([float(v) for row in got.approx for v in row], want.reshape(-1).tolist()), name
    by_node = sol.node_gradients()
    names = his_names(model)
    for variable in ("logprobs", "probs", "counts_sum_inv", "counts_sum", "counts", "norm_logits", "logit_maxes",
                     "logits", "h", "hpreact", "bnraw", "bnvar_inv", "bnvar", "bndiff2", "bndiff", "bnmeani",
                     "hprebn", "embcat", "emb"):
        shape, got = by_node[names[variable]]
        want = his[variable]
        assert shape == tuple(want.shape) or variable == "bnmeani", variable  # his dbnmeani drops the keepdim
        assert close(got, want.reshape(-1).tolist()), (variable, got, want.reshape(-1).tolist())
    assert sol.check_against_autograd() < 1e-12
