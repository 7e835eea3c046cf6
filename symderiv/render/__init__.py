"""Renderers: pure functions from a :class:`~symderiv.record.Solution` to text, one row per
format in :data:`RENDERERS` (one solution, and several in one output).

:func:`render_solution` renders one solution (``symderiv.render_solution``); ``symderiv.render``
is this module (calling it, the old spelling, still renders, with a DeprecationWarning).

Several solutions in one output are each rendered into a part and the parts joined; the parts
may be rendered apart, in worker processes (:func:`render_part`, then :func:`join_parts`: the
same output as :func:`render_many`)."""

from __future__ import annotations

import sys
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING, Any

from .. import limits
from ..deprecation import callable_module
from ..errors import SymderivError

if TYPE_CHECKING:
    from ..record import Solution


def _lazy(module: str, function: str) -> Callable[..., Any]:
    """The function ``function`` of this package's module ``module``, which is imported when it is
    first called: a format's renderer (and what it imports: SymPy's printers, latex2mathml)
    loads when that format is written, not when the formats are listed."""
    def call(*args: Any) -> Any:
        return getattr(import_module(f"{__name__}.{module}"), function)(*args)
    call.__name__ = call.__qualname__ = function
    return call


render_text, render_markdown = _lazy("text", "render_text"), _lazy("markdown", "render_markdown")
render_latex, latex_document = _lazy("latex", "render_latex"), _lazy("latex", "document")
render_mathml, render_html, html_page = _lazy("mathml", "render_mathml"), _lazy("mathml", "render_html"), \
    _lazy("mathml", "page")
render_json, solution_data, join_json = _lazy("json", "render_json"), _lazy("json", "solution_data"), \
    _lazy("json", "join_json")
to_dot, to_svg, dot_part, svg_part, join_svgs, no_graph = (_lazy("dot", f) for f in (
    "to_dot", "to_svg", "dot_part", "svg_part", "join_svgs", "no_graph"))

#: Names this package offers from its modules, each imported when first asked for.
_FROM_MODULES = {"cell_text": "chain", "chain": "chain", "mimebundle": "notebook", "notebook_output": "notebook"}


def __getattr__(name: str) -> Any:
    module = _FROM_MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{module}"), name)


class _Package(types.ModuleType):
    """The package, whose ``chain`` stays the function (looked up by :func:`__getattr__`) when the
    module of the same name is imported (Python binds a submodule to its package's attribute)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _FROM_MODULES and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


@dataclass(frozen=True)
class Renderer:
    """A format: ``one(sol, digits, standalone)`` renders a solution. Several in one output: each
    is rendered by ``part(sol, digits)`` (None: by ``one``, not standalone), and ``join(parts,
    standalone)`` makes the output of the parts (None: one after another, a newline between);
    ``graphs``: the format draws computational graphs (an error when no solution has one).
    ``weight``: what writing a solution costs, in multiples of text (:mod:`symderiv.limits`)."""

    one: Callable[[Solution, int, bool], str]
    part: Callable[[Solution, int], Any] | None = None
    join: Callable[[Sequence[Any], bool], str] | None = None
    weight: int = 1
    graphs: bool = False


def _latex_join(parts: Sequence[str], standalone: bool) -> str:
    body = "\n".join(parts)
    return latex_document(body) if standalone else body


#: Every output format: its renderer of one solution and of several, and its weight, measured by
#: ``benchmarks/costs.py`` at the largest request each admits (sigmoid-chain of depth 1990 as
#: text, 990 as LaTeX, Markdown or JSON, 660 as MathML or HTML: each within 30 s of CPU on one
#: core). LaTeX and Markdown print every formula with SymPy's LaTeX printer, about twice what text
#: costs; JSON holds text and LaTeX; MathML goes through latex2mathml too.
RENDERERS: dict[str, Renderer] = {
    "text": Renderer(lambda s, d, _: render_text(s, d)),
    "latex": Renderer(render_latex, render_latex, _latex_join, weight=2),
    "mathml": Renderer(lambda s, d, _: render_mathml(s, d), weight=3),
    "html": Renderer(lambda s, d, _: render_html(s, d), render_mathml,
                     lambda parts, _: html_page("symderiv worked solutions", "".join(parts)), weight=3),
    "markdown": Renderer(lambda s, d, _: render_markdown(s, d), weight=2),
    "json": Renderer(lambda s, d, _: render_json(s, d), solution_data, lambda parts, _: join_json(parts), weight=2),
    "dot": Renderer(lambda s, d, _: to_dot(s, d), dot_part, lambda parts, _: "".join(parts), graphs=True),
    "svg": Renderer(lambda s, d, _: to_svg(s, d), svg_part, lambda parts, _: join_svgs(parts), graphs=True),
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


def _check_size(models: Sequence[str], sizes: Sequence[int], fmt: str, renderer: Renderer) -> None:
    what = models[0] if len(models) == 1 else f"the {len(models)} models"
    limits.check(sum(sizes), f"{what}: the worked solution", output=(fmt, renderer.weight))


def render_solution(sol: Solution, fmt: str = "text", *, digits: int = 4, standalone: bool = False) -> str:
    """The solution in ``fmt`` (one of :data:`FORMATS`), values shown to ``digits`` significant
    digits; a :class:`~symderiv.errors.SizeError` when that would pass the size limit.
    (``symderiv.render(...)``, its old name, still calls it, with a DeprecationWarning.)"""
    renderer = _renderer(fmt, digits)
    _check_size([sol.model], [sol.size], fmt, renderer)
    return renderer.one(sol, digits, standalone)


def render_many(solutions: Sequence[Solution], fmt: str = "text", *, digits: int = 4,
                standalone: bool = False) -> str:
    """Several solutions in one output: one document, one page, one JSON list, DOT digraphs one
    after another, or one SVG with the figures one below the other."""
    renderer = _renderer(fmt, digits)
    if len(solutions) == 1:
        _check_size([solutions[0].model], [solutions[0].size], fmt, renderer)
        return renderer.one(solutions[0], digits, standalone)
    _check_many(renderer, fmt, [(s.model, s.size, s.diagram is not None) for s in solutions])
    return _join(renderer, [_part(renderer, s, digits) for s in solutions], standalone)


@dataclass(frozen=True)
class Part:
    """One solution's part of an output of several, rendered on its own (:func:`render_part`):
    plain data that crosses processes, which a Solution does not."""

    model: str
    size: int
    drawn: bool  # the solution has a computational graph
    content: Any = None
    error: Exception | None = None  # what rendering it raised, raised when the parts are joined


def render_part(sol: Solution, fmt: str = "text", *, digits: int = 4) -> Part:
    """The solution's part of an output of several in ``fmt`` (:func:`join_parts` joins them).
    An error rendering it is kept in the part, to be raised in the order :func:`render_many`
    would raise it (after the size of them all is checked)."""
    renderer = _renderer(fmt, digits)
    try:
        content, error = _part(renderer, sol, digits), None
    except Exception as e:  # noqa: BLE001 (kept, and raised by join_parts)
        content, error = None, e
    return Part(sol.model, sol.size, sol.diagram is not None, content, error)


def join_parts(parts: Sequence[Part], fmt: str = "text", *, digits: int = 4, standalone: bool = False) -> str:
    """The output of :func:`render_many` for the two or more solutions whose parts these are, in
    their order, with its errors (the size limit, then a diagram of no graph, then the first
    part's error)."""
    if len(parts) < 2:
        raise ValueError("join_parts joins two or more parts; render one solution with render_solution()")
    renderer = _renderer(fmt, digits)
    _check_many(renderer, fmt, [(p.model, p.size, p.drawn) for p in parts])
    for p in parts:
        if p.error is not None:
            raise p.error
    return _join(renderer, [p.content for p in parts], standalone)


def _check_many(renderer: Renderer, fmt: str, solutions: Sequence[tuple[str, int, bool]]) -> None:
    """What refuses several solutions ``(model, size, drawn)`` before they are joined: their size
    together, then a diagram of models none of which has a graph."""
    _check_size([model for model, _, _ in solutions], [size for _, size, _ in solutions], fmt, renderer)
    if renderer.graphs and not any(drawn for _, _, drawn in solutions):
        raise no_graph(solutions[0][0])


def _part(renderer: Renderer, sol: Solution, digits: int) -> Any:
    return renderer.part(sol, digits) if renderer.part is not None else renderer.one(sol, digits, False)


def _join(renderer: Renderer, parts: Sequence[Any], standalone: bool) -> str:
    return renderer.join(parts, standalone) if renderer.join is not None else "\n".join(parts)


callable_module(__name__, render_solution, "symderiv.render_solution")

__all__ = ["FORMATS", "RENDERERS", "Part", "Renderer", "cell_text", "chain", "join_parts", "mimebundle",
           "notebook_output", "render_solution", "render_part", "format_weight", "render_many"]
