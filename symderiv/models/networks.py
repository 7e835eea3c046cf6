"""Small networks of the notes: the ReLU network that computes XOR, and the sigmoid chain."""

from __future__ import annotations

import mpmath
import sympy as sp

from ..errors import ParameterError
from ..graph import Graph
from ..printing import Name, Shown
from ..record import Maths, Remark, Section, SectionKind, Solution, Step, Table, Title
from ..writers import shown_node
from .registry import CONVENTION, Param, Setup, register

XOR_ROWS = ((0, 0, 0), (0, 1, 1), (1, 0, 1), (1, 1, 0))


def _xor_graph(W1, b1, w2, b2, x1, x2, y) -> tuple[Graph, list, object]:
    """h = ReLU(W1·x + b1), ŷ = ReLU(w2·h + b2), L = ½(ŷ − y)²; returns the graph, the hidden
    and output nodes in order, and L."""
    g = Graph(f"XOR with a ReLU network, row x = ({x1}, {x2})")
    X = [g.data("x1", x1, latex="x_{1}"), g.data("x2", x2, latex="x_{2}")]
    hidden = []
    for i in (1, 2):
        W = [g.input(f"W1_{i}{j}", W1[i - 1][j - 1], latex=f"w^{{(1)}}_{{{i}{j}}}") for j in (1, 2)]
        b = g.input(f"b1_{i}", b1[i - 1], latex=f"b^{{(1)}}_{{{i}}}")
        z = g.linear((W[0], X[0]), (W[1], X[1]), bias=b, name=f"z1_{i}", latex=f"z^{{(1)}}_{{{i}}}")
        hidden.append((z, g.relu(z, name=f"a1_{i}", latex=f"a^{{(1)}}_{{{i}}}")))
    v = [g.input(f"w2_{j}", w2[j - 1], latex=f"w^{{(2)}}_{{1{j}}}") for j in (1, 2)]
    c = g.input("b2", b2, latex="b^{(2)}")
    z2 = g.linear((v[0], hidden[0][1]), (v[1], hidden[1][1]), bias=c, name="z2", latex="z^{(2)}")
    yhat = g.relu(z2, name="yhat", latex=r"\hat{y}")
    Y = g.data("y", y)
    L = g.define("L", sp.Rational(1, 2) * (yhat.symbol - Y.symbol) ** 2)
    nodes = [hidden[0][0], hidden[1][0], hidden[0][1], hidden[1][1], z2, yhat]
    return g, nodes, L


@register("xor-mlp",
          Param("W1", [[1, 1], [1, 1]], "hidden weights (2x2)", kind="array", shape=(2, 2)),
          Param("b1", [0, -1], "hidden biases (2)", kind="array", shape=(2,)),
          Param("w2", [1, -2], "output weights (2)", kind="array", shape=(2,)),
          Param("b2", 0, "output bias"),
          Param("row", 0, "truth-table row (0-3) for the backward pass of L = (y_hat - y)^2 / 2",
                kind="int", low=0, high=3),
          CONVENTION,
          exercise=Setup({"W1": "int(-3..3)", "b1": "int(-2..2)", "w2": "int(-3..3)", "b2": "int(-2..2)",
                      "row": "int(0..3)"},
                     ("yhat", "L", "∂L/∂b2", "∂L/∂w2_1", "∂L/∂w2_2", "∂L/∂b1_1", "∂L/∂b1_2"),
                     zero_ok=("∂L/∂w2_1", "∂L/∂w2_2", "∂L/∂b1_1", "∂L/∂b1_2"), places=1,
                     explain="The backward pass is taken at row {row} of XOR's truth table (rows 0 to 3: "
                             "x = (0, 0), (0, 1), (1, 0), (1, 1), target y = x₁ XOR x₂): its x₁, x₂ and y are given "
                             "above."),
          examples=({'row': '2'}, {'W1': '[[1,2],[1,1]]', 'b1': '[0,-1/2]', 'row': '3', 'convention': 'half'}))
def xor_mlp(W1, b1, w2, b2, row, convention) -> Solution:
    table_rows, all_match = [], True
    header = None
    for x1, x2, y in XOR_ROWS:
        g, nodes, _ = _xor_graph(W1, b1, w2, b2, x1, x2, y)
        header = (g.node("x1").symbol, g.node("x2").symbol, g.node("y").symbol, *(n.symbol for n in nodes))
        table_rows.append(tuple(Shown(sp.Integer(v), mpmath.mpf(v)) for v in (x1, x2, y))
                          + tuple(shown_node(n) for n in nodes))
        all_match &= nodes[-1].value == y
    verdict = ("ŷ = y on every row: the network computes XOR." if all_match else
               "ŷ differs from y on some row: with these weights the network does not compute XOR.")
    table = Section(SectionKind.TABLE, Title("Truth table (every ", Maths("z", "z"), " and ", Maths("a", "a"), ")"),
                    (Table("", header, tuple(table_rows)), Remark((verdict,))))
    x1, x2, y = XOR_ROWS[row]
    g, _, L = _xor_graph(W1, b1, w2, b2, x1, x2, y)
    bw = g.backward(L, convention=convention)
    extra = []
    if all(bw.grads[n] == 0 for n in bw.grads if n.is_input):
        yhat = g.node("yhat")
        why = ("ŷ = y on this row, so L = 0 and ∂L/∂ŷ = ŷ − y = 0: nothing flows back." if yhat.value == y else
               "ŷ = ReLU(z2) is on its flat side (z2 ≤ 0), so no gradient passes back through it.")
        extra = [Section(SectionKind.REMARKS, "Remarks", (Remark((f"Every gradient is 0 here: {why} "
                                                        "Other weights give non-zero ones (--set 'W1=[[1,2],[1,1]]' --set row=1: "
                                                        "ŷ = 2 for y = 1).",)),))]
    return g.solution_of(bw, model="xor-mlp", title=f"XOR with a ReLU network: backward pass at row {row}",
                         parameters=dict(W1=W1, b1=b1, w2=w2, b2=b2, row=row, convention=convention),
                         before=[table], extra=extra)


@register("sigmoid-chain",
          Param("x", 1, "input"),
          Param("w", sp.Rational(1, 2), "weight of every layer, or a list of one weight per layer",
                kind="number-or-array", shape=(None,)),
          Param("y", 1, "target of L = (a_n - y)^2 / 2"),
          Param("depth", None, "number of layers (default 3, or the length of w)", kind="int", high=5000),
          exercise=Setup({"x": "int(-4..4)/2", "w": "int(-6..6)/2", "y": "{0, 1}"},
                           ("L", "∂L/∂x", "∂L/∂w1", "∂L/∂w2", "∂L/∂w3"), places=2),
          examples=({'depth': '5'}, {'w': '[1, -2, 0.5, 3]', 'x': '2', 'y': '0'}))
def sigmoid_chain(x, w, y, depth) -> Solution:
    if isinstance(w, list):
        if depth is not None and depth != len(w):
            raise ParameterError(f"sigmoid-chain: depth is {depth} but w has {len(w)} weights")
        ws = w
    else:
        ws = [w] * (3 if depth is None else depth)
    n = len(ws)
    g = Graph(Title(f"A chain of {n} sigmoid layers: ",
                    Maths(r"a_{k} = \sigma(w_{k} \cdot a_{k-1})", "a_k = σ(w_k·a_(k-1))"), ", ",
                    Maths(rf"L = \frac{{1}}{{2}} (a_{{{n}}} - y)^{{2}}", f"L = ½(a_{n} − y)²")))
    a = [g.input("x", x)]
    layers = []
    for k, wk in enumerate(ws, 1):
        W = g.input(f"w{k}", wk)
        z = g.mul(W, a[-1], name=f"z{k}")
        a.append(g.sigmoid(z, name=f"a{k}"))
        layers.append((W, z, a[-1]))
    Y = g.data("y", y)
    L = g.define("L", sp.Rational(1, 2) * (a[-1].symbol - Y.symbol) ** 2)
    bw = g.backward(L)
    steps: list = []
    names: dict = {}
    for k in range(n, 0, -1):
        W, z, ak = layers[k - 1]
        outer, inner = bw.local(ak, z), bw.local(z, a[k - 1])
        sym = sp.Symbol(f"∂{ak.name}/∂{a[k - 1].name}:chain", real=True)
        names[sym] = Name(rf"\frac{{\partial {g.names[ak.symbol].latex}}}{{\partial {g.names[a[k - 1].symbol].latex}}}",
                            f"∂{ak.name}/∂{a[k - 1].name}")
        bound = abs(W.value) / 4
        steps.append(Step(sym, sp.Mul(outer.symbol, inner.symbol, evaluate=False),
                          {outer.symbol: Shown(outer.ref, outer.approx), inner.symbol: Shown(inner.ref, inner.approx)},
                          outer.ref * inner.ref, outer.approx * inner.approx,
                          ("σ'(z) ≤ 1/4, so this factor is at most |", W.symbol, "|/4 = ", bound,
                           " in size")))
    first, last = bw.approx[layers[0][0]], bw.approx[layers[-1][0]]
    ratio = ("|∂L/∂w1| / |∂L/∂w", sp.Integer(n), f"| ≈ {mpmath.nstr(abs(first / last), 4)}: "
             "the gradient shrinks by a factor of at most |w|/4 at every layer it passes back through "
             "(the vanishing gradient)") if last else ("∂L/∂w_n is 0 here.",)
    extra = Section(SectionKind.VANISHING, "The factor each layer multiplies the gradient by",
                    tuple(steps) + (Remark(ratio),))
    return g.solution_of(bw, model="sigmoid-chain",
                         parameters=dict(x=x, w=w, y=y, depth=n), extra=[extra], names=names)
