"""A random formula of 200 two-input gates, from string to rendered MathML, beside sigmoid-chain
at the same node count, in one run.

    python3 benchmarks/formula.py

Prints both times and their ratio (target: within 2×); nothing is asserted.
"""

from __future__ import annotations

import random
import time

import symderiv
from symderiv.formula import derive


def random_formula(gates: int, seed: int = 0) -> tuple[str, dict[str, float]]:
    """A random expression tree of ``gates`` two-input gates (+, -, *, and tanh on products)
    over 8 named inputs, seeded."""
    rnd = random.Random(seed)
    names = [f"x{i}" for i in range(8)]

    def tree(n: int) -> str:
        if n == 0:
            return rnd.choice(names)
        left = rnd.randint(0, n - 1)
        a, b = tree(left), tree(n - 1 - left)
        op = rnd.choice(["+", "-", "*"])
        return f"tanh({a} * {b})" if op == "*" and rnd.random() < 0.3 else f"({a} {op} {b})"

    values = {n: round(rnd.uniform(-1, 1), 2) for n in names}
    return tree(gates), values


def main() -> None:
    text, values = random_formula(200)
    t0 = time.perf_counter()
    sol = derive(text, values)
    gates = next(len(s.items) for s in sol.sections if s.kind == "forward")
    sol.to_mathml()
    t_formula = time.perf_counter() - t0
    t0 = time.perf_counter()
    symderiv.solve("sigmoid-chain", depth=gates // 2).to_mathml()
    t_chain = time.perf_counter() - t0
    print(f"formula with {gates} gates, string to MathML: {t_formula:.2f} s")
    print(f"sigmoid-chain with {gates // 2} layers ({gates} gates) to MathML: {t_chain:.2f} s")
    print(f"ratio formula / sigmoid-chain: {t_formula / t_chain:.2f} (target: at most 2)")


if __name__ == "__main__":
    main()
