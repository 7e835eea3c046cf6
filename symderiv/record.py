"""A worked solution as data: sections of steps. Renderers are pure functions of it.

A :class:`Step` is one line of working, ``lhs = formula = substitution = exact ≈ float``:
``formula`` is written with names, the substitution is the same formula printed with each name
replaced by its value (``values``), ``exact`` is the exact value (let-bound: it may name earlier
steps), ``approx`` its high-precision float.
"""

from __future__ import annotations

import dataclasses
import enum
import importlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Union

import mpmath
import sympy as sp

from .diagram import Diagram
from .printing import Name, Names, Shown, latex, text

#: A note mixes plain text (str) with maths (SymPy expressions, printed with the names).
Note = tuple[Union[str, sp.Basic], ...]


@dataclass(frozen=True)
class Maths:
    """Maths in a title: its LaTeX (typeset in LaTeX, MathML in HTML) and its plain text."""

    latex: str
    text: str

    @classmethod
    def of(cls, expr: sp.Basic, names: Mapping[sp.Symbol, Name]) -> Maths:
        """``expr`` as the body writes it, with these names."""
        return cls(latex(expr, names), text(expr, names))


class Title(str):
    """A title or heading with maths in it: the string is its plain text (what text output and
    JSON print, what ``len``, ``==`` and f-strings see), and ``parts`` keeps it as plain text
    (str) and :class:`Maths`, which the LaTeX, MathML and Markdown renderers typeset.

    ``Title("A chain of 3 layers: ", Maths(r"a_{k} = \\sigma(z_{k})", "a_k = σ(z_k)"))``; a
    piece that is itself a Title is spliced in with its maths. A plain ``str`` title is all text.
    """

    parts: tuple[str | Maths, ...]

    def __new__(cls, *pieces: str | Maths) -> Title:
        parts: list[str | Maths] = []
        for piece in pieces:
            if not isinstance(piece, (str, Maths)):
                raise TypeError(f"a title is made of str and Maths pieces, got {type(piece).__name__}")
            parts += [p for p in title_parts(piece) if p != ""]
        self = super().__new__(cls, "".join(p if isinstance(p, str) else p.text for p in parts))
        self.parts = tuple(parts)
        return self

    def __reduce__(self) -> tuple[type, tuple[str | Maths, ...]]:
        return (Title, self.parts)


def title_parts(title: str | Maths) -> tuple[str | Maths, ...]:
    """A title's plain-text and maths parts (a plain ``str`` is one text part)."""
    if isinstance(title, Title):
        return title.parts
    return (title,) if isinstance(title, Maths) or title else ()


def written_title(title: str, maths: Callable[[str], str], plain: Callable[[str], str]) -> str:
    """A title as a renderer writes it: each maths part's LaTeX through ``maths``, its text
    through ``plain``."""
    return "".join(maths(p.latex) if isinstance(p, Maths) else plain(p) for p in title_parts(title))


class Role(enum.Enum):
    """What a quantity is in the working."""

    GIVEN = "given"  # a value the problem states (an input, a parameter, data)
    FORWARD = "forward"  # a value computed by the forward pass
    LOCAL = "local"  # a gate's local derivative with respect to one input
    GRADIENT = "gradient"  # a gradient of the output, formed in the backward pass (the seed too)
    RESULT = "result"  # an input's gradient, in the Gradients section
    DERIVED = "derived"  # a value of a derivation (an expectation, a divergence, a count)

    @property
    def is_gradient(self) -> bool:
        """True for the gradients of the output (backward pass and results)."""
        return self in (Role.GRADIENT, Role.RESULT)


@dataclass(frozen=True)
class Kink:
    """A point where a gate is not differentiable: the gate's name, the convention whose value was
    used there, and what the solution says of it."""

    gate: str
    convention: str
    note: Note


@dataclass(frozen=True)
class Quantity:
    """What a step states: its ``role``; ``node``, the graph node or tensor (or derivation symbol)
    it is the value of, or the gradient of (for a local derivative, the gate, and ``wrt`` the
    input); its ``shape`` (``()`` for a scalar, ``(rows, cols)`` for a matrix); ``entry``, for a
    step that writes one entry of a tensor, that tensor and the entry's 0-based index; ``gate``,
    the gate row that computed it; ``kinks``, the non-differentiable points met on the way."""

    role: Role
    node: str
    shape: tuple[int, ...] = ()
    wrt: str | None = None
    entry: tuple[str, tuple[int, ...]] | None = None
    gate: str | None = None
    kinks: tuple[Kink, ...] = ()

    @property
    def key(self) -> str:
        """A stable key: the role and the node (and the input, for a local derivative)."""
        return f"{self.role.value}:{self.node}" + (f"/{self.wrt}" if self.wrt is not None else "")


@dataclass(frozen=True)
class Step:
    """One line of working: ``lhs = formula = substitution = exact ≈ approx``, and a note; the
    quantity it states (None for a line that states none)."""

    lhs: sp.Basic
    formula: sp.Basic | None = None
    values: Mapping[sp.Symbol, Shown] | None = None
    exact: sp.Basic | None = None
    approx: mpmath.mpf | None = None
    note: Note = ()
    quantity: Quantity | None = None


@dataclass(frozen=True)
class Remark:
    """A sentence of the solution (a gate lesson, a convention, an observation)."""

    note: Note


@dataclass(frozen=True)
class Table:
    """A table of values: ``header`` cells are SymPy expressions (names), ``rows`` values."""

    caption: str
    header: tuple[sp.Basic, ...]
    rows: tuple[tuple[Shown, ...], ...]


Item = Union[Step, Remark, Table]


class SectionKind(enum.StrEnum):
    """What a section holds (its value is the name JSON and HTML classes print)."""

    GIVEN = "given"
    FORWARD = "forward"
    LOCAL = "local"
    BACKWARD = "backward"
    RESULTS = "results"
    REMARKS = "remarks"
    TABLE = "table"  # a table of values (xor-mlp's truth table)
    SIZES = "sizes"  # a convolution's output size
    COUNTS = "counts"  # parameter counts and output shape
    SHAPE = "shape"  # an output volume
    SHAPES = "shapes"  # the shapes of a network's matrices
    TOTALS = "totals"  # dropout's totals
    PROOF = "proof"  # dropout's expectation
    REVERSE = "reverse"  # the KL divergence the other way round
    VANISHING = "vanishing"  # the sigmoid chain's factor per layer
    ERRATA = "errata"  # where the lecture notes differ
    CHECK = "check"  # a checked answer's verdicts


@dataclass(frozen=True)
class Section:
    """A titled part of the solution: what it holds (:class:`SectionKind`), its title, its items."""

    kind: SectionKind
    title: str
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Solution:
    """An ordered record of the working, with the names needed to print it.

    ``results`` maps each input's name to the exact gradient of the output with respect to it;
    ``diagram`` is the computational graph to draw (None for a model without one); ``size`` what
    deriving it cost (:mod:`symderiv.limits`), which its rendering is weighed by.
    """

    model: str
    title: str
    sections: tuple[Section, ...]
    names: Mapping[sp.Symbol, Name]
    parameters: Mapping[str, Any] = field(default_factory=dict)
    results: Mapping[str, Shown] = field(default_factory=dict)
    diagram: Diagram | None = None
    size: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.names, Names):
            object.__setattr__(self, "names", Names(self.names))
        if any(isinstance(i, Step) and i.quantity is None for s in self.sections for i in s.items):
            object.__setattr__(self, "sections", tuple(_stated(s) for s in self.sections))

    def render(self, fmt: str = "text", *, digits: int = 4, standalone: bool = False) -> str:
        """The solution as ``text``, ``latex``, ``mathml``, ``html``, ``json``, ``markdown``, ``dot``
        or ``svg`` (:data:`symderiv.render.RENDERERS`)."""
        return _renderers().render_solution(self, fmt, digits=digits, standalone=standalone)

    def to_text(self, digits: int = 4) -> str:
        """Plain text for a terminal."""
        return self.render("text", digits=digits)

    def to_latex(self, digits: int = 4, standalone: bool = False) -> str:
        """A LaTeX fragment (amsmath), or a complete document with ``standalone=True``."""
        return self.render("latex", digits=digits, standalone=standalone)

    def to_mathml(self, digits: int = 4) -> str:
        """An HTML fragment whose maths is native MathML."""
        return self.render("mathml", digits=digits)

    def to_html(self, digits: int = 4) -> str:
        """A complete HTML page with native MathML and no JavaScript."""
        return self.render("html", digits=digits)

    def to_dot(self, digits: int = 4) -> str:
        """The computational graph as Graphviz DOT source (an error for a model without one)."""
        return self.render("dot", digits=digits)

    def to_svg(self, digits: int = 4) -> str:
        """The computational graph as an SVG element, drawn by Graphviz's ``dot`` program."""
        return self.render("svg", digits=digits)

    def to_dict(self, digits: int = 4) -> dict[str, Any]:
        """Plain data: exact values as strings, floats as doubles (what ``--format json`` prints)."""
        return json.loads(self.render("json", digits=digits))

    def note_text(self, note: Note) -> str:
        """A note as plain text."""
        return "".join(p if isinstance(p, str) else text(p, self.names) for p in note)

    def _repr_latex_(self) -> str:
        return self.to_latex()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        """What Jupyter shows: native MathML (unless :func:`symderiv.notebook_output` chose
        ``"latex"``), Markdown with TeX maths, the LaTeX fragment (for nbconvert's PDF) and plain text."""
        return _renderers().mimebundle(self)

    def __str__(self) -> str:
        return self.to_text()


def _stated(section: Section) -> Section:
    """The section with each step that states no quantity yet stating one: a given value in a
    given section, else a derived one (a derivation's steps, which no graph node owns)."""
    role = Role.GIVEN if section.kind == SectionKind.GIVEN else Role.DERIVED
    items = tuple(dataclasses.replace(i, quantity=Quantity(role, getattr(i.lhs, "name", None) or str(i.lhs),
                                                            _shape(i)))
                  if isinstance(i, Step) and i.quantity is None else i for i in section.items)
    return dataclasses.replace(section, items=items)


def _shape(step: Step) -> tuple[int, ...]:
    if isinstance(step.exact, sp.MatrixBase):
        return step.exact.shape
    if isinstance(step.approx, tuple):
        return (len(step.approx), len(step.approx[0]))
    return ()


def _renderers() -> Any:
    """:mod:`symderiv.render`, whose ``render`` and ``mimebundle`` the methods above print with. The
    record sits below its renderers and does not import them as a module: the package is looked
    up by name when a solution is first rendered (``import symderiv`` does not load it)."""
    return importlib.import_module(f"{__package__}.render")
