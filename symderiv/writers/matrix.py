"""The worked solution of a graph of matrix gates: matrices as matrices, the first product of each
shape written entry by entry, the backward pass by each matrix gate's rule (from its row of
:data:`symderiv.engine.MATRIX_GATES`), its values accumulated entry by entry by the engine."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import mpmath
import sympy as sp

from ..engine import Node, Tensor, backward
from ..printing import Name, Shown
from ..record import Note, Remark, Section, Solution, Step
from .diagram import build
from .steps import fan_out_note, forward_steps, join_notes, local_steps, seed_step

_ZERO = mpmath.mpf(0)  # an entry the loss does not depend on (outside every window, say)


def _approx(t: Tensor) -> tuple[tuple, ...] | None:
    if any(n.approx is None for n in t.entries):
        return None
    return tuple(tuple(n.approx for n in row) for row in t.nodes)


def shown_tensor(t: Tensor) -> Shown:
    """A tensor as a substitution shows it: each entry's value (or name when long)."""
    return Shown(sp.ImmutableMatrix(t.matrix(lambda n: n.ref)), _approx(t))


def _forward(live: Sequence[Tensor], loss: Node) -> list[Step | Remark]:
    forward: list[Step | Remark] = []
    written: set = set()  # what was written out entry by entry once already
    for t in live:
        if t.gate is None:
            continue
        out = t.gate.written_out(t) if t.gate.written_out else None
        if out is not None:
            once, words, nodes = out
            if once is None or once not in written:
                if once is not None:
                    written.add(once)
                forward.append(Remark((t.symbol, " = ", t.formula, words,)))
                forward += forward_steps(nodes)
        forward.append(Step(t.symbol, t.formula, {p.symbol: shown_tensor(p) for p in t.parents},
                            sp.ImmutableMatrix(t.matrix(lambda n: n.value)), _approx(t)))
    return forward + forward_steps([loss])


def solution(loss: Node, *, model: str, title: str | None = None, parameters: Mapping[str, Any] | None = None,
             convention: str = "pytorch", before: Sequence[Section] = (), extra: Sequence[Section] = (),
             names: Mapping = ()) -> Solution:
    """The worked solution of a graph of matrix gates ending in the scalar ``loss``; ``names``
    says how symbols of the ``before`` and ``extra`` sections are written."""
    g = loss.graph
    bw = backward(g, loss, convention=convention)
    needed = set(g.ancestors(loss))
    live = [t for t in g.tensors if any(n in needed for n in t.entries)]
    written_as: dict = {**g.names, **bw.names}
    given = [Step(t.symbol, exact=sp.ImmutableMatrix(t.matrix(lambda n: n.value)), approx=_approx(t))
             for t in live if t.gate is None]

    deltas: dict[Tensor, sp.MatrixSymbol] = {}
    for t in live:
        d = sp.MatrixSymbol(f"dL/d{t.name}", *t.shape)
        deltas[t] = d
        written_as[d] = Name(rf"\frac{{\partial {bw.label.latex}}}{{\partial {g.names[t.symbol].latex}}}",
                             f"∂{bw.label.text}/∂{t.name}")

    def grad(t: Tensor) -> Shown:
        return Shown(sp.ImmutableMatrix(t.matrix(lambda n: bw.ref(n) if n in bw.grads else 0)),
                     tuple(tuple(bw.approx.get(n, _ZERO) for n in row) for row in t.nodes))

    back: list[Step | Remark] = [seed_step(bw), *local_steps(bw, loss)]
    kinks: dict[Node, list[Note]] = {}  # the non-differentiable points met on the way into each node
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
                if p is t and c.gate is not None:
                    terms.append(c.gate.rule(c, k, deltas[c]))
                    if c.gate.rule_names:
                        written_as.update(c.gate.rule_names(c))
                    values[deltas[c]] = grad(c)
                    values.update({q.symbol: shown_tensor(q) for q in c.parents})
                    values[c.symbol] = shown_tensor(c)
        if any(loss in bw.consumers.get(n, ()) for n in t.entries):
            notes.append(("entry by entry from ", loss.symbol, " (its local derivatives above)",))
        formula = None if not terms else terms[0] if len(terms) == 1 else sp.MatAdd(*terms, evaluate=False)
        notes.append(fan_out_note(t.symbol, len(terms), f"the {len(terms)} terms"))
        exact = sp.ImmutableMatrix(t.matrix(lambda n: bw.grads.get(n, 0)))
        back.append(Step(deltas[t], formula, values or None, exact, grad(t).approx, join_notes(notes)))

    inputs = [t for t in live if t.gate is None and not all(n.constant for n in t.entries)]
    results = [Step(deltas[t], exact=sp.ImmutableMatrix(t.matrix(lambda n: bw.inline(bw.grads.get(n, sp.Integer(0))))),
                    approx=grad(t).approx) for t in inputs]
    sections = (*before,
                Section("given", "Given", tuple(given)),
                Section("forward", "Forward pass", tuple(_forward(live, loss))),
                Section("backward", "Backward pass (matrix rule; values accumulated entry by entry)", tuple(back)),
                Section("results", "Gradients", tuple(results)),
                *extra)
    res = {n.name: Shown(bw.inline(bw.grads[n]), bw.approx[n]) if n in bw.grads else Shown(sp.Integer(0), _ZERO)
           for t in inputs for n in t.entries if n.is_input}
    return Solution(model, title or g.title, sections, {**written_as, **dict(names)}, dict(parameters or {}), res,
                    build(g, bw), g.size)


__all__ = ["shown_tensor", "solution"]
