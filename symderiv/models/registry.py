"""The catalogue's registry: a model's parameters (:class:`Param`), the :class:`Model` record and
:func:`register`, which each model module uses to add its builders under their public ids."""

from __future__ import annotations

from collections.abc import Callable, Mapping
import dataclasses
from dataclasses import dataclass
from importlib import resources
from typing import Any

import sympy as sp

from ..errors import ParameterError, UnknownModelError
from ..engine import CONVENTIONS
from ..record import Remark, Section, SectionKind, Solution
from ..values import format_shape, parse_value, shape_of, to_exact


@dataclass(frozen=True)
class Param:
    """A model parameter: its default, and what it accepts.

    ``kind``: ``number``; ``array`` (``shape`` gives each dimension, None for any size);
    ``number-or-array``; ``int`` (from ``low`` to ``high``); ``choice`` (one of ``choices``); ``text``.
    """

    name: str
    default: Any
    doc: str
    kind: str = "number"
    shape: tuple[int | None, ...] = ()
    low: int = 1
    high: int = 10_000
    choices: tuple[str, ...] = ()
    expr_symbols: tuple[str, ...] = ()  # a choice may also be a SymPy expression in these symbols

    def convert(self, value: Any, model: str) -> Any:
        """The parameter's value from a Python value or CLI text, checked."""
        where = f"{model}: {self.name}"
        if self.kind == "choice":
            if isinstance(value, str) and value in self.choices:
                return value
            if self.expr_symbols and isinstance(value, sp.Expr):
                extra = sorted({s.name for s in value.free_symbols} - set(self.expr_symbols))
                if extra or value.has(sp.Max, sp.Min, sp.Abs, sp.Piecewise):
                    raise ParameterError(f"{where}: expected a smooth SymPy expression in "
                                         f"{', '.join(self.expr_symbols)}, got {value}")
                return value
            raise ParameterError(f"{where}: expected one of {', '.join(self.choices)}, got {value!r}")
        if self.kind == "text":
            if not isinstance(value, str) or len(value) > 10_000:
                raise ParameterError(f"{where}: expected text of at most 10000 characters")
            return value
        if isinstance(value, str):
            value = parse_value(value, where)
        exact = to_exact(value, where)
        shape = shape_of(exact, where)
        if self.kind == "int":
            if shape or not exact.is_Integer or not self.low <= exact <= self.high:
                raise ParameterError(f"{where}: expected a whole number from {self.low} to {self.high}, "
                                     f"got {_show(exact)}")
            return int(exact)
        if self.kind == "number" or (self.kind == "number-or-array" and not shape):
            if shape:
                raise ParameterError(f"{where}: expected a number, got a list of shape {format_shape(shape)}")
            if not exact.is_Rational:
                raise ParameterError(f"{where}: expected a rational number, got {exact}")
            return exact
        if len(shape) != len(self.shape) or any(w is not None and w != s for w, s in zip(self.shape, shape)):
            want = ("a vector (a flat list)" if len(self.shape) == 1 else "a matrix (a list of rows)") \
                if all(w is None for w in self.shape) else "x".join("n" if w is None else str(w) for w in self.shape)
            raise ParameterError(f"{where}: expected {'shape ' if want[0].isdigit() or want[0] == 'n' else ''}{want}, "
                                 f"got {'shape ' if shape else ''}{format_shape(shape)}")
        return exact


def _show(v: Any) -> str:
    return str(v) if not isinstance(v, list) else f"a list of shape {format_shape(shape_of(v))}"


CONVENTION = Param("convention", "pytorch", "derivative used at non-differentiable points",
                   kind="choice", choices=tuple(CONVENTIONS))


@dataclass(frozen=True)
class Setup:
    """A model's exercise defaults: ``ranges`` (parameter -> range text), the names ``ask``ed,
    the asked names allowed to be zero, how many decimal places an exact rational intermediate
    may have (``places``) and how small an asked gradient may be (``min_asked``) in a nice
    variant; ``forward_gives_answer``: the forward pass's formulas are the answer itself (the
    statement leaves them out); ``explain``: a sentence the statement adds (``{name}`` is the
    variant's parameter), for what the given values and formulas do not say; ``stated``: the
    parameters it gives by name besides the given quantities (an upstream gradient)."""

    ranges: Mapping[str, str]
    ask: tuple[str, ...]
    zero_ok: tuple[str, ...] = ()
    places: int = 0
    min_asked: float = 1e-3
    forward_gives_answer: bool = False
    explain: str = ""
    stated: tuple[str, ...] = ()


NO_EXERCISE = Setup({}, ())


@dataclass(frozen=True)
class Model:
    """A catalogue entry, with every fact about it: its id, its number in the catalogue
    (``../shared/CATALOGUE.md``, which ``symderiv list`` follows), title, parameters, the builder
    that returns its Solution, the catalogue's other versions (``alternatives``: (heading,
    settings) pairs the book shows after the default), its exercise defaults (``exercise``) and
    ``examples``: settings (CLI text, as ``--set`` takes them) the tests and docs show besides the
    defaults."""

    id: str
    number: int
    title: str
    params: tuple[Param, ...]
    build: Callable[..., Solution]
    alternatives: tuple[tuple[str, dict[str, str]], ...] = ()
    exercise: Setup = NO_EXERCISE
    examples: tuple[dict[str, str], ...] = ()

    def solve(self, **params: Any) -> Solution:
        """The worked solution for these parameters (the catalogue's defaults for the rest)."""
        known = {p.name: p for p in self.params}
        unknown = sorted(set(params) - set(known))
        if unknown:
            raise ParameterError(f"{self.id}: unknown parameter {unknown[0]!r}; expected one of "
                                 f"{', '.join(known)}")
        values = {name: p.convert(params[name], self.id) if name in params else
                  None if p.default is None else p.convert(p.default, self.id)
                  for name, p in known.items()}
        sol = self.build(**values)
        if params:
            return sol
        errata = resources.files("symderiv") / "notes" / "errata" / f"{self.id}.txt"
        if not errata.is_file():
            return sol
        slips = tuple(Remark((line,)) for line in errata.read_text(encoding="utf-8").splitlines())
        title = "Where the lecture notes differ (found by symderiv check --notes)"
        return dataclasses.replace(sol, sections=(*sol.sections, Section(SectionKind.ERRATA, title, slips)))


MODELS: dict[str, Model] = {}


def register(id: str, title: str, *params: Param, number: int,
             alternatives: tuple[tuple[str, dict[str, str]], ...] = (), exercise: Setup = NO_EXERCISE,
             examples: tuple[dict[str, str], ...] = ()) -> Callable[[Callable[..., Solution]], Callable[..., Solution]]:
    """Register a builder as the model ``id``, with its facts (see :class:`Model`); :data:`MODELS`
    stays in catalogue order (by ``number``; a model added later with a number already taken goes
    after it)."""
    def wrap(build: Callable[..., Solution]) -> Callable[..., Solution]:
        MODELS[id] = Model(id, number, title, params, build, alternatives, exercise, examples)
        ordered = sorted(MODELS.values(), key=lambda m: m.number)  # stable: registration order breaks ties
        MODELS.clear()
        MODELS.update((m.id, m) for m in ordered)
        return build
    return wrap


def get_model(model_id: str) -> Model:
    """The registered model ``model_id``."""
    try:
        return MODELS[model_id]
    except (KeyError, TypeError):
        raise UnknownModelError(f"unknown model {model_id!r}; run 'symderiv list' for the ids "
                                f"({', '.join(MODELS)})") from None


def models() -> list[str]:
    """The ids of every model, in catalogue order."""
    return list(MODELS)


def solve(model_id: str, **params: Any) -> Solution:
    """Build the catalogue model ``model_id`` with ``params`` and return its worked solution.

    >>> solve("graph-add-mul").results["x"].exact
    -4
    """
    return get_model(model_id).solve(**params)
