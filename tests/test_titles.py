"""Titles and headings are in the same maths as the body (docs/conventions.md, rule 4): typeset in
LaTeX, inline MathML in HTML, ``$…$`` in Markdown, plain text in text and JSON, for every model."""

from __future__ import annotations

import copy
import dataclasses
import pickle
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest

import symderiv
from symderiv import Maths, Title
from symderiv.models import get_model

MATHML = "{http://www.w3.org/1998/Math/MathML}"

#: Settings that change what a title says (the depth, the keep probability, the pooling kind).
OVERRIDES = [("sigmoid-chain", {"depth": "5"}), ("dropout", {"p": "0.8"}), ("pooling", {"mode": "max"}),
             ("xor-mlp", {"row": "2"}), ("positional-encoding", {"d": "6"}), ("mle", {"family": "gaussian"})]


def _solutions() -> list[tuple[str, symderiv.Solution]]:
    """Every model with its defaults, the catalogue's other versions as the book titles them, and
    the overrides above."""
    out = []
    for model in symderiv.models():
        entry = get_model(model)
        out.append((model, entry.solve()))
        for heading, settings in entry.alternatives:
            sol = entry.solve(**settings)
            out.append((f"{model} ({heading})", dataclasses.replace(sol, title=Title(f"{model}: ", heading))))
    out += [(f"{m} {s}", symderiv.solve(m, **s)) for m, s in OVERRIDES]
    return out


SOLUTIONS = _solutions()
_HEADING = re.compile(r"^\\(?:sub)?section\*?\{(.*)\}$", re.M)


def _outside_maths(tex: str) -> str:
    """``tex`` with every ``$…$`` cut out."""
    assert tex.count("$") % 2 == 0, tex
    return re.sub(r"\$[^$]*\$", "", tex)


@pytest.mark.parametrize("name,sol", SOLUTIONS, ids=[n for n, _ in SOLUTIONS])
def test_latex_headings_have_no_escaped_ascii_maths(name, sol):
    headings = _HEADING.findall(sol.render("latex"))
    assert len(headings) == 1 + len(sol.sections)
    for tex in headings:
        assert "\\_" not in tex and "\\^{}" not in tex and "textasciicircum" not in tex, tex
        assert not re.search(r"[_^]", _outside_maths(tex)), tex
    for text in [sol.title, *(s.title for s in sol.sections)]:
        if re.search(r"[_^²]|\w·\w", text):  # maths written in text: typeset in LaTeX
            assert "$" in headings[[sol.title, *(s.title for s in sol.sections)].index(text)], text


def _headings(html: str) -> list[ET.Element]:
    found = re.findall(r"<h([23])>(.*?)</h\1>", html, re.S)
    return [ET.fromstring(f"<h{level}>{inner}</h{level}>") for level, inner in found]  # well-formed XML


def _text_outside_math(e: ET.Element) -> str:
    out = e.text or ""
    for child in e:
        if child.tag != f"{MATHML}math":
            out += _text_outside_math(child)
        out += child.tail or ""
    return out


@pytest.mark.parametrize("name,sol", SOLUTIONS, ids=[n for n, _ in SOLUTIONS])
def test_html_headings_are_xml_with_inline_mathml(name, sol):
    headings = _headings(sol.render("mathml"))
    assert len(headings) == 1 + len(sol.sections)
    for h, title in zip(headings, [sol.title, *(s.title for s in sol.sections)]):
        assert not re.search(r"[_^]", _text_outside_math(h)), ET.tostring(h, encoding="unicode")
        maths = h.findall(f"{MATHML}math")
        assert all(m.get("display") == "inline" for m in maths)
        assert len(maths) == sum(isinstance(p, Maths) for p in getattr(title, "parts", ()))


@pytest.mark.parametrize("name,sol", SOLUTIONS, ids=[n for n, _ in SOLUTIONS])
def test_text_and_json_keep_the_title_as_text(name, sol):
    lines = sol.render("text").splitlines()
    assert lines[0] == str(sol.title) and lines[1] == "=" * len(sol.title)
    data = sol.to_dict()
    assert type(data["title"]) is str and data["title"] == str(sol.title)
    assert [s["title"] for s in data["sections"]] == [str(s.title) for s in sol.sections]
    tex = _HEADING.findall(sol.render("latex"))
    assert [data["title_latex"], *(s["title_latex"] for s in data["sections"])] == tex


def test_the_sigmoid_chain_title_is_typeset_as_the_body_writes_it():
    sol = symderiv.solve("sigmoid-chain", depth="5")
    # written by hand: the body's a_{k}, w_{k}, σ and ·, the loss ½(a_5 − y)²
    assert sol.render("latex").splitlines()[0] == (
        r"\section*{A chain of 5 sigmoid layers: ${a_{k} = \sigma(w_{k} \cdot a_{k-1})}$, "
        r"${L = \frac{1}{2} (a_{5} - y)^{2}}$}")  # each formula braced: one unbreakable unit
    assert sol.title == "A chain of 5 sigmoid layers: a_k = σ(w_k·a_(k-1)), L = ½(a_5 − y)²"
    h2 = _headings(sol.render("mathml"))[0]
    maths = h2.findall(f"{MATHML}math")
    assert len(maths) == 2
    # a_{k-1}: a subscript whose script is k − 1, not the text "a_(k-1)"
    scripts = ["".join(s[1].itertext()) for s in maths[0].iter(f"{MATHML}msub") if "".join(s[0].itertext()) == "a"]
    assert scripts == ["k", "k−1"]
    assert "".join(maths[1].iter(f"{MATHML}mfrac").__next__().itertext()) == "12"
    assert sol.render("markdown").splitlines()[0] == (
        r"## A chain of 5 sigmoid layers: $a_{k} = \sigma(w_{k} \cdot a_{k-1})$, $L = \frac{1}{2} (a_{5} - y)^{2}$")


def test_the_autoencoder_and_kl_headings_have_their_hat_and_d_kl():
    tex = symderiv.solve("autoencoder").render("latex")
    assert r"${\hat{x} = w_{d} h}$" in tex.splitlines()[0] and "x\\^{}" not in tex.splitlines()[0]
    headings = _HEADING.findall(symderiv.solve("kl-divergence").render("latex"))
    assert headings[2].startswith(r"${D_{\mathrm{KL}}(P \| Q)}$: the sum of ")


def test_a_title_is_a_string_that_keeps_its_maths():
    t = Title("A chain: ", Maths(r"a_{k} = \sigma(z_{k})", "a_k = σ(z_k)"), "!")
    assert t == "A chain: a_k = σ(z_k)!" and isinstance(t, str) and len(t) == len("A chain: a_k = σ(z_k)!")
    assert Title("x: ", t).parts == ("x: ", "A chain: ", Maths(r"a_{k} = \sigma(z_{k})", "a_k = σ(z_k)"), "!")
    for copied in (pickle.loads(pickle.dumps(t)), copy.deepcopy(t), copy.copy(t)):
        assert copied == t and copied.parts == t.parts
    with pytest.raises(TypeError):
        Title("a", 1)
    g = symderiv.Graph(Title("f = ", Maths(r"x^{2}", "x²")))
    x = g.input("x", 3)
    sol = g.solution(g.mul(x, x, name="f"))
    assert sol.render("latex").startswith(r"\section*{f = ${x^{2}}$}")
    assert "<h2>f = <math" in sol.render("mathml")
    # a plain string stays text, escaped as before
    plain = symderiv.Graph("a_b")
    assert plain.solution(plain.mul(plain.input("x", 1), 2, name="f")).render("latex").startswith(r"\section*{a\_b}")


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="needs pdflatex (Debian: texlive-latex-base)")
def test_every_heading_compiles(tmp_path):
    """Every title and heading above in one document, numbered (so into a table of contents):
    one pdflatex run, no error."""
    body = []
    for _, sol in SOLUTIONS:
        tex = sol.render("latex")
        body += [h.replace(r"\section*{", r"\section{") for h in re.findall(r"^\\(?:sub)?section\*\{.*\}$", tex, re.M)]
    doc = ("\\documentclass{article}\n\\usepackage{amsmath}\n\\begin{document}\n\\tableofcontents\n"
           + "\n".join(body) + "\n\\end{document}\n")
    (tmp_path / "titles.tex").write_text(doc, encoding="utf-8")
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "titles.tex"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:]
    log = (tmp_path / "titles.log").read_text(encoding="latin-1")
    assert "Missing $ inserted" not in log and "Undefined control sequence" not in log
