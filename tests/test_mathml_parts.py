"""A block's MathML built from its converted parts is the MathML of the whole block.

``block_mathml`` converts each distinct part of a row once and joins the parts; the reference is
latex2mathml converting the whole ``align*`` block in one call (``convert_whole(align(rows))``),
followed by the same polish pass: an independent route to the same bytes.
"""

import pathlib
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symderiv
from symderiv.printing import latex
from symderiv.render.latex import AlignBlock, align, blocks
from symderiv.render.mathml import block_mathml, convert_whole, to_mathml

sys.path.insert(0, str(pathlib.Path(__file__).parent / "snapshots"))
from cases import cases  # noqa: E402

CASES = cases()


def _align_blocks(sol):
    return [block.rows for section in sol.sections for block in blocks(sol, section, 4)
            if isinstance(block, AlignBlock)]


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_block_and_note_of_every_case_is_the_whole_conversion(name):
    sol = CASES[name]()
    for rows in _align_blocks(sol):
        assert block_mathml(rows) == convert_whole(align(rows))
    notes = [block.note for section in sol.sections for block in blocks(sol, section, 4)
             if isinstance(block, symderiv.Remark)]
    for tex in {latex(p, sol.names) for note in notes for p in note if not isinstance(p, str)}:
        assert to_mathml(tex, "inline") == convert_whole(tex, "inline")


def test_a_deep_chain_is_the_whole_conversion():
    for rows in _align_blocks(symderiv.solve("sigmoid-chain", depth=12)):
        assert block_mathml(rows) == convert_whole(align(rows))


@pytest.mark.parametrize("label", [r"\displaystyle x", r"{\rm x}", r"a \over b", r"\tiny q", r"x \choose y",
                                   r"\left( x", r"\frac{1}{2} \cdot {}", r"\left[ \begin{matrix} 1 \end{matrix} \right]",
                                   r"- x", r"x'", r"\sum_{i}^{n} i", r"\sqrt[3] {x}", r"\mathrm{e}^{x}"])
def test_a_label_that_reaches_past_its_node_is_converted_as_the_whole(label):
    rows = [rf"{label} &= {label} \cdot 2 \approx -{label}", rf"&\quad + \left({label} \right) - \frac{{{label}}}{{2}}"]
    try:
        want = convert_whole(align(rows))
    except (symderiv.ParameterError, symderiv.MathMLError) as e:  # the same error either way
        with pytest.raises(type(e)):
            block_mathml(rows)
        return
    assert block_mathml(rows) == want


# ----- random rows over the constructs the LaTeX printer writes ---------------------------------
_atoms = st.sampled_from(["x", "a_{2}", "w_{13}", r"\frac{\partial L}{\partial z_{1}}", "0.5717", "-0.25", "3",
                          r"\sigma", r"\mathrm{e}", r"\operatorname{relu}", r"\text{for }", r"\partial a", r"\infty",
                          r"\sum_{i}^{n} i"])


def _join(parts):
    return st.sampled_from([" + ", " - ", r" \cdot ", " ", r" \approx ", " = "]).map(lambda op: op.join(parts))


_expressions = st.recursive(
    _atoms,
    lambda inner: st.one_of(
        st.lists(inner, min_size=2, max_size=3).flatmap(_join),
        st.tuples(inner, inner).map(lambda ab: rf"\frac{{{ab[0]}}}{{{ab[1]}}}"),
        inner.map(lambda a: rf"\left({a} \right)"),
        inner.map(lambda a: rf"\left[{a} \right]"),
        inner.map(lambda a: f"- {a}"),
        inner.map(lambda a: f"e^{{{a}}}"),
        inner.map(lambda a: rf"\sqrt{{{a}}}"),
        inner.map(lambda a: rf"{{\left[\begin{{matrix}} {a} & 1 \\ 0 & {a} \end{{matrix}}\right]}}"),
    ),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["", "y", r"\frac{\partial L}{\partial x}"]),
                          st.lists(st.tuples(st.sampled_from(["=", r"\approx"]), _expressions), max_size=3)),
                min_size=1, max_size=3))
def test_random_rows_are_the_whole_conversion(rows):
    tex = [f"{lhs} &" + "".join(f"{relation} {link} " for relation, link in links) for lhs, links in rows]
    assert block_mathml(tex) == convert_whole(align(tex))
    for fragment in (link for _, links in rows for _, link in links):
        for display in ("inline", "block"):
            assert to_mathml(fragment, display) == convert_whole(fragment, display)


# ----- latex2mathml's references, read as an XML parser reads them ---------------------------------
@pytest.mark.parametrize("tex, texts", [
    (r"x < y", ["x", "<", "y"]),
    (r"\text{a<b & c}", ["a<b\xa0&\xa0c"]),  # latex2mathml writes a space in text as a no-break space
    (r"\text{&#65;}", ["&#65;"]),  # text is text: a reference typed in it is not read
    (r"\unicode{x41}", ["A"]),
    (r"\text{&amp;}", ["&amp;"]),
    (r"\{x\} \cdot \sigma", ["{", "x", "}", "·", "σ"]),
    (r"a \ne b", ["a", "≠", "b"]),
])
def test_references_in_converted_text_are_read_as_xml_reads_them(tex, texts):
    import xml.etree.ElementTree as ET
    root = ET.fromstring(to_mathml(tex, "inline"))
    assert [e.text for e in root.iter() if e.text] == texts


def test_a_reference_xml_forbids_is_still_malformed_mathml():
    with pytest.raises(symderiv.MathMLError):
        to_mathml(r"\unicode{0}", "inline")
