"""Markdown with ``$``-delimited maths: for Jupyter (typeset by MathJax, so it also works in an
untrusted notebook, which strips MathML) and for Markdown hosts that typeset TeX maths."""

from __future__ import annotations

from ..printing import latex
from ..record import Note, Solution, Table, written_title
from .chain import cell_text
from .latex import BlockWriter, align, write_sections


def _note(sol: Solution, note: Note) -> str:
    return "".join(_plain(p) if isinstance(p, str) else f"${latex(p, sol.names)}$" for p in note)


def _title(title: str) -> str:
    return written_title(title, lambda tex: f"${tex}$", _plain)


def _plain(s: str) -> str:
    """Text with Markdown's and MathJax's special characters escaped."""
    return "".join("\\" + c if c in "\\`*_{}[]<>#|$" else c for c in s)


def _table(sol: Solution, table: Table, digits: int) -> str:
    head = "| " + " | ".join(f"${latex(h, sol.names)}$" for h in table.header) + " |"
    rule = "|" + "---|" * len(table.header)
    rows = ["| " + " | ".join(cell_text(c, digits) for c in row) + " |" for row in table.rows]
    caption = _plain(table.caption) + "\n\n" if table.caption else ""
    return caption + "\n".join([head, rule, *rows])


def render_markdown(sol: Solution, digits: int) -> str:
    """The solution as Markdown: headings, notes, and one ``$$ align* $$`` block per group of steps."""
    writer = BlockWriter(section=lambda section: f"### {_title(section.title)}",
                         align=lambda rows: "$$\n" + align(rows) + "\n$$", note=lambda note: _note(sol, note),
                         table=lambda table: _table(sol, table, digits))
    return "\n\n".join([f"## {_title(sol.title)}", *write_sections(sol, digits, writer)]) + "\n"
