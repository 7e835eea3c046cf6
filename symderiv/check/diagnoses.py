"""The likely slips: a table with one row per kind (:data:`DIAGNOSES`).

A row names its kind, says in words which slip it is (the docs' table is generated from
``doc``), and recomputes the slip: ``recompute(case)`` yields (what it is, in words; its value)
for the line being diagnosed. A kind is printed only when its value reproduces the student's
number at the precision they wrote (half a unit of the last digit, widened by the spread of the
recomputation from their rounded values): a slip that is not reproduced is never offered.
Adding a kind is one row here and its test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import mpmath
import sympy as sp

from ..engine.gates import GATES
from ..notation import Hadamard, Prime, exp_, softmax_
from ..printing import format_float, text
from ..quantities import Matrix, SolutionIndex, Value
from ..record import Role, Step
from .answers import Written
from .world import World, as_value, has, is_elementwise_gate

Number = mpmath.mpf
_TINY = mpmath.mpf(10) ** -40


@dataclass(frozen=True)
class Diagnosis:
    """A likely slip, recomputed: its kind (a row of :data:`DIAGNOSES`), what it is, and its value."""

    kind: str
    text: str
    value: Number
    own: bool = False  # recomputed from all of the student's values (a slip on top of a carried one)

    def says(self, whose: str = "your") -> str:
        """The diagnosis in words."""
        return self.text + (f", from {whose} own values" if self.own else "")


@dataclass
class Case:
    """The line being diagnosed: its value, what was written, the world the slip is recomputed in,
    the value there (``base``), the digits to show, and every value the student wrote."""

    index: SolutionIndex
    value: Value
    written: Written
    world: World
    base: Number
    digits: int
    given: dict[Value, Written]

    def show(self, e: sp.Basic) -> str:
        return text(e, self.index.sol.names)

    def fmt(self, x: Number | None, extra: int = 0) -> str:
        return fmt(x, self.digits + extra)

    def formulas(self) -> Iterator[tuple[Step, tuple[int, int] | None]]:
        """Each step printing this value that has a formula (with the entry it is, for a matrix)."""
        for step, entry in self.value.steps:
            if step.formula is not None:
                yield step, entry

    def scalar(self, e: sp.Basic, step: Step) -> Number | None:
        b = self.world.scalar(e, step, set(), avoid=self.value)
        return None if b is None else b.mid

    def entry(self, e: sp.Basic, entry: tuple[int, int], flip_exp: bool = False) -> Number | None:
        m = self.world.matrix(e, set(), flip_exp)
        if m is None or len(m) <= entry[0] or len(m[0]) <= entry[1]:
            return None
        return m[entry[0]][entry[1]].mid

    def in_terms_of_itself(self, step: Step) -> bool:
        m = self.value.matrix
        return m is not None and m.symbol in step.formula.free_symbols

    @property
    def is_backward(self) -> bool:
        return Role.GRADIENT in self.value.roles


def fmt(x: Number | None, digits: int = 4) -> str:
    return "?" if x is None else format_float(x, digits)


Candidates = Iterator[tuple[str, Number | None]]


@dataclass(frozen=True)
class Rule:
    """One kind of slip: ``kind``; ``doc``, the slip in words (the docs' table); ``recompute``,
    the slip's values for a case, each with what it is."""

    kind: str
    doc: str
    recompute: Callable[[Case], Candidates]


# ----------------------------------------------------------------------------- the recomputations

def _sign(c: Case) -> Candidates:
    if c.base != 0:
        yield f"the sign flipped: {c.fmt(-c.base)}", -c.base


def _squared_loss(index: SolutionIndex) -> bool:
    """Whether the output is a squared loss with its ½ (a step of the forward pass is ½·(…)²)."""
    for step, _ in index.printed:
        f = step.formula
        if f is None or step.quantity.role is not Role.FORWARD:
            continue
        for e in sp.preorder_traversal(f):
            if isinstance(e, sp.Mul) and sp.Rational(1, 2) in e.args and \
                    any(isinstance(a, sp.Pow) and a.exp == 2 for a in e.args):
                return True
    return False


def _half_of_squared_loss(c: Case) -> Candidates:
    if c.base == 0 or not _squared_loss(c.index):
        return
    if not (c.value.is_gradient or c.value.step.quantity.gate == "expr"):
        return
    yield (f"off by a factor of 2 (the ½ of a squared loss): 2·{c.fmt(c.base)} = {c.fmt(2 * c.base)}",
           2 * c.base)
    yield f"off by a factor of 2 (the ½ of a squared loss): {c.fmt(c.base)}/2 = {c.fmt(c.base / 2)}", c.base / 2


def _truncated(c: Case) -> Candidates:
    w = c.written
    if w.unit is None:
        return
    unit = mpmath.mpf(w.unit.p) / w.unit.q
    truncated = mpmath.sign(c.base) * mpmath.floor(abs(c.base) / unit + _TINY) * unit
    if w.matches(truncated) and not w.matches(c.base):
        yield (f"cut off instead of rounded: {c.fmt(c.base, 2)} rounds to {_rounded(c.base, unit, c.digits)}, "
               f"not {w.text}", truncated)


def _degrees_of(expr: sp.Basic) -> sp.Basic:
    """The expression with every sine, cosine and tangent taken in degrees."""
    return expr.replace(lambda e: isinstance(e, (sp.sin, sp.cos, sp.tan)),
                        lambda e: e.func(sp.pi * e.args[0] / 180))


def _degrees(c: Case) -> Candidates:
    for step, entry in c.value.steps:
        if entry is None and step.formula is not None and has(step.formula, sp.sin, sp.cos, sp.tan):
            f = _degrees_of(step.formula)
            v = c.scalar(f, step)
            yield f"degrees for radians: {c.show(f)} ≈ {c.fmt(v)}", v
        exact = _exact_of(step, entry)
        if exact is not None and has(exact, sp.sin, sp.cos, sp.tan):
            f = _degrees_of(exact)
            v = c.scalar(f, step)
            yield f"degrees for radians: {c.show(f)} ≈ {c.fmt(v)}", v


def _flip_exp(expr: sp.Basic) -> sp.Basic:
    """The expression with e^{-x} for every e^{x} (e itself as e^{-1})."""
    if expr is sp.E:
        return sp.exp(-1)
    if isinstance(expr, sp.exp):
        return sp.exp(-_flip_exp(expr.args[0]))
    if not expr.args:
        return expr
    return expr.func(*(_flip_exp(a) for a in expr.args))


def _exp_sign(c: Case) -> Candidates:
    for step, entry in c.value.steps:
        f = step.formula
        if f is not None and entry is None and as_value(f).has(sp.exp):
            yield f"e^(−x) for e^x: {c.fmt(c.scalar(_flip_exp(as_value(f)), step))}", \
                c.scalar(_flip_exp(as_value(f)), step)
        if f is not None and entry is not None and not c.in_terms_of_itself(step) and has(f, exp_, softmax_):
            v = c.entry(f, entry, flip_exp=True)
            yield f"e^(−x) for e^x in {c.show(f)}: {c.fmt(v)}", v
        exact = _exact_of(step, entry)
        if exact is not None and (has(exact, sp.exp) or exact.has(sp.E)):
            v = c.scalar(_flip_exp(exact), step)
            yield f"e^(−x) for e^x: {c.show(_flip_exp(exact))} ≈ {c.fmt(v)}", v


def _local_of(index: SolutionIndex, e: sp.Basic) -> Value | None:
    """The local derivative an activation gate's symbol in a formula stands for (σ′, tanh′)."""
    v = index.of_symbol.get(e)
    q = None if v is None else v.step.quantity
    if q is not None and q.role is Role.LOCAL and q.gate is not None and _activation(q.gate):
        return v
    return None


def _activation(gate: str) -> bool:
    row = GATES.get(gate)
    return row is not None and row.activation


def _missing_factor(c: Case) -> Candidates:
    for step, entry in c.formulas():
        f = step.formula
        q = step.quantity
        if entry is None and isinstance(f, sp.Mul) and len(f.args) >= 2 and \
                not (q.role is Role.LOCAL and q.gate is not None and _activation(q.gate)):
            for factor in f.args:
                if _local_of(c.index, factor) is not None or _is_scale(c.index, factor):
                    continue  # the activation's derivative left out, a scale left out: their own rows
                rest = sp.Mul(*[a for a in f.args if a is not factor], evaluate=False)
                v = c.scalar(rest, step)
                fv = c.index.of_symbol.get(factor)
                if c.is_backward and fv is not None and Role.GRADIENT in fv.roles:
                    yield (f"the upstream factor {c.show(factor)} left out (the local derivative "
                           f"{c.show(rest)} ≈ {c.fmt(v)} reported as the gradient)", v)
                else:
                    yield f"the factor {c.show(factor)} left out: {c.show(rest)} ≈ {c.fmt(v)}", v
        if entry is not None and isinstance(f, Hadamard) and not c.in_terms_of_itself(step):
            for k, factor in enumerate(f.args):
                if isinstance(factor, Prime):
                    continue
                rest = f.args[1 - k]
                v = c.entry(rest, entry)
                yield (f"the upstream factor {c.show(factor)} left out ({c.show(rest)} entry "
                       f"{max(entry) + 1} ≈ {c.fmt(v)} reported as the gradient)", v)


def _derivative_left_out(c: Case) -> Candidates:
    for step, entry in c.formulas():
        f = step.formula
        if entry is None and isinstance(f, sp.Mul):
            for factor in f.args:
                local = _local_of(c.index, factor)
                if local is None:
                    continue
                rest = sp.Mul(*[a for a in f.args if a is not factor], evaluate=False)
                v = c.scalar(rest, step)
                yield f"{local.step.quantity.gate}′ left out: {c.show(rest)} ≈ {c.fmt(v)}", v
        if entry is not None and isinstance(f, Hadamard) and not c.in_terms_of_itself(step):
            for k, factor in enumerate(f.args):
                if isinstance(factor, Prime):
                    rest = f.args[1 - k]
                    v = c.entry(rest, entry)
                    yield f"{c.show(factor)} left out: {c.show(rest)} entry {max(entry) + 1} ≈ {c.fmt(v)}", v


def _activation_for_derivative(gate: str) -> Callable[[Case], Candidates]:
    """The gate's output written for its derivative (σ for σ′ = σ(1 − σ), tanh for tanh′)."""
    def recompute(c: Case) -> Candidates:
        glyph = GATES[gate].glyph if gate in GATES and isinstance(GATES[gate].glyph, str) else gate
        for step, entry in c.formulas():
            if entry is not None:
                continue
            q = step.quantity
            if q.role is Role.LOCAL and q.gate == gate:
                out = c.index.by_key.get(f"forward:{q.node}")
                if isinstance(out, Value):
                    sym = out.steps[0][0].lhs
                    yield f"{glyph} for {glyph}′: {c.show(sym)} ≈ {c.fmt(c.world.of(out))}", \
                        c.world.of(out)
            for sym in step.formula.free_symbols:
                local = _local_of(c.index, sym)
                if local is None or local.step.quantity.gate != gate:
                    continue
                out = c.index.by_key.get(f"forward:{local.step.quantity.node}")
                if isinstance(out, Value):
                    a = out.steps[0][0].lhs
                    v = c.scalar(step.formula.xreplace({sym: a}), step)
                    yield f"{glyph} for {glyph}′: {c.show(sym)} taken as {c.show(a)}: {c.fmt(v)}", v
    return recompute




def _is_scale(index: SolutionIndex, factor: sp.Basic) -> bool:
    """A scalar factor made of numbers and derived sizes, with a root or a power (1/√d_k)."""
    if isinstance(factor, sp.MatrixExpr) or factor.has(sp.MatrixSymbol) or not isinstance(factor, sp.Pow):
        return False
    return all(index.of_symbol.get(s) is not None and Role.DERIVED in index.of_symbol[s].roles
               for s in factor.free_symbols)


def _scale_left_out(c: Case) -> Candidates:
    for step, entry in c.formulas():
        f = step.formula
        if not isinstance(f, (sp.Mul, sp.MatMul)) or len(f.args) < 2:
            continue
        for factor in f.args:
            if not _is_scale(c.index, factor):
                continue
            rest = [a for a in f.args if a is not factor]
            v = c.scalar(sp.Mul(*rest), step) if entry is None else c.entry(sp.MatMul(*rest), entry)
            yield f"the scale {c.show(factor)} left out: {c.fmt(v)}", v


def _fan_out_and_terms(c: Case, fan_out: bool) -> Candidates:
    for step, entry in c.formulas():
        f = step.formula
        if entry is None and isinstance(f, sp.Add) and len(f.args) >= 2:
            terms = [(c.show(t), c.scalar(t, step)) for t in f.args]
            yield from _terms(terms, c.scalar(f, step), c.is_backward, fan_out, c)
        elif entry is not None and not c.in_terms_of_itself(step):
            i, j = entry
            if fan_out and isinstance(f, sp.MatAdd) and c.is_backward:
                for term in f.args:
                    v = c.entry(term, entry)
                    yield f"a fan-out gradient not summed: only the term {c.show(term)} = {c.fmt(v)}", v
            if isinstance(f, sp.MatMul) and len(f.args) == 2:
                grids = [_named_grid(a, c.world, c.index) for a in f.args]
                if all(g is not None for g in grids):
                    (na, va), (nb, vb) = grids
                    terms = [(f"{na[i][k]}·{nb[k][j]}", va[i][k] * vb[k][j]) for k in range(len(vb))]
                    yield from _terms(terms, mpmath.fsum(t for _, t in terms), False, fan_out, c)


def _terms(terms: list[tuple[str, Number | None]], total: Number | None, backward: bool, fan_out: bool,
           c: Case) -> Candidates:
    """A slip in one term of a written-out sum: left out, its sign flipped, its decimal point
    moved; and, in a backward step, a fan-out gradient not summed (one term alone)."""
    if total is None or any(t is None for _, t in terms):
        return
    for name, t in terms:
        if fan_out:
            if backward:
                yield f"a fan-out gradient not summed: only the term {name} ≈ {c.fmt(t)}", t
            continue
        if t == 0:
            continue
        if not backward:  # in a backward sum, one term left out is a fan-out not summed
            yield f"the term {name} ≈ {c.fmt(t)} left out: {c.fmt(total - t)}", total - t
        yield f"the term {name} ≈ {c.fmt(t)} with the wrong sign: {c.fmt(total - 2 * t)}", total - 2 * t
        for shift in (10, mpmath.mpf(1) / 10):
            yield (f"the term {name} ≈ {c.fmt(t)} written as {c.fmt(t * shift)}: "
                   f"{c.fmt(total - t + t * shift)}", total - t + t * shift)


def _operation(c: Case) -> Candidates:
    for step, entry in c.formulas():
        f = step.formula
        if entry is not None or len(f.args) != 2 or not all(a.is_Symbol or a.is_number for a in f.args):
            continue
        if isinstance(f, sp.Mul):
            v = c.scalar(sp.Add(*f.args), step)
            yield f"added instead of multiplied: {c.show(sp.Add(*f.args, evaluate=False))} = {c.fmt(v)}", v
        if isinstance(f, sp.Add):
            v = c.scalar(sp.Mul(*f.args), step)
            yield f"multiplied instead of added: {c.show(sp.Mul(*f.args, evaluate=False))} = {c.fmt(v)}", v


def _activation_not_applied(c: Case) -> Candidates:
    for step, entry in c.formulas():
        f = step.formula
        q = step.quantity
        gate = q.gate if q is not None else None
        if len(f.args) != 1 or f.args[0].is_number or gate is None or not _activation(gate):
            continue
        if entry is None:
            v = c.scalar(f.args[0], step)
            yield f"the activation not applied: {c.show(f.args[0])} ≈ {c.fmt(v)}", v
        elif is_elementwise_gate(f, activation=True) and not c.in_terms_of_itself(step):
            v = c.entry(f.args[0], entry)
            yield f"the activation not applied: {c.show(f.args[0])} entry {entry[0] + 1} ≈ {c.fmt(v)}", v


def _transposed_factor(c: Case) -> Candidates:
    if not c.is_backward:
        return  # W for Wᵀ is a slip of the backward pass
    for step, entry in c.formulas():
        f = step.formula
        if entry is None or not isinstance(f, sp.MatMul) or c.in_terms_of_itself(step):
            continue
        for k, factor in enumerate(f.args):
            plain = factor.arg if isinstance(factor, sp.Transpose) else factor
            if not isinstance(plain, sp.MatrixSymbol) or plain.shape[0] != plain.shape[1]:
                continue
            swapped = plain if isinstance(factor, sp.Transpose) else sp.Transpose(plain)
            g = sp.MatMul(*f.args[:k], swapped, *f.args[k + 1:])
            v = c.entry(g, entry)
            yield f"{c.show(swapped)} for {c.show(factor)}: {c.fmt(v)}", v


def _window(c: Case) -> Candidates:
    """A convolution's window off by one: this entry is the neighbouring window's."""
    m = c.value.matrix
    if m is None or m.quantity.gate not in ("conv",):
        return
    i, j = c.value.index
    for di, dj in ((0, 1), (0, -1), (1, 0), (-1, 0)):
        k, l = i + di, j + dj
        if 0 <= k < m.shape[0] and 0 <= l < m.shape[1]:
            other = m.entries[k][l]
            yield (f"the window off by one: the window of {other.name} gives {c.fmt(c.world.of(other))}",
                   c.world.of(other))


def _pool_cell(c: Case) -> Candidates:
    """Max pooling's gradient sent to a cell of the window that is not its maximum: this cell
    (whose gradient is 0) written with the window's upstream gradient."""
    m = c.value.matrix
    if m is None or not c.is_backward or c.value.approx != 0:
        return
    for step, _ in c.index.printed:
        q = step.quantity
        if q.role is not Role.FORWARD or q.gate != "maxpool" or step.formula is None:
            continue
        if m.quantity.node not in {str(x) for x in step.formula.free_symbols}:
            continue
        pooled, upstream = c.index.by_key.get(f"forward:{q.node}"), c.index.by_key.get(f"gradient:{q.node}")
        if not isinstance(pooled, Matrix) or not isinstance(upstream, Matrix):
            continue
        (rows, cols), (out_rows, out_cols) = m.shape, pooled.shape
        if rows % out_rows or cols % out_cols:
            continue
        i, j = c.value.index
        window = upstream.entries[i // (rows // out_rows)][j // (cols // out_cols)]
        yield (f"the window's gradient {window.name} ≈ {c.fmt(c.world.of(window))} sent to this cell, not to "
               f"the window's maximum", c.world.of(window))


def _swapped(c: Case) -> Candidates:
    """Two entries swapped: this one is the other's, and the other written is this one's."""
    m = c.value.matrix
    if m is None:
        return
    for other in m.values():
        if other is c.value or other.approx is None or other.index == c.value.index[::-1] and _transposed(m, c.given):
            continue
        back = c.given.get(other)
        if back is not None and c.value.approx is not None and back.matches(c.value.approx, units=1):
            yield (f"{c.value.name} and {other.name} swapped: {other.name} ≈ {c.fmt(other.approx)}, and your "
                   f"{other.name} = {back.text} is {c.value.name}", other.approx)


def _transposed_matrix(c: Case) -> Candidates:
    m = c.value.matrix
    if m is None or not _transposed(m, c.given):
        return
    i, j = c.value.index
    other = m.entries[j][i]
    yield f"{m.name} transposed: this is entry {j + 1},{i + 1}, {c.fmt(other.approx)}", other.approx


def _transposed(m: Matrix, given: dict[Value, Written]) -> bool:
    """Whether the student's entries of a square matrix are its transpose (and not all symmetric)."""
    rows, cols = m.shape
    if rows != cols or rows < 2:
        return False
    asym = False
    for i in range(rows):
        for j in range(cols):
            v = m.entries[i][j]
            if v not in given:
                return False
            t = m.entries[j][i].approx
            if t is None or not given[v].matches(t, units=1):
                return False
            asym = asym or (v.approx is not None and not given[v].matches(v.approx))
    return asym


def _named_grid(e: sp.Basic, world: World, index: SolutionIndex) -> tuple[list[list[str]], list[list[Any]]] | None:
    """The entry names and values of a matrix symbol (or its transpose)."""
    transpose = isinstance(e, sp.Transpose)
    m = index.matrix_of_symbol.get(e.arg if transpose else e)
    if m is None:
        return None
    names = [[x.name for x in row] for row in m.entries]
    values = [[world.of(x) for x in row] for row in m.entries]
    if any(v is None for row in values for v in row):
        return None
    if transpose:
        names, values = [list(r) for r in zip(*names)], [list(r) for r in zip(*values)]
    return names, values


def _exact_of(step: Step, entry: tuple[int, int] | None) -> sp.Basic | None:
    exact = step.exact[entry] if entry is not None and isinstance(step.exact, sp.MatrixBase) else step.exact
    return None if exact is None or isinstance(exact, sp.MatrixBase) else exact


def _rounded(x: Number, unit: Number, digits: int) -> str:
    """x rounded to ``unit`` (a power of ten), with the places the student wrote."""
    places = max(0, -int(mpmath.nint(mpmath.log10(unit))))
    return f"{float(mpmath.nint(x / unit) * unit):.{places}f}" if places < 15 else format_float(x, digits)


#: The diagnoses table: one row per kind of slip, in the order they are offered.
DIAGNOSES: tuple[Rule, ...] = (
    Rule("sign", "the sign flipped", _sign),
    Rule("factor-2", "off by a factor of 2: the ½ of a squared loss (only where the output is one)",
         _half_of_squared_loss),
    Rule("truncated", "cut off instead of rounded (0.3678 for 0.36788…)", _truncated),
    Rule("degrees", "degrees for radians (sin 0.1° = 0.001745 for sin 0.1 = 0.0998)", _degrees),
    Rule("exp-sign", "e^{−x} for e^{x}, in an exponential, a sigmoid or a softmax", _exp_sign),
    Rule("missing-factor", "a factor of a product left out, in particular the upstream gradient (the local "
         "derivative reported as the gradient)", _missing_factor),
    Rule("derivative-left-out", "an activation's derivative left out (tanh′, σ′: the upstream gradient alone)",
         _derivative_left_out),
    Rule("scale", "a scale left out (self-attention's 1/√d_k)", _scale_left_out),
    Rule("operation", "added instead of multiplied, or the other way round", _operation),
    Rule("sigmoid-derivative", "σ for σ′ = σ(1 − σ)", _activation_for_derivative("sigmoid")),
    Rule("tanh-derivative", "tanh for tanh′ = 1 − tanh²", _activation_for_derivative("tanh")),
    Rule("fan-out", "a fan-out gradient not summed (one term of the sum alone)",
         lambda c: _fan_out_and_terms(c, fan_out=True)),
    Rule("term", "a slip in one term of a written-out sum or matrix product (left out, its sign flipped, its "
         "decimal point moved), naming the term", lambda c: _fan_out_and_terms(c, fan_out=False)),
    Rule("activation", "the activation not applied (the pre-activation reported)", _activation_not_applied),
    Rule("transposed-factor", "a square factor of a matrix product transposed, or its transpose left out "
         "(W_hh for W_hhᵀ)", _transposed_factor),
    Rule("window", "a convolution's window off by one (the neighbouring window's value)", _window),
    Rule("pool-cell", "max pooling's gradient sent to a cell of the window that is not its maximum",
         _pool_cell),
    Rule("transposed", "the whole matrix written transposed", _transposed_matrix),
    Rule("swapped", "two entries of a matrix swapped (each written as the other)", _swapped),
)


def diagnose(case: Case) -> list[Diagnosis]:
    """The rows whose recomputed slip reproduces the written number, one per kind, in table order."""
    found: list[Diagnosis] = []
    v, w = case.value, case.written
    for rule in DIAGNOSES:
        for words, value in rule.recompute(case):
            if value is None:
                continue
            if v.approx is not None and abs(value - v.approx) <= _TINY * max(1, abs(v.approx)):
                continue  # the slip changes nothing here
            if w.matches(value, units=1):
                found.append(Diagnosis(rule.kind, words, value))
                break
    return found


def diagnoses_table() -> str:
    """The docs' table of the kinds of slip, from the rows."""
    out = ["| kind | the slip |", "|---|---|"]
    out += [f"| `{r.kind}` | {r.doc} |" for r in DIAGNOSES]
    return "\n".join(out)


__all__ = ["DIAGNOSES", "Case", "Diagnosis", "Rule", "diagnose", "diagnoses_table"]
