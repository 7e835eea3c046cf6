"""Reading a student's answers: the file's bytes as text, its lines ``NAME = VALUE``, and each
number as written (the digits it claims). A line that cannot be read is kept as :class:`Unread`
with what to write instead; the other lines are still checked."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO

import mpmath
import sympy as sp

from ..errors import ParameterError
from ..values import parse_value, read_lists

#: An answers file is read up to this many bytes (a longer one is refused whole, up front).
MAX_ANSWER_BYTES = 1_000_000
MAX_LINE_CHARS = 20_000
#: Numbers in one answer set, matrix entries counted (each is checked against the solution).
MAX_ANSWER_NUMBERS = 20_000
#: A written exponent beyond this (``1e500``, ``0.e100000000``) is no value of a worked solution.
MAX_EXPONENT = 400

Number = mpmath.mpf
_TINY = mpmath.mpf(10) ** -40


class AnswerError(ParameterError):
    """An answers file (or mapping) that cannot be checked: an unknown name, a value that is not a
    number, a matrix of the wrong shape, a name given twice."""


class DuplicateAnswer(AnswerError):
    """A value given twice (which one counts is not for the checker to guess): the whole input is refused."""


# ----------------------------------------------------------------------------- the file's text

def decode(data: bytes, where: str = "answers") -> str:
    """The text of an answers file: UTF-8 (with or without a byte-order mark), UTF-16 (with a
    byte-order mark, or detected by its zero bytes), else Latin-1 (every byte a character)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise AnswerError(f"{where}: starts as UTF-16 but is not; save it as UTF-8") from None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    even, odd = data[0::2], data[1::2]
    if data and (odd.count(0) > len(odd) // 2 or even.count(0) > len(even) // 2):
        try:
            return data.decode("utf-16-le" if odd.count(0) > even.count(0) else "utf-16-be")
        except UnicodeDecodeError:
            raise AnswerError(f"{where}: has zero bytes but is not UTF-16; save it as UTF-8") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def read_answers(stream: BinaryIO, where: str = "answers") -> str:
    """An answers file's text, read at most :data:`MAX_ANSWER_BYTES` + 1 bytes (longer: refused)."""
    data = stream.read(MAX_ANSWER_BYTES + 1)
    if len(data) > MAX_ANSWER_BYTES:
        raise AnswerError(f"{where}: longer than {MAX_ANSWER_BYTES:,} bytes (the limit of an answers file)")
    return decode(data, where)


# ----------------------------------------------------------------------------- one number

_TIMES_TEN = re.compile(r"\s*(?:\\times|×|\*|x)\s*10\s*\^\s*\{?\s*([+-−]?\d+)\s*\}?\s*$")
_NUMBER_TOKEN = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?(?:/\d+)?")
_FRAC = re.compile(r"\\[dt]?frac\s*\{\s*([+-]?\d+)\s*\}\s*\{\s*(\d+)\s*\}")


@dataclass(frozen=True)
class Written:
    """A number as the student wrote it: its exact value and the unit of its last written digit
    (None when it claims the exact value: a whole number or a fraction)."""

    text: str
    value: sp.Rational
    unit: sp.Rational | None

    @property
    def float(self) -> Number:
        return mpmath.mpf(self.value.p) / self.value.q

    @property
    def digits(self) -> int | None:
        """Its significant digits (None for a whole number, a fraction or zero)."""
        if self.unit is None or self.value == 0:
            return None
        return max(1, int(mpmath.floor(mpmath.log10(abs(self.float)))) - _exponent(self.unit) + 1)

    def claiming(self, digits: int) -> Written:
        """The same number read to ``digits`` significant digits (``0.5`` in a set written to 4: 0.5000)."""
        own = self.digits
        if own is None or own >= digits:
            return self
        return Written(self.text, self.value, self.unit / sp.Integer(10) ** (digits - own))

    def matches(self, x: Number, units: int = 0, radius: Number = 0) -> bool:
        """Whether ``x`` is what was written: within half a unit of the last digit (``units`` whole
        units instead), widened by ``radius`` (the spread of a value recomputed from rounded ones),
        or exactly for a whole number or fraction."""
        v = self.float
        if self.unit is None:
            return abs(v - x) <= _TINY * max(1, abs(x)) + radius
        tol = (mpmath.mpf(self.unit.p) / self.unit.q) * (mpmath.mpf(units) if units else mpmath.mpf(1) / 2)
        return abs(v - x) <= (tol + radius) * (1 + _TINY) + _TINY


def _exponent(unit: sp.Rational) -> int:
    """The power of ten a unit is."""
    return int(mpmath.nint(mpmath.log10(mpmath.mpf(unit.p) / unit.q)))


def read_number(token: str, where: str) -> Written:
    """One number as a student writes it (``-0.53``, ``5.23e-5``, ``5.23 × 10^{-5}``, ``1/3``,
    ``\\frac{1}{3}``, ``−4``): never evaluated."""
    s = token.strip().strip("$").strip().replace("−", "-").replace("–", "-").replace("{,}", ".")
    s = _FRAC.sub(r"\1/\2", s).replace(" ", "")
    m = _TIMES_TEN.search(s)
    if m:
        s = s[:m.start()] + "e" + m.group(1).replace("−", "-")
    if not _NUMBER_TOKEN.fullmatch(s):
        raise AnswerError(f"{where}: {token.strip()[:40]!r} is not a number (write -0.53, 5.23e-5 or 1/3)")
    mantissa = s.split("/")[0].lower()
    digits, _, exponent = mantissa.partition("e")
    if exponent and len(exponent.lstrip("+-").lstrip("0")) > 3 or exponent and abs(int(exponent)) > MAX_EXPONENT:
        raise AnswerError(f"{where}: {token.strip()[:20]!r}: an exponent beyond ±{MAX_EXPONENT} is no value "
                          "of a worked solution")
    value = parse_value(s, where)
    if "." not in digits or "/" in s:
        return Written(s, value, None)
    places = len(digits.split(".")[1])
    return Written(s, value, sp.Rational(10) ** (int(exponent or 0) - places))


def read_grid(text_: str, where: str) -> list[list[Written]] | Written:
    """A number, or nested lists of numbers: ``[[1, 2], [3, 4]]``, ``[1, 2, 3]`` (a vector: one
    column), ``\\begin{bmatrix} 1 & 2 \\\\ 3 & 4 \\end{bmatrix}``."""
    s = text_.strip().strip("$").strip()
    latex = re.fullmatch(r"\\begin\{[bp]?matrix\}(.*)\\end\{[bp]?matrix\}", s, re.DOTALL)
    if latex:
        s = "[" + ", ".join("[" + row.replace("&", ",") + "]" for row in latex.group(1).split(r"\\")
                            if row.strip()) + "]"
    if not s.startswith("["):
        return read_number(s, where)

    def fail(expected: str = "", at: int = 0) -> AnswerError:
        return AnswerError(f"{where}: {s[:60]!r} is not a number or a list of numbers like [[1, 2], [3, 4]]")

    def number(at: int) -> tuple[Any, int]:
        m = re.compile(r"[^,\]\[]+").match(s, at)
        if not m:
            raise fail()
        return read_number(m.group(0).rstrip(), where), m.end()

    value = read_lists(s, number, fail, fail, 2)
    if all(isinstance(v, Written) for v in value):
        return [[v] for v in value]  # a flat list: a vector
    if not all(isinstance(v, list) and all(isinstance(x, Written) for x in v) for v in value) or \
            len({len(v) for v in value}) != 1:
        raise AnswerError(f"{where}: a matrix must be a list of rows of equal length, like [[1, 2], [3, 4]]")
    return value


# ----------------------------------------------------------------------------- the lines

@dataclass(frozen=True)
class Answer:
    """One line of the student's working: its line number, the name as written, the value text
    (the last of a written-out chain ``q = x + y = 1.1``), and the earlier numbers of the chain."""

    line: int
    name: str
    value: str
    working: tuple[str, ...] = ()


@dataclass(frozen=True)
class Unread:
    """A line that could not be read: its number, its text, and what to write instead."""

    line: int
    text: str
    message: str


#: How a name is separated from its value: ``=``, ``:=``, ``≈``, ``:``.
_SEPARATOR = re.compile(r"\s*(?::=|=|≈|≃|:)\s*")


def split_line(line: str) -> tuple[str, str, tuple[str, ...]] | None:
    """``NAME = VALUE`` as (name, the last value, the earlier numbers of a written-out chain)."""
    line = line.strip()
    if line.startswith("$") and line.endswith("$") and len(line) > 1:
        line = line.strip("$").strip()
    m = _SEPARATOR.search(line)
    if not m or not line[:m.start()].strip():
        return None
    name, rest = line[:m.start()].strip(), line[m.end():]
    parts = [p.strip() for p in re.split(r"(?<![<>!])=|≈|≃", rest)]
    parts = [p.lstrip(":").strip() for p in parts]
    if not parts[-1]:
        return None
    earlier = tuple(p for p in parts[:-1] if _NUMBER_TOKEN.fullmatch(p.replace("−", "-").replace(" ", "")))
    return name, parts[-1], earlier


def parse_answers(source: str | Mapping[str, Any]) -> tuple[list[Answer], list[Unread]]:
    """The lines ``NAME = VALUE`` of an answers file (or a mapping of name to value), and the
    lines that could not be read."""
    if isinstance(source, Mapping):
        return [Answer(i + 1, str(k), _value_text(v)) for i, (k, v) in enumerate(source.items())], []
    if len(source) > MAX_ANSWER_BYTES:
        raise AnswerError(f"answers: longer than {MAX_ANSWER_BYTES:,} characters (the limit of an answers file)")
    out: list[Answer] = []
    unread: list[Unread] = []
    for number, raw in enumerate(source.lstrip("\ufeff").splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if line.startswith(("%", "//")):
            continue
        if not line:
            continue
        if len(line) > MAX_LINE_CHARS:
            unread.append(Unread(number, line[:40], f"line {number}: longer than {MAX_LINE_CHARS:,} characters"))
            continue
        parts = split_line(line)
        if parts is None:
            unread.append(Unread(number, line[:40], f"line {number}: expected NAME = VALUE, like 'f6 = 0.3679', "
                                                    f"got {line[:40]!r}"))
            continue
        out.append(Answer(number, *parts))
    return out, unread


def _value_text(v: Any) -> str:
    """A value given through the API as text: a number, an exact int or a nested list."""
    if isinstance(v, bool):
        raise AnswerError(f"{v!r} is not a number")
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value_text(x) for x in v) + "]"
    return str(v)
