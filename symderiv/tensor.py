"""Matrices over the scalar engine, and the worked solution of a graph of matrix gates.

>>> import symderiv
>>> from symderiv import tensor as T
>>> g = symderiv.Graph("y = tanh(W x)")
>>> W, x = T.tensor(g, "W", [[0.5, -0.3], [0.8, 0.2]]), T.tensor(g, "x", [1, 2])
>>> y = T.elementwise("tanh", T.matmul(W, x, name="a"), name="y")
>>> sol = T.solution(T.total(y), model="mine")   # the loss: the sum of y

The matrix gates are the rows of :data:`MATRIX_GATES` (add one with :func:`add_matrix_gate` and
:func:`make_tensor`); :func:`solution` writes each gate's backward rule in matrix calculus
(∂L/∂W = δ·xᵀ, ∂L/∂x = Wᵀ·δ, ...) beside the values the engine accumulated entry by entry.
"""

from .engine.tensor import (MATRIX_GATES, MatrixGate, Tensor, add, add_bias, add_matrix_gate, correlate,
                            elementwise, elementwise_gate, hadamard, latex_name, make_tensor, matmul, pad, pool,
                            scale, softmax, tensor, total)
from .writers.matrix import shown_tensor as shown, solution

__all__ = ["MATRIX_GATES", "MatrixGate", "Tensor", "add", "add_bias", "add_matrix_gate", "correlate", "elementwise",
           "elementwise_gate", "hadamard", "latex_name", "make_tensor", "matmul", "pad", "pool", "scale", "shown",
           "softmax", "solution", "tensor", "total"]
