"""Plain-text rendering for a terminal."""

from __future__ import annotations

import textwrap

from ..record import Remark, Solution, Step, Table
from ..printing import text
from .chain import cell_text, chain


def render_text(sol: Solution, digits: int) -> str:
    """The worked solution as plain text."""
    out = [sol.title, "=" * len(sol.title)]
    for section in sol.sections:
        out += ["", section.title, "-" * len(section.title)]
        for item in section.items:
            if isinstance(item, Step):
                out += step_lines(*chain(sol, item, digits))
                if item.note:
                    out += textwrap.wrap(sol.note_text(item.note), PROSE, initial_indent="    ",
                                         subsequent_indent="    ", break_on_hyphens=False)
            elif isinstance(item, Remark):
                out += textwrap.wrap(sol.note_text(item.note), PROSE, break_on_hyphens=False)
            elif isinstance(item, Table):
                out += _table(sol, item, digits)
    return "\n".join(out) + "\n"


#: A step longer than this is written one link a line, the relations one under the other.
WIDTH = 160
#: Notes and remarks are wrapped at this width, as a book's paragraphs are.
PROSE = 100


def step_lines(lhs: str, links: list[tuple[str, str]]) -> list[str]:
    """``lhs = a ≈ b`` on one line, or, when longer than :data:`WIDTH`, one link a line."""
    line = lhs + "".join(f" {relation} {link}" for relation, link in links)
    if len(line) <= WIDTH or len(links) < 2:
        return [line]
    pad = " " * len(lhs)
    lines = [f"{lhs} {links[0][0]} {links[0][1]}", *(f"{pad} {relation} {link}" for relation, link in links[1:])]
    return [folded for line in lines for folded in _fold(line, len(lhs) + 3)]


def _cuts(line: str, mark: str, depth: int | None) -> list[int]:
    """Where ``mark`` stands in ``line`` at bracket depth ``depth`` (None: any), the places a line
    may break."""
    level, out = 0, []
    for i, c in enumerate(line):
        if (depth is None or level == depth) and line.startswith(mark, i):
            out.append(i)
        level += (c in "([") - (c in ")]")
    return out


def _fold(line: str, indent: int) -> list[str]:
    """A line longer than :data:`WIDTH` broken before each top-level ``+`` of a sum, then after
    each row of a matrix, continued under its first term. A piece with neither (one long term)
    stays one line, so every line is folded in at most three passes."""
    if len(line) <= WIDTH:
        return [line]
    start = len(line) - len(line.lstrip())
    cuts = [i for i in _cuts(line, " + ", 0) if i > start]  # never before the line's first term
    if cuts:
        pieces = [line[a:b] for a, b in zip([0, *cuts], [*cuts, len(line)])]
        return [f for k, piece in enumerate(pieces)
                for f in _fold(piece if k == 0 else " " * indent + piece.lstrip(), indent + 2)]
    rows = [i + 3 for i in _cuts(line, "], [", None)]
    if not rows:
        return [line]
    pieces = [line[a:b].rstrip() for a, b in zip([0, *rows], [*rows, len(line)])]
    out = [pieces[0]]
    for piece in pieces[1:]:  # a matrix row a line, under its matrix's first row
        start = out[-1].rfind("[[")
        column = start + 1 if start >= 0 else len(out[-1]) - len(out[-1].lstrip())
        out.append(" " * column + piece)
    return out


def _table(sol: Solution, table: Table, digits: int) -> list[str]:
    cells = [[text(h, sol.names) for h in table.header]]
    cells += [[cell_text(c, digits) for c in row] for row in table.rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(cells[0]))]
    lines = [table.caption] if table.caption else []
    for k, row in enumerate(cells):
        lines.append("  ".join(c.rjust(w) for c, w in zip(row, widths)))
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return lines
