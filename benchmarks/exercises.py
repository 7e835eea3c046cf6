"""Exercises: variants per second (sigmoid-neuron, conv2d and rnn, to LaTeX and to Moodle XML,
with one worker and with every core); 50 rnn variants as Moodle in CPU seconds on one core; the
sizes of 50 variants as Moodle, QTI and a PrairieLearn folder; the PrairieLearn ``generate`` call,
warm; and the tolerance's acceptance of simulated hand work, before (one unit in the last digit
shown) and after (issue 26).

    python3 benchmarks/exercises.py [--variants N]

Each rate is one run of ``N`` variants (drawing, solving, rejecting, rendering, joining), the
same work as ``symderiv exercise MODEL --variants N --format FORMAT --jobs J``.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import tempfile
import time
from pathlib import Path

from symderiv.exercise import build, plan
from symderiv.export import export
from symderiv.limits import default_jobs

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from hand_work import SIMULATIONS, old_tolerance, rounder, wrong_answers  # noqa: E402


def variants_per_second(model: str, fmt: str, n: int, jobs: int) -> float:
    start = time.perf_counter()
    export(plan(model, seed=1), n, fmt, jobs=jobs)
    return n / (time.perf_counter() - start)


def generate_ms(model: str, calls: int = 200) -> tuple[float, float]:
    """Median and slowest warm ``generate`` call of a written question's server.py, in ms."""
    with tempfile.TemporaryDirectory() as tmp:
        files = export(plan(model, seed=1), 20, "prairielearn", output=str(Path(tmp) / "q"))
        for name, text in files.items():
            (Path(tmp) / name).write_text(text, encoding="utf-8")
        spec = importlib.util.spec_from_file_location(f"server_{model.replace('-', '_')}", Path(tmp) / "server.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    module.generate({"params": {}, "correct_answers": {}, "variant_seed": 0})
    times = []
    for seed in range(1, calls + 1):
        start = time.perf_counter()
        module.generate({"params": {}, "correct_answers": {}, "variant_seed": seed})
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), max(times)


def acceptance(model: str, how: str, digits: int, n: int) -> tuple[int, int, int, int, int]:
    """Simulated hand work (tests/hand_work.py) judged by the old and the new tolerance: right
    answers accepted before and after, wrong answers accepted after, and the totals."""
    before = after = wrong = total = wrong_total = 0
    for ex, _ in build(plan(model, seed=1, digits=digits), n):
        hand = SIMULATIONS[model][how](dict(ex.solution.parameters), 4)
        for a in ex.asked:
            answer = rounder(digits)(hand[a.key])
            total += 1
            before += abs(answer - a.value) <= old_tolerance(a.value, digits)
            after += abs(answer - a.value) <= a.tolerance
            for w in wrong_answers(a.value, digits):
                wrong_total += 1
                wrong += abs(w - a.value) <= a.tolerance
    return before, after, total, wrong, wrong_total


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
    start = time.process_time()
    export(plan("rnn", seed=1), 50, "moodle", jobs=1)
    print(f"50 rnn variants as Moodle XML: {time.process_time() - start:.1f} s CPU, one core")
    for model in ("rnn", "conv2d", "sigmoid-neuron"):
        moodle = len(export(plan(model, seed=1), 50, "moodle", jobs=cores).encode())
        qti = len(export(plan(model, seed=1), 50, "qti", jobs=cores))
        with tempfile.TemporaryDirectory() as tmp:
            folder = export(plan(model, seed=1), 50, "prairielearn", jobs=cores, output=tmp)
        pl = sum(len(t.encode()) for t in folder.values())
        print(f"50 {model} variants: Moodle {moodle / 1e6:.2f} MB, QTI zip {qti / 1e6:.2f} MB, "
              f"PrairieLearn folder {pl / 1e6:.2f} MB")
    for model in ("sigmoid-neuron", "conv2d", "rnn", "self-attention"):
        median, worst = generate_ms(model)
        print(f"PrairieLearn generate, {model}: median {median:.3f} ms, slowest {worst:.3f} ms (warm, 200 calls)")
    print("Simulated hand work (every intermediate rounded to 4 digits), accepted by the tolerance:")
    for digits in (4, 3):
        for model, sims in SIMULATIONS.items():
            for how in sims:
                before, after, total, wrong, wrong_total = acceptance(model, how, digits, 50 if model == "sigmoid-neuron"
                                                                      else 20)
                print(f"  {digits}-digit answers, {model}, {how}: before {before}/{total} ({before / total:.1%}), "
                      f"after {after}/{total} ({after / total:.1%}); wrong answers accepted after: "
                      f"{wrong}/{wrong_total} ({wrong / wrong_total:.2%})")


if __name__ == "__main__":
    main()
