"""Exercise sheets in LaTeX with the ``exam`` class: a page per variant, its worked solution in
the ``solution`` environment; ``\\printanswers`` turns the sheet into the key."""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..exercise import Exercise, Plan
from ..render.latex import escape, title_latex
from .common import Statement, answers_by_group


def _answer_tex(values: list, shape: tuple[int, ...]) -> str:
    if not shape:
        return values[0].shown
    rows, cols = shape
    cells = [v.shown for v in values]
    return r"\begin{bmatrix} " + r" \\ ".join(" & ".join(cells[r * cols:(r + 1) * cols]) for r in range(rows)) + \
        r" \end{bmatrix}"


def _solution_body(ex: Exercise, digits: int) -> str:
    """The worked solution, its title dropped (the question has it) and its sections as run-in
    headings."""
    tex = ex.solution.render("latex", digits=digits)
    tex = re.sub(r"\A\\section\*\{.*\}\n", "", tex)
    return re.sub(r"^\\subsection\*\{(.*)\}$", r"\\par\\medskip\\noindent\\textbf{\1}\\par", tex, flags=re.M)


def variant_latex(ex: Exercise, st: Statement, digits: int) -> str:
    """One ``\\question``: the statement, a line per value asked, and the solution."""
    out = [f"\\question \\textbf{{Variant {ex.index + 1}.}} {title_latex(st.title)}.\n"]
    if st.given:
        out.append("Given " + ", ".join(f"${g}$" for g in st.given) + ".\n")
    out += [escape(r) + "\n" for r in st.remarks]
    if st.forward:
        out.append("\\par The forward pass:\n\\begin{align*}\n" + " \\\\\n".join(st.forward) + "\n\\end{align*}")
    out.append(f"Find (to {digits} significant digits where not a whole number):\n\\begin{{parts}}")
    groups = answers_by_group(ex.asked)
    for name, tex, shape in st.asked:
        answer = _answer_tex(groups[name], shape)
        if shape:
            size = f"a ${shape[0]}\\times{shape[1]}$ matrix" if min(shape) > 1 else f"a vector of {max(shape)} entries"
            out.append(f"\\part $\\displaystyle {tex}$ ({size})\\ifprintanswers: $\\displaystyle {answer}$\\fi")
        else:
            out.append(f"\\part $\\displaystyle {tex} = {{}}$\\fillin[${answer}$][6em]")
    out.append("\\end{parts}")
    out.append("\\ifprintanswers\\else\\vspace{\\stretch{1}}\\fi")
    out.append("\\begin{solution}\n" + _solution_body(ex, digits) + "\\end{solution}")
    return "\n".join(out) + "\n"


def document(p: Plan, pieces: Sequence[str], key: bool) -> str:
    """The whole sheet (``key``: with ``\\printanswers``, the answer key)."""
    title = escape(f"Exercises: {p.model}")
    toggle = "\\printanswers\n" if key else "% \\printanswers   % uncomment for the answer key\n"
    head = ("\\documentclass[11pt,a4paper]{exam}\n\\usepackage[margin=2cm]{geometry}\n"
            "\\usepackage{amsmath,amssymb}\n\\allowdisplaybreaks\n" + toggle +
            "\\setcounter{MaxMatrixCols}{20}\n"
            "\\pagestyle{headandfoot}\n"
            f"\\firstpageheader{{{title}}}{{}}{{\\ifprintanswers Answer key\\else Name: \\rule{{14em}}{{0.4pt}}\\fi}}\n"
            f"\\runningheader{{{title}}}{{}}{{\\ifprintanswers Answer key\\else Name: \\rule{{14em}}{{0.4pt}}\\fi}}\n"
            "\\footer{}{Page \\thepage\\ of \\numpages}{}\n"
            "\\renewcommand{\\solutiontitle}{\\noindent\\textbf{Worked solution:}\\par\\noindent}\n"
            "\\begin{document}\n\\begin{questions}\n")
    body = "\\newpage\n".join(pieces)
    return head + body + "\\end{questions}\n\\end{document}\n"
