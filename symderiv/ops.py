"""The gate table: one row per operation, its forward rule beside its local-derivative rule.

A row says how a gate computes its output exactly (``forward``), how the gate is written
(``display``, an unevaluated tree that keeps the written order), and the local derivative of
the output with respect to each input (``local``, in terms of the input symbols and the output
symbol). Gates that are not differentiable everywhere (ReLU, max, min, abs) also say where
(``kink``): the derivative there is a convention, chosen by :class:`Convention`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import sympy as sp

from .errors import GraphError

Half = sp.Rational(1, 2)


@dataclass(frozen=True)
class Convention:
    """The derivative used where a gate has none.

    ``relu_at_zero``: ReLU'(0). ``max_tie``: the share of the upstream gradient sent to the
    (first, second) input of max or min when they are equal. ``abs_at_zero``: |x|' at 0.
    """

    name: str
    relu_at_zero: sp.Rational = sp.Integer(0)
    max_tie: tuple[sp.Rational, sp.Rational] = (Half, Half)
    abs_at_zero: sp.Rational = sp.Integer(0)


CONVENTIONS: dict[str, Convention] = {
    "pytorch": Convention("pytorch"),
    "tensorflow": Convention("tensorflow", max_tie=(sp.Integer(1), sp.Integer(0))),
    "half": Convention("half", relu_at_zero=Half),
}


def get_convention(convention: str | Convention) -> Convention:
    """A :class:`Convention` by name (``pytorch``, ``tensorflow``, ``half``) or as given."""
    if isinstance(convention, Convention):
        return convention
    try:
        return CONVENTIONS[convention]
    except (KeyError, TypeError):
        raise GraphError(f"unknown convention {convention!r}; expected one of "
                         f"{', '.join(CONVENTIONS)}") from None


class Written(sp.Function):
    """A function as written: printed by name, arguments kept in their order (SymPy's Max sorts them)."""

    def _latex(self, printer):
        name = self.latex_name
        return name + r"\left(%s\right)" % ", ".join(printer._print(a) for a in self.args)

    def _sympystr(self, printer):
        return self.text_name + "(%s)" % ", ".join(printer._print(a) for a in self.args)


def written(name: str, latex_name: str, text_name: str) -> type[Written]:
    """A display-only function printed as ``latex_name(...)`` / ``text_name(...)``."""
    return type(name, (Written,), {"latex_name": latex_name, "text_name": text_name})


MaxOf = written("MaxOf", r"\max", "max")
MinOf = written("MinOf", r"\min", "min")
sigma = written("sigma", r"\sigma", "σ")  # the logistic sigmoid as written; its value is 1/(1 + e^{-z})
ReLU = written("ReLU", r"\mathrm{ReLU}", "ReLU")  # its value is max(0, z)


def _step(a: sp.Expr, b: sp.Expr, tie: sp.Expr, up: sp.Expr = sp.Integer(1),
          down: sp.Expr = sp.Integer(0)) -> sp.Expr:
    """``up`` where a > b, ``down`` where a < b, ``tie`` where a = b."""
    return sp.Piecewise((up, a > b), (down, a < b), (tie, True), evaluate=False)


def _product_except(args: Sequence[sp.Expr], i: int) -> sp.Expr:
    return sp.Mul(*(a for j, a in enumerate(args) if j != i))


@dataclass(frozen=True)
class Op:
    """One gate: exact forward, how it is written, and its local derivatives.

    ``local(args, out, convention)`` returns d out / d args[i] for every input, as expressions in
    the input symbols ``args`` and the output symbol ``out``. ``kink(args)`` is an expression
    that is zero exactly where the gate is not differentiable.
    """

    name: str
    arity: int | None  # None: any number of inputs, at least two
    forward: Callable[..., sp.Expr]
    display: Callable[..., sp.Expr]
    local: Callable[[Sequence[sp.Expr], sp.Expr, Convention], tuple[sp.Expr, ...]]
    kink: Callable[[Sequence[sp.Expr]], sp.Expr] | None = None
    #: for a window (max pooling): whether these input floats tie for the maximum; the local
    #: derivatives themselves then send everything to the first maximum
    window_tie: Callable[[Sequence], bool] | None = None


def _nary(fn):
    return lambda *a: fn(*a, evaluate=False)


OPS: dict[str, Op] = {op.name: op for op in [
    Op("add", None, sp.Add, _nary(sp.Add),
       lambda a, o, c: tuple(sp.Integer(1) for _ in a)),
    Op("sub", 2, lambda a, b: a - b, lambda a, b: sp.Add(a, sp.Mul(-1, b, evaluate=False), evaluate=False),
       lambda a, o, c: (sp.Integer(1), sp.Integer(-1))),
    Op("mul", None, sp.Mul, _nary(sp.Mul),
       lambda a, o, c: tuple(_product_except(a, i) for i in range(len(a)))),
    Op("div", 2, lambda a, b: a / b, lambda a, b: sp.Mul(a, sp.Pow(b, -1, evaluate=False), evaluate=False),
       lambda a, o, c: (1 / a[1], -a[0] / a[1] ** 2)),
    Op("linear", None, lambda *a: sp.Add(*(a[i] * a[i + 1] for i in range(0, len(a) - 1, 2)), a[-1]),
       lambda *a: sp.Add(*(sp.Mul(a[i], a[i + 1], evaluate=False) for i in range(0, len(a) - 1, 2)), a[-1],
                         evaluate=False),
       lambda a, o, c: tuple(a[i + 1] if i % 2 == 0 else a[i - 1] for i in range(len(a) - 1)) + (sp.Integer(1),)),
    Op("dot", None, lambda *a: sp.Add(*(a[i] * a[i + 1] for i in range(0, len(a), 2))),
       lambda *a: sp.Add(*(sp.Mul(a[i], a[i + 1], evaluate=False) for i in range(0, len(a), 2)), evaluate=False)
       if len(a) > 2 else sp.Mul(a[0], a[1], evaluate=False),
       lambda a, o, c: tuple(a[i + 1] if i % 2 == 0 else a[i - 1] for i in range(len(a)))),
    # softmax entry: inputs (z_i, z_1, ..., z_n), output e^{z_i} / Σ_j e^{z_j}
    Op("softmax", None, lambda *a: sp.exp(a[0]) / sp.Add(*(sp.exp(x) for x in a[1:])),
       lambda *a: sp.Mul(sp.exp(a[0], evaluate=False),
                         sp.Pow(sp.Add(*(sp.exp(x, evaluate=False) for x in a[1:]), evaluate=False), -1,
                                evaluate=False), evaluate=False),
       lambda a, o, c: (o,) + tuple(-o * sp.exp(x) / sp.Add(*(sp.exp(y) for y in a[1:])) for x in a[1:])),
    # max pooling over a window: all of the upstream gradient goes to the first maximum
    Op("maxpool", None, sp.Max, _nary(MaxOf),
       lambda a, o, c: tuple(sp.Piecewise((1, sp.And(*(a[k] > a[j] for j in range(k)),
                                                     *(a[k] >= a[j] for j in range(k + 1, len(a))))),
                                          (0, True)) for k in range(len(a))),
       window_tie=lambda v: sum(1 for x in v if x == max(v)) > 1),
    Op("mean", None, lambda *a: sp.Add(*a) / len(a),
       lambda *a: sp.Mul(sp.Rational(1, len(a)), sp.Add(*a, evaluate=False), evaluate=False),
       lambda a, o, c: tuple(sp.Rational(1, len(a)) for _ in a)),
    Op("neg", 1, lambda a: -a, lambda a: sp.Mul(-1, a, evaluate=False),
       lambda a, o, c: (sp.Integer(-1),)),
    Op("recip", 1, lambda a: 1 / a, lambda a: sp.Pow(a, -1, evaluate=False),
       lambda a, o, c: (-1 / a[0] ** 2,)),
    Op("pow", 2, sp.Pow, lambda a, b: sp.Pow(a, b, evaluate=False),
       lambda a, o, c: (a[1] * a[0] ** (a[1] - 1), a[0] ** a[1] * sp.log(a[0]))),
    Op("exp", 1, sp.exp, lambda a: sp.exp(a, evaluate=False),
       lambda a, o, c: (sp.exp(a[0]),)),
    Op("log", 1, sp.log, lambda a: sp.log(a, evaluate=False),
       lambda a, o, c: (1 / a[0],)),
    Op("sqrt", 1, sp.sqrt, lambda a: sp.Pow(a, sp.Rational(1, 2), evaluate=False),
       lambda a, o, c: (1 / (2 * o),)),
    Op("sin", 1, sp.sin, lambda a: sp.sin(a, evaluate=False), lambda a, o, c: (sp.cos(a[0]),)),
    Op("cos", 1, sp.cos, lambda a: sp.cos(a, evaluate=False), lambda a, o, c: (-sp.sin(a[0]),)),
    Op("tan", 1, sp.tan, lambda a: sp.tan(a, evaluate=False), lambda a, o, c: (1 + o ** 2,)),
    Op("sigmoid", 1, lambda a: 1 / (1 + sp.exp(-a)), sigma,
       lambda a, o, c: (o * (1 - o),)),
    Op("tanh", 1, sp.tanh, lambda a: sp.tanh(a, evaluate=False),
       lambda a, o, c: (1 - o ** 2,)),
    Op("relu", 1, lambda a: sp.Max(0, a), ReLU,
       lambda a, o, c: (_step(a[0], 0, c.relu_at_zero),),
       kink=lambda a: a[0]),
    Op("abs", 1, sp.Abs, lambda a: sp.Abs(a, evaluate=False),
       lambda a, o, c: (_step(a[0], 0, c.abs_at_zero, down=sp.Integer(-1)),),
       kink=lambda a: a[0]),
    Op("max", 2, sp.Max, MaxOf,
       lambda a, o, c: (_step(a[0], a[1], c.max_tie[0]), _step(a[1], a[0], c.max_tie[1])),
       kink=lambda a: a[0] - a[1]),
    Op("min", 2, sp.Min, MinOf,
       lambda a, o, c: (_step(a[1], a[0], c.max_tie[0]), _step(a[0], a[1], c.max_tie[1])),
       kink=lambda a: a[0] - a[1]),
]}
