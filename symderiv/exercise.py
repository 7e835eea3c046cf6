"""Exercises: randomized variants of a catalogue model with nice numbers, and the values asked.

``exercises("sigmoid-neuron", n=30, seed=7)`` draws 30 variants: each numeric parameter from a
range (per-model defaults; ``vary={"w0": "int(-3..3)"}`` overrides), redrawn until the variant
is *nice* (no asked gradient zero, no kink, no value needing many digits, every variant
distinct), and returns one :class:`Exercise` per variant: its parameters, its
:class:`~symderiv.record.Solution` and the values asked (:class:`Asked`).

A range is parsed by a small grammar (never evaluated)::

    int(A..B)          a whole number from A to B
    int(A..B)/D        the same divided by D (tenths: int(-5..5)/10)
    {V, V, ...}        one of these numbers (or words, for a choice parameter)
    normalized(int(A..B))   entries drawn from the range, divided by their sum (a distribution)
    ... [N,M]          any of the above with an explicit shape (each entry drawn)
    VALUE              anything else: a fixed value, as ``--set`` takes it

Variant ``k`` of seed ``s`` depends only on (model, ranges, ``s``, ``k``), so the same seed gives
the same variants, whichever order or process computes them.
"""

from __future__ import annotations

import contextlib
import math
import random
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import mpmath
import sympy as sp

from . import limits
from .errors import ParameterError, SizeError, SymderivError
from .models import Param, Setup, get_model
from .printing import format_float, latex
from .quantities import Matrix, NoSuchName, SolutionIndex, Value, entry_label
from .record import Solution
from .values import parse_value

#: Draws tried for one variant before giving up (each is one solve of the model).
MAX_DRAWS = 100
#: At most this many variants in one call.
MAX_VARIANTS = 1000
#: Bounds of the numbers a range may name, and of an explicit shape.
MAX_MAGNITUDE = 10**6
MAX_ENTRIES = 10_000
#: A nice variant's values stay below this in size.
MAX_VALUE = 10**4


# ----- ranges -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Range:
    """What one parameter takes in a variant: ``fixed`` text, or a draw (``choices`` for each
    entry, of ``shape``; ``normalized``: the entries divided by their sum)."""

    text: str
    fixed: str | None = None
    choices: tuple[Any, ...] = ()
    shape: tuple[int, ...] = ()
    normalized: bool = False

    @property
    def count(self) -> int:
        """How many different values the draw can give (capped at 10**18)."""
        if self.fixed is not None:
            return 1
        entries = math.prod(self.shape)
        return min(10**18, len(self.choices) ** min(entries, 64))

    def draw(self, rng: random.Random) -> Any:
        """One value: a number, a word, or nested lists of the shape."""
        if self.fixed is not None:
            return self.fixed

        def fill(shape: tuple[int, ...]) -> Any:
            if not shape:
                return rng.choice(self.choices)
            return [fill(shape[1:]) for _ in range(shape[0])]

        value = fill(self.shape)
        if self.normalized:
            total = sum(_flat(value))
            if total == 0:
                return None
            value = _scale(value, 1 / total)
        return value


def _flat(v: Any) -> list[Any]:
    return [x for item in v for x in _flat(item)] if isinstance(v, list) else [v]


def _scale(v: Any, factor: sp.Rational) -> Any:
    return [_scale(x, factor) for x in v] if isinstance(v, list) else v * factor


_INT_RANGE = re.compile(r"int\(\s*([+-]?[0-9]{1,7})\s*\.\.\s*([+-]?[0-9]{1,7})\s*\)(?:\s*/\s*([0-9]{1,7}))?")
_SHAPE = re.compile(r"\s*\[\s*([0-9]{1,4}(?:\s*,\s*[0-9]{1,4}){0,3})\s*\]\s*$")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,40}")


def parse_range(text: str, param: Param, model: str) -> Range:
    """``text`` (the grammar of this module's docstring) as the range of ``param``; every value
    it can give is checked against the parameter up front. Raises :class:`ParameterError`."""
    where = f"--vary {param.name}={text}"
    s = text.strip()
    if len(s) > 10_000:
        raise ParameterError(f"--vary {param.name}: the range is longer than 10000 characters")
    if not s.startswith(("int(", "{", "normalized(")):
        try:
            param.convert(s, model)
        except ParameterError as e:
            raise ParameterError(f"{where}: {e}") from None
        return Range(text, fixed=s)
    body, shape = s, None
    m = _SHAPE.search(s)
    if m and s[:m.start()].rstrip()[-1:] in tuple(")}0123456789"):
        body, shape = s[:m.start()].strip(), tuple(int(d) for d in m.group(1).split(","))
        if any(d < 1 for d in shape) or math.prod(shape) > MAX_ENTRIES:
            raise ParameterError(f"{where}: a shape has dimensions of at least 1 and at most {MAX_ENTRIES} entries")
    normalized = body.startswith("normalized(")
    if normalized:
        if not body.endswith(")"):
            raise ParameterError(f"{where}: expected normalized(int(A..B))")
        body = body[len("normalized("):-1].strip()
    choices = _choices(body, where, param)
    if normalized and not all(isinstance(c, sp.Rational) and c >= 0 for c in choices):
        raise ParameterError(f"{where}: normalized() draws non-negative numbers, like normalized(int(1..5))")
    if param.kind in ("number",) and shape:
        raise ParameterError(f"{where}: {param.name} is a number; a shape is for list parameters")
    if param.kind in ("int", "choice", "text"):
        if shape or normalized:
            raise ParameterError(f"{where}: {param.name} takes one value; no shape or normalized()")
    if param.kind in ("array", "number-or-array") and shape is None:
        if param.default is None:
            raise ParameterError(f"{where}: {param.name} has no default shape; give one, like {body}[2,2]")
        shape = _shape(param.convert(param.default, model))
    shape = shape or ()
    if param.kind == "array" and len(shape) != len(param.shape):
        raise ParameterError(f"{where}: {param.name} has {len(param.shape)} dimension(s), the shape "
                            f"{list(shape)} has {len(shape)}")
    for c in choices:  # every value the draw can give is one the model takes
        try:
            param.convert(_constant(c, shape) if shape else (int(c) if param.kind == "int" else c), model)
        except ParameterError as e:
            raise ParameterError(f"{where}: {e}") from None
    return Range(text, choices=tuple(choices), shape=shape, normalized=normalized)


def _constant(c: Any, shape: tuple[int, ...]) -> Any:
    return c if not shape else [_constant(c, shape[1:]) for _ in range(shape[0])]


def _shape(v: Any) -> tuple[int, ...]:
    return (len(v), *_shape(v[0])) if isinstance(v, list) else ()


def _choices(body: str, where: str, param: Param) -> list[Any]:
    m = _INT_RANGE.fullmatch(body)
    if m:
        low, high, divisor = int(m.group(1)), int(m.group(2)), int(m.group(3) or 1)
        if low > high:
            raise ParameterError(f"{where}: empty range: {low} is above {high}")
        if max(abs(low), abs(high), divisor) > MAX_MAGNITUDE or divisor == 0:
            raise ParameterError(f"{where}: the bounds are at most {MAX_MAGNITUDE:,} in size and the divisor "
                                f"a whole number from 1 to {MAX_MAGNITUDE:,}")
        if high - low > MAX_MAGNITUDE:
            raise ParameterError(f"{where}: the range has more than {MAX_MAGNITUDE:,} values")
        if divisor != 1 and param.kind == "int":
            raise ParameterError(f"{where}: {param.name} is a whole number; a divisor makes fractions")
        return [sp.Rational(v, divisor) for v in range(low, high + 1)]
    if body.startswith("{") and body.endswith("}"):
        items = [t.strip() for t in body[1:-1].split(",")]
        if not items or any(not t for t in items) or len(items) > 100:
            raise ParameterError(f"{where}: expected {{V, V, ...}}: one to 100 values, separated by commas")
        out: list[Any] = []
        for t in items:
            if param.kind == "choice" and _WORD.fullmatch(t):
                out.append(t)
                continue
            try:
                out.append(parse_value(t, where))
            except ParameterError as e:
                raise ParameterError(str(e)) from None
            if isinstance(out[-1], list):
                raise ParameterError(f"{where}: the values of {{...}} are numbers; give a shape after it")
        return list(dict.fromkeys(out))
    raise ParameterError(f"{where}: expected int(A..B), int(A..B)/D, {{V, V, ...}} or normalized(int(A..B)), "
                        "optionally followed by a shape [N,M]")


# ----- what is asked ------------------------------------------------------------------------
@dataclass(frozen=True)
class Asked:
    """One number asked of the student: ``group`` is the name asked for (``∂L/∂K``), ``name``
    this entry of it (``∂L/∂K[1,2]``; the same as the group for a scalar), ``latex`` its name in
    LaTeX, ``value`` the float, ``exact`` the exact value as text (None when it has no short
    closed form), ``shown`` the value to the digits shown (trailing zeros kept) and ``tolerance``
    the absolute tolerance a platform accepts (:func:`tolerance`; 0 for an integer); ``key``
    the name as an identifier (``dL_dK_1_2``), an answer's name on a platform; ``gradient``
    whether it is a gradient (a step of the backward pass)."""

    group: str
    name: str
    key: str
    latex: str
    value: float
    exact: str | None
    shown: str
    tolerance: float
    gradient: bool


def identifier(name: str) -> str:
    """``∂L/∂K[1,2]`` -> ``dL_dK_1_2``: ASCII letters, digits and underscores."""
    out = re.sub(r"[^A-Za-z0-9]+", "_", name.replace("∂", "d").replace("θ̂", "theta_hat").replace("θ", "theta")
                 .replace("/", "_"))
    out = out.strip("_") or "value"
    return out if not out[0].isdigit() else "v" + out


@dataclass(frozen=True)
class Exercise:
    """One variant: its ``parameters`` (the values drawn or fixed, as passed to
    :func:`symderiv.solve`), the :class:`~symderiv.record.Solution` and the values ``asked``."""

    model: str
    index: int
    parameters: Mapping[str, Any]
    asked: tuple[Asked, ...]
    solution: Solution


def resolve_ask(index: SolutionIndex, names: Sequence[str]) -> list[Value | Matrix]:
    """What each asked name means: a value, one entry of a matrix, or a whole matrix. Raises
    :class:`ParameterError` for a name the solution does not print."""
    out = []
    for asked in names:
        try:
            out.append(index.find(asked, where=f"--ask {asked!r}: "))
        except NoSuchName:
            printed = list(dict.fromkeys(x.name for _, x in index.printed))
            shown = ", ".join(printed[:12]) + (", …" if len(printed) > 12 else "")
            raise ParameterError(f"--ask {asked!r}: {index.sol.model} prints no value of that name; it prints "
                                 f"{shown}") from None
    return out


def compared_digits(digits: int) -> int:
    """The significant digits an answer must agree to when ``digits`` are asked: two fewer (at
    least 2, all of them below 3), so that hand work rounding every intermediate to ``digits``
    digits, as the key stages it, is accepted (benchmarks/exercises.py measures it)."""
    return max(min(digits, 2), digits - 2)


def significant(x: float | mpmath.mpf, digits: int) -> str:
    """``x`` to ``digits`` significant digits with its trailing zeros (0.2100, not 0.21)."""
    shown = format_float(x, digits)
    if "e" in shown or x == 0:
        return shown
    mantissa = shown.lstrip("-").replace(".", "").lstrip("0")
    missing = digits - len(mantissa)
    if missing > 0:
        shown += ("" if "." in shown else ".") + "0" * missing
    return shown


def tolerance(value: float, digits: int, scale: float | None = None) -> float:
    """The absolute tolerance of an answer asked to ``digits`` significant digits: 0.51 units in
    the last of :func:`compared_digits` digits of ``value`` (PrairieLearn's sigfig comparison), and
    never less than a twentieth of that at ``scale`` (the largest entry of the matrix the value
    belongs to: an entry that is a small difference of large terms carries their rounding)."""
    k = compared_digits(digits)
    out = 0.0 if value == 0 else 0.51 * 10.0 ** (math.floor(math.log10(abs(value))) - (k - 1))
    if scale:
        out = max(out, 0.255 * 10.0 ** (math.floor(math.log10(abs(scale))) - k))
    return float(f"{out:.2g}")


def asked_values(sol: Solution, names: Sequence[str], digits: int, closed: bool = True,
                 index: SolutionIndex | None = None) -> tuple[Asked, ...]:
    """The values asked, from the solution's quantities (see :class:`Asked`); ``closed=False``
    leaves out the exact closed forms (costly: only an accepted variant needs them)."""
    index = index or SolutionIndex(sol)
    defs = index.definitions() if closed else {}
    out: list[Asked] = []
    keys: set[str] = set()
    for found in resolve_ask(index, names):
        entries = list(found.values()) if isinstance(found, Matrix) else [found]
        scale = max((abs(float(v.approx)) for v in entries if v.approx is not None), default=0.0)
        for v in entries:
            if v.approx is None:
                continue
            # a value asked by its own name: a scalar, or an entry printed by a step of its own
            whole = found is v and (v.matrix is None or any(at is None for _, at in v.steps))
            group = v.name if whole else v.matrix.name
            lhs = latex(v.step.lhs if whole else v.matrix.symbol, sol.names)
            if not whole:
                entry = entry_label(group, v.index, v.matrix.shape)
                sub = entry[len(group) + 1:-1]
                tex = (rf"\left({lhs}\right)" if "\\frac" in lhs else f"{{{lhs}}}") + "_{" + sub + "}"
            else:
                entry, tex = group, lhs
            integer = v.exact is not None and v.exact.is_Integer
            shown = str(v.exact) if integer else significant(v.approx, digits)
            tol = 0.0 if integer or v.approx == 0 else tolerance(float(v.approx), digits, scale)
            key = identifier(entry)
            while key in keys:
                key += "_"
            keys.add(key)
            exact = _closed(v.exact, v.approx, defs) if closed else None
            out.append(Asked(group, entry, key, tex, float(v.approx), exact, shown, tol, v.is_gradient))
    return tuple(out)


def _closed(exact: sp.Expr | None, approx: mpmath.mpf, defs: Mapping[sp.Symbol, sp.Expr]) -> str | None:
    """The exact value with every earlier step's name replaced by its value, as text; None when
    it does not close, grows past 2,000 characters or does not match the float."""
    if exact is None:
        return None
    for _ in range(50):
        names = exact.free_symbols & defs.keys()
        if not names:
            break
        exact = exact.xreplace({s: defs[s] for s in names})
        if sp.count_ops(exact, visual=False) > 400:
            return None
    if exact.free_symbols:
        return None
    out = str(exact)
    if len(out) > 2000:
        return None
    with mpmath.workdps(30):
        value = mpmath.mpf(sp.N(exact, 30))
        if abs(value - approx) > mpmath.mpf(10) ** -20 * max(1, abs(approx)):
            return None
    return out


# ----- nice numbers -------------------------------------------------------------------------
def unpleasant(sol: Solution, asked: Sequence[Asked], setup: Setup, allow_kinks: bool,
               index: SolutionIndex | None = None) -> str | None:
    """Why a variant is not nice, or None: a quantity at a kink (unless allowed), an asked gradient
    that is zero (or below the model's ``min_asked``), an asked gradient matrix all zero, every
    gradient allowed to be zero zero at once (a dead hidden layer), an asked value no larger than
    its tolerance, a value of 10,000 or more, an exact rational
    needing more decimal places than the model's ``places`` or more than three digits before the
    point."""
    zero_ok = set(setup.zero_ok)
    allowed = [a for a in asked if a.gradient and (a.group in zero_ok or a.name in zero_ok)]
    for a in asked:
        if a.gradient and a not in allowed and abs(a.value) < setup.min_asked:
            return f"{a.name} is {a.shown}"
    for a in asked:  # a value smaller than its tolerance: hand rounding hides even its sign
        if a.value != 0 and abs(a.value) <= a.tolerance:
            return f"{a.name} ≈ {a.shown} is within the rounding of the entries beside it"
    if allowed and all(a.value == 0 for a in allowed):  # a dead hidden layer: nothing flows back
        return "every asked gradient allowed to be zero is zero"
    for group in dict.fromkeys(a.group for a in asked if a.gradient):
        entries = [a for a in asked if a.group == group]
        if len(entries) > 1 and all(a.value == 0 for a in entries):
            return f"{group} is zero"
    index = index or SolutionIndex(sol)
    kinks = index.kinks()
    if kinks and not allow_kinks:
        return "a kink: " + sol.note_text(kinks[0].note)
    scale = 10**setup.places
    for v in index.values:
        if v.approx is None or all(step.approx is None for step, _ in v.steps):
            continue
        if not mpmath.isfinite(v.approx) or abs(v.approx) >= MAX_VALUE:
            return f"{v.name} ≈ {format_float(v.approx, 4)} is too large"
        if v.exact is not None and v.exact.is_Rational and ((v.exact * scale).q != 1 or abs(v.exact) >= 1000):
            return f"{v.name} = {v.exact} needs too many digits"
    return None


# ----- drawing variants ---------------------------------------------------------------------
@dataclass(frozen=True)
class Plan:
    """Everything that decides the variants: the model, the parsed ranges, the names asked."""

    model: str
    ranges: Mapping[str, Range]
    ask: tuple[str, ...]
    setup: Setup
    digits: int = 4
    allow_kinks: bool = False
    seed: int = 0
    max_size: int | None = None  # the size limit each solve runs under (None: the caller's)
    closed_forms: bool = True  # each asked value's exact closed form (costly; only JSON shows it)

    @property
    def count(self) -> int:
        """How many different parameter sets the ranges can give (capped at 10**18)."""
        return min(10**18, math.prod(r.count for r in self.ranges.values()))


def plan(model: str, *, seed: int = 0, vary: Mapping[str, Any] | None = None, ask: Sequence[str] | None = None,
         allow_kinks: bool = False, digits: int = 4, max_size: int | None = None) -> Plan:
    """Check a request for variants and parse its ranges (see the module docstring)."""
    m = get_model(model)
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**63:
        raise ParameterError(f"--seed: expected a whole number from 0 to 2^63 - 1, got {seed!r}")
    if not isinstance(digits, int) or isinstance(digits, bool) or not 1 <= digits <= 15:
        raise ParameterError(f"--digits: an exercise shows 1 to 15 significant digits, got {digits!r}")
    setup = m.exercise
    params = {p.name: p for p in m.params}
    texts = dict(setup.ranges)
    for name, value in (vary or {}).items():
        if name not in params:
            raise ParameterError(f"--vary {name}: {model} has no parameter {name!r}; expected one of "
                                f"{', '.join(params)}")
        texts[name] = value if isinstance(value, str) else _as_text(value)
    ranges = {name: parse_range(t, params[name], model) for name, t in texts.items()}
    asked = tuple(ask) if ask else setup.ask
    if not asked:
        raise ParameterError(f"{model}: give the values to ask with --ask NAME")
    if len(asked) > 100:
        raise ParameterError("--ask: at most 100 names")
    return Plan(model, ranges, asked, setup, digits, allow_kinks, seed, max_size)


def _as_text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_as_text(v) for v in value) + "]"
    return str(value)


def _candidate(p: Plan, rng: random.Random) -> dict[str, Any] | None:
    out = {}
    for name, r in p.ranges.items():
        out[name] = r.draw(rng)
        if out[name] is None:
            return None
    return out


def _key(params: Mapping[str, Any]) -> str:
    return repr(sorted((k, _as_text(v)) for k, v in params.items()))


def _stream(p: Plan, index: int) -> random.Random:
    return random.Random(f"symderiv-exercise|{p.model}|{p.seed}|{index}")


def draw(p: Plan, index: int, start: int = 0, taken: Iterable[str] = ()) -> tuple[Exercise, int]:
    """Variant ``index`` of the plan: the first nice draw at or after draw ``start`` of its own
    random stream whose parameters are not in ``taken``; with the draw's number."""
    ex, attempt, _ = _weighed_draw(p, index, start, taken)
    return ex, attempt


def _weighed_draw(p: Plan, index: int, start: int = 0, taken: Iterable[str] = ()) -> tuple[Exercise, int, int]:
    """:func:`draw`, with the size of the draws made (see :data:`DRAW_SIZE`); the draws of one
    variant together stay within the size limit."""
    taken = set(taken)
    rng = _stream(p, index)
    model = get_model(p.model)
    why = "every draw was degenerate"
    spent = draws = last = 0
    with _plan_limit(p):
        for attempt in range(MAX_DRAWS):
            params = _candidate(p, rng)
            if attempt < start or params is None:
                continue
            if _key(params) in taken:
                why = "every draw repeated an earlier variant"
                continue
            if draws:  # the next draw weighs as the last did: refused before it is made
                limits.check(spent + last, f"{p.model}: variant {index + 1}, not nice in {draws} draws (the last: "
                             f"{why}), with one more of size {last:,}", output=("text", 1))
            try:
                with limits.output_format("exercise", SOLVE_WEIGHT):  # a graph over the limit is refused as built
                    sol = model.solve(**params)
            except SizeError:
                raise
            except SymderivError as e:  # a draw the model refuses (a kernel larger than the image, log 0)
                why, last = str(e), last or DRAW_SIZE
                spent, draws = spent + last, draws + 1
                continue
            last = sol.size * SOLVE_WEIGHT + DRAW_SIZE + p.setup.draw_size
            spent, draws = spent + last, draws + 1
            found = SolutionIndex(sol)  # the draw's solution indexed once, read by every test below
            infinite = _infinite_asked(found, p.ask)
            if infinite is not None:
                why = infinite
                continue
            asked = asked_values(sol, p.ask, p.digits, closed=False, index=found)
            reason = unpleasant(sol, asked, p.setup, p.allow_kinks, found)
            if reason is None:
                if p.closed_forms:
                    asked = asked_values(sol, p.ask, p.digits, index=found)
                return Exercise(p.model, index, params, asked, sol), attempt, spent
            why = reason
    advice = "keep them with --allow-kinks, or widen the ranges with --vary" if why.startswith("a kink") else \
        "widen the ranges with --vary"
    raise ParameterError(f"{p.model}: no nice variant {index + 1} in {MAX_DRAWS} draws (the last: {why}); {advice}")


def _plan_limit(p: Plan) -> contextlib.AbstractContextManager:
    """The size limit the plan's draws run under: its own, else the caller's."""
    return limits.size_limit(p.max_size) if p.max_size else contextlib.nullcontext()


def _infinite_asked(index: SolutionIndex, ask: Sequence[str]) -> str | None:
    """Why a variant is not nice because an asked value is not finite (a KL divergence where one
    distribution puts mass where the other puts none), or None."""
    for found in resolve_ask(index, ask):
        values = list(found.values()) if isinstance(found, Matrix) else [found]
        if any(isinstance(v.exact, sp.Basic) and v.exact.has(sp.oo, -sp.oo, sp.zoo, sp.nan) for v in values):
            return f"{found.name} is infinite"
    return None


def check_count(p: Plan, n: int) -> None:
    """Refuse ``n`` variants up front when the ranges cannot give that many."""
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= MAX_VARIANTS:
        raise ParameterError(f"--variants: expected a whole number from 1 to {MAX_VARIANTS:,}, got {n!r}")
    if p.count < n:
        raise ParameterError(f"{p.model}: the ranges give only {p.count} different variant(s), fewer than the "
                            f"{n} asked; widen them with --vary")


def build(p: Plan, n: int, jobs: int = 1,
          finish: Callable[[Exercise], Any] | None = None) -> list[tuple[Any, Any]]:
    """Variants 0..n-1 of the plan, each distinct, with ``finish(exercise)`` of each (what a
    worker renders); with ``jobs`` > 1 in worker processes. The result is the same for every
    ``jobs``. Each comes as ``(Exercise, None)``, or with ``finish`` as ``(Record, finish(exercise))``.

    The variants are drawn in batches of 2, 4, 8, ... (whatever ``jobs``); after each, the whole
    request is weighed as ``n`` variants drawn as those so far were, and refused (a
    :class:`SizeError`) when that passes the size limit."""
    check_count(p, n)
    out: list[tuple[Any, Any]] = []
    taken: list[str] = []
    spent = draws = 0
    batch = FIRST_BATCH
    while len(out) < n:
        done = len(out)
        tasks = [(p, k, 0, (), finish) for k in range(done, min(n, done + batch))]
        for k, ((record, result), attempt, size) in enumerate(limits.run_jobs(_work, tasks, jobs, "variants"), done):
            spent, draws = spent + size, draws + attempt + 1
            while _key(record.parameters) in taken:  # a repeat of an earlier variant: draw on
                (record, result), attempt, size = _work((p, k, attempt + 1, tuple(taken), finish))
                spent, draws = spent + size, draws + attempt + 1
            taken.append(_key(record.parameters))
            out.append((record, result))
        if len(out) < n:
            with _plan_limit(p):
                limits.check(spent * n // len(out), f"{p.model}: {n:,} variants, drawn as the first {len(out):,} "
                             f"were ({draws:,} draws of size {spent:,} in all),", output=("text", 1))
        batch *= 2
    return out


#: A draw weighs its solution's size (``Solution.size``) this many times (reading the asked
#: values and telling whether the variant is nice take up to as long as solving it) ...
SOLVE_WEIGHT = 2
#: ... and this much more: drawing the values, solving a model without a graph (about 3 ms).
DRAW_SIZE = 20
#: The variants drawn before the request is first weighed as a whole (then twice as many, ...).
FIRST_BATCH = 2


@dataclass(frozen=True)
class Record:
    """An exercise without its solution (what a worker process sends back)."""

    model: str
    index: int
    parameters: Mapping[str, Any]
    asked: tuple[Asked, ...]


def _work(task: tuple) -> tuple[tuple[Any, Any], int, int]:
    p, index, start, taken, finish = task
    ex, attempt, spent = _weighed_draw(p, index, start, taken)
    done = finish(ex) if finish is not None else None
    keep: Any = ex if finish is None else Record(ex.model, ex.index, ex.parameters, ex.asked)
    return (keep, done), attempt, spent


def exercises(model: str, n: int = 1, *, seed: int = 0, vary: Mapping[str, Any] | None = None,
              ask: Sequence[str] | None = None, allow_kinks: bool = False, digits: int = 4) -> list[Exercise]:
    """``n`` distinct nice variants of ``model`` (see :mod:`symderiv.exercise`): each an
    :class:`Exercise` with its parameters, Solution and asked values.

    ``vary`` maps a parameter to a range (``"int(-3..3)"``, ``"int(-5..5)/10"``, ``"{0, 1}"``)
    or a fixed value; ``ask`` names the values asked, as ``symderiv solve`` prints them
    (``"∂f/∂w0"``; a matrix by its name or one entry, ``"∂L/∂K[1,2]"``); ``allow_kinks`` keeps
    variants at a kink. Raises :class:`~symderiv.errors.ParameterError`.

    >>> [a.name for a in exercises("graph-add-mul", seed=1)[0].asked]
    ['f', '∂f/∂x', '∂f/∂y', '∂f/∂z']
    """
    p = plan(model, seed=seed, vary=vary, ask=ask, allow_kinks=allow_kinks, digits=digits)
    return [ex for ex, _ in build(p, n)]


__all__ = ["Asked", "Exercise", "MAX_DRAWS", "Plan", "Range", "Setup", "asked_values", "build", "compared_digits",
           "draw", "exercises", "identifier", "parse_range", "plan", "resolve_ask", "significant", "tolerance",
           "unpleasant"]
