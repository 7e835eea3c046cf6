"""Your PyTorch model, worked by hand (:func:`from_torch`); torch stays optional: it is imported
when :func:`from_torch` is called. :mod:`.front` interprets the traced model, :mod:`.vocabulary`
is the one table of what it reads."""

from .front import INSTALL, TorchSolution, from_torch, shortest_decimal
from .vocabulary import supported_table

__all__ = ["INSTALL", "TorchSolution", "from_torch", "shortest_decimal", "supported_table"]
