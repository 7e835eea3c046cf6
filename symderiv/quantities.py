"""One index over a solution's quantities: every number a step states, found by its key or by any
name a reader writes for it.

The writers record what each step states (:class:`~symderiv.record.Quantity`); this index is what
the checker, the exercises, their exports and the formula door read, instead of the printed text.
A *value* (:class:`Value`) is one number: a scalar step's, or one entry of a matrix step's (steps
printed with the same name are one value); a *matrix* (:class:`Matrix`) is a matrix step's name,
shape and entry values. Names are matched through one normaliser (:func:`normalize`) and one rule
for entries (:func:`entry_label`, :func:`entry_spellings`).
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field

import mpmath
import sympy as sp

from . import numeric
from .errors import NotReal, ParameterError
from .printing import entry_name, text
from .record import Kink, Quantity, Role, Section, Solution, Step


class UnknownName(ParameterError):
    """A name that is no quantity of the solution: no entry of that index, or one that could be
    several (the message says which)."""


class NoSuchName(UnknownName):
    """A name the solution prints nothing under (the message says the closest ones)."""


#: LaTeX a reader writes for a name, rewritten to the plain spelling (applied in order).
_LATEX = (
    (re.compile(r"_\s*\{([^{}]*)\}"), r"_\1"),
    (re.compile(r"\\[dt]?frac\s*\{\s*\\partial\s*([^{}]*)\}\s*\{\s*\\partial\s*([^{}]*)\}"), r"∂\1/∂\2"),
    (re.compile(r"\\[dt]?frac\s*\{\s*d\s*([^{}]*)\}\s*\{\s*d\s*([^{}]*)\}"), r"∂\1/∂\2"),
    (re.compile(r"\\partial\s*"), "∂"),
    (re.compile(r"\\(?:hat|widehat)\s*\{([^{}]*)\}"), r"\1hat"),
    (re.compile(r"\\(?:hat|widehat)\s*(\w)"), r"\1hat"),
    (re.compile(r"\\(?:mathrm|mathbf|mathit|boldsymbol|operatorname|text)\s*\{([^{}]*)\}"), r"\1"),
    (re.compile(r"\\(?:left|right|,|;|!|quad)"), ""),
    (re.compile(r"\\sigma"), "σ"),
    (re.compile(r"\\cdot"), "·"),
    (re.compile(r"\^\s*\{\s*(?:T|\\top|\\intercal)\s*\}|\^\s*(?:T|\\top)\b"), "T"),
    (re.compile(r"[{}$]"), ""),
)


def plain(name: str) -> str:
    """A name as written, LaTeX (``$\\frac{\\partial f}{\\partial w_{0}}$``) read as its plain
    spelling (``∂f/∂w_0``), a byte-order mark and surrounding ``$`` dropped."""
    s = name.lstrip("\ufeff").strip()
    if "\\" in s or "$" in s or "{" in s:
        for pattern, replacement in _LATEX:
            s = pattern.sub(replacement, s)
    return s.strip()


def normalize(name: str) -> str:
    """A name's ASCII spelling: LaTeX read (:func:`plain`), ``∂`` as ``d``, subscript digits as
    digits, a hat as ``hat`` (``x̂``, ``ŷ``, ``\\hat{y}``: ``xhat``, ``yhat``), no ``_`` or spaces."""
    s = unicodedata.normalize("NFKC", plain(name)).replace("∂", "d").replace("‖", "||").replace("·", "*")
    if any(unicodedata.combining(c) for c in unicodedata.normalize("NFD", s)):
        s = unicodedata.normalize("NFC", unicodedata.normalize("NFD", s).replace("\u0302", "hat"))
    return re.sub(r"[\s_]", "", s)


def is_vector(shape: tuple[int, ...]) -> bool:
    """A matrix with one row or one column: its entries have one index."""
    return len(shape) == 2 and (shape[0] == 1 or shape[1] == 1)


def entry_label(name: str, index: tuple[int, int], shape: tuple[int, int]) -> str:
    """How an entry without a name of its own is written: ``M[i,j]``, a vector's ``v[k]`` (1-based)."""
    i, j = index
    return f"{name}[{max(i, j) + 1}]" if is_vector(shape) else f"{name}[{i + 1},{j + 1}]"


def entry_spellings(name: str, index: tuple[int, int], shape: tuple[int, int]) -> list[str]:
    """The normalized spellings of an entry a reader may write: ``M[i,j]``, ``M[i][j]``, ``M_i_j``,
    and ``Mij`` when both indices are one digit (a vector: ``v[k]``, ``v_k``, ``vk``)."""
    base = normalize(name)
    i, j = index
    if is_vector(shape):
        k = str(max(i, j) + 1)
        return [f"{base}[{k}]", f"{base}{k}"] if len(k) == 1 else [f"{base}[{k}]"]
    a, b = str(i + 1), str(j + 1)
    out = [f"{base}[{a},{b}]", f"{base}[{a}][{b}]"]
    if len(a) == 1 and len(b) == 1:
        out.append(f"{base}{a}{b}")
    return out


def float_of(e: sp.Basic | None) -> mpmath.mpf | None:
    """The 50-digit float of an exact number (None for a symbolic or non-real one)."""
    if e is None or not e.is_number:
        return None
    try:
        return numeric.evaluate(e, {})
    except NotReal:
        return None


@dataclass(eq=False)
class Value:
    """One number of the solution: a scalar step's value, or one entry of a matrix step.

    ``name``: as the solution prints it (an entry without a name of its own as :func:`entry_label`
    writes it); ``quantity``: what its first step states; ``roles``: every role a step printing it
    has; ``steps``: each (step, entry index or None) printing it; ``matrix``/``index``: the matrix
    and entry it is one of."""

    name: str
    order: int
    exact: sp.Basic | None
    approx: mpmath.mpf | None
    quantity: Quantity
    roles: set[Role] = field(default_factory=set)
    steps: list[tuple[Step, tuple[int, int] | None]] = field(default_factory=list)
    matrix: Matrix | None = None
    index: tuple[int, int] | None = None

    @property
    def is_gradient(self) -> bool:
        """Printed as a gradient of the output (in the backward pass or the results)."""
        return any(r.is_gradient for r in self.roles)

    @property
    def step(self) -> Step:
        """The step that states it: its first as a gradient when it is one, else its first."""
        for s, index in self.steps:
            if s.quantity is not None and s.quantity.role.is_gradient:
                return s
        return self.steps[0][0]


@dataclass(eq=False)
class Matrix:
    """A matrix step's name, symbol, shape and entry values (each a :class:`Value`)."""

    name: str
    symbol: sp.Basic
    shape: tuple[int, int]
    entries: list[list[Value]]
    quantity: Quantity
    steps: list[Step] = field(default_factory=list)

    def values(self) -> Iterator[Value]:
        """The entries, row by row."""
        return (v for row in self.entries for v in row)


class SolutionIndex:
    """The quantities of a solution, by key and by written name (see the module docstring)."""

    def __init__(self, sol: Solution):
        self.sol = sol
        self.values: list[Value] = []
        self.matrices: dict[str, Matrix] = {}
        self.by_name: dict[str, Value] = {}
        self.by_key: dict[str, Value | Matrix] = {}
        self.sections: dict[int, Section] = {}  # id(step) -> its section
        self.printed: list[tuple[Step, Value | Matrix]] = []  # each step with what it states, in order
        self._texts = {nm.text: sym for sym, nm in sol.names.items()}
        for section in sol.sections:
            for item in section.items:
                if isinstance(item, Step) and item.quantity is not None:
                    self.sections[id(item)] = section
                    self._add(item)
        self.by_norm: dict[str, list[Value]] = {}
        for v in self.values:
            self.by_norm.setdefault(normalize(v.name), []).append(v)
        for m in self.matrices.values():
            for v in m.values():
                for spelling in entry_spellings(m.name, v.index, m.shape):
                    if v not in self.by_norm.setdefault(spelling, []):
                        self.by_norm[spelling].append(v)
        self.of_symbol: dict[sp.Basic, Value] = {}  # every symbol printed with a value's name
        symbols: dict[str, list[sp.Basic]] = {}
        for sym, nm in sol.names.items():
            symbols.setdefault(nm.text, []).append(sym)
        for v in self.values:
            for sym in symbols.get(v.name, ()):
                self.of_symbol.setdefault(sym, v)
        self.matrix_of_symbol = {m.symbol: m for m in self.matrices.values()}

    # ----- building --------------------------------------------------------------------------
    def _value(self, name: str, exact: sp.Basic | None, approx: mpmath.mpf | None, q: Quantity) -> Value:
        v = self.by_name.get(name)
        if v is None:
            v = Value(name, len(self.values), exact, approx if approx is not None else float_of(exact), q)
            self.values.append(v)
            self.by_name[name] = v
        return v

    def _add(self, step: Step) -> None:
        q = step.quantity
        name = text(step.lhs, self.sol.names)
        if len(q.shape) == 2 and (isinstance(step.exact, sp.MatrixBase) or isinstance(step.approx, tuple)):
            m = self.matrices.get(name)
            if m is None:
                m = Matrix(name, step.lhs, q.shape, [], q)
                rows, cols = q.shape
                for i in range(rows):
                    row = []
                    for j in range(cols):
                        own = entry_name(name, i, j, is_vector(q.shape) and cols == 1)
                        entry = own if own in self._texts else entry_label(name, (i, j), q.shape)
                        exact = step.exact[i, j] if isinstance(step.exact, sp.MatrixBase) else None
                        approx = step.approx[i][j] if isinstance(step.approx, tuple) else None
                        v = self._value(entry, exact, approx, q)
                        v.matrix, v.index = m, (i, j)
                        row.append(v)
                    m.entries.append(row)
                self.matrices[name] = m
                self.by_key.setdefault(q.key, m)
            m.steps.append(step)
            self.printed.append((step, m))
            for v in m.values():
                v.steps.append((step, v.index))
                v.roles.add(q.role)
            return
        v = self._value(name, step.exact, step.approx, q)
        v.steps.append((step, None))
        v.roles.add(q.role)
        self.printed.append((step, v))
        self.by_key.setdefault(q.key, v)

    # ----- reading ---------------------------------------------------------------------------
    def find(self, written: str, where: str | None = None) -> Value | Matrix:
        """The value (or whole matrix) a written name means; :class:`UnknownName` naming the
        closest names (``where`` starts the message, by default the name: ``'line 3: x: '``)."""
        name = plain(written)
        where = f"{written}: " if where is None else where
        if name in self.matrices:
            return self.matrices[name]
        if name in self.by_name:
            return self.by_name[name]
        m = re.fullmatch(r"(.+?)\s*\[\s*(\d{1,4})\s*(?:,\s*|\]\s*\[\s*)?(\d{1,4})?\s*\]", name)
        if m:
            matrix = self.matrix(m.group(1))
            if matrix is not None:
                rows, cols = matrix.shape
                i, j = int(m.group(2)), int(m.group(3) or 1)
                if m.group(3) is None and rows == 1:
                    i, j = 1, i
                if not (1 <= i <= rows and 1 <= j <= cols):
                    zero = " (indices start at 1)" if min(i, j) == 0 else ""
                    raise UnknownName(f"{where}{matrix.name} is {rows}x{cols}; there is no entry {i},{j}{zero}")
                return matrix.entries[i - 1][j - 1]
            family = self.by_norm.get(normalize(m.group(1)) + m.group(2) + (m.group(3) or ""), [])
            if len(family) == 1:  # W1[1][2] for the scalar W1_12
                return family[0]
            if "0" in (m.group(2), m.group(3)) and self.by_norm.get(
                    normalize(m.group(1)) + str(int(m.group(2)) + 1) + str(int(m.group(3) or 0) + 1)):
                raise UnknownName(f"{where}no entry {m.group(2)},{m.group(3) or ''} (indices start at 1)")
        matrix = self.matrix(name)
        if matrix is not None:
            return matrix
        found = self.by_norm.get(normalize(name), [])
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise UnknownName(f"{where}could be {' or '.join(v.name for v in found[:4])}; write it as the solution "
                              "prints it")
        raise NoSuchName(f"{where}the solution has no step of that name; {self.closest(name)}")

    def matrix(self, name: str) -> Matrix | None:
        """The matrix printed with this name (or one that normalizes alike)."""
        if name in self.matrices:
            return self.matrices[name]
        found = [m for m in self.matrices.values() if normalize(m.name) == normalize(name)]
        return found[0] if len(found) == 1 else None

    def closest(self, name: str) -> str:
        """'closest: ...' with the solution's names nearest to ``name``."""
        choices = {normalize(v.name): v.name for v in self.values if v.matrix is None or v.name in self.by_name}
        choices.update({normalize(m.name): m.name for m in self.matrices.values()})
        near = difflib.get_close_matches(normalize(name), list(choices), n=3, cutoff=0.5)
        if not near:
            return f"'symderiv solve {self.sol.model}' prints every name"
        return "closest: " + ", ".join(choices[n] for n in near)

    def given(self) -> list[Value | Matrix]:
        """The values the problem states (each given scalar and matrix), in order."""
        return list({id(x): x for step, x in self.printed if step.quantity.role is Role.GIVEN}.values())

    def definitions(self) -> dict[sp.Basic, sp.Expr]:
        """Each named symbol's exact value, as its first step states it (a matrix's entries under
        their own names, where the solution has them)."""
        defs: dict[sp.Basic, sp.Expr] = {}
        for step, x in self.printed:
            if step.exact is None:
                continue
            if isinstance(x, Matrix):
                if isinstance(step.exact, sp.MatrixBase):
                    for v in x.values():
                        sym = self._texts.get(v.name)
                        if sym is not None and not isinstance(sym, sp.MatrixSymbol):
                            defs.setdefault(sym, step.exact[v.index])
            elif isinstance(step.lhs, sp.Symbol):
                defs.setdefault(step.lhs, step.exact)
        return defs

    def kinks(self) -> tuple[Kink, ...]:
        """Every non-differentiable point a quantity met, once each."""
        return tuple(dict.fromkeys(k for section in self.sol.sections for i in section.items
                                   if isinstance(i, Step) and i.quantity is not None for k in i.quantity.kinks))

    def section_of(self, step: Step) -> Section:
        """The section a step is in."""
        return self.sections[id(step)]


__all__ = ["Matrix", "NoSuchName", "SolutionIndex", "UnknownName", "Value", "entry_label", "entry_spellings", "float_of",
           "is_vector", "normalize", "plain"]
