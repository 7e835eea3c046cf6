"""The step builders every worked-solution writer shares: a gate's forward step, its local
derivatives, the seed of the backward pass, a gradient as the sum of what its consumers pass back,
and how notes join.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import sympy as sp

from ..engine import Backward, Local, Node
from ..printing import Shown, format_float
from ..record import Kink, Note, Quantity, Remark, Role, Step


def shown_node(node: Node) -> Shown:
    """A node's value as a substitution shows it (its value when short, else its name)."""
    return Shown(node.ref, node.approx)


def forward_steps(nodes: Iterable[Node], entry_of: Mapping[Node, tuple[str, tuple[int, ...]]] = {}) -> list[Step]:
    """One step per gate: ``name = formula = numbers = exact ≈ float`` (``entry_of``: the tensor
    and index of a node that is an entry of a tensor)."""
    steps = []
    for n in nodes:
        if n.op is None:
            continue
        values = {p.symbol: shown_node(p) for p in n.parents if p.named}
        steps.append(Step(n.symbol, n.formula, values, n.value, n.approx,
                          quantity=Quantity(Role.FORWARD, n.name, entry=entry_of.get(n), gate=n.op.name)))
    return steps


def given_step(node: Node) -> Step:
    """A given value: ``name = exact ≈ float``."""
    return Step(node.symbol, exact=node.value, approx=node.approx, quantity=Quantity(Role.GIVEN, node.name))


def local_steps(bw: Backward, node: Node) -> list[Step]:
    """One step per input of gate ``node``: its local derivative, as a formula and at the point."""
    values = {q.symbol: shown_node(q) for q in node.parents if q.named}
    values[node.symbol] = shown_node(node)
    return [Step(loc.symbol, loc.formula, values, loc.value, loc.approx, loc.kink.note if loc.kink else (),
                 Quantity(Role.LOCAL, node.name, wrt=p.name, gate=node.op.name, kinks=_kinks([loc])))
            for p in dict.fromkeys(node.parents) if (loc := bw.locals.get((node, p))) is not None]


def _kinks(locs: Iterable[Local]) -> tuple[Kink, ...]:
    return tuple(dict.fromkeys(loc.kink for loc in locs if loc.kink is not None))


def seed_step(bw: Backward) -> Step:
    """∂L/∂L = upstream: the step that starts the backward pass."""
    out = bw.output
    return Step(bw.symbols[out], exact=bw.grads[out], approx=bw.approx[out],
                note=("the upstream gradient that starts the backward pass",),
                quantity=Quantity(Role.GRADIENT, out.name))


def join_notes(parts: Iterable[Note]) -> Note:
    """Notes run together, separated by "; " (empty ones dropped)."""
    note: list = []
    for part in parts:
        if part:
            note += ["; ", *part] if note else part
    return tuple(note)


def fan_out_note(value: sp.Basic, count: int, words: str) -> Note:
    """``x feeds 2 gates: its gradient is the sum of ...``, or nothing for a single consumer."""
    return () if count < 2 else (value, f" feeds {count} gates: its gradient is the sum of {words}")


def lesson(bw: Backward, gate: Node, parent: Node) -> Note:
    """The lesson of the gradient ``gate`` passes back to ``parent`` (its gate row's)."""
    return gate.op.lesson(bw.passing(gate, parent)) if gate.op.lesson else ()


def gradient_step(bw: Backward, node: Node) -> Step:
    """∂L/∂node = Σ over its consumers c of ∂c/∂node · ∂L/∂c, with the numbers and the lessons."""
    terms, values, lessons = [], {}, []
    for c in bw.consumers[node]:
        loc = bw.locals[(c, node)]
        if bw.names[loc.symbol].text == bw.names[bw.symbols[node]].text:
            # the output gate's own ∂L/∂x reads like the gradient ∂L/∂x: write its formula instead
            terms.append(sp.Mul(loc.formula, bw.symbols[c], evaluate=False))
            values.update({q.symbol: shown_node(q) for q in (*c.parents, c) if q.named})
        else:
            terms.append(sp.Mul(loc.symbol, bw.symbols[c], evaluate=False))
            values[loc.symbol] = Shown(loc.ref, loc.approx)
        values[bw.symbols[c]] = Shown(bw.ref(c), bw.approx[c])
        lessons.append(lesson(bw, c, node))
    formula = terms[0] if len(terms) == 1 else sp.Add(*terms, evaluate=False)
    note = join_notes([fan_out_note(node.symbol, len(terms), "their contributions"), *lessons])
    quantity = Quantity(Role.GRADIENT, node.name, kinks=_kinks(bw.locals[(c, node)] for c in bw.consumers[node]))
    return Step(bw.symbols[node], formula, values, bw.grads[node], bw.approx[node], note, quantity)


def result_steps(bw: Backward, inputs: Sequence[Node]) -> list[Step]:
    """The Gradients section: each input's gradient, its closed form when it fits, and its float."""
    return [Step(bw.symbols[n], exact=bw.inline(bw.grads[n]), approx=bw.approx[n],
                 quantity=Quantity(Role.RESULT, n.name)) for n in inputs]


def sensitivity(bw: Backward, inputs: Sequence[Node]) -> list[Remark]:
    """What a gradient means, on the input it is largest for: raising that input by 0.01 changes
    the output by about the gradient times 0.01 (none for symbolic or all-zero gradients)."""
    known = [n for n in inputs if bw.approx.get(n) is not None and bw.approx[n] != 0]
    if not known:
        return []
    n = max(known, key=lambda x: abs(bw.approx[x]))  # the first of the largest
    change = bw.approx[n] / 100
    return [Remark((f"What a gradient means: raising {n.name} by 0.01 changes {bw.label.text} by about 0.01·",
                    bw.symbols[n], f" ≈ {format_float(change, 4)}, to first order.",))]
