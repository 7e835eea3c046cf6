"""The exceptions symderiv raises for bad input.

Every error is a :class:`SymderivError`; its message is one line saying what is wrong and what
was expected. The CLI prints that line to stderr and exits with status 2.
"""


class SymderivError(ValueError):
    """Base class of every error caused by the user's input."""


class UnknownModelError(SymderivError, LookupError):
    """The model id is not in the catalogue."""


class ParameterError(SymderivError):
    """A parameter is unknown, malformed, non-finite or of the wrong shape."""


class GraphError(SymderivError):
    """A computational graph was built or queried incorrectly."""


class SizeError(ParameterError):
    """The request would build a graph over the size limit (see :mod:`symderiv.limits`)."""
