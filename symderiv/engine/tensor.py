"""Matrix-valued values over the scalar engine, and the table of matrix gates.

A :class:`Tensor` is a grid of graph nodes (a column vector is n×1). A matrix gate (``A @ B``,
``A + B``, ``A ⊙ B``, ``tanh(A)``, ``softmax(A)``, a convolution, padding, pooling, a bias) adds one
scalar gate per entry, so exact values, floats, the backward pass and conventions are the scalar
engine's. Each matrix gate is a row of :data:`MATRIX_GATES` (a :class:`MatrixGate`): its
matrix-calculus backward rule (for y = W·x: ∂L/∂W = δ·xᵀ, ∂L/∂x = Wᵀ·δ), its diagram glyph and
which entries the forward pass writes out, which the worked solution shows beside the values the
engine accumulated entry by entry. Add one with :func:`add_matrix_gate` and build its tensors with
:func:`make_tensor`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sympy as sp

from ..errors import GraphError, ParameterError
from ..notation import Hadamard, infix, prime, softmax_, written
from ..printing import Name, entry_name
from ..values import format_shape, shape_of, to_exact
from .gates import Gate, elementwise_gates
from .graph import Graph, Node


@dataclass(frozen=True)
class MatrixGate:
    """One matrix gate.

    ``rule(c, k, d)``: given the gate's output tensor ``c``, the input position ``k`` and δ, the
    symbol of ∂L/∂c, the formula of ∂L/∂(input k). ``rule_names(c)``: how symbols the rule
    introduces are written (a Jacobian, say). ``glyph``: the diagram's circle (or a function of
    the tensor); ``rule_note(c)`` says what they stand for. ``written_out(c)``: which entries the forward pass writes out and why, as
    ``(once_per, words, nodes)`` (``once_per`` None: every time; else once per distinct value).
    """

    name: str
    rule: Callable[[Any, int, sp.Basic], sp.Basic]
    glyph: str | Callable[[Any], str] = ""
    rule_names: Callable[[Any], Mapping[sp.Basic, Name]] | None = None
    rule_note: Callable[[Any], tuple] | None = None  # defines what the rule's own symbols stand for
    written_out: Callable[[Any], tuple[Any, str, list[Node]] | None] | None = None

    def glyph_of(self, t: Any) -> str:
        """The operation drawn in the diagram's circle for tensor ``t``."""
        return self.glyph(t) if callable(self.glyph) else (self.glyph or self.name)


@dataclass(eq=False)
class Tensor:
    """A matrix of graph nodes with a name; ``gate`` and ``parents`` say which matrix gate made it."""

    graph: Graph
    name: str
    nodes: tuple[tuple[Node, ...], ...]
    symbol: sp.MatrixSymbol
    gate: MatrixGate | None = None
    parents: tuple[Tensor, ...] = ()
    formula: sp.Basic | None = None
    extra: dict = field(default_factory=dict)

    @property
    def op(self) -> str | None:
        """The matrix gate's name (None for an input)."""
        return self.gate.name if self.gate else None

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


# ----- the matrix-gate table ------------------------------------------------------------------

MATRIX_GATES: dict[str, MatrixGate] = {}


def add_matrix_gate(gate: MatrixGate) -> MatrixGate:
    """Register a matrix gate: the matrix solution writes its rule and the diagram its glyph."""
    MATRIX_GATES[gate.name] = gate
    return gate


def _matmul_rule(c: Tensor, k: int, d: sp.Basic) -> sp.Basic:
    """C = A'·B' (A' = A or Aᵀ, B' likewise): ∂L/∂A' = δ·B'ᵀ and ∂L/∂B' = A'ᵀ·δ, transposed back."""
    a, b = c.parents
    ta, tb = c.extra["ta"], c.extra["tb"]
    if k == 0:
        return sp.MatMul(sp.Transpose(b.symbol) if tb else b.symbol, sp.Transpose(d), evaluate=False) if ta \
            else sp.MatMul(d, b.symbol if tb else sp.Transpose(b.symbol), evaluate=False)
    return sp.MatMul(sp.Transpose(d), sp.Transpose(a.symbol) if ta else a.symbol, evaluate=False) if tb \
        else sp.MatMul(a.symbol if ta else sp.Transpose(a.symbol), d, evaluate=False)


def _jacobian(c: Tensor) -> sp.MatrixSymbol:
    r, w = c.shape
    size = r if w == 1 else w
    return sp.MatrixSymbol(f"J_{c.name}", size, size)


def _softmax_rule(c: Tensor, k: int, d: sp.Basic) -> sp.Basic:
    """∂L/∂z = J·δ with J = diag(α) − α·αᵀ the (symmetric) softmax Jacobian; row by row for a matrix."""
    J = _jacobian(c)
    return sp.MatMul(J, d, evaluate=False) if c.shape[1] == 1 else sp.MatMul(d, J, evaluate=False)


Corr = infix("Corr", r"\star", "⋆")  # X ⋆ K, the cross-correlation as written
PlusBias = infix("PlusBias", "+", "+")  # Z + b, the bias added at every position
conv_full = written("conv_full", r"\mathrm{conv}_{\mathrm{full}}", "conv_full")
crop = written("crop", r"\mathrm{crop}", "crop")
route_max = written("route", r"\mathrm{route}_{\max}", "route_max")
spread = written("spread", r"\mathrm{spread}", "spread")
sum_of = written("sum", r"\mathrm{sum}", "sum")


def _matmul_written_out(t: Tensor) -> tuple[Any, str, list[Node]] | None:
    """The first product of each shape is written entry by entry, unless an operand is all zeros
    (W_hh·h0 with h0 = 0 shows nothing): then the next product of that shape is."""
    if any(all(n.value == 0 for n in p.entries) for p in t.parents):
        return None
    return ((t.parents[0].shape, t.parents[1].shape), " entry by entry: row · column = sum of products", t.entries)


def _matmul_glyph(t: Tensor) -> str:
    return ("ᵀ" if t.extra.get("ta") else "") + "×" + ("ᵀ" if t.extra.get("tb") else "")


for _row in [
    MatrixGate(name="matmul", rule=_matmul_rule, glyph=_matmul_glyph, written_out=_matmul_written_out),
    MatrixGate(name="add", rule=lambda c, k, d: d, glyph="+"),
    MatrixGate(name="hadamard", rule=lambda c, k, d: Hadamard(d, c.parents[1 - k].symbol), glyph="⊙"),
    MatrixGate(name="scale", rule=lambda c, k, d: sp.MatMul(c.extra["written"], d, evaluate=False),
               glyph=lambda t: f"×{t.extra['factor']}"),
    MatrixGate(name="softmax", rule=_softmax_rule, glyph="softmax",
               rule_names=lambda c: {_jacobian(c): Name(r"J_{\mathrm{softmax}}", "J_softmax")},
               rule_note=lambda c: (_jacobian(c), " = diag(", c.symbol, ") − ",
                                    sp.MatMul(c.symbol, sp.Transpose(c.symbol), evaluate=False),
                                    ": the softmax's Jacobian, symmetric (for a matrix, one per row)")),
    MatrixGate(name="conv", glyph="⋆",
               rule=lambda c, k, d: conv_full(d, c.parents[1].symbol) if k == 0 else Corr(c.parents[0].symbol, d),
               written_out=lambda t: (None, ": the element-wise products of the kernel with each window, summed; "
                                      "the first two positions written out", t.entries[:2])),
    MatrixGate(name="pad", rule=lambda c, k, d: crop(d), glyph="pad"),
    MatrixGate(name="maxpool", rule=lambda c, k, d: route_max(d), glyph="max"),
    MatrixGate(name="mean", rule=lambda c, k, d: spread(d), glyph="mean"),
    MatrixGate(name="bias", rule=lambda c, k, d: d if k == 0 else sum_of(d), glyph="+ b"),
]:
    add_matrix_gate(_row)


def elementwise_gate(gate: Gate) -> MatrixGate:
    """The matrix gate of a scalar gate applied entry by entry: δ ⊙ f'(A) (or the row's own rule)."""
    if gate.name not in _ELEMENTWISE:
        rule = gate.elementwise_rule
        derivative = prime(gate.elementwise)
        _ELEMENTWISE[gate.name] = MatrixGate(
            name=gate.name, glyph=gate.glyph if isinstance(gate.glyph, str) else gate.name,
            rule=(lambda c, k, d: rule(c, d)) if rule
            else (lambda c, k, d: Hadamard(d, derivative(c.parents[0].symbol))))
    return _ELEMENTWISE[gate.name]


_ELEMENTWISE: dict[str, MatrixGate] = {}


# ----- making tensors -------------------------------------------------------------------------

def latex_name(name: str) -> str:
    """``W_xh`` -> ``W_{xh}``: a tensor's LaTeX name from its name."""
    head, _, sub = name.partition("_")
    return f"{head}_{{{sub}}}" if sub else head


def make_tensor(g: Graph, name: str, nodes: Sequence[Sequence[Node]], gate: MatrixGate | None,
                parents: tuple[Tensor, ...], formula: sp.Basic | None, latex: str | None, **extra: Any) -> Tensor:
    """A tensor of ``nodes`` (rows) made by matrix gate ``gate`` from ``parents``, written
    ``formula``; ``extra`` holds what the gate's rule and glyph read (a factor, a transpose)."""
    symbol = sp.MatrixSymbol(name, len(nodes), len(nodes[0]))
    g.names[symbol] = Name(latex or latex_name(name), name)
    t = Tensor(g, name, tuple(tuple(r) for r in nodes), symbol, gate, parents, formula, extra)
    g.tensors.append(t)
    return t


def _entry_index(i: int, j: int, shape: tuple[int, int], vector: bool = False) -> str:
    """An entry's index in LaTeX: ``12`` in a matrix of fewer than 10 rows and columns; in a
    larger one every entry's is written with a comma, ``11,1`` and ``1,11``, so no two read alike
    (``O_{111}`` would be either); one index in a vector."""
    if vector:
        return f"{i + 1}"
    return f"{i + 1}{j + 1}" if max(shape) < 10 else f"{i + 1},{j + 1}"


def _entry_latex(latex: str, index: str) -> str:
    """An entry's name: W_{11}; a subscripted name joins it with a comma, W_{hh,11}, not W_{hh_{11}}."""
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
    lx = latex or latex_name(name)
    leaf = g.data if data else g.input
    nodes = [[leaf(entry_name(name, i, j, vector), exact[i][j], latex=_entry_latex(lx, _entry_index(i, j, shape, vector)))
              for j in range(shape[1])] for i in range(shape[0])]
    return make_tensor(g, name, nodes, None, (), None, lx)


def _gate(g: Graph, name: str, latex: str | None, shape: tuple[int, int],
          make: Callable[[int, int, str, str], Node], gate: MatrixGate, parents: tuple[Tensor, ...],
          formula: sp.Basic, **extra: Any) -> Tensor:
    lx = latex or latex_name(name)
    nodes = [[make(i, j, entry_name(name, i, j, shape[1] == 1), _entry_latex(lx, _entry_index(i, j, shape, shape[1] == 1)))
              for j in range(shape[1])] for i in range(shape[0])]
    return make_tensor(g, name, nodes, gate, parents, formula, lx, **extra)


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
                 MATRIX_GATES["matmul"], (a, b), sp.MatMul(sa, sb, evaluate=False), ta=ta, tb=tb)


def _entrywise(a: Tensor, b: Tensor, scalar: str, matrix: str, stem: str, formula: sp.Basic,
               name: str | None, latex: str | None) -> Tensor:
    """The scalar gate ``scalar`` on each pair of entries of two same-shape tensors."""
    _same_shape(a, b, matrix)
    g = a.graph
    return _gate(g, _unique(g, name, stem), latex, a.shape,
                 lambda i, j, n, lx: g.apply(scalar, a.nodes[i][j], b.nodes[i][j], name=n, latex=lx),
                 MATRIX_GATES[matrix], (a, b), formula)


def add(a: Tensor, b: Tensor, *, name: str | None = None, latex: str | None = None) -> Tensor:
    """A + B entry by entry."""
    return _entrywise(a, b, "add", "add", "s", sp.MatAdd(a.symbol, b.symbol, evaluate=False), name, latex)


def hadamard(a: Tensor, b: Tensor, *, name: str | None = None, latex: str | None = None) -> Tensor:
    """A ⊙ B, the entry-by-entry product."""
    return _entrywise(a, b, "mul", "hadamard", "p", Hadamard(a.symbol, b.symbol), name, latex)


def scale(c: Any, a: Tensor, *, name: str | None = None, latex: str | None = None,
          written: sp.Expr | None = None) -> Tensor:
    """c·A for a number c; ``written`` is c as the formula and the backward rule write it (1/√d_k,
    say), its symbols defined earlier in the solution."""
    g = a.graph
    c = to_exact(c, "scale")
    name = _unique(g, name, "c")
    factor = c if written is None else written
    return _gate(g, name, latex, a.shape, lambda i, j, n, lx: g.apply("mul", c, a.nodes[i][j], name=n, latex=lx),
                 MATRIX_GATES["scale"], (a,), sp.MatMul(factor, a.symbol, evaluate=False), factor=c,
                 written=factor)


def elementwise(fn: str, a: Tensor, *, name: str | None = None, latex: str | None = None) -> Tensor:
    """``fn`` (a gate that applies entry by entry: tanh, sigmoid, exp, ...) of every entry."""
    gates = elementwise_gates()
    if fn not in gates:
        raise GraphError(f"unknown element-wise function {fn!r}; expected one of {', '.join(gates)}")
    gate = gates[fn]
    g = a.graph
    name = _unique(g, name, fn[0])
    return _gate(g, name, latex, a.shape, lambda i, j, n, lx: g.apply(gate, a.nodes[i][j], name=n, latex=lx),
                 elementwise_gate(gate), (a,), gate.elementwise(a.symbol))


def softmax(a: Tensor, *, name: str | None = None, latex: str | None = None) -> Tensor:
    """Softmax of each row (of a column vector: over its entries), e^{a_i}/Σ_j e^{a_j}."""
    g = a.graph
    name = _unique(g, name, "alpha")
    groups = [a.nodes[i] for i in range(a.shape[0])] if a.shape[1] > 1 else [[r[0] for r in a.nodes]]

    def make(i: int, j: int, n: str, lx: str) -> Node:
        row = groups[0] if a.shape[1] == 1 else groups[i]
        return g.apply("softmax", a.nodes[i][j], *row, name=n, latex=lx)

    return _gate(g, name, latex, a.shape, make, MATRIX_GATES["softmax"], (a,), softmax_(a.symbol))


def correlate(X: Tensor, K: Tensor, stride: int, name: str, latex: str | None = None) -> Tensor:
    """X ⋆ K, the cross-correlation (no kernel flip): each output entry a ``dot`` gate over the
    kernel and one window of X, windows ``stride`` apart."""
    g = X.graph
    (n_r, n_c), (f_r, f_c) = X.shape, K.shape
    lx = latex or name
    out = ((n_r - f_r) // stride + 1, (n_c - f_c) // stride + 1)
    nodes = [[g.apply("dot", *(v for a in range(f_r) for b in range(f_c)
                              for v in (K.nodes[a][b], X.nodes[i * stride + a][j * stride + b])),
                      name=f"{name}_{i + 1}_{j + 1}", latex=f"{{{lx}}}_{{{_entry_index(i, j, out)}}}")
              for j in range(out[1])] for i in range(out[0])]
    return make_tensor(g, name, nodes, MATRIX_GATES["conv"], (X, K), Corr(X.symbol, K.symbol), lx, stride=stride)


def pad(X: Tensor, padding: int, *, name: str | None = None, latex: str | None = None) -> Tensor:
    """X with ``padding`` rows and columns of zeros around it (constants: they get no gradient)."""
    g = X.graph
    n_cols = X.shape[1]
    zero = g.const(0)
    rows = [[zero] * (n_cols + 2 * padding) for _ in range(padding)]
    rows += [[zero] * padding + list(r) + [zero] * padding for r in X.nodes]
    rows += [[zero] * (n_cols + 2 * padding) for _ in range(padding)]
    return make_tensor(g, name or f"{X.name}_pad", rows, MATRIX_GATES["pad"], (X,), sp.Function("pad")(X.symbol),
                       latex or rf"{X.name}_{{\mathrm{{pad}}}}")


def pool(X: Tensor, size: int, stride: int, mode: str, *, name: str = "Y", latex: str | None = None) -> Tensor:
    """Max (``mode="max"``) or average (``"average"``) pooling of X over size×size windows."""
    if mode not in ("max", "average"):
        raise ParameterError(f"pooling: mode: expected max or average, got {mode!r}")
    g = X.graph
    n_r, n_c = X.shape
    out_r, out_c = (n_r - size) // stride + 1, (n_c - size) // stride + 1
    gate = "maxpool" if mode == "max" else "mean"
    lx = latex or name
    nodes = [[g.apply(gate, *(X.nodes[i * stride + a][j * stride + b] for a in range(size) for b in range(size)),
                      name=f"{name}_{i + 1}_{j + 1}", latex=f"{lx}_{{{_entry_index(i, j, (out_r, out_c))}}}")
              for j in range(out_c)] for i in range(out_r)]
    return make_tensor(g, name, nodes, MATRIX_GATES[gate], (X,), sp.Function(f"{mode}pool")(X.symbol), lx)


def add_bias(Z: Tensor, b: Tensor, *, name: str, latex: str | None = None) -> Tensor:
    """Z + b: the 1×1 bias ``b`` added at every position of Z."""
    if b.shape != (1, 1):
        raise GraphError(f"add_bias: the bias {b.name} must be 1x1, got {format_shape(b.shape)}")
    g = Z.graph
    lx = latex or name
    bias = b.nodes[0][0]
    nodes = [[g.apply("add", z, bias, name=f"{name}_{i + 1}_{j + 1}",
                      latex=f"{lx}_{{{_entry_index(i, j, Z.shape)}}}")
              for j, z in enumerate(row)] for i, row in enumerate(Z.nodes)]
    return make_tensor(g, name, nodes, MATRIX_GATES["bias"], (Z, b), PlusBias(Z.symbol, b.symbol), lx)


def total(tensors: Tensor | Sequence[Tensor], upstream: Any = None, *, name: str = "L",
          latex: str | None = None) -> Node:
    """The loss L = Σ upstream ⊙ output over the entries of ``tensors``: with ``upstream`` None,
    the plain sum (an upstream gradient of ones, as ``out.sum().backward()``); else a nested list
    of the outputs' combined shape (one row per tensor's entries, for several tensors)."""
    ts = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    entries = [n for t in ts for n in t.entries]
    g = entries[0].graph
    if upstream is None:
        if len(entries) > 1:
            return g.apply("add", *entries, name=name, latex=latex or name)
        return g.apply("mul", 1, entries[0], name=name, latex=latex or name)
    weights = [w for row in upstream for w in (row if isinstance(row, list) else [row])]
    if len(weights) != len(entries):
        raise GraphError(f"upstream: expected {len(entries)} numbers (one per output entry), got {len(weights)}")
    return g.apply("dot", *(v for w, n in zip(weights, entries) for v in (w, n)), name=name, latex=latex or name)
