"""The cases the refactor snapshot covers: every model with its defaults and the examples its
registration names (``Model.examples``: two settings each), and the
README's own-formula and traced examples. ``generate.py`` writes their output; ``test_snapshots.py``
checks that the code still prints exactly that.

This is the one kind of test here whose expected values come from symderiv itself: it guards a
refactor (behaviour kept byte for byte), not correctness, which the other tests establish
independently.
"""

from __future__ import annotations

import re
from collections.abc import Callable

#: Formats written for every case (svg is Graphviz's drawing of dot, not ours).
FORMATS = ("text", "latex", "standalone", "mathml", "html", "json", "markdown", "dot")

_FIGURE = re.compile(r'<figure class="diagram" aria-label="computational graph">\n.*?</figure>', re.S)


def normalize(fmt: str, text: str) -> str:
    """The rendering with what depends on the machine's Graphviz (the inline SVG figure) cut out."""
    return _FIGURE.sub("<figure/>", text) if fmt in ("mathml", "html") else text


def _formula_cases() -> dict[str, Callable]:
    import symderiv
    from symderiv.traced import relu, reset, var

    def traced():
        reset()
        x = var("x", -4)
        q = relu(2 * x + 2 + x) + (2 * x + 2 + x) * x
        return q.backward()

    def own_graph():
        g = symderiv.Graph("f = (x + y) z")
        x, y, z = g.input("x", -2), g.input("y", 5), g.input("z", -4)
        q = g.add(x, y, name="q")
        return g.solution(g.mul(q, z, name="f"))

    def tensor_graph():
        from symderiv import tensor as T
        g = symderiv.Graph("y = tanh(W x)")
        W, x = T.tensor(g, "W", [[0.5, -0.3], [0.8, 0.2]]), T.tensor(g, "x", [1, 2])
        y = T.elementwise("tanh", T.matmul(W, x, name="a"), name="y")
        return T.solution(T.total(y), model="mine")

    import sympy as sp
    X, Y = sp.symbols("x y")
    return {
        "derive-add-mul": lambda: symderiv.derive("(x + y) * z", x=-2, y=5, z=-4),
        "derive-neuron-wrt": lambda: symderiv.derive("1/(1 + exp(-(w0*x0 + w1*x1 + w2)))", w0=2, x0=-1,
                                                     wrt=["w0"]),
        "derive-symbolic": lambda: symderiv.derive("max(x, y) * sigmoid(x) + sqrt(y)"),
        "derive-nary": lambda: symderiv.derive("a*b*c + a + b + c", a=1, b=2, c=3, nary=True),
        "derive-sympy": lambda: symderiv.derive(sp.exp(X * Y) + sp.tanh(X) * X, x=1, y=2),
        "traced": traced,
        "graph-api": own_graph,
        "tensor-api": tensor_graph,
    }


def cases() -> dict[str, Callable]:
    """case name -> a function returning its Solution."""
    import symderiv

    out: dict[str, Callable] = {}
    for model in symderiv.models():
        out[f"{model}-defaults"] = lambda m=model: symderiv.solve(m)
        for k, settings in enumerate(symderiv.get_model(model).examples, 1):
            out[f"{model}-override{k}"] = lambda m=model, s=settings: symderiv.solve(m, **s)
    out.update(_formula_cases())
    return out


def render(sol, fmt: str) -> str:
    """The case's output in one of :data:`FORMATS` (for a model with no graph, dot's error line)."""
    import symderiv

    if fmt == "standalone":
        return sol.render("latex", standalone=True)
    try:
        return normalize(fmt, sol.render(fmt))
    except symderiv.SymderivError as e:
        return f"error: {e}\n"
