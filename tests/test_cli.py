"""The command line, run as a user runs it: output, exit status, one-line errors."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from symderiv.cli import main

#: The catalogue's ids in its order, read from the catalogue itself (../shared/CATALOGUE.md), not from the code
CATALOGUE = re.findall(r"^\| `([a-z0-9-]+)`", (Path(__file__).resolve().parents[2] / "shared" / "CATALOGUE.md")
                       .read_text(encoding="utf-8"), re.M)


def run(*args, cwd=None):
    """The CLI in a fresh process: (exit status, stdout, stderr)."""
    p = subprocess.run([sys.executable, "-m", "symderiv.cli", *args], capture_output=True, text=True,
                       cwd=cwd, timeout=300)
    return p.returncode, p.stdout, p.stderr


def test_list_names_every_model():
    code, out, err = run("list")
    assert code == 0 and err == ""
    ids = [line.split()[0] for line in out.splitlines()]
    assert len(CATALOGUE) == 19 and ids == CATALOGUE


def test_solve_sigmoid_neuron_prints_forward_and_backward():
    code, out, err = run("solve", "sigmoid-neuron")
    assert code == 0 and err == ""
    assert "f5 = -f4 = -1" in out
    assert "∂f/∂f6 = (∂f7/∂f6)·(∂f/∂f7) = -1/(1 + exp(-1))^2 ≈ 1·(-0.5344) ≈ -0.5344" in out
    for name, value in {"w0": "-0.1966", "x0": "0.3932", "w1": "-0.3932", "x1": "-0.5898", "w2": "0.1966"}.items():
        assert f"∂f/∂{name} = " in out and f"≈ {value}" in out.split(f"∂f/∂{name} = ")[-1].splitlines()[0]


def test_set_overrides_and_digits():
    code, out, _ = run("solve", "graph-add-mul", "--set", "x=0.5", "--set", "y=1/3", "--set", "z=2")
    assert code == 0
    assert "q = x + y = 1/2 + 1/3 = 5/6" in out
    code, out, _ = run("solve", "sigmoid-neuron", "--digits", "8")
    assert "≈ -0.19661193" in out


def test_json_is_parseable_and_carries_exact_strings_and_doubles():
    code, out, _ = run("solve", "sigmoid-neuron", "--format", "json")
    data = json.loads(out)
    assert data["model"] == "sigmoid-neuron"
    w0 = data["results"]["w0"]
    assert w0["exact"] == "-exp(-1)/(exp(-1) + 1)**2" or "exp(-1)" in w0["exact"]
    assert w0["float"] == pytest.approx(-0.19661193324148185, rel=1e-15)


def test_all_in_every_format(tmp_path):
    for fmt in ("text", "latex", "mathml", "html", "json"):
        code, out, err = run("solve", "--all", "--format", fmt)
        assert code == 0, err
        if fmt == "json":
            models = [d["model"] for d in json.loads(out)]
            assert models == CATALOGUE


def test_output_file_written(tmp_path):
    target = tmp_path / "n.tex"
    code, out, _ = run("solve", "sigmoid-neuron", "--format", "latex", "--standalone", "-o", str(target))
    assert code == 0 and out == ""
    assert target.read_text().startswith("\\documentclass")
    assert [p.name for p in tmp_path.iterdir()] == ["n.tex"]


BAD = [
    (["solve", "no-such-model"], "unknown model 'no-such-model'"),
    (["solve", "graph-add-mul", "--set", "q=1"], "unknown parameter 'q'"),
    (["solve", "graph-add-mul", "--set", "x"], "expected NAME=VALUE"),
    (["solve", "graph-add-mul", "--set", "x=abc"], "expected a number"),
    (["solve", "graph-add-mul", "--set", "x=nan"], "not finite"),
    (["solve", "graph-add-mul", "--set", "x=inf"], "not finite"),
    (["solve", "graph-add-mul", "--set", "x=-inf"], "not finite"),
    (["solve", "graph-add-mul", "--set", "x=[1,2]"], "expected a number, got a list of shape 2"),
    (["solve", "xor-mlp", "--set", "W1=[[1,2,3],[4,5,6]]"], "W1: expected shape 2x2, got shape 2x3"),
    (["solve", "xor-mlp", "--set", "W1=[[1,2],[3]]"], "ragged"),
    (["solve", "xor-mlp", "--set", "row=7"], "from 0 to 3"),
    (["solve", "sigmoid-chain", "--set", "depth=0"], "whole number from 1"),
    (["solve", "sigmoid-chain", "--set", "depth=2.5"], "whole number from 1"),
    (["solve", "sigmoid-neuron", "--set", "staging=foo"], "expected one of gates, sum3, sigmoid"),
    (["solve", "graph-add-mul", "--format", "pdf"], "unknown format 'pdf'"),
    (["solve", "graph-add-mul", "--digits", "0"], "--digits"),
    (["solve"], "give one model id, or --all"),
    (["solve", "graph-add-mul", "--set", "x=1/0"], "division by zero"),
    (["frobnicate"], "invalid choice"),
    (["solve", "rnn", "--set", "W_hh=[[1,2],[3,4]]"], "W_hh: expected shape 3x3"),
    (["solve", "self-attention", "--set", "V=[[1,2,3,4]]"], "V: expected 2 rows"),
    (["solve", "positional-encoding", "--set", "length=0"], "whole number from 1"),
]


@pytest.mark.parametrize("args, message", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input_is_one_line_and_status_2(args, message, capsys):
    assert main(args) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("symderiv: error: ")
    assert message in err


def test_bad_input_in_a_real_process_has_no_traceback():
    code, out, err = run("solve", "xor-mlp", "--set", "W1=[[1,2],[3]]")
    assert code == 2 and out == "" and "Traceback" not in err and err.count("\n") == 1


def test_unwritable_output_leaves_nothing(tmp_path):
    missing = tmp_path / "no" / "such" / "dir" / "out.tex"
    code, out, err = run("solve", "graph-add-mul", "-o", str(missing))
    assert code == 2 and "cannot write there" in err
    assert not (tmp_path / "no").exists()
    if os.geteuid() != 0:  # root can write anywhere
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        code, _, err = run("solve", "graph-add-mul", "-o", str(ro / "x.txt"))
        assert code == 2 and list(ro.iterdir()) == []


def test_input_is_never_evaluated(tmp_path):
    marker = tmp_path / "pwned"
    payloads = [f"__import__('os').system('touch {marker}')",
                f"[__import__('os').system('touch {marker}')]",
                "exec('1')", "lambda: 1", "1+1", "x.y"]
    for p in payloads:
        code, _, err = run("solve", "graph-add-mul", "--set", f"x={p}")
        assert code == 2 and "Traceback" not in err
        code, _, err = run("solve", f"{p}")
        assert code == 2
    assert not marker.exists()


def test_version_and_python_dash_m():
    from importlib.metadata import version
    run = subprocess.run([sys.executable, "-m", "symderiv", "--version"], capture_output=True, text=True)
    assert run.returncode == 0 and run.stdout == f"symderiv {version('symderiv')}\n"  # the installed package's
    run = subprocess.run([sys.executable, "-m", "symderiv", "solve", "nosuch"], capture_output=True, text=True)
    assert run.returncode == 2 and run.stderr.startswith("symderiv: error: unknown model 'nosuch'")


def test_output_file_gets_the_usual_mode_and_a_symlink_its_target_written(tmp_path):
    old = os.umask(0o022)
    try:
        new = tmp_path / "new.txt"
        assert main(["solve", "graph-add-mul", "-o", str(new)]) == 0
        assert oct(new.stat().st_mode & 0o777) == oct(0o644)  # what 'touch' would make under umask 022
        kept = tmp_path / "kept.txt"
        kept.write_text("old")
        kept.chmod(0o640)
        link = tmp_path / "link.txt"
        link.symlink_to(kept)
        assert main(["solve", "graph-add-mul", "-o", str(link)]) == 0
        assert link.is_symlink() and "q = x + y" in kept.read_text()
        assert oct(kept.stat().st_mode & 0o777) == oct(0o640)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.txt", "link.txt", "new.txt"]
    finally:
        os.umask(old)
