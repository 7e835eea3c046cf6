"""Python-Markdown extension: a ```` ```symderiv ```` fenced block becomes a worked solution in
native MathML (ProperDocs, Zensical, MkDocs, or ``markdown.markdown(text, extensions=["symderiv.markdown"])``).

A block holds the model id, then option lines (:mod:`symderiv.embed`)::

    ```symderiv
    sigmoid-neuron
    :set: w0=2 x0=-1
    :sections: forward backward results
    ```

The HTML goes into Python-Markdown's stash, so no other extension (smarty, attr_list, abbr, ...)
touches it; the page CSS comes with the first block of each page (``css: false`` turns that off).
Fences at the start of a line are handled here; for fences nested in lists, admonitions or tabs,
use :func:`fence_format` and :func:`fence_validator` as a pymdownx.superfences custom fence.

A bad block is replaced by a visible error box and logged as a warning on the ``mkdocs.symderiv``
logger: a child of the logger MkDocs and ProperDocs count in ``--strict`` builds, so those fail.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from markdown import Markdown
from markdown.extensions import Extension
from markdown.preprocessors import Preprocessor

from .embed import CSS, embed, error_html, parse_block
from .errors import SymderivError

#: MkDocs adds its strict-mode warning counter to the ``mkdocs`` logger; ProperDocs makes
#: ``mkdocs`` a child of its own ``properdocs`` logger, which it counts.
log = logging.getLogger("mkdocs.symderiv")

_FENCE = re.compile(r"(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
#: After whitespace normalisation (priority 30), before fenced code and superfences (25).
PRIORITY = 28


class SymderivExtension(Extension):
    """The ``symderiv.markdown`` extension."""

    def __init__(self, **kwargs: Any) -> None:
        self.config = {"css": [True, "put the MathML CSS in a <style> element before the first block "
                                     "of each page (false: add symderiv's CSS to the site yourself)"]}
        super().__init__(**kwargs)
        self.css_pending = True

    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 (Python-Markdown's name)
        md.registerExtension(self)
        md.preprocessors.register(_FencePreprocessor(md, self), "symderiv", PRIORITY)

    def block_html(self, source: str, where: str) -> str:
        """A block's HTML (the CSS before the page's first block), or a logged, visible error."""
        try:
            out = embed(parse_block(source)).html
        except SymderivError as e:
            log.warning("symderiv block %s: %s", where, e)
            out = error_html(str(e))
        if self.css_pending and self.getConfig("css"):
            self.css_pending = False
            out = f"<style>\n{CSS}</style>\n{out}"
        return out


def _closing(lines: list[str], start: int, fence: str) -> int | None:
    """The index of the line closing the fence opened at ``start`` (same character, as long or longer)."""
    close = re.compile(re.escape(fence[0]) + "{%d,}[ \t]*" % len(fence))
    return next((j for j in range(start + 1, len(lines)) if close.fullmatch(lines[j])), None)


class _FencePreprocessor(Preprocessor):
    """Replaces each top-level ```` ```symderiv ```` block with a stash placeholder; other fenced
    blocks (a ```` ```markdown ```` example showing the syntax, say) are passed over untouched."""

    def __init__(self, md: Markdown, extension: SymderivExtension) -> None:
        super().__init__(md)
        self.extension = extension

    def run(self, lines: list[str]) -> list[str]:
        self.extension.css_pending = True  # a new page
        out: list[str] = []
        i = 0
        while i < len(lines):
            m = _FENCE.match(lines[i])
            if not m or (m["fence"][0] == "`" and "`" in m["info"]):
                out.append(lines[i])
                i += 1
                continue
            end = _closing(lines, i, m["fence"])
            symderiv = m["info"].strip() == "symderiv"
            if end is None:
                if symderiv:
                    message = f"the block opened at line {i + 1} is never closed with {m['fence']}"
                    log.warning("symderiv block at line %d: %s", i + 1, message)
                    out += ["", self.md.htmlStash.store(error_html(message)), ""]
                else:
                    out.append(lines[i])
                i += 1
                continue
            if symderiv:
                html = self.extension.block_html("\n".join(lines[i + 1:end]), f"at line {i + 1}")
                out += ["", self.md.htmlStash.store(html), ""]
            else:
                out += lines[i:end + 1]
            i = end + 1
        return out


def makeExtension(**kwargs: Any) -> SymderivExtension:  # noqa: N802 (Python-Markdown's name)
    """What ``extensions=["symderiv.markdown"]`` loads."""
    return SymderivExtension(**kwargs)


def fence_validator(language: str, inputs: dict[str, str], options: dict[str, str], attrs: dict[str, str],
                    md: Markdown) -> bool:
    """pymdownx.superfences validator: accept the fence, keeping any header options for
    :func:`fence_format` to report (superfences would otherwise show the block as code, silently)."""
    options.update(inputs)
    return True


def fence_format(src: str, language: str, class_name: str, options: dict[str, str], md: Markdown,
                 **kwargs: Any) -> str:
    """pymdownx.superfences formatter: the block's HTML. The CSS comes with it only when the
    ``symderiv.markdown`` extension is loaded too (once per page); else add it to the site."""
    extension = next((e for e in md.registeredExtensions if isinstance(e, SymderivExtension)), None) \
        or SymderivExtension(css=False)
    if options:
        message = (f"options go on lines inside the block (like :digits: 3), not in the fence header: "
                   f"{', '.join(sorted(options))}")
        log.warning("symderiv block: %s", message)
        return error_html(message)
    model = src.strip().split("\n", 1)[0]
    try:
        return extension.block_html(src, f"({model or 'empty'})")
    except Exception as e:  # superfences swallows a formatter's exceptions: log, never lose the block
        log.error("symderiv block: %s: %s", type(e).__name__, e)
        return error_html(f"{type(e).__name__}: {e}")


__all__ = ["SymderivExtension", "fence_format", "fence_validator", "makeExtension"]
