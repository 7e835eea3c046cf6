"""Issue 15: ``-o`` never replaces what is not a regular file; standard output's errors are one
line (a closed pipe: quiet, status 141); a bug of symderiv is one line and status 1.

No test here writes to a real device: special files are made in a temporary directory (a FIFO, a
socket, symbolic links), and /dev/full is only ever the standard output of a child process."""

from __future__ import annotations

import os
import re
import shlex
import socket
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import symderiv
from symderiv.cli import main
from symderiv.errors import REPORT_BUGS, InternalError

DOCS = Path(__file__).resolve().parents[1] / "docs" / "errors.md"
PREFIX = "symderiv: error: "
SYMDERIV = f"{shlex.quote(sys.executable)} -m symderiv"
# graph-add-mul by hand: q = x + y = -2 + 5 = 3, f = q·z = 3·(-4) = -12
HAND_LINES = ("q = x + y", "= 3", "-12")


def _listing(directory: Path) -> dict[str, tuple]:
    """Each entry's kind, and where it points if it is a symbolic link."""
    out = {}
    for p in directory.iterdir():
        mode = p.lstat().st_mode
        out[p.name] = (stat.S_IFMT(mode), os.readlink(p) if p.is_symlink() else None)
    return out


# ----- the documented table of output targets, run as written --------------------------------
def _output_rows() -> list[tuple[str, str, str]]:
    section = DOCS.read_text(encoding="utf-8").split("## Where the output goes", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| (`[^|]*`|\(nothing\)) \| `((?:[A-Z]+=\w+ )*symderiv [^`]*)` \| `([^`]*)` \|$",
                      section, re.M)
    assert len(rows) >= 6, "the table of output targets went missing"
    return [(setup.strip("`") if setup != "(nothing)" else "", command, message) for setup, command, message in rows]


@pytest.mark.parametrize("setup, command, message", _output_rows())
def test_every_documented_output_target_gets_its_message(setup, command, message, tmp_path):
    if "/dev/full" in command and not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    if setup:
        subprocess.run(setup, shell=True, cwd=tmp_path, check=True)
    before = _listing(tmp_path)
    shell_command = re.sub(r"\bsymderiv\b", lambda _: SYMDERIV, command, count=1)
    p = subprocess.run(shell_command, shell=True, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert (p.returncode, p.stdout, p.stderr) == (2, "", f"{PREFIX}{message}\n")
    assert _listing(tmp_path) == before  # the link, loop or socket is as it was; nothing was added


def test_the_documented_setups_make_what_they_say(tmp_path):
    for setup, _, _ in _output_rows():
        if setup:
            subprocess.run(setup, shell=True, cwd=tmp_path, check=True)
    assert os.readlink(tmp_path / "loop") == "loop"
    assert os.readlink(tmp_path / "link") == "missing" and not (tmp_path / "missing").exists()
    assert stat.S_ISSOCK((tmp_path / "sock").lstat().st_mode)


# ----- special files and links, in-process -----------------------------------------------------
def test_a_fifo_is_written_into_and_stays_a_fifo(tmp_path, capsys):
    assert main(["solve", "graph-add-mul"]) == 0
    printed = capsys.readouterr().out
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []

    def read() -> None:
        with open(fifo, "rb") as f:  # blocks until the writer opens it
            received.append(f.read())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert main(["solve", "graph-add-mul", "-o", str(fifo)]) == 0
        reader.join(timeout=60)
    finally:
        if reader.is_alive():  # the writer never opened the FIFO: let the reader go
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            reader.join(timeout=60)
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["pipe"]
    text = received[0].decode("utf-8")
    assert text == printed and all(line in text for line in HAND_LINES)
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize("links", [["loop"], ["a", "b"]])
def test_a_loop_of_symbolic_links_is_refused_and_kept(links, tmp_path, capsys):
    for name, to in zip(links, links[1:] + links[:1]):
        (tmp_path / name).symlink_to(to)
    before = _listing(tmp_path)
    assert main(["solve", "graph-add-mul", "-o", str(tmp_path / links[0])]) == 2
    assert capsys.readouterr().err == f"{PREFIX}-o {tmp_path / links[0]}: cannot write there (a loop of symbolic links)\n"
    assert _listing(tmp_path) == before


def test_a_dangling_link_creates_nothing(tmp_path, capsys):
    (tmp_path / "link").symlink_to("nowhere/missing.txt")
    assert main(["solve", "graph-add-mul", "-o", str(tmp_path / "link")]) == 2
    assert "(a symbolic link to 'nowhere/missing.txt', which does not exist)" in capsys.readouterr().err
    assert _listing(tmp_path) == {"link": (stat.S_IFLNK, "nowhere/missing.txt")}


def test_a_socket_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # a short relative name: AF_UNIX paths are limited to about 100 bytes
    with socket.socket(socket.AF_UNIX) as s:
        s.bind("sock")
        assert main(["solve", "graph-add-mul", "-o", "sock"]) == 2
    assert capsys.readouterr().err == (f"{PREFIX}-o sock: cannot write there (a socket; -o writes regular files, "
                                       "FIFOs and character devices)\n")
    assert stat.S_ISSOCK(os.lstat("sock").st_mode)


def test_a_hard_linked_file_is_replaced_and_its_other_name_keeps_the_old_text(tmp_path):
    first, second = tmp_path / "first.txt", tmp_path / "second.txt"
    first.write_text("old\n")
    os.link(first, second)
    assert main(["solve", "graph-add-mul", "-o", str(first)]) == 0
    assert all(line in first.read_text() for line in HAND_LINES)
    assert second.read_text() == "old\n"  # as docs/cli.md says: the name given gets a new file
    assert first.stat().st_ino != second.stat().st_ino and second.stat().st_nlink == 1


def test_a_regular_file_is_still_replaced_whole(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("x" * 100_000)
    assert main(["solve", "graph-add-mul", "-o", str(target)]) == 0
    assert all(line in target.read_text() for line in HAND_LINES) and "x" * 10 not in target.read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


# ----- standard output ---------------------------------------------------------------------------
# Python writes standard output unbuffered under PYTHONUNBUFFERED=1, and a short write then loses
# the rest silently unless the CLI writes until all is taken: every case runs both ways.
BUFFERING = {"buffered": {"PYTHONUNBUFFERED": ""}, "unbuffered": {"PYTHONUNBUFFERED": "1"}}


def _env(buffering: str) -> dict[str, str]:
    return {**os.environ, **BUFFERING[buffering]}


@pytest.mark.parametrize("buffering", BUFFERING)
def test_stdout_closed_is_one_line_and_status_2(buffering):
    for command in ("solve graph-add-mul", "list", "--version", "solve --help"):
        p = subprocess.run(f"{SYMDERIV} {command} >&-", shell=True, capture_output=True, text=True,
                           env=_env(buffering), timeout=300)
        assert (p.returncode, p.stdout) == (2, ""), command
        assert p.stderr == f"{PREFIX}cannot write to standard output: it is closed; redirect it, or give -o FILE\n"


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full here")
@pytest.mark.parametrize("buffering", BUFFERING)
def test_stdout_on_a_full_device_is_one_line_and_status_2(buffering):
    for command in (["solve", "graph-add-mul"], ["solve", "--all"], ["--version"]):
        with open("/dev/full", "w") as full:  # the child's standard output, as `> /dev/full`
            p = subprocess.run([sys.executable, "-m", "symderiv", *command], stdout=full, stderr=subprocess.PIPE,
                               text=True, env=_env(buffering), timeout=300)
        assert p.returncode == 2, command
        assert p.stderr == f"{PREFIX}cannot write to standard output (No space left on device)\n"


@pytest.mark.parametrize("buffering", BUFFERING)
def test_a_pipe_closed_before_the_first_write_ends_quietly_with_141(buffering):
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        p = subprocess.run([sys.executable, "-m", "symderiv", "solve", "graph-add-mul"], stdout=write_end,
                           stderr=subprocess.PIPE, text=True, env=_env(buffering), timeout=300)
    finally:
        os.close(write_end)
    assert (p.returncode, p.stderr) == (141, "")  # no message, no "Exception ignored ... BrokenPipeError"


@pytest.mark.parametrize("buffering", BUFFERING)
def test_a_reader_that_stops_after_one_line_ends_it_quietly_with_141(buffering):
    # about 1.4 MB of text, far more than a pipe holds (64 KiB on Linux), so the writer is still
    # writing when the reader closes its end, as with `symderiv solve ... | head -1`
    read_end, write_end = os.pipe()
    child = subprocess.Popen([sys.executable, "-m", "symderiv", "solve", "sigmoid-chain", "--set", "depth=1000"],
                             stdout=write_end, stderr=subprocess.PIPE, text=True, env=_env(buffering))
    os.close(write_end)
    with os.fdopen(read_end, "rb") as reader:
        first = reader.readline()
    assert first.decode("utf-8").startswith("A chain of 1000 sigmoid layers")
    assert child.wait(timeout=300) == 141
    assert child.stderr.read() == ""
    child.stderr.close()


def test_a_shell_pipeline_into_head_is_quiet():
    p = subprocess.run(f"{SYMDERIV} solve --all | head -1", shell=True, capture_output=True, text=True,
                       timeout=300)
    assert p.returncode == 0 and p.stderr == ""  # the pipeline's status is head's
    assert p.stdout.count("\n") == 1


# ----- a bug of symderiv: one line, status 1 -----------------------------------------------------
def _break_solve(monkeypatch, error: BaseException) -> None:
    def broken(self, **params):
        raise error
    monkeypatch.setattr(type(symderiv.get_model("graph-add-mul")), "solve", broken)


def _bug_line(what: str) -> str:
    return f"symderiv: internal error (a bug, not your input): {what}; {REPORT_BUGS}\n"


@pytest.mark.parametrize("error, what", [
    (InternalError("step 3 came out malformed"), "InternalError: step 3 came out malformed"),
    (symderiv.errors.MathMLError("an unclosed <mrow>"), "MathMLError: an unclosed <mrow>"),
    (KeyError("w0"), "KeyError: 'w0'"),
    (AssertionError(), "AssertionError"),
    (RuntimeError("first line\n  second line\n"), "RuntimeError: first line second line"),
])
def test_a_failing_model_is_reported_as_a_bug_with_status_1(error, what, monkeypatch, capsys):
    monkeypatch.delenv("SYMDERIV_TRACEBACK", raising=False)
    _break_solve(monkeypatch, error)
    assert main(["solve", "graph-add-mul"]) == 1
    assert capsys.readouterr() == ("", _bug_line(what))


def test_a_plain_bug_in_a_renderer_is_reported_as_a_bug(monkeypatch, capsys):
    monkeypatch.delenv("SYMDERIV_TRACEBACK", raising=False)
    monkeypatch.setattr("symderiv.cli.render_many", lambda *args, **kwargs: 1 / 0)
    assert main(["solve", "graph-add-mul", "--format", "latex"]) == 1
    assert capsys.readouterr() == ("", _bug_line("ZeroDivisionError: division by zero"))


def test_a_bug_with_a_long_message_is_cut_to_500_characters(monkeypatch, capsys):
    monkeypatch.delenv("SYMDERIV_TRACEBACK", raising=False)
    _break_solve(monkeypatch, InternalError("y" * 5000))
    assert main(["solve", "graph-add-mul"]) == 1
    assert capsys.readouterr().err == _bug_line("InternalError: " + "y" * 500 + "…")


def test_a_bug_leaves_an_output_file_as_it_was(monkeypatch, capsys, tmp_path):
    monkeypatch.delenv("SYMDERIV_TRACEBACK", raising=False)
    _break_solve(monkeypatch, ZeroDivisionError("division by zero"))
    target = tmp_path / "out.txt"
    target.write_text("kept\n")
    assert main(["solve", "graph-add-mul", "-o", str(target)]) == 1
    assert target.read_text() == "kept\n" and [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_symderiv_traceback_1_raises_the_bug_for_a_developer(monkeypatch, capsys):
    monkeypatch.setenv("SYMDERIV_TRACEBACK", "1")
    _break_solve(monkeypatch, ZeroDivisionError("division by zero"))
    with pytest.raises(ZeroDivisionError):
        main(["solve", "graph-add-mul"])
    monkeypatch.setattr("symderiv.cli.render_many", lambda *args, **kwargs: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        main(["derive", "x*y"])


def test_bad_input_and_interrupts_are_not_reported_as_bugs(monkeypatch, capsys):
    monkeypatch.setenv("SYMDERIV_TRACEBACK", "1")  # not re-raised either: they are not bugs
    assert main(["solve", "graph-add-mul", "--set", "x=abc"]) == 2
    assert capsys.readouterr().err.startswith(PREFIX)
    _break_solve(monkeypatch, KeyboardInterrupt())
    assert main(["solve", "graph-add-mul"]) == 130
    assert capsys.readouterr().err == "symderiv: interrupted\n"


def test_a_bug_in_a_real_process_exits_1_with_one_line():
    script = ("import sys, symderiv, symderiv.cli\n"
              "type(symderiv.get_model('graph-add-mul')).solve = lambda self, **p: 1 / 0\n"
              "sys.exit(symderiv.cli.main(['solve', 'graph-add-mul']))\n")
    env = {k: v for k, v in os.environ.items() if k != "SYMDERIV_TRACEBACK"}
    p = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert (p.returncode, p.stdout, p.stderr) == (1, "", _bug_line("ZeroDivisionError: division by zero"))
