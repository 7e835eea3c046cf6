"""``symderiv solve --all`` and ``symderiv book`` with one worker and with several: wall time
and CPU time (the command's own and its workers'), the least of a few runs of each.

    python3 benchmarks/jobs.py [--runs N] [--jobs J ...]

Each figure is a whole command in a fresh process (``python3 -m symderiv ...``, imports
included), the time a docs build or a user waits; the runs of each ``--jobs`` alternate, and
their outputs must be byte-identical. On a machine shared with other work, read the figures
beside the load average printed with them.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time

from symderiv.limits import default_jobs

COMMANDS = (["solve", "--all", "--format", "html"], ["solve", "--all", "--format", "text"], ["book"])


def run(argv: list[str]) -> tuple[float, float, bytes]:
    """Wall seconds, CPU seconds (user + system, with its workers) and the output of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "symderiv", *argv], check=True, capture_output=True).stdout
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--jobs", type=int, action="append", help="default: 1 and every core")
    args = parser.parse_args()
    jobs = args.jobs or sorted({1, default_jobs()})
    print(f"{default_jobs()} cores; 1-minute load average {os.getloadavg()[0]:.2f}; least of {args.runs} runs")
    print(f"{'command':40s} {'jobs':>4s} {'wall s':>7s} {'cpu s':>7s}")
    for command in COMMANDS:
        runs: dict[int, list[tuple[float, float, bytes]]] = {j: [] for j in jobs}
        for _ in range(args.runs):  # interleaved, so that a change in the machine's load hits each alike
            for j in jobs:
                runs[j].append(run([*command, "--jobs", str(j)]))
        outputs = {out for done in runs.values() for _, _, out in done}
        for j, done in runs.items():
            wall, cpu = min(r[0] for r in done), min(r[1] for r in done)
            print(f"{'symderiv ' + ' '.join(command):40s} {j:4d} {wall:7.2f} {cpu:7.2f}")
        if len(outputs) != 1:
            sys.exit(f"symderiv {' '.join(command)}: the output differs between runs or --jobs values")


if __name__ == "__main__":
    main()
