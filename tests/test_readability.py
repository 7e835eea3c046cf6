"""The worked solutions read like a textbook (docs/conventions.md, "How a solution reads"), for
every model, with its defaults and with overrides:

1. closure: every name a step uses (formula, exact value, note, a symbolic substitution) is an
   input, a given or the left-hand side of an earlier step (an entry of a matrix defined earlier
   counts, and a remark that opens with ``name = ...`` defines that name);
2. ``=`` joins only equal things: any link showing a rounded float (a decimal point: exact values
   print as integers and fractions) comes after ``≈``;
3. no line of text is longer than 160 characters (a long step is written a link a line, a long sum
   a term a line, a wide matrix a row a line), and no line of ``symderiv book`` is more than 5 pt
   wider than the page;
4. Euler's number never reads like a name of the solution.
"""

import re
import shutil
import subprocess

import pytest
import sympy as sp

import symderiv
from symderiv import Remark, Step, Table
from symderiv.cli import main as cli_main

MODELS = symderiv.models()
OVERRIDES = {  # one more setting per model, besides its defaults
    "graph-add-mul": {"x": "3", "y": "-1/2"}, "sigmoid-neuron": {"staging": "sigmoid"}, "max-gate": {"z": "2", "w": "2"},
    "xor-mlp": {"W1": "[[1,2],[1,1]]", "row": "1"}, "sigmoid-chain": {"depth": "5"}, "dropout": {"p": "0.8"},
    "conv2d": {"stride": "2", "padding": "1"}, "rnn": {"xs": "[[1,2],[-1,1],[0,1]]"}, "mle": {"family": "gaussian"},
    "dot-attention": {"upstream": "[1, -1, 2]"}, "kl-divergence": {"P": "[0.5, 0.5]", "Q": "[0.9, 0.1]"},
}
CASES = [(m, {}) for m in MODELS] + list(OVERRIDES.items())


def _names(e) -> set:
    if not isinstance(e, sp.Basic):
        return set()
    return {a for a in sp.preorder_traversal(e) if isinstance(a, (sp.Symbol, sp.MatrixSymbol))}


def defined_in(note) -> set:
    """The names a note defines where it writes them: ``name = …`` in its sentence."""
    return set().union(set(), *(_names(p) for p, after in zip(note, note[1:])
                                if isinstance(p, sp.Basic) and isinstance(after, str) and after.startswith(" = ")))


def undefined_names(sol) -> list[tuple[str, str]]:
    """(step, name) for each name used before the reader has seen it defined."""
    seen: set = set()

    def known(u) -> bool:
        return u in seen or any(isinstance(m, sp.MatrixSymbol) and
                                re.fullmatch(re.escape(m.name) + r"_\d+(_\d+)?", str(u)) for m in seen)

    bad = []
    for section in sol.sections:
        for item in section.items:
            if isinstance(item, Step):
                seen |= defined_in(item.note)
                used = _names(item.formula) | _names(item.exact)
                used |= set().union(set(), *(_names(p) for p in item.note))
                used |= set().union(set(), *(_names(v.exact) for v in (item.values or {}).values() if v.approx is None))
                seen |= {item.lhs} | _names(item.lhs)
                bad += [(str(item.lhs), str(u)) for u in used if not known(u)]
            elif isinstance(item, Remark):
                note = item.note
                if len(note) > 1 and isinstance(note[0], sp.Basic) and isinstance(note[1], str) and \
                        note[1].startswith((" = ", " and ")):
                    seen |= _names(note[0])
                    if note[1] == " and ":
                        seen |= _names(note[2])
                bad += [("a remark", str(u)) for p in note for u in _names(p) if not known(u)]
            elif isinstance(item, Table):
                seen |= set(item.header)
    return bad


@pytest.fixture(scope="module", params=CASES, ids=[f"{m}-{'+'.join(s) or 'defaults'}" for m, s in CASES])
def case(request):
    model, settings = request.param
    return model, symderiv.solve(model, **settings)


def test_every_name_is_defined_before_it_is_used(case):
    model, sol = case
    assert undefined_names(sol) == []


def test_rounded_numbers_are_joined_by_approx(case):
    _, sol = case
    text = sol.to_text()
    for line in text.splitlines():
        body = line.lstrip()
        step = re.match(r"\S.*? (=|≈) ", line) if not line.startswith("    ") or body[:2] in ("= ", "≈ ") else None
        if step is None:
            continue
        parts = re.split(r" (=|≈) ", " = " + body[2:] if body[:2] in ("= ", "≈ ") else line)
        # parts: [lhs, rel, link, rel, link, ...]; a link with a decimal point is a rounded float
        for rel, link in zip(parts[1::2], parts[2::2]):
            if re.search(r"(?<![\w.])\d+\.\d", link):
                assert rel == "≈", f"{line!r}: {link!r} is rounded but joined by ="


def test_text_lines_fit_a_wide_terminal(case):
    model, sol = case
    longest = max(sol.to_text().splitlines(), key=len)
    assert len(longest) <= 160, longest


def test_euler_s_number_never_reads_as_a_name():
    # dot-attention calls its scores e: Euler's number is then exp(1) in text and upright e in LaTeX
    # (its page shows no exact value with e in it since exact slots hold numbers, not half-symbolic
    # sums: the printer is asked directly, with the page's own names)
    from symderiv.printing import latex, text
    sol = symderiv.solve("dot-attention")
    value = 2 * sp.E / (2 * sp.E + sp.exp(2))
    assert text(value, sol.names) == "2·exp(1)/(2·exp(1) + exp(2))"
    tex = latex(value, sol.names)
    assert r"2 \cdot \mathrm{e}" in tex and r"\mathrm{e}^{2}" in tex
    assert "E" not in re.sub(r"[A-Za-z]*E[A-Za-z]*", lambda m: "" if m.group() != "E" else "E",
                             symderiv.derive("exp(1) * x", x=2).to_text().replace("Exp", ""))


def test_a_transpose_of_a_column_is_written_once():
    text = symderiv.solve("autoencoder").to_text()
    assert "ᵀᵀ" not in text
    assert "(∂L/∂h)·xᵀ = [-3/4]·[2, 0]" in text  # x = [2, 0]ᵀ, so xᵀ is the row [2, 0]


def test_a_zero_backward_pass_says_why():
    assert "Every gradient is 0 here" in symderiv.solve("xor-mlp").to_text()
    assert "∂L/∂e and ∂L/∂s are 0 here" in symderiv.solve("dot-attention").to_text()
    assert "are 0 here" not in symderiv.solve("dot-attention", upstream="[1, -1, 2]").to_text()


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="needs pdflatex (Debian: texlive-latex-base)")
def test_the_book_has_no_line_wider_than_the_page(tmp_path):
    """Every model in one document: pdflatex's log reports no overfull line over 5 pt."""
    tex = tmp_path / "book.tex"
    assert cli_main(["book", "-o", str(tex)]) == 0
    subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", tex.name], cwd=tmp_path,
                   capture_output=True, timeout=600, check=True)
    log = (tmp_path / "book.log").read_text(encoding="latin-1")
    widths = [float(w) for w in re.findall(r"Overfull \\hbox \(([0-9.]+)pt too wide\)", log)]
    assert all(w <= 5 for w in widths), sorted(widths)[-3:]


def test_the_book_covers_the_catalogue_s_other_versions(tmp_path):
    """The sigmoid neuron's two other stagings, the max gate at a tie and the Gaussian MLE follow
    their models' default solutions in the book (unnumbered, so the contents list each model once)."""
    tex = tmp_path / "book.tex"
    assert cli_main(["book", "-o", str(tex)]) == 0
    source = tex.read_text(encoding="utf-8")
    for heading in ("sigmoid-neuron: the same neuron with a three-input sum gate",
                    "max-gate: at a tie, ${z = w = 2}$", "mle: a Gaussian model of 2, 3, 5, 6"):
        assert "\\section*{" + heading in source, heading
    assert source.count("\\section{") == len(symderiv.models())
    # the tie is stated with its convention (PyTorch's: ½ of the upstream gradient to each input)
    assert "a tie in max" in symderiv.solve("max-gate", z="2", w="2").to_text()


def test_the_rnn_writes_out_the_product_that_shows_something():
    """h0 = 0, so W_hh·h0 is all zeros: W_hh·h1 is the product written entry by entry (row · column),
    u2_1 = W_hh_1_1·h1_1 + W_hh_1_2·h1_2 + W_hh_1_3·h1_3 with h1 = tanh(W_xh·x1)."""
    text = symderiv.solve("rnn").to_text()
    assert "u2_1 = W_hh_1_1·h1_1 + W_hh_1_2·h1_2 + W_hh_1_3·h1_3" in text
    assert "u1_1 =" not in text
    assert "v1_1 = W_xh_1_1·x1_1 + W_xh_1_2·x1_2 = (1/2)·1 + (-3/10)·2 = -1/10" in text  # 1/2 − 6/10, by hand
