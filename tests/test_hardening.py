"""Issue 29: nothing the user did not ask for is removed or left behind. A question folder's
export refuses a target whose entries are of another kind than the files it writes; SIGTERM,
SIGHUP and SIGINT during a write, and a worker killed with SIGKILL, leave no temporary file (real
signals, sent to a real process); ``--jobs`` never starts more workers than there are cores."""

from __future__ import annotations

import concurrent.futures
import contextlib
import io
import math
import os
import re
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
    assert "def generate" in (question / "server.py").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["q"]  # no temporary folder left


# ----- real signals during a write ------------------------------------------------------------
# The child holds its output's temporary file open as long as the test needs: its rename waits
# (the write itself is too quick to catch). The signal is real, sent by the test to the process.
SLOW_RENAME = """
import os, sys, time
def waiting(*args):
    os.write(1, b"renaming\\n")
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
    os.write(1, f"{os.getpid()}\\n".encode())  # one write: two workers' lines never interleave
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
        try:
            os.kill(worker, signal.SIGKILL)
        except ProcessLookupError:
            pytest.fail(f"the worker {worker} was gone before it was killed: {proc.communicate(timeout=60)}")
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


# ----- entry names with two-digit indices -------------------------------------------------------
def _image(n: int) -> list[list[int]]:
    return [[(3 * i + j) % 5 for j in range(n)] for i in range(n)]


def test_entries_of_a_matrix_of_ten_or_more_rows_are_written_with_a_comma_in_every_format():
    import symderiv
    sol = symderiv.solve("conv2d", image=_image(13))  # a 3x3 kernel: an 11x11 output O
    pairs = {(i, j) for i in range(1, 12) for j in range(1, 12)}
    text = symderiv.render(sol, "text")
    assert {(int(i), int(j)) for i, j in re.findall(r"\bO_(\d+)_(\d+)\b", text)} == pairs
    tex = symderiv.render(sol, "latex")
    written = set(re.findall(r"\{O\}_\{([0-9,]+)\}", tex))
    assert written == {f"{i},{j}" for i, j in pairs}  # O_{11,1} and O_{1,11}, never O_{111}
    page = symderiv.render(sol, "html")
    mathml = set(re.findall(r"<msub><mrow><mi>O</mi></mrow><mrow><mn>(\d+)</mn><mo>,</mo><mn>(\d+)</mn></mrow></msub>",
                            page))
    assert {(int(i), int(j)) for i, j in mathml} == pairs
    assert not re.search(r"<msub><mrow><mi>O</mi></mrow><mn>\d+</mn></msub>", page)  # no index without its comma


def test_pooling_and_a_bias_over_ten_entries_write_commas_and_small_matrices_keep_two_digits():
    import symderiv
    pooled = symderiv.render(symderiv.solve("pooling", input=_image(12), size=2, stride=1), "latex")
    assert "Y_{11,1}" in pooled and "Y_{1,11}" in pooled and not re.search(r"Y_\{\d{3}\}", pooled)
    volume = symderiv.render(symderiv.solve("conv-volume", volume=[_image(12)], filter=[[[1, 0], [0, -1]]], bias=1),
                             "latex")  # O = Z + b, 11x11
    assert "O_{11,1}" in volume and "O_{1,11}" in volume and not re.search(r"O_\{\d{3}\}", volume)
    small = symderiv.render(symderiv.solve("conv2d"), "latex")
    assert "{O}_{12}" in small and "{O}_{1,2}" not in small


# ----- an exercise weighs its draws --------------------------------------------------------------
def test_many_variants_are_refused_after_the_first_batch_whatever_the_jobs():
    one = run_cli(["exercise", "sigmoid-neuron", "--variants", "1000", "--jobs", "1"])
    two = run_cli(["exercise", "sigmoid-neuron", "--variants", "1000", "--jobs", "2"])
    assert one == two and one[0] == 2 and one[1] == ""
    assert one[2].startswith("symderiv: error: sigmoid-neuron: 1,000 variants, drawn as the first 2 were")
    assert "over the limit of 200,000; raise it with --max-size" in one[2]


def test_a_raised_limit_admits_what_the_default_refuses(tmp_path):
    refused = run_cli(["exercise", "sigmoid-neuron", "--variants", "40", "--max-size", "20000"])
    assert refused[0] == 2 and "over the limit of 20,000" in refused[2]
    needed = int(re.search(r"--max-size (\d+)", refused[2]).group(1))
    admitted = run_cli(["exercise", "sigmoid-neuron", "--variants", "40", "--max-size", str(needed * 2),
                        "--format", "json"])
    assert admitted[0] == 0 and admitted[1].count('"index"') == 40


def test_an_infinite_asked_value_is_a_draw_that_is_not_nice():
    import symderiv
    # P = (1/2, 1/2, 0) against Q = (1/4, 1/4, 1/2): D_KL(Q||P) is +inf (Q puts mass where P puts none)
    vary = {"P": "[1/2, 1/2, 0]", "Q": "[1/4, 1/4, 1/2]"}
    with pytest.raises(symderiv.ParameterError, match=r"\(the last: D_KL\(Q‖P\) is infinite\)"):
        symderiv.exercises("kl-divergence", vary=vary)
    ex = symderiv.exercises("kl-divergence", vary=vary, ask=["D_KL(P‖Q)"])[0]
    assert ex.asked[0].value == pytest.approx(math.log(2), rel=1e-12)  # 2 · 1/2 · ln((1/2)/(1/4))
