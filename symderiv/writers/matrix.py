"""The worked solution of a graph of matrix gates: matrices as matrices, the first product of each
shape written entry by entry, the backward pass by each matrix gate's rule (from its row of
:data:`symderiv.engine.MATRIX_GATES`), its values accumulated entry by entry by the engine."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import mpmath
import sympy as sp

from ..engine import Backward, Node, Tensor, backward, is_short
from ..notation import infix
from ..printing import Name, Shown
from ..record import Kink, Note, Quantity, Remark, Role, Section, SectionKind, Solution, Step
from .diagram import build
from .steps import fan_out_note, forward_steps, join_notes, local_steps, seed_step

Terms = infix("Terms", "+", "+")  # a sum of rules some of which are written as functions (A ⊙ B)
_ZERO = mpmath.mpf(0)  # an entry the loss does not depend on (outside every window, say)


def _approx(t: Tensor) -> tuple[tuple, ...] | None:
    if any(n.approx is None for n in t.entries):
        return None
    return tuple(tuple(n.approx for n in row) for row in t.nodes)


def shown_tensor(t: Tensor) -> Shown:
    """A tensor as a substitution shows it: each entry's value (or name when long)."""
    return Shown(sp.ImmutableMatrix(t.matrix(lambda n: n.ref)), _approx(t))


def _forward(live: Sequence[Tensor]) -> list[tuple[Tensor, list[Step | Remark]]]:
    """Each gate's tensor with its forward items: the entries written out, then the tensor."""
    forward: list[tuple[Tensor, list[Step | Remark]]] = []
    written: set = set()  # what was written out entry by entry once already
    entry_of = {n: (t.name, (i, j)) for t in live for i, row in enumerate(t.nodes) for j, n in enumerate(row)}
    for t in live:
        if t.gate is None:
            continue
        items: list[Step | Remark] = []
        out = t.gate.written_out(t) if t.gate.written_out else None
        if out is not None:
            once, words, nodes = out
            if once is None or once not in written:
                if once is not None:
                    written.add(once)
                items.append(Remark((t.symbol, " = ", t.formula, words,)))
                items += forward_steps(nodes, entry_of)
        items.append(Step(t.symbol, t.formula, {p.symbol: shown_tensor(p) for p in t.parents},
                          sp.ImmutableMatrix(t.matrix(lambda n: n.value)), _approx(t),
                          quantity=Quantity(Role.FORWARD, t.name, t.shape, gate=t.op)))
        forward.append((t, items))
    return forward


def _elementwise_locals(bw: Backward, c: Tensor, t: Tensor) -> Note:
    """For a gate that maps each entry of ``t`` to the same entry of ``c`` alone (tanh, σ, ReLU):
    its local derivatives, the first as its gate row writes it and all of them as numbers (the
    values the rule's element-wise factor stands for); nothing for any other gate."""
    pairs = list(zip(c.entries, t.entries))
    if c.shape != t.shape or any(cn.parents != (tn,) or (cn, tn) not in bw.locals for cn, tn in pairs):
        return ()
    locs = [bw.locals[pair] for pair in pairs]
    if any(loc.approx is None for loc in locs):
        return ()
    exact = all(is_short(loc.value) and loc.value.is_Rational for loc in locs)
    shown = sp.ImmutableMatrix(t.shape[0], t.shape[1], [loc.value if exact else sp.Float(loc.approx, 4)
                                                       for loc in locs])
    first = locs[0]
    return ("its local derivatives, entry by entry: ", first.symbol, " = ", first.formula,
            f", …; all of them {'=' if exact else '≈'} ", shown)


def _shape(shape: tuple[int, int]) -> str:
    return f"{shape[0]}×{shape[1]}"


def _shapes(e: sp.Basic) -> str:
    """The shapes of a matrix rule's factors, as the rule writes them: (3×1)·(1×2) + ..."""
    if isinstance(e, (sp.MatAdd, Terms)):
        return " + ".join(_shapes(a) for a in e.args)
    if isinstance(e, sp.MatMul):
        return "·".join(_shapes(a) for a in e.args)
    shape = getattr(e, "shape", None)
    return f"({_shape(shape)})" if shape is not None and len(shape) == 2 else "(…)"


def _by_layer(groups: Sequence[tuple[Tensor, list]], kind: SectionKind, heading: str,
              layer_of: Callable[[Tensor], str]) -> list[Section]:
    """One section per layer, titled ``heading`` and the layer's title, in the order first met."""
    sections: dict[str, list] = {}
    for t, items in groups:
        sections.setdefault(layer_of(t), []).extend(items)
    return [Section(kind, f"{heading}{title}", tuple(items)) for title, items in sections.items() if items]


def solution(loss: Node, *, model: str, title: str | None = None, parameters: Mapping[str, Any] | None = None,
             convention: str = "pytorch", before: Sequence[Section] = (), extra: Sequence[Section] = (),
             names: Mapping = (), layer_of: Callable[[Tensor], str] | None = None,
             loss_title: str = "the loss") -> Solution:
    """The worked solution of a graph of matrix gates ending in the scalar ``loss``; ``names``
    says how symbols of the ``before`` and ``extra`` sections are written. With ``layer_of`` (a
    tensor's layer title), the forward and backward passes are one section per layer, the loss
    (``loss_title``) last in the forward pass and first in the backward pass."""
    g = loss.graph
    bw = backward(g, loss, convention=convention)
    needed = set(g.ancestors(loss))
    live = [t for t in g.tensors if any(n in needed for n in t.entries)]
    written_as: dict = {**g.names, **bw.names}
    given = [Step(t.symbol, exact=sp.ImmutableMatrix(t.matrix(lambda n: n.value)), approx=_approx(t),
                  quantity=Quantity(Role.GIVEN, t.name, t.shape)) for t in live if t.gate is None]

    deltas: dict[Tensor, sp.MatrixSymbol] = {}
    for t in live:
        d = sp.MatrixSymbol(f"dL/d{t.name}", *t.shape)
        deltas[t] = d
        written_as[d] = Name(rf"\frac{{\partial {bw.label.latex}}}{{\partial {g.names[t.symbol].latex}}}",
                             f"∂{bw.label.text}/∂{t.name}")

    def grad(t: Tensor) -> Shown:
        return Shown(sp.ImmutableMatrix(t.matrix(lambda n: bw.ref(n) if n in bw.grads else 0)),
                     tuple(tuple(bw.approx.get(n, _ZERO) for n in row) for row in t.nodes))

    start: list[Step | Remark] = [seed_step(bw), *local_steps(bw, loss)]
    back: list[tuple[Tensor | None, list[Step | Remark]]] = []  # (the consumer whose rule it is, its step)
    # the local derivatives of the gates inside a matrix gate are not steps here: an exact value
    # that still names one after inlining is left to its float
    hidden = {loc.symbol for (gate, _), loc in bw.locals.items() if gate is not loss}

    def exact_of(t: Tensor) -> sp.ImmutableMatrix | None:
        cells = t.matrix(lambda n: bw.inline(bw.grads.get(n, sp.Integer(0))))
        return None if any(c.free_symbols & hidden for c in cells) else sp.ImmutableMatrix(cells)

    kinks: dict[Node, list[Kink]] = {}  # the non-differentiable points met on the way into each node
    for (_, p), loc in bw.locals.items():
        if loc.kink and loc.kink not in kinks.setdefault(p, []):
            kinks[p].append(loc.kink)
    for t in reversed(live):
        if all(n.constant for n in t.entries):
            continue
        terms, values, notes, owner, remarks = [], {}, [], None, []
        met = tuple(dict.fromkeys(kink for n in t.entries for kink in kinks.get(n, ())))
        for kink in met:
            if kink.note not in notes:
                notes.append(kink.note)
        for c in live:
            for k, p in enumerate(c.parents):
                if p is t and c.gate is not None:
                    owner = c
                    terms.append(c.gate.rule(c, k, deltas[c]))
                    if c.gate.rule_names:
                        written_as.update(c.gate.rule_names(c))
                    if c.gate.rule_note:
                        remarks.append(Remark(c.gate.rule_note(c)))
                    values[deltas[c]] = grad(c)
                    values.update({q.symbol: shown_tensor(q) for q in c.parents})
                    values[c.symbol] = shown_tensor(c)
                    notes.append(_elementwise_locals(bw, c, t))
        if any(loss in bw.consumers.get(n, ()) for n in t.entries):
            notes.append(("entry by entry from ", loss.symbol, " (its local derivatives above)",))
        formula = None if not terms else terms[0] if len(terms) == 1 else \
            sp.MatAdd(*terms, evaluate=False) if all(isinstance(x, sp.MatrixExpr) for x in terms) else Terms(*terms)
        notes.append(fan_out_note(t.symbol, len(terms), f"the {len(terms)} terms"))
        if formula is not None and formula.has(sp.MatMul):
            notes.insert(0, (f"shapes: {_shape(t.shape)} = {_shapes(formula)}",))
        back.append((owner, [*remarks, Step(deltas[t], formula, values or None, exact_of(t), grad(t).approx,
                                            join_notes(notes), Quantity(Role.GRADIENT, t.name, t.shape, kinks=met))]))

    inputs = [t for t in live if t.gate is None and not all(n.constant for n in t.entries)]
    results = [Step(deltas[t], exact=exact_of(t), approx=grad(t).approx, quantity=Quantity(Role.RESULT, t.name, t.shape))
               for t in inputs]
    forward = _forward(live)
    if layer_of is None:
        passes = [Section(SectionKind.FORWARD, "Forward pass", (*(i for _, items in forward for i in items),
                                                               *forward_steps([loss]))),
                  Section(SectionKind.BACKWARD, "Backward pass (matrix rule; values accumulated entry by entry)",
                          (*start, *(i for _, items in back for i in items)))]
    else:  # a gradient is shown in the section of the layer whose rule passes it back
        from_loss = [i for owner, items in back if owner is None for i in items]
        passes = [*_by_layer(forward, SectionKind.FORWARD, "Forward: ", layer_of),
                  Section(SectionKind.FORWARD, f"Forward: {loss_title}", tuple(forward_steps([loss]))),
                  Section(SectionKind.BACKWARD, f"Backward: {loss_title}", (*start, *from_loss)),
                  *_by_layer([(o, items) for o, items in back if o is not None], SectionKind.BACKWARD, "Backward: ",
                             layer_of)]
    sections = (*before, Section(SectionKind.GIVEN, "Given", tuple(given)), *passes,
                Section(SectionKind.RESULTS, "Gradients", tuple(results)), *extra)
    res = {n.name: Shown(bw.inline(bw.grads[n]), bw.approx[n]) if n in bw.grads else Shown(sp.Integer(0), _ZERO)
           for t in inputs for n in t.entries if n.is_input}
    return Solution(model, title or g.title, sections, {**written_as, **dict(names)}, dict(parameters or {}), res,
                    build(g, bw), g.size)


__all__ = ["shown_tensor", "solution"]
