"""Issue 29: nothing the user did not ask for is removed or left behind. A question folder's
export refuses a target whose entries are of another kind than the files it writes; SIGTERM,
SIGHUP and SIGINT during a write, and a worker killed with SIGKILL, leave no temporary file (real
signals, sent to a real process); ``--jobs`` never starts more workers than there are cores."""

from __future__ import annotations

import concurrent.futures
import contextlib
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from symderiv import limits
from symderiv.cli import main
from symderiv.errors import WorkerDied
from symderiv.export.prairielearn import FILES

ROOT = Path(__file__).resolve().parents[1]


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def tree(folder: Path) -> dict[str, str | None]:
    """Every path under ``folder`` (relative), with a file's text (None for a folder)."""
    return {str(p.relative_to(folder)): (p.read_text() if p.is_file() and not p.is_symlink() else None)
            for p in sorted(folder.rglob("*"))}


# ----- the question folder deletes nothing it did not write ---------------------------------
@pytest.mark.parametrize("name", FILES)
def test_a_folder_named_like_a_file_of_the_question_is_refused_and_kept(name, tmp_path):
    question = tmp_path / "q"
    (question / name).mkdir(parents=True)
    (question / name / "mine.txt").write_text("my own work")
    before = tree(tmp_path)
    code, out, err = run_cli(["exercise", "graph-add-mul", "--format", "prairielearn", "-o", str(question)])
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err == f"symderiv: error: -o {question}: its {name} is a directory, not a file this export wrote; " \
                  "give a new or a question's folder\n"
    assert tree(tmp_path) == before  # nothing removed, nothing left behind


@pytest.mark.parametrize("name", FILES)
def test_a_symbolic_link_named_like_a_file_of_the_question_is_refused_and_kept(name, tmp_path):
    question, elsewhere = tmp_path / "q", tmp_path / "elsewhere.txt"
    question.mkdir()
    elsewhere.write_text("my own work")
    (question / name).symlink_to(elsewhere)
    code, _, err = run_cli(["exercise", "graph-add-mul", "--format", "prairielearn", "-o", str(question)])
    assert code == 2 and f"its {name} is a symbolic link" in err
    assert (question / name).is_symlink() and elsewhere.read_text() == "my own work"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["elsewhere.txt", "q"]


def test_a_question_folder_is_still_replaced_by_the_same_question(tmp_path):
    question = tmp_path / "q"
    assert run_cli(["exercise", "graph-add-mul", "--format", "prairielearn", "-o", str(question)])[0] == 0
    (question / "server.py").write_text("edited")
    assert run_cli(["exercise", "graph-add-mul", "--format", "prairielearn", "-o", str(question)])[0] == 0
    assert sorted(p.name for p in question.iterdir()) == sorted(FILES)
    assert "generate_variant" in (question / "server.py").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["q"]  # no temporary folder left


# ----- real signals during a write ------------------------------------------------------------
# The child holds its output's temporary file open as long as the test needs: its rename waits
# (the write itself is too quick to catch). The signal is real, sent by the test to the process.
SLOW_RENAME = """
import os, sys, time
def waiting(*args):
    print("renaming", flush=True)
    time.sleep(120)
os.replace = os.rename = waiting
from symderiv.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _started(argv: list[str], cwd: Path, code: str = SLOW_RENAME) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    return subprocess.Popen([sys.executable, "-c", code, *argv], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("signum, line", [(signal.SIGTERM, "symderiv: stopped by SIGTERM\n"),
                                          (signal.SIGHUP, "symderiv: stopped by SIGHUP\n"),
                                          (signal.SIGINT, "symderiv: interrupted\n")])
@pytest.mark.parametrize("argv", [["solve", "--all", "--jobs", "2", "--format", "html", "-o", "out.html"],
                                  ["exercise", "graph-add-mul", "--format", "prairielearn", "-o", "out.html"]])
def test_a_signal_during_the_write_leaves_no_temporary_file(argv, signum, line, tmp_path):
    proc = _started(argv, tmp_path)
    try:
        assert proc.stdout.readline() == "renaming\n"
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".symderiv-")]  # the write is under way
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
        proc.wait()
    expected = 130 if signum == signal.SIGINT else 128 + signum
    assert (proc.returncode, err) == (expected, line)
    assert list(tmp_path.iterdir()) == []  # neither the output nor a temporary file


SLOW_WORKER = """
import os, sys, time
import symderiv.cli
def waiting(task):
    print(os.getpid(), flush=True)
    time.sleep(120)
waiting.__module__, waiting.__qualname__ = "symderiv.cli", "_solved_part"  # what run_jobs sends
symderiv.cli._solved_part = waiting
symderiv.limits.default_jobs = lambda: 2  # two workers, whatever the machine's cores
sys.exit(symderiv.cli.main(sys.argv[1:]))
"""


def test_a_worker_killed_with_sigkill_is_one_line_status_2_and_no_file(tmp_path):
    proc = _started(["solve", "--all", "--jobs", "2", "-o", "out.txt"], tmp_path, SLOW_WORKER)
    try:
        worker = int(proc.stdout.readline())
        assert worker != proc.pid
        os.kill(worker, signal.SIGKILL)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 2
    assert err == ("symderiv: error: a worker process died before it finished (killed by a signal, as by the "
                   "out-of-memory killer); nothing was written; run again with --jobs 1 or a smaller request\n")
    assert list(tmp_path.iterdir()) == []


def test_sigterm_stops_the_workers_at_once(tmp_path):
    proc = _started(["solve", "--all", "--jobs", "2", "-o", "out.txt"], tmp_path, SLOW_WORKER)
    try:
        worker = int(proc.stdout.readline())
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)  # not the 120 s the workers' tasks would take
    finally:
        proc.kill()
        proc.wait()
    assert (proc.returncode, err) == (143, "symderiv: stopped by SIGTERM\n")
    with pytest.raises(ProcessLookupError):  # the worker was stopped too (and reaped)
        for _ in range(100):
            os.kill(worker, 0)
            time.sleep(0.05)
    assert list(tmp_path.iterdir()) == []


def test_signal_handlers_are_restored_after_main():
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGHUP)
    assert run_cli(["list"])[0] == 0
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGHUP)) == before


# ----- --jobs is capped at the cores ---------------------------------------------------------
def test_jobs_above_the_cores_starts_only_as_many_workers_as_cores(monkeypatch):
    made: list[int] = []
    real = concurrent.futures.ProcessPoolExecutor

    def recording(max_workers=None, **kwargs):
        made.append(max_workers)
        return real(max_workers=max_workers, **kwargs)

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", recording)
    monkeypatch.setattr(limits, "default_jobs", lambda: 2)
    assert limits.run_jobs(abs, list(range(-20, 0)), 256, "numbers") == list(range(20, 0, -1))
    assert made == [2]
    monkeypatch.setattr(limits, "default_jobs", lambda: 1)  # one core: no pool at all
    assert limits.run_jobs(abs, [-1, -2, -3], 256, "numbers") == [1, 2, 3]
    assert made == [2]


def test_worker_died_is_input_side_not_a_bug():
    assert issubclass(WorkerDied, Exception) and not issubclass(WorkerDied, RuntimeError)
    from symderiv.errors import SymderivError
    assert issubclass(WorkerDied, SymderivError)
