"""The engine: the gate table, graphs of let-bound exact values, the backward pass, matrices.

``gates`` (the table: one row per gate), ``graph`` (building), ``backward`` (reverse-mode
accumulation, returned as a record; closed forms on request), ``tensor`` (matrices of nodes and
the table of matrix gates). Nothing here writes a worked solution: :mod:`symderiv.writers` does.
"""

from .backward import INLINE, Backward, Local, backward, closed_form, composed, gradients
from .gates import CONVENTIONS, GATES, Convention, Gate, Passing, add_gate, get_convention, get_gate
from .graph import SHORT, Graph, Node, NodeKind, expr_size, is_short
from .tensor import MATRIX_GATES, MatrixGate, Tensor, add_matrix_gate, make_tensor

__all__ = ["CONVENTIONS", "GATES", "INLINE", "MATRIX_GATES", "SHORT", "Backward", "Convention", "Gate", "Graph",
           "Local", "MatrixGate", "Node", "NodeKind", "Passing", "Tensor", "add_gate", "add_matrix_gate", "backward",
           "closed_form", "composed", "expr_size", "get_convention", "get_gate", "gradients", "is_short",
           "make_tensor"]
