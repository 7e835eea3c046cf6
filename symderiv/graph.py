"""The engine: a computational graph over SymPy, exact forward values, reverse-mode backward.

Build a graph with named inputs and gates (the rows of :data:`symderiv.ops.OPS`), or with
:meth:`Graph.define` for any smooth SymPy expression of earlier nodes; then
:meth:`Graph.solution` records the worked solution: forward values, every gate's local
derivatives, and the backward pass, each node's gradient being the sum over its consumers of
(local derivative × upstream gradient).

Exact values are let-bound: a node's value is a small expression over its parents' names,
with a parent's value substituted only when it is short. Floats are evaluated node by node.

>>> g = Graph()
>>> x, y, z = g.input("x", -2), g.input("y", 5), g.input("z", -4)
>>> f = g.mul(g.add(x, y, name="q"), z, name="f")
>>> g.gradients(f)["x"]
-4
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import mpmath
import sympy as sp

from . import diagram, limits, numeric
from .errors import GraphError
from .ops import OPS, Convention, Op, get_convention
from .printing import Name, Shown, text
from .solution import Note, Remark, Section, Solution, Step
from .values import to_exact

#: A value whose expression tree has at most this many nodes is substituted into its consumers.
SHORT = 20
#: Results are shown with the names they use replaced by values when that stays this small.
INLINE = 80
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")


def _size(expr: sp.Basic, limit: int) -> int:
    n = 0
    for _ in sp.preorder_traversal(expr):
        n += 1
        if n > limit:
            break
    return n


def is_short(expr: sp.Basic) -> bool:
    """True when ``expr`` is small enough to substitute for a name (a rational, e^{-1}, ...)."""
    return _size(expr, SHORT) <= SHORT


@dataclass(eq=False)
class Node:
    """A named value of the graph: an input, a constant, or a gate applied to earlier nodes."""

    graph: Graph
    name: str
    symbol: sp.Symbol
    op: Op | None
    parents: tuple[Node, ...]
    value: sp.Expr
    approx: mpmath.mpf | None
    kind: str = "gate"  # gate | input | data (named, no gradient) | const (a bare number)
    index: int = 0

    @functools.cached_property
    def ref(self) -> sp.Expr:
        """What consumers write for this node: its value when short, else its name."""
        return self.value if self.kind == "const" or is_short(self.value) else self.symbol

    @property
    def display(self) -> sp.Expr:
        """How this node appears in a consumer's formula: a constant as its number, else its name."""
        return self.value if self.kind == "const" else self.symbol

    @property
    def is_input(self) -> bool:
        """A leaf the gradient is taken with respect to."""
        return self.kind == "input"

    @property
    def named(self) -> bool:
        """False for a bare constant, which formulas show as its number."""
        return self.kind != "const"

    @property
    def constant(self) -> bool:
        """True for data and constants: they get no gradient."""
        return self.kind in ("data", "const")

    def __repr__(self) -> str:
        return f"Node({self.name} = {self.value})"

    # Python arithmetic records gates, as micrograd's Value does.
    def __add__(self, other): return self.graph.add(self, other)
    def __radd__(self, other): return self.graph.add(other, self)
    def __sub__(self, other): return self.graph.sub(self, other)
    def __rsub__(self, other): return self.graph.sub(other, self)
    def __mul__(self, other): return self.graph.mul(self, other)
    def __rmul__(self, other): return self.graph.mul(other, self)
    def __truediv__(self, other): return self.graph.div(self, other)
    def __rtruediv__(self, other): return self.graph.div(other, self)
    def __neg__(self): return self.graph.neg(self)
    def __pow__(self, other): return self.graph.pow(self, other)

    def backward(self, **kwargs: Any) -> Solution:
        """The worked solution of the graph this node ends (``Graph.solution``), as micrograd's
        ``backward()``, returning what was derived."""
        return self.graph.solution(self, **kwargs)


@dataclass
class Local:
    """The local derivative of gate ``node`` with respect to input ``parent``."""

    node: Node
    parent: Node
    symbol: sp.Symbol
    formula: sp.Expr
    value: sp.Expr
    approx: mpmath.mpf | None
    kink: Note = ()

    @property
    def ref(self) -> sp.Expr:
        return self.value if is_short(self.value) else self.symbol


@dataclass
class Backward:
    """The result of a backward pass: every node's gradient, exact and float, and how it was formed."""

    output: Node
    label: Name
    convention: Convention
    grads: dict[Node, sp.Expr] = field(default_factory=dict)
    approx: dict[Node, mpmath.mpf] = field(default_factory=dict)
    symbols: dict[Node, sp.Symbol] = field(default_factory=dict)
    locals: dict[tuple[Node, Node], Local] = field(default_factory=dict)
    consumers: dict[Node, list[Node]] = field(default_factory=dict)
    defs: dict[sp.Symbol, sp.Expr] = field(default_factory=dict)  # every let-bound name's value
    gates: dict[Node, tuple] = field(default_factory=dict, repr=False)  # per gate: derivatives, point, tie
    _inlined: dict[tuple[sp.Expr, int], sp.Expr] = field(default_factory=dict, repr=False)

    def ref(self, node: Node) -> sp.Expr:
        g = self.grads[node]
        return g if is_short(g) else self.symbols[node]

    def inline(self, expr: sp.Expr, limit: int = INLINE) -> sp.Expr:
        """``expr`` with the let-bound names it uses (nodes, local derivatives, gradients)
        replaced by their values while the result stays within ``limit`` nodes; else ``expr``."""
        key = (expr, limit)
        if key not in self._inlined:
            self._inlined[key] = self._inline(expr, limit)
        return self._inlined[key]

    def _inline(self, expr: sp.Expr, limit: int) -> sp.Expr:
        out = expr
        while True:
            todo = {s: self.defs[s] for s in out.free_symbols if s in self.defs}
            if not todo:
                return out
            grown = sum(_size(self.defs[e], limit) - 1 for e in sp.preorder_traversal(out) if e in todo)
            if _size(out, limit) + grown > limit:
                return expr
            with sp.evaluate(False):  # composing numbers with evaluation is the exponential trap
                out = out.xreplace(todo)


class Graph:
    """A computational graph with exact SymPy values.

    Nodes are made with :meth:`input`, the gate methods (:meth:`add`, :meth:`mul`, ...,
    :meth:`apply` for any row of the gate table) and :meth:`define`. Each takes parent nodes or
    numbers (numbers become constants) and an optional ``name``; unnamed gates are f1, f2, ...
    """

    def __init__(self, title: str = "Computational graph"):
        self.title = title
        self.nodes: list[Node] = []
        self.names: dict[sp.Symbol, Name] = {}
        self._by_name: dict[str, Node] = {}
        self._env: dict[sp.Symbol, mpmath.mpf] = {}
        self._unnamed = 0
        self.size = 0  # gate inputs so far: one local derivative each (see symderiv.limits)
        self.tensors: list = []  # matrix-valued values (symderiv.tensor.Tensor), in creation order

    # ----- building -------------------------------------------------------------------------
    def _add_node(self, name: str | None, op: Op | None, parents: tuple[Node, ...], value: sp.Expr,
                  latex: str | None = None, kind: str = "gate") -> Node:
        if name is None:
            self._unnamed += 1
            name = f"f{self._unnamed}"
            while name in self._by_name:
                self._unnamed += 1
                name = f"f{self._unnamed}"
        if kind != "const" and (not isinstance(name, str) or not _NAME.match(name)):
            raise GraphError(f"node name {name!r} is not a name (letters, digits and _, starting with a letter)")
        if name in self._by_name:
            raise GraphError(f"a node named {name!r} exists already")
        self.size += len(parents)
        limits.check(self.size)
        if len(self.nodes) % 100 == 99:
            limits.progress("forward pass, nodes", len(self.nodes) + 1)
        symbol = sp.Symbol(name, real=True)
        try:
            approx = numeric.evaluate(value, self._env)
        except numeric.NotReal:
            raise GraphError(f"{name} = {self._written(op, parents, value)} is not a finite real number"
                             f"{self._at(parents)}") from None
        node = Node(self, name, symbol, op, parents, value, approx, kind, len(self.nodes))
        self.nodes.append(node)
        self._by_name[name] = node
        self.names[symbol] = Name(latex or sp.latex(symbol), name)
        if approx is not None:
            self._env[symbol] = approx
        return node

    def _written(self, op: Op | None, parents: Sequence[Node], value: sp.Expr) -> str:
        formula = op.display(*(p.display for p in parents)) if op is not None else value
        return text(formula, self.names)

    def _at(self, parents: Sequence[Node]) -> str:
        """`` at x = 0, y = 2``: the named parents' values, for an error message."""
        named = [p for p in dict.fromkeys(parents) if p.named and p.approx is not None]
        return " at " + ", ".join(f"{p.name} = {text(p.value, self.names)}" for p in named) if named else ""

    def input(self, name: str, value: Any = None, *, latex: str | None = None) -> Node:
        """An input (a leaf the gradient is taken with respect to). ``value``: a number, or None
        to leave it a symbol."""
        return self._leaf(name, value, latex, "input")

    def data(self, name: str, value: Any = None, *, latex: str | None = None) -> Node:
        """A named value that is not differentiated (a data point, a target): it appears by name
        in formulas and gets no gradient."""
        return self._leaf(name, value, latex, "data")

    def _leaf(self, name: str, value: Any, latex: str | None, kind: str) -> Node:
        exact = sp.Symbol(name, real=True) if value is None else to_exact(value, name)
        if isinstance(exact, list):
            raise GraphError(f"{name}: a graph input is a scalar; got a list")
        return self._add_node(name, None, (), exact, latex, kind)

    def const(self, value: Any) -> Node:
        """A constant: it appears in formulas as its number and gets no gradient."""
        return self._add_node(f"_c{len(self.nodes)}", None, (), to_exact(value), kind="const")

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

    def apply(self, op: str | Op, *parents: Any, name: str | None = None, latex: str | None = None) -> Node:
        """Apply a gate of the table (by name, e.g. ``"mul"``) to parent nodes or numbers."""
        row = op if isinstance(op, Op) else OPS.get(op)
        if row is None:
            raise GraphError(f"unknown gate {op!r}; expected one of {', '.join(OPS)}")
        ps = tuple(self._as_node(p) for p in parents)
        if row.name == "linear" and len(ps) % 2 == 0:
            raise GraphError("gate linear takes (weight, input) pairs and a bias")
        if row.name == "dot" and len(ps) % 2:
            raise GraphError("gate dot takes (a, b) pairs")
        if (row.arity is None and len(ps) < 2) or (row.arity is not None and len(ps) != row.arity):
            want = "at least 2" if row.arity is None else str(row.arity)
            raise GraphError(f"gate {row.name} takes {want} inputs, got {len(ps)}")
        if row.name == "pow":
            _check_power(ps[0].ref, ps[1].ref)
        value = row.forward(*(p.ref for p in ps))
        return self._add_node(name, row, ps, value, latex)

    def add(self, *xs: Any, name: str | None = None, latex: str | None = None) -> Node:
        """Sum gate: distributes its upstream gradient unchanged to every input."""
        return self.apply("add", *xs, name=name, latex=latex)

    def sub(self, a: Any, b: Any, *, name: str | None = None, latex: str | None = None) -> Node:
        """a − b."""
        return self.apply("sub", a, b, name=name, latex=latex)

    def mul(self, *xs: Any, name: str | None = None, latex: str | None = None) -> Node:
        """Product gate: each input's gradient is the other inputs times the upstream gradient."""
        return self.apply("mul", *xs, name=name, latex=latex)

    def div(self, a: Any, b: Any, *, name: str | None = None, latex: str | None = None) -> Node:
        """a / b."""
        return self.apply("div", a, b, name=name, latex=latex)

    def linear(self, *pairs: tuple[Any, Any], bias: Any = 0, name: str | None = None,
               latex: str | None = None) -> Node:
        """A weighted sum w1·x1 + w2·x2 + ... + b in one gate (``pairs`` of (weight, input))."""
        return self.apply("linear", *(v for pair in pairs for v in pair), bias, name=name, latex=latex)

    def neg(self, a: Any, *, name: str | None = None, latex: str | None = None) -> Node:
        """−a."""
        return self.apply("neg", a, name=name, latex=latex)

    def recip(self, a: Any, *, name: str | None = None, latex: str | None = None) -> Node:
        """1/a."""
        return self.apply("recip", a, name=name, latex=latex)

    def pow(self, a: Any, b: Any, *, name: str | None = None, latex: str | None = None) -> Node:
        """a ** b."""
        return self.apply("pow", a, b, name=name, latex=latex)

    def exp(self, a: Any, *, name: str | None = None, latex: str | None = None) -> Node:
        """e ** a."""
        return self.apply("exp", a, name=name, latex=latex)

    def log(self, a: Any, *, name: str | None = None, latex: str | None = None) -> Node:
        """Natural logarithm."""
        return self.apply("log", a, name=name, latex=latex)

    def sigmoid(self, a: Any, *, name: str | None = None, latex: str | None = None) -> Node:
        """σ(a) = 1/(1 + e^{−a}) as one gate, with σ' = σ(1 − σ)."""
        return self.apply("sigmoid", a, name=name, latex=latex)

    def tanh(self, a: Any, *, name: str | None = None, latex: str | None = None) -> Node:
        """tanh(a), with tanh' = 1 − tanh²."""
        return self.apply("tanh", a, name=name, latex=latex)

    def relu(self, a: Any, *, name: str | None = None, latex: str | None = None) -> Node:
        """max(0, a); its derivative at 0 is a convention."""
        return self.apply("relu", a, name=name, latex=latex)

    def abs(self, a: Any, *, name: str | None = None, latex: str | None = None) -> Node:
        """|a|; its derivative at 0 is a convention."""
        return self.apply("abs", a, name=name, latex=latex)

    def max(self, a: Any, b: Any, *, name: str | None = None, latex: str | None = None) -> Node:
        """max(a, b): routes the upstream gradient to the larger input."""
        return self.apply("max", a, b, name=name, latex=latex)

    def min(self, a: Any, b: Any, *, name: str | None = None, latex: str | None = None) -> Node:
        """min(a, b): routes the upstream gradient to the smaller input."""
        return self.apply("min", a, b, name=name, latex=latex)

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
        row = Op("expr", len(parents),
                 forward=lambda *a: expr.xreplace(dict(zip(syms, a))),
                 display=lambda *a: expr if list(a) == syms else expr.xreplace(dict(zip(syms, a))),
                 local=lambda a, o, c: tuple(sp.diff(expr, s).xreplace(dict(zip(syms, a))) for s in syms))
        return self._add_node(name, row, parents, row.forward(*(p.ref for p in parents)), latex)

    # ----- backward ----------------------------------------------------------------------
    def ancestors(self, output: Node) -> list[Node]:
        """The nodes ``output`` depends on (itself included), in creation order."""
        keep = {output}
        for n in reversed(self.nodes[: output.index + 1]):
            if n in keep:
                keep.update(n.parents)
        return [n for n in self.nodes[: output.index + 1] if n in keep]

    def backward(self, output: Node, *, upstream: Any = 1, convention: str | Convention = "pytorch",
                 label: str | None = None, label_latex: str | None = None) -> Backward:
        """Reverse-mode accumulation from ``output`` seeded with ``upstream``."""
        conv = get_convention(convention)
        out_name = self.names[output.symbol]
        lab = Name(label_latex or (sp.latex(sp.Symbol(label)) if label else out_name.latex), label or out_name.text)
        bw = Backward(output, lab, conv)
        nodes = self.ancestors(output)
        for n in nodes:
            for p in dict.fromkeys(n.parents):
                if not p.constant:
                    bw.consumers.setdefault(p, []).append(n)
        env = dict(self._env)
        bw.defs.update({n.symbol: n.value for n in nodes if n.op is not None})
        seed = to_exact(upstream, "upstream")
        for i, n in enumerate(reversed(nodes), 1):
            if i % 100 == 0:
                limits.progress("backward pass, nodes", i)
            if n.constant:
                continue
            sym = sp.Symbol(f"d{lab.text}/d{n.name}", real=True)
            bw.symbols[n] = sym
            self.names[sym] = Name(rf"\frac{{\partial {lab.latex}}}{{\partial {self.names[n.symbol].latex}}}",
                                   f"∂{lab.text}/∂{n.name}")
            try:
                if n is output:
                    g = seed
                else:
                    g = sp.Add(*(self._local(c, n, conv, bw, env).ref * bw.ref(c) for c in bw.consumers[n]))
                approx = numeric.evaluate(g, env)
            except numeric.NotReal:
                gates = ", ".join(f"{c.name} = {self._written(c.op, c.parents, c.value)}" for c in bw.consumers[n])
                raise GraphError(f"the backward pass: ∂{lab.text}/∂{n.name} is not a finite real number: a local "
                                 f"derivative of {gates} is infinite or undefined"
                                 f"{self._at([p for c in bw.consumers[n] for p in c.parents])}"
                                 ) from None
            if approx is not None and g.is_Add and _cancels(g, approx, env, bw):
                g, approx = sp.Integer(0), mpmath.mpf(0)
            bw.grads[n], bw.approx[n], bw.defs[sym] = g, approx, g
            if approx is not None:
                env[sym] = approx
        return bw

    def _local(self, node: Node, parent: Node, conv: Convention, bw: Backward, env: dict) -> Local:
        key = (node, parent)
        if key in bw.locals:
            return bw.locals[key]
        if node not in bw.gates:  # what every input of this gate shares: derivatives, point, kink
            derivs = node.op.local(tuple(p.display for p in node.parents), node.symbol, conv)
            at = {p.symbol: p.ref for p in node.parents if p.named}
            at[node.symbol] = node.ref
            tie = False
            if node.op.kink is not None:
                k = numeric.evaluate(node.op.kink(tuple(p.ref for p in node.parents)), env)
                tie = k is not None and abs(k) < mpmath.mpf(10) ** (-numeric.DIGITS + 5)
            bw.gates[node] = (derivs, at, tie)
        derivs, at, tie = bw.gates[node]
        kink: Note = _kink_note(node, conv) if tie else ()
        if node.op.window_tie and all(p.approx is not None for p in node.parents) and \
                node.op.window_tie([p.approx for p in node.parents]):
            kink = ("a tie for the maximum inside the window: the derivative is undefined there; "
                    "all of the upstream gradient goes to the first maximum (as PyTorch does)",)
        formula = sp.Add(*(d for p, d in zip(node.parents, derivs) if p is parent))
        value = _resolve(formula.xreplace(at), env, tie)
        sym = sp.Symbol(f"∂{node.name}/∂{parent.name}", real=True)  # distinct from gradient names
        lx = rf"\frac{{\partial {self.names[node.symbol].latex}}}{{\partial {self.names[parent.symbol].latex}}}"
        tx = f"∂{node.name}/∂{parent.name}"
        if node is bw.output and bw.label.text == node.name and len(bw.consumers.get(parent, ())) > 1:
            # the gradient ∂f/∂x (all paths) and this gate's local ∂f/∂x (one path) would read alike
            lx, tx = rf"{{{lx}}}_{{\mathrm{{gate}}}}", f"{tx} (gate)"
        self.names[sym] = Name(lx, tx)
        approx = numeric.evaluate(value, env)
        if approx is not None:
            env[sym] = approx
        loc = Local(node, parent, sym, formula, value, approx, kink)
        bw.locals[key] = loc
        bw.defs[sym] = value
        return loc

    def gradients(self, output: Node, **kwargs: Any) -> dict[str, sp.Expr]:
        """Exact gradient of ``output`` with respect to every input, by input name."""
        bw = self.backward(output, **kwargs)
        return {n.name: bw.grads[n] for n in sorted(bw.grads, key=lambda n: n.index) if n.is_input}

    # ----- closed forms ------------------------------------------------------------------
    def composed(self, output: Node) -> sp.Expr:
        """The forward expression of ``output`` in the input symbols (built on request only)."""
        return self._compose(output)[output]

    def _compose(self, output: Node) -> dict[Node, sp.Expr]:
        comp: dict[Node, sp.Expr] = {}
        for n in self.ancestors(output):
            if n.kind == "const":
                comp[n] = n.value
            elif n.op is None:
                comp[n] = n.symbol
            else:
                comp[n] = n.op.forward(*(comp[p] for p in n.parents))
        return comp

    def closed_form(self, output: Node, convention: str | Convention = "pytorch") -> dict[str, sp.Expr]:
        """The gradient of ``output`` with respect to each input as one expression in the input
        symbols: the graph composed, by reverse accumulation of the symbolic local derivatives."""
        conv = get_convention(convention)
        comp = self._compose(output)
        nodes = [n for n in comp if n.named]
        grads: dict[Node, sp.Expr] = {output: sp.Integer(1)}
        for n in reversed(nodes):
            if n.op is None or n not in grads:
                continue
            derivs = n.op.local(tuple(p.display for p in n.parents), n.symbol, conv)
            at = {p.symbol: comp[p] for p in n.parents if p.named}
            at[n.symbol] = comp[n]
            for p, d in zip(n.parents, derivs):
                if not p.constant:
                    grads[p] = grads.get(p, sp.Integer(0)) + d.xreplace(at) * grads[n]
        return {n.name: grads.get(n, sp.Integer(0)) for n in nodes if n.is_input}

    # ----- the worked solution -------------------------------------------------------------
    def solution(self, output: Node, *, upstream: Any = 1, convention: str | Convention = "pytorch",
                 label: str | None = None, label_latex: str | None = None, model: str = "graph",
                 title: str | None = None, parameters: Mapping[str, Any] | None = None,
                 extra: Iterable[Section] = ()) -> Solution:
        """The worked solution: given values, forward pass, local derivatives, backward pass, results."""
        bw = self.backward(output, upstream=upstream, convention=convention, label=label,
                           label_latex=label_latex)
        return self.solution_of(bw, model=model, title=title, parameters=parameters, extra=extra)

    def solution_of(self, bw: Backward, *, model: str = "graph", title: str | None = None,
                    parameters: Mapping[str, Any] | None = None, before: Iterable[Section] = (),
                    extra: Iterable[Section] = ()) -> Solution:
        """The worked solution of a backward pass already run, with sections ``before`` it and
        ``extra`` sections after it."""
        return Solution(model, title or self.title,
                        tuple(before) + tuple(self.sections(bw)) + tuple(extra), dict(self.names),
                        dict(parameters or {}),
                        {n.name: Shown(bw.inline(bw.grads[n]), bw.approx[n])
                         for n in sorted(bw.grads, key=lambda n: n.index) if n.is_input},
                        diagram.build(self, bw))

    def shown(self, node: Node) -> Shown:
        """A node's value as a substitution shows it."""
        return Shown(node.ref, node.approx)

    def forward_steps(self, nodes: Sequence[Node]) -> list[Step]:
        """One step per gate: ``name = formula = numbers = exact ≈ float``."""
        steps = []
        for n in nodes:
            if n.op is None:
                continue
            formula = n.op.display(*(p.display for p in n.parents))
            values = {p.symbol: self.shown(p) for p in n.parents if p.named}
            steps.append(Step(n.symbol, formula, values, n.value, n.approx))
        return steps

    def local_steps(self, bw: Backward, node: Node) -> list[Step]:
        """One step per input of gate ``node``: its local derivative, as a formula and at the point."""
        values = {q.symbol: self.shown(q) for q in node.parents if q.named}
        values[node.symbol] = self.shown(node)
        return [Step(loc.symbol, loc.formula, values, loc.value, loc.approx, loc.kink)
                for p in dict.fromkeys(node.parents) if (loc := bw.locals.get((node, p))) is not None]

    def sections(self, bw: Backward) -> list[Section]:
        """The given / forward / local / backward / results sections of a backward pass."""
        nodes = self.ancestors(bw.output)
        given = [Step(n.symbol, exact=n.value, approx=n.approx) for n in nodes if n.op is None and n.named]
        local_steps = [step for n in nodes for step in self.local_steps(bw, n)]
        back: list[Step | Remark] = []
        order = [n for n in reversed(nodes) if not n.is_input] + [n for n in nodes if n.is_input]
        for n in order:
            if n.constant or n not in bw.grads:
                continue
            sym = bw.symbols[n]
            if n is bw.output:
                back.append(Step(sym, exact=bw.grads[n], approx=bw.approx[n],
                                 note=("the upstream gradient that starts the backward pass",)))
                continue
            terms, values, notes = [], {}, []
            for c in bw.consumers[n]:
                loc = bw.locals[(c, n)]
                terms.append(sp.Mul(loc.symbol, bw.symbols[c], evaluate=False))
                values[loc.symbol] = Shown(loc.ref, loc.approx)
                values[bw.symbols[c]] = Shown(bw.ref(c), bw.approx[c])
                notes.append(_gate_note(c, n, bw))
            formula = terms[0] if len(terms) == 1 else sp.Add(*terms, evaluate=False)
            note: list = [] if len(terms) == 1 else [
                n.symbol, f" feeds {len(terms)} gates: its gradient is the sum of their contributions"]
            for part in filter(None, notes):
                note += ["; " if note else "", *part]
            back.append(Step(sym, formula, values, bw.grads[n], bw.approx[n], tuple(note)))
        results = [Step(bw.symbols[n], exact=bw.inline(bw.grads[n]), approx=bw.approx[n])
                   for n in nodes if n.is_input]
        return [Section("given", "Given", tuple(given)),
                Section("forward", "Forward pass", tuple(self.forward_steps(nodes))),
                Section("local", "Local derivatives", tuple(local_steps)),
                Section("backward", "Backward pass (local derivative × upstream gradient)", tuple(back)),
                Section("results", "Gradients", tuple(results))]


#: An exact power of a number with a larger exponent is refused: 10^(10^300) has no exact value
#: that fits in memory.
MAX_EXPONENT = 10_000


def _check_power(base: sp.Expr, exponent: sp.Expr) -> None:
    if base.is_Rational and abs(base) not in (0, 1) and exponent.is_Rational and abs(exponent) > MAX_EXPONENT:
        shown = str(exponent) if len(str(exponent)) <= 20 else mpmath.nstr(mpmath.mpf(exponent.p) / exponent.q, 3)
        raise GraphError(f"{base}^{shown}: an exact power with an exponent beyond ±{MAX_EXPONENT:,} "
                         "is too large to compute")


def _cancels(g: sp.Expr, approx: mpmath.mpf, env: Mapping[sp.Symbol, mpmath.mpf], bw: Backward) -> bool:
    """True when the sum ``g`` is exactly 0: its float is below the working precision relative
    to its terms (cancellation), and SymPy proves the sum, with its names inlined, is 0."""
    if abs(approx) > mpmath.mpf(10) ** -30:
        return False
    terms = [numeric.evaluate(t, env) for t in g.args]
    scale = max((abs(t) for t in terms if t is not None), default=mpmath.mpf(0))
    if scale == 0 or abs(approx) > scale * mpmath.mpf(10) ** (-numeric.DIGITS + 8):
        return False
    full = bw.inline(g, limit=400)
    if full.free_symbols & bw.defs.keys():
        return False
    return sp.simplify(full) == 0


def _resolve(expr: sp.Expr, env: Mapping[sp.Symbol, mpmath.mpf], tie: bool) -> sp.Expr:
    """Replace each Piecewise by the branch that holds at the point (the last one at a tie)."""
    def pick(pw: sp.Piecewise) -> sp.Expr:
        if tie:
            return pw.args[-1][0]
        if not pw.free_symbols <= env.keys():
            return pw  # a symbolic point: every branch stays
        for value, cond in pw.args:
            if cond is sp.true or numeric.truth(cond, env):
                return value
        raise GraphError(f"no branch of {pw} holds")
    return expr.replace(lambda e: isinstance(e, sp.Piecewise), pick)


def _kink_note(node: Node, conv: Convention) -> Note:
    op = node.op.name
    a = node.parents[0].display
    if op == "relu":
        return (node.symbol, " = ReLU(", a, ") at ", a, " = 0: the derivative is undefined there "
                f"(convention {conv.name}: ReLU'(0) = {conv.relu_at_zero})",)
    if op == "abs":
        return (node.symbol, " = |", a, "| at ", a, " = 0: the derivative is undefined there "
                f"(convention {conv.name}: |x|'(0) = {conv.abs_at_zero})",)
    b = node.parents[1].display
    return (f"a tie in {op}: ", a, " = ", b, ", the derivative is undefined there "
            f"(convention {conv.name}: the first input gets {conv.max_tie[0]} and the second "
            f"{conv.max_tie[1]} of the upstream gradient)",)


def _gate_note(gate: Node, parent: Node, bw: Backward) -> Note:
    """The gate lesson for the gradient ``gate`` passes back to ``parent``."""
    op, g, p = gate.op.name, gate.symbol, parent.symbol
    if op == "add":
        return (g, " is an add gate: it distributes ", bw.symbols[gate], " unchanged to every input")
    if op == "mul" and len(gate.parents) == 2:
        other = gate.parents[1] if gate.parents[0] is parent else gate.parents[0]
        return (g, " is a mul gate: it swaps the inputs, so ", p, " gets the other input ",
                other.display, " times ", bw.symbols[gate])
    if op in ("max", "min"):
        loc = bw.locals[(gate, parent)]
        if loc.kink:
            return loc.kink
        word = "larger" if op == "max" else "smaller"
        if loc.value == 0:
            return (g, f" is a {op} gate: ", p, f" is not the {word} input, so it gets 0",)
        return (g, f" is a {op} gate: it routes ", bw.symbols[gate], f" to the {word} input, ", p)
    if op == "relu" and bw.locals[(gate, parent)].kink:
        return bw.locals[(gate, parent)].kink
    return ()
