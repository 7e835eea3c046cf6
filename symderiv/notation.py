"""How operations are written: display-only SymPy functions that print by name and keep their
arguments in the order written (SymPy's own ``Max`` sorts them, ``latex`` reorders terms).

These are notation, not values: the engine computes with SymPy's own functions and shows these.
"""

from __future__ import annotations

import functools

import sympy as sp


class Written(sp.Function):
    """A function as written: printed by name, arguments kept in their order."""

    latex_name = ""
    text_name = ""

    def _latex(self, printer):
        return self.latex_name + r"\left(%s\right)" % ", ".join(printer._print(a) for a in self.args)

    def _sympystr(self, printer):
        return self.text_name + "(%s)" % ", ".join(printer._print(a) for a in self.args)


def written(name: str, latex_name: str, text_name: str) -> type[Written]:
    """A display-only function printed as ``latex_name(...)`` / ``text_name(...)``."""
    return type(name, (Written,), {"latex_name": latex_name, "text_name": text_name})


class Prime(sp.Function):
    """f'(A) as written, for the backward rule of an element-wise gate."""

    latex_name = ""
    text_name = ""

    def _latex(self, printer):
        return self.latex_name + r"'\left(%s\right)" % printer._print(self.args[0])

    def _sympystr(self, printer):
        return self.text_name + "'(%s)" % printer._print(self.args[0])


@functools.cache
def prime(fn: type[Written]) -> type[Prime]:
    """The derivative of the written function ``fn``, printed f'(...)."""
    return type(f"{fn.__name__}_prime", (Prime,), {"latex_name": fn.latex_name, "text_name": fn.text_name})


class Infix(sp.Function):
    """Two operands joined by an operator, as written (``latex_op`` / ``text_op``)."""

    latex_op = ""
    text_op = ""
    operand_precedence = 0  # operands are parenthesized below this precedence (0: never)

    def _operand(self, printer, a):
        return printer.parenthesize(a, self.operand_precedence) if self.operand_precedence else printer._print(a)

    def _latex(self, printer):
        return f" {self.latex_op} ".join(self._operand(printer, a) for a in self.args)

    def _sympystr(self, printer):
        return f" {self.text_op} ".join(self._operand(printer, a) for a in self.args)


def infix(name: str, latex_op: str, text_op: str, precedence: int = 0) -> type[Infix]:
    """A display-only binary operator, e.g. ``infix("Hadamard", r"\\odot", "⊙", 50)``."""
    return type(name, (Infix,), {"latex_op": latex_op, "text_op": text_op, "operand_precedence": precedence})


MaxOf = written("MaxOf", r"\max", "max")
MinOf = written("MinOf", r"\min", "min")
sigma = written("sigma", r"\sigma", "σ")  # the logistic sigmoid as written; its value is 1/(1 + e^{-z})
ReLU = written("ReLU", r"\mathrm{ReLU}", "ReLU")  # its value is max(0, z)
tanh_ = written("tanh_", r"\tanh", "tanh")
exp_ = written("exp_", r"\exp", "exp")
log_ = written("log_", r"\log", "log")
softmax_ = written("softmax_", r"\mathrm{softmax}", "softmax")
Hadamard = infix("Hadamard", r"\odot", "⊙", 50)  # A ⊙ B as the notes write it (SymPy prints ∘)
