"""LaTeX rendering: a fragment of ``align*`` blocks (amsmath), or a complete document."""

from __future__ import annotations

import re

from ..printing import latex
from ..record import Note, Remark, Section, Solution, Step, Table
from .chain import cell_text, chain

#: A row with more visible characters than this is broken after each ``=``.
WIDE = 60
_VISIBLE = re.compile(r"\\(left|right|frac|partial|cdot|mathrm|sigma|max|min|operatorname)|[{}\s^_]")

_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
            "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
            "<": r"\textless{}", ">": r"\textgreater{}"}
_UNICODE = {"∂": r"$\partial$", "σ": r"$\sigma$", "×": r"$\times$", "·": r"$\cdot$", "≈": r"$\approx$",
            "−": "-", "–": "--", "—": "---", "≤": r"$\le$", "≥": r"$\ge$", "‖": r"$\|$", "→": r"$\to$",
            "⊙": r"$\odot$", "√": r"$\surd$", "…": r"\dots{}", "’": "'", "∞": r"$\infty$",
            "½": r"$\frac{1}{2}$", "²": r"$^{2}$", "ᵀ": r"$^{\top}$", "\u0302": r"\^{}", "⋆": r"$\star$",
            "⌊": r"$\lfloor$", "⌋": r"$\rfloor$", "∈": r"$\in$", "Σ": r"$\Sigma$", "∇": r"$\nabla$",
            "±": r"$\pm$", "≠": r"$\neq$", "⇒": r"$\Rightarrow$", "ℝ": r"$\mathbf{R}$", "ŷ": r"$\hat{y}$"}
_UNICODE.update({c: f"$\\{name}$" for c, name in zip("αβγδεθλμπρστφω", (
    "alpha", "beta", "gamma", "delta", "epsilon", "theta", "lambda", "mu", "pi", "rho", "sigma", "tau", "phi",
    "omega"))})


def escape(s: str) -> str:
    """Plain text made safe for LaTeX (pdflatex: a few Unicode symbols become maths)."""
    return "".join(_SPECIAL.get(c) or _UNICODE.get(c) or (c if ord(c) < 128 else "?") for c in s)


def note_latex(sol: Solution, note: Note) -> str:
    """A note: text escaped, maths inline."""
    return "".join(escape(p) if isinstance(p, str) else f"${latex(p, sol.names)}$" for p in note)


def step_rows(sol: Solution, step: Step, digits: int) -> list[str]:
    """The ``align*`` rows of one step: one row, or one per ``=`` when it is wide."""
    lhs, links, approx = chain(sol, step, digits, latex)
    tail = rf" \approx {approx}" if approx else ""
    if not links:
        return [f"{lhs} &{tail}"]
    wide = sum(len(_VISIBLE.sub("", s)) for s in links) > WIDE
    if len(links) == 1 or not wide:
        return [f"{lhs} &= " + " = ".join(links) + tail]
    return [f"{lhs} &= {links[0]}", *(f"&= {s}" for s in links[1:-1]), f"&= {links[-1]}{tail}"]


def blocks(sol: Solution, section: Section, digits: int) -> list[tuple[str, object]]:
    """A section as ``("align", rows)``, ``("note", Note)`` and ``("table", Table)`` blocks:
    consecutive steps share one ``align*`` so their ``=`` signs line up; a note ends it."""
    out: list[tuple[str, object]] = []
    rows: list[str] = []
    for item in section.items:
        if isinstance(item, Step):
            rows += step_rows(sol, item, digits)
            note = item.note
        else:
            note = item.note if isinstance(item, Remark) else None
        if rows and (note or not isinstance(item, Step)):
            out.append(("align", rows))
            rows = []
        if note:
            out.append(("note", note))
        if isinstance(item, Table):
            out.append(("table", item))
    if rows:
        out.append(("align", rows))
    return out


def align(rows: list[str]) -> str:
    """An ``align*`` environment of the given rows."""
    return "\\begin{align*}\n" + " \\\\\n".join(rows) + "\n\\end{align*}"


def render_latex(sol: Solution, digits: int, standalone: bool = False, numbered: bool = False) -> str:
    """The solution as LaTeX: ``\\subsection*`` per section, steps in ``align*``; with
    ``numbered`` its title is a numbered ``\\section`` (an entry of the table of contents)."""
    out = [f"\\section{'' if numbered else '*'}{{{escape(sol.title)}}}"]
    for section in sol.sections:
        out.append(f"\\subsection*{{{escape(section.title)}}}")
        for kind, block in blocks(sol, section, digits):
            if kind == "align":
                out.append(align(block))
            elif kind == "note":
                out.append(note_latex(sol, block) + "\n")
            else:
                out.append(_table(sol, block, digits))
    body = "\n".join(out) + "\n"
    return document(body) if standalone else body


def document(body: str) -> str:
    """A complete LaTeX document (amsmath only) around ``body``."""
    return ("\\documentclass{article}\n\\usepackage{amsmath}\n"
            "\\allowdisplaybreaks\n\\begin{document}\n" + body + "\\end{document}\n")


def book(solutions: list[Solution], digits: int, title: str = "Worked solutions") -> str:
    """One LaTeX document (amsmath only) with a table of contents and a numbered section per
    solution."""
    body = "".join(render_latex(s, digits, numbered=True) + "\\clearpage\n" for s in solutions)
    return document(f"\\title{{{escape(title)}}}\n\\author{{symderiv}}\n\\maketitle\n"
                    f"\\tableofcontents\n\\clearpage\n{body}")


def _table(sol: Solution, table: Table, digits: int) -> str:
    cols = "r" * len(table.header)
    head = " & ".join(f"${latex(h, sol.names)}$" for h in table.header)
    rows = [" & ".join(f"${cell_text(c, digits)}$" for c in row) for row in table.rows]
    caption = escape(table.caption) + "\n\n" if table.caption else ""
    return (caption + "\\begin{tabular}{" + cols + "}\n" + head + " \\\\\n\\hline\n"
            + " \\\\\n".join(rows) + "\n\\end{tabular}\n")
