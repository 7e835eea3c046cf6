"""High-precision floats of small exact expressions, node by node.

Each node's exact value is a small SymPy expression over its parents' names; :func:`evaluate`
walks it with mpmath at :data:`DIGITS` significant digits, looking the names up in ``env``.
It never calls ``evalf`` on a deeply nested expression.

Every value is bounded before it is evaluated: an exact number of more than
:data:`~symderiv.values.MAX_EXACT_DIGITS` digits is refused, and a float whose magnitude passes
10^±:data:`MAX_FLOAT_EXPONENT` (or a sine, cosine or tangent of a number of more than
:data:`MAX_ANGLE_DIGITS` digits) is not a finite real number here (:class:`NotReal`).
"""

from __future__ import annotations

from collections.abc import Mapping

import mpmath
import sympy as sp

from .errors import GraphError, NotReal
from .values import exact_size_refusal

DIGITS = 50
#: A float's magnitude is at most 10^MAX_FLOAT_EXPONENT and, unless it is 0, at least its inverse.
MAX_FLOAT_EXPONENT = 1_000_000
#: A sine, cosine or tangent is taken of numbers of at most this many digits before the point
#: (reducing a larger one needs π to as many digits).
MAX_ANGLE_DIGITS = 10_000
_LOG2_10 = mpmath.log(10, 2)
_MAX_BITS = int(MAX_FLOAT_EXPONENT * _LOG2_10)
_MAX_ANGLE_BITS = int(MAX_ANGLE_DIGITS * _LOG2_10)


def evaluate(expr: sp.Basic, env: Mapping[sp.Symbol, mpmath.mpf]) -> mpmath.mpf | None:
    """The value of ``expr`` at :data:`DIGITS` digits, symbols taken from ``env``; None when a
    symbol has no value (a symbolic input). Raises :class:`NotReal` where it is not a finite
    real number."""
    reason = exact_size_refusal(expr)
    if reason is not None:
        raise GraphError(reason)
    if not expr.free_symbols <= env.keys():
        return None
    with mpmath.workdps(DIGITS + 10):
        try:
            value = +_eval(expr, env)
        except (ValueError, ZeroDivisionError, TypeError, OverflowError):
            raise NotReal("not a finite real number") from None
    if not isinstance(value, mpmath.mpf) or not mpmath.isfinite(value):
        raise NotReal("not a finite real number")
    return value


def _held(x: mpmath.mpf) -> mpmath.mpf:
    """``x``, when its magnitude is within 10^±:data:`MAX_FLOAT_EXPONENT`; else NotReal."""
    if isinstance(x, mpmath.mpf) and x and abs(mpmath.mag(x)) > _MAX_BITS:
        raise NotReal("beyond the magnitude a float is held at")
    return x


def _power(base: mpmath.mpf, exponent: mpmath.mpf | int) -> mpmath.mpf:
    """``base ** exponent``, refused (NotReal) before it is computed when its magnitude would pass
    10^±:data:`MAX_FLOAT_EXPONENT`."""
    if base and exponent and abs(exponent * mpmath.log(abs(base), 2)) > _MAX_BITS:
        raise NotReal("a power beyond the magnitude a float is held at")
    return base ** exponent if isinstance(exponent, int) else mpmath.power(base, exponent)


def _exp(x: mpmath.mpf) -> mpmath.mpf:
    """e^x, refused (NotReal) when its magnitude would pass 10^±:data:`MAX_FLOAT_EXPONENT`."""
    if abs(x) > _MAX_BITS * mpmath.ln2:
        raise NotReal("an exponential beyond the magnitude a float is held at")
    return mpmath.exp(x)


def _periodic(fn):
    """``fn`` (sin, cos or tan), refused (NotReal) for an angle of more than :data:`MAX_ANGLE_DIGITS` digits."""
    def bounded(x: mpmath.mpf) -> mpmath.mpf:
        if x and mpmath.mag(x) > _MAX_ANGLE_BITS:
            raise NotReal(f"an angle of more than {MAX_ANGLE_DIGITS:,} digits")
        return fn(x)
    return bounded


_FUNCTIONS = {
    sp.exp: _exp,
    sp.log: mpmath.log,
    sp.sin: _periodic(mpmath.sin),
    sp.cos: _periodic(mpmath.cos),
    sp.tan: _periodic(mpmath.tan),
    sp.tanh: mpmath.tanh,
    sp.Abs: abs,
    sp.sign: mpmath.sign,
}


def _eval(e: sp.Basic, env: Mapping[sp.Symbol, mpmath.mpf]) -> mpmath.mpf:
    return _held(_eval_node(e, env))


def _eval_node(e: sp.Basic, env: Mapping[sp.Symbol, mpmath.mpf]) -> mpmath.mpf:
    if e.is_Rational:
        return mpmath.mpf(e.p) / e.q
    if e.is_Symbol:
        try:
            return env[e]
        except KeyError:
            raise ValueError(f"no value for {e}") from None
    if e.is_Float:
        return mpmath.mpf(e)
    if e is sp.E:
        return mpmath.e
    if e is sp.pi:
        return mpmath.pi
    if e.is_Add:
        return mpmath.fsum(_eval(a, env) for a in e.args)
    if e.is_Mul:
        out = mpmath.mpf(1)
        for a in e.args:
            out *= _eval(a, env)
        return out
    if e.is_Pow:
        base, ex = e.args
        return _power(_eval(base, env), int(ex) if ex.is_Integer else _eval(ex, env))
    if isinstance(e, (sp.Max, sp.Min)):
        pick = max if isinstance(e, sp.Max) else min
        return pick(_eval(a, env) for a in e.args)
    if isinstance(e, sp.Piecewise):
        for value, cond in e.args:
            if truth(cond, env):
                return _eval(value, env)
        raise ValueError(f"no branch of {e} holds")
    fn = _FUNCTIONS.get(e.func)
    if fn is not None:
        return fn(_eval(e.args[0], env))
    # Anything else (a user's unusual function): substitute the numbers, then evalf this small node.
    subs = {s: sp.Float(mpmath.nstr(env[s], DIGITS + 5), DIGITS + 5) for s in e.free_symbols}
    value = e.xreplace(subs).evalf(DIGITS + 5)
    if not value.is_real:
        raise ValueError(f"{e} is not a real number here")
    return mpmath.mpf(str(value))


def truth(cond: sp.Basic, env: Mapping[sp.Symbol, mpmath.mpf]) -> bool:
    """Whether a relation such as ``z > w`` holds at the values in ``env``."""
    if cond is sp.true:
        return True
    if cond is sp.false:
        return False
    if isinstance(cond, sp.And):
        return all(truth(c, env) for c in cond.args)
    lhs, rhs = (_eval(a, env) for a in cond.args)
    return {sp.StrictGreaterThan: lhs > rhs, sp.StrictLessThan: lhs < rhs,
            sp.GreaterThan: lhs >= rhs, sp.LessThan: lhs <= rhs,
            sp.Equality: lhs == rhs, sp.Unequality: lhs != rhs}[type(cond)]
