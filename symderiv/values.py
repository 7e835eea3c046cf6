"""Exact values from user input: numbers and nested lists, parsed (never evaluated).

``parse_value("[[0.5, -1/3], [2, 1e-2]]")`` gives nested lists of SymPy Rationals; Python numbers
go through :func:`to_exact`, which reads a float by its shortest decimal form (``0.1`` is 1/10).
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from typing import Any

import sympy as sp

from .errors import ParameterError

_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?(/\d+)?")
MAX_TEXT = 100_000
MAX_DEPTH = 8
#: A number may have this many digits and a decimal exponent of at most this size (like a double's).
MAX_DIGITS = 100
MAX_EXPONENT = 308


def whole_number(text: str, low: int, high: int) -> int | None:
    """``text`` as a whole number from ``low`` to ``high`` (ASCII digits, at most 12), else None."""
    if re.fullmatch(r"\s*[0-9]{1,12}\s*", text) and low <= int(text) <= high:
        return int(text)
    return None


def _number(token: str, name: str) -> sp.Rational:
    mantissa, _, denominator = token.partition("/")
    digits, _, exponent = mantissa.lower().partition("e")
    if sum(c.isdigit() for c in digits) > MAX_DIGITS or len(denominator) > MAX_DIGITS:
        raise ParameterError(f"{name}: {token[:20]!r}... has more than {MAX_DIGITS} digits")
    magnitude = exponent.lstrip("+-").lstrip("0")
    if len(magnitude) > 3 or (magnitude and int(magnitude) > MAX_EXPONENT):
        shown = token if len(token) <= 20 else token[:17] + "…"
        raise ParameterError(f"{name}: {shown!r}: the exponent is beyond ±{MAX_EXPONENT}")
    if magnitude != exponent.lstrip("+-"):  # leading zeros: read the exponent without them
        mantissa = f"{digits}e{exponent[0] if exponent[0] in '+-' else ''}{magnitude or 0}"
    value = Fraction(mantissa)
    if denominator:
        if int(denominator) == 0:
            raise ParameterError(f"{name}: division by zero in {token!r}")
        value /= int(denominator)
    return sp.Rational(value.numerator, value.denominator)


def parse_value(text: str, name: str = "value") -> Any:
    """Parse a number (``-2``, ``0.5``, ``1/3``, ``1e-3``) or a nested list of them.

    Returns a SymPy Rational or nested Python lists of Rationals. Raises ParameterError.
    """
    if len(text) > MAX_TEXT:
        raise ParameterError(f"{name}: value is longer than {MAX_TEXT} characters")
    pos = 0
    s = text.strip()

    def fail(expected: str) -> ParameterError:
        shown = s[pos:pos + 12] or "end of input"
        return ParameterError(
            f"{name}: expected {expected} at position {pos + 1} of {text.strip()!r}, found {shown!r}")

    def skip() -> None:
        nonlocal pos
        while pos < len(s) and s[pos] in " \t":
            pos += 1

    def item(depth: int) -> Any:
        nonlocal pos
        skip()
        if pos < len(s) and s[pos] == "[":
            if depth >= MAX_DEPTH:
                raise ParameterError(f"{name}: lists nested deeper than {MAX_DEPTH} levels")
            pos += 1
            out: list[Any] = []
            skip()
            if pos < len(s) and s[pos] == "]":
                raise fail("a number or '['")
            while True:
                out.append(item(depth + 1))
                skip()
                if pos < len(s) and s[pos] == ",":
                    pos += 1
                    continue
                if pos < len(s) and s[pos] == "]":
                    pos += 1
                    return out
                raise fail("',' or ']'")
        m = _NUMBER.match(s, pos)
        if not m:
            low = s[pos:].lower()
            if low.startswith(("nan", "inf", "+inf", "-inf", "infinity")):
                raise ParameterError(f"{name}: {s!r} is not finite; give a finite number")
            raise fail("a number (like -2, 0.5, 1/3) or a list '[...]'")
        pos = m.end()
        return _number(m.group(0), name)

    value = item(0)
    skip()
    if pos != len(s):
        raise fail("end of input")
    return value


def to_exact(value: Any, name: str = "value") -> Any:
    """Convert a Python/SymPy number or nested list/tuple of them to exact SymPy values.

    Floats are read by their shortest decimal representation (0.1 -> 1/10); strings are parsed
    with :func:`parse_value`. Non-finite numbers raise ParameterError.
    """
    if isinstance(value, str):
        return parse_value(value, name)
    if isinstance(value, (list, tuple)):
        if not value:
            raise ParameterError(f"{name}: empty list")
        return [to_exact(v, name) for v in value]
    if isinstance(value, bool):
        raise ParameterError(f"{name}: expected a number, got {value!r}")
    if isinstance(value, int):
        return sp.Integer(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ParameterError(f"{name}: {value!r} is not finite; give a finite number")
        return _number(repr(value), name)
    if isinstance(value, Fraction):
        return sp.Rational(value.numerator, value.denominator)
    if hasattr(value, "tolist") and not isinstance(value, sp.Basic):  # numpy / torch
        return to_exact(value.tolist(), name)
    if isinstance(value, sp.Basic):
        if isinstance(value, sp.Float):
            return _number(str(value), name)
        if isinstance(value, sp.MatrixBase):
            return to_exact(value.tolist(), name)
        if value.has(sp.zoo, sp.oo, -sp.oo, sp.nan):
            raise ParameterError(f"{name}: {value} is not finite")
        return value
    raise ParameterError(f"{name}: expected a number or a list of numbers, got {type(value).__name__}")


def shape_of(value: Any, name: str = "value") -> tuple[int, ...]:
    """Shape of a nested list (``()`` for a scalar). Ragged lists raise ParameterError."""
    if not isinstance(value, list):
        return ()
    shapes = {shape_of(v, name) for v in value}
    if len(shapes) != 1:
        raise ParameterError(f"{name}: ragged list: its rows have different lengths or depths")
    return (len(value), *shapes.pop())


def format_shape(shape: tuple[int, ...]) -> str:
    """``(2, 3)`` -> ``'2x3'``; ``()`` -> ``'scalar'``."""
    return "x".join(map(str, shape)) if shape else "scalar"
