"""The catalogue's models: each a short builder over the engine, registered under its public id.

``solve(model_id, **params)`` checks and converts the parameters (numbers become exact
rationals, lists are shape-checked) and returns the model's :class:`~symderiv.record.Solution`.
One module per family: ``graphs`` (scalar graphs), ``networks`` (XOR, the sigmoid chain),
``convolution``, ``sequences`` (RNN, LSTM, autoencoder, attention, positional encoding) and
``probability`` (dropout, KL divergence, maximum likelihood); a family's module is imported when
one of its models is first looked up (:data:`CATALOGUE` says which, without importing SymPy).
"""

from typing import Any

from . import registry
from .registry import CATALOGUE, MODELS, ORDER, Entry, Model, Param, Setup, get_model, listed, models, register, solve


def __getattr__(name: str) -> Any:
    """``CONVENTION``, from the engine's table when first asked for (see :mod:`.registry`)."""
    if name == "CONVENTION":
        return registry.CONVENTION
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["CATALOGUE", "CONVENTION", "Entry", "MODELS", "ORDER", "Model", "Param", "Setup", "get_model", "listed", "models",
           "register", "solve"]
