"""Building a computational graph over SymPy: named nodes with let-bound exact values.

A node's exact value is a small expression over its parents' names, a parent's value substituted
only when it is short (:func:`is_short`); floats are evaluated node by node with mpmath. Gates are
the rows of :data:`symderiv.engine.gates.GATES`: ``g.apply("mul", x, y)``, or the method of the
same name, ``g.mul(x, y)``, which the table provides. The backward pass is
:func:`symderiv.engine.backward.backward`; :class:`symderiv.Graph` adds it and the worked solution.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import mpmath
import sympy as sp

from .. import limits, numeric
from ..errors import GraphError, NotReal
from ..printing import Name, text
from ..values import shorten, to_exact
from .gates import GATES, Gate, get_gate

#: A value whose expression tree has at most this many nodes is substituted into its consumers.
SHORT = 20
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")


def expr_size(expr: sp.Basic, limit: int) -> int:
    """The number of nodes of ``expr``'s tree, counted up to ``limit + 1`` (then it stops)."""
    n = 0
    for _ in sp.preorder_traversal(expr):
        n += 1
        if n > limit:
            break
    return n


def is_short(expr: sp.Basic) -> bool:
    """True when ``expr`` is small enough to substitute for a name (a rational, e^{-1}, ...)."""
    return expr_size(expr, SHORT) <= SHORT


class NodeKind(enum.StrEnum):
    """What a graph node is."""

    GATE = "gate"  # a gate applied to its parents
    INPUT = "input"  # a leaf the gradient is taken with respect to
    DATA = "data"  # a named leaf that gets no gradient
    CONST = "const"  # a bare number, shown as itself


@dataclass(eq=False)
class Node:
    """A named value of the graph: an input, a constant, or a gate applied to earlier nodes."""

    graph: Graph
    name: str
    symbol: sp.Symbol
    op: Gate | None
    parents: tuple[Node, ...]
    value: sp.Expr
    approx: mpmath.mpf | None
    kind: NodeKind = NodeKind.GATE
    index: int = 0

    @functools.cached_property
    def ref(self) -> sp.Expr:
        """What consumers write for this node: its value when short, else its name."""
        return self.value if self.kind is NodeKind.CONST or is_short(self.value) else self.symbol

    @property
    def display(self) -> sp.Expr:
        """How this node appears in a consumer's formula: a constant as its number, else its name."""
        return self.value if self.kind is NodeKind.CONST else self.symbol

    @property
    def is_input(self) -> bool:
        """A leaf the gradient is taken with respect to."""
        return self.kind is NodeKind.INPUT

    @property
    def named(self) -> bool:
        """False for a bare constant, which formulas show as its number."""
        return self.kind is not NodeKind.CONST

    @property
    def constant(self) -> bool:
        """True for data and constants: they get no gradient."""
        return self.kind in (NodeKind.DATA, NodeKind.CONST)

    @property
    def formula(self) -> sp.Expr:
        """The gate as written over its inputs (names, constants as numbers)."""
        return self.op.written(*(p.display for p in self.parents))

    def __repr__(self) -> str:
        return f"Node({self.name} = {self.value})"

    # Python arithmetic records gates, as micrograd's Value does.
    def __add__(self, other): return self.graph.apply("add", self, other)
    def __radd__(self, other): return self.graph.apply("add", other, self)
    def __sub__(self, other): return self.graph.apply("sub", self, other)
    def __rsub__(self, other): return self.graph.apply("sub", other, self)
    def __mul__(self, other): return self.graph.apply("mul", self, other)
    def __rmul__(self, other): return self.graph.apply("mul", other, self)
    def __truediv__(self, other): return self.graph.apply("div", self, other)
    def __rtruediv__(self, other): return self.graph.apply("div", other, self)
    def __neg__(self): return self.graph.apply("neg", self)
    def __pow__(self, other): return self.graph.apply("pow", self, other)

    def backward(self, **kwargs: Any) -> Any:
        """The worked solution of the graph this node ends, as micrograd's ``backward()`` runs
        the backward pass: ``self.graph.solution(self, **kwargs)`` (see :class:`symderiv.Graph`)."""
        return self.graph.solution(self, **kwargs)


class Graph:
    """A computational graph with exact SymPy values (building only).

    Nodes are made with :meth:`input`, :meth:`data`, :meth:`const`, :meth:`apply` (any row of the
    gate table, by name) or its method (``g.add``, ``g.mul``, ..., one per row) and :meth:`define`.
    Each takes parent nodes or numbers (numbers become constants) and an optional ``name``;
    unnamed gates are f1, f2, ...
    """

    def __init__(self, title: str = "Computational graph"):
        self.title = title
        self.nodes: list[Node] = []
        self.names: dict[sp.Basic, Name] = {}  # how each node (and matrix) is written
        self.floats: dict[sp.Symbol, mpmath.mpf] = {}  # each node's float, by its symbol
        self.tensors: list = []  # matrix-valued values (symderiv.engine.tensor.Tensor), in creation order
        self.size = 0  # what its local derivatives cost so far (the gate rows' costs; see symderiv.limits)
        self._by_name: dict[str, Node] = {}
        self._unnamed = 0

    def __getattr__(self, attr: str) -> Callable[..., Node]:
        gate = GATES.get(attr) if not attr.startswith("_") else None
        if gate is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {attr!r}")
        return functools.partial(self._gate_method, gate)

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(GATES))

    def _gate_method(self, gate: Gate, *inputs: Any, name: str | None = None, latex: str | None = None,
                     **options: Any) -> Node:
        args = gate.method_inputs(*inputs, **options) if gate.method_inputs else inputs
        if options and not gate.method_inputs:
            raise GraphError(f"gate {gate.name} takes no option {sorted(options)[0]!r}")
        return self.apply(gate, *args, name=name, latex=latex)

    # ----- building -------------------------------------------------------------------------
    def _add_node(self, name: str | None, op: Gate | None, parents: tuple[Node, ...], value: sp.Expr,
                  latex: str | None = None, kind: NodeKind = NodeKind.GATE) -> Node:
        if name is None:
            self._unnamed += 1
            name = f"f{self._unnamed}"
            while name in self._by_name:
                self._unnamed += 1
                name = f"f{self._unnamed}"
        if kind is not NodeKind.CONST and (not isinstance(name, str) or not _NAME.match(name)):
            raise GraphError(f"node name {name!r} is not a name (letters, digits and _, starting with a letter)")
        if name in self._by_name:
            raise GraphError(f"a node named {name!r} exists already")
        if op is not None:
            self.size += op.cost_of(tuple(p.value if p.approx is not None else None for p in parents))
            limits.check(self.size)
        if len(self.nodes) % 100 == 99:
            limits.progress("forward pass, nodes", len(self.nodes) + 1)
        symbol = sp.Symbol(name, real=True)
        try:
            approx = numeric.evaluate(value, self.floats)
        except NotReal:
            raise GraphError(f"{name} = {self.formula_text(op, parents, value)} is not a finite real number"
                             f"{self.at_text(parents)}") from None
        node = Node(self, name, symbol, op, parents, value, approx, kind, len(self.nodes))
        self.nodes.append(node)
        self._by_name[name] = node
        self.names[symbol] = Name(latex or sp.latex(symbol), name)
        if approx is not None:
            self.floats[symbol] = approx
        return node

    def formula_text(self, op: Gate | None, parents: Sequence[Node], value: sp.Expr) -> str:
        """A gate as written, in plain text (for an error message)."""
        formula = op.written(*(p.display for p in parents)) if op is not None else value
        return text(formula, self.names)

    def at_text(self, parents: Sequence[Node]) -> str:
        """`` at x = 0, y = 2``: the named parents' values, for an error message."""
        named = [p for p in dict.fromkeys(parents) if p.named and p.approx is not None]
        return " at " + ", ".join(f"{p.name} = {shorten(text(p.value, self.names))}" for p in named) if named else ""

    def input(self, name: str, value: Any = None, *, latex: str | None = None) -> Node:
        """An input (a leaf the gradient is taken with respect to). ``value``: a number, or None
        to leave it a symbol."""
        return self._leaf(name, value, latex, NodeKind.INPUT)

    def data(self, name: str, value: Any = None, *, latex: str | None = None) -> Node:
        """A named value that is not differentiated (a data point, a target): it appears by name
        in formulas and gets no gradient."""
        return self._leaf(name, value, latex, NodeKind.DATA)

    def _leaf(self, name: str, value: Any, latex: str | None, kind: NodeKind) -> Node:
        exact = sp.Symbol(name, real=True) if value is None else to_exact(value, name)
        if isinstance(exact, list):
            raise GraphError(f"{name}: a graph input is a scalar; got a list")
        return self._add_node(name, None, (), exact, latex, kind)

    def const(self, value: Any) -> Node:
        """A constant: it appears in formulas as its number and gets no gradient."""
        return self._add_node(f"_c{len(self.nodes)}", None, (), to_exact(value), kind=NodeKind.CONST)

    def node(self, name: str) -> Node:
        """The node called ``name``."""
        try:
            return self._by_name[name]
        except KeyError:
            raise GraphError(f"no node named {name!r}") from None

    def _as_node(self, x: Any) -> Node:
        if isinstance(x, Node):
            if x.graph is not self:
                raise GraphError(f"node {x.name} belongs to another graph")
            return x
        return self.const(x)

    def apply(self, op: str | Gate, *parents: Any, name: str | None = None, latex: str | None = None) -> Node:
        """Apply a gate of the table (by name, e.g. ``"mul"``, or a :class:`Gate` row) to parent
        nodes or numbers."""
        row = get_gate(op)
        ps = tuple(self._as_node(p) for p in parents)
        problem = row.check_inputs(len(ps)) if row.check_inputs else None
        if problem:
            raise GraphError(problem)
        if (row.arity is None and len(ps) < 2) or (row.arity is not None and len(ps) != row.arity):
            want = "at least 2" if row.arity is None else str(row.arity)
            raise GraphError(f"gate {row.name} takes {want} inputs, got {len(ps)}")
        if row.guard is not None:
            row.guard([p.ref for p in ps])
        value = row.forward(*(p.ref for p in ps))
        return self._add_node(name, row, ps, value, latex)

    def define(self, name: str | None, expr: sp.Expr, *, latex: str | None = None) -> Node:
        """A gate given by any smooth SymPy expression of earlier nodes' symbols (``node.symbol``).

        Its local derivatives are ``sympy.diff`` of ``expr``. For ReLU, max, min and abs use the
        gate methods, whose non-differentiable points follow a stated convention.
        """
        if not isinstance(expr, sp.Expr):
            raise GraphError(f"define() takes a SymPy expression, got {type(expr).__name__}")
        by_symbol = {n.symbol: n for n in self.nodes if n.named}
        unknown = expr.free_symbols - set(by_symbol)
        if unknown:
            raise GraphError(f"define({name!r}): {', '.join(sorted(map(str, unknown)))} are not nodes of this graph")
        if expr.has(sp.Max, sp.Min, sp.Abs, sp.Heaviside, sp.Piecewise, sp.sign):
            raise GraphError(f"define({name!r}): the expression is not smooth; use the relu/max/min/abs gates")
        parents = tuple(sorted((by_symbol[x] for x in expr.free_symbols), key=lambda n: n.index))
        syms = [p.symbol for p in parents]
        row = Gate(name="expr", arity=len(parents), glyph="ƒ",
                   forward=lambda *a: expr.xreplace(dict(zip(syms, a))),
                   written=lambda *a: expr if list(a) == syms else expr.xreplace(dict(zip(syms, a))),
                   local=lambda a, o, c: tuple(sp.diff(expr, s).xreplace(dict(zip(syms, a))) for s in syms))
        return self._add_node(name, row, parents, row.forward(*(p.ref for p in parents)), latex)

    def ancestors(self, output: Node) -> list[Node]:
        """The nodes ``output`` depends on (itself included), in creation order."""
        keep = {output}
        for n in reversed(self.nodes[: output.index + 1]):
            if n in keep:
                keep.update(n.parents)
        return [n for n in self.nodes[: output.index + 1] if n in keep]
