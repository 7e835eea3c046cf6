"""Renderers: well-formed MathML, compiling LaTeX, substitutions as written, deterministic output."""

import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
import sympy as sp

import symderiv
import symderiv.cli
from symderiv.printing import Name, Shown, latex, text
from symderiv.render.mathml import to_mathml

MODELS = symderiv.models()
NS = "{http://www.w3.org/1998/Math/MathML}"


def math_blocks(html):
    return re.findall(r"<math\b.*?</math>", html, re.S)


@pytest.mark.parametrize("model", MODELS)
def test_every_mathml_block_is_well_formed(model):
    page = symderiv.solve(model).to_html()
    blocks = math_blocks(page)
    assert blocks
    for block in blocks:
        root = ET.fromstring(block)
        for e in root.iter():
            assert e.tag != NS + "merror"
            assert not (e.text or "").startswith("\\"), e.text
    assert "<script" not in page.lower()


def test_mathml_polish_pass():
    root = ET.fromstring(to_mathml(r"\begin{align*} f &= - 2 + \max\left(x, y\right) \cdot \left(-0.5\right) \end{align*}"))
    mos = [e for e in root.iter(NS + "mo")]
    minus = [e for e in mos if e.text == "−"]
    assert minus and all(e.get("form") == "prefix" for e in minus)  # after '=' and after '('
    assert not any(e.text == "max" for e in mos)
    assert any(e.text == "max" for e in root.iter(NS + "mi"))
    fences = [e for e in mos if e.text in "()"]
    assert fences and all(e.get("stretchy") == "false" for e in fences)
    tall = ET.fromstring(to_mathml(r"\left(\frac{1}{2}\right)"))
    assert all(e.get("stretchy") == "true" for e in tall.iter(NS + "mo") if e.text in "()")


@pytest.mark.parametrize("tex", [r"\nonumber x", r"f &= 1", r"\begin{aligned} a &= b \end{aligned}"])
def test_malformed_mathml_is_caught(tex):
    # malformed output is symderiv's bug, not the user's input: an InternalError, not a SymderivError
    with pytest.raises(symderiv.MathMLError) as caught:
        to_mathml(tex)
    assert isinstance(caught.value, symderiv.InternalError) and not isinstance(caught.value, symderiv.SymderivError)


def test_substitution_keeps_written_order_and_parenthesizes_negatives():
    a, b, c = sp.symbols("a b c", real=True)
    names = {a: Name("a", "a"), b: Name("b", "b"), c: Name("c", "c")}
    vals = {a: Shown(sp.Integer(1), None), b: Shown(sp.Integer(-3), None), c: Shown(sp.Rational(1, 2), None)}
    one_plus_b = sp.Add(a, b, evaluate=False)
    assert text(one_plus_b, names, vals) == "1 + (-3)"
    assert latex(one_plus_b, names, vals) == r"1 + \left(-3\right)"
    times = sp.Mul(a, b, evaluate=False)
    assert text(times, names, vals) == "1·(-3)"
    assert latex(sp.Pow(c, 2, evaluate=False), names, vals) == r"\left(\frac{1}{2}\right)^{2}"
    assert latex(sp.exp(b, evaluate=False), names, vals) == "e^{-3}"
    # sympy.latex would have written "b + 1": the formula's own order is kept
    assert text(sp.Add(1, b, evaluate=False), names) == "1 + b"


def test_float_digits_in_substitution():
    x = sp.Symbol("x", real=True)
    import mpmath
    vals = {x: Shown(sp.exp(-1), mpmath.exp(-1))}
    assert text(sp.Mul(2, x, evaluate=False), {x: Name("x", "x")}, vals, digits=6) == "2·0.367879"


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
def test_standalone_latex_compiles(tmp_path):
    tex = tmp_path / "all.tex"
    assert symderiv.cli.main(["solve", "--all", "--format", "latex", "--standalone", "-o", str(tex)]) == 0
    p = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", tex.name],
                       cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout[-3000:]
    assert (tmp_path / "all.pdf").stat().st_size > 1000
    assert "\\usepackage{amsmath}" in tex.read_text()
    assert tex.read_text().count("\\usepackage") == 1


def test_latex_escapes_text():
    from symderiv.render.latex import escape
    assert escape("50% & $x_1#") == r"50\% \& \$x\_1\#"


def test_output_is_identical_across_hash_seeds():
    outputs = set()
    for seed in ("0", "1", "12345"):
        p = subprocess.run([sys.executable, "-m", "symderiv.cli", "solve", "--all", "--format", "json"],
                           capture_output=True, text=True, env={"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin"},
                           timeout=300)
        assert p.returncode == 0, p.stderr
        outputs.add(p.stdout)
    assert len(outputs) == 1


def test_jupyter_latex_repr():
    sol = symderiv.solve("graph-add-mul")
    assert sol._repr_latex_().startswith("\\section*")


@pytest.mark.parametrize("model", MODELS)
def test_latex_loses_no_character(model):
    # the escaper turns a character it cannot typeset into '?': no model's text may hit that
    tex = symderiv.solve(model).to_latex(standalone=True)
    assert "?" not in tex


def test_floats_are_right_to_every_digit_asked_for():
    import mpmath
    from symderiv.printing import format_float
    with mpmath.workdps(60):
        e = +mpmath.e
    assert format_float(e, 30) == "2.71828182845904523536028747135"  # e to 30 digits, as published
    sol = symderiv.derive("x*exp(y)", x=1, y=1)
    assert "2.71828182845904523536028747135" in sol.render("text", digits=30)


def test_text_labels_keep_their_escaped_braces_and_specials():
    from symderiv.render.mathml import to_mathml
    assert "<mtext>a{b}</mtext>" in to_mathml(r"\text{a\{b\}} + x", "inline")
    assert "<mtext>50%\xa0a&amp;b\xa0&lt;c</mtext>" in to_mathml(r"\text{50\% a\&b <c}", "inline")  # spaces kept, as no-break


def test_symderiv_render_is_the_module_and_the_old_call_warns():
    import symderiv.render as R

    assert R is sys.modules["symderiv.render"] and "text" in R.RENDERERS  # the module, not a function
    sol = symderiv.solve("sigmoid-neuron")
    assert symderiv.render_solution(sol, "latex") == sol.to_latex()
    with pytest.warns(DeprecationWarning, match=r"symderiv\.render\(\.\.\.\) is deprecated: call "
                                                 r"symderiv\.render_solution\(\.\.\.\)"):
        old = symderiv.render(sol, "latex")
    assert old == sol.to_latex()


@pytest.mark.parametrize("model", ["xor-mlp", "sigmoid-neuron", "dropout"])
def test_the_walk_writes_each_item_of_the_record_by_its_type(model):
    """Every section's heading, then its items in the record's order: a run of steps as one
    aligned group (one row per step at least), each remark and each step's note as a note, each
    table as a table; and the section's end. Read from the record's items, not from blocks()."""
    from symderiv.render.latex import BlockWriter, write_sections

    sol = symderiv.solve(model)
    writer = BlockWriter(section=lambda s: f"section {s.kind}", align=lambda rows: f"align {len(rows)}",
                         note=lambda note: f"note {sol.note_text(note)}", table=lambda t: f"table {t.caption}",
                         section_end=("end",))
    want = []
    for section in sol.sections:
        want.append(f"section {section.kind}")
        steps = 0
        for item in section.items:
            if isinstance(item, symderiv.Step):
                steps += 1
                if not item.note:
                    continue
            if steps:
                want.append(("align", steps))
                steps = 0
            is_table = isinstance(item, symderiv.Table)
            want.append(f"table {item.caption}" if is_table else f"note {sol.note_text(item.note)}")
        if steps:
            want.append(("align", steps))
        want.append("end")
    got = write_sections(sol, 4, writer)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        if isinstance(w, tuple):  # a group of steps: at least a row a step (a wide step takes several)
            assert g.startswith("align ") and int(g.split()[1]) >= w[1]
        else:
            assert g == w
    assert any(isinstance(i, symderiv.Table) for s in sol.sections for i in s.items) == (model == "xor-mlp")


def test_the_printer_spells_approx_as_its_format_does():
    from symderiv.render.chain import LATEX, TEXT, chain

    sol = symderiv.solve("sigmoid-neuron")
    step = next(i for s in sol.sections for i in s.items if isinstance(i, symderiv.Step) and i.approx is not None
                and not i.exact.is_Integer)
    _, text_links = chain(sol, step, 4, TEXT)
    _, latex_links = chain(sol, step, 4, LATEX)
    assert text_links[-1][0] == "≈" and latex_links[-1][0] == r"\approx"
    assert {r for r, _ in text_links} <= {"=", "≈"} and {r for r, _ in latex_links} <= {"=", r"\approx"}
    assert len(text_links) == len(latex_links)


def test_node_and_vertex_kinds_are_enums_that_print_as_before():
    from symderiv.diagram import VertexKind
    from symderiv.engine import NodeKind

    g = symderiv.Graph()
    x, t = g.input("x", 2), g.data("t", 1)
    f = g.mul(g.add(x, 3), t, name="f")
    kinds = {n.name: n.kind for n in g.nodes}
    assert kinds["x"] is NodeKind.INPUT and kinds["t"] is NodeKind.DATA and kinds["f"] is NodeKind.GATE
    assert [n.kind for n in g.nodes if not n.named] == [NodeKind.CONST] and str(NodeKind.CONST) == "const"
    diagram = g.solution(f).diagram
    assert sorted(v.kind for v in diagram.vertices) == sorted(
        [VertexKind.INPUT, VertexKind.DATA, VertexKind.GATE, VertexKind.GATE, VertexKind.OUTPUT])  # x, t, f1, f, out
    assert {v.name: v.kind for v in diagram.vertices if v.kind is not VertexKind.OUTPUT} == \
        {"x": "input", "t": "data", "f1": "gate", "f": "gate"}
