"""Matrix-valued values over the scalar engine.

A :class:`Tensor` is a grid of graph nodes (a column vector is n×1). Matrix gates (``A @ B``,
``A + B``, ``A * B`` for the Hadamard product, ``tanh(A)``, ``softmax(A)``, ...) add one scalar gate
per entry, so the exact values, floats, backward pass and conventions are the scalar engine's.
Each matrix gate also records how it is written (``formula``) and, in :data:`RULES`, its
matrix-calculus backward rule (for y = W·x: ∂L/∂W = δ·xᵀ, ∂L/∂x = Wᵀ·δ), which the solution
shows at matrix level beside the values the engine accumulated entry by entry.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import mpmath
import sympy as sp

from . import diagram
from .errors import GraphError
from .graph import Graph, Node
from .ops import Written, sigma, written
from .printing import Name, Shown
from .solution import Remark, Section, Solution, Step
from .values import format_shape, shape_of, to_exact


tanh_ = written("tanh_", r"\tanh", "tanh")
exp_ = written("exp_", r"\exp", "exp")
softmax_ = written("softmax_", r"\mathrm{softmax}", "softmax")


class Hadamard(sp.Function):
    """A ⊙ B as the notes write it (SymPy prints ∘)."""

    def _latex(self, printer):
        return " \\odot ".join(printer.parenthesize(a, 50) for a in self.args)

    def _sympystr(self, printer):
        return " ⊙ ".join(printer.parenthesize(a, 50) for a in self.args)


@dataclass(eq=False)
class Tensor:
    """A matrix of graph nodes with a name; ``op`` and ``parents`` say which matrix gate made it."""

    graph: Graph
    name: str
    nodes: tuple[tuple[Node, ...], ...]
    symbol: sp.MatrixSymbol
    op: str | None = None
    parents: tuple[Tensor, ...] = ()
    formula: sp.Basic | None = None
    extra: dict = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.nodes), len(self.nodes[0])

    @property
    def entries(self) -> list[Node]:
        """The nodes, row by row."""
        return [n for row in self.nodes for n in row]

    def matrix(self, f: Callable[[Node], Any]) -> sp.Matrix:
        """``f`` of each entry, as a SymPy matrix."""
        return sp.Matrix([[f(n) for n in row] for row in self.nodes])

    def __matmul__(self, other: Tensor) -> Tensor:
        return matmul(self, other)

    def __add__(self, other: Tensor) -> Tensor:
        return add(self, other)

    def __mul__(self, other: Any) -> Tensor:
        return hadamard(self, other) if isinstance(other, Tensor) else scale(other, self)

    __rmul__ = __mul__

    def __repr__(self) -> str:
        return f"Tensor({self.name}, {format_shape(self.shape)})"


def _latex_name(name: str) -> str:
    head, _, sub = name.partition("_")
    return f"{head}_{{{sub}}}" if sub else head


def _new(g: Graph, name: str, nodes: list[list[Node]], op: str | None, parents: tuple[Tensor, ...],
         formula: sp.Basic | None, latex: str | None, **extra: Any) -> Tensor:
    symbol = sp.MatrixSymbol(name, len(nodes), len(nodes[0]))
    g.names[symbol] = Name(latex or _latex_name(name), name)
    t = Tensor(g, name, tuple(tuple(r) for r in nodes), symbol, op, parents, formula, extra)
    g.tensors.append(t)
    return t


def _entry_name(name: str, i: int, j: int, vector: bool) -> str:
    return f"{name}_{i + 1}" if vector else f"{name}_{i + 1}_{j + 1}"


def _entry_latex(latex: str, i: int, j: int, vector: bool) -> str:
    """An entry's name: W_{11}; a subscripted name joins it with a comma, W_{hh,11}, not W_{hh_{11}}."""
    index = f"{i + 1}" if vector else f"{i + 1}{j + 1}" if i < 9 and j < 9 else f"{i + 1},{j + 1}"
    sub = re.fullmatch(r"(.+)_\{([^{}]*)\}", latex)
    return f"{sub.group(1)}_{{{sub.group(2)},{index}}}" if sub else f"{{{latex}}}_{{{index}}}"


def _unique(g: Graph, name: str | None, stem: str) -> str:
    if name is not None:
        return name
    k = sum(1 for t in g.tensors if t.name.startswith(stem)) + 1
    while any(t.name == f"{stem}{k}" for t in g.tensors):
        k += 1
    return f"{stem}{k}"


def tensor(g: Graph, name: str, values: Any, *, latex: str | None = None, data: bool = False) -> Tensor:
    """An input matrix (a list of rows) or column vector (a flat list). ``data=True``: no gradient."""
    exact = to_exact(values, name)
    shape = shape_of(exact, name)
    vector = len(shape) == 1  # a flat list: a column vector, entries named v_1, v_2, ...
    if vector:
        exact, shape = [[v] for v in exact], (shape[0], 1)
    if len(shape) != 2:
        raise GraphError(f"{name}: expected a vector or a matrix, got shape {format_shape(shape)}")
    lx = latex or _latex_name(name)
    leaf = g.data if data else g.input
    nodes = [[leaf(_entry_name(name, i, j, vector), exact[i][j], latex=_entry_latex(lx, i, j, vector))
              for j in range(shape[1])] for i in range(shape[0])]
    return _new(g, name, nodes, None, (), None, lx)


def _gate(g: Graph, name: str, latex: str | None, shape: tuple[int, int],
          make: Callable[[int, int, str, str], Node], op: str, parents: tuple[Tensor, ...],
          formula: sp.Basic, **extra: Any) -> Tensor:
    lx = latex or _latex_name(name)
    nodes = [[make(i, j, _entry_name(name, i, j, shape[1] == 1), _entry_latex(lx, i, j, shape[1] == 1))
              for j in range(shape[1])] for i in range(shape[0])]
    return _new(g, name, nodes, op, parents, formula, lx, **extra)


def _same_shape(a: Tensor, b: Tensor, what: str) -> None:
    if a.shape != b.shape:
        raise GraphError(f"{what}: {a.name} is {format_shape(a.shape)} but {b.name} is {format_shape(b.shape)}")


def matmul(a: Tensor, b: Tensor, *, ta: bool = False, tb: bool = False, name: str | None = None,
           latex: str | None = None) -> Tensor:
    """A·B (Aᵀ·B with ``ta``, A·Bᵀ with ``tb``): each entry a ``dot`` gate, row times column."""
    rows_a = [list(c) for c in zip(*a.nodes)] if ta else [list(r) for r in a.nodes]
    cols_b = [list(r) for r in b.nodes] if tb else [list(c) for c in zip(*b.nodes)]
    sa = sp.Transpose(a.symbol) if ta else a.symbol
    sb = sp.Transpose(b.symbol) if tb else b.symbol
    if len(rows_a[0]) != len(cols_b[0]):
        raise GraphError(f"{sp.sstr(sa)}·{sp.sstr(sb)}: the inner sizes differ "
                         f"({a.name} is {format_shape(a.shape)}, {b.name} is {format_shape(b.shape)})")
    g = a.graph
    name = _unique(g, name, "m")
    return _gate(g, name, latex, (len(rows_a), len(cols_b)),
                 lambda i, j, n, lx: g.apply("dot", *(v for x, y in zip(rows_a[i], cols_b[j]) for v in (x, y)),
                                             name=n, latex=lx),
                 "matmul", (a, b), sp.MatMul(sa, sb, evaluate=False), ta=ta, tb=tb)


def add(a: Tensor, b: Tensor, *, name: str | None = None, latex: str | None = None) -> Tensor:
    """A + B entry by entry."""
    _same_shape(a, b, "add")
    g = a.graph
    name = _unique(g, name, "s")
    return _gate(g, name, latex, a.shape, lambda i, j, n, lx: g.add(a.nodes[i][j], b.nodes[i][j], name=n, latex=lx),
                 "add", (a, b), sp.MatAdd(a.symbol, b.symbol, evaluate=False))


def hadamard(a: Tensor, b: Tensor, *, name: str | None = None, latex: str | None = None) -> Tensor:
    """A ⊙ B, the entry-by-entry product."""
    _same_shape(a, b, "hadamard")
    g = a.graph
    name = _unique(g, name, "p")
    return _gate(g, name, latex, a.shape, lambda i, j, n, lx: g.mul(a.nodes[i][j], b.nodes[i][j], name=n, latex=lx),
                 "hadamard", (a, b), Hadamard(a.symbol, b.symbol))


def scale(c: Any, a: Tensor, *, name: str | None = None, latex: str | None = None) -> Tensor:
    """c·A for a number c."""
    g = a.graph
    c = to_exact(c, "scale")
    name = _unique(g, name, "c")
    return _gate(g, name, latex, a.shape, lambda i, j, n, lx: g.mul(c, a.nodes[i][j], name=n, latex=lx),
                 "scale", (a,), sp.MatMul(c, a.symbol, evaluate=False), factor=c)


_ELEMENTWISE = {"tanh": tanh_, "sigmoid": sigma, "exp": exp_}


def elementwise(fn: str, a: Tensor, *, name: str | None = None, latex: str | None = None) -> Tensor:
    """``fn`` (tanh, sigmoid, exp) of every entry."""
    if fn not in _ELEMENTWISE:
        raise GraphError(f"unknown element-wise function {fn!r}; expected one of {', '.join(_ELEMENTWISE)}")
    g = a.graph
    name = _unique(g, name, fn[0])
    return _gate(g, name, latex, a.shape, lambda i, j, n, lx: g.apply(fn, a.nodes[i][j], name=n, latex=lx),
                 fn, (a,), _ELEMENTWISE[fn](a.symbol))


def softmax(a: Tensor, *, name: str | None = None, latex: str | None = None) -> Tensor:
    """Softmax of each row (of a column vector: over its entries), e^{a_i}/Σ_j e^{a_j}."""
    g = a.graph
    name = _unique(g, name, "alpha")
    groups = [a.nodes[i] for i in range(a.shape[0])] if a.shape[1] > 1 else [[r[0] for r in a.nodes]]

    def make(i: int, j: int, n: str, lx: str) -> Node:
        row = groups[0] if a.shape[1] == 1 else groups[i]
        return g.apply("softmax", a.nodes[i][j], *row, name=n, latex=lx)

    return _gate(g, name, latex, a.shape, make, "softmax", (a,), softmax_(a.symbol))


def total(tensors: Tensor | Sequence[Tensor], upstream: Any = None, *, name: str = "L",
          latex: str | None = None) -> Node:
    """The loss L = Σ upstream ⊙ output over the entries of ``tensors``: with ``upstream`` None,
    the plain sum (an upstream gradient of ones, as ``out.sum().backward()``); else a nested list
    of the outputs' combined shape (one row per tensor's entries, for several tensors)."""
    ts = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    entries = [n for t in ts for n in t.entries]
    g = entries[0].graph
    if upstream is None:
        node = g.add(*entries, name=name, latex=latex) if len(entries) > 1 else g.mul(1, entries[0], name=name)
    else:
        weights = [w for row in upstream for w in (row if isinstance(row, list) else [row])]
        if len(weights) != len(entries):
            raise GraphError(f"upstream: expected {len(entries)} numbers (one per output entry), got {len(weights)}")
        node = g.apply("dot", *(v for w, n in zip(weights, entries) for v in (w, n)), name=name, latex=latex)
    g.names[node.symbol] = Name(latex or name, name)
    return node


class _Prime(sp.Function):
    """f'(A) as written, for the backward rule of an element-wise gate."""

    def _latex(self, printer):
        return self.latex_name + r"'\left(%s\right)" % printer._print(self.args[0])

    def _sympystr(self, printer):
        return self.text_name + "'(%s)" % printer._print(self.args[0])


def _prime(fn: type[Written]) -> type:
    return type(f"{fn.__name__}_prime", (_Prime,), {"latex_name": fn.latex_name, "text_name": fn.text_name})


tanh_prime, sigma_prime = _prime(tanh_), _prime(sigma)


def _softmax_rule(c: Tensor, d: sp.Basic) -> sp.Basic:
    """∂L/∂z = J·δ with J = diag(α) − α·αᵀ the (symmetric) softmax Jacobian; row by row for a matrix."""
    r, w = c.shape
    size = r if w == 1 else w
    J = sp.MatrixSymbol(f"J_{c.name}", size, size)
    c.graph.names[J] = Name(rf"J_{{\mathrm{{softmax}}}}", "J_softmax")
    return sp.MatMul(J, d, evaluate=False) if w == 1 else sp.MatMul(d, J, evaluate=False)


def _matmul_rule(c: Tensor, k: int, d: sp.Basic) -> sp.Basic:
    """C = A'·B' (A' = A or Aᵀ, B' likewise): ∂L/∂A' = δ·B'ᵀ and ∂L/∂B' = A'ᵀ·δ, transposed back."""
    a, b = c.parents
    ta, tb = c.extra["ta"], c.extra["tb"]
    if k == 0:
        return sp.MatMul(sp.Transpose(b.symbol) if tb else b.symbol, sp.Transpose(d), evaluate=False) if ta \
            else sp.MatMul(d, b.symbol if tb else sp.Transpose(b.symbol), evaluate=False)
    return sp.MatMul(sp.Transpose(d), sp.Transpose(a.symbol) if ta else a.symbol, evaluate=False) if tb \
        else sp.MatMul(a.symbol if ta else sp.Transpose(a.symbol), d, evaluate=False)


#: How each matrix gate passes the gradient back, written in matrix calculus: given the gate
#: ``c``, the input position ``k`` and δ = ∂L/∂c, the formula of ∂L/∂(input k).
RULES: dict[str, Callable[[Tensor, int, sp.Basic], sp.Basic]] = {
    "matmul": lambda c, k, d: _matmul_rule(c, k, d),
    "add": lambda c, k, d: d,
    "hadamard": lambda c, k, d: Hadamard(d, c.parents[1 - k].symbol),
    "scale": lambda c, k, d: sp.MatMul(c.extra["factor"], d, evaluate=False),
    "tanh": lambda c, k, d: Hadamard(d, tanh_prime(c.parents[0].symbol)),
    "sigmoid": lambda c, k, d: Hadamard(d, sigma_prime(c.parents[0].symbol)),
    "exp": lambda c, k, d: Hadamard(d, c.symbol),
    "softmax": lambda c, k, d: _softmax_rule(c, d),
}


def _approx(t: Tensor) -> tuple[tuple, ...] | None:
    if any(n.approx is None for n in t.entries):
        return None
    return tuple(tuple(n.approx for n in row) for row in t.nodes)


def shown(t: Tensor) -> Shown:
    """A tensor as a substitution shows it: each entry's value (or name when long)."""
    return Shown(sp.ImmutableMatrix(t.matrix(lambda n: n.ref)), _approx(t))


def solution(loss: Node, *, model: str, title: str | None = None, parameters: dict | None = None,
             convention: str = "pytorch", before: Sequence[Section] = (),
             extra: Sequence[Section] = ()) -> Solution:
    """The worked solution of a graph of matrix gates ending in the scalar ``loss``: matrices as
    matrices, the first product of each shape written entry by entry, the backward pass by the
    matrix-calculus rule of each gate, its values accumulated entry by entry by the engine."""
    g = loss.graph
    bw = g.backward(loss, convention=convention)
    needed = set(g.ancestors(loss))
    live = [t for t in g.tensors if any(n in needed for n in t.entries)]
    given = [Step(t.symbol, exact=sp.ImmutableMatrix(t.matrix(lambda n: n.value)), approx=_approx(t))
             for t in live if t.op is None]
    forward: list[Step | Remark] = []
    written: set[tuple] = set()  # the first product of each shape is written entry by entry
    for t in live:
        if t.op is None:
            continue
        kind = (t.parents[0].shape, t.parents[1].shape) if t.op == "matmul" else None
        if kind and kind not in written:
            written.add(kind)
            forward.append(Remark((t.symbol, " = ", t.formula, " entry by entry: row · column = sum of products",)))
            forward += g.forward_steps(t.entries)
        if t.op == "conv":
            forward.append(Remark((t.symbol, " = ", t.formula, ": the element-wise products of the kernel with "
                                   "each window, summed; the first two positions written out",)))
            forward += g.forward_steps(t.entries[:2])
        forward.append(Step(t.symbol, t.formula, {p.symbol: shown(p) for p in t.parents},
                            sp.ImmutableMatrix(t.matrix(lambda n: n.value)), _approx(t)))
    forward += g.forward_steps([loss])

    deltas: dict[Tensor, sp.MatrixSymbol] = {}
    for t in live:
        d = sp.MatrixSymbol(f"dL/d{t.name}", *t.shape)
        deltas[t] = d
        g.names[d] = Name(rf"\frac{{\partial {bw.label.latex}}}{{\partial {g.names[t.symbol].latex}}}",
                          f"∂{bw.label.text}/∂{t.name}")

    zero = mpmath.mpf(0)  # an entry the loss does not depend on (outside every window, say)

    def grad(t: Tensor) -> Shown:
        return Shown(sp.ImmutableMatrix(t.matrix(lambda n: bw.ref(n) if n in bw.grads else 0)),
                     tuple(tuple(bw.approx.get(n, zero) for n in row) for row in t.nodes))

    backward: list[Step | Remark] = [Step(bw.symbols[loss], exact=bw.grads[loss], approx=bw.approx[loss],
                                          note=("the upstream gradient that starts the backward pass",))]
    backward += g.local_steps(bw, loss)
    kinks: dict[Node, list] = {}  # the non-differentiable points met on the way into each node
    for (_, p), loc in bw.locals.items():
        if loc.kink and loc.kink not in kinks.setdefault(p, []):
            kinks[p].append(loc.kink)
    for t in reversed(live):
        if all(n.constant for n in t.entries):
            continue
        terms, values, notes = [], {}, []
        for n in t.entries:
            for kink in kinks.get(n, ()):
                if kink not in notes:
                    notes.append(kink)
        for c in live:
            for k, p in enumerate(c.parents):
                if p is t and c.op in RULES:
                    terms.append(RULES[c.op](c, k, deltas[c]))
                    values[deltas[c]] = grad(c)
                    values.update({q.symbol: shown(q) for q in c.parents})
                    values[c.symbol] = shown(c)
        if any(loss in bw.consumers.get(n, ()) for n in t.entries):
            notes.append(("entry by entry from ", loss.symbol, " (its local derivatives above)",))
        formula = None if not terms else terms[0] if len(terms) == 1 else sp.MatAdd(*terms, evaluate=False)
        if len(terms) > 1:
            notes.append((t.symbol, f" feeds {len(terms)} gates: its gradient is the sum of the {len(terms)} terms",))
        note: list = []
        for part in notes:
            note += ["; " if note else "", *part]
        exact = sp.ImmutableMatrix(t.matrix(lambda n: bw.grads.get(n, 0)))
        backward.append(Step(deltas[t], formula, values or None, exact, grad(t).approx, tuple(note)))

    inputs = [t for t in live if t.op is None and not all(n.constant for n in t.entries)]
    results = [Step(deltas[t], exact=sp.ImmutableMatrix(t.matrix(lambda n: bw.inline(bw.grads.get(n, sp.Integer(0))))),
                    approx=grad(t).approx) for t in inputs]
    sections = (*before,
                Section("given", "Given", tuple(given)),
                Section("forward", "Forward pass", tuple(forward)),
                Section("backward", "Backward pass (matrix rule; values accumulated entry by entry)",
                        tuple(backward)),
                Section("results", "Gradients", tuple(results)),
                *extra)
    res = {n.name: Shown(bw.inline(bw.grads[n]), bw.approx[n]) if n in bw.grads else Shown(sp.Integer(0), zero)
           for t in inputs for n in t.entries if n.is_input}
    return Solution(model, title or g.title, sections, dict(g.names), dict(parameters or {}), res,
                    diagram.build(g, bw))
