"""Rendering cost, measured in one run: solve, LaTeX and MathML for the sigmoid chain and each model.

    python3 benchmarks/render.py [--depths 200 400] [--skip-cli]

For the sigmoid chain at each depth, and for each model's default solution: the time of
``symderiv.solve``, of ``to_latex()`` and of ``to_mathml()`` (the HTML fragment with its
figure, every fragment cache emptied first, as in a fresh process), and MathML ÷ LaTeX; then a
model's solve + ``to_html()`` warm (the second time in one process, as a server rendering a page
again), and ``symderiv solve --all --format html`` cold, in a fresh process pinned to one core.
Nothing is asserted: the numbers are printed beside the baseline.

Baseline, measured with this script on commit eda9c98 (before issue 19), on the machine of
issue 19's session (2 cores; times vary by about ±30 % between runs there, ratios less):

    case                    solve   latex  mathml  ratio   warm
    sigmoid-chain@200        1.38    1.33    3.63    2.7      -
    sigmoid-chain@400        2.71    2.62    7.34    2.8      -
    graph-add-mul           0.002   0.003   0.043   13.5  0.037
    lstm-step               0.151   0.118   0.291    2.5  0.326
    rnn                     0.105   0.077   0.255    3.3  0.222
    self-attention          0.079   0.094   0.169    1.8  0.188
    solve --all --format html cold: 3.96 s
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time

import symderiv
from symderiv.models import ORDER
from symderiv.render import dot, mathml


def baseline() -> dict[str, list[str]]:
    """The baseline rows of this module's docstring, by case."""
    rows = {}
    for line in __doc__.split("    case", 1)[1].splitlines()[1:]:
        cells = line.split()
        if len(cells) == 6:
            rows[cells[0]] = cells[1:]
    return rows


def empty_caches() -> None:
    """Forget every converted fragment, figure and printed value (a fresh process's state)."""
    for module in (mathml, dot):
        for value in vars(module).values():
            if hasattr(value, "cache_clear"):
                value.cache_clear()


def timed(f):
    t = time.perf_counter()
    value = f()
    return time.perf_counter() - t, value


def measure(model: str, **params) -> tuple[float, float, float]:
    t_solve, sol = timed(lambda: symderiv.solve(model, **params))
    t_latex, _ = timed(sol.to_latex)
    empty_caches()
    t_mathml, _ = timed(sol.to_mathml)
    return t_solve, t_latex, t_mathml


def warm(model: str) -> float:
    symderiv.solve(model).to_html()
    return timed(lambda: symderiv.solve(model).to_html())[0]


def cli_cold() -> float:
    pin = ["taskset", "-c", "0"] if shutil.which("taskset") else []
    command = [*pin, sys.executable, "-m", "symderiv", "solve", "--all", "--format", "html"]
    t, _ = timed(lambda: subprocess.run(command, check=True, stdout=subprocess.DEVNULL,
                                        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}))
    return t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--depths", type=int, nargs="+", default=[200, 400])
    ap.add_argument("--skip-cli", action="store_true", help="leave out the cold command-line run")
    args = ap.parse_args()
    before = baseline()
    symderiv.solve("sigmoid-neuron").to_html()  # imports and SymPy's caches warm; fragment caches emptied per case
    print(f"{'case':22} {'solve':>7} {'latex':>7} {'mathml':>7} {'ratio':>6} {'warm':>6}   "
          f"{'before: solve latex mathml ratio warm'}")
    cases = [("sigmoid-chain", {"depth": d}, f"sigmoid-chain@{d}") for d in args.depths]
    cases += [(m, {}, m) for m in ORDER]
    for model, params, label in cases:
        with symderiv.size_limit(10 ** 7):
            t_solve, t_latex, t_mathml = measure(model, **params)
        t_warm = f"{warm(model):6.3f}" if not params else f"{'-':>6}"
        was = " ".join(before.get(label, []))
        print(f"{label:22} {t_solve:7.3f} {t_latex:7.3f} {t_mathml:7.3f} {t_mathml / t_latex:6.1f} {t_warm}   {was}")
    if not args.skip_cli:
        print(f"solve --all --format html cold: {cli_cold():.2f} s (before: "
              f"{__doc__.split('html cold: ')[1].split()[0]} s)")


if __name__ == "__main__":
    main()
