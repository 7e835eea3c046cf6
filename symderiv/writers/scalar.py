"""The worked solution of a scalar graph: given values, forward pass, local derivatives,
backward pass (local derivative × upstream gradient) and the gradients."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..engine import Backward, Graph
from ..printing import Shown
from ..record import Remark, Section, SectionKind, Solution, Step
from .diagram import build
from .steps import forward_steps, given_step, gradient_step, local_steps, result_steps, seed_step, sensitivity


def sections(graph: Graph, bw: Backward) -> list[Section]:
    """The given / forward / local / backward / results sections of a backward pass."""
    nodes = graph.ancestors(bw.output)
    given = [given_step(n) for n in nodes if n.op is None and n.named]
    local = [step for n in nodes for step in local_steps(bw, n)]
    back: list[Step | Remark] = []
    inputs = [n for n in nodes if n.is_input]
    order = [n for n in reversed(nodes) if not n.is_input] + inputs
    for n in order:
        if n.constant or n not in bw.grads:
            continue
        back.append(seed_step(bw) if n is bw.output else gradient_step(bw, n))
    return [Section(SectionKind.GIVEN, "Given", tuple(given)),
            Section(SectionKind.FORWARD, "Forward pass", tuple(forward_steps(nodes))),
            Section(SectionKind.LOCAL, "Local derivatives", tuple(local)),
            Section(SectionKind.BACKWARD, "Backward pass (local derivative × upstream gradient)", tuple(back)),
            Section(SectionKind.RESULTS, "Gradients", (*result_steps(bw, inputs), *sensitivity(bw, inputs)))]


def solution(graph: Graph, bw: Backward, *, model: str = "graph", title: str | None = None,
             parameters: Mapping[str, Any] | None = None, before: Iterable[Section] = (),
             extra: Iterable[Section] = (), names: Mapping = ()) -> Solution:
    """The worked solution of the backward pass ``bw`` over ``graph``, with sections ``before``
    and ``extra`` around its own; ``names`` says how symbols of those sections are written."""
    results = {n.name: Shown(bw.inline(bw.grads[n]), bw.approx[n])
               for n in sorted(bw.grads, key=lambda n: n.index) if n.is_input}
    return Solution(model, title or graph.title, tuple(before) + tuple(sections(graph, bw)) + tuple(extra),
                    {**graph.names, **bw.names, **dict(names)}, dict(parameters or {}), results, build(graph, bw),
                    graph.size)
