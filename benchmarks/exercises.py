"""Exercise variants per second: sigmoid-neuron, conv2d and rnn, to LaTeX and to Moodle XML,
with one worker and with every core; and the PrairieLearn ``generate`` call, warm.

    python3 benchmarks/exercises.py [--variants N]

Each figure is one run of ``N`` variants (drawing, solving, rejecting, rendering, joining), the
same work as ``symderiv exercise MODEL --variants N --format FORMAT --jobs J``.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import tempfile
import time
from pathlib import Path

from symderiv.exercise import plan
from symderiv.limits import default_jobs
from symderiv.export import export
from symderiv.export.prairielearn import folder_files


def variants_per_second(model: str, fmt: str, n: int, jobs: int) -> float:
    start = time.perf_counter()
    export(plan(model, seed=1), n, fmt, jobs=jobs)
    return n / (time.perf_counter() - start)


def generate_ms(model: str, calls: int = 20) -> tuple[float, float]:
    """Median and slowest warm ``generate`` call of a written question's server.py, in ms."""
    with tempfile.TemporaryDirectory() as tmp:
        server = Path(tmp) / "server.py"
        server.write_text(folder_files(plan(model, seed=1), "q")["server.py"], encoding="utf-8")
        spec = importlib.util.spec_from_file_location(f"server_{model.replace('-', '_')}", server)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    generate = module.generate
    generate({"params": {}, "correct_answers": {}, "variant_seed": 0})  # warm: imports, caches
    times = []
    for seed in range(1, calls + 1):
        start = time.perf_counter()
        generate({"params": {}, "correct_answers": {}, "variant_seed": seed})
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), max(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", type=int, default=24)
    n = parser.parse_args().variants
    cores = default_jobs()
    print(f"{n} variants per run; {cores} cores")
    print(f"{'model':16} {'format':7} {'1 job':>10} {f'{cores} jobs':>10} {'ratio':>6}")
    for model in ("sigmoid-neuron", "conv2d", "rnn"):
        for fmt in ("latex", "moodle"):
            one = variants_per_second(model, fmt, n, 1)
            many = variants_per_second(model, fmt, n, cores)
            print(f"{model:16} {fmt:7} {one:8.1f}/s {many:8.1f}/s {many / one:6.2f}")
    for model in ("sigmoid-neuron", "conv2d", "rnn"):
        median, worst = generate_ms(model)
        print(f"PrairieLearn generate, {model}: median {median:.0f} ms, slowest {worst:.0f} ms (warm, 20 calls)")


if __name__ == "__main__":
    main()
