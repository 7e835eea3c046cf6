"""Issue 19: ``solve --all`` and ``book`` split the models over worker processes (``--jobs N``),
and a Sphinx build reads pages in parallel (``sphinx-build -j N``); the output is byte for byte
that of one process, and so is every error."""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from symderiv import limits
from symderiv.cli import main
from symderiv.errors import ParameterError, SizeError
from symderiv.models import MODELS
from symderiv.render import RENDERERS

ROOT = Path(__file__).resolve().parents[1]
ERRORS = ROOT / "docs" / "errors.md"
PREFIX = "symderiv: error: "


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def pools(monkeypatch):
    """The ``jobs`` of every run_jobs call, and no process pool made unless run_jobs makes it."""
    calls: list[int] = []
    real = limits.run_jobs

    def recording(work, tasks, jobs, stage):
        calls.append(jobs)
        return real(work, tasks, jobs, stage)

    monkeypatch.setattr(limits, "run_jobs", recording)
    return calls


def no_pool(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("--jobs 1 made a process pool")
    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", refuse)


# ----- the same bytes ----------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["text", "html", "json"])
def test_solve_all_with_two_jobs_is_byte_identical_to_one(fmt, monkeypatch, pools):
    with monkeypatch.context() as m:
        no_pool(m)
        one = run_cli(["solve", "--all", "--format", fmt, "--jobs", "1"])
    two = run_cli(["solve", "--all", "--format", fmt, "--jobs", "2"])
    assert one[0] == 0 and one[2] == "" and len(one[1]) > 10_000
    assert two == one
    assert pools == [2]  # the second run split the models over two workers
    if fmt == "json":  # one list, every model in catalogue order
        assert [s["model"] for s in json.loads(two[1])] == list(MODELS)
    if fmt == "html":  # one page, a section per model
        assert two[1].count("<!DOCTYPE html>") == 1 and two[1].count('<section class="symderiv">') == len(MODELS)


def test_book_with_two_jobs_is_byte_identical_to_one(monkeypatch, pools):
    with monkeypatch.context() as m:
        no_pool(m)
        one = run_cli(["book", "--jobs", "1"])
    assert one[0] == 0 and one[1].startswith("\\documentclass") and one[1].count("\\end{document}") == 1
    assert run_cli(["book", "--jobs", "2"]) == one
    assert pools == [1, 2]


# ----- bad --jobs ------------------------------------------------------------------------------
def documented() -> dict[str, str]:
    return dict(re.findall(r"^\| `(symderiv [^`]*)` \| `([^`]*)` \|$", ERRORS.read_text(encoding="utf-8"), re.M))


@pytest.mark.parametrize("argv", [["solve", "--all"], ["book"], ["solve", "graph-add-mul"]])
@pytest.mark.parametrize("value", ["0", "-1", "x", str(10**9)])
def test_a_bad_jobs_value_is_one_documented_line_and_status_2(argv, value, monkeypatch):
    no_pool(monkeypatch)
    code, out, err = run_cli([*argv, "--jobs", value])
    assert (code, out) == (2, "") and err.count("\n") == 1 and err.startswith(PREFIX)
    message = err[len(PREFIX):-1]
    assert message == f"--jobs: expected a whole number from 1 to 256, got {value!r}"
    assert message in documented().values()


def test_the_documented_jobs_rows_are_the_commands_of_this_test():
    rows = {c: m for c, m in documented().items() if "--jobs" in c}
    for command in ("symderiv solve --all --jobs 0", "symderiv solve --all --jobs -1", "symderiv book --jobs x",
                    f"symderiv book --jobs {10**9}"):
        assert command in rows


# ----- errors in a worker, as in one process ------------------------------------------------
def both(argv: list[str]) -> tuple[tuple[int, str, str], tuple[int, str, str]]:
    return run_cli([*argv, "--jobs", "1"]), run_cli([*argv, "--jobs", "2"])


@pytest.mark.parametrize("argv", [["solve", "--all", "--format", "html", "--max-size", "1000"],
                                  ["book", "--max-size", "1000"]])
def test_a_size_error_in_a_worker_is_the_same_line_and_status_2(argv, pools):
    one, two = both(argv)
    assert two == one and pools[-1] == 2
    assert one[0] == 2 and one[1] == "" and one[2].startswith(PREFIX + "the graph passed the size limit of 1,000")
    assert one[2].count("\n") == 1


def test_the_size_of_all_the_models_together_is_checked_as_in_one_process(pools):
    """Each model within the limit, all of them together over it: the parent refuses the joined
    output with the line one process gives."""
    sizes = [m.solve().size for m in MODELS.values()]
    limit = max(sizes)
    assert sum(sizes) > limit
    one, two = both(["solve", "--all", "--max-size", str(limit)])
    assert two == one and pools == [2]
    assert one[0] == 2 and one[2].startswith(PREFIX + f"the {len(MODELS)} models: the worked solution would have size")


def broken(model_id: str, error: Exception):
    model = MODELS[model_id]

    def build(**values):
        raise error
    return dataclasses.replace(model, build=build)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a patched model reaches workers only by fork")
@pytest.mark.parametrize("error, status, line", [
    (RuntimeError("first line\n  second line"), 1, "symderiv: internal error (a bug, not your input): "
                                                   "RuntimeError: first line second line; please report it"),
    (ParameterError("sigmoid-neuron: broken on purpose"), 2, PREFIX + "sigmoid-neuron: broken on purpose"),
])
def test_an_error_solving_in_a_worker_is_reported_as_in_one_process(error, status, line, monkeypatch, pools):
    monkeypatch.delenv("SYMDERIV_TRACEBACK", raising=False)
    monkeypatch.setitem(MODELS, "sigmoid-neuron", broken("sigmoid-neuron", error))
    for argv in (["solve", "--all", "--format", "text"], ["book"]):
        one, two = both(argv)
        assert two == one and pools[-1] == 2
        assert one[0] == status and one[1] == "" and one[2].startswith(line) and one[2].count("\n") == 1


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a patched renderer reaches workers only by fork")
def test_a_rendering_error_waits_for_every_model_to_be_solved_as_in_one_process(monkeypatch, pools):
    """One process solves every model before it renders the first: a later model's error solving
    is the one reported, not an earlier model's error rendering (which workers meet first)."""
    monkeypatch.delenv("SYMDERIV_TRACEBACK", raising=False)

    def part(sol, digits):
        raise ZeroDivisionError("rendering broken on purpose")
    monkeypatch.setitem(RENDERERS, "text", dataclasses.replace(RENDERERS["text"], part=part))
    argv = ["solve", "--all", "--format", "text"]
    one, two = both(argv)
    assert two == one and pools == [2] and one[0] == 1 and "ZeroDivisionError: rendering broken on purpose" in one[2]
    last = list(MODELS)[-1]
    monkeypatch.setitem(MODELS, last, broken(last, ParameterError(f"{last}: broken on purpose")))
    one, two = both(argv)
    assert two == one and one == (2, "", f"{PREFIX}{last}: broken on purpose\n")


# ----- the shared pool -------------------------------------------------------------------------
def pid_and_square(n: int) -> tuple[int, int]:
    return os.getpid(), n * n


def fails_from(n: int) -> int:
    if n >= 2:
        raise ParameterError(f"task {n} failed")
    return n


def checked(size: int) -> str:
    limits.check(size)
    return "within"


def test_run_jobs_returns_results_in_order_from_other_processes():
    results = limits.run_jobs(pid_and_square, list(range(8)), 2, "tasks")
    assert [sq for _, sq in results] == [n * n for n in range(8)]
    assert os.getpid() not in {pid for pid, _ in results}
    assert {pid for pid, _ in limits.run_jobs(pid_and_square, list(range(3)), 1, "tasks")} == {os.getpid()}


def test_run_jobs_raises_the_first_error_in_task_order():
    with pytest.raises(ParameterError, match="^task 2 failed$"):
        limits.run_jobs(fails_from, list(range(6)), 2, "tasks")


def test_run_jobs_carries_the_size_limit_and_format_into_the_workers():
    with limits.size_limit(100), limits.output_format("html", 5):
        assert limits.run_jobs(checked, [20, 20], 2, "tasks") == ["within", "within"]  # 20 × 5 = 100
        with pytest.raises(SizeError, match="the graph passed the size limit of 100, counted 5 times for html"):
            limits.run_jobs(checked, [20, 21], 2, "tasks")


def reports(n: int) -> int:
    limits.progress("inside a worker", n)
    return n


def test_workers_report_no_progress_and_the_caller_reports_the_results(tmp_path):
    """A forked worker shares the caller's terminal (here a file): only the caller writes to it."""
    terminal = tmp_path / "terminal"
    with open(terminal, "w") as stream, limits.reporting(stream, delay=0, every=0):
        assert limits.run_jobs(reports, list(range(4)), 2, "tasks") == list(range(4))
    shown = terminal.read_text()
    assert "symderiv: tasks: 4" in shown and "inside a worker" not in shown


# ----- a parallel Sphinx build ------------------------------------------------------------------
PAGES = {
    "neuron": ".. symderiv:: sigmoid-neuron\n   :set: w0=3 x0=-2\n   :sections: forward results\n",
    "add": ".. symderiv:: graph-add-mul\n   :set: x=1 y=2\n\n.. symderiv:: graph-mul-add\n",
    "gate": ".. symderiv:: max-gate\n   :set: z=2 w=2\n",
    "pool": ".. symderiv:: pooling\n   :sections: backward\n",
    "conv": ".. symderiv:: conv-volume\n",
    "kl": ".. symderiv:: kl-divergence\n\n.. symderiv:: sigmoid-neuron\n   :digits: 6\n",
}
#: A page-reading hook that records which process read each page (so the test sees -j 2 did read
#: in parallel, not fall back to one process).
CONF = """\
import os
project = "t"
extensions = ["symderiv.sphinx"]

def _record(app, docname, source):
    with open(os.path.join(app.srcdir, os.pardir, "readers.txt"), "a") as f:
        f.write(f"{docname} {os.getpid()}\\n")

def setup(app):
    app.connect("source-read", _record)
"""


def sphinx_build(src: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-W", "-q", *extra, str(src), str(out)],
                          capture_output=True, text=True, env=env)


def test_a_parallel_sphinx_build_writes_the_same_pages(tmp_path):
    pytest.importorskip("sphinx")
    from symderiv.embed import CSS
    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text(CONF)
    (src / "index.rst").write_text("Test\n====\n\n.. toctree::\n\n" + "".join(f"   {p}\n" for p in PAGES))
    for name, body in PAGES.items():
        (src / f"{name}.rst").write_text(f"{name}\n{'=' * len(name)}\n\n{body}")
    built = {}
    for jobs in ("1", "2"):
        readers = tmp_path / "readers.txt"
        readers.unlink(missing_ok=True)
        run = sphinx_build(src, tmp_path / f"out{jobs}", "-j", jobs)
        assert run.returncode == 0, run.stderr  # -W: a warning (as "not parallel safe") fails
        pids = {line.split()[1] for line in readers.read_text().splitlines()}
        assert len(pids) == 1 if jobs == "1" else len(pids) >= 2
        out = tmp_path / f"out{jobs}"
        built[jobs] = {p.name: p.read_bytes() for p in out.glob("*.html")}
        assert (out / "_static" / "symderiv.css").read_text() == CSS
    assert set(built["1"]) == {"index.html", "genindex.html", "search.html", *(f"{p}.html" for p in PAGES)}
    assert built["2"] == built["1"]
    assert all(built["1"][f"{p}.html"].count(b"<math ") >= 1 for p in PAGES)
