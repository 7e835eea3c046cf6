"""Check a hand-worked answer step by step against the exact solution (``symderiv check``).

An answers file is lines ``NAME = VALUE`` (``:`` also accepted, ``#`` comments, blank lines
ignored). NAME is a step's left-hand side as ``symderiv solve`` prints it in text, or an ASCII
spelling of it (``d`` for ``∂``, ``_`` or none between indices: ``df/dw0``, ``S11``); a matrix
entry may also be written ``M[i,j]`` (``M[i]`` for a vector). VALUE is a number (``-0.53``,
``5.23e-5``), a fraction (``1/3``), or for a matrix nested lists (``[[1, 2], [3, 4]]``).

The precision rule: a decimal claims the digits it writes. ``0.7311`` matches the exact
0.731058… because |0.7311 − 0.731058…| is at most half a unit of its last place (0.00005);
``0.7310`` does not. A whole number or a fraction (``-4``, ``1/3``) claims the exact value.

Each line gets a verdict, in the order of the solution:

* ✓ ``right``: equal to the exact value at the precision written;
* ≈ ``rounded``: not the exact value at that precision, but what the step's formula gives from
  the student's own earlier (rounded) values that were right;
* ↳ ``carried``: what the formula gives from the student's own values, one of which was wrong
  (error carried forward): the line names that earlier slip;
* ✗ ``wrong``: with the exact value and, where one is found, the likely slips, each recomputed.

A name the student did not write takes the value its step's formula gives from the student's
values (its exact value where the step has no formula). A slip's recomputed value is accepted
within one unit of the last digit written (a slip is usually followed by more rounding).
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import json
import pathlib
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import mpmath
import sympy as sp

from .errors import NotReal, ParameterError, SymderivError
from .models import MODELS, get_model
from .numeric import evaluate
from .engine.gates import GATES, written_forms
from .notation import Hadamard, exp_, prime, softmax_
from .printing import format_float, text
from .record import Remark, Section, Solution, Step
from .values import parse_value, read_lists

#: Limits on an answers file: every accepted input is checked in bounded time and memory.
MAX_ANSWER_CHARS = 1_000_000
MAX_LINE_CHARS = 20_000

#: Verdict kinds, their marks and their words.
MARKS = {"right": "✓", "rounded": "≈", "carried": "↳", "wrong": "✗"}
WORDS = {"right": "right", "rounded": "right from your own rounded values",
         "carried": "follows from an earlier slip", "wrong": "wrong"}

#: The kinds of likely slip the checker recomputes.
DIAGNOSES = ("sign", "degrees", "swapped", "transposed", "exp-sign", "missing-factor", "sigmoid-derivative",
             "fan-out", "factor-2", "term", "truncated", "activation", "operation")

Number = mpmath.mpf
_TINY = mpmath.mpf(10) ** -40


class AnswerError(ParameterError):
    """An answers file (or mapping) that cannot be checked: an unknown name, a value that is not a
    number, a matrix of the wrong shape, a name given twice."""


# --------------------------------------------------------------------------------------------
# The student's values
# --------------------------------------------------------------------------------------------

_NUMBER_TOKEN = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?(?:/\d+)?")


@dataclass(frozen=True)
class Written:
    """A number as the student wrote it: its exact value and the unit of its last written digit
    (None when it claims the exact value: a whole number or a fraction)."""

    text: str
    value: sp.Rational
    unit: sp.Rational | None

    def matches(self, x: Number, units: int = 0) -> bool:
        """Whether ``x`` is what was written: within half a unit of the last digit (``units`` whole
        units instead, for a slip's recomputed value), or exactly for a whole number or fraction."""
        v = mpmath.mpf(self.value.p) / self.value.q
        if self.unit is None:
            return abs(v - x) <= _TINY * max(1, abs(x))
        tol = (mpmath.mpf(self.unit.p) / self.unit.q) * (mpmath.mpf(units) if units else mpmath.mpf(1) / 2)
        return abs(v - x) <= tol * (1 + _TINY) + _TINY

    @property
    def float(self) -> Number:
        return mpmath.mpf(self.value.p) / self.value.q


def read_number(token: str, where: str) -> Written:
    """One number as a student writes it (``-0.53``, ``5.23e-5``, ``1/3``, ``−4``): never evaluated."""
    s = token.strip().replace("−", "-").replace("–", "-")
    if not _NUMBER_TOKEN.fullmatch(s):
        raise AnswerError(f"{where}: {token.strip()[:40]!r} is not a number (write -0.53, 5.23e-5 or 1/3)")
    value = parse_value(s, where)
    mantissa = s.split("/")[0].lower()
    digits, _, exponent = mantissa.partition("e")
    if "." not in digits or "/" in s:
        return Written(s, value, None)
    places = len(digits.split(".")[1])
    return Written(s, value, sp.Rational(10) ** (int(exponent or 0) - places))


def _read_matrix(text_: str, where: str) -> list[list[Written]]:
    """Nested lists of numbers: ``[[1, 2], [3, 4]]``, or ``[1, 2, 3]`` for a vector."""
    s = text_.strip()

    def fail(expected: str = "", at: int = 0) -> AnswerError:
        return AnswerError(f"{where}: {s[:60]!r} is not a number or a list of numbers like [[1, 2], [3, 4]]")

    def number(at: int) -> tuple[Any, int]:
        m = re.compile(r"[^,\]\[]+").match(s, at)
        if not m:
            raise fail()
        return read_number(m.group(0).rstrip(), where), m.end()

    value = read_lists(s, number, fail, fail, 2)
    if not isinstance(value, list):
        return [[value]]
    if all(isinstance(v, Written) for v in value):
        return [[v] for v in value]  # a flat list: a vector
    if not all(isinstance(v, list) and all(isinstance(x, Written) for x in v) for v in value) or \
            len({len(v) for v in value}) != 1:
        raise AnswerError(f"{where}: a matrix must be a list of rows of equal length, like [[1, 2], [3, 4]]")
    return value


@dataclass(frozen=True)
class Answer:
    """One line of the student's working: its line number, the name as written, the value text."""

    line: int
    name: str
    value: str


def parse_answers(source: str | Mapping[str, Any]) -> list[Answer]:
    """The lines ``NAME = VALUE`` of an answers file (or a mapping of name to value)."""
    if isinstance(source, Mapping):
        return [Answer(i + 1, str(k), str(v)) for i, (k, v) in enumerate(source.items())]
    if len(source) > MAX_ANSWER_CHARS:
        raise AnswerError(f"answers: longer than {MAX_ANSWER_CHARS:,} characters")
    out = []
    for number, raw in enumerate(source.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if len(line) > MAX_LINE_CHARS:
            raise AnswerError(f"line {number}: longer than {MAX_LINE_CHARS:,} characters")
        m = re.fullmatch(r"(.+?)\s*[=:]\s*(.+)", line)
        if not m:
            raise AnswerError(f"line {number}: expected NAME = VALUE, like 'f6 = 0.3679', got {line[:40]!r}")
        out.append(Answer(number, m.group(1).strip(), m.group(2).strip()))
    return out


# --------------------------------------------------------------------------------------------
# The solution's quantities: every number a student may write, by name
# --------------------------------------------------------------------------------------------

def normalize(name: str) -> str:
    """A name's ASCII spelling: ``∂`` as ``d``, subscript digits as digits, no ``_`` or spaces."""
    s = unicodedata.normalize("NFKC", name).replace("∂", "d").replace("‖", "||").replace("·", "*")
    return re.sub(r"[\s_]", "", s)


@dataclass(eq=False)
class Quantity:
    """One number of the solution: a scalar step or one entry of a matrix step (several steps
    printed with the same name are one quantity)."""

    name: str
    order: int
    value: Number | None
    exact: sp.Basic | None
    occurrences: list[tuple[Step, tuple[int, int] | None]] = field(default_factory=list)
    matrix: "MatrixInfo | None" = None
    index: tuple[int, int] | None = None


@dataclass(eq=False)
class MatrixInfo:
    """A matrix step's name, shape and entries."""

    name: str
    symbol: sp.Basic
    shape: tuple[int, int]
    entries: list[list[Quantity]]


class Index:
    """The quantities of a solution, found by the names a student writes."""

    def __init__(self, sol: Solution):
        self.sol = sol
        self.quantities: list[Quantity] = []
        self.by_name: dict[str, Quantity] = {}
        self.matrices: dict[str, MatrixInfo] = {}
        self.of_symbol: dict[sp.Basic, Quantity] = {}
        self.matrix_of_symbol: dict[sp.Basic, MatrixInfo] = {}
        self.kinds: dict[Quantity, set[str]] = {}
        names_by_norm: dict[str, str] = {}
        for sym, nm in sol.names.items():
            names_by_norm.setdefault(normalize(nm.text), nm.text)
        self._symbols_by_name: dict[str, list[sp.Basic]] = {}
        for sym, nm in sol.names.items():
            self._symbols_by_name.setdefault(nm.text, []).append(sym)
        for section in sol.sections:
            for item in section.items:
                if isinstance(item, Step):
                    self._add(item, section.kind, names_by_norm)
        self.by_norm: dict[str, list[Quantity]] = {}
        for q in self.quantities:
            self.by_norm.setdefault(normalize(q.name), []).append(q)
        for info in self.matrices.values():
            for i, row in enumerate(info.entries):
                for j, q in enumerate(row):
                    for key in _entry_keys(info, i, j):
                        if q not in self.by_norm.setdefault(key, []):
                            self.by_norm[key].append(q)
        for q in self.quantities:
            for sym in self._symbols_by_name.get(q.name, ()):
                self.of_symbol.setdefault(sym, q)
        for info in self.matrices.values():
            self.matrix_of_symbol[info.symbol] = info

    def _quantity(self, name: str, value: Number | None, exact: sp.Basic | None) -> Quantity:
        q = self.by_name.get(name)
        if q is None:
            q = Quantity(name, len(self.quantities), value, exact)
            self.quantities.append(q)
            self.by_name[name] = q
        return q

    def _add(self, step: Step, kind: str, names_by_norm: Mapping[str, str]) -> None:
        name = text(step.lhs, self.sol.names)
        exact = step.exact
        if isinstance(exact, sp.MatrixBase):
            rows, cols = exact.shape
            info = self.matrices.get(name)
            if info is None:
                info = MatrixInfo(name, step.lhs, (rows, cols), [])
                for i in range(rows):
                    row = []
                    for j in range(cols):
                        key = normalize(name) + (f"{i + 1}" if cols == 1 else f"{i + 1}{j + 1}")
                        entry_name = names_by_norm.get(key) or (
                            f"{name}[{i + 1}]" if cols == 1 else f"{name}[{j + 1}]" if rows == 1 else
                            f"{name}[{i + 1},{j + 1}]")
                        value = None if step.approx is None else step.approx[i][j]
                        if value is None and exact[i, j].is_number:
                            value = _float_of(exact[i, j])
                        q = self._quantity(entry_name, value, exact[i, j])
                        q.matrix, q.index = info, (i, j)
                        row.append(q)
                    info.entries.append(row)
                self.matrices[name] = info
            for i, row in enumerate(info.entries):
                for j, q in enumerate(row):
                    q.occurrences.append((step, (i, j)))
                    self.kinds.setdefault(q, set()).add(kind)
            return
        value = step.approx
        if value is None and exact is not None and exact.is_number:
            value = _float_of(exact)
        q = self._quantity(name, value, exact)
        q.occurrences.append((step, None))
        self.kinds.setdefault(q, set()).add(kind)

    def find(self, written: str, where: str = "") -> tuple[Quantity | None, MatrixInfo | None]:
        """The quantity (or whole matrix) a written name means; AnswerError with the closest names
        (``where`` starts the message: ``'line 3: '``)."""
        name = written.strip()
        if name in self.by_name:
            q = self.by_name[name]
            if name in self.matrices and q.matrix is None:
                return q, None
            if name not in self.matrices:
                return q, None
        if name in self.matrices:
            return None, self.matrices[name]
        m = re.fullmatch(r"(.+?)\s*\[\s*(\d{1,4})\s*(?:,\s*|\]\s*\[\s*)?(\d{1,4})?\s*\]", name)
        if m:
            info = self._matrix(m.group(1))
            if info is not None:
                i, j = int(m.group(2)), int(m.group(3) or 1)
                rows, cols = info.shape
                if m.group(3) is None and rows == 1:
                    i, j = 1, i
                if not (1 <= i <= rows and 1 <= j <= cols):
                    raise AnswerError(f"{where}{written}: {info.name} is {rows}x{cols}; there is no entry {i},{j}")
                return info.entries[i - 1][j - 1], None
        info = self._matrix(name)
        if info is not None:
            return None, info
        found = self.by_norm.get(normalize(name), [])
        if len(found) == 1:
            return found[0], None
        if len(found) > 1:
            raise AnswerError(f"{where}{written}: could be {' or '.join(q.name for q in found[:4])}; write it as the "
                              f"solution prints it")
        raise AnswerError(f"{where}{written}: the solution has no step of that name; {self.closest(name)}")

    def _matrix(self, name: str) -> MatrixInfo | None:
        if name in self.matrices:
            return self.matrices[name]
        found = [m for m in self.matrices.values() if normalize(m.name) == normalize(name)]
        return found[0] if len(found) == 1 else None

    def closest(self, name: str) -> str:
        """'did you mean ...' with the closest names of the solution."""
        choices = {normalize(q.name): q.name for q in self.quantities if q.matrix is None or q.name in self.by_name}
        choices.update({normalize(m.name): m.name for m in self.matrices.values()})
        near = difflib.get_close_matches(normalize(name), list(choices), n=3, cutoff=0.5)
        if not near:
            return f"'symderiv solve {self.sol.model}' prints every name"
        return "closest: " + ", ".join(choices[n] for n in near)


def _entry_keys(info: MatrixInfo, i: int, j: int) -> list[str]:
    rows, cols = info.shape
    base = normalize(info.name)
    if cols == 1:
        return [f"{base}{i + 1}"] if i < 9 else []
    if rows == 1 and j < 9:
        return [f"{base}{i + 1}{j + 1}"]
    return [f"{base}{i + 1}{j + 1}"] if i < 9 and j < 9 else []


def _float_of(e: sp.Basic) -> Number | None:
    try:
        return evaluate(e, {})
    except NotReal:
        return None


# --------------------------------------------------------------------------------------------
# Recomputing a step from a world of values
# --------------------------------------------------------------------------------------------

def _activations(matrix: bool) -> tuple[type, ...]:
    """The activation gates' functions as written (and as SymPy's, for scalars), from the gate table."""
    forms = [form for form, gate in written_forms().items() if gate.activation and (not matrix or
                                                                                     gate.elementwise is form)]
    if not matrix:
        forms += [gate.sympy for gate in GATES.values() if gate.activation and gate.sympy is not None]
    return tuple(forms)


def _with_exp() -> tuple[type, ...]:
    """sp.exp and the written functions whose value is made with it (σ), from the gate table."""
    return (sp.exp, *(form for form, gate in written_forms().items() if gate.forward(_X).has(sp.exp)))


def _as_value(expr: sp.Basic) -> sp.Basic:
    """A formula as written, with the display-only functions (σ, ReLU, max) made computable by
    their gates' ``forward`` (the gate table's)."""
    forms = written_forms()

    def swap(e: sp.Basic) -> sp.Basic:
        if not e.args:
            return e
        args = [swap(a) for a in e.args]
        if type(e) in forms:
            return forms[type(e)].forward(*args)
        if isinstance(e, (sp.MatrixExpr, sp.MatrixBase)) or isinstance(e, sp.Piecewise):
            return e.func(*args) if not isinstance(e, sp.Piecewise) else sp.Piecewise(*args, evaluate=False)
        return e.func(*args)
    return swap(expr)


def _degrees(expr: sp.Basic) -> sp.Basic:
    """The expression with every sine, cosine and tangent taken in degrees."""
    return expr.replace(lambda e: isinstance(e, (sp.sin, sp.cos, sp.tan)),
                        lambda e: e.func(sp.pi * e.args[0] / 180))


def _flip_exp(expr: sp.Basic) -> sp.Basic:
    """The expression with e^{-x} for every e^{x} (e itself as e^{-1})."""
    if expr is sp.E:
        return sp.exp(-1)
    if isinstance(expr, sp.exp):
        return sp.exp(-_flip_exp(expr.args[0]))
    if not expr.args:
        return expr
    return expr.func(*(_flip_exp(a) for a in expr.args))


def _has(expr: sp.Basic | None, *kinds: type) -> bool:
    return expr is not None and any(isinstance(e, kinds) for e in sp.preorder_traversal(expr))


class World:
    """Values of every quantity: the student's where admitted, else recomputed, else exact."""

    def __init__(self, index: Index):
        self.index = index
        self.values: dict[Quantity, Number] = {}
        self.taint: dict[Quantity, frozenset[Quantity]] = {}
        self._matrix_cache: dict[tuple[int, str], list[list[Number]] | None] = {}

    def of(self, q: Quantity) -> Number | None:
        return self.values.get(q, q.value)

    def symbol_value(self, sym: sp.Basic, step: Step, used: set[Quantity]) -> Number | None:
        q = self.index.of_symbol.get(sym)
        if q is not None:
            used.add(q)
            return self.of(q)
        if step.values and sym in step.values and step.values[sym].approx is not None:
            return step.values[sym].approx
        return None

    def env(self, expr: sp.Basic, step: Step, used: set[Quantity], avoid: Quantity | None) -> dict | None:
        env = {}
        for sym in expr.free_symbols:
            if avoid is not None and self.index.of_symbol.get(sym) is avoid:
                return None  # a step written in terms of its own name: no recomputation
            v = self.symbol_value(sym, step, used)
            if v is None:
                return None
            env[sym] = v
        return env

    def scalar(self, expr: sp.Basic, step: Step, used: set[Quantity], avoid: Quantity | None = None) -> Number | None:
        """``expr`` (a scalar formula over names) evaluated at this world's values."""
        expr = _as_value(expr)
        env = self.env(expr, step, used, avoid)
        if env is None:
            return None
        try:
            return evaluate(expr, env)
        except (NotReal, TypeError, ValueError, AttributeError):
            return None

    def matrix(self, expr: sp.Basic, used: set[Quantity], flip_exp: bool = False) -> list[list[Number]] | None:
        """A matrix formula (products, sums, transposes, element-wise functions, softmax) at this
        world's values; None for anything else."""
        return _MatrixEvaluator(self, used, flip_exp).eval(expr)

    def recompute(self, q: Quantity, used: set[Quantity]) -> Number | None:
        """q from its formula at this world's values (the first of its steps that has one)."""
        for step, index in q.occurrences:
            if step.formula is None:
                continue
            if index is None:
                v = self.scalar(step.formula, step, used, avoid=q)
            else:
                if q.matrix is not None and q.matrix.symbol in step.formula.free_symbols:
                    continue
                m = self.matrix(step.formula, used)
                v = None if m is None else m[index[0]][index[1]]
            if v is not None:
                return v
        return None


class _MatrixEvaluator:
    def __init__(self, world: World, used: set[Quantity], flip_exp: bool):
        self.world, self.used, self.flip = world, used, flip_exp

    def eval(self, e: sp.Basic) -> list[list[Number]] | None:
        try:
            out = self._eval(e)
        except (ValueError, TypeError, ZeroDivisionError, IndexError):
            return None
        return out if isinstance(out, list) else None

    def _eval(self, e: sp.Basic) -> Any:
        if e.is_Number:
            return mpmath.mpf(e.p) / e.q if e.is_Rational else mpmath.mpf(str(e))
        if isinstance(e, sp.MatrixSymbol):
            info = self.world.index.matrix_of_symbol.get(e)
            if info is None:
                raise ValueError(e)
            self.used.update(q for row in info.entries for q in row)
            values = [[self.world.of(q) for q in row] for row in info.entries]
            if any(v is None for row in values for v in row):
                raise ValueError(e)
            return values
        if isinstance(e, sp.Transpose):
            m = self._eval(e.arg)
            return [list(r) for r in zip(*m)]
        if isinstance(e, (sp.MatMul, sp.Mul)):
            out: Any = mpmath.mpf(1)
            for a in e.args:
                out = _product(out, self._eval(a))
            return out
        if isinstance(e, (sp.MatAdd, sp.Add)):
            parts = [self._eval(a) for a in e.args]
            out = parts[0]
            for p in parts[1:]:
                out = [[x + y for x, y in zip(r, s)] for r, s in zip(out, p)]
            return out
        if isinstance(e, Hadamard):
            a, b = (self._eval(x) for x in e.args)
            return [[x * y for x, y in zip(r, s)] for r, s in zip(a, b)]
        if len(e.args) == 1 and type(e) in _elementwise():
            fn = _elementwise()[type(e)]
            flip = self.flip and type(e) is exp_
            return [[fn(-x if flip else x) for x in row] for row in self._eval(e.args[0])]
        if isinstance(e, softmax_):
            m = self._eval(e.args[0])
            sign = -1 if self.flip else 1
            if len(m[0]) == 1:
                w = [mpmath.exp(sign * r[0]) for r in m]
                return [[x / mpmath.fsum(w)] for x in w]
            return [[mpmath.exp(sign * x) / mpmath.fsum(mpmath.exp(sign * y) for y in row) for x in row] for row in m]
        raise ValueError(e)


def _float_function(expr: sp.Expr) -> Callable[[Any], Any]:
    """``expr`` (in the symbol ``_X``) as a function of a float, evaluated with mpmath."""
    return lambda x: evaluate(expr, {_X: mpmath.mpf(x)})


_X = sp.Symbol("x", real=True)


@functools.cache
def _elementwise() -> dict[type, Callable[[Any], Any]]:
    """Element-wise written functions and their derivatives f'(A), from the gate table's rows (built
    when first needed, not at import)."""
    forms = {form: gate for form, gate in written_forms().items() if gate.elementwise is form}
    return {**{form: _float_function(gate.forward(_X)) for form, gate in forms.items()},
            **{prime(form): _float_function(sp.diff(gate.forward(_X), _X)) for form, gate in forms.items()}}


def _product(a: Any, b: Any) -> Any:
    if not isinstance(a, list) and not isinstance(b, list):
        return a * b
    if not isinstance(a, list):
        return [[a * x for x in row] for row in b]
    if not isinstance(b, list):
        return [[x * b for x in row] for row in a]
    if len(a[0]) != len(b):
        raise ValueError("shapes")
    return [[mpmath.fsum(a[i][k] * b[k][j] for k in range(len(b))) for j in range(len(b[0]))] for i in range(len(a))]


# --------------------------------------------------------------------------------------------
# Verdicts and diagnoses
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Diagnosis:
    """A likely slip, recomputed: its kind (one of :data:`DIAGNOSES`), what it is, and its value."""

    kind: str
    text: str
    value: Number
    own: bool = False  # recomputed from all of the student's values (a slip on top of a carried one)

    def says(self, whose: str = "your") -> str:
        """The diagnosis in words."""
        return self.text + (f", from {whose} own values" if self.own else "")


@dataclass(frozen=True)
class Line:
    """One checked number: the student's line, the verdict, and what it was compared with."""

    line: int
    name: str
    written: str
    verdict: str
    exact: str
    value: Number | None
    recomputed: Number | None = None
    follows: str | None = None
    follows_written: str | None = None
    diagnoses: tuple[Diagnosis, ...] = ()
    order: int = 0

    @property
    def mark(self) -> str:
        return MARKS[self.verdict]

    @property
    def ok(self) -> bool:
        return self.verdict in ("right", "rounded")


@dataclass(frozen=True)
class Report:
    """The check of one answer set: a line per number written, in the order of the solution."""

    model: str
    title: str
    lines: tuple[Line, ...]
    solution: Solution = field(repr=False)
    digits: int = 4

    @property
    def ok(self) -> bool:
        """True when every number checked is right (✓) or right from the student's values (≈)."""
        return all(line.ok for line in self.lines)

    @property
    def first_wrong(self) -> Line | None:
        """The first ✗ line in the order of the solution."""
        return next((line for line in self.lines if line.verdict == "wrong"), None)

    def following(self, wrong: Line) -> list[Line]:
        """The ↳ lines that follow from ``wrong``."""
        return [line for line in self.lines if line.verdict == "carried" and line.follows == wrong.name]

    def counts(self) -> dict[str, int]:
        return {kind: sum(1 for line in self.lines if line.verdict == kind) for kind in MARKS}

    def summary(self) -> str:
        c = self.counts()
        parts = [f"{len(self.lines)} checked: {c['right']} right, {c['rounded']} right from your own rounded "
                 f"values, {c['carried']} following from an earlier slip, {c['wrong']} wrong"]
        first = self.first_wrong
        if first is None:
            parts.append("No wrong step" if self.ok else "")
        else:
            after = self.following(first)
            parts.append(f"The first wrong step is {first.name} (line {first.line})" +
                         (f"; following from it: {', '.join(line.name for line in after)}" if after else ""))
        return ". ".join(p for p in parts if p) + "."

    def to_dict(self) -> dict[str, Any]:
        """Plain data (what ``--format json`` prints)."""
        first = self.first_wrong
        return {
            "model": self.model, "ok": self.ok, "counts": self.counts(),
            "first_wrong": None if first is None else {"name": first.name, "line": first.line,
                                                       "following": [x.name for x in self.following(first)]},
            "lines": [{"line": x.line, "name": x.name, "written": x.written, "verdict": x.verdict, "mark": x.mark,
                       "exact": x.exact, "float": None if x.value is None else float(x.value),
                       "recomputed": None if x.recomputed is None else float(x.recomputed),
                       "follows": x.follows,
                       "diagnoses": [{"kind": d.kind, "text": d.says(), "value": float(d.value)} for d in x.diagnoses]}
                      for x in self.lines],
            "summary": self.summary(),
        }

    def render(self, fmt: str = "text", *, color: bool = False, standalone: bool = False) -> str:
        """The report as ``text``, ``json``, ``html`` or ``latex`` (the last two: the worked
        solution with each checked line marked)."""
        if fmt == "text":
            return render_text(self, color=color)
        if fmt == "json":
            return json.dumps(self.to_dict(), ensure_ascii=False, indent=2) + "\n"
        if fmt == "html":
            return marked_solution(self).render("html", digits=self.digits)
        if fmt == "latex":
            return marked_solution(self).render("latex", digits=self.digits, standalone=standalone)
        raise SymderivError(f"check: unknown format {fmt!r}; expected one of {', '.join(CHECK_FORMATS)}")


CHECK_FORMATS = ("text", "json", "html", "latex")


def _fmt(x: Number | None, digits: int = 4) -> str:
    return "?" if x is None else format_float(x, digits)


def _digits_for(w: Written) -> int:
    """Enough significant digits to show a value beside what the student wrote."""
    sig = len(re.sub(r"[^0-9]", "", w.text.split("e")[0].split("E")[0]).lstrip("0"))
    return max(4, sig + 1)


class _Checker:
    def __init__(self, index: Index):
        self.index = index
        self.right = World(index)  # the student's right values; recomputed or exact otherwise
        self.own = World(index)  # all the student's values
        self.verdicts: dict[Quantity, str] = {}
        self.written: dict[Quantity, Written] = {}

    def run(self, given: dict[Quantity, tuple[Written, int]]) -> list[Line]:
        lines = []
        for q in self.index.quantities:
            used_right: set[Quantity] = set()
            used_own: set[Quantity] = set()
            r_right = self.right.recompute(q, used_right)
            r_own = self.own.recompute(q, used_own)
            taint = frozenset().union(*(self.own.taint.get(u, frozenset()) for u in used_own))
            if q not in given:
                self.right.values[q] = r_right if r_right is not None else q.value
                self.own.values[q] = r_own if r_own is not None else q.value
                self.own.taint[q] = taint if r_own is not None else frozenset()
                continue
            w, line_no = given[q]
            self.written[q] = w
            recomputed, follows = None, None
            if q.value is not None and w.matches(q.value):
                verdict = "right"
            elif r_right is not None and w.matches(r_right):
                verdict, recomputed = "rounded", r_right
            elif r_own is not None and taint and w.matches(r_own):
                verdict, recomputed = "carried", r_own
                follows = min(taint, key=lambda x: x.order)
            else:
                verdict = "wrong"
            diagnoses = self.diagnose(q, w, given) if verdict == "wrong" else ()
            self.verdicts[q] = verdict
            self.right.values[q] = w.float if verdict in ("right", "rounded") else (
                r_right if r_right is not None else q.value)
            self.own.values[q] = w.float
            self.own.taint[q] = frozenset() if verdict in ("right", "rounded") else (
                frozenset({q}) if verdict == "wrong" else taint)
            lines.append(Line(line_no, q.name, w.text, verdict, _exact_text(q, self.index.sol),
                              q.value, recomputed, follows.name if follows else None,
                              self.written[follows].text if follows else None, tuple(diagnoses), q.order))
        return lines

    # Each diagnosis recomputes a slip and keeps it only when the student's number matches it:
    # first from the student's right values, then from the exact values, then from all of the
    # student's values (a slip on top of a carried one).
    def diagnose(self, q: Quantity, w: Written, given: dict[Quantity, tuple[Written, int]]) -> list[Diagnosis]:
        for world in (self.right, World(self.index), self.own):
            found = self._diagnose(q, w, world, given)
            if found:
                return [dataclasses.replace(x, own=world is self.own) for x in found]
        return []

    def _diagnose(self, q: Quantity, w: Written, world: World,
                  given: dict[Quantity, tuple[Written, int]]) -> list[Diagnosis]:
        base = world.recompute(q, set())
        if base is None:
            base = q.value
        if base is None:
            return []
        cands: list[Diagnosis] = []
        d = _digits_for(w)

        def add(kind: str, what: str, value: Number | None) -> None:
            if value is None:
                return
            if q.value is not None and abs(value - q.value) <= _TINY * max(1, abs(q.value)):
                return  # the slip changes nothing here
            if w.matches(value, units=1) and not any(c.kind == kind for c in cands):
                cands.append(Diagnosis(kind, what, value))

        if base != 0:
            add("sign", f"the sign flipped: {_fmt(-base, d)}", -base)
            add("factor-2", f"off by a factor of 2 (the ½ of a squared loss?): 2·{_fmt(base, d)} = "
                f"{_fmt(2 * base, d)}", 2 * base)
            add("factor-2", f"off by a factor of 2 (the ½ of a squared loss?): {_fmt(base, d)}/2 = "
                f"{_fmt(base / 2, d)}", base / 2)
        if w.unit is not None:
            unit = mpmath.mpf(w.unit.p) / w.unit.q
            truncated = mpmath.sign(base) * mpmath.floor(abs(base) / unit + _TINY) * unit
            if w.matches(truncated) and not w.matches(base):
                add("truncated", f"cut off instead of rounded: {_fmt(base, d + 2)} rounds to "
                    f"{_rounded(base, unit, d)}, not {w.text}", truncated)
        for step, index in q.occurrences:
            if index is None and step.formula is not None:
                self._scalar_diagnoses(q, step, world, add, d)
            elif index is not None and step.formula is not None:
                self._matrix_diagnoses(q, step, index, world, add, d)
            exact = step.exact[index] if index is not None and step.exact is not None else step.exact
            if exact is not None and not isinstance(exact, sp.MatrixBase):
                self._exact_diagnoses(step, exact, world, add, d)
        if q.matrix is not None:
            self._swap_diagnoses(q, add, d, given)
        return cands

    def _exact_diagnoses(self, step: Step, exact: sp.Basic, world: World, add: Callable, d: int) -> None:
        sol = self.index.sol
        if _has(exact, sp.sin, sp.cos, sp.tan):
            v = world.scalar(_degrees(exact), step, set())
            add("degrees", f"degrees for radians: {text(_degrees(exact), sol.names)} ≈ {_fmt(v, d)}", v)
        if _has(exact, sp.exp) or exact.has(sp.E):
            v = world.scalar(_flip_exp(exact), step, set())
            add("exp-sign", f"e^(−x) for e^x: {text(_flip_exp(exact), sol.names)} ≈ {_fmt(v, d)}", v)

    def _scalar_diagnoses(self, q: Quantity, step: Step, world: World, add: Callable, d: int) -> None:
        sol, f = self.index.sol, step.formula
        used: set[Quantity] = set()

        def show(e: sp.Basic) -> str:
            return text(e, sol.names)

        def value(e: sp.Basic) -> Number | None:
            return world.scalar(e, step, used, avoid=q)

        if _has(f, sp.sin, sp.cos, sp.tan):
            v = value(_degrees(f))
            add("degrees", f"degrees for radians: {show(_degrees(f))} ≈ {_fmt(v, d)}", v)
        if _has(f, *_with_exp()):
            v = value(_flip_exp(_as_value(f)))
            add("exp-sign", f"e^(−x) for e^x: {_fmt(v, d)}", v)
        backward = "backward" in self.index.kinds.get(q, ())
        if isinstance(f, sp.Mul) and len(f.args) >= 2 and _sigmoid_of(f) is None:
            for factor in f.args:
                rest = sp.Mul(*[a for a in f.args if a is not factor], evaluate=False)
                v = value(rest)
                fq = self.index.of_symbol.get(factor)
                if backward and fq is not None and "backward" in self.index.kinds.get(fq, ()):
                    add("missing-factor", f"the upstream factor {show(factor)} left out (the local derivative "
                        f"{show(rest)} ≈ {_fmt(v, d)} reported as the gradient)", v)
                else:
                    add("missing-factor", f"the factor {show(factor)} left out: {show(rest)} ≈ {_fmt(v, d)}", v)
            if len(f.args) == 2 and all(a.is_Symbol or a.is_number for a in f.args):
                v = value(sp.Add(*f.args))
                add("operation", f"added instead of multiplied: {show(sp.Add(*f.args, evaluate=False))} = "
                    f"{_fmt(v, d)}", v)
        for sym in f.free_symbols:  # σ for σ(1−σ): a local derivative a·(1 − a) this step uses
            sq = self.index.of_symbol.get(sym)
            for s2, idx in (sq.occurrences if sq is not None else ()):
                a = _sigmoid_of(s2.formula) if idx is None and s2.formula is not None else None
                if a is not None:
                    g = f.xreplace({sym: a})
                    v = value(g)
                    add("sigmoid-derivative", f"σ for σ(1−σ): {show(sym)} taken as {show(a)}: {_fmt(v, d)}", v)
        a = _sigmoid_of(f)
        if a is not None:
            v = value(a)
            add("sigmoid-derivative", f"σ for σ(1−σ): {show(a)} ≈ {_fmt(v, d)}", v)
        if isinstance(f, sp.Add) and len(f.args) >= 2:
            terms = [(show(t), value(t)) for t in f.args]
            self._term_diagnoses(terms, value(f), backward, add, d)
            if len(f.args) == 2 and all(a.is_Symbol or a.is_number for a in f.args):
                v = value(sp.Mul(*f.args))
                add("operation", f"multiplied instead of added: {show(sp.Mul(*f.args, evaluate=False))} = "
                    f"{_fmt(v, d)}", v)
        if len(f.args) == 1 and isinstance(f, _activations(matrix=False)) \
                and not f.args[0].is_number:
            v = value(f.args[0])
            add("activation", f"the activation not applied: {show(f.args[0])} ≈ {_fmt(v, d)}", v)

    @staticmethod
    def _term_diagnoses(terms: list[tuple[str, Number | None]], total: Number | None, backward: bool,
                        add: Callable, d: int) -> None:
        """A slip in one term of a written-out sum: left out, its sign flipped, its decimal point
        moved; and, in a backward step, a fan-out gradient not summed (one term alone)."""
        if total is None or any(t is None for _, t in terms):
            return
        for name, t in terms:
            if backward:
                add("fan-out", f"a fan-out gradient not summed: only the term {name} ≈ {_fmt(t, d)}", t)
            if t == 0:
                continue
            if not backward:  # in a backward sum, one term left out is a fan-out not summed
                add("term", f"the term {name} ≈ {_fmt(t, d)} left out: {_fmt(total - t, d)}", total - t)
            add("term", f"the term {name} ≈ {_fmt(t, d)} with the wrong sign: {_fmt(total - 2 * t, d)}",
                total - 2 * t)
            for shift in (10, mpmath.mpf(1) / 10):
                add("term", f"the term {name} ≈ {_fmt(t, d)} written as {_fmt(t * shift, d)}: "
                    f"{_fmt(total - t + t * shift, d)}", total - t + t * shift)

    def _matrix_diagnoses(self, q: Quantity, step: Step, index: tuple[int, int], world: World,
                          add: Callable, d: int) -> None:
        sol, f = self.index.sol, step.formula
        if q.matrix is not None and q.matrix.symbol in f.free_symbols:
            return
        i, j = index
        if _has(f, exp_, softmax_):
            m = world.matrix(f, set(), flip_exp=True)
            if m is not None:
                add("exp-sign", f"e^(−x) for e^x in {text(f, sol.names)}: {_fmt(m[i][j], d)}", m[i][j])
        backward = "backward" in self.index.kinds.get(q, ())
        if isinstance(f, sp.MatAdd) and backward:
            for term in f.args:
                m = world.matrix(term, set())
                if m is not None:
                    add("fan-out", f"a fan-out gradient not summed: only the term {text(term, sol.names)} = "
                        f"{_fmt(m[i][j], d)}", m[i][j])
        if isinstance(f, sp.MatMul) and len(f.args) == 2:
            grids = [self._named_grid(a, world) for a in f.args]
            if all(g is not None for g in grids):
                (na, va), (nb, vb) = grids
                terms = [(f"{na[i][k]}·{nb[k][j]}", va[i][k] * vb[k][j]) for k in range(len(vb))]
                self._term_diagnoses(terms, mpmath.fsum(t for _, t in terms), False, add, d)
        if len(f.args) == 1 and isinstance(f, _activations(matrix=True)):
            m = world.matrix(f.args[0], set())
            if m is not None:
                add("activation", f"the activation not applied: {text(f.args[0], sol.names)} entry "
                    f"{i + 1} ≈ {_fmt(m[i][j], d)}", m[i][j])

    def _named_grid(self, e: sp.Basic, world: World) -> tuple[list[list[str]], list[list[Number]]] | None:
        """The entry names and values of a matrix symbol (or its transpose)."""
        transpose = isinstance(e, sp.Transpose)
        info = self.index.matrix_of_symbol.get(e.arg if transpose else e)
        if info is None:
            return None
        names = [[x.name for x in row] for row in info.entries]
        values = [[world.of(x) for x in row] for row in info.entries]
        if any(v is None for row in values for v in row):
            return None
        if transpose:
            names, values = [list(r) for r in zip(*names)], [list(r) for r in zip(*values)]
        return names, values

    def _swap_diagnoses(self, q: Quantity, add: Callable, d: int,
                        given: dict[Quantity, tuple[Written, int]]) -> None:
        info = q.matrix
        i, j = q.index
        for k, row in enumerate(info.entries):
            for l, other in enumerate(row):
                if other is q or other.value is None:
                    continue
                if (k, l) == (j, i) and _transposed(info, given):
                    add("transposed", f"{info.name} transposed: this is entry {k + 1},{l + 1}, "
                        f"{_fmt(other.value, d)}", other.value)
                    continue
                back = given.get(other)
                both = back is not None and q.value is not None and back[0].matches(q.value, units=1)
                add("swapped", f"{q.name} and {other.name} swapped: {other.name} ≈ {_fmt(other.value, d)}"
                    + (f", and your {other.name} = {back[0].text} is {q.name}" if both else ""), other.value)


def _transposed(info: MatrixInfo, given: Mapping[Quantity, tuple[Written, int]]) -> bool:
    """Whether the student's entries of a square matrix are its transpose (and not all symmetric)."""
    rows, cols = info.shape
    if rows != cols or rows < 2:
        return False
    asym = False
    for i in range(rows):
        for j in range(cols):
            q = info.entries[i][j]
            if q not in given:
                return False
            t = info.entries[j][i].value
            if t is None or not given[q][0].matches(t, units=1):
                return False
            asym = asym or (q.value is not None and not given[q][0].matches(q.value))
    return asym


def _sigmoid_of(f: sp.Basic) -> sp.Basic | None:
    """a when f is a·(1 − a) (the sigmoid's derivative written with its output)."""
    if isinstance(f, sp.Mul) and len(f.args) == 2:
        for a, b in (f.args, f.args[::-1]):
            if sp.simplify(b - (1 - a)) == 0 and not a.is_number:
                return a
    return None


def _rounded(x: Number, unit: Number, digits: int) -> str:
    """x rounded to ``unit`` (a power of ten), with the places the student wrote."""
    places = max(0, -int(mpmath.nint(mpmath.log10(unit))))
    return f"{float(mpmath.nint(x / unit) * unit):.{places}f}" if places < 15 else format_float(x, digits)


def _exact_text(q: Quantity, sol: Solution) -> str:
    if q.exact is None:
        return "?"
    s = text(q.exact, sol.names)
    return s if len(s) <= 80 else s[:77] + "…"


# --------------------------------------------------------------------------------------------
# The entry points
# --------------------------------------------------------------------------------------------

def check(model: str | Solution, answers: str | Mapping[str, Any], *, digits: int = 4, **params: Any) -> Report:
    """Check a student's answers (the text of an answers file, or a mapping name → value) against
    the exact solution of ``model`` (a model id, with ``params``, or a Solution)."""
    sol = model if isinstance(model, Solution) else get_model(model).solve(**params)
    with mpmath.workdps(WORKING_DIGITS):
        return _check(sol, answers, digits)


#: Significant digits of every comparison (the solution's floats have 50).
WORKING_DIGITS = 60


def _check(sol: Solution, answers: str | Mapping[str, Any], digits: int) -> Report:
    index = Index(sol)
    given: dict[Quantity, tuple[Written, int]] = {}
    first_line: dict[Quantity, int] = {}

    def put(q: Quantity, w: Written, a: Answer) -> None:
        if q in given:
            raise AnswerError(f"line {a.line}: {q.name} is given twice (first on line {first_line[q]})")
        given[q], first_line[q] = (w, a.line), a.line

    for a in parse_answers(answers):
        where = f"line {a.line}: {a.name}"
        q, info = index.find(a.name, f"line {a.line}: ")
        if info is not None:
            grid = _read_matrix(a.value, where)
            rows, cols = info.shape
            shape = (len(grid), len(grid[0]))
            if shape != (rows, cols) and not (shape == (cols, rows) and 1 in shape):
                raise AnswerError(f"{where} is {rows}x{cols}, but the value given is {shape[0]}x{shape[1]}")
            flat = [w for row in grid for w in row]
            for k, w in enumerate(flat):
                put(info.entries[k // cols][k % cols], w, a)
        else:
            if a.value.lstrip().startswith("["):
                raise AnswerError(f"{where} is a number, not a matrix")
            put(q, read_number(a.value, where), a)
    lines = _Checker(index).run(given)
    return Report(sol.model, sol.title, tuple(sorted(lines, key=lambda x: (x.order, x.line))), sol, digits)


def notes_answers(model: str) -> str | None:
    """The lecture notes' own numbers for ``model`` (shipped with the package), or None."""
    get_model(model)
    path = resources.files("symderiv") / "notes" / f"{model}.txt"
    return path.read_text(encoding="utf-8") if path.is_file() else None


def check_notes(model: str, **params: Any) -> Report | None:
    """The notes' working for ``model`` checked against the exact solution (None: no numbers)."""
    text_ = notes_answers(model)
    return None if text_ is None else check(model, text_, **params)


def _slip_parts(line: Line) -> tuple[str, str]:
    """What a ✗ or ↳ line's value is (exact and float) and the likely slip, in words."""
    value = line.exact
    if line.value is not None and len(line.exact) > 40:
        value = f"≈ {format_float(line.value, 4)}"
    elif line.value is not None and line.exact != format_float(line.value, 4):
        value += f" ≈ {format_float(line.value, 4)}"
    if line.verdict == "carried":
        return value, (f"follows from the earlier slip in {line.follows} (written {line.follows_written}): "
                       f"{_fmt(line.recomputed, 4)} from the notes' own values")
    if line.diagnoses:
        return value, "; or ".join(dg.says("the notes'") for dg in line.diagnoses)
    return value, "none of the usual slips"


def slip_text(line: Line) -> str:
    """One ✗ or ↳ line in words: what was written, what it is, and the likely slip."""
    value, why = _slip_parts(line)
    return f"{line.name} = {line.written} is {value} ({why})"


def errata_lines(model: str) -> list[str]:
    """Each place the notes' printed numbers differ from the exact values, in words (empty when
    they agree or print none): what :func:`write_errata_files` ships for the default solutions."""
    report = check_notes(model)
    if report is None:
        return []
    return [f"{x.name}: the notes write {x.written}; it is {value} ({why})"
            for x in report.lines if not x.ok for value, why in [_slip_parts(x)]]


def write_errata_files() -> list[str]:
    """Write ``symderiv/notes/errata/MODEL.txt`` (a slip a line) for every model whose notes
    differ: the default solution ends with them (:mod:`symderiv.models.registry`). Returns the
    models written."""
    folder = pathlib.Path(__file__).parent / "notes" / "errata"
    folder.mkdir(exist_ok=True)
    written = []
    for model in MODELS:
        path = folder / f"{model}.txt"
        lines = errata_lines(model)
        if lines:
            path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
            written.append(model)
        elif path.exists():
            path.unlink()
    return written


def errata(model: str) -> Remark | None:
    """A remark listing where the notes' printed numbers differ from the exact values, and why
    (generated by checking the notes' answers file); None when the notes agree or give none."""
    report = check_notes(model)
    if report is None:
        return None
    slips = [line for line in report.lines if not line.ok]
    if not slips:
        return None
    return Remark(("Where the notes differ: " + "; ".join(slip_text(x) for x in slips) + ".",))


# --------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------

_COLORS = {"right": "32", "rounded": "32", "carried": "33", "wrong": "31"}


def line_text(line: Line) -> str:
    """What a line's mark says beside the number."""
    if line.verdict == "right":
        return f"{line.name} = {line.written}: right ({_exact_short(line)})"
    if line.verdict == "rounded":
        return (f"{line.name} = {line.written}: right from your own rounded values ({_fmt(line.recomputed, 6)} "
                f"from them; exactly {_exact_short(line)})")
    if line.verdict == "carried":
        return (f"{line.name} = {line.written}: follows from your {line.follows} = {line.follows_written} "
                f"({_fmt(line.recomputed, 6)} from your values; exactly {_exact_short(line)})")
    slips = "; or ".join(d.says() for d in line.diagnoses) if line.diagnoses else "it is none of the usual slips"
    return f"{line.name} = {line.written}: wrong, the exact value is {_exact_short(line)}; {slips}"


def _exact_short(line: Line) -> str:
    f = _fmt(line.value, 6)
    return line.exact if line.exact == f or line.value is None else f"{line.exact} ≈ {f}"


def render_text(report: Report, color: bool = False) -> str:
    """The report as lines of text: a mark and a sentence per number, then the summary."""
    out = [f"Check of {report.model}: {report.title}", ""]
    for line in report.lines:
        mark = line.mark
        if color:
            mark = f"\033[{_COLORS[line.verdict]}m{mark}\033[0m"
        out.append(f"{mark} line {line.line}: {line_text(line)}")
    out += ["", report.summary()]
    return "\n".join(out) + "\n"


def marked_solution(report: Report) -> Solution:
    """The worked solution with each checked step's note saying what the student wrote and its
    verdict, and a first section with the summary: what html and latex show."""
    by_name: dict[str, list[Line]] = {}
    for line in report.lines:
        by_name.setdefault(line.name, []).append(line)
    index = Index(report.solution)
    marks: dict[int, list[Line]] = {}
    for q in index.quantities:
        for line in by_name.get(q.name, ()):
            step, _ = q.occurrences[0]
            marks.setdefault(id(step), []).append(line)
    sections = [Section("check", "Your answers, checked",
                        tuple(Remark((f"{line.mark} {line_text(line)}",)) for line in report.lines)
                        + (Remark((report.summary(),)),))]
    for section in report.solution.sections:
        items = []
        for item in section.items:
            if isinstance(item, Step) and id(item) in marks:
                extra = "; ".join(f"{x.mark} you wrote {x.name} = {x.written}" +
                                  ("" if x.ok else f" ({WORDS[x.verdict]})") for x in marks[id(item)])
                item = dataclasses.replace(item, note=(*item.note, "; " if item.note else "", extra))
            items.append(item)
        sections.append(Section(section.kind, section.title, tuple(items)))
    return dataclasses.replace(report.solution, sections=tuple(sections))


def errata_page() -> str:
    """The docs page "Errata of the notes", generated from the notes' answer files."""
    out = ["# Errata of the notes", "",
           "Generated by `python3 -m symderiv.errata > docs/errata.md` from the notes' own numbers",
           "(`symderiv/notes/MODEL.txt`), checked with `symderiv check MODEL --notes`: every printed",
           "number of the notes that differs from the exact value, with the likely slip where one is found",
           "(each recomputed). ✗ is a slip; ↳ a number that follows from an earlier slip.", ""]
    for model in MODELS:
        report = check_notes(model)
        if report is None:
            continue
        slips = [x for x in report.lines if not x.ok]
        c = report.counts()
        out.append(f"## `{model}`")
        out.append("")
        out.append(f"{len(report.lines)} numbers of the notes checked: {c['right']} right, {c['rounded']} right "
                   f"from the notes' own rounded values, {c['carried']} following from an earlier slip, "
                   f"{c['wrong']} wrong.")
        out.append("")
        for x in slips:
            out.append(f"- {x.mark} {slip_text(x)}".replace("*", r"\*"))
        if slips:
            out.append("")
    return "\n".join(out)
