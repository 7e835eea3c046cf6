"""What the requests of issue 15 cost: seconds and peak memory of each, run as the command line.

    python3 benchmarks/costs.py [--timeout SECONDS] [--only NAME ...] [--max-size N]

Each case runs ``python3 -m symderiv ...`` in a child process pinned to one core, through a
middle process that reports the child's wall time and peak resident memory
(``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss``), its exit status and the size of its output
(or its one-line error). The cases are the slow requests the issue found and the heaviest
default-size requests of the models, then the largest accepted requests of each kind; the limit
(symderiv.limits) is meant to keep every accepted one within 30 s and 1 GB on one core, and to
refuse the rest at once. Nothing here is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time


def matrix(rows: int, cols: int, modulus: int = 7) -> str:
    """A rows×cols matrix of small distinct-looking exact values, as --set takes it."""
    return "[" + ",".join("[" + ",".join(f"{(i * cols + j) % modulus - 3}/4" for j in range(cols)) + "]"
                          for i in range(rows)) + "]"


def ramp(rows: int, cols: int) -> str:
    """A rows×cols matrix whose entries all differ (a window's maximum is unique)."""
    return "[" + ",".join("[" + ",".join(str(i * cols + j) for j in range(cols)) + "]" for i in range(rows)) + "]"


def _solve(model: str, *sets: str, fmt: str = "text") -> list[str]:
    return ["solve", model, *(a for s in sets for a in ("--set", s)), "--format", fmt]


PRODUCT = "*".join(f"x{i}" for i in range(1500))
PRODUCT_VALUES = [a for i in range(1500) for a in ("--set", f"x{i}={(i % 7 + 1) * (i != 3)}")]  # x3 = 0

CASES: dict[str, list[str]] = {
    "maxpool 15x15, one 15x15 window": _solve("pooling", f"input={ramp(15, 15)}", "size=15", "stride=15", "mode=max"),
    "maxpool 20x20, one 20x20 window": _solve("pooling", f"input={ramp(20, 20)}", "size=20", "stride=20", "mode=max"),
    # V's two rows hold the same numbers, so the gradients of the scores cancel to exactly 0
    "self-attention Q, K, V 2x1000": _solve("self-attention", f"Q={matrix(2, 1000)}", f"K={matrix(2, 1000, 3)}",
                                             f"V={matrix(2, 1000, 5)}"),
    "derive x0*...*x1499 --nary": ["derive", PRODUCT, "--nary"],
    "derive x0*...*x1499 --nary, numbers, one 0": ["derive", PRODUCT, "--nary", *PRODUCT_VALUES],
    "sigmoid-chain depth 5000, text": _solve("sigmoid-chain", "depth=5000"),
    "sigmoid-chain depth 5000, html": _solve("sigmoid-chain", "depth=5000", fmt="html"),
    "sigmoid-chain depth 3000, svg": _solve("sigmoid-chain", "depth=3000", fmt="svg"),
    "rnn hidden 8, T = 50": _solve("rnn", f"W_xh={matrix(8, 4)}", f"W_hh={matrix(8, 8)}", f"W_hy={matrix(2, 8)}",
                                   f"h0={[0] * 8}".replace(" ", ""), f"xs={matrix(50, 4)}"),
    "self-attention 16 tokens": _solve("self-attention", f"Q={matrix(16, 8)}", f"K={matrix(16, 8, 5)}",
                                       f"V={matrix(16, 8, 3)}"),
    "conv2d 28x28, 3x3 kernel": _solve("conv2d", f"image={matrix(28, 28)}", f"kernel={matrix(3, 3)}"),
    # near the default limit of each kind: the worst that is accepted (sigmoid-chain's size is
    # 100·depth + 142, times the format's weight: 1 text, 2 LaTeX, Markdown and JSON, 3 MathML, HTML)
    "sigmoid-chain depth 1990, text": _solve("sigmoid-chain", "depth=1990"),
    "sigmoid-chain depth 990, latex": _solve("sigmoid-chain", "depth=990", fmt="latex"),
    "sigmoid-chain depth 990, markdown": _solve("sigmoid-chain", "depth=990", fmt="markdown"),
    "sigmoid-chain depth 990, json": _solve("sigmoid-chain", "depth=990", fmt="json"),
    "sigmoid-chain depth 660, html": _solve("sigmoid-chain", "depth=660", fmt="html"),
    "sigmoid-chain depth 1990, latex (refused)": _solve("sigmoid-chain", "depth=1990", fmt="latex"),
    "conv2d 100x100, 3x3 kernel": _solve("conv2d", f"image={matrix(100, 100)}", f"kernel={matrix(3, 3)}"),
    "rnn (3 hidden) T = 22, svg": _solve("rnn", "xs=[" + ",".join(["[1,2]"] * 22) + "]", fmt="svg"),
    "self-attention 10 tokens, html": _solve("self-attention", f"Q={matrix(10, 8)}", f"K={matrix(10, 8, 5)}",
                                             f"V={matrix(10, 8, 3)}", fmt="html"),
}


def measure(args: list[str], timeout: float) -> dict:
    """Run the CLI with ``args`` as this process's only child; its time, peak memory and outcome."""
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, for the child too
    t0 = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, "-m", "symderiv", *args], capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return dict(seconds=time.perf_counter() - t0, cpu=usage.ru_utime + usage.ru_stime, status="timeout", out=0,
                    err="", mb=usage.ru_maxrss / 1024)
    seconds = time.perf_counter() - t0
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return dict(seconds=seconds, cpu=usage.ru_utime + usage.ru_stime, status=done.returncode, out=len(done.stdout),
                err=done.stderr.decode(errors="replace").strip().splitlines()[-1:], mb=usage.ru_maxrss / 1024)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=600, help="seconds before a case is stopped")
    parser.add_argument("--only", nargs="*", help="run only the cases whose names contain one of these")
    parser.add_argument("--max-size", help="pass --max-size N to every case")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # the middle process: run one case
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(measure(json.loads(args.one), args.timeout)))
        return
    print(f"{'request':<44} {'seconds':>8} {'CPU s':>7} {'peak MB':>8} {'status':>7} {'output bytes':>13}")
    worst = None
    for name, cli in CASES.items():
        if args.only and not any(o in name for o in args.only):
            continue
        cli = cli + (["--max-size", args.max_size] if args.max_size else [])
        middle = subprocess.run([sys.executable, __file__, "--timeout", str(args.timeout), "--one", json.dumps(cli)],
                                capture_output=True, text=True, check=True)
        r = json.loads(middle.stdout)
        print(f"{name:<44} {r['seconds']:8.1f} {r['cpu']:7.1f} {r['mb']:8.0f} {r['status']!s:>7} {r['out']:>13,}",
              flush=True)
        if r["status"] != 0 and r["err"]:
            print(f"    {r['err'][0][:200]}", flush=True)
        if r["status"] == 0 and (worst is None or r["seconds"] > worst[1]):
            worst = (name, r["seconds"], r["mb"])
    if worst:
        print(f"worst accepted: {worst[0]}, {worst[1]:.1f} s, {worst[2]:.0f} MB")


if __name__ == "__main__":
    main()
