"""The cases the refactor snapshot covers: every model with its defaults and two overrides, and the
README's own-formula and traced examples. ``generate.py`` writes their output; ``test_snapshots.py``
checks that the code still prints exactly that.

This is the one kind of test here whose expected values come from symderiv itself: it guards a
refactor (behaviour kept byte for byte), not correctness, which the other tests establish
independently.
"""

from __future__ import annotations

import re
from collections.abc import Callable

#: model id -> two overrides (CLI-style text values, as ``--set`` takes them).
OVERRIDES: dict[str, tuple[dict[str, str], dict[str, str]]] = {
    "graph-add-mul": ({"x": "3", "y": "-1/2", "z": "0.25"}, {"x": "0", "y": "0", "z": "7"}),
    "graph-mul-add": ({"x": "1", "y": "2", "z": "3"}, {"x": "-1/3", "y": "0.5", "z": "-4"}),
    "sigmoid-neuron": ({"staging": "sigmoid"}, {"w0": "0.5", "x0": "1/3", "staging": "sum3"}),
    "max-gate": ({"z": "2", "w": "2"}, {"first": "add8", "convention": "tensorflow", "z": "-1"}),
    "xor-mlp": ({"row": "2"}, {"W1": "[[1,2],[1,1]]", "b1": "[0,-1/2]", "row": "3", "convention": "half"}),
    "sigmoid-chain": ({"depth": "5"}, {"w": "[1, -2, 0.5, 3]", "x": "2", "y": "0"}),
    "dropout": ({"p": "0.8"}, {"p": "1/3", "outputs": "[1, 2, 3]"}),
    "conv2d": ({"kernel": "[[1,0],[0,-1]]"}, {"stride": "2", "padding": "1", "kernel": "[[1,2],[3,4]]"}),
    "conv2d-padding": ({"padding": "0", "stride": "1"},
                       {"upstream": "[[1,2,3],[0,-1,1],[2,2,2]]"}),
    "conv-volume": ({"height": "32", "width": "32", "filters": "6", "kernel_size": "5"},
                    {"volume": "[[[1,2],[3,4]],[[0,1],[1,0]]]", "filter": "[[[1]],[[-1]]]", "bias": "1/2"}),
    "pooling": ({"mode": "max", "input": "[[1,3,2,4],[5,6,7,8],[3,2,1,0],[1,2,3,4]]"},
                {"size": "3", "stride": "1", "mode": "average"}),
    "rnn": ({"xs": "[[1,2],[-1,1],[0,1]]"}, {"upstream": "[[1,0],[0,2]]", "h0": "[0.1,-0.2,0.3]"}),
    "lstm-step": ({"x": "[1, 1]"}, {"upstream": "[1, -1]", "c_prev": "[0.5, 0]"}),
    "autoencoder": ({"x": "[1, -1]"}, {"w_e": "[[0.5, 0.5]]", "w_d": "[[1], [-1]]"}),
    "dot-attention": ({"s": "[1, 0, 0]"}, {"upstream": "[1, -1, 2]", "hs": "[[1, 0, 0], [0, 1, 2], [1, 1, 0]]"}),
    "self-attention": ({"upstream": "[[1, 0, 0, 0], [0, 1, 0, 0]]"},
                       {"Q": "[[1, 0], [0, 1]]", "K": "[[1, 1], [0, 1]]", "V": "[[2, 0], [0, 2]]"}),
    "positional-encoding": ({"d": "6"}, {"tokens": "a b", "n": "10000"}),
    "kl-divergence": ({"P": "[0.5, 0.5]", "Q": "[0.9, 0.1]"}, {"P": "[0.2, 0.3, 0.5]", "Q": "[1/3, 1/3, 1/3]"}),
    "mle": ({"family": "gaussian"}, {"family": "bernoulli", "data": "[1, 1, 0]"}),
}

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
        for k, settings in enumerate(OVERRIDES[model], 1):
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
