"""Scalar computational graphs of the notes: f = (x+y)z, f = x + yz, the sigmoid neuron, the max gate."""

from __future__ import annotations

import mpmath
import sympy as sp

from ..graph import Graph
from ..printing import format_float
from ..record import Maths, Remark, Section, SectionKind, Solution, Title
from .registry import CONVENTION, Param, Setup, register

_XYZ = (Param("x", -2, "input x"), Param("y", 5, "input y"), Param("z", -4, "input z"))


@register("graph-add-mul", *_XYZ,
          exercise=Setup({"x": "int(-9..9)", "y": "int(-9..9)", "z": "int(-9..9)"}, ("f", "∂f/∂x", "∂f/∂y", "∂f/∂z")),
          examples=({'x': '3', 'y': '-1/2', 'z': '0.25'}, {'x': '0', 'y': '0', 'z': '7'}))
def graph_add_mul(x, y, z) -> Solution:
    g = Graph(Title(Maths(r"f = (x + y) \cdot z", "f = (x + y)·z"), ", with ", Maths("q = x + y", "q = x + y")))
    xs = [g.input(n, v) for n, v in (("x", x), ("y", y), ("z", z))]
    f = g.mul(g.add(xs[0], xs[1], name="q"), xs[2], name="f")
    return g.solution(f, model="graph-add-mul", parameters=dict(x=x, y=y, z=z))


@register("graph-mul-add", *_XYZ,
          exercise=Setup({"x": "int(-5..5)", "y": "int(-5..5)", "z": "int(-5..5)"}, ("f", "∂f/∂x", "∂f/∂y", "∂f/∂z")),
          examples=({'x': '1', 'y': '2', 'z': '3'}, {'x': '-1/3', 'y': '0.5', 'z': '-4'}))
def graph_mul_add(x, y, z) -> Solution:
    g = Graph(Title(Maths(r"f = x + y \cdot z", "f = x + y·z"), ", with ", Maths(r"q = y \cdot z", "q = y·z")))
    xs = [g.input(n, v) for n, v in (("x", x), ("y", y), ("z", z))]
    f = g.add(xs[0], g.mul(xs[1], xs[2], name="q"), name="f")
    bw = g.backward(f)
    grads = {n.name: bw.grads[n] for n in xs}
    remark = Remark(("Overall influence on f: x ", grads["x"], ", y ", grads["y"], ", z ", grads["z"], "."))
    return g.solution_of(bw, model="graph-mul-add", parameters=dict(x=x, y=y, z=z),
                         extra=[Section(SectionKind.REMARKS, "Remarks", (remark,))])


_STAGINGS = ("gates", "sum3", "sigmoid")


@register("sigmoid-neuron",
          Param("w0", 2, "weight of x0"), Param("x0", -1, "input"), Param("w1", -3, "weight of x1"),
          Param("x1", -2, "input"), Param("w2", -3, "bias"),
          Param("staging", "gates", "gates: two-input gates f1..f8; sum3: a three-input sum gate; "
                "sigmoid: the sigmoid as one gate", kind="choice", choices=_STAGINGS),
          alternatives=(("the same neuron with a three-input sum gate", {"staging": "sum3"}),
                        (Title("the same neuron with the sigmoid as one gate, ",
                               Maths(r"\sigma' = \sigma (1 - \sigma)", "σ' = σ(1 − σ)")), {"staging": "sigmoid"})),
          exercise=Setup({"w0": "int(-3..3)", "x0": "int(-4..4)/2", "w1": "int(-3..3)", "x1": "int(-4..4)/2",
                             "w2": "int(-3..3)"},
                            ("f8", "∂f/∂w0", "∂f/∂x0", "∂f/∂w1", "∂f/∂x1", "∂f/∂w2"), places=3, min_asked=0.02),
          examples=({'staging': 'sigmoid'}, {'w0': '0.5', 'x0': '1/3', 'staging': 'sum3'}))
def sigmoid_neuron(w0, x0, w1, x1, w2, staging) -> Solution:
    g = Graph(f"A sigmoid neuron, staged as {dict(gates='two-input gates', sum3='a three-input sum gate', sigmoid='one sigmoid gate')[staging]}")
    W0, X0, W1, X1, W2 = (g.input(n, v) for n, v in
                          (("w0", w0), ("x0", x0), ("w1", w1), ("x1", x1), ("w2", w2)))
    f1, f2 = g.mul(W0, X0), g.mul(W1, X1)
    if staging == "sum3":
        s = g.add(f1, f2, W2)
    else:
        s = g.add(g.add(f1, f2), W2)
    if staging == "sigmoid":
        out = g.sigmoid(s)
        lesson = ("The sigmoid is one gate here: its local derivative is σ(1 − σ), computed from its "
                  "output alone.",)
    else:
        out = g.recip(g.add(1, g.exp(g.neg(s))))
        lesson = ("f = ", out.symbol, ": the sigmoid σ(z) = 1/(1 + e^(−z)) built from neg, exp, add and "
                  "reciprocal gates.",)
    bw = g.backward(out, label="f")
    remarks = [Remark(lesson)]
    if staging != "sigmoid":
        remarks.append(Remark(_shortcut(bw, out, s)))
    return g.solution_of(bw, model="sigmoid-neuron",
                         parameters=dict(w0=w0, x0=x0, w1=w1, x1=x1, w2=w2, staging=staging),
                         extra=[Section(SectionKind.REMARKS, "Remarks", tuple(remarks))])


def _shortcut(bw, out, z) -> tuple:
    """The staged sigmoid's local derivatives multiplied, from the backward pass, beside σ(1 − σ)
    from its output: the shortcut the one-gate staging uses."""
    path, node = [], out
    while node is not z:  # f8 ← f7 ← f6 ← f5 ← f4: each gate's one non-constant input
        parent = next(p for p in node.parents if not p.constant)
        path.append(bw.local(node, parent))
        node = parent
    product = mpmath.fprod(loc.approx for loc in path)
    words = ("The staged sigmoid's local derivatives multiplied: ", sp.Mul(*(loc.symbol for loc in path),
                                                                         evaluate=False))
    floats = "·".join(f"({format_float(loc.approx, 4)})" if loc.approx < 0 else format_float(loc.approx, 4)
                      for loc in path)
    sigma = out.approx
    return (*words, f" ≈ {floats} ≈ {format_float(product, 4)}, which is σ(1 − σ) = ", out.symbol, "·(1 − ",
            out.symbol, f") ≈ {format_float(sigma, 4)}·{format_float(1 - sigma, 4)}: the one-gate staging's "
            "shortcut σ' = σ(1 − σ).")


@register("max-gate",
          Param("x", 3, "input x"), Param("y", -4, "input y"), Param("z", 2, "input z"),
          Param("w", -1, "input w"),
          Param("first", "mul", "the first gate: mul (x·y, the lecture) or add8 (x + 8y, the OCR's "
                "reading); from Python, any SymPy expression in the symbols x and y", kind="choice",
                choices=("mul", "add8"), expr_symbols=("x", "y")),
          CONVENTION,
          alternatives=((Title("at a tie, ", Maths("z = w = 2", "z = w = 2"), ": the derivative of max is a convention there"),
                         {"z": "2", "w": "2"}),),
          exercise=Setup({"x": "int(-5..5)", "y": "int(-5..5)", "z": "int(-5..5)", "w": "int(-5..5)"},
                      ("f4", "∂f/∂x", "∂f/∂y", "∂f/∂z", "∂f/∂w"), zero_ok=("∂f/∂z", "∂f/∂w"), places=1),
          examples=({'z': '2', 'w': '2'}, {'first': 'add8', 'convention': 'tensorflow', 'z': '-1'}))
def max_gate(x, y, z, w, first, convention) -> Solution:
    g = Graph(Title(Maths(r"f = 2 \cdot (f_{1} + \max(z, w))", "f = 2·(f1 + max(z, w))"), " with ",
                    Maths(r"f_{1} = x \cdot y", "f1 = x·y")))
    X, Y, Z, W = (g.input(n, v) for n, v in (("x", x), ("y", y), ("z", z), ("w", w)))
    if isinstance(first, sp.Expr):
        by_name = {"x": X.symbol, "y": Y.symbol}
        f1 = g.define("f1", first.xreplace({s: by_name[s.name] for s in first.free_symbols}))
    elif first == "add8":
        f1 = g.linear((1, X), (8, Y), bias=0, name="f1")
    else:
        f1 = g.mul(X, Y, name="f1")
    f4 = g.mul(2, g.add(f1, g.max(Z, W, name="f2"), name="f3"), name="f4")
    bw = g.backward(f4, label="f", convention=convention)
    return g.solution_of(bw, model="max-gate", parameters=dict(x=x, y=y, z=z, w=w, first=str(first),
                                                               convention=convention))

