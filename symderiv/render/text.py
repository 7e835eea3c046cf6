"""Plain-text rendering for a terminal."""

from __future__ import annotations

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
                lhs, links, approx = chain(sol, item, digits)
                line = " = ".join([lhs, *links])
                out.append(line + (f" ≈ {approx}" if approx else ""))
                if item.note:
                    out.append("    " + sol.note_text(item.note))
            elif isinstance(item, Remark):
                out.append(sol.note_text(item.note))
            elif isinstance(item, Table):
                out += _table(sol, item, digits)
    return "\n".join(out) + "\n"


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
