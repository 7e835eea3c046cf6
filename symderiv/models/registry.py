"""The catalogue's registry: the catalogue's table (:data:`CATALOGUE`: each model's id, title and
module), a model's parameters (:class:`Param`), the :class:`Model` record and :func:`register`,
which each model module uses to add its builders under their public ids.

This module imports no SymPy: ``symderiv list`` reads the table, and a model's module (which
builds SymPy expressions) is imported when the model is first looked up in :data:`MODELS`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, MutableMapping
import dataclasses
from dataclasses import dataclass
import functools
from importlib import import_module
from typing import TYPE_CHECKING, Any

from ..errors import ParameterError, UnknownModelError

if TYPE_CHECKING:
    from ..record import Solution


@dataclass(frozen=True)
class Entry:
    """What the catalogue says of a model without building it: its title, and the module of this
    package (its family) that registers its builder."""

    family: str
    title: str


#: The catalogue (../shared/CATALOGUE.md), in its order, which ``symderiv list`` follows.
CATALOGUE: dict[str, Entry] = {
    "graph-add-mul": Entry("graphs", "f = (x + y)·z, with q = x + y"),
    "graph-mul-add": Entry("graphs", "f = x + y·z, with q = y·z"),
    "sigmoid-neuron": Entry("graphs", "A sigmoid neuron f = 1/(1 + e^{-(w0·x0 + w1·x1 + w2)})"),
    "max-gate": Entry("graphs", "f = 2·(x·y + max(z, w))"),
    "xor-mlp": Entry("networks", "A ReLU network that computes XOR"),
    "sigmoid-chain": Entry("networks", "Vanishing gradients through a chain of sigmoid layers"),
    "dropout": Entry("probability", "Dropout: standard (scale by p at test time) vs inverted (scale by 1/p while "
                     "training)"),
    "conv2d": Entry("convolution", "Cross-correlation of a 6×6 image with a 3×3 vertical edge detector"),
    "conv2d-padding": Entry("convolution", "Zero padding and stride: a 5×5 image, p = 1, a 2×2 filter, s = 2"),
    "conv-volume": Entry("convolution", "Convolution over a volume: one filter slice per channel, summed, plus a bias"),
    "pooling": Entry("convolution", "Max and average pooling (2×2 windows, stride 2) of the conv2d feature map"),
    "rnn": Entry("sequences", "A recurrent network over time: h_t = tanh(W_hh·h_(t−1) + W_xh·x_t), "
                 "y_t = W_hy·h_t"),
    "lstm-step": Entry("sequences", "One LSTM step: gates i, f, o, g; c_t = f⊙c_(t−1) + i⊙g; "
                       "h_t = o⊙tanh(c_t)"),
    "autoencoder": Entry("sequences", "A linear autoencoder: h = w_e·x, x̂ = w_d·h, L = ½‖x̂ − x‖²"),
    "dot-attention": Entry("sequences", "Dot-product attention: scores s·h_j, α = softmax, context c = Σ α_j h_j"),
    "self-attention": Entry("sequences", "Scaled dot-product self-attention: softmax(Q·Kᵀ/√d_k)·V"),
    "positional-encoding": Entry("sequences", "Sinusoidal positional encoding PE(pos, 2i) = sin(pos/n^(2i/d)), "
                                 "PE(pos, 2i+1) = cos(pos/n^(2i/d))"),
    "kl-divergence": Entry("probability", "The Kullback-Leibler divergence D_KL(P‖Q) = Σ p(x) ln(p(x)/q(x))"),
    "mle": Entry("probability", "Maximum likelihood: θ̂ = argmin_θ of the negative log-likelihood of the data"),
}

#: The catalogue's ids in its order.
ORDER = tuple(CATALOGUE)


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
        import sympy as sp
        from ..values import parse_value, shape_of, to_exact
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
                raise ParameterError(f"{where}: expected a number, got a list of shape {_format_shape(shape)}")
            if not exact.is_Rational:
                raise ParameterError(f"{where}: expected a rational number, got {exact}")
            return exact
        if len(shape) != len(self.shape) or any(w is not None and w != s for w, s in zip(self.shape, shape)):
            want = ("a vector (a flat list)" if len(self.shape) == 1 else "a matrix (a list of rows)") \
                if all(w is None for w in self.shape) else "x".join("n" if w is None else str(w) for w in self.shape)
            raise ParameterError(f"{where}: expected {'shape ' if want[0].isdigit() or want[0] == 'n' else ''}{want}, "
                                 f"got {'shape ' if shape else ''}{_format_shape(shape)}")
        return exact


def _format_shape(shape: tuple[int, ...]) -> str:
    from ..values import format_shape
    return format_shape(shape)


def _show(v: Any) -> str:
    from ..values import shape_of
    return str(v) if not isinstance(v, list) else f"a list of shape {_format_shape(shape_of(v))}"


@functools.cache
def _convention() -> Param:
    from ..engine import CONVENTIONS
    return Param("convention", "pytorch", "derivative used at non-differentiable points", kind="choice",
                 choices=tuple(CONVENTIONS))


def __getattr__(name: str) -> Any:
    """``CONVENTION``, the parameter of the kink conventions, made from the engine's table when a
    model module first asks for it (the engine imports SymPy)."""
    if name == "CONVENTION":
        return _convention()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True)
class Setup:
    """A model's exercise defaults: ``ranges`` (parameter -> range text), the names ``ask``ed,
    the asked names allowed to be zero, how many decimal places an exact rational intermediate
    may have (``places``) and how small an asked gradient may be (``min_asked``) in a nice
    variant; ``forward_gives_answer``: the forward pass's formulas are the answer itself (the
    statement leaves them out); ``draw_size``: what a draw weighs beyond its graph (for a model
    without one that takes long to solve); ``explain``: a sentence the statement adds (``{name}`` is
    the variant's parameter), for what the given values and formulas do not say; ``stated``: the
    parameters it gives by name besides the given quantities (an upstream gradient)."""

    ranges: Mapping[str, str]
    ask: tuple[str, ...]
    zero_ok: tuple[str, ...] = ()
    places: int = 0
    min_asked: float = 1e-3
    forward_gives_answer: bool = False
    draw_size: int = 0  # what a draw weighs beyond its graph's size (a model without a graph that is slow to solve)
    explain: str = ""
    stated: tuple[str, ...] = ()


NO_EXERCISE = Setup({}, ())


@dataclass(frozen=True)
class Model:
    """A model, with every fact about it: its id, title (a catalogue model's is the catalogue's,
    :data:`CATALOGUE`), parameters, the builder that returns its Solution, the catalogue's other
    versions (``alternatives``: (heading, settings) pairs the book shows after the default, like
    the sigmoid neuron's stagings), its exercise defaults (``exercise``) and ``examples``:
    settings (CLI text, as ``--set`` takes them) the tests and docs show besides the defaults."""

    id: str
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
        from importlib import resources
        from ..record import Remark, Section, SectionKind  # here, not at the top: the record imports SymPy
        errata = resources.files("symderiv") / "notes" / "errata" / f"{self.id}.txt"
        if not errata.is_file():
            return sol
        slips = tuple(Remark((line,)) for line in errata.read_text(encoding="utf-8").splitlines())
        title = "Where the lecture notes differ (found by symderiv check --notes)"
        return dataclasses.replace(sol, sections=(*sol.sections, Section(SectionKind.ERRATA, title, slips)))


class Registered(MutableMapping[str, "Model"]):
    """The registered models by id, in the catalogue's order (others after it, as registered). Looking
    up a catalogue model imports its module (which registers it); going through them all imports
    every model module."""

    def __init__(self) -> None:
        self._models: dict[str, Model] = {}

    def __getitem__(self, model_id: str) -> Model:
        if model_id not in self._models and model_id in CATALOGUE:
            import_module(f"{__package__}.{CATALOGUE[model_id].family}")
        return self._models[model_id]

    def __setitem__(self, model_id: str, model: Model) -> None:
        self._models[model_id] = model

    def __delitem__(self, model_id: str) -> None:
        del self._models[model_id]

    def registered(self) -> dict[str, Model]:
        """The models registered so far (no module imported)."""
        return dict(self._models)

    def _all(self) -> dict[str, Model]:
        for family in dict.fromkeys(entry.family for entry in CATALOGUE.values()):
            import_module(f"{__package__}.{family}")
        return self._models

    def __iter__(self) -> Iterator[str]:
        models = self._all()
        return iter([*(i for i in CATALOGUE if i in models), *(i for i in models if i not in CATALOGUE)])

    def __len__(self) -> int:
        return len(self._all())


MODELS = Registered()


def register(id: str, *params: Param, title: str | None = None,
             alternatives: tuple[tuple[str, dict[str, str]], ...] = (), exercise: Setup = NO_EXERCISE,
             examples: tuple[dict[str, str], ...] = ()) -> Callable[[Callable[..., Solution]], Callable[..., Solution]]:
    """Register a builder as the model ``id`` with these parameters and its facts (see
    :class:`Model`). Its title is the catalogue's; a model outside the catalogue gives its
    ``title`` and is listed after the catalogue's."""
    if title is None:
        if id not in CATALOGUE:
            raise ValueError(f"register({id!r}): a model outside the catalogue needs a title")
        title = CATALOGUE[id].title

    def wrap(build: Callable[..., Solution]) -> Callable[..., Solution]:
        MODELS[id] = Model(id, title, params, build, alternatives, exercise, examples)
        return build
    return wrap


def listed() -> dict[str, str]:
    """Every model's id and title, the catalogue's first and then the others registered so far,
    without importing a family's module."""
    return {**{i: e.title for i, e in CATALOGUE.items()},
            **{i: m.title for i, m in MODELS.registered().items() if i not in CATALOGUE}}


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
