"""Recomputing a step from a world of values: the student's where admitted, else recomputed.

A value the student did not write was still worked out by them, and rounded as they round: each
such value is a *ball* (a midpoint and a radius, as ball arithmetic writes an interval) whose
radius is the rounding at the student's precision plus what the rounding of the values it was
computed from moves it. A formula's ball is propagated input by input: its value at the
midpoints, and each input moved to either end of its ball (every gate, the ones added with
:func:`symderiv.add_gate` too, through the gate table's ``forward`` read when the check runs).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import mpmath
import sympy as sp

from ..engine.gates import get_convention, written_forms
from ..errors import GraphError, NotReal
from ..notation import Hadamard, Prime, exp_, softmax_
from ..numeric import evaluate
from ..quantities import SolutionIndex, Value
from ..record import Step

Number = mpmath.mpf


@dataclass(frozen=True)
class Ball:
    """A value known to within ``rad`` of ``mid``."""

    mid: Number
    rad: Number = mpmath.mpf(0)

    def __add__(self, other: Ball) -> Ball:
        return Ball(self.mid + other.mid, self.rad + other.rad)

    def __mul__(self, other: Ball) -> Ball:
        return Ball(self.mid * other.mid, abs(self.mid) * other.rad + abs(other.mid) * self.rad + self.rad * other.rad)

    def map(self, fn: Callable[[Number], Number]) -> Ball:
        """fn of the ball: its value at the midpoint, the radius its ends move it by."""
        mid = fn(self.mid)
        if not self.rad:
            return Ball(mid)
        return Ball(mid, max(abs(fn(self.mid - self.rad) - mid), abs(fn(self.mid + self.rad) - mid)))


def as_value(expr: sp.Basic) -> sp.Basic:
    """A formula as written, with the display-only functions (σ, ReLU, softplus, max as written)
    made computable by their gates' ``forward``, from the gate table as it is now."""
    forms = written_forms()

    def swap(e: sp.Basic) -> sp.Basic:
        if not e.args:
            return e
        args = [swap(a) for a in e.args]
        if type(e) in forms:
            return forms[type(e)].forward(*args)
        if isinstance(e, sp.Piecewise):
            return sp.Piecewise(*args, evaluate=False)
        return e.func(*args)
    return swap(expr)


def elementwise_function(e: sp.Basic) -> Callable[[Number], Number] | None:
    """The float function an element-wise written function (or its derivative f') computes, from
    the gate table as it is now; None when ``e`` is neither."""
    found = elementwise_gate(e)
    if found is None:
        return None
    gate, derivative = found
    x = sp.Symbol("x", real=True)
    body = sp.diff(gate.forward(x), x) if derivative else gate.forward(x)
    return lambda t: evaluate(body, {x: mpmath.mpf(t)})


def elementwise_gate(e: sp.Basic) -> tuple[Any, bool] | None:
    """The gate row an element-wise written function is (and whether ``e`` is its derivative f'),
    read from the gate table as it is now."""
    for form, gate in written_forms().items():
        if gate.elementwise is not form:
            continue
        if type(e) is form:
            return gate, False
        if isinstance(e, Prime) and type(e).__name__ == f"{form.__name__}_prime":
            return gate, True
    return None


def local_from_output(gate: Any) -> Callable[[Number, Number], Number] | None:
    """The gate's local derivative as its row writes it, in its input and output (tanh′ = 1 − o²),
    as a float function; None when the row's formula does not use the output."""
    x, out = sp.Symbol("x", real=True), sp.Symbol("o", real=True)
    local = gate.local([x], out, get_convention("pytorch"))[0]
    if out not in local.free_symbols:
        return None
    return lambda t, o: evaluate(local, {x: mpmath.mpf(t), out: mpmath.mpf(o)})


def is_elementwise_gate(e: sp.Basic, activation: bool = False) -> bool:
    """Whether ``e`` applies a gate entry by entry (an activation, where asked), read from the table."""
    return any(type(e) is form and gate.elementwise is form and (gate.activation or not activation)
               for form, gate in written_forms().items())


def has(expr: sp.Basic | None, *kinds: type) -> bool:
    """Whether a node of one of ``kinds`` is in ``expr``."""
    return expr is not None and any(isinstance(e, kinds) for e in sp.preorder_traversal(expr))


class World:
    """A value for every quantity of a solution: the student's where admitted, else recomputed
    from the student's values, else exact."""

    def __init__(self, index: SolutionIndex):
        self.index = index
        self.values: dict[Value, Ball] = {}
        self.taint: dict[Value, frozenset[Value]] = {}
        self._matrices: dict[tuple[int, bool], tuple[list[list[Ball]] | None, set[Value]]] = {}
        self._users: dict[Value, set[tuple[int, bool]]] = {}

    def ball(self, v: Value) -> Ball | None:
        if v in self.values:
            return self.values[v]
        return None if v.approx is None else Ball(v.approx)

    def of(self, v: Value) -> Number | None:
        b = self.ball(v)
        return None if b is None else b.mid

    def admit(self, v: Value, ball: Ball | None) -> None:
        """Set ``v`` (the matrices recomputed from it are recomputed when next asked)."""
        if ball is None:
            self.values.pop(v, None)
        else:
            self.values[v] = ball
        for key in self._users.pop(v, ()):
            self._matrices.pop(key, None)

    def symbol_ball(self, sym: sp.Basic, step: Step | None, used: set[Value]) -> Ball | None:
        v = self.index.of_symbol.get(sym)
        if v is not None:
            used.add(v)
            return self.ball(v)
        if step is not None and step.values and sym in step.values and step.values[sym].approx is not None:
            return Ball(step.values[sym].approx)
        return None

    def scalar(self, expr: sp.Basic, step: Step | None, used: set[Value], avoid: Value | None = None) -> Ball | None:
        """``expr`` (a scalar formula over names) at this world's values, with its spread."""
        expr = as_value(expr)
        env: dict[sp.Basic, Ball] = {}
        for sym in expr.free_symbols:
            if avoid is not None and self.index.of_symbol.get(sym) is avoid:
                return None  # a step written in terms of its own name: no recomputation
            b = self.symbol_ball(sym, step, used)
            if b is None:
                return None
            env[sym] = b
        return spread(expr, env)

    def matrix(self, expr: sp.Basic, used: set[Value], flip_exp: bool = False) -> list[list[Ball]] | None:
        """A matrix formula (products, sums, transposes, element-wise gates, softmax, scalars) at
        this world's values; None for anything else."""
        return MatrixEvaluator(self, used, flip_exp).eval(expr)

    def step_matrix(self, step: Step, used: set[Value]) -> list[list[Ball]] | None:
        """A matrix step's formula at this world's values, kept until one of its inputs changes."""
        key = (id(step), False)
        if key not in self._matrices:
            own: set[Value] = set()
            m = self.matrix(step.formula, own)
            self._matrices[key] = (m, own)
            for v in own:
                self._users.setdefault(v, set()).add(key)
        m, own = self._matrices[key]
        used.update(own)
        return m

    def recompute(self, v: Value, used: set[Value]) -> Ball | None:
        """v from its formula at this world's values (the first of its steps that has one)."""
        for step, index in v.steps:
            if step.formula is None:
                continue
            if index is None:
                b = self.scalar(step.formula, step, used, avoid=v)
            else:
                if v.matrix is not None and v.matrix.symbol in step.formula.free_symbols:
                    continue
                m = self.step_matrix(step, used)
                b = None if m is None or len(m) <= index[0] or len(m[0]) <= index[1] else m[index[0]][index[1]]
            if b is not None:
                return b
        return None


def spread(expr: sp.Basic, env: dict[sp.Basic, Ball]) -> Ball | None:
    """``expr`` at the balls' midpoints, and how far moving each input to an end of its ball moves
    it (summed over the inputs: the first-order bound of interval arithmetic, each term taken at
    the ball's ends so a curved gate is not underestimated)."""
    mids = {s: b.mid for s, b in env.items()}
    try:
        mid = evaluate(expr, mids)
        if mid is None:
            return None
        rad = mpmath.mpf(0)
        for s, b in env.items():
            if not b.rad:
                continue
            moved = 0
            for end in (b.mid - b.rad, b.mid + b.rad):
                at = evaluate(expr, {**mids, s: end})
                moved = max(moved, abs(at - mid))
            rad += moved
    except (NotReal, GraphError, TypeError, ValueError, AttributeError, ZeroDivisionError):
        return None
    return Ball(mid, rad)


class MatrixEvaluator:
    """A matrix formula's entries as balls (see :meth:`World.matrix`)."""

    def __init__(self, world: World, used: set[Value], flip_exp: bool):
        self.world, self.used, self.flip = world, used, flip_exp

    def eval(self, e: sp.Basic) -> list[list[Ball]] | None:
        try:
            out = self._eval(e)
        except (ValueError, TypeError, ZeroDivisionError, IndexError, NotReal, GraphError):
            return None
        return out if isinstance(out, list) else None

    def _eval(self, e: sp.Basic) -> Any:
        if e.is_Number:
            return Ball(mpmath.mpf(e.p) / e.q if e.is_Rational else mpmath.mpf(str(e)))
        if isinstance(e, sp.MatrixSymbol):
            m = self.world.index.matrix_of_symbol.get(e)
            if m is None:
                raise ValueError(e)
            self.used.update(m.values())
            balls = [[self.world.ball(v) for v in row] for row in m.entries]
            if any(b is None for row in balls for b in row):
                raise ValueError(e)
            return balls
        if not isinstance(e, sp.MatrixExpr) and not has(e, sp.MatrixSymbol) and not isinstance(e, sp.MatrixBase):
            b = self.world.scalar(e, None, self.used)  # a scalar factor of a matrix (1/√d_k)
            if b is None:
                raise ValueError(e)
            return b
        if isinstance(e, sp.Transpose):
            m = self._eval(e.arg)
            return [list(r) for r in zip(*m)]
        if isinstance(e, (sp.MatMul, sp.Mul)):
            out: Any = Ball(mpmath.mpf(1))
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
        if len(e.args) == 1 and isinstance(e, Prime):
            found = elementwise_gate(e)
            if found is not None:
                return self._derivative(e, found[0])
        if len(e.args) == 1:
            fn = elementwise_function(e)
            if fn is not None:
                if self.flip and type(e) is exp_:
                    return [[x.map(lambda t: fn(-t)) for x in row] for row in self._eval(e.args[0])]
                return [[x.map(fn) for x in row] for row in self._eval(e.args[0])]
        if isinstance(e, softmax_):
            m = self._eval(e.args[0])
            sign = -1 if self.flip else 1
            if len(m[0]) == 1:
                return [[b] for b in _softmax([r[0] for r in m], sign)]
            return [_softmax(row, sign) for row in m]
        raise ValueError(e)


    def _derivative(self, e: sp.Basic, gate: Any) -> list[list[Ball]]:
        """f'(A) entry by entry: from A, and, where the gate's row writes f' with its output (tanh′ =
        1 − tanh², σ′ = σ(1 − σ)) and the output matrix f(A) is in the solution, from the
        student's values of the output too (either way is how a student computes it)."""
        inputs = self._eval(e.args[0])
        fn = elementwise_function(e)
        by_input = [[x.map(fn) for x in row] for row in inputs]
        from_output = local_from_output(gate)
        output = self._output_of(e.args[0], gate) if from_output is not None else None
        if output is None:
            return by_input
        self.used.update(output.values())
        out = []
        for row_in, row_by, row_out in zip(inputs, by_input, output.entries):
            row = []
            for x, b, v in zip(row_in, row_by, row_out):
                o = self.world.ball(v)
                if o is None:
                    row.append(b)
                    continue
                other = spread_of(lambda t, u: from_output(t, u), x, o)
                row.append(Ball(b.mid, max(b.rad, abs(other.mid - b.mid) + other.rad)))
            out.append(row)
        return out

    def _output_of(self, arg: sp.Basic, gate: Any) -> Any:
        """The matrix of the solution computed as gate(arg), if there is one."""
        for m in self.world.index.matrices.values():
            for step in m.steps:
                f = step.formula
                if f is not None and type(f) is gate.elementwise and f.args and f.args[0] == arg:
                    return m
        return None


def spread_of(fn: Callable[[Number, Number], Number], a: Ball, b: Ball) -> Ball:
    """fn(a, b) of two balls: its value at the midpoints, and how far each end moves it."""
    mid = fn(a.mid, b.mid)
    rad = mpmath.mpf(0)
    if a.rad:
        rad += max(abs(fn(a.mid - a.rad, b.mid) - mid), abs(fn(a.mid + a.rad, b.mid) - mid))
    if b.rad:
        rad += max(abs(fn(a.mid, b.mid - b.rad) - mid), abs(fn(a.mid, b.mid + b.rad) - mid))
    return Ball(mid, rad)



def _softmax(row: list[Ball], sign: int) -> list[Ball]:
    """Softmax of a row of balls: each entry's spread from moving each input to its ends."""
    def at(xs: list[Number]) -> list[Number]:
        w = [mpmath.exp(sign * x) for x in xs]
        total = mpmath.fsum(w)
        return [x / total for x in w]
    mids = [b.mid for b in row]
    out = at(mids)
    rads = [mpmath.mpf(0)] * len(row)
    for k, b in enumerate(row):
        if not b.rad:
            continue
        moved = [mpmath.mpf(0)] * len(row)
        for end in (b.mid - b.rad, b.mid + b.rad):
            for i, y in enumerate(at(mids[:k] + [end] + mids[k + 1:])):
                moved[i] = max(moved[i], abs(y - out[i]))
        rads = [r + m for r, m in zip(rads, moved)]
    return [Ball(m, r) for m, r in zip(out, rads)]


def _product(a: Any, b: Any) -> Any:
    if not isinstance(a, list) and not isinstance(b, list):
        return a * b
    if not isinstance(a, list):
        return [[a * x for x in row] for row in b]
    if not isinstance(b, list):
        return [[x * b for x in row] for row in a]
    if len(a[0]) != len(b):
        raise ValueError("shapes")
    out = []
    for i in range(len(a)):
        row = []
        for j in range(len(b[0])):
            terms = [a[i][k] * b[k][j] for k in range(len(b))]
            row.append(Ball(mpmath.fsum(t.mid for t in terms), mpmath.fsum(t.rad for t in terms)))
        out.append(row)
    return out
