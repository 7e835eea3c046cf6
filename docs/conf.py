"""Sphinx configuration of symderiv's documentation: MyST-Markdown pages, the furo theme, and
the project's own ``symderiv`` directive for the worked solutions.

Build it from the repository root with ``sphinx-build -W -b html docs build/html``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import Directive

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import symderiv  # noqa: E402
from symderiv.models import Param, get_model  # noqa: E402

project = "symderiv"
author = "the symderiv authors"
copyright = "the symderiv authors"
release = version = symderiv.__version__

extensions = ["myst_parser", "sphinx.ext.autodoc", "sphinx.ext.napoleon", "symderiv.sphinx"]
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build"]
myst_heading_anchors = 3

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "undoc-members": False}
napoleon_google_docstring = True
napoleon_numpy_docstring = False

html_theme = "furo"
html_title = f"symderiv {release}"
html_static_path = ["_static"]
html_css_files = ["docs.css"]


def kind_text(p: Param) -> str:
    """What a parameter accepts, in words: ``2×2 matrix``, ``whole number 0–3``, ``one of …``."""
    if p.kind == "int":
        return f"whole number {p.low}–{p.high}"
    if p.kind == "choice":
        return "one of " + ", ".join(p.choices)
    if p.kind in ("array", "number-or-array"):
        known = all(w is not None for w in p.shape)
        size = "×".join(str(w) for w in p.shape) + " " if known else ""
        what = size + ("vector" if len(p.shape) == 1 else "matrix" if len(p.shape) == 2 else "array")
        return f"number or {what}" if p.kind == "number-or-array" else what
    return p.kind


def default_text(p: Param) -> str:
    """The default as the user would type it after ``--set NAME=``; ``—`` when it is worked out."""
    if p.default is None:
        return "—"
    return str(p.default).replace("'", "")


class ModelParameters(Directive):
    """``model-parameters MODEL``: a table of the model's parameters, built from its Param list."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        try:
            model = get_model(self.arguments[0])
        except symderiv.SymderivError as e:
            return [self.state.document.reporter.warning(str(e), line=self.lineno)]
        rows = [(p.name, default_text(p), kind_text(p), p.doc) for p in model.params]
        return [_table(("parameter", "default", "accepts", "meaning"), rows, f"parameters-{model.id}",
                       "model-parameters")]


class GateTable(Directive):
    """``gate-table``: every row of the gate table, as the graph, the formula grammar, the traced
    API and the diagram know it (built from ``symderiv.GATES``, so a new row appears here)."""

    def run(self) -> list[nodes.Node]:
        rows = [(f"g.{g.name}(…)", g.function or "—", g.traced_name or "—", g.glyph_of(None) if isinstance(g.glyph, str)
                 else g.name, g.doc) for g in symderiv.GATES.values()]
        return [_table(("graph method", "in a formula", "traced", "diagram", "what it does"), rows, "gate-table",
                       "gate-table")]


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]], table_id: str, cls: str) -> nodes.table:
    table = nodes.table(classes=[cls], ids=[table_id])
    group = nodes.tgroup(cols=len(header))
    table += group
    group.extend(nodes.colspec(colwidth=1) for _ in header)

    def row(cells: tuple[str, ...], literal: bool) -> nodes.row:
        r = nodes.row()
        for i, cell in enumerate(cells):
            text = nodes.literal(text=cell) if literal and i < 2 else nodes.Text(cell)
            r += nodes.entry("", nodes.paragraph("", "", text))
        return r

    group += nodes.thead("", row(header, False))
    group += nodes.tbody("", *(row(r, True) for r in rows))
    return table


_ABS = re.compile(r"(?<![`\w])\|([^|`\s][^|`]*)\|(?![`\w])")


def literal_bars(app, what, name, obj, options, lines: list[str]) -> None:
    """Docstrings write an absolute value as |x|, which reST reads as a substitution: make it
    a literal."""
    lines[:] = [_ABS.sub(r"``|\1|``", line) for line in lines]


def setup(app):  # noqa: D103  (Sphinx's hook)
    app.add_directive("model-parameters", ModelParameters)
    app.add_directive("gate-table", GateTable)
    app.connect("autodoc-process-docstring", literal_bars)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
