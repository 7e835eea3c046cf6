"""How long from_torch takes, and how much memory, on issue 27's acceptance models and the two of
issue 18: trace + solve (with the autograd check), then text, each in a fresh process on one core,
with its peak memory (ru_maxrss). Every model must finish within 30 s and 1 GB, or be refused up
front by the size limit.

    python3 benchmarks/from_torch.py

The first-call line measures a fresh process: importing torch and symderiv, then from_torch of
nn.Linear(1, 1), against the same with torch.fx's stack-trace recording switched on (what the
first call paid before it was made lazy).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

MODELS = {
    "2-2-2 sigmoid network": "mazur",
    "CNN on a 6x6 image (issue 18)": "cnn18",
    "makemore part 4 MLP (vocab 5, block 3, emb 2, hidden 4, batch 4)": "makemore",
    "nanoGPT Block (n_embd 4, 2 heads, T 3), batch 1": "nanogpt1",
    "nanoGPT Block, batch 2": "nanogpt2",
    "CNN Conv2d-BatchNorm2d-ReLU-MaxPool2d-Flatten-Linear, train, batch 2": "cnn_train",
    "the same CNN, eval": "cnn_eval",
    "RNNCell over two steps": "RNNCell",
    "GRUCell over two steps": "GRUCell",
    "LSTMCell over two steps": "LSTMCell",
    "nn.Linear(1000, 1000) (refused up front)": "big",
}

CHILD = r'''
import json, resource, sys, time
sys.path.insert(0, "tests")
import torch
from torch import nn
import symderiv
which = sys.argv[1]
loss = target = None
if which == "mazur":
    model = nn.Sequential(nn.Linear(2, 2), nn.Sigmoid(), nn.Linear(2, 2), nn.Sigmoid())
    x, loss, target = torch.tensor([0.05, 0.10]), nn.MSELoss(reduction="sum"), torch.tensor([0.01, 0.99])
elif which == "cnn18":
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(18, 2))
    x, loss, target = torch.randn(1, 1, 6, 6), nn.CrossEntropyLoss(), torch.tensor([1])
elif which == "makemore":
    import test_from_torch_makemore as M
    model, x = M.MakemoreMLP(), (M.Xb, M.Yb)
elif which.startswith("nanogpt"):
    import test_from_torch_nanogpt as G
    batch = int(which[-1])
    model = G.Summed(G.make_block(batch))
    torch.manual_seed(10 + batch)
    x = torch.round(torch.randn(batch, 3, 4) * 8) / 16
elif which.startswith("cnn_"):
    import test_from_torch_acceptance as A
    model, x = A.cnn(which == "cnn_train"), A.IMAGES
    loss, target = nn.CrossEntropyLoss(), torch.tensor([2, 0])
elif which in ("RNNCell", "GRUCell", "LSTMCell"):
    import test_from_torch_acceptance as A
    model = A.TwoSteps(A.dyadic_(getattr(nn, which)(2, 3), 5))
    x = torch.tensor([[[0.5, -1.0]], [[1.5, 0.25]]])
else:
    model, x, loss, target = nn.Linear(1000, 1000), torch.ones(1000), nn.MSELoss(), torch.ones(1000)
start = time.perf_counter()
try:
    sol = symderiv.from_torch(model, x, loss=loss, target=target)
    solved = time.perf_counter()
    lines = len(sol.to_text().splitlines())
    printed = time.perf_counter()
    worst = sol.check_against_autograd()
    out = dict(accepted=True, solve=solved - start, text=printed - solved, lines=lines, worst=worst)
except symderiv.SizeError as e:
    out = dict(accepted=False, solve=time.perf_counter() - start, text=0.0, lines=0, worst=None, refused=str(e)[:80])
out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
'''

FIRST = r'''
import sys, time
start = time.perf_counter()
import torch, torch.fx, symderiv
imported = time.perf_counter()
if sys.argv[1] == "stack-traces":  # the trace every first call paid for before: fx recording stack traces
    tracer = torch.fx.Tracer()
    tracer.record_stack_traces = True
    tracer.trace(torch.nn.Sequential(torch.nn.Linear(1, 1)))
else:
    symderiv.from_torch(torch.nn.Linear(1, 1), torch.tensor([0.5]))
print(f"{imported - start:.2f} {time.perf_counter() - imported:.2f}")
'''


def child(code: str, *args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    run = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=300)
    if run.returncode:
        raise SystemExit(f"{args}: {run.stderr.strip().splitlines()[-1]}")
    return run.stdout.strip().splitlines()[-1]


def main() -> None:
    print("| model | accepted | trace + solve + check (s) | text (s) | lines | worst difference from autograd | "
          "peak memory (MB) |")
    print("|---|---|---|---|---|---|---|")
    for label, which in MODELS.items():
        r = json.loads(child(CHILD, which))
        worst = f"{r['worst']:.1e}" if r["worst"] is not None else "—"
        accepted = "yes" if r["accepted"] else f"refused up front: {r['refused']}…"
        print(f"| {label} | {accepted} | {r['solve']:.2f} | {r['text']:.2f} | {r['lines']} | {worst} | "
              f"{r['peak_mb']:.0f} |")
    lazy = child(FIRST, "lazy").split()
    eager = child(FIRST, "stack-traces").split()
    print(f"\nfirst call in a fresh process (after importing torch and symderiv, {lazy[0]} s): the whole "
          f"from_torch(nn.Linear(1, 1)) {lazy[1]} s; the trace alone with fx's stack traces recorded, as every first "
          f"call did before: {eager[1]} s ({float(eager[1]) / max(float(lazy[1]), 1e-9):.0f}× the whole call now)")


if __name__ == "__main__":
    main()
