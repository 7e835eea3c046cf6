"""Worked solutions inside documentation: the core the Sphinx and Markdown extensions share.

A block names a model and its options as text::

    sigmoid-neuron
    :set: w0=2 x0=-1 W1=[[1, 1], [1, 1]]
    :digits: 4
    :sections: forward backward results
    :diagram:

:func:`parse_block` reads that form (Markdown); Sphinx's directive gets the options from docutils
and calls :func:`parse_options`. :func:`embed` solves the model and renders the chosen sections
as HTML (native MathML) and LaTeX. Option text is split, never evaluated; the values go to the
model as strings and are parsed there (:func:`symderiv.values.parse_value`).
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from .errors import EmbedError
from .limits import DEFAULT_MAX_SIZE, output_format, size_limit
from .models import get_model
from .render import format_weight, render_solution
from .render.mathml import EMBED_CSS as CSS, FIGURE_MAX
from .record import SectionKind, Solution
from .values import whole_option

#: The options a block takes.
OPTIONS = ("set", "digits", "sections", "diagram", "max-size")

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPTION_LINE = re.compile(r":(?P<name>[A-Za-z_-]+):(?:\s+(?P<value>.*))?\s*$")
_YES, _NO = ("", "yes", "true", "on"), ("no", "false", "off")


@dataclass(frozen=True)
class Block:
    """What a block asks for: a model, its parameters as text, and how to show it."""

    model: str
    settings: Mapping[str, str] = field(default_factory=dict)
    digits: int = 4
    sections: tuple[SectionKind, ...] | None = None  # None: every section
    diagram: bool = False
    max_size: int = DEFAULT_MAX_SIZE  # the size a request may have (symderiv.limits)


@dataclass(frozen=True)
class Embedded:
    """A block's solution (the sections shown) and its renderings."""

    solution: Solution
    html: str
    latex: str
    text: str


def split_settings(text: str) -> list[str]:
    """``"w0=2 W=[[1, 2], [3, 4]]"`` -> ``["w0=2", "W=[[1, 2], [3, 4]]"]``: whitespace separates
    pairs except inside brackets, where it becomes one space (a value may span lines)."""
    tokens: list[str] = []
    current: list[str] = []
    depth = 0
    for c in text:
        if c.isspace():
            if depth:
                if current[-1] != " ":
                    current.append(" ")
            elif current:
                tokens.append("".join(current))
                current = []
            continue
        if c == "[":
            depth += 1
        elif c == "]":
            depth -= 1
            if depth < 0:
                raise EmbedError(f":set: a ']' with no '[' before it in {text.strip()!r}")
        current.append(c)
    if depth:
        raise EmbedError(f":set: a '[' is never closed in {text.strip()!r}")
    if current:
        tokens.append("".join(current))
    return tokens


def parse_settings(text: str) -> dict[str, str]:
    """The NAME=VALUE pairs of a ``:set:`` option, values left as text for the model to parse."""
    out: dict[str, str] = {}
    for token in split_settings(text):
        name, eq, value = token.partition("=")
        if not eq or not _NAME.fullmatch(name):
            raise EmbedError(f":set: expected NAME=VALUE pairs separated by spaces (like w0=2 x0=-1), "
                             f"got {token!r}")
        if not value:
            raise EmbedError(f":set: {name} has no value (write {name}=VALUE with no space around '=')")
        if name in out:
            raise EmbedError(f":set: {name} is given twice")
        out[name] = value
    return out


def _whole(option: str, text: str, low: int, high: int) -> int:
    return whole_option(f":{option}", text, low, high, EmbedError)


def _yes(text: str | None, option: str) -> bool:
    word = (text or "").strip().lower()
    if word in _YES:
        return True
    if word in _NO:
        return False
    raise EmbedError(f":{option}: expected yes or no (or nothing, meaning yes), got {word!r}")


def parse_options(model: str, options: Mapping[str, str | None]) -> Block:
    """A :class:`Block` from a model id and option texts (``None`` or ``""`` for a bare flag)."""
    model = model.strip()
    if not model:
        raise EmbedError("a block needs a model id (like sigmoid-neuron) on its first line")
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise EmbedError(f"unknown option :{unknown[0]}:; expected "
                         + ", ".join(f":{o}:" for o in OPTIONS))
    sections = None
    if "sections" in options:
        sections = tuple(section_kind(k) for k in re.split(r"[\s,]+", options["sections"] or "") if k)
        if not sections:
            raise EmbedError(":sections: name at least one section (like forward backward results)")
    return Block(model=model,
                 settings=parse_settings(options.get("set") or ""),
                 digits=_whole("digits", options["digits"] or "", 1, 30) if "digits" in options else 4,
                 sections=sections,
                 diagram=_yes(options["diagram"], "diagram") if "diagram" in options else False,
                 max_size=(_whole("max-size", options["max-size"] or "", 1, 10**9) if "max-size" in options
                           else DEFAULT_MAX_SIZE))


def section_kind(word: str) -> SectionKind:
    """The section kind a ``:sections:`` word names, or an :class:`EmbedError` listing the kinds."""
    try:
        return SectionKind(word)
    except ValueError:
        raise EmbedError(f":sections: no section kind is called {word!r}; the kinds are "
                         f"{' '.join(SectionKind)}") from None


def parse_block(text: str) -> Block:
    """A block's body: the model id on the first line, then ``:option: value`` lines.

    A line that starts with whitespace continues the option above it (a long ``:set:``).
    """
    lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    if not lines or lines[0][1].lstrip().startswith(":"):
        raise EmbedError("a block needs a model id (like sigmoid-neuron) on its first line")
    model = lines[0][1].strip()
    if len(model.split()) > 1:
        raise EmbedError(f"line {lines[0][0]}: expected a model id alone, got {model!r}")
    options: dict[str, str] = {}
    last = None
    for n, line in lines[1:]:
        if line[0].isspace() and last is not None:
            options[last] += "\n" + line.strip()
            continue
        m = _OPTION_LINE.match(line.strip())
        if not m:
            raise EmbedError(f"line {n}: expected ':option: value', got {line.strip()!r}")
        last = m.group("name")
        if last in options:
            raise EmbedError(f"line {n}: :{last}: is given twice")
        options[last] = m.group("value") or ""
    return parse_options(model, options)


def select(sol: Solution, kinds: tuple[SectionKind, ...] | None) -> Solution:
    """The solution with only the sections of these kinds, in the solution's own order."""
    if kinds is None:
        return sol
    have = list(dict.fromkeys(s.kind for s in sol.sections))
    missing = [k for k in kinds if k not in have]
    if missing:
        raise EmbedError(f":sections: {sol.model} has no section {missing[0].value!r}; "
                         f"its sections are {' '.join(have)}")
    return replace(sol, sections=tuple(s for s in sol.sections if s.kind in kinds))


def embed(block: Block) -> Embedded:
    """Solve the block's model and render it: HTML (native MathML, the diagram first when asked
    for) and LaTeX (no diagram). Bad input raises a :class:`~symderiv.errors.SymderivError`."""
    # the block is written as MathML: its graph is weighed so as it is built, and each rendering again
    with size_limit(block.max_size, _raise_in_block), output_format("mathml", format_weight("mathml")):
        sol = get_model(block.model).solve(**block.settings)
        shown = select(sol, block.sections)
        body = render_solution(replace(shown, diagram=None), "mathml", digits=block.digits)  # drawn here when asked for
        if block.diagram:
            if sol.diagram is None:
                raise EmbedError(f":diagram: {sol.model} has no computational graph to draw; leave :diagram: out")
            if len(sol.diagram.vertices) > FIGURE_MAX:
                raise EmbedError(f":diagram: the graph has {len(sol.diagram.vertices):,} vertices, more than the "
                                 f"{FIGURE_MAX:,} drawn on a page; leave :diagram: out")
            figure = render_solution(sol, "svg", digits=block.digits)
            body = f'<figure class="symderiv-diagram">{figure}</figure>\n' + body
        return Embedded(shown, body, render_solution(shown, "latex", digits=block.digits),
                        render_solution(shown, "text", digits=block.digits))


def _raise_in_block(n: int | None, limit: int) -> str:
    return f"raise it with :max-size: {n} in the block" if n else \
        f"raise it with :max-size: N in the block, for an N above {limit:,}"


def error_html(message: str) -> str:
    """A visible error box in place of a block that could not be rendered."""
    return f'<div class="symderiv-error" role="alert"><strong>symderiv:</strong> {html.escape(message)}</div>\n'


__all__ = ["Block", "CSS", "EmbedError", "Embedded", "OPTIONS", "embed", "error_html", "parse_block",
           "parse_options", "parse_settings", "select", "split_settings"]
