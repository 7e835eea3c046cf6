"""Time symderiv on the sigmoid chain against the naive SymPy route, in one run.

    python3 benchmarks/sigmoid_chain.py [--naive-timeout SECONDS] [--max-depth N]

symderiv: solve('sigmoid-chain', depth=N) (every step, exact and float), then render it as text,
LaTeX and MathML. Naive route: compose L = ½(σ(w_N·…σ(w_1·x)…) − y)² with symbols, sympy.diff
it with respect to w1, then evalf with subs (run in a subprocess, stopped at the time-out).
Prints the times and the ratios; nothing here is asserted.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import time

import sympy as sp

import symderiv


def naive(depth: int) -> float:
    x, y = sp.Rational(1), sp.Rational(1)
    ws = sp.symbols(f"w1:{depth + 1}")
    a = x
    for w in ws:
        a = 1 / (1 + sp.exp(-w * a))
    loss = (a - y) ** 2 / 2
    grad = sp.diff(loss, ws[0])
    return float(grad.evalf(30, subs={w: sp.Rational(1, 2) for w in ws}))


def _naive_child(depth: int, out) -> None:
    t = time.perf_counter()
    value = naive(depth)
    out.put((time.perf_counter() - t, value))


def time_naive(depth: int, timeout: float) -> float | None:
    q = mp.Queue()
    p = mp.Process(target=_naive_child, args=(depth, q))
    p.start()
    p.join(timeout)
    if p.is_alive():
        p.terminate()
        p.join()
        return None
    return q.get()[0]


def time_symderiv(depth: int) -> dict[str, float]:
    t0 = time.perf_counter()
    sol = symderiv.solve("sigmoid-chain", depth=depth)
    t1 = time.perf_counter()
    sol.to_text()
    t2 = time.perf_counter()
    sol.to_latex()
    t3 = time.perf_counter()
    sol.to_mathml()
    t4 = time.perf_counter()
    return {"solve": t1 - t0, "text": t2 - t1, "latex": t3 - t2, "mathml": t4 - t3}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--naive-timeout", type=float, default=60.0)
    ap.add_argument("--max-depth", type=int, default=800)
    args = ap.parse_args()

    print("naive SymPy route (diff of the composed loss, evalf with subs) against symderiv solve, one gradient vs all:")
    print(f"{'depth':>6} {'naive s':>9} {'symderiv s':>11} {'naive/symderiv':>15}")
    for depth in (5, 10, 15, 20):
        t_naive = time_naive(depth, args.naive_timeout)
        t_sym = time_symderiv(depth)["solve"]
        shown = f"{t_naive:9.2f}" if t_naive is not None else f"  >{args.naive_timeout:.0f} (stopped)"
        ratio = f"{t_naive / t_sym:15.1f}" if t_naive is not None else f"{'> ' + format(args.naive_timeout / t_sym, '.0f'):>15}"
        print(f"{depth:>6} {shown:>9} {t_sym:11.3f} {ratio}")
        if t_naive is None:
            break

    print("\nsymderiv, full solution (all steps, exact and floats), seconds:")
    print(f"{'depth':>6} {'nodes':>6} {'solve':>7} {'+text':>7} {'+latex':>7} {'+mathml':>8} {'solve+latex':>12}")
    rows = {}
    depth = 50
    while depth <= args.max_depth:
        t = time_symderiv(depth)
        rows[depth] = t
        print(f"{depth:>6} {2 * depth + 3:>6} {t['solve']:7.2f} {t['text']:7.2f} {t['latex']:7.2f} "
              f"{t['mathml']:8.2f} {t['solve'] + t['latex']:12.2f}")
        depth *= 2
    if 200 in rows and 400 in rows:
        for key in ("solve", "latex", "mathml"):
            print(f"ratio depth 400 / depth 200, {key}: {rows[400][key] / rows[200][key]:.2f} (linear: 2)")


if __name__ == "__main__":
    main()
