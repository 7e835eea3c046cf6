"""symderiv: exact, step-by-step worked solutions of forward and backward passes, with SymPy.

Solve a catalogue model::

    >>> import symderiv
    >>> sol = symderiv.solve("sigmoid-neuron")
    >>> round(float(sol.results["w0"].approx), 4)
    -0.1966

or build your own graph with the same calls the models use::

    >>> g = symderiv.Graph()
    >>> x, y, z = g.input("x", -2), g.input("y", 5), g.input("z", -4)
    >>> f = g.mul(g.add(x, y, name="q"), z, name="f")
    >>> print(g.solution(f).to_text())  # doctest: +SKIP
"""

from .errors import (DiagramError, EmbedError, FormulaError, GraphError, InternalError, MathMLError, NotReal,
                     ParameterError, SizeError, SymderivError, UnknownModelError, UsageError)
from .check import check
from .formula import derive
from .graph import Backward, Graph, Node
from .limits import size_limit
from .models import get_model, models, solve
from .ops import CONVENTIONS, OPS, Convention
from .render import FORMATS, render
from .solution import Remark, Section, Solution, Step, Table, notebook_output
from .values import parse_value

__version__ = "0.1.0"

__all__ = [
    "Backward", "CONVENTIONS", "Convention", "DiagramError", "EmbedError", "FORMATS", "FormulaError", "Graph",
    "GraphError", "InternalError", "MathMLError", "Node", "NotReal", "OPS", "ParameterError", "Remark", "Section", "SizeError", "Solution", "Step", "SymderivError", "Table",
    "UnknownModelError", "UsageError", "check", "derive", "get_model", "models", "notebook_output", "parse_value", "render", "size_limit",
    "solve",
]
