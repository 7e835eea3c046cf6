"""What the size limit means in seconds: models of about 12,000 to 20,000 gate inputs, solved.

    python3 benchmarks/size_limit.py

Prints, for each request, its gate inputs (the quantity symderiv.limits counts), the seconds to
solve it and to render it as text, and the seconds per 1,000 gate inputs, so the default limit
(20,000) can be read as a time on this machine.
"""

from __future__ import annotations

import time

import symderiv
from symderiv import limits
from symderiv.graph import Graph


def mat(rows: int, cols: int) -> list[list[str]]:
    return [[f"{(i * cols + j) % 7 - 3}/4" for j in range(cols)] for i in range(rows)]


CASES = [
    ("conv2d 28x28, 3x3 kernel", "conv2d", dict(image=mat(28, 28), kernel=mat(3, 3))),
    ("rnn hidden 8, T = 50", "rnn", dict(W_xh=mat(8, 4), W_hh=mat(8, 8), W_hy=mat(2, 8), h0=[0] * 8,
                                         xs=mat(50, 4))),
    ("self-attention, 16 tokens", "self-attention", dict(Q=mat(16, 8), K=mat(16, 8), V=mat(16, 8))),
    ("sigmoid-chain depth 5000", "sigmoid-chain", dict(depth=5000)),
]


def gate_inputs(model: str, params: dict) -> int:
    """The gate inputs of every graph the request builds (a solve of its own, not timed)."""
    graphs: dict[int, Graph] = {}
    original = Graph._add_node

    def add(self, *args, **kwargs):
        graphs[id(self)] = self
        return original(self, *args, **kwargs)

    Graph._add_node = add
    try:
        with limits.size_limit(10**9):
            symderiv.solve(model, **params)
    finally:
        Graph._add_node = original
    return sum(g.size for g in graphs.values())


def main() -> None:
    print(f"default limit: {limits.DEFAULT_MAX_SIZE:,} gate inputs")
    print(f"{'request':<28} {'gate inputs':>11} {'solve s':>8} {'text s':>7} {'s / 1000':>9}")
    for label, model, params in CASES:
        size = gate_inputs(model, params)
        t0 = time.perf_counter()
        sol = symderiv.solve(model, **params)
        t1 = time.perf_counter()
        sol.to_text()
        t2 = time.perf_counter()
        print(f"{label:<28} {size:>11,} {t1 - t0:8.2f} {t2 - t1:7.2f} {1000 * (t2 - t0) / size:9.3f}")


if __name__ == "__main__":
    main()
