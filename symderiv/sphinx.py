"""Sphinx extension: worked solutions in Sphinx documents, native MathML on the web, LaTeX in the PDF.

In ``conf.py``: ``extensions = ["symderiv.sphinx"]``. Then, in reStructuredText::

    .. symderiv:: sigmoid-neuron
       :set: w0=2 x0=-1
       :digits: 4
       :sections: forward backward results
       :diagram:

or in a MyST-Markdown page, the same directive in a ```` ```{symderiv} sigmoid-neuron ```` fence.
The directive gives one raw node per output format: HTML (MathML, the diagram as inline SVG),
LaTeX (the ``align*`` worked solution; the diagram is left out) and plain text. A bad model id,
option or value is a warning with the file and line (so ``-W`` fails the build), never a crash.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from . import __version__
from .embed import CSS, OPTIONS, embed, parse_options
from .errors import SymderivError

#: The stylesheet written to ``_static`` of HTML builds and linked from every page.
CSS_FILE = "symderiv.css"

logger = logging.getLogger(__name__)


class SymderivDirective(SphinxDirective):
    """``.. symderiv:: MODEL`` with the options ``:set:``, ``:digits:``, ``:sections:``, ``:diagram:``."""

    required_arguments = 1
    option_spec = {name: directives.unchanged for name in OPTIONS}

    def run(self) -> list[nodes.Node]:
        try:
            shown = embed(parse_options(self.arguments[0], self.options))
        except SymderivError as e:
            logger.warning("symderiv: %s", e, location=self.get_location(), type="symderiv")
            return []
        # amsmath is in Sphinx's LaTeX preamble; long derivations may break across pages here only.
        latex = "\\begingroup\\allowdisplaybreaks\n" + shown.latex + "\\endgroup\n"
        return [nodes.raw("", shown.html, format="html"),
                nodes.raw("", latex, format="latex"),
                nodes.raw("", shown.text, format="text")]


def _write_css(app: Sphinx) -> None:
    if app.builder.format == "html":
        static = Path(app.outdir, "_static")
        static.mkdir(parents=True, exist_ok=True)
        (static / CSS_FILE).write_text(CSS, encoding="utf-8")


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the ``symderiv`` directive and its stylesheet."""
    app.add_directive("symderiv", SymderivDirective)
    app.add_css_file(CSS_FILE)
    app.connect("builder-inited", _write_css)
    # Safe for sphinx-build -j: a block keeps nothing in the environment or in module state (the
    # renderers' caches are pure), and the stylesheet is written once, in the main process, before
    # the pages are read.
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
