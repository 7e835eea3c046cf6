"""Exact values from user input: numbers and nested lists, parsed (never evaluated).

``parse_value("[[0.5, -1/3], [2, 1e-2]]")`` gives nested lists of SymPy Rationals; Python numbers
go through :func:`to_exact`, which reads a float by its shortest decimal form (``0.1`` is 1/10).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import mpmath
import sympy as sp

from .errors import GraphError, ParameterError

_NUMBER = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?(/[0-9]+)?")  # ASCII digits only
MAX_TEXT = 100_000
MAX_DEPTH = 8
#: A number as written may have this many digits (of its mantissa, and of its denominator).
MAX_DIGITS = 100
#: A written number's magnitude must be one a double holds: 0, or one that a double rounds to a
#: finite nonzero number (from the smallest subnormal, 2^-1074 ≈ 4.9e-324, to about 1.8e308).
#: Every exact rational (an input, a folded number, a gate's value) may have at most this many
#: decimal digits in its numerator and in its denominator: Python prints at most 4,300.
MAX_EXACT_DIGITS = 4_000
#: An exact power of a rational (other than 0 and ±1) may have an exponent of at most this size.
MAX_EXACT_EXPONENT = 10_000
_LOG10_2 = math.log10(2)


def shorten(text: str, limit: int = 60) -> str:
    """``text`` whole when it has at most ``limit`` characters, else its start and "…"."""
    return text if len(text) <= limit else text[:limit - 1] + "…"


def quote(text: str, limit: int = 60) -> str:
    """``text`` quoted for an error message: whole when short, else its start, quoted, and "…"."""
    return repr(text) if len(text) <= limit else repr(text[:limit - 3]) + "…"


def digits_of(n: int) -> int:
    """The number of decimal digits of ``abs(n)`` (1 for 0), without converting it to text."""
    n = abs(n)
    estimate = int(n.bit_length() * _LOG10_2)  # the true count is this or one more
    return estimate + (n >= 10 ** estimate) if n else 1


def _too_long(value: sp.Basic) -> str | None:
    """How many digits the first rational of ``value`` over :data:`MAX_EXACT_DIGITS` has, or None."""
    for e in sp.preorder_traversal(value):
        if not e.is_Rational:
            continue
        widest = max(abs(e.p), e.q)
        if widest.bit_length() * _LOG10_2 < MAX_EXACT_DIGITS:  # fewer digits than the limit, surely
            continue
        if widest.bit_length() > 10**6:  # counted exactly below that; approximately above
            return f"about {int(widest.bit_length() * _LOG10_2) + 1:,}"
        if (digits := digits_of(widest)) > MAX_EXACT_DIGITS:
            return f"{digits:,}"
    return None


def exact_size_refusal(value: sp.Basic) -> str | None:
    """Why the exact ``value`` is too large to keep (a rational in it has more than
    :data:`MAX_EXACT_DIGITS` digits above or below its fraction bar), or None when it is not."""
    count = _too_long(value)
    if count is None:
        return None
    return f"an exact number of {count} digits, more than the limit of {MAX_EXACT_DIGITS:,} (symderiv.values.MAX_EXACT_DIGITS)"


def power_refusal(base: sp.Basic, exponent: sp.Basic) -> str | None:
    """Why the exact power ``base^exponent`` of two SymPy numbers is refused before it is
    computed, or None: a rational base (not 0 or ±1) with an exponent beyond
    ±:data:`MAX_EXACT_EXPONENT`, or a result of :data:`MAX_EXACT_DIGITS` digits or more."""
    if not (isinstance(base, sp.Basic) and isinstance(exponent, sp.Basic)):
        return None
    if not exponent.is_Rational or base.free_symbols or not base.is_number:
        return None
    if base.is_Rational and abs(base) in (0, 1):
        return None
    shown = f"{_start(base)}^"
    if base.is_Rational and abs(exponent) > MAX_EXACT_EXPONENT:
        size = mpmath.mpf(exponent.p) / exponent.q
        shown += str(exponent) if len(str(exponent)) <= 20 else mpmath.nstr(size, 3)
        return f"{shown}: an exact power with an exponent beyond ±{MAX_EXACT_EXPONENT:,} is too large to compute"
    # the digits of the result: |exponent| times the digits of the widest rational in the base
    # that SymPy would raise to it (not one inside a function: exp(2)^n stays exp(2n))
    widest = max((math.log10(max(abs(r.p), r.q)) for r in _outside_functions(base) if r.is_Rational), default=0.0)
    digits = mpmath.mpf(abs(exponent.p)) / exponent.q * widest
    if digits < MAX_EXACT_DIGITS:
        return None
    count = f"{int(digits) + 1:,}" if digits < 10**15 else mpmath.nstr(digits, 3)
    shown += _start(exponent)
    return (f"{shown}: an exact power of about {count} digits, more than the limit of {MAX_EXACT_DIGITS:,} "
            "(symderiv.values.MAX_EXACT_DIGITS)")


def _outside_functions(expr: sp.Basic):
    """``expr`` and its subexpressions, not entering the arguments of a function such as exp."""
    yield expr
    if not isinstance(expr, sp.Function):
        for arg in expr.args:
            yield from _outside_functions(arg)


def _start(expr: sp.Basic) -> str:
    """``expr`` as a power's base or exponent in a message: its start, parenthesized unless it is
    a name or a whole number (a number too long to print is described by its digits)."""
    count = _too_long(expr)
    if count is not None:
        return f"(a number of {count} digits)"
    shown = shorten(sp.sstr(expr), 30)
    return shown if re.fullmatch(r"[0-9A-Za-z_.]+", shown) else f"({shown})"


def check_power(base: sp.Expr, exponent: sp.Expr) -> None:
    """Raise :class:`GraphError` when the exact power ``base^exponent`` is refused
    (:func:`power_refusal`): the engine calls it before a pow gate computes its value."""
    reason = power_refusal(base, exponent)
    if reason is not None:
        raise GraphError(reason)


def whole_option(label: str, text: str, low: int, high: int, error: type[ParameterError] | type) -> int:
    """``text`` as a whole number from ``low`` to ``high``, or ``error`` naming the option
    ``label`` (``--digits``, ``:digits:``) and the range."""
    n = whole_number(text, low, high)
    if n is None:
        raise error(f"{label}: expected a whole number from {low:,} to {high:,}, got {text.strip()!r}")
    return n


def whole_number(text: str, low: int, high: int) -> int | None:
    """``text`` as a whole number from ``low`` to ``high`` (ASCII digits, at most 12), else None."""
    if re.fullmatch(r"\s*[0-9]{1,12}\s*", text) and low <= int(text) <= high:
        return int(text)
    return None


def _number(token: str, name: str) -> sp.Rational:
    mantissa, _, denominator = token.partition("/")
    digits, _, exponent = mantissa.lower().partition("e")
    if sum(c in "0123456789" for c in digits) > MAX_DIGITS or len(denominator) > MAX_DIGITS:
        raise ParameterError(f"{name}: {quote(token, 20)} has more than {MAX_DIGITS} digits")
    value = Fraction(digits)
    magnitude = exponent.lstrip("+-").lstrip("0")
    if value and len(magnitude) > 4:  # beyond any double whatever the mantissa (and too long to compute)
        raise _out_of_range(token, name)
    if value and magnitude:
        value *= Fraction(10) ** int(magnitude) if not exponent.startswith("-") else Fraction(1, 10 ** int(magnitude))
    if denominator:
        if int(denominator) == 0:
            raise ParameterError(f"{name}: division by zero in {quote(token, 20)}")
        value /= int(denominator)
    if value and not _a_double(value):
        raise _out_of_range(token, name)
    return sp.Rational(value.numerator, value.denominator)


def _a_double(value: Fraction) -> bool:
    """True when a double reads ``value`` (nonzero) as a finite nonzero number, as ``float()`` rounds."""
    try:
        return 0 < abs(float(value)) < math.inf
    except OverflowError:
        return False


def _out_of_range(token: str, name: str) -> ParameterError:
    return ParameterError(f"{name}: {quote(token, 20)} is beyond the range of a double "
                          "(a magnitude from 4.9e-324 to 1.8e308, or 0)")


def parse_value(text: str, name: str = "value") -> Any:
    """Parse a number (``-2``, ``0.5``, ``1/3``, ``1e-3``) or a nested list of them.

    Returns a SymPy Rational or nested Python lists of Rationals. Raises ParameterError.
    """
    if len(text) > MAX_TEXT:
        raise ParameterError(f"{name}: value is longer than {MAX_TEXT} characters")
    s = text.strip()

    def fail(expected: str, pos: int) -> ParameterError:
        shown = s[pos:pos + 12] or "end of input"
        return ParameterError(
            f"{name}: expected {expected} at position {pos + 1} of {quote(s)}, found {shown!r}")

    def number(at: int) -> tuple[Any, int]:
        m = _NUMBER.match(s, at)
        if not m:
            if s[at:].lower().startswith(("nan", "inf", "+inf", "-inf", "infinity")):
                raise ParameterError(f"{name}: {quote(s)} is not finite; give a finite number")
            raise fail("a number (like -2, 0.5, 1/3) or a list '[...]'", at)
        return _number(m.group(0), name), m.end()

    def too_deep() -> ParameterError:
        return ParameterError(f"{name}: lists nested deeper than {MAX_DEPTH} levels")

    return read_lists(s, number, fail, too_deep, MAX_DEPTH)


def read_lists(s: str, leaf: Callable[[int], tuple[Any, int]], fail: Callable[[str, int], Exception],
               too_deep: Callable[[], Exception], max_depth: int) -> Any:
    """A value or nested lists of them, ``[[a, b], [c, d]]``, from ``s``: ``leaf(position)`` reads
    one value and returns it with the position after it; ``fail(expected, position)`` and
    ``too_deep()`` make the error to raise."""
    pos = 0

    def skip() -> None:
        nonlocal pos
        while pos < len(s) and s[pos] in " \t":
            pos += 1

    def item(depth: int) -> Any:
        nonlocal pos
        skip()
        if pos < len(s) and s[pos] == "[":
            if depth >= max_depth:
                raise too_deep()
            pos += 1
            out: list[Any] = []
            skip()
            if pos < len(s) and s[pos] == "]":
                raise fail("a number or '['", pos)
            while True:
                out.append(item(depth + 1))
                skip()
                if pos < len(s) and s[pos] == ",":
                    pos += 1
                    continue
                if pos < len(s) and s[pos] == "]":
                    pos += 1
                    return out
                raise fail("',' or ']'", pos)
        value, pos = leaf(pos)
        return value

    value = item(0)
    skip()
    if pos != len(s):
        raise fail("end of input", pos)
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
        return _kept(sp.Integer(value), name)
    if isinstance(value, float):  # numpy's float64 too, whose repr is np.float64(0.5): read as a float
        if not math.isfinite(value):
            raise ParameterError(f"{name}: {float(value)!r} is not finite; give a finite number")
        return _number(repr(float(value)), name)
    if isinstance(value, Fraction):
        return _kept(sp.Rational(value.numerator, value.denominator), name)
    if hasattr(value, "tolist") and not isinstance(value, sp.Basic):  # numpy / torch
        return to_exact(value.tolist(), name)
    if isinstance(value, sp.Basic):
        if isinstance(value, sp.Float):
            return _number(str(value), name)
        if isinstance(value, sp.MatrixBase):
            return to_exact(value.tolist(), name)
        if _kept(value, name).has(sp.zoo, sp.oo, -sp.oo, sp.nan):
            raise ParameterError(f"{name}: {shorten(sp.sstr(value))} is not finite")
        return value
    raise ParameterError(f"{name}: expected a number or a list of numbers, got {type(value).__name__}")


def _kept(value: sp.Basic, name: str) -> sp.Basic:
    """``value``, unless it has a number too long to keep exactly (:func:`exact_size_refusal`)."""
    reason = exact_size_refusal(value)
    if reason is not None:
        raise ParameterError(f"{name}: {reason}")
    return value


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
