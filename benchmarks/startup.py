"""What a command costs to start (issue 28): CPU time and peak memory of short commands, and the ratios
the issue's goals name, measured in one run.

    python3 benchmarks/startup.py [--runs N] [--html] [--torch]

Each round runs every command once, one after another (paired runs: a busy moment of the shared
machine slows a whole round, not one command), as a child process whose own CPU time (user +
system) and peak resident memory come from ``os.wait4``'s resource usage. The table gives the
minimum, median and maximum CPU seconds over the rounds and the largest peak; the ratios compare
medians. ``--html`` also times graph-add-mul's HTML page in this process, with and without its
Graphviz figure; ``--torch`` the first ``from_torch`` call of a process. Nothing here is asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

#: Ten answer lines of the sigmoid neuron (forward pass and two gradients, worked by hand: f8 = σ(1),
#: ∂f/∂w0 = x0·σ(1)(1 − σ(1)) = -0.1966, ∂f/∂x0 = w0·σ(1)(1 − σ(1)) = 0.3932), all right; the
#: second file has one wrong line (∂f/∂w0 doubled), which check diagnoses.
RIGHT = """\
f1 = -2
f2 = 6
f3 = 4
f4 = 1
f5 = -1
f6 = 0.3679
f7 = 1.368
f8 = 0.7311
∂f/∂w0 = -0.1966
∂f/∂x0 = 0.3932
"""
ONE_WRONG = RIGHT.replace("∂f/∂w0 = -0.1966", "∂f/∂w0 = -0.3932")


#: The first from_torch call of a process (nn.Linear(1, 1), MSE loss), and torch's import alone.
TORCH = {
    "python -c 'import torch'": "import torch",
    "from_torch(nn.Linear(1, 1)), first call": "import torch, symderiv; torch.manual_seed(0); "
    "symderiv.from_torch(torch.nn.Linear(1, 1), torch.tensor([[1.0]]), loss=torch.nn.MSELoss(), "
    "target=torch.tensor([[0.5]]))",
}


def commands(right: str, one_wrong: str) -> dict[str, list[str]]:
    """The measured commands, by the name the table shows."""
    cli = [sys.executable, "-m", "symderiv"]
    return {
        "python -c pass": [sys.executable, "-c", "pass"],
        "python -c 'import sympy'": [sys.executable, "-c", "import sympy"],
        # SymPy's first sum imports sympy.tensor.tensor and sympy.combinatorics (Add.flatten)
        "python -c 'import sympy; x + y'": [sys.executable, "-c",
                                            "import sympy; sympy.Symbol('x') + sympy.Symbol('y')"],
        "symderiv --version": [*cli, "--version"],
        "symderiv --help": [*cli, "--help"],
        "symderiv list": [*cli, "list"],
        "symderiv solve graph-add-mul": [*cli, "solve", "graph-add-mul"],
        "symderiv check sigmoid-neuron (10 right)": [*cli, "check", "sigmoid-neuron", right],
        "symderiv check sigmoid-neuron (1 of 10 wrong)": [*cli, "check", "sigmoid-neuron", one_wrong],
    }


#: The goals: (command, baseline, at most this many times the baseline's median CPU time).
GOALS = [
    ("symderiv --version", "python -c pass", 3.0),
    ("symderiv --help", "python -c pass", 3.0),
    ("symderiv list", "python -c pass", 3.0),
    ("symderiv solve graph-add-mul", "python -c 'import sympy'", 1.1),
    ("symderiv check sigmoid-neuron (10 right)", "python -c 'import sympy'", 1.1),
    ("symderiv check sigmoid-neuron (1 of 10 wrong)", "python -c 'import sympy'", 1.1),
]
#: The same commands against SymPy's import with its first sum (which any worked solution builds).
REFERENCE = [(name, "python -c 'import sympy; x + y'") for name, base, _ in GOALS if "sympy" in base]


def run_once(argv: list[str]) -> tuple[float, float, int]:
    """CPU seconds, peak MiB and exit status of one run of ``argv`` (its output discarded)."""
    with open(os.devnull, "wb") as null:
        child = subprocess.Popen(argv, stdout=null, stderr=null)
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, child.returncode


def html_figure_cost(rounds: int) -> None:
    """graph-add-mul as an HTML page: with its computational graph drawn by Graphviz (a first
    drawing of the source, and one from the drawn-figure cache), and without the figure."""
    import dataclasses
    import symderiv
    from symderiv.render.dot import svg_of_dot
    sol = symderiv.solve("graph-add-mul")
    bare = dataclasses.replace(sol, diagram=None)
    cases = (("to_html, figure drawn by dot", sol, True), ("to_html, figure from the cache", sol, False),
             ("to_html without the figure", bare, False))
    for name, s, cold in cases:
        s.to_html()  # warm: imports, caches
        walls, cpus = [], []
        for _ in range(rounds):
            if cold:
                svg_of_dot.cache_clear()
            t0, c0 = time.perf_counter(), time.process_time()
            s.to_html()
            walls.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
        print(f"{name:<46} wall ms min/median/max {min(walls) * 1e3:6.1f} {statistics.median(walls) * 1e3:6.1f} "
              f"{max(walls) * 1e3:6.1f}; this process's CPU ms (median) {statistics.median(cpus) * 1e3:6.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="rounds of paired runs (default 7)")
    parser.add_argument("--html", action="store_true", help="also time graph-add-mul's HTML with and without dot")
    parser.add_argument("--torch", action="store_true", help="also time the first from_torch call of a process")
    args = parser.parse_args()
    files = []
    for text in (RIGHT, ONE_WRONG):
        with tempfile.NamedTemporaryFile("w", suffix=".txt", encoding="utf-8", delete=False) as f:
            f.write(text)
        files.append(f.name)
    try:
        cmds = commands(*files)
        if args.torch:
            cmds.update({name: [sys.executable, "-c", code] for name, code in TORCH.items()})
        cpu: dict[str, list[float]] = {name: [] for name in cmds}
        peak: dict[str, float] = dict.fromkeys(cmds, 0.0)
        statuses: dict[str, set[int]] = {name: set() for name in cmds}
        for name, argv in cmds.items():  # one unmeasured run each: the file cache, .pyc files
            run_once(argv)
        for _ in range(args.runs):
            for name, argv in cmds.items():
                seconds, mib, status = run_once(argv)
                cpu[name].append(seconds)
                peak[name] = max(peak[name], mib)
                statuses[name].add(status)
    finally:
        for name in files:
            os.unlink(name)
    print(f"{args.runs} paired runs; CPU seconds of the child (user + system), peak resident MiB")
    print(f"{'| command':<48} | {'CPU s min / median / max':<26} | {'peak MiB':>8} | status")
    print(f"|{'-' * 47}|{'-' * 28}|{'-' * 10}|-------")
    for name in cmds:
        t = cpu[name]
        print(f"| {name:<46} | {min(t):.2f} / {statistics.median(t):.2f} / {max(t):.2f}{'':8} | {peak[name]:8.0f} | "
              f"{','.join(map(str, sorted(statuses[name])))}")
    print("\ngoals (ratio of medians):")
    for name, base, bound in GOALS:
        ratio = statistics.median(cpu[name]) / statistics.median(cpu[base])
        print(f"  {name:<46} / {base:<26} = {ratio:5.2f}  (goal <= {bound}: {'met' if ratio <= bound else 'NOT met'})")
    if args.torch:
        alone, first = (statistics.median(cpu[name]) for name in TORCH)
        print(f"  the first from_torch call costs {first - alone:.2f} s CPU beyond importing torch (median)")
    print("against SymPy imported with its first sum built (not a goal; what any solution must pay):")
    for name, base in REFERENCE:
        ratio = statistics.median(cpu[name]) / statistics.median(cpu[base])
        print(f"  {name:<46} / {base:<26} = {ratio:5.2f}")
    if args.html:
        print()
        html_figure_cost(max(args.runs, 5))


if __name__ == "__main__":
    main()
