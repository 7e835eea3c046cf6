"""The catalogue's models: each a short builder over the engine, registered under its public id.

``solve(model_id, **params)`` checks and converts the parameters (numbers become exact
rationals, lists are shape-checked) and returns the model's :class:`~symderiv.record.Solution`.
One module per family: ``graphs`` (scalar graphs), ``networks`` (XOR, the sigmoid chain),
``convolution``, ``sequences`` (RNN, LSTM, autoencoder, attention, positional encoding) and
``probability`` (dropout, KL divergence, maximum likelihood).
"""

from . import convolution, graphs, networks, probability, sequences  # noqa: F401  (each registers its models)
from .registry import CONVENTION, MODELS, Model, Param, Setup, get_model, models, register, solve

__all__ = ["CONVENTION", "MODELS", "Model", "Param", "Setup", "get_model", "models", "register", "solve"]
