"""Renderers: pure functions from a :class:`~symderiv.record.Solution` to text, one row per
format in :data:`RENDERERS` (one solution, and several in one output)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .. import limits
from ..errors import SymderivError
from ..record import Solution, use_renderers
from .chain import cell_text, chain
from .dot import dot_many, svg_many, to_dot, to_svg
from .json import render_json, render_json_many
from .latex import document, render_latex
from .markdown import render_markdown
from .mathml import page, render_html, render_mathml
from .notebook import mimebundle, notebook_output
from .text import render_text


@dataclass(frozen=True)
class Renderer:
    """A format: ``one(sol, digits, standalone)`` renders a solution, ``many(solutions, digits,
    standalone)`` several as one output (None: each rendered, one after another); ``weight``: what
    writing a solution costs, in multiples of text (:mod:`symderiv.limits`)."""

    one: Callable[[Solution, int, bool], str]
    many: Callable[[Sequence[Solution], int, bool], str] | None = None
    weight: int = 1


def _latex_many(solutions: Sequence[Solution], digits: int, standalone: bool) -> str:
    body = "\n".join(render_latex(s, digits) for s in solutions)
    return document(body) if standalone else body


#: Every output format: its renderer of one solution and of several, and its weight (MathML,
#: through latex2mathml, costs two to three times text, ``benchmarks/render.py``; JSON, which
#: holds text and LaTeX, twice).
RENDERERS: dict[str, Renderer] = {
    "text": Renderer(lambda s, d, _: render_text(s, d)),
    "latex": Renderer(render_latex, _latex_many),
    "mathml": Renderer(lambda s, d, _: render_mathml(s, d), weight=3),
    "html": Renderer(lambda s, d, _: render_html(s, d),
                     lambda ss, d, _: page("symderiv worked solutions", "".join(render_mathml(s, d) for s in ss)),
                     weight=3),
    "markdown": Renderer(lambda s, d, _: render_markdown(s, d)),
    "json": Renderer(lambda s, d, _: render_json(s, d), lambda ss, d, _: render_json_many(ss, d), weight=2),
    "dot": Renderer(lambda s, d, _: to_dot(s, d), lambda ss, d, _: dot_many(ss, d)),
    "svg": Renderer(lambda s, d, _: to_svg(s, d), lambda ss, d, _: svg_many(ss, d)),
}
FORMATS = tuple(RENDERERS)


def _renderer(fmt: str, digits: int) -> Renderer:
    if not isinstance(digits, int) or isinstance(digits, bool) or not 1 <= digits <= 30:
        raise SymderivError(f"digits must be a whole number from 1 to 30, got {digits!r}")
    try:
        return RENDERERS[fmt]
    except (KeyError, TypeError):
        raise SymderivError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}") from None


def format_weight(fmt: str) -> int:
    """What writing a solution in ``fmt`` costs, in multiples of text (an unknown format: 1)."""
    renderer = RENDERERS.get(fmt)
    return renderer.weight if renderer is not None else 1


def _check_size(solutions: Sequence[Solution], fmt: str, renderer: Renderer) -> None:
    what = solutions[0].model if len(solutions) == 1 else f"the {len(solutions)} models"
    limits.check(sum(s.size for s in solutions), f"{what}: the worked solution", output=(fmt, renderer.weight))


def render(sol: Solution, fmt: str = "text", *, digits: int = 4, standalone: bool = False) -> str:
    """The solution in ``fmt`` (one of :data:`FORMATS`), values shown to ``digits`` significant
    digits; a :class:`~symderiv.errors.SizeError` when that would pass the size limit."""
    renderer = _renderer(fmt, digits)
    _check_size([sol], fmt, renderer)
    return renderer.one(sol, digits, standalone)


def render_many(solutions: Sequence[Solution], fmt: str = "text", *, digits: int = 4,
                standalone: bool = False) -> str:
    """Several solutions in one output: one document, one page, one JSON list, DOT digraphs one
    after another, or one SVG with the figures one below the other."""
    renderer = _renderer(fmt, digits)
    _check_size(solutions, fmt, renderer)
    if len(solutions) == 1:
        return renderer.one(solutions[0], digits, standalone)
    if renderer.many is not None:
        return renderer.many(solutions, digits, standalone)
    return "\n".join(renderer.one(s, digits, False) for s in solutions)


use_renderers(render, mimebundle)

__all__ = ["FORMATS", "RENDERERS", "Renderer", "cell_text", "chain", "mimebundle", "notebook_output", "render",
           "format_weight", "render_many"]
