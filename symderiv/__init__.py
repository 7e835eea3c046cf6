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

import os
import sys
import types
from importlib import import_module
from typing import Any

from .errors import (DiagramError, EmbedError, FormulaError, GraphError, InternalError, MathMLError, NotReal,
                     ParameterError, SizeError, SymderivError, TorchError, UnknownModelError, UsageError)
from .limits import size_limit
from .models import get_model, models, solve
from .render import FORMATS, render_solution

__version__ = "0.1.0"

#: The rest of the API, by the module that defines it: imported when first asked for, so that
#: ``import symderiv`` (and the command line's ``--version``, ``--help`` and ``list``) costs no
#: SymPy import, and a command imports what it runs.
_FROM_MODULES = {
    **dict.fromkeys(("CONVENTIONS", "GATES", "MATRIX_GATES", "Convention", "Gate", "MatrixGate", "add_gate",
                     "add_matrix_gate"), "engine"),
    "check_answers": "check", "exercises": "exercise", "derive": "formula",
    **dict.fromkeys(("Backward", "Graph", "Node"), "graph"),
    "TorchSolution": "pytorch", "from_torch": "pytorch", "notebook_output": "render",
    **dict.fromkeys(("Maths", "Remark", "Section", "Solution", "Step", "Table", "Title"), "record"),
    "reset": "traced", "solution": "traced", "var": "traced", "parse_value": "values",
}


def __getattr__(attr: str) -> Any:
    """The names of :data:`_FROM_MODULES`, and the traced API's gate functions (``symderiv.relu``,
    ``symderiv.tanh``, ...) from the gate table."""
    module = _FROM_MODULES.get(attr)
    if module is not None:
        return getattr(import_module(f"{__name__}.{module}"), attr)
    if attr == "check":  # the module, whose call is the deprecated spelling of check_answers
        return import_module(f"{__name__}.check")
    submodule = any(os.path.exists(os.path.join(__path__[0], attr + suffix)) for suffix in ("", ".py"))
    if attr.startswith("__") or submodule:  # a module of the package not imported yet: the import system imports it
        raise AttributeError(f"module 'symderiv' has no attribute {attr!r}")
    try:
        return getattr(import_module(f"{__name__}.traced"), attr)
    except AttributeError:
        raise AttributeError(f"module 'symderiv' has no attribute {attr!r}") from None


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


class _Package(types.ModuleType):
    """The package, whose function ``models`` keeps its name when the module of the same name is
    imported (Python binds a submodule to its package's attribute). ``check`` and ``render`` are
    the modules (calling them is the deprecated spelling of :func:`check_answers` and
    :func:`render_solution`)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "models" and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


__all__ = [
    "Backward", "CONVENTIONS", "Convention", "DiagramError", "EmbedError", "FORMATS", "FormulaError", "GATES", "Gate",
    "Graph", "GraphError", "InternalError", "MATRIX_GATES", "Maths", "MathMLError", "MatrixGate", "Node", "NotReal",
    "ParameterError", "Remark", "Section", "SizeError", "Solution", "Step", "SymderivError", "Table", "Title",
    "TorchError", "TorchSolution", "UnknownModelError", "UsageError", "add_gate", "add_matrix_gate", "check", "check_answers",
    "derive",
    "exercises", "from_torch", "get_model", "models", "notebook_output", "parse_value", "render_solution", "reset",
    "size_limit", "solution", "solve", "var",
]
