"""The LaTeX book of every model, the Markdown format and what a Solution shows in Jupyter."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

import symderiv
from symderiv.cli import main


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
def test_the_book_compiles_with_a_table_of_contents_of_every_model(tmp_path):
    tex = tmp_path / "book.tex"
    assert main(["book", "-o", str(tex)]) == 0
    source = tex.read_text(encoding="utf-8")
    assert source.count("\\usepackage") == 1 and "\\usepackage{amsmath}" in source
    assert "\\tableofcontents" in source
    for _ in range(2):  # the second run typesets the contents the first one wrote
        p = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", tex.name],
                           cwd=tmp_path, capture_output=True, text=True, timeout=600)
        assert p.returncode == 0, p.stdout[-3000:]
    entries = re.findall(r"\\contentsline \{section\}", (tmp_path / "book.toc").read_text())
    assert len(entries) == len(symderiv.models())
    pdf = (tmp_path / "book.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and len(pdf) > 100_000


def test_the_book_refuses_what_it_does_not_take():
    assert main(["book", "--set", "x=1"]) == 2
    assert main(["book", "--digits", "0"]) == 2


def test_markdown_puts_each_derivation_between_dollars_and_escapes_text():
    g = symderiv.Graph("a *title* with $ and <b>")
    x = g.input("x", 3)
    f = g.mul(x, x, name="f")
    md = g.solution(f).render("markdown")
    assert md.startswith("## a \\*title\\* with \\$ and \\<b\\>\n")
    blocks = re.findall(r"^\$\$\n(.*?)\n\$\$$", md, re.S | re.M)
    assert blocks and all(b.startswith("\\begin{align*}") and b.endswith("\\end{align*}") for b in blocks)
    assert "f &= x \\cdot x = 3 \\cdot 3 = 9" in md  # 3·3, written by hand
    assert "\\frac{\\partial f}{\\partial x} &= " in md and "= 6" in md  # df/dx = 2x = 6


def test_the_cli_prints_markdown():
    import contextlib
    import io
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["solve", "graph-add-mul", "--format", "markdown"]) == 0
    assert "q &= x + y = -2 + 5 = 3" in out.getvalue()


def test_a_solution_shows_mathml_in_a_trusted_notebook_and_tex_on_request():
    sol = symderiv.solve("graph-add-mul")
    bundle = sol._repr_mimebundle_()
    assert set(bundle) == {"text/html", "text/markdown", "text/latex", "text/plain"}
    assert "<math" in bundle["text/html"] and "<style>" in bundle["text/html"]
    assert "$" not in bundle["text/html"] and "\\(" not in bundle["text/html"]  # JupyterLab runs MathJax on HTML
    assert "\\begin{align*}" in bundle["text/latex"] and "=" in bundle["text/plain"]
    try:
        symderiv.notebook_output("latex")
        assert set(sol._repr_mimebundle_()) == {"text/markdown", "text/latex", "text/plain"}
    finally:
        symderiv.notebook_output("mathml")
    assert "text/html" in sol._repr_mimebundle_()
    with pytest.raises(symderiv.SymderivError, match="expected 'mathml' or 'latex'"):
        symderiv.notebook_output("pdf")
