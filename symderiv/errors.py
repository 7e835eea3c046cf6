"""Every exception symderiv raises, in one place.

Bad input raises a :class:`SymderivError`: its message is one line saying what is wrong and what
to do instead. The CLI prints that line to stderr and exits with status 2. A failure of symderiv
itself raises an :class:`InternalError` (not a ``SymderivError``): the CLI reports it as a bug,
with where to report it, and exits with status 1.
"""

#: Where a bug is reported (the CLI says so for an :class:`InternalError`).
REPORT_BUGS = "please report it with the command that caused it (README: 'Reporting a bug')"


class SymderivError(ValueError):
    """Base class of every error caused by the user's input."""


class UnknownModelError(SymderivError, LookupError):
    """The model id is not in the catalogue."""


class ParameterError(SymderivError):
    """A parameter is unknown, malformed, non-finite or of the wrong shape."""


class SizeError(ParameterError):
    """The request would build a graph over the size limit (see :mod:`symderiv.limits`)."""


class FormulaError(ParameterError):
    """A formula that is not in the grammar, with the position of the problem."""


class GraphError(SymderivError):
    """A computational graph was built or queried incorrectly."""


class NotReal(GraphError):
    """A value that is not a finite real number: log(0), 1/0, sqrt(-1), ..."""


class DiagramError(SymderivError):
    """No diagram can be drawn: the model has no computational graph, or Graphviz is missing."""


class EmbedError(SymderivError):
    """A documentation block's text or options are malformed."""


class TorchError(SymderivError):
    """A PyTorch model :func:`symderiv.from_torch` cannot work: an unsupported module or function,
    control flow torch.fx cannot trace, a batch of more than one image, or PyTorch not installed."""


class WorkerDied(SymderivError):
    """A worker process (``--jobs``) died before it finished, killed by a signal (the
    out-of-memory killer, ``kill``): not a bug of symderiv; nothing was written."""


class UsageError(SymderivError):
    """A malformed command line."""


class InternalError(RuntimeError):
    """symderiv itself failed (a bug, not bad input): please report the command or call."""


class MathMLError(InternalError):
    """A MathML block came out malformed (a bug: please report the model and parameters)."""
