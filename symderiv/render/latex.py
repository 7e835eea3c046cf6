"""LaTeX rendering: a fragment of ``align*`` blocks (amsmath), or a complete document."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..printing import latex
from ..record import Note, Remark, Section, Solution, Step, Table, written_title
from .chain import LATEX, cell_text, chain

#: A row with more visible characters than this is broken after each ``=``.
WIDE = 45
#: A long sum is broken into rows of about this many visible characters.
SUM_ROW = 32
_VISIBLE = re.compile(r"\\(left|right|frac|partial|mathrm|sigma|max|min|operatorname)|[{}\s^_]")

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


def title_latex(title: str) -> str:
    """A title or heading as LaTeX: its text escaped, its maths (a :class:`~symderiv.record.Title`'s
    :class:`~symderiv.record.Maths` parts) typeset inline, as the body's maths is, each formula
    kept on one line (a heading breaks between its words, not after a formula's ``=``)."""
    return written_title(title, lambda tex: f"${{{tex}}}$", escape)


def _visible(tex: str) -> int:
    """About how many characters wide ``tex`` is typeset (a product's dot counts as one)."""
    return len(_VISIBLE.sub("", tex.replace(r"\cdot", "·")))


def _terms(link: str) -> list[str]:
    """A link split before each ``+`` outside braces and ``\\left … \\right``: its terms."""
    depth, start, out = 0, 0, []
    i = 0
    while i < len(link):
        if link.startswith(r"\left", i):
            depth += 1
        elif link.startswith(r"\right", i):
            depth -= 1
        elif link[i] == "{":
            depth += 1
        elif link[i] == "}":
            depth -= 1
        elif depth == 0 and link.startswith(" + ", i):
            out.append(link[start:i])
            start = i + 1
        i += 1
    return out + [link[start:]]


def step_rows(sol: Solution, step: Step, digits: int) -> list[str]:
    """The ``align*`` rows of one step: one row, or one per relation when it is wide, a long sum
    one term a row."""
    lhs, links = chain(sol, step, digits, LATEX)
    if not links:
        return [f"{lhs} &"]
    wide = sum(_visible(s) for _, s in links) > WIDE
    if len(links) == 1 or not wide:
        first, *rest = links
        return [f"{lhs} &{first[0]} {first[1]}" + "".join(f" {relation} {link}" for relation, link in rest)]
    rows = []
    for k, (relation, link) in enumerate(links):
        head = lhs if k == 0 else ""
        lines = [""]
        for term in _terms(link):  # as many terms a row as fit
            if lines[-1] and _visible(lines[-1] + term) > SUM_ROW:
                lines.append("")
            lines[-1] += (" " if lines[-1] else "") + term
        rows.append(f"{head} &{relation} {lines[0]}")
        rows += [rf"&\quad {line}" for line in lines[1:]]
    return rows


@dataclass(frozen=True)
class AlignBlock:
    """Consecutive steps' ``align*`` rows: one group, its ``=`` signs lined up."""

    rows: tuple[str, ...]


#: What a section is written as: its steps grouped into :class:`AlignBlock`\ s, its remarks and
#: tables as they are, and a step's note as a :class:`~symderiv.record.Remark` after its group.
Block = AlignBlock | Remark | Table


@dataclass(frozen=True)
class BlockWriter:
    """How one format writes a section, as a Sphinx builder's translator has a visit function per
    node type: ``section`` opens it (its heading), one function per type of block, and
    ``section_end`` closes it. :func:`write_sections`, the one walk, picks them by type."""

    section: Callable[[Section], str]
    align: Callable[[tuple[str, ...]], str]
    note: Callable[[Note], str]
    table: Callable[[Table], str]
    section_end: tuple[str, ...] = ()

    def write(self, block: Block) -> str:
        """The block as this format writes it."""
        match block:
            case AlignBlock(rows):
                return self.align(rows)
            case Remark(note):
                return self.note(note)
            case Table():
                return self.table(block)
        raise TypeError(f"not a block: {block!r}")


def blocks(sol: Solution, section: Section, digits: int) -> list[Block]:
    """A section as blocks (:data:`Block`): consecutive steps share one ``align*`` so their ``=``
    signs line up; a note ends it."""
    out: list[Block] = []
    rows: list[str] = []
    for item in section.items:
        if isinstance(item, Step):
            rows += step_rows(sol, item, digits)
            note = item.note
        else:
            note = item.note if isinstance(item, Remark) else None
        if rows and (note or not isinstance(item, Step)):
            out.append(AlignBlock(tuple(rows)))
            rows = []
        if note:
            out.append(item if isinstance(item, Remark) else Remark(note))
        if isinstance(item, Table):
            out.append(item)
    if rows:
        out.append(AlignBlock(tuple(rows)))
    return out


def write_sections(sol: Solution, digits: int, writer: BlockWriter) -> list[str]:
    """Every section of the solution as ``writer`` writes it: its opening, each of its blocks as
    ``writer`` writes that type, its end."""
    out: list[str] = []
    for section in sol.sections:
        out.append(writer.section(section))
        out += [writer.write(block) for block in blocks(sol, section, digits)]
        out += writer.section_end
    return out


def align(rows: Sequence[str]) -> str:
    """An ``align*`` environment of the given rows."""
    return "\\begin{align*}\n" + " \\\\\n".join(rows) + "\n\\end{align*}"


def render_latex(sol: Solution, digits: int, standalone: bool = False, numbered: bool = False) -> str:
    """The solution as LaTeX: ``\\subsection*`` per section, steps in ``align*``; with
    ``numbered`` its title is a numbered ``\\section`` (an entry of the table of contents)."""
    writer = BlockWriter(section=lambda section: f"\\subsection*{{{title_latex(section.title)}}}", align=align,
                         note=lambda note: note_latex(sol, note) + "\n", table=lambda table: _table(sol, table, digits))
    out = [f"\\section{'' if numbered else '*'}{{{title_latex(sol.title)}}}", *write_sections(sol, digits, writer)]
    body = "\n".join(out) + "\n"
    return document(body) if standalone else body


def document(body: str) -> str:
    """A complete LaTeX document (amsmath only) around ``body``."""
    return ("\\documentclass{article}\n\\usepackage{amsmath}\n"
            "\\allowdisplaybreaks\n\\setlength{\\emergencystretch}{3em}\n\\begin{document}\n" + body + "\\end{document}\n")


def book_chapter(chapter: Sequence[Solution], digits: int) -> str:
    """A chapter of :func:`book`: a numbered section for its first solution (a model's default),
    its others after it, unnumbered, and a page break."""
    return "".join(render_latex(s, digits, numbered=k == 0) for k, s in enumerate(chapter)) + "\\clearpage\n"


def book(chapters: Sequence[str], title: str = "Worked solutions") -> str:
    """One LaTeX document (amsmath only) with a table of contents around the chapters (each made
    by :func:`book_chapter`), in their order."""
    body = "".join(chapters)
    return document(f"\\title{{{escape(title)}}}\n\\author{{symderiv}}\n\\maketitle\n"
                    f"\\tableofcontents\n\\clearpage\n{body}")


def _table(sol: Solution, table: Table, digits: int) -> str:
    cols = "r" * len(table.header)
    head = " & ".join(f"${latex(h, sol.names)}$" for h in table.header)
    rows = [" & ".join(f"${cell_text(c, digits)}$" for c in row) for row in table.rows]
    caption = escape(table.caption) + "\n\n" if table.caption else ""
    return (caption + "\\begin{tabular}{" + cols + "}\n" + head + " \\\\\n\\hline\n"
            + " \\\\\n".join(rows) + "\n\\end{tabular}\n")
