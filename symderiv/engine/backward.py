"""The backward pass: reverse-mode accumulation over a graph, returned as a record.

:func:`backward` visits the nodes from the output back to the inputs; each node's gradient is the
sum over its consumers of (local derivative × upstream gradient), its exact value let-bound like
the nodes' own (a name where the expression is long) and its float computed with mpmath. It reads
the graph and mutates nothing: the names it gives the gradients and local derivatives are the
record's own (:attr:`Backward.names`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import mpmath
import sympy as sp

from .. import limits, numeric
from ..errors import GraphError, NotReal
from ..printing import Name
from ..record import Kink
from ..values import to_exact
from .gates import Convention, Passing, get_convention
from .graph import Graph, Node, expr_size, is_short

#: Results are shown with the names they use replaced by values when that stays this small.
INLINE = 80


@dataclass
class Local:
    """The local derivative of gate ``node`` with respect to input ``parent``: its formula (over
    the inputs' names), its value at the point, its float and, at a kink, the note saying so."""

    node: Node
    parent: Node
    symbol: sp.Symbol
    formula: sp.Expr
    value: sp.Expr
    approx: mpmath.mpf | None
    kink: Kink | None = None

    @property
    def ref(self) -> sp.Expr:
        """What a gradient writes for this derivative: its value when short, else its name."""
        return self.value if is_short(self.value) else self.symbol


@dataclass
class Backward:
    """The result of a backward pass: every node's gradient, exact and float, and how it was formed.

    ``grads``/``approx``/``symbols``: each differentiated node's gradient, its float and its name
    (∂L/∂x); ``locals``: the local derivative of each (gate, input); ``consumers``: the gates each
    node feeds; ``defs``: every let-bound name's value; ``names``: how the record's own names are
    written.
    """

    output: Node
    label: Name
    convention: Convention
    grads: dict[Node, sp.Expr] = field(default_factory=dict)
    approx: dict[Node, mpmath.mpf] = field(default_factory=dict)
    symbols: dict[Node, sp.Symbol] = field(default_factory=dict)
    locals: dict[tuple[Node, Node], Local] = field(default_factory=dict)
    consumers: dict[Node, list[Node]] = field(default_factory=dict)
    defs: dict[sp.Symbol, sp.Expr] = field(default_factory=dict)
    names: dict[sp.Symbol, Name] = field(default_factory=dict)
    gates: dict[Node, tuple] = field(default_factory=dict, repr=False)  # per gate: derivatives, point, tie, note
    _inlined: dict[tuple[sp.Expr, int], sp.Expr] = field(default_factory=dict, repr=False)

    def local(self, gate: Node, parent: Node) -> Local:
        """The local derivative of ``gate`` with respect to its input ``parent``."""
        try:
            return self.locals[(gate, parent)]
        except KeyError:
            raise GraphError(f"{parent.name} is not an input of {gate.name} on the way to "
                             f"{self.output.name}") from None

    def ref(self, node: Node) -> sp.Expr:
        """What a later gradient writes for ``node``'s gradient: its value when short, else its name."""
        g = self.grads[node]
        return g if is_short(g) else self.symbols[node]

    def passing(self, gate: Node, parent: Node) -> Passing:
        """The gradient ``gate`` passes back to ``parent``, as its gate row's lesson reads it."""
        return Passing(gate, parent, self.symbols[gate], self.locals[(gate, parent)])

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
            grown = sum(expr_size(self.defs[e], limit) - 1 for e in sp.preorder_traversal(out) if e in todo)
            if expr_size(out, limit) + grown > limit:
                return expr
            out = _replaced_unevaluated(out, todo)  # composing numbers with evaluation is the exponential trap


def _rebuilds_unevaluated(e: sp.Basic) -> bool:
    return not e.args or isinstance(e, (sp.Add, sp.Mul, sp.Pow)) or (
        isinstance(e, sp.Function) and not isinstance(e, sp.Piecewise))


def _replaced_unevaluated(expr: sp.Basic, mapping: dict) -> sp.Basic:
    """``expr.xreplace(mapping)`` with nothing evaluated, as under ``sp.evaluate(False)``; sums,
    products, powers and functions are rebuilt with their own ``evaluate=False``, since turning
    the global switch empties SymPy's cache each time (a third of a matrix model's solve)."""
    if not all(_rebuilds_unevaluated(e) for e in sp.preorder_traversal(expr)):
        with sp.evaluate(False):
            return expr.xreplace(mapping)
    return _rebuilt(expr, mapping)


def _rebuilt(expr: sp.Basic, mapping: dict) -> sp.Basic:
    if expr in mapping:
        return mapping[expr]
    if not expr.args:
        return expr
    args = tuple(_rebuilt(a, mapping) for a in expr.args)
    if all(a is b for a, b in zip(args, expr.args)):
        return expr
    return expr.func(*args, evaluate=False)


def backward(graph: Graph, output: Node, *, upstream: Any = 1, convention: str | Convention = "pytorch",
             label: str | None = None, label_latex: str | None = None) -> Backward:
    """Reverse-mode accumulation from ``output`` seeded with ``upstream``; ``label`` names the
    output in ∂label/∂x (default: the output's own name)."""
    conv = get_convention(convention)
    out_name = graph.names[output.symbol]
    lab = Name(label_latex or (sp.latex(sp.Symbol(label)) if label else out_name.latex), label or out_name.text)
    bw = Backward(output, lab, conv)
    nodes = graph.ancestors(output)
    for n in nodes:
        for p in dict.fromkeys(n.parents):
            if not p.constant:
                bw.consumers.setdefault(p, []).append(n)
    env = dict(graph.floats)
    bw.defs.update({n.symbol: n.value for n in nodes if n.op is not None})
    seed = to_exact(upstream, "upstream")
    for i, n in enumerate(reversed(nodes), 1):
        if i % 100 == 0:
            limits.progress("backward pass, nodes", i)
        if n.constant:
            continue
        sym = sp.Symbol(f"d{lab.text}/d{n.name}", real=True)
        bw.symbols[n] = sym
        bw.names[sym] = Name(rf"\frac{{\partial {lab.latex}}}{{\partial {graph.names[n.symbol].latex}}}",
                             f"∂{lab.text}/∂{n.name}")
        try:
            if n is output:
                g = seed
            else:
                g = sp.Add(*(_local(graph, c, n, conv, bw, env).ref * bw.ref(c) for c in bw.consumers[n]))
            approx = numeric.evaluate(g, env)
        except NotReal:
            gates = ", ".join(f"{c.name} = {graph.formula_text(c.op, c.parents, c.value)}" for c in bw.consumers[n])
            raise GraphError(f"the backward pass: ∂{lab.text}/∂{n.name} is not a finite real number: a local "
                             f"derivative of {gates} is infinite or undefined"
                             f"{graph.at_text([p for c in bw.consumers[n] for p in c.parents])}") from None
        if approx is not None and g.is_Add and _cancels(g, approx, env, bw):
            g, approx = sp.Integer(0), mpmath.mpf(0)
        bw.grads[n], bw.approx[n], bw.defs[sym] = g, approx, g
        if approx is not None:
            env[sym] = approx
    return bw


def _local(graph: Graph, node: Node, parent: Node, conv: Convention, bw: Backward, env: dict) -> Local:
    key = (node, parent)
    if key in bw.locals:
        return bw.locals[key]
    row = node.op
    if node not in bw.gates:  # what every input of this gate shares: derivatives, point, kink
        known = all(p.approx is not None for p in node.parents)
        if known and row.local_at is not None:
            derivs = row.local_at(tuple(p.display for p in node.parents), node.symbol, conv,
                                  tuple(p.value for p in node.parents), tuple(p.approx for p in node.parents))
        else:
            derivs = row.local(tuple(p.display for p in node.parents), node.symbol, conv)
        by_input: dict[Node, list[sp.Expr]] = {}
        for p, d in zip(node.parents, derivs):
            by_input.setdefault(p, []).append(d)
        at = {p.symbol: p.ref for p in node.parents if p.named}
        at[node.symbol] = node.ref
        tie = False
        if row.kink is not None:
            exact = row.kink(tuple(p.ref for p in node.parents))
            if exact.is_Rational:  # decided exactly: 1/3 and 0.333… (64 threes) do not tie
                tie = exact == 0
            else:
                k = numeric.evaluate(exact, env)
                tie = k is not None and abs(k) < mpmath.mpf(10) ** (-numeric.DIGITS + 5)
        kink = Kink(row.name, conv.name, row.kink_note(node, conv)) if tie else None
        if row.window_tie and known and \
                row.window_tie(tuple(p.value for p in node.parents), tuple(p.approx for p in node.parents)):
            kink = Kink(row.name, conv.name, (row.window_tie_note,))
        bw.gates[node] = (by_input, at, tie, kink)
    by_input, at, tie, kink = bw.gates[node]
    formula = sp.Add(*by_input[parent])
    value = _resolve(formula.xreplace(at), env, tie)
    sym = sp.Symbol(f"∂{node.name}/∂{parent.name}", real=True)  # distinct from gradient names
    lx = rf"\frac{{\partial {graph.names[node.symbol].latex}}}{{\partial {graph.names[parent.symbol].latex}}}"
    tx = f"∂{node.name}/∂{parent.name}"
    if node is bw.output and bw.label.text == node.name and \
            (len(bw.consumers.get(parent, ())) > 1 or bw.grads[node] != 1):
        # the gradient ∂f/∂x (all paths, times the upstream seed) and this gate's local ∂f/∂x
        # (one path) would read alike but differ
        lx, tx = rf"{{{lx}}}_{{\mathrm{{gate}}}}", f"{tx} (gate)"
    bw.names[sym] = Name(lx, tx)
    approx = numeric.evaluate(value, env)
    if approx is not None:
        env[sym] = approx
    loc = Local(node, parent, sym, formula, value, approx, kink)
    bw.locals[key] = loc
    bw.defs[sym] = value
    return loc


def _cancels(g: sp.Expr, approx: mpmath.mpf, env: Mapping[sp.Symbol, mpmath.mpf], bw: Backward) -> bool:
    """True when the sum ``g`` is exactly 0: its float is below the working precision relative
    to its terms (cancellation), and the sum, with its names inlined, is 0 as a rational function
    of what it is built from (:func:`_is_zero`)."""
    if abs(approx) > mpmath.mpf(10) ** -30:
        return False
    terms = [numeric.evaluate(t, env) for t in g.args]
    scale = max((abs(t) for t in terms if t is not None), default=mpmath.mpf(0))
    if scale == 0 or abs(approx) > scale * mpmath.mpf(10) ** (-numeric.DIGITS + 8):
        return False
    full = bw.inline(g, limit=400)
    if full.free_symbols & bw.defs.keys():
        return False
    return _is_zero(full)


#: The most terms the numerator of a cancelling sum is expanded to (a bigger one is left unproved).
EXPANDED_TERMS = 2_000


def _is_zero(expr: sp.Expr) -> bool:
    """True when ``expr`` is exactly 0: over a common denominator its numerator expands to 0
    (``sympy.simplify`` is not used: its cost has no bound). False when that is not so, or when the
    expansion would pass :data:`EXPANDED_TERMS` terms (then it is not decided, and not claimed)."""
    numerator = sp.together(expr).as_numer_denom()[0]
    if _expanded_terms(numerator) > EXPANDED_TERMS:
        return False
    return sp.expand(numerator) == 0


def _expanded_terms(expr: sp.Basic) -> int:
    """An upper estimate of the number of terms ``sympy.expand(expr)`` makes (or of the largest
    expansion inside a function's arguments), stopping above :data:`EXPANDED_TERMS`."""
    cap = EXPANDED_TERMS + 1
    inner = max((_expanded_terms(a) for a in expr.args if not (expr.is_Add or expr.is_Mul or expr.is_Pow)),
                default=1)
    if expr.is_Add:
        own = sum(_expanded_terms(a) for a in expr.args)
    elif expr.is_Mul:
        own = 1
        for a in expr.args:
            own = min(cap, own * _expanded_terms(a))
    elif expr.is_Pow and expr.exp.is_Integer and expr.exp > 0:
        base = _expanded_terms(expr.base)
        own = cap if expr.exp > EXPANDED_TERMS else min(cap, math.comb(base + int(expr.exp) - 1, int(expr.exp)))
    elif expr.is_Pow:
        own = max(_expanded_terms(expr.base), _expanded_terms(expr.exp))
    else:
        own = 1
    return min(cap, max(own, inner))


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


def gradients(graph: Graph, output: Node, **kwargs: Any) -> dict[str, sp.Expr]:
    """Exact gradient of ``output`` with respect to every input, by input name."""
    bw = backward(graph, output, **kwargs)
    return {n.name: bw.grads[n] for n in sorted(bw.grads, key=lambda n: n.index) if n.is_input}


def composed(graph: Graph, output: Node) -> dict[Node, sp.Expr]:
    """Every node ``output`` depends on as one expression in the input symbols (built on request
    only: composing is what let-binding avoids)."""
    comp: dict[Node, sp.Expr] = {}
    for n in graph.ancestors(output):
        if not n.named:  # a bare constant
            comp[n] = n.value
        elif n.op is None:
            comp[n] = n.symbol
        else:
            comp[n] = n.op.forward(*(comp[p] for p in n.parents))
    return comp


def closed_form(graph: Graph, output: Node, convention: str | Convention = "pytorch") -> dict[str, sp.Expr]:
    """The gradient of ``output`` with respect to each input as one expression in the input
    symbols: the graph composed, by reverse accumulation of the symbolic local derivatives."""
    conv = get_convention(convention)
    comp = composed(graph, output)
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
