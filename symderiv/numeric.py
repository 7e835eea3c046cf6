"""High-precision floats of small exact expressions, node by node.

Each node's exact value is a small SymPy expression over its parents' names; :func:`evaluate`
walks it with mpmath at :data:`DIGITS` significant digits, looking the names up in ``env``.
It never calls ``evalf`` on a deeply nested expression.
"""

from __future__ import annotations

from collections.abc import Mapping

import mpmath
import sympy as sp

from .errors import NotReal

DIGITS = 50

_FUNCTIONS = {
    sp.exp: mpmath.exp,
    sp.log: mpmath.log,
    sp.sin: mpmath.sin,
    sp.cos: mpmath.cos,
    sp.tan: mpmath.tan,
    sp.tanh: mpmath.tanh,
    sp.Abs: abs,
    sp.sign: mpmath.sign,
}


def evaluate(expr: sp.Basic, env: Mapping[sp.Symbol, mpmath.mpf]) -> mpmath.mpf | None:
    """The value of ``expr`` at :data:`DIGITS` digits, symbols taken from ``env``; None when a
    symbol has no value (a symbolic input). Raises :class:`NotReal` where it is not a finite
    real number."""
    if not expr.free_symbols <= env.keys():
        return None
    with mpmath.workdps(DIGITS + 10):
        try:
            value = +_eval(expr, env)
        except (ValueError, ZeroDivisionError, TypeError):
            raise NotReal("not a finite real number") from None
    if not isinstance(value, mpmath.mpf) or not mpmath.isfinite(value):
        raise NotReal("not a finite real number")
    return value


def _eval(e: sp.Basic, env: Mapping[sp.Symbol, mpmath.mpf]) -> mpmath.mpf:
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
        if ex.is_Integer:
            return _eval(base, env) ** int(ex)
        return mpmath.power(_eval(base, env), _eval(ex, env))
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
