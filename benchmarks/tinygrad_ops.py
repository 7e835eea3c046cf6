"""tinygrad's own op tests, worked by from_torch: the torch side of ``helper_test_op`` in
tinygrad/tinygrad test/backend/test_ops.py (each lambda below is quoted from it, with the line it
is on; shapes over 4 are made 4 or less), forward and the gradient of ``.sum()`` for every input,
checked against PyTorch float64 autograd. Writes the table docs/pytorch.md shows.

    python3 benchmarks/tinygrad_ops.py            # prints the table
    python3 benchmarks/tinygrad_ops.py --write    # and writes it into docs/pytorch.md

Inputs are multiples of 1/8 in [-2, 2] (positive where the op needs it: sqrt, x ** 0.2, ...).
"""

from __future__ import annotations

import copy
import sys
import time
from pathlib import Path

import torch

import symderiv

# (line in test_ops.py, input shapes, the torch lambda as tinygrad wrote it, the inputs' range)
OPS = [
    (329, [(4, 4, 4)], "lambda x: x.sum((0, 1)).sum()", "any"),
    (330, [(4, 4, 4)], "lambda x: x.sum((0, 2)).sum()", "any"),
    (331, [(4, 4, 4)], "lambda x: x.sum((1, 2)).sum()", "any"),
    (456, [(3, 3)], "lambda x: x.tril()", "any"),
    (457, [(3, 3)], "lambda x: x.tril(1)", "any"),
    (459, [(3, 3)], "lambda x: x.tril(-1)", "any"),
    (473, [(3, 3)], "lambda x: x.triu()", "any"),
    (474, [(3, 3)], "lambda x: x.triu(1)", "any"),
    (477, [(3, 3)], "lambda x: x.triu(-2)", "any"),
    (524, [(), ()], "lambda x,y: x+y", "any"),
    (542, [(), ()], "lambda x,y: x-y", "any"),
    (546, [()], "lambda x: x-2", "any"),
    (549, [()], "lambda x: 2-x", "any"),
    (554, [()], "lambda x: x.neg()", "any"),
    (526, [(), ()], "lambda x,y: x*y", "any"),
    (565, [()], "lambda x: x*2", "any"),
    (568, [()], "lambda x: 2*x", "any"),
    (573, [(), ()], "lambda x,y: x/y", "nonzero"),
    (610, [()], "lambda x: x/2", "any"),
    (624, [()], "lambda x: 2/x", "nonzero"),
    (673, [()], "lambda x: x**2", "any"),
    (675, [()], "lambda x: x**-2", "nonzero"),
    (674, [()], "lambda x: x**3", "any"),
    (682, [()], "lambda x: x**0.2", "positive"),
    (683, [()], "lambda x: x**1.2", "positive"),
    (701, [()], "lambda x: x**2.0", "any"),
    (702, [()], "lambda x: 2.0**x", "any"),
    (490, [(), ()], "torch.maximum", "any"),
    (507, [(), ()], "torch.minimum", "any"),
    (794, [()], "lambda x: x.sqrt()", "positive"),
    (798, [()], "lambda x: x.rsqrt()", "positive"),
    (915, [()], "lambda x: x.sin()", "any"),
    (925, [()], "lambda x: x.cos()", "any"),
    (936, [()], "lambda x: x.tan()", "small"),
    (959, [()], "lambda x: x.relu()", "any"),
    (966, [()], "lambda x: torch.nn.functional.leaky_relu(x,0.01)", "any"),
    (976, [()], "torch.nn.functional.silu", "any"),
    (983, [()], "torch.abs", "nonzero"),
    (1075, [()], "torch.nn.functional.softplus", "any"),
    (1076, [(3, 4)], "lambda t: torch.nn.functional.softplus(t, beta=3)", "any"),
    (1083, [()], "torch.erf", "any"),
    (1089, [(3, 4)], "lambda x: torch.nn.functional.gelu(x, approximate=\"tanh\")", "any"),
    (1090, [(3, 4)], "lambda x: torch.nn.functional.gelu(x, approximate=\"none\")", "any"),
    (1101, [()], "lambda x: x * torch.sigmoid(1.702 * x)", "any"),
    (1411, [(4,), (4,)], "lambda x,y: x.matmul(y)", "any"),
    (1411, [(4,), (4, 3)], "lambda x,y: x.matmul(y)", "any"),
    (1411, [(3, 4), (4,)], "lambda x,y: x.matmul(y)", "any"),
    (1411, [(3, 4), (4, 2)], "lambda x,y: x.matmul(y)", "any"),
    (1411, [(2, 3, 4), (2, 4, 2)], "lambda x,y: x.matmul(y)", "any"),
    (1411, [(4, 4), (4, 4)], "lambda x,y: x.matmul(y)", "any"),
    (1411, [(4, 3), (1, 3, 3, 4)], "lambda x,y: x.matmul(y)", "any"),
    (1513, [(4, 2, 2)], "lambda x: x.sum(axis=(0,2))", "any"),
    (1543, [()], "lambda x: x.prod()", "any"),
    (1558, [(3, 3)], "lambda x: x.min()", "distinct"),
    (1635, [()], "lambda x: x.mean()", "any"),
    (1763, [()], "lambda x: torch.logsumexp(x, dim=0)", "any"),
    (1823, [()], "lambda x: (x+x)*x", "any"),
    (1863, [()], "lambda x: x[None]", "any"),
    (1875, [(3, 3, 3)], "lambda x: x[1,1,1]", "any"),
    (1879, [(3, 3, 3)], "lambda x: x[1:2, 2]", "any"),
    (1881, [(3, 3, 3)], "lambda x: x[1:2, 1:2, 0:-1]", "any"),
    (1886, [(3, 3, 3)], "lambda x: x[1:2, None, 1:2]", "any"),
    (1888, [(3, 3, 3)], "lambda x: x[None, None, 1, None, 2, 0:2]", "any"),
    (1892, [(3, 3, 3)], "lambda x: x[:, [0], :]", "any"),
    (1897, [(3, 3, 3)], "lambda x: x[-6:4]", "any"),
    (1945, [(3, 3, 3, 3)], "lambda x: x[..., 0]", "any"),
    (1948, [(3, 3, 3, 3)], "lambda x: x[0:3, ..., 2:3]", "any"),
    (1953, [(4, 4)], "lambda x: x[:, 1:2][1:2]", "any"),
    (1959, [(3, 3)], "lambda x: torch.nn.functional.pad(x, (1,2,3,4))", "any"),
    (1960, [(3, 3)], "lambda x: torch.nn.functional.pad(x, (-1,2,-3,4))", "any"),
    (2061, [(4, 4)], "lambda x: torch.stack([x for i in range(4)])[3]", "any"),
    (2064, [(3, 3)], "lambda x: x.T", "any"),
    (2065, [(3, 3, 3)], "lambda x: x.transpose(1,2)", "any"),
    (2069, [(1, 2, 3, 4)], "lambda x: x.permute((3,0,2,1))", "any"),
    (2099, [(3, 2)], "lambda x: x.view((2, 3))", "any"),
    (2122, [(2, 3, 1)], "lambda x: x.squeeze()", "any"),
    (2157, [(3, 4)], "lambda x: x.diagonal()", "any"),
    (2169, [(2, 4)], "lambda x: x.roll(1)", "any"),
    (2178, [(2, 4)], "lambda x: x.roll(shifts=(2, 1), dims=(0, 1))", "any"),
    (2908, [(3, 3)], "lambda x: x.repeat_interleave(2, 1)", "any"),
    (3011, [(2, 3)], "lambda x: x[torch.tensor([[0,0,0],[0,0,0]]), torch.tensor([2,1,1])]", "any"),
    (3013, [(2, 3)], "lambda x: x[torch.tensor([[0,1,-1],[-1,-2,0]]), torch.tensor([2,1,-1])]", "any"),
    (3393, [(3, 3)], "lambda x: x.float()", "any"),
    (1108, [()], "torch.nn.functional.elu", "any"),
    (1112, [()], "torch.nn.functional.relu6", "any"),
    (1130, [(2, 4)], "lambda x: torch.cumsum(x, dim=1)", "any"),
]


class Op(torch.nn.Module):
    """The op's inputs as parameters (their gradients are the results), its output summed."""

    def __init__(self, fn, values):
        super().__init__()
        self.fn = fn
        self.inputs = torch.nn.ParameterList(torch.nn.Parameter(v) for v in values)

    def forward(self, unused):
        return self.fn(*self.inputs).sum()


def values(shape, kind, seed):
    g = torch.Generator().manual_seed(seed)
    v = torch.randint(-16, 17, shape, generator=g).double() / 8
    if kind == "positive":
        v = v.abs() + 0.125
    elif kind == "nonzero":
        v = torch.where(v == 0, torch.full_like(v, 0.5), v)
    elif kind == "small":
        v = v / 2
    elif kind == "distinct":  # no ties for the minimum
        v = (torch.randperm(v.numel(), generator=g).double().reshape(shape) - 4) / 8
    return v


def run(line, shapes, source, kind):
    import math  # noqa: F401 (the lambdas may use it)
    fn = eval(source, {"torch": torch, "math": math})  # test material quoted above, not user input
    inputs = [values(s, kind, k + 1) for k, s in enumerate(shapes)]
    model = Op(fn, inputs)
    start = time.perf_counter()
    try:
        sol = symderiv.from_torch(model, torch.zeros(1))
    except symderiv.TorchError as e:
        return "refused", str(e).split(": ", 2)[-1][:90], time.perf_counter() - start
    except Exception as e:  # a crash: a bug of ours
        return "crash", f"{type(e).__name__}: {e}"[:90], time.perf_counter() - start
    elapsed = time.perf_counter() - start
    reference = copy.deepcopy(model)
    reference(torch.zeros(1)).backward()
    worst = 0.0
    for name, p in reference.named_parameters():
        got = sol.worked[name]
        for g, w in zip(got, p.grad.reshape(-1).tolist()):
            worst = max(worst, abs(g - w) / max(abs(w), 1e-300) if abs(g - w) > 1e-15 else 0.0)
    return ("pass" if worst <= 1e-12 else "wrong"), f"worst relative error {worst:.1e}", elapsed


def main():
    torch.set_default_dtype(torch.float64)
    rows, counts = [], {}
    for line, shapes, source, kind in OPS:
        outcome, detail, seconds = run(line, shapes, source, kind)
        counts[outcome] = counts.get(outcome, 0) + 1
        shown = ", ".join(str(s) for s in shapes)
        rows.append(f"| {line or ''} | `{source}` | {shown} | {outcome} | {detail.replace('|', '/')} | {seconds:.2f} |")
    table = "\n".join(["| test_ops.py line | torch lambda | shapes | outcome | detail | seconds |",
                       "|---|---|---|---|---|---|", *rows,
                       "", f"{len(OPS)} ops: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())), ""])
    print(table)
    if "--write" in sys.argv:
        page = Path(__file__).resolve().parents[1] / "docs" / "pytorch.md"
        begin, end = "<!-- tinygrad ops: written by benchmarks/tinygrad_ops.py -->", "<!-- end tinygrad ops -->"
        text = page.read_text(encoding="utf-8")
        head, rest = text.split(begin)
        page.write_text(head + begin + "\n" + table + end + rest.split(end)[1], encoding="utf-8")


if __name__ == "__main__":
    main()
