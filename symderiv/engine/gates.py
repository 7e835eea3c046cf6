"""The gate table: one row per scalar gate, owning everything about it.

A :class:`Gate` row says how the gate computes its output exactly (``forward``), how it is written
(``written``, an unevaluated tree that keeps the written order), its local derivatives (``local``,
in terms of the input symbols and the output symbol), where it is not differentiable (``kink``)
and what the solution says there (``kink_note``), the lesson of the gradient it passes back
(``lesson``: add distributes, mul swaps, max routes), its diagram ``glyph``, and the names it goes
by: the formula grammar's and the traced API's function (``function``, ``traced``), the SymPy
class the expression route reads as it (``sympy``), and how it is written on a matrix
(``elementwise``). The loops that apply the table (the graph, the backward pass, the formula
parser, the traced API, the diagram) live elsewhere and never switch on a gate's name.

Adding a gate is one row: :func:`add_gate`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import mpmath
import sympy as sp

from ..errors import GraphError
from ..notation import Hadamard, MaxOf, MinOf, ReLU, Written, exp_, log_, sigma, tanh_
from ..record import Note
from ..values import check_power

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


def _lookup(table: dict, key: Any, what: str) -> Any:
    try:
        return table[key]
    except (KeyError, TypeError):
        raise GraphError(f"unknown {what} {key!r}; expected one of {', '.join(table)}") from None


def get_convention(convention: str | Convention) -> Convention:
    """A :class:`Convention` by name (``pytorch``, ``tensorflow``, ``half``) or as given."""
    return convention if isinstance(convention, Convention) else _lookup(CONVENTIONS, convention, "convention")


@dataclass(frozen=True)
class Passing:
    """What a gate's lesson talks about: the gradient ``gate`` passes back to ``input``.

    ``upstream`` is the symbol of ∂L/∂gate; ``local`` the local derivative (its ``value`` and
    ``kink`` note); ``gate`` and ``input`` are graph nodes (``.symbol``, ``.display``, ``.parents``).
    """

    gate: Any
    input: Any
    upstream: sp.Symbol
    local: Any


@dataclass(frozen=True)
class Gate:
    """One scalar gate. Every field is a keyword; only ``name``, ``forward``, ``written`` and
    ``local`` are required.

    ``local(inputs, output, convention)`` returns d output / d input for every input, as
    expressions in the input symbols and the output symbol. ``kink(inputs)`` is zero exactly where
    the gate is not differentiable; ``kink_note(node, convention)`` says so there.
    ``local_at(inputs, output, convention, values, approx)``, where given, is used instead of
    ``local`` when every input has a value: the local derivatives at that point, knowing the
    inputs' exact ``values`` and their floats ``approx`` (max pooling's arg-max and a wide
    product's quotients, where ``local``'s formulas would grow with the square of the inputs).
    ``window_tie(values, approx)`` (max pooling) tells whether the maximum is shared, and
    ``window_tie_note`` what the solution says then.

    What the gate's local derivatives cost to derive and write, in units of the size limit
    (:mod:`symderiv.limits`), from its inputs' exact values (None for a symbolic one): ``weight``
    for each, or 1 where the gate is ``rational`` (rational numbers in, rational numbers out, its
    derivatives too) and every input is a rational number; plus ``cost(values)``, where given, for
    what grows faster than the inputs (a wide product written out, a symbolic window of max pooling).
    """

    name: str
    forward: Callable[..., sp.Expr]
    written: Callable[..., sp.Expr]
    local: Callable[[Sequence[sp.Expr], sp.Expr, Convention], tuple[sp.Expr, ...]]
    arity: int | None = 1  # None: any number of inputs, at least two
    check_inputs: Callable[[int], str | None] | None = None  # a message when the count is wrong
    guard: Callable[[Sequence[sp.Expr]], None] | None = None  # refuses inputs it cannot compute
    kink: Callable[[Sequence[sp.Expr]], sp.Expr] | None = None
    kink_note: Callable[[Any, Convention], Note] | None = None
    window_tie: Callable[[Sequence[sp.Expr], Sequence[mpmath.mpf]], bool] | None = None
    window_tie_note: str = ""
    local_at: Callable[[Sequence[sp.Expr], sp.Expr, Convention, Sequence[sp.Expr], Sequence[mpmath.mpf]],
                       tuple[sp.Expr, ...]] | None = None
    lesson: Callable[[Passing], Note] | None = None
    glyph: str | Callable[[Any], str] = ""
    doc: str = ""
    method_inputs: Callable[..., tuple] | None = None  # Graph method arguments -> gate inputs
    function: str | None = None  # its name in the formula grammar
    traced: str | None = None  # its name in the traced API (default: ``function``)
    sympy: type | None = None  # the SymPy function the expression route reads as this gate
    elementwise: type[Written] | None = None  # how f(A) is written for a matrix A
    elementwise_rule: Callable[[Any, sp.Basic], sp.Basic] | None = None  # ∂L/∂A from δ (default δ ⊙ f'(A))
    activation: bool = False  # a network's activation (the checker asks whether it was left out)
    rational: bool = False
    weight: int = 0  # 0: ARITHMETIC_WEIGHT for a rational gate, FUNCTION_WEIGHT for any other
    cost: Callable[[Sequence[sp.Expr | None]], int] | None = None

    def cost_of(self, values: Sequence[sp.Expr | None]) -> int:
        """What this gate's local derivatives cost for inputs of these values (None: symbolic)."""
        if self.rational and all(v is not None and v.is_Rational for v in values):
            each = 1
        else:
            each = self.weight or (ARITHMETIC_WEIGHT if self.rational else FUNCTION_WEIGHT)
        return each * len(values) + (self.cost(values) if self.cost is not None else 0)

    def glyph_of(self, node: Any) -> str:
        """The operation drawn in the diagram's circle for ``node``."""
        return self.glyph(node) if callable(self.glyph) else (self.glyph or self.name)

    @property
    def traced_name(self) -> str | None:
        """The traced API's name for this gate (None: not offered there)."""
        return self.traced or self.function


#: What a local derivative costs, in units of the size limit (one: a rational gate's at rational
#: inputs), as measured by benchmarks/costs.py: an arithmetic gate's at inputs that are expressions
#: (names, exponentials, symbols), and a function's (exp, σ, tanh, ...), whose values and
#: derivatives are SymPy functions to build, evaluate and print.
ARITHMETIC_WEIGHT = 10
FUNCTION_WEIGHT = 80


# ----- rules longer than one line -----------------------------------------------------------

def _nary(fn: Callable) -> Callable:
    return lambda *a: fn(*a, evaluate=False)


def _step(a: sp.Expr, b: sp.Expr, tie: sp.Expr, up: sp.Expr = sp.Integer(1),
          down: sp.Expr = sp.Integer(0)) -> sp.Expr:
    """``up`` where a > b, ``down`` where a < b, ``tie`` where a = b."""
    return sp.Piecewise((up, a > b), (down, a < b), (tie, True), evaluate=False)


def _products_except_each(a: Sequence[sp.Expr], out: sp.Expr, conv: Convention) -> tuple[sp.Expr, ...]:
    """d(a1·a2·…)/d a_i = the product of the others."""
    return tuple(sp.Mul(*(x for j, x in enumerate(a) if j != i)) for i in range(len(a)))


#: A product of more inputs than this writes d out/d a_i as out/a_i where a_i is a nonzero number:
#: written out, the products of the others would grow with the square of the inputs.
WIDE_PRODUCT = 10


def _products_except_each_at(a: Sequence[sp.Expr], out: sp.Expr, conv: Convention, values: Sequence[sp.Expr],
                             approx: Sequence[mpmath.mpf]) -> tuple[sp.Expr, ...]:
    """At a known point: the product of the others, or, in a product of more than
    :data:`WIDE_PRODUCT` inputs, out/a_i for each input whose value is a nonzero rational (at a
    zero the quotient is undefined, and the product of the others is written)."""
    if len(a) <= WIDE_PRODUCT:
        return _products_except_each(a, out, conv)
    return tuple(out / x if v.is_Rational and v != 0 else sp.Mul(*(y for j, y in enumerate(a) if j != i))
                 for i, (x, v) in enumerate(zip(a, values)))


def _product_cost(values: Sequence[sp.Expr | None]) -> int:
    """What a wide product's local derivatives add: a product of the others written out (at a
    symbol, a zero or an irrational) is a factor per input, and each exact value holds the digits
    of all the inputs."""
    n = len(values)
    if n <= WIDE_PRODUCT:
        return 0
    written_out = sum(1 for v in values if v is None or not v.is_Rational or v == 0)
    digits = sum((int(v.p).bit_length() + int(v.q).bit_length()) * 3 // 10 + 1
                 for v in values if v is not None and v.is_Rational)
    return (n - 1) * written_out + n * digits // 50


def _maxpool_cost(values: Sequence[sp.Expr | None]) -> int:
    """What a symbolic window adds: each entry's derivative compares it with every other entry."""
    n = len(values)
    return 0 if all(v is not None for v in values) else FUNCTION_WEIGHT * n * n


def _pair_partners(a: Sequence[sp.Expr]) -> tuple[sp.Expr, ...]:
    """For (a1, b1, a2, b2, ...): each entry's partner, d(a_k·b_k)/d a_k = b_k and back."""
    return tuple(a[i + 1] if i % 2 == 0 else a[i - 1] for i in range(len(a) - len(a) % 2))


def _linear_forward(*a: sp.Expr) -> sp.Expr:
    return sp.Add(*(a[i] * a[i + 1] for i in range(0, len(a) - 1, 2)), a[-1])


def _linear_written(*a: sp.Expr) -> sp.Expr:
    return sp.Add(*(sp.Mul(a[i], a[i + 1], evaluate=False) for i in range(0, len(a) - 1, 2)), a[-1],
                  evaluate=False)


def _dot_written(*a: sp.Expr) -> sp.Expr:
    if len(a) == 2:
        return sp.Mul(a[0], a[1], evaluate=False)
    return sp.Add(*(sp.Mul(a[i], a[i + 1], evaluate=False) for i in range(0, len(a), 2)), evaluate=False)


def _softmax_forward(*a: sp.Expr) -> sp.Expr:
    """Inputs (z_i, z_1, ..., z_n): e^{z_i} / Σ_j e^{z_j}."""
    return sp.exp(a[0]) / sp.Add(*(sp.exp(x) for x in a[1:]))


def _softmax_written(*a: sp.Expr) -> sp.Expr:
    denominator = sp.Add(*(sp.exp(x, evaluate=False) for x in a[1:]), evaluate=False)
    return sp.Mul(sp.exp(a[0], evaluate=False), sp.Pow(denominator, -1, evaluate=False), evaluate=False)


def _softmax_local(a: Sequence[sp.Expr], out: sp.Expr, conv: Convention) -> tuple[sp.Expr, ...]:
    """dα_i/dz_i = α_i (through the numerator) and −α_i·e^{z_j}/Σ e^z through each z_j."""
    total = sp.Add(*(sp.exp(y) for y in a[1:]))
    return (out,) + tuple(-out * sp.exp(x) / total for x in a[1:])


def _maxpool_local(a: Sequence[sp.Expr], out: sp.Expr, conv: Convention) -> tuple[sp.Expr, ...]:
    """1 for the first maximum of the window, 0 for every other entry."""
    return tuple(sp.Piecewise((1, sp.And(*(a[k] > a[j] for j in range(k)),
                                         *(a[k] >= a[j] for j in range(k + 1, len(a))))),
                              (0, True)) for k in range(len(a)))


def _comparable(values: Sequence[sp.Expr], approx: Sequence[mpmath.mpf]) -> Sequence:
    """What a window's entries are compared by: exactly when every one is a rational, else their floats."""
    return values if all(v.is_Rational for v in values) else approx


def _maxpool_at(a: Sequence[sp.Expr], out: sp.Expr, conv: Convention, values: Sequence[sp.Expr],
                approx: Sequence[mpmath.mpf]) -> tuple[sp.Expr, ...]:
    """At a known point: 1 for the first maximum of the window (as PyTorch), 0 for every other entry."""
    keys = _comparable(values, approx)
    best = 0
    for k in range(1, len(keys)):
        if keys[k] > keys[best]:
            best = k
    return tuple(sp.Integer(k == best) for k in range(len(keys)))


def _ties(values: Sequence[sp.Expr], approx: Sequence[mpmath.mpf]) -> bool:
    keys = _comparable(values, approx)
    top = max(keys)
    return sum(1 for x in keys if x == top) > 1


def _mean_written(*a: sp.Expr) -> sp.Expr:
    return sp.Mul(sp.Rational(1, len(a)), sp.Add(*a, evaluate=False), evaluate=False)


def _at_zero_note(opening: str, closing: str, rule: str, value: Callable[[Convention], sp.Expr]):
    """The note of a one-input gate at its kink x = 0, e.g. ``f = ReLU(x) at x = 0: ...``."""
    def note(node: Any, conv: Convention) -> Note:
        a = node.parents[0].display
        return (node.symbol, f" = {opening}", a, f"{closing} at ", a, " = 0: the derivative is undefined there "
                f"(convention {conv.name}: {rule} = {value(conv)})",)
    return note


def _tie_note(word: str):
    def note(node: Any, conv: Convention) -> Note:
        a, b = node.parents[0].display, node.parents[1].display
        return (f"a tie in {word}: ", a, " = ", b, ", the derivative is undefined there "
                f"(convention {conv.name}: the first input gets {conv.max_tie[0]} and the second "
                f"{conv.max_tie[1]} of the upstream gradient)",)
    return note


def _distributes(p: Passing) -> Note:
    return (p.gate.symbol, " is an add gate: it distributes ", p.upstream, " unchanged to every input")


def _swaps(p: Passing) -> Note:
    if len(p.gate.parents) != 2:
        return ()
    first, second = p.gate.parents
    other = second if first is p.input else first
    return (p.gate.symbol, " is a mul gate: it swaps the inputs, so ", p.input.symbol, " gets the other input ",
            other.display, " times ", p.upstream)


def _routes(word: str, which: str):
    def lesson(p: Passing) -> Note:
        if p.local.kink:
            return p.local.kink.note
        if p.local.value == 0:
            return (p.gate.symbol, f" is a {word} gate: ", p.input.symbol, f" is not the {which} input, so it gets 0",)
        return (p.gate.symbol, f" is a {word} gate: it routes ", p.upstream, f" to the {which} input, ", p.input.symbol)
    return lesson


def _kink_only(p: Passing) -> Note:
    return p.local.kink.note if p.local.kink else ()


def _with_constants(symbol: str):
    """``+1``, ``×2``: an add or mul gate with a constant input is drawn as the lecture does; a
    sum of more than two is Σ."""
    def glyph(node: Any) -> str:
        consts = [p.value for p in node.parents if not p.named]
        if consts and len(consts) < len(node.parents):
            return symbol + "".join(f"({c})" if c < 0 else str(c) for c in consts)
        if symbol == "+" and len(node.parents) > 2:
            return "Σ"
        return symbol
    return glyph


def _one(value: int) -> Callable:
    return lambda a, o, c: tuple(sp.Integer(value) for _ in a)


# ----- the table ---------------------------------------------------------------------------

GATES: dict[str, Gate] = {}


def add_gate(gate: Gate) -> Gate:
    """Register ``gate``: the graph's ``apply`` and methods, the formula grammar (when it has a
    ``function`` name), the traced API and the diagram then know it."""
    if not isinstance(gate, Gate):
        raise GraphError(f"add_gate() takes a Gate row, got {type(gate).__name__}")
    GATES[gate.name] = gate
    return gate


def get_gate(name: str | Gate) -> Gate:
    """The row of gate ``name`` (a row is returned as it is)."""
    return name if isinstance(name, Gate) else _lookup(GATES, name, "gate")


def functions() -> dict[str, Gate]:
    """The gates the formula grammar calls by name, in table order."""
    return {g.function: g for g in GATES.values() if g.function}


def traced_functions() -> dict[str, Gate]:
    """The gates the traced API offers, by their traced name."""
    return {g.traced_name: g for g in GATES.values() if g.traced_name}


def sympy_gates() -> dict[type, Gate]:
    """The gates the SymPy-expression route reads, by SymPy function class."""
    return {g.sympy: g for g in GATES.values() if g.sympy is not None}


def written_forms() -> dict[type, Gate]:
    """Each display-only function (σ, ReLU, max as written, tanh of a matrix, ...) and its gate,
    whose ``forward`` computes it."""
    out: dict[type, Gate] = {}
    for g in GATES.values():
        for form in (g.written, g.elementwise):
            if isinstance(form, type) and issubclass(form, Written):
                out.setdefault(form, g)
    return out


def elementwise_gates() -> dict[str, Gate]:
    """The gates that apply entry by entry to a matrix."""
    return {g.name: g for g in GATES.values() if g.elementwise is not None}


#: What could make ``exp`` of a product evaluate to something else: a log factor, ``I`` (e^{iπk}),
#: an infinity, a float (evaluated numerically), a set or interval.
_EXP_CHANGERS = (sp.log, sp.I, sp.oo, sp.zoo, sp.nan, sp.Float, sp.AccumBounds)


def _sigmoid_value(a: sp.Expr) -> sp.Expr:
    """σ(a) = 1/(1 + e^{−a}): the expression SymPy's evaluation builds, without the assumption
    queries it would make on ``a``'s inside (a let-bound value: a real, finite number or real
    symbol) that cannot change it. ``exp`` of a product with none of :data:`_EXP_CHANGERS` only
    looks for a log factor (through ``logcombine`` and comparisons) and returns it unchanged; and
    ``1/(1 + e^{…})`` of a finite exponent is the power ``(1 + e^{…})^{-1}`` (SymPy asks whether
    e^{…} is infinite, and whether the sum is a complex number written out)."""
    arg = -a
    if not arg.is_Mul or sp.core.parameters.global_parameters.exp_is_pow or \
            arg.has(*_EXP_CHANGERS, -sp.oo) or arg.atoms(sp.Float):
        return 1 / (1 + sp.exp(arg))
    return sp.Pow(1 + sp.exp(arg, evaluate=False), -1, evaluate=False)


for _row in [
    Gate(name="add", rational=True, arity=None, forward=sp.Add, written=_nary(sp.Add), local=_one(1),
         lesson=_distributes, glyph=_with_constants("+"),
         doc="Sum gate: distributes its upstream gradient unchanged to every input."),
    Gate(name="sub", rational=True, arity=2, forward=lambda a, b: a - b,
         written=lambda a, b: sp.Add(a, sp.Mul(-1, b, evaluate=False), evaluate=False),
         local=lambda a, o, c: (sp.Integer(1), sp.Integer(-1)), glyph="−", doc="a − b."),
    Gate(name="mul", rational=True, arity=None, forward=sp.Mul, written=_nary(sp.Mul), local=_products_except_each,
         local_at=_products_except_each_at, cost=_product_cost, lesson=_swaps, glyph=_with_constants("×"),
         doc="Product gate: each input's gradient is the other inputs times the upstream gradient."),
    Gate(name="div", rational=True, arity=2, forward=lambda a, b: a / b,
         written=lambda a, b: sp.Mul(a, sp.Pow(b, -1, evaluate=False), evaluate=False),
         local=lambda a, o, c: (1 / a[1], -a[0] / a[1] ** 2), glyph="÷", doc="a / b."),
    Gate(name="linear", rational=True, arity=None, forward=_linear_forward, written=_linear_written,
         local=lambda a, o, c: _pair_partners(a[:-1]) + (sp.Integer(1),),
         check_inputs=lambda n: None if n % 2 else "gate linear takes (weight, input) pairs and a bias",
         method_inputs=lambda *pairs, bias=0: (*(v for pair in pairs for v in pair), bias), glyph="w·x + b",
         doc="A weighted sum w1·x1 + w2·x2 + ... + b in one gate (``pairs`` of (weight, input))."),
    Gate(name="dot", rational=True, arity=None,
         forward=lambda *a: sp.Add(*(a[i] * a[i + 1] for i in range(0, len(a), 2))),
         written=_dot_written, local=lambda a, o, c: _pair_partners(a),
         check_inputs=lambda n: "gate dot takes (a, b) pairs" if n % 2 else None, glyph="dot",
         doc="a1·b1 + a2·b2 + ... in one gate (inputs a1, b1, a2, b2, ...)."),
    Gate(name="softmax", arity=None, forward=_softmax_forward, written=_softmax_written, local=_softmax_local,
         weight=20, glyph="softmax",
         doc="One softmax entry: inputs (z_i, z_1, ..., z_n), output e^{z_i} / Σ_j e^{z_j}."),
    Gate(name="maxpool", rational=True, arity=None, forward=sp.Max, written=_nary(MaxOf),
         local=_maxpool_local,
         local_at=_maxpool_at, cost=_maxpool_cost, window_tie=_ties, glyph="max",
         window_tie_note="a tie for the maximum inside the window: the derivative is undefined there; all of "
                         "the upstream gradient goes to the first maximum (as PyTorch does)",
         doc="Max pooling over a window: all of the upstream gradient goes to the first maximum."),
    Gate(name="mean", rational=True, arity=None, forward=lambda *a: sp.Add(*a) / len(a), written=_mean_written,
         local=lambda a, o, c: tuple(sp.Rational(1, len(a)) for _ in a), glyph="mean",
         doc="The average of the inputs (average pooling over a window)."),
    Gate(name="neg", rational=True, forward=lambda a: -a, written=lambda a: sp.Mul(-1, a, evaluate=False),
         local=lambda a, o, c: (sp.Integer(-1),), glyph="×(−1)", doc="−a."),
    Gate(name="recip", rational=True, forward=lambda a: 1 / a, written=lambda a: sp.Pow(a, -1, evaluate=False),
         local=lambda a, o, c: (-1 / a[0] ** 2,), glyph="1/x", doc="1/a."),
    Gate(name="pow", arity=2, forward=sp.Pow, written=lambda a, b: sp.Pow(a, b, evaluate=False),
         local=lambda a, o, c: (a[1] * a[0] ** (a[1] - 1), a[0] ** a[1] * sp.log(a[0])), guard=lambda inputs: check_power(*inputs),
         glyph="^", doc="a ** b."),
    Gate(name="exp", activation=True, forward=sp.exp, written=lambda a: sp.exp(a, evaluate=False),
         local=lambda a, o, c: (sp.exp(a[0]),), glyph="exp", function="exp", sympy=sp.exp,
         elementwise=exp_, elementwise_rule=lambda c, d: Hadamard(d, c.symbol), doc="e ** a."),
    Gate(name="log", forward=sp.log, written=lambda a: sp.log(a, evaluate=False),
         local=lambda a, o, c: (1 / a[0],), glyph="log", function="log", sympy=sp.log, elementwise=log_,
         doc="Natural logarithm."),
    Gate(name="sqrt", forward=sp.sqrt, written=lambda a: sp.Pow(a, Half, evaluate=False),
         local=lambda a, o, c: (1 / (2 * o),), glyph="√", function="sqrt", doc="√a."),
    Gate(name="sin", forward=sp.sin, written=lambda a: sp.sin(a, evaluate=False),
         local=lambda a, o, c: (sp.cos(a[0]),), glyph="sin", function="sin", sympy=sp.sin, doc="sin a."),
    Gate(name="cos", forward=sp.cos, written=lambda a: sp.cos(a, evaluate=False),
         local=lambda a, o, c: (-sp.sin(a[0]),), glyph="cos", function="cos", sympy=sp.cos, doc="cos a."),
    Gate(name="tan", forward=sp.tan, written=lambda a: sp.tan(a, evaluate=False),
         local=lambda a, o, c: (1 + o ** 2,), glyph="tan", function="tan", sympy=sp.tan, doc="tan a."),
    Gate(name="tanh", activation=True, forward=sp.tanh, written=lambda a: sp.tanh(a, evaluate=False),
         local=lambda a, o, c: (1 - o ** 2,), glyph="tanh", function="tanh", sympy=sp.tanh, elementwise=tanh_,
         doc="tanh(a), with tanh' = 1 − tanh²."),
    Gate(name="sigmoid", activation=True, forward=_sigmoid_value, written=sigma,
         local=lambda a, o, c: (o * (1 - o),), glyph="σ", function="sigmoid", elementwise=sigma,
         doc="σ(a) = 1/(1 + e^{−a}) as one gate, with σ' = σ(1 − σ)."),
    Gate(name="relu", activation=True, rational=True, forward=lambda a: sp.Max(0, a), written=ReLU,
         local=lambda a, o, c: (_step(a[0], 0, c.relu_at_zero),), kink=lambda a: a[0],
         kink_note=_at_zero_note("ReLU(", ")", "ReLU'(0)", lambda c: c.relu_at_zero), lesson=_kink_only,
         glyph="ReLU", function="relu", elementwise=ReLU, doc="max(0, a); its derivative at 0 is a convention."),
    Gate(name="abs", rational=True, forward=sp.Abs, written=lambda a: sp.Abs(a, evaluate=False),
         local=lambda a, o, c: (_step(a[0], 0, c.abs_at_zero, down=sp.Integer(-1)),), kink=lambda a: a[0],
         kink_note=_at_zero_note("|", "|", "|x|'(0)", lambda c: c.abs_at_zero), glyph="|x|", function="abs",
         sympy=sp.Abs, doc="|a|; its derivative at 0 is a convention."),
    Gate(name="max", rational=True, arity=2, forward=sp.Max, written=MaxOf,
         local=lambda a, o, c: (_step(a[0], a[1], c.max_tie[0]), _step(a[1], a[0], c.max_tie[1])),
         kink=lambda a: a[0] - a[1], kink_note=_tie_note("max"), lesson=_routes("max", "larger"), glyph="max",
         function="max", traced="maximum", sympy=sp.Max,
         doc="max(a, b): routes the upstream gradient to the larger input."),
    Gate(name="pick", rational=True, forward=lambda a: a, written=lambda a: a, local=lambda a, o, c: (sp.Integer(1),),
         glyph="pick", doc="An entry picked out of a tensor (indexing, an embedding's row): its value, and the "
                           "upstream gradient passed back to the entry it was picked from."),
    Gate(name="erf", forward=sp.erf, written=lambda a: sp.erf(a, evaluate=False),
         local=lambda a, o, c: (2 / sp.sqrt(sp.pi) * sp.exp(-a[0] ** 2),), glyph="erf",
         doc="The error function erf(a), with erf'(a) = 2/√π · e^{−a²} (the exact GELU is x·(1 + erf(x/√2))/2)."),
    Gate(name="min", rational=True, arity=2, forward=sp.Min, written=MinOf,
         local=lambda a, o, c: (_step(a[1], a[0], c.max_tie[0]), _step(a[0], a[1], c.max_tie[1])),
         kink=lambda a: a[0] - a[1], kink_note=_tie_note("min"), lesson=_routes("min", "smaller"), glyph="min",
         function="min", traced="minimum", sympy=sp.Min,
         doc="min(a, b): routes the upstream gradient to the smaller input."),
]:
    add_gate(_row)
