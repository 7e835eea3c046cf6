"""MathML rendering: native MathML in HTML, no JavaScript.

Each ``align*`` block of the LaTeX renderer goes through latex2mathml, then a small pass over
the tree fixes what Chromium draws wrongly (``../shared/MATHML.md``): unary minus spacing,
multi-letter operator names, over-stretched parentheses, brackets of a matrix. Every block is
checked to be well-formed XML with no ``<merror>`` and no raw LaTeX command.
"""

from __future__ import annotations

import contextvars
import functools
import html
import itertools
import re
from collections.abc import Callable, Sequence
import xml.etree.ElementTree as ET

from latex2mathml import commands
from latex2mathml.converter import convert_to_element

from .. import limits
from ..errors import DiagramError, MathMLError, ParameterError, SizeError
from ..printing import latex
from ..record import Note, Solution, Table, written_title
from .chain import cell_text
from ..values import quote, shorten
from .dot import check_drawable, svg_of_dot, to_dot
from .latex import BlockWriter, align, write_sections

NS = "http://www.w3.org/1998/Math/MathML"
ET.register_namespace("", NS)
_OPEN, _CLOSE = "([{⟨|‖", ")]}⟩|‖"
_TALL = {"mfrac", "mtable", "msqrt", "mroot", "munderover", "munder"}  # an accent (mover) is not tall

#: Page CSS (MATHML.md): left/right cells really aligned, rows spaced, a real math font.
CSS = """\
body { max-width: 60em; margin: 2em auto; padding: 0 1em; font-family: system-ui, sans-serif; line-height: 1.5; }
math { font-family: 'Latin Modern Math', 'STIX Two Math', 'Cambria Math', math; font-size: 1.1em; }
math[display="block"] { width: fit-content; margin: 0.8em 0 0.8em 1.5em; }
mtd[columnalign="left"] { text-align: -webkit-left; }
mtd[columnalign="right"] { text-align: -webkit-right; }
math[display="block"] > mrow > mtable > mtr > mtd,
math[display="block"] > mtable > mtr > mtd { padding: 0.3em 0; }
p.note { margin: 0.2em 0 0.8em 1.5em; color: #333; }
table.values { border-collapse: collapse; margin: 0.8em 1.5em; }
table.values td, table.values th { padding: 0.2em 0.8em; text-align: right; }
table.values th { border-bottom: 1px solid #999; }
figure.diagram { margin: 1em 0; overflow-x: auto; }
figure.diagram svg { max-width: 100%; height: auto; }
"""

def _scoped(css: str, scope: str) -> str:
    """The page CSS for a page that is not ours: the ``body`` rule dropped, every rule under ``scope``."""
    rules = []
    for rule in css.split("}"):
        selectors, _, body = rule.partition("{")
        names = [s.strip() for s in selectors.split(",") if s.strip()]
        if names and names != ["body"]:
            rules.append(",\n".join(f"{scope} {s}" for s in names) + " {" + body.rstrip() + " }")
    return "\n".join(rules) + "\n"


#: CSS for a documentation page holding blocks: the renderer's MathML CSS (MATHML.md) scoped to
#: ``.symderiv``, notes in the host theme's text colour (a dark theme too), the diagram, the error box.
EMBED_CSS = _scoped(CSS, ".symderiv") + """\
.symderiv p.note { color: inherit; }
figure.symderiv-diagram { margin: 1em 0; overflow-x: auto; }
figure.symderiv-diagram svg { max-width: 100%; height: auto; }
div.symderiv-error { border-left: 4px solid #c62828; padding: 0.4em 1em; margin: 1em 0; }
"""


#: A diagram with more vertices than this is not drawn into the page (Graphviz takes seconds).
FIGURE_MAX = 1000


def _tag(e: ET.Element) -> str:
    return e.tag.rsplit("}", 1)[-1]


def _retagged(e: ET.Element, tag: str) -> str:
    """``tag`` in the namespace spelling of ``e``'s (a parsed tree's ``{ns}mi``, a built one's ``mi``)."""
    return e.tag[:len(e.tag) - len(_tag(e))] + tag


def _is_fence(e: ET.Element, chars: str) -> bool:
    return _tag(e) == "mo" and (e.text or "") in chars and len(e.text or "") == 1


def _polish(parent: ET.Element) -> None:
    """MATHML.md's pass: prefix signs, <mi> names, non-stretchy plain fences, wrapped matrices."""
    kids = list(parent)
    for i, e in enumerate(kids):
        t = _tag(e)
        if t == "mo":
            s = e.text or ""
            if s in ("−", "+", "-"):
                prev = kids[i - 1] if i else None
                if prev is None or (_tag(prev) == "mo" and not _is_fence(prev, _CLOSE)) or \
                        (_tag(prev) == "mi" and not (prev.text or "").strip() and i == 1):
                    e.set("form", "prefix")
            elif len(s) > 1 and s.isalpha():
                e.tag = _retagged(e, "mi")
                e.attrib.clear()
    if len(kids) >= 2 and _is_fence(kids[0], _OPEN) and _is_fence(kids[-1], _CLOSE) \
            and kids[0].get("stretchy") == "true":
        if not any(_tag(d) in _TALL for k in kids[1:-1] for d in k.iter()):
            kids[0].set("stretchy", "false")
            kids[-1].set("stretchy", "false")
    i = 0
    while i + 2 < len(kids):
        a, m, b = kids[i:i + 3]
        if _is_fence(a, _OPEN) and _tag(m) == "mtable" and _is_fence(b, _CLOSE) and len(kids) > 3:
            row = ET.Element(_retagged(parent, "mrow"))
            pos = list(parent).index(a)
            for x in (a, m, b):
                parent.remove(x)
                row.append(x)
            parent.insert(pos, row)
            kids = list(parent)
        i += 1
    for e in parent:
        _polish(e)


_TEXT = re.compile(r"\\(text|textrm|mbox)\{((?:[^{}\\]|\\.)*)\}")
_TEXT_ESCAPES = re.compile(r"\\(&amp;|[%$#_])")


def _escape_text(tex: str) -> str:
    """latex2mathml copies ``\\text{...}`` into ``<mtext>`` as it is: escape ``< > &`` there
    (and undo LaTeX's ``\\&``), so that a label like ``\\text{a<b}`` stays well-formed XML."""
    def fix(m: re.Match) -> str:
        inner = _TEXT_ESCAPES.sub(r"\1", html.escape(m.group(2), quote=False))
        inner = inner.replace("\\{", "&#123;").replace("\\}", "&#125;")  # no brace for latex2mathml to match
        return "\\" + m.group(1) + "{" + inner + "}"
    return _TEXT.sub(fix, tex)


def _is_link(attribute: str) -> bool:
    """True for an attribute that links, loads or runs something: ``href`` (also ``xlink:href``),
    ``src``, ``style`` (its ``url(...)``), ``actiontype`` and every event handler ``on...``."""
    name = attribute.rsplit("}", 1)[-1].lower()
    return name in ("href", "src", "style", "actiontype") or name.startswith("on")


def _strip_links(root: ET.Element) -> None:
    """Drop every link and event attribute (``\\href{javascript:...}{x}`` in a label becomes x)."""
    for e in root.iter():
        for attribute in [a for a in e.attrib if _is_link(a)]:
            del e.attrib[attribute]


@functools.lru_cache(maxsize=4096)
def to_mathml(tex: str, display: str = "block") -> str:
    """One ``<math>`` element from LaTeX, polished and checked: :func:`convert_whole`'s bytes,
    built from the parts of ``tex`` (each distinct part converted once, :func:`block_mathml`).
    LaTeX that latex2mathml cannot read (in a label given by the caller) raises
    :class:`ParameterError`; malformed MathML out of it, :class:`MathMLError`."""
    parts = _parts(tex)
    if parts is None:
        return convert_whole(tex, display)
    children = "".join(_children(p, display) for p in parts)
    whole = f"{_math_open(display)}{_row(children)}</math>"
    try:
        ET.fromstring(whole)
    except ET.ParseError as e:
        raise MathMLError(f"MathML for {quote(tex)} is not well-formed XML: {e}") from None
    return whole


#: What XML reads in latex2mathml's text: character references and the predefined entities.
_REFERENCE = re.compile(r"&(?:#x([0-9a-fA-F]+)|#([0-9]+)|(lt|gt|amp|quot|apos));")
_PREDEFINED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}


def _unescape_markup(s: str) -> str:
    """``&lt;``, ``&gt;`` and ``&amp;`` read back (``xml.sax.saxutils.unescape`` without entities,
    which would import urllib, http and email): what ElementTree's serializer escapes in text."""
    return s.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _xml_char(code: int) -> bool:
    return code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or 0x10000 <= code <= 0x10FFFF


def _read_references(root: ET.Element) -> bool:
    """Read the references in the tree's texts and attributes as XML would (latex2mathml writes a
    symbol as ``&#x0003D;`` in the text of its element, for its serializer to pass on); False,
    leaving the tree as it is, when a text holds what only an XML parser can judge (``<``, a
    bare ``&``, an unknown entity or a character XML forbids)."""
    def read(s: str) -> str | None:
        if "&" not in s and "<" not in s:
            return s
        if "<" in s or "&" in _REFERENCE.sub("", s):
            return None
        codes = [int(hex_, 16) if hex_ else int(dec) for hex_, dec, name in _REFERENCE.findall(s) if not name]
        if not all(_xml_char(c) for c in codes):
            return None
        return _REFERENCE.sub(lambda m: _PREDEFINED[m[3]] if m[3] else chr(int(m[1], 16) if m[1] else int(m[2])), s)

    changes = []
    for e in root.iter():
        for field in ("text", "tail"):
            value = getattr(e, field)
            if value:
                read_value = read(value)
                if read_value is None:
                    return False
                changes.append((e, field, read_value))
        for name, value in e.attrib.items():
            if read(value) != value:
                return False
    for e, field, value in changes:
        setattr(e, field, value)
    return True


def convert_whole(tex: str, display: str = "block") -> str:
    """One ``<math>`` element from LaTeX in one call of latex2mathml, polished and checked: the
    reference that :func:`to_mathml` and :func:`block_mathml` equal byte for byte, at the cost of
    converting every repeated part again. Errors as :func:`to_mathml`'s."""
    try:
        root = convert_to_element(_escape_text(tex), display=display)
    except Exception as e:  # latex2mathml's own errors (MissingEndError, ...) and any other it lets out
        detail = shorten(str(e).splitlines()[0], 60) if str(e).strip() else ""
        raise ParameterError(f"LaTeX {quote(tex)} cannot be converted to MathML "
                             f"({type(e).__name__}{': ' + detail if detail else ''})") from None
    if not _read_references(root):  # as latex2mathml's convert() writes it, read by an XML parser
        try:
            root = ET.fromstring(_unescape_markup(ET.tostring(root, encoding="unicode")))
        except ET.ParseError as e:  # latex2mathml produced malformed XML
            raise MathMLError(f"MathML for {quote(tex)} is not well-formed XML: {e}") from None
    _polish(root)
    _strip_links(root)
    for e in root.iter():
        if _tag(e) == "merror" or ((e.text or "").startswith("\\") and _tag(e) in ("mi", "mo", "mtext")):
            raise MathMLError(f"MathML for {quote(tex)} has an unconverted command {e.text!r}")
    return ET.tostring(root, encoding="unicode")


#: Commands whose conversion reaches past the node they start: a style, size or font switch, an
#: infix fraction, a macro definition, a row or column break. A block with one is converted whole.
_CONTEXTUAL = frozenset((*commands.STYLES, *commands.MSTYLE_SIZES, *commands.GLOBAL_FONTS, commands.ABOVE,
                         commands.ATOP, commands.ABOVEWITHDELIMS, commands.ATOPWITHDELIMS, commands.BRACE,
                         commands.BRACK, commands.CHOOSE, commands.OVER, commands.DEF, commands.NEWCOMMAND,
                         commands.DECLAREMATHOPERATOR, commands.NEWENVIRONMENT, commands.HLINE, commands.HDASHLINE,
                         commands.HFIL, commands.NONUMBER, commands.NOTAG, commands.TAG))
#: Column and row breaks: their own inside an environment (a matrix), the row's outside one.
_BREAKS = frozenset((r"\\", "&"))
#: Any token (for the fraction and bracket templates): a command, a run of spaces, a brace,
#: bracket or ``&``, or a run of anything else.
_TOKEN = re.compile(r"\\(?:[a-zA-Z]+|.)|\s+|[^\\{}()\[\]&\s]+|.", re.S)
#: What decides where a cell may be cut: commands, braces, ``&`` and runs of spaces.
_STRUCTURE = re.compile(r"\\(?:[a-zA-Z]+|.)|[{}&]|\s+", re.S)
#: A part never starts with one of these: it binds to what comes before it (a script, a prime,
#: limits), is the argument of the command before it, or is a sign whose form (prefix or infix)
#: the polish pass decides from what comes before it.
_BINDS_BACK_CHARS = "_^'{[+-−!"
_BINDS_BACK = (commands.LIMITS, commands.NOLIMITS)
#: Commands that take no argument, so a part may end with one.
_STANDALONE = frozenset((r"\cdot", r"\approx", r"\times", r"\odot", r"\quad", r"\qquad", r"\le", r"\leq",
                         r"\ge", r"\geq", r"\neq", r"\to", r"\in"))


def _parts(cell: str) -> list[str] | None:
    """One cell of an ``align*`` row cut at spaces between the nodes latex2mathml converts one
    after another (outside braces, ``\\left … \\right`` and environments), so that each part
    converts alone to the MathML it has in the row; ``None`` when the cell holds a command whose
    conversion reaches past its node (:data:`_CONTEXTUAL`), a break outside an environment, or
    groups that do not balance."""
    parts, start, depth, environments, argument_end = [], 0, 0, 0, -1
    for m in _STRUCTURE.finditer(cell):
        token, at = m.group(), m.start()
        if token[0] == "\\":
            if token in _CONTEXTUAL or (token in _BREAKS and not environments):
                return None
            if token in (commands.LEFT, commands.BEGIN):
                depth += 1
                environments += token == commands.BEGIN
            elif token in (commands.RIGHT, commands.END):
                depth -= 1
                environments -= token == commands.END
            if token[1:].isalpha() and token not in _STANDALONE:
                argument_end = m.end()  # a space right after it may come before its argument
        elif token == "{":
            depth += 1
        elif token == "}":
            depth -= 1
        elif token == "&":
            if not environments:
                return None
        elif depth == 0 and at and m.end() < len(cell) and at != argument_end:
            after = cell[m.end()]
            if not (after in _BINDS_BACK_CHARS or cell[at - 1] in "_^" or cell.startswith(_BINDS_BACK, m.end())):
                parts.append(cell[start:at])
                start = at
        if depth < 0 or environments < 0:
            return None
    if depth:
        return None
    return [p.strip() for p in (*parts, cell[start:]) if p.strip()]


def _group_end(tokens: list[str], k: int) -> int:
    """The index of the ``}`` that closes the ``{`` at ``tokens[k]``."""
    depth = 0
    for j in range(k, len(tokens)):
        depth += tokens[j] == "{"
        depth -= tokens[j] == "}"
        if depth == 0:
            return j
    return -1


def _fraction(tokens: list[str]) -> tuple[str, str] | None:
    """Numerator and denominator of a part that is exactly ``\\frac{A}{B}``."""
    if len(tokens) < 5 or tokens[0] != r"\frac" or tokens[1] != "{":
        return None
    end = _group_end(tokens, 1)
    if end < 0 or end + 1 >= len(tokens) or tokens[end + 1] != "{" or _group_end(tokens, end + 1) != len(tokens) - 1:
        return None
    return "".join(tokens[2:end]), "".join(tokens[end + 2:-1])


#: The brackets a part ``\\left( X \\right)`` is built from its inside with: opening -> closing.
_BRACKETS = {"(": ")", "[": "]"}


def _fenced(tokens: list[str]) -> tuple[str, str] | None:
    """The bracket and the inside of a part that is exactly ``\\left( X \\right)`` (or with ``[ ]``)."""
    if len(tokens) < 4 or tokens[0] != commands.LEFT or tokens[-2] != commands.RIGHT \
            or _BRACKETS.get(tokens[1]) != tokens[-1]:
        return None
    depth = 0
    for token in tokens[:-2]:
        depth += (token == commands.LEFT) - (token == commands.RIGHT)
        if depth == 0:  # the first \left closes before the end
            return None
    return tokens[1], "".join(tokens[2:-2])


#: The elements that make a fence stretch (the polish pass's test), as they open in serialized MathML.
_TALL_OPEN = re.compile("<(?:" + "|".join(sorted(_TALL)) + ")[ />]")


def _row(children: str) -> str:
    return f"<mrow>{children}</mrow>" if children else "<mrow />"


def _content(tex: str, display: str) -> str:
    """The MathML children of ``tex``: its parts' (:func:`_parts`), joined."""
    parts = _parts(tex)
    return "".join(_children(p, display) for p in parts) if parts is not None else _children(tex, display)


@functools.lru_cache(maxsize=16384)
def _children(part: str, display: str = "block") -> str:
    """The MathML that one part contributes to a cell of a block (``display`` "block") or to a
    group inside one ("inline": latex2mathml reads a nested group as text maths): what it
    converts to alone, polished and checked, without the ``<math>`` and ``<mrow>`` around it. A
    fraction and a bracketed group are built from their insides' MathML, so that each piece is
    converted once however often it recurs."""
    if part.startswith((r"\frac", commands.LEFT)):
        tokens = _TOKEN.findall(part)
        fraction = _fraction(tokens)
        if fraction is not None:
            numerator, denominator = (_content(t, "inline") if t.strip() else "" for t in fraction)
            return f"<mfrac>{_row(numerator)}{_row(denominator)}</mfrac>"
        fenced = _fenced(tokens)
        if fenced is not None and fenced[1].strip() and "<mtable" not in (inside := _content(fenced[1], "inline")):
            bracket, close = fenced[0], _BRACKETS[fenced[0]]
            stretchy = "true" if _TALL_OPEN.search(inside) else "false"
            return (f'<mrow><mo stretchy="{stretchy}" fence="true" form="prefix">{bracket}</mo>{inside}'
                    f'<mo stretchy="{stretchy}" fence="true" form="postfix">{close}</mo></mrow>')
    whole = convert_whole(part, display)
    head, tail = _math_open(display) + "<mrow>", "</mrow></math>"
    if not (whole.startswith(head) and whole.endswith(tail)):
        raise MathMLError(f"MathML for {quote(part)} is not one row")
    return whole[len(head):-len(tail)]


def _math_open(display: str) -> str:
    return f'<math xmlns="{NS}" display="{display}">'


#: What latex2mathml puts around the rows of an ``align*`` (after the polish pass).
_FRAME = (_math_open("block") + '<mrow><mtable displaystyle="true" rowspacing="3pt" columnspacing="0em 2em">',
          "</mtable></mrow></math>")


def _cell(parts: list[str], column: str, lead: str = "") -> str:
    content = lead + "".join(_children(p) for p in parts)
    return f'<mtd columnalign="{column}">{content}</mtd>' if content else f'<mtd columnalign="{column}" />'


def block_mathml(rows: Sequence[str]) -> str:
    """One block ``<math>`` of ``align*`` rows, the same as ``convert_whole(align(rows))``, built
    from its parts: each distinct part (a name, a repeated substitution or value) is converted
    once, the parts are joined into rows and the block is checked to be well-formed XML."""
    cells = []
    for row in rows:
        lhs, amp, rhs = row.partition("&")
        split = (_parts(lhs), _parts(rhs))
        if not amp or None in split:
            return convert_whole(align(rows))
        cells.append(split)
    head, tail = _FRAME
    block = head + "".join(f'<mtr>{_cell(lhs, "right")}{_cell(rhs, "left", "<mi />")}</mtr>'
                           for lhs, rhs in cells) + tail
    try:
        ET.fromstring(block)
    except ET.ParseError as e:
        raise MathMLError(f"MathML for {quote(align(rows))} is not well-formed XML: {e}") from None
    return block


def _note(sol: Solution, note: Note) -> str:
    return "".join(html.escape(p) if isinstance(p, str) else to_mathml(latex(p, sol.names), "inline")
                   for p in note)


def heading_html(title: str) -> str:
    """A title or heading as HTML: its text escaped, its maths inline MathML."""
    return written_title(title, lambda tex: to_mathml(tex, "inline"), html.escape)


def table_html(sol: Solution, table: Table, digits: int, maths=None, css_class: str = "values") -> str:
    """A table of values as HTML; its header's names through ``maths`` (LaTeX -> HTML; default
    native MathML)."""
    maths = maths or (lambda tex: to_mathml(tex, "inline"))
    head = "".join(f"<th>{maths(latex(h, sol.names))}</th>" for h in table.header)
    rows = "".join("<tr>" + "".join(f"<td>{html.escape(cell_text(c, digits))}</td>" for c in row) + "</tr>"
                   for row in table.rows)
    caption = f"<caption>{html.escape(table.caption)}</caption>" if table.caption else ""
    cls = f' class="{css_class}"' if css_class else ""
    return f"<table{cls}>{caption}<tr>{head}</tr>{rows}</table>"


_TOO_BIG_TO_DRAW = ['<p class="note">The computational graph is too big for Graphviz to draw here within the '
                    "size limit; <code>--format svg</code> with a raised <code>--max-size</code> draws it.</p>"]


def _figure(sol: Solution, digits: int) -> Callable[[], list[str]]:
    """The computational graph as an inline SVG figure; nothing when the model has none or
    Graphviz is not installed (the page goes without it). Graphviz, another process, is run from
    a thread (under the caller's limits) while the maths is converted: the returned function
    waits for the figure. Only the process runs meanwhile; the DOT source is written first."""
    if sol.diagram is None:
        return list
    if len(sol.diagram.vertices) > FIGURE_MAX:
        note = [f'<p class="note">The computational graph has {len(sol.diagram.vertices):,} vertices, too many '
                "to draw here; <code>--format svg</code> draws it.</p>"]
        return lambda: note
    try:
        check_drawable(sol)
        source = to_dot(sol, digits)
    except SizeError:  # Graphviz would take too long: the page goes without it
        return lambda: _TOO_BIG_TO_DRAW
    except DiagramError:
        return list
    import concurrent.futures  # here: a page with no figure, and every other format, goes without it
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="symderiv-graphviz")
    drawing = pool.submit(contextvars.copy_context().run, svg_of_dot, source)
    pool.shutdown(wait=False)  # its one thread ends with the drawing (a pool per page: fork-safe)

    def figure() -> list[str]:
        try:
            svg = drawing.result()
        except SizeError:
            return _TOO_BIG_TO_DRAW
        except DiagramError:
            return []
        return [f'<figure class="diagram" aria-label="computational graph">\n{svg}</figure>']
    return figure


def render_mathml(sol: Solution, digits: int) -> str:
    """An HTML fragment: headings, notes, tables, and one block ``<math>`` per group of steps."""
    figure = _figure(sol, digits)
    converted = itertools.count(1)

    def align_mathml(rows: Sequence[str]) -> str:
        block, count = block_mathml(rows), next(converted)
        if count % 50 == 0:
            limits.progress("MathML blocks", count)
        return block

    writer = BlockWriter(
        section=lambda section: (f'<section class="symderiv-{html.escape(section.kind)}">'
                                 f"<h3>{heading_html(section.title)}</h3>"),
        align=align_mathml, note=lambda note: f'<p class="note">{_note(sol, note)}</p>',
        table=lambda table: table_html(sol, table, digits), section_end=("</section>",))
    out = ['<section class="symderiv">', f"<h2>{heading_html(sol.title)}</h2>", *write_sections(sol, digits, writer),
           "</section>"]
    out[2:2] = figure()
    return "\n".join(out) + "\n"


def render_html(sol: Solution, digits: int) -> str:
    """A complete HTML page with native MathML and the page CSS; no JavaScript."""
    return page(sol.title, render_mathml(sol, digits))


def page(title: str, body: str) -> str:
    """A complete HTML page with the MathML CSS around ``body``."""
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{html.escape(title)}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n"
            + body + "</body>\n</html>\n")
