"""What a Solution shows in Jupyter: a MIME bundle, and the choice between MathML and TeX."""

from __future__ import annotations

from contextvars import ContextVar

from ..errors import SymderivError
from ..record import Solution
from .latex import render_latex
from .markdown import render_markdown
from .text import render_text

_OUTPUT: ContextVar[str] = ContextVar("symderiv_notebook_output", default="mathml")


def notebook_output(kind: str) -> None:
    """Choose what a Solution shows in Jupyter from now on (in this thread or task): ``"mathml"``
    (the default: HTML with native MathML, drawn in a trusted notebook) or ``"latex"`` (Markdown
    with TeX maths, typeset by MathJax, which an untrusted notebook shows too: it strips MathML
    from HTML output)."""
    if kind not in ("mathml", "latex"):
        raise SymderivError(f"notebook output: expected 'mathml' or 'latex', got {kind!r}")
    _OUTPUT.set(kind)


def mimebundle(sol: Solution, digits: int = 4) -> dict[str, str]:
    """Native MathML (unless :func:`notebook_output` chose ``"latex"``), Markdown with TeX maths,
    the LaTeX fragment (for nbconvert's PDF) and plain text."""
    bundle = {"text/markdown": render_markdown(sol, digits), "text/latex": render_latex(sol, digits),
              "text/plain": render_text(sol, digits)}
    if _OUTPUT.get() == "mathml":
        from .mathml import EMBED_CSS, render_mathml  # here: latex2mathml loads when MathML is shown
        bundle["text/html"] = f"<style>\n{EMBED_CSS}</style>\n" + render_mathml(sol, digits)
    return bundle
