"""Time the matrix models at growing sizes, in one run.

    python3 benchmarks/matrix_models.py

rnn with hidden size 8 over T = 10, 25, 50 steps, and self-attention with 4, 8, 16 tokens of
width 8 (random weights in tenths, seeded): the full solution (every step, exact and float)
and its text rendering. Prints the seconds and the growth ratios; nothing is asserted.
"""

from __future__ import annotations

import random
import time
from fractions import Fraction

import symderiv

rnd = random.Random(0)


def mat(rows: int, cols: int) -> list[list[Fraction]]:
    return [[Fraction(rnd.randint(-9, 9), 10) for _ in range(cols)] for _ in range(rows)]


def timed(model: str, **params) -> tuple[float, float]:
    t0 = time.perf_counter()
    sol = symderiv.solve(model, **params)
    t1 = time.perf_counter()
    sol.to_text()
    return t1 - t0, time.perf_counter() - t1


def main() -> None:
    print(f"{'model':<16} {'size':>6} {'solve s':>8} {'text s':>7} {'total s':>8}")
    totals = {}
    for T in (10, 25, 50):
        a, b = timed("rnn", W_xh=mat(8, 4), W_hh=mat(8, 8), W_hy=mat(2, 8), h0=[0] * 8, xs=mat(T, 4))
        totals[("rnn", T)] = a + b
        print(f"{'rnn (T)':<16} {T:>6} {a:8.2f} {b:7.2f} {a + b:8.2f}")
    for n in (4, 8, 16):
        a, b = timed("self-attention", Q=mat(n, 8), K=mat(n, 8), V=mat(n, 8))
        totals[("sa", n)] = a + b
        print(f"{'self-attention':<16} {n:>6} {a:8.2f} {b:7.2f} {a + b:8.2f}")
    print(f"rnn T=50 / T=25: {totals[('rnn', 50)] / totals[('rnn', 25)]:.2f} (linear in T: 2)")
    print(f"self-attention 16 / 8 tokens: {totals[('sa', 16)] / totals[('sa', 8)]:.2f} "
          "(the softmax gates have n inputs each, so n^3 local derivatives: 8)")


if __name__ == "__main__":
    main()
