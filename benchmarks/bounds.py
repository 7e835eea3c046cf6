"""Issue 15's and issue 29's commands, each in a subprocess with a timeout: wall time, CPU time,
peak memory, exit status and the first line of stderr, one row per case; then the worst CPU time
and memory of the requests admitted (run to the end).

    python3 benchmarks/bounds.py [--timeout SECONDS] [--only WORD]

Runs the symderiv of this checkout (``python3 -m symderiv`` with this directory first on
PYTHONPATH), in a temporary directory that is removed at the end. Peak memory is the child's
maximum resident set (``os.wait4``'s ``ru_maxrss``, which covers the shell and what it waited
for). The issue's ``-o /dev/null`` (as root it replaced the device node) is not run: ``-o`` into a
symlink loop and into ``''`` stand for the special targets.
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _matrix(rows: int, cols: int) -> str:
    return "[" + ",".join("[" + ",".join(f"{(i * cols + j) % 7 - 3}/4" for j in range(cols)) + "]"
                          for i in range(rows)) + "]"


def _py(code: str) -> str:
    return f"python3 -c {shlex.quote(code)}"


S = "python3 -m symderiv"
CASES: list[tuple[str, str]] = [
    # writing output
    ("stdout to /dev/full", f"{S} solve graph-add-mul > /dev/full"),
    ("stdout closed (>&-)", f"{S} solve graph-add-mul >&-"),
    ("a closed pipe (| head -1)", f"{S} solve sigmoid-chain --set depth=200 | head -1 > /dev/null"),
    ("-o into a symlink loop", f"ln -s loop loop; {S} solve graph-add-mul -o loop"),
    ("-o ''", f"{S} solve graph-add-mul -o ''"),
    # exact numbers that explode
    ("derive 2^2^2^2^2^2", f"{S} derive '2^2^2^2^2^2'"),
    ("derive x^10000 at x=3", f"{S} derive 'x^10000' --set x=3"),
    ("derive 3^-10000", f"{S} derive '3^-10000'"),
    ("derive (1/2)^100000", f"{S} derive '(1/2)^100000'"),
    ("derive 10**100000", f"{S} derive '10**100000'"),
    ("API solve(sigmoid-neuron, w0=10**5000)",
     _py("import symderiv, sys\ntry: symderiv.solve('sigmoid-neuron', w0=10**5000)\n"
         "except symderiv.SymderivError as e: print(f'symderiv: error: {e}', file=sys.stderr); sys.exit(2)")),
    ("derive (x^10000)^10000 at x=2", f"{S} derive '(x^10000)^10000' --set x=2"),
    ("derive (x^10000)^10000 at x=3", f"{S} derive '(x^10000)^10000' --set x=3"),
    ("derive exp(exp(exp(1000)))", f"{S} derive 'exp(exp(exp(1000)))'"),
    # accepted requests that ran for minutes
    ("pooling 15x15, one max window", f"{S} solve pooling --set input={_matrix(15, 15)} --set size=15 "
                                      "--set stride=15 --set mode=max > out"),
    ("pooling 20x20, one max window", f"{S} solve pooling --set input={_matrix(20, 20)} --set size=20 "
                                      "--set stride=20 --set mode=max > out"),
    ("self-attention Q, K, V 2x1000", f"{S} solve self-attention --set Q={_matrix(2, 1000)} "
                                      f"--set K={_matrix(2, 1000)} --set V={_matrix(2, 1000)} > out"),
    ("derive x0*...*x1499 --nary", f"{S} derive '{'*'.join(f'x{i}' for i in range(1500))}' --nary > out"),
    ("sigmoid-chain depth 5000, text", f"{S} solve sigmoid-chain --set depth=5000 > out"),
    ("sigmoid-chain depth 5000, html", f"{S} solve sigmoid-chain --set depth=5000 --format html > out"),
    ("sigmoid-chain depth 3000, svg", f"{S} solve sigmoid-chain --set depth=3000 --format svg > out"),
    # the Python API and embedding
    ("API \\href label in to_html",
     _py("import symderiv, sys\ng = symderiv.Graph('t'); x = g.input('x', 2, latex=r'\\href{javascript:alert(1)}{x}')\n"
         "page = g.solution(g.mul(x, x, name='f')).to_html()\n"
         "sys.exit('href in the page' if 'javascript' in page else 0)")),
    ("API derive('x', values=[1])",
     _py("import symderiv, sys\ntry: symderiv.derive('x', values=[1])\n"
         "except symderiv.SymderivError as e: print(f'symderiv: error: {e}', file=sys.stderr); sys.exit(2)")),
    ("API traced var('f1', 7)",
     _py("from symderiv.traced import var\nimport symderiv, sys\ntry:\n a = var('f1', 7); b = var('x', 2)\n"
         " (a * b + a).backward()\nexcept symderiv.SymderivError as e: print(f'symderiv: error: {e}', file=sys.stderr); sys.exit(2)")),
    ("--set w0=١ (Arabic-Indic one)", f"{S} solve sigmoid-neuron --set w0=١"),
    ("--set x=１ (full-width one)", f"{S} derive 'x*2' --set x=１"),
    ("--digits ²", f"{S} solve sigmoid-neuron --digits ²"),
    ("--set x=5e-324", f"{S} derive 'x*2' --set x=5e-324 > out"),
    ("max tie x=1/3, y=0.333...(64)", f"{S} derive 'max(x,y)' --set x=1/3 --set y=0.{'3' * 64} > out"),
    ("sqrt(x) at x=-1e-300", f"{S} derive 'sqrt(x)' --set x=-1e-300"),
    # issue 29: data lost, exercises the size limit did not see, --jobs, bad input
    ("29: question folder over a directory info.json",
     f"mkdir -p q/info.json && echo mine > q/info.json/notes.txt && {S} exercise graph-add-mul "
     "--format prairielearn -o q; s=$?; test -f q/info.json/notes.txt || echo 'notes.txt deleted' >&2; exit $s"),
    ("29: exercise kl-divergence P=normalized({0, 1/3})", f"{S} exercise kl-divergence --vary 'P=normalized({{0, 1/3}})'"),
    ("29: exercise conv2d image 100x100", f"{S} exercise conv2d --vary 'image=int(0..9)[100,100]' > out"),
    ("29: exercise conv2d image 60x60", f"{S} exercise conv2d --vary 'image=int(0..9)[60,60]' > out"),
    ("29: exercise lstm-step never nice (W_xi in sevenths)", f"{S} exercise lstm-step --vary 'W_xi=int(-5..5)/7' > out"),
    ("29: exercise sigmoid-neuron --variants 1000", f"{S} exercise sigmoid-neuron --variants 1000 > out"),
    ("29: exercise sigmoid-neuron --variants 100", f"{S} exercise sigmoid-neuron --variants 100 > out"),
    ("29: exercise mle --variants 200", f"{S} exercise mle --variants 200 > out"),
    ("29: exercise lstm-step --variants 16 --jobs 64", f"{S} exercise lstm-step --variants 16 --jobs 64 > out"),
    ("29: solve --all --jobs 256", f"{S} solve --all --jobs 256 > out & p=$!; m=0; while kill -0 $p 2>/dev/null; "
                                   "do c=$(pgrep -c -P $p); [ \"$c\" -gt $m ] && m=$c; sleep 0.05; done; "
                                   "echo \"at most $m worker processes\" >&2; wait $p"),
    ("29: positional-encoding 512x39, n=10^9", f"{S} solve positional-encoding --set length=512 --set d=39 "
                                                "--set n=1000000000 > out"),
    ("29: positional-encoding 512x512, n=10^9", f"{S} solve positional-encoding --set length=512 --set d=512 "
                                                 "--set n=1000000000 > out"),
    ("29: API solve(w0=numpy.float64(0.5))",
     _py("import numpy, symderiv\nsymderiv.solve('sigmoid-neuron', w0=numpy.float64(0.5))")),
]


def run(command: str, timeout: float, cwd: str) -> tuple[float, float, float, str, str]:
    """(seconds, CPU seconds, peak MB, status, first stderr line) of ``command`` under bash in
    ``cwd``; the CPU time (user and system, of every process waited for) does not grow when
    other work shares the cores, where the wall time does."""
    env = dict(os.environ, PYTHONPATH=f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    with open(os.path.join(cwd, "err"), "w+b") as err:
        start = time.monotonic()
        proc = subprocess.Popen(["bash", "-c", command], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                stderr=err, start_new_session=True)
        status = None
        while status is None:
            pid, code, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                status = f"exit {os.waitstatus_to_exitcode(code)}"
                break
            if time.monotonic() - start > timeout:
                os.killpg(proc.pid, signal.SIGKILL)
                _, code, usage = os.wait4(proc.pid, 0)
                status = f"timeout {timeout:g} s"
                break
            time.sleep(0.02)
        seconds = time.monotonic() - start
        proc.returncode = 0  # reaped above by wait4
        err.seek(0)
        first = err.read(4000).decode("utf-8", "replace").splitlines()
    cpu = usage.ru_utime + usage.ru_stime
    return seconds, cpu, usage.ru_maxrss / 1024, status, (first[0] if first else "")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--only", default="", help="run only the cases whose label contains this")
    args = ap.parse_args()
    print("| case | seconds | CPU s | peak MB | status | first line of stderr |")
    print("|---|---:|---:|---:|---|---|")
    admitted: list[tuple[float, float, str]] = []  # (CPU s, peak MB, label) of each request run to the end
    for label, command in CASES:
        if args.only not in label:
            continue
        with tempfile.TemporaryDirectory(prefix="symderiv-bounds-") as cwd:
            seconds, cpu, peak, status, first = run(command, args.timeout, cwd)
            size = os.path.getsize(os.path.join(cwd, "out")) if os.path.exists(os.path.join(cwd, "out")) else None
        shown = first if len(first) <= 110 else first[:109] + "…"
        if size is not None and status == "exit 0":
            shown = f"(output {size / 1e6:.1f} MB) {shown}".strip()
        memory = f"{peak:.0f}" if status.startswith("exit") else "—"  # a killed child was not waited for
        print(f"| {label} | {seconds:.1f} | {cpu:.1f} | {memory} | {status} | {shown.replace('|', '¦')} |",
              flush=True)
        if status == "exit 0":
            admitted.append((cpu, peak, label))
    if admitted:
        slowest, largest = max(admitted), max(admitted, key=lambda row: row[1])
        print(f"\nworst admitted CPU time: {slowest[0]:.1f} s ({slowest[2]}); "
              f"worst admitted memory: {largest[1]:.0f} MB ({largest[2]})")


if __name__ == "__main__":
    sys.exit(main())
