"""Rendering cost, measured in one run: solve, LaTeX and MathML for the sigmoid chain and each model.

    python3 benchmarks/render.py [--depths 200 400] [--skip-cli]

For the sigmoid chain at each depth, and for each model's default solution: the time of
``symderiv.solve``, of ``to_latex()`` and of ``to_mathml()`` (the HTML fragment with its
figure, every fragment cache emptied first, as in a fresh process), and MathML ÷ LaTeX; then a
model's solve + ``to_html()`` warm (the second time in one process, as a server rendering a page
again), and ``symderiv solve --all --format html`` cold, in a fresh process pinned to one core.
Nothing is asserted: the numbers are printed beside the baseline.

Baseline, measured with this script on commit eda9c98 (before issue 19; ``PYTHONPATH`` set to a
worktree of it), on the machine of issue 19's session (2 cores; times there vary by about ±30 %
from run to run, ratios less):

    case                    solve   latex  mathml  ratio   warm
    sigmoid-chain@200       1.632   1.332   4.902    3.7      -
    sigmoid-chain@400       3.377   3.108   9.992    3.2      -
    graph-add-mul           0.003   0.003   0.040   14.7  0.031
    graph-mul-add           0.003   0.003   0.037   12.6  0.028
    sigmoid-neuron          0.014   0.020   0.094    4.7  0.064
    max-gate                0.009   0.006   0.064   11.0  0.039
    xor-mlp                 0.027   0.014   0.117    8.6  0.062
    sigmoid-chain           0.051   0.018   0.108    6.0  0.097
    dropout                 0.049   0.003   0.018    5.5  0.006
    conv2d                  0.047   0.023   0.094    4.1  0.109
    conv2d-padding          0.028   0.027   0.126    4.6  0.091
    conv-volume             0.002   0.003   0.009    3.4  0.002
    pooling                 0.014   0.010   0.055    5.6  0.056
    rnn                     0.085   0.064   0.240    3.7  0.255
    lstm-step               0.210   0.158   0.322    2.0  0.388
    autoencoder             0.024   0.024   0.130    5.4  0.075
    dot-attention           0.072   0.039   0.111    2.8  0.146
    self-attention          0.093   0.128   0.226    1.8  0.295
    positional-encoding     0.009   0.005   0.012    2.5  0.005
    kl-divergence           0.015   0.011   0.034    3.1  0.011
    mle                     0.341   0.008   0.027    3.3  0.059
    solve --all --format html cold: 4.30 s
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
