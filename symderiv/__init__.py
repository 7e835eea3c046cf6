"""symderiv: exact, step-by-step worked solutions of forward and backward passes, with SymPy.

Solve a catalogue model::

    >>> import symderiv
    >>> sol = symderiv.solve("sigmoid-neuron")
    >>> round(float(sol.results["w0"].approx), 4)
    -0.1966

build your own graph with the same calls the models use::

    >>> g = symderiv.Graph()
    >>> x, y, z = g.input("x", -2), g.input("y", 5), g.input("z", -4)
    >>> f = g.mul(g.add(x, y, name="q"), z, name="f")
    >>> print(g.solution(f).to_text())  # doctest: +SKIP

trace ordinary Python, as micrograd does::

    >>> x = symderiv.var("x", 3)
    >>> symderiv.solution(symderiv.tanh(x) * x).results["x"].approx  # doctest: +SKIP

or work your PyTorch model (torch is imported only then)::

    >>> sol = symderiv.from_torch(net, x, loss=torch.nn.MSELoss(), target=y)  # doctest: +SKIP

The package is layered (each layer imports only those below it; ``lint-imports`` checks it):
``errors``, ``values``, ``numeric``, ``printing``, ``notation``, ``limits``; the record
(``diagram``, ``record``); ``engine`` (the gate table, graphs, the backward pass, matrices);
``writers`` (backward passes to worked solutions); the front doors ``graph``, ``tensor``,
``formula``, ``traced``, ``pytorch``; ``models``; ``render``; ``embed``; and ``cli``, ``sphinx``, ``markdown``.
"""

from .engine import CONVENTIONS, GATES, MATRIX_GATES, Convention, Gate, MatrixGate, add_gate, add_matrix_gate
from .errors import (DiagramError, EmbedError, FormulaError, GraphError, InternalError, MathMLError, NotReal,
                     ParameterError, SizeError, SymderivError, TorchError, UnknownModelError, UsageError)
from .exercise import exercises
from . import check
from .check import check_answers
from .formula import derive
from .graph import Backward, Graph, Node
from .limits import size_limit
from .models import get_model, models, solve
from .pytorch import TorchSolution, from_torch
from .render import FORMATS, notebook_output, render
from .record import Maths, Remark, Section, Solution, Step, Table, Title
from .traced import reset, solution, var
from .values import parse_value
from . import traced as _traced

__version__ = "0.1.0"


def __getattr__(attr: str):
    """The traced API's gate functions (``symderiv.relu``, ``symderiv.tanh``, ...), from the gate table."""
    try:
        return getattr(_traced, attr)
    except AttributeError:
        raise AttributeError(f"module 'symderiv' has no attribute {attr!r}") from None


__all__ = [
    "Backward", "CONVENTIONS", "Convention", "DiagramError", "EmbedError", "FORMATS", "FormulaError", "GATES", "Gate",
    "Graph", "GraphError", "InternalError", "MATRIX_GATES", "Maths", "MathMLError", "MatrixGate", "Node", "NotReal",
    "ParameterError", "Remark", "Section", "SizeError", "Solution", "Step", "SymderivError", "Table", "Title",
    "TorchError", "TorchSolution", "UnknownModelError", "UsageError", "add_gate", "add_matrix_gate", "check", "check_answers", "derive",
    "exercises", "from_torch", "get_model", "models", "notebook_output", "parse_value", "render", "reset", "size_limit",
    "solution", "solve", "var",
]
