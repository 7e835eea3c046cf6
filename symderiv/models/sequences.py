"""Matrix models of the notes: RNN, LSTM step, linear autoencoder, attention, positional encoding."""

from __future__ import annotations

import mpmath
import sympy as sp

from .. import limits, numeric
from ..errors import ParameterError
from ..graph import Graph
from ..record import Maths, Remark, Section, SectionKind, Solution, Step, Title
from ..tensor import add, elementwise, hadamard, matmul, scale, softmax, solution, tensor, total
from ..values import format_shape
from ..writers import Derivation
from .registry import Param, Setup, register


def _check(model: str, name: str, got: tuple[int, ...], want: tuple[int, ...], why: str) -> None:
    if tuple(got) != tuple(want):
        raise ParameterError(f"{model}: {name}: expected shape {format_shape(tuple(want))} ({why}), "
                             f"got {format_shape(tuple(got))}")


def _loss_text(upstream, what: str) -> str:
    if upstream is None:
        return f"The loss is the sum of {what} (the notes give none): an upstream gradient of ones."
    return f"The loss is the sum of {what} weighted by the given upstream gradient."


def _shape(v) -> tuple[int, ...]:
    return (len(v), len(v[0])) if isinstance(v[0], list) else (len(v),)


@register("rnn",
          Param("W_xh", [[0.5, -0.3], [0.8, 0.2], [0.1, 0.4]], "input weights (hidden×input)", kind="array",
                shape=(None, None)),
          Param("W_hh", [[0.1, 0.4, 0.0], [-0.2, 0.3, 0.2], [0.05, -0.1, 0.2]], "recurrent weights", kind="array",
                shape=(None, None)),
          Param("W_hy", [[1.0, -1.0, 0.5], [0.5, 0.5, -0.5]], "output weights (output×hidden)", kind="array",
                shape=(None, None)),
          Param("h0", [0, 0, 0], "initial hidden state", kind="array", shape=(None,)),
          Param("xs", [[1, 2], [-1, 1]], "inputs x_1 … x_T, one per row", kind="array", shape=(None, None)),
          Param("upstream", None, "∂L/∂y_t, one row per step: L = Σ_t upstream_t·y_t (default: ones, "
                "L = the sum of the outputs)", kind="array", shape=(None, None)),
          exercise=Setup({"W_xh": "int(-5..5)/10", "W_hh": "int(-2..2)/10", "W_hy": "int(-5..5)/10", "xs": "int(-2..2)",
                                 "h0": "int(-3..3)/10", "upstream": "[[1, -1], [2, 1]]"},
                 ("y1", "y2", "∂L/∂W_hh", "∂L/∂W_hy"), places=2, stated=("upstream",),
                 explain="upstream is ∂L/∂y_t, one row per step: L = Σ_t upstream_t · y_t."),
          examples=({'xs': '[[1,2],[-1,1],[0,1]]'}, {'upstream': '[[1,0],[0,2]]', 'h0': '[0.1,-0.2,0.3]'}))
def rnn(W_xh, W_hh, W_hy, h0, xs, upstream) -> Solution:
    m, n = _shape(W_xh)
    _check("rnn", "W_hh", _shape(W_hh), (m, m), "hidden×hidden")
    _check("rnn", "W_hy", (len(W_hy), len(W_hy[0])), (len(W_hy), m), "outputs×hidden")
    _check("rnn", "h0", (len(h0),), (m,), "the hidden size")
    _check("rnn", "xs", _shape(xs), (len(xs), n), "one input of the width of W_xh per row")
    g = Graph(f"A recurrent network over {len(xs)} steps")
    Wxh, Whh, Why = tensor(g, "W_xh", W_xh), tensor(g, "W_hh", W_hh), tensor(g, "W_hy", W_hy)
    h = tensor(g, "h0", h0, latex="h_{0}")
    ys = []
    for t, xt in enumerate(xs, 1):
        x = tensor(g, f"x{t}", xt, data=True, latex=f"x_{{{t}}}")
        a = add(matmul(Whh, h, name=f"u{t}", latex=f"u_{{{t}}}"), matmul(Wxh, x, name=f"v{t}", latex=f"v_{{{t}}}"),
                name=f"z{t}", latex=f"z_{{{t}}}")
        h = elementwise("tanh", a, name=f"h{t}", latex=f"h_{{{t}}}")
        ys.append(matmul(Why, h, name=f"y{t}", latex=f"y_{{{t}}}"))
    if upstream is not None:
        _check("rnn", "upstream", _shape(upstream), (len(xs), len(W_hy)), "one row of ∂L/∂y_t per step")
    L = total(ys, upstream)
    return solution(L, model="rnn", parameters=dict(W_xh=W_xh, W_hh=W_hh, W_hy=W_hy, h0=h0, xs=xs, upstream=upstream),
                    extra=[Section(SectionKind.REMARKS, "Remarks", (Remark((
                        "The weights are shared over time: each W gathers one term per step, summed. ",
                        _loss_text(upstream, "every output entry")),),))])


_LSTM_W = {
    "W_xi": [[0.5, -0.3], [0.4, 0.1]], "W_hi": [[0.1, 0.2], [-0.2, 0.05]],
    "W_xf": [[-0.4, 0.2], [0.3, 0.3]], "W_hf": [[0.05, -0.1], [0.2, 0.1]],
    "W_xo": [[0.3, 0.25], [-0.2, 0.2]], "W_ho": [[0.15, 0.05], [0.1, -0.2]],
    "W_xg": [[-0.5, 0.4], [0.2, -0.3]], "W_hg": [[0.2, 0.1], [-0.1, 0.05]],
}


@register("lstm-step",
          Param("x", [0.5, -0.1], "input", kind="array", shape=(None,)),
          Param("h_prev", [0.0, 0.1], "previous hidden state", kind="array", shape=(None,)),
          Param("c_prev", [0.2, -0.2], "previous cell state", kind="array", shape=(None,)),
          *(Param(name, value, "gate weights", kind="array", shape=(None, None)) for name, value in _LSTM_W.items()),
          Param("upstream", None, "∂L/∂h_t: L = upstream·h_t (default: ones, L = sum(h_t))", kind="array",
                shape=(None,)),
          Param("upstream_c", None, "∂L/∂c_t, for a loss on the cell state too: L = upstream·h_t + "
                "upstream_c·c_t (default: none, L on h_t only)", kind="array", shape=(None,)),
          alternatives=((Title("a loss on both ", Maths("h_{t}", "h_t"), " and ", Maths("c_{t}", "c_t"), ": ",
                               Maths(r"L = \sum h_{t} + \sum c_{t}", "L = Σ h_t + Σ c_t")), {"upstream_c": "[1, 1]"}),),
          exercise=Setup({"x": "int(-2..2)/2", "h_prev": "int(-2..2)/2", "c_prev": "int(-2..2)/2",
                        **{f"W_{a}{g}": "int(-5..5)/10" for a in "xh" for g in "ifog"}},
                       ("c_t", "h_t", "∂L/∂x", "∂L/∂c_prev"), places=3),
          examples=({'x': '[1, 1]'}, {'upstream': '[1, -1]', 'c_prev': '[0.5, 0]'}))
def lstm_step(x, h_prev, c_prev, upstream, upstream_c, **W) -> Solution:
    m, n = len(h_prev), len(x)
    _check("lstm-step", "c_prev", (len(c_prev),), (m,), "the hidden size")
    for name, value in W.items():
        _check("lstm-step", name, _shape(value), (m, n) if name.startswith("W_x") else (m, m),
               "hidden×input" if name.startswith("W_x") else "hidden×hidden")
    g = Graph("One LSTM step")
    X, H, C = tensor(g, "x", x), tensor(g, "h_prev", h_prev, latex="h_{t-1}"), tensor(g, "c_prev", c_prev, latex="c_{t-1}")
    T = {name: tensor(g, name, value, latex=f"W_{{{name[2:]}}}") for name, value in W.items()}
    gates = {}
    for gate, fn in (("i", "sigmoid"), ("f", "sigmoid"), ("o", "sigmoid"), ("g", "tanh")):
        pre = add(matmul(T[f"W_h{gate}"], H, name=f"u{gate}", latex=f"u_{{{gate}}}"),
                  matmul(T[f"W_x{gate}"], X, name=f"v{gate}", latex=f"v_{{{gate}}}"), name=f"z{gate}",
                  latex=f"z_{{{gate}}}")
        gates[gate] = elementwise(fn, pre, name=gate)
    c = add(hadamard(gates["f"], C, name="fc", latex=r"f \odot c_{t-1}"),
            hadamard(gates["i"], gates["g"], name="ig", latex=r"i \odot g"), name="c_t", latex="c_{t}")
    h = hadamard(gates["o"], elementwise("tanh", c, name="tc", latex=r"\tanh(c_{t})"), name="h_t", latex="h_{t}")
    if upstream is not None:
        _check("lstm-step", "upstream", (len(upstream),), (m,), "one entry per hidden unit")
    if upstream_c is None:
        L = total(h, upstream)
    else:
        _check("lstm-step", "upstream_c", (len(upstream_c),), (m,), "one entry per hidden unit")
        L = total([h, c], [list(upstream) if upstream is not None else [1] * m, list(upstream_c)])
    loss = _loss_text(upstream, "the entries of h_t") if upstream_c is None else \
        "The loss is upstream·h_t + upstream_c·c_t: the cell state gets a gradient of its own as well as the one from h_t."
    return solution(L, model="lstm-step", parameters=dict(x=x, h_prev=h_prev, c_prev=c_prev, upstream=upstream,
                                                          upstream_c=upstream_c, **W),
                    extra=[Section(SectionKind.REMARKS, "Remarks", (Remark((loss,)),))])


@register("autoencoder",
          Param("x", [2, 0], "input (n)", kind="array", shape=(None,)),
          Param("w_e", [[0.5, -1.0]], "encoder weights (k×n)", kind="array", shape=(None, None)),
          Param("w_d", [[1.0], [0.5]], "decoder weights (n×k)", kind="array", shape=(None, None)),
          exercise=Setup({"x": "int(-2..2)", "w_e": "int(-2..2)/2", "w_d": "int(-2..2)/2"},
                         ("L", "∂L/∂w_e", "∂L/∂w_d"), places=4),
          examples=({'x': '[1, -1]'}, {'w_e': '[[0.5, 0.5]]', 'w_d': '[[1], [-1]]'}))
def autoencoder(x, w_e, w_d) -> Solution:
    n, k = len(x), len(w_e)
    _check("autoencoder", "w_e", _shape(w_e), (k, n), f"it maps x in R^{n} to h in R^{k}")
    _check("autoencoder", "w_d", _shape(w_d), (n, k), f"it maps h in R^{k} back to R^{n}")
    g = Graph(Title("A linear autoencoder: ", Maths("h = w_{e} x", "h = w_e·x"), ", ",
                    Maths(r"\hat{x} = w_{d} h", "x̂ = w_d·h"), ", ",
                    Maths(r"L = \frac{1}{2} \|\hat{x} - x\|^{2}", "L = ½‖x̂ − x‖²")))
    X = tensor(g, "x", x, data=True)
    We, Wd = tensor(g, "w_e", w_e), tensor(g, "w_d", w_d)
    h = matmul(We, X, name="h")
    xhat = matmul(Wd, h, name="xhat", latex=r"\hat{x}")
    L = g.define("L", sp.Rational(1, 2) * sp.Add(*((a.symbol - b.symbol) ** 2
                                                   for a, b in zip(xhat.entries, X.entries))))
    shapes = Remark((f"Shapes: x is {n}×1 and the code h is {k}×1, so w_e must be {k}×{n} "
                     f"(h = w_e·x) and w_d must be {n}×{k} (x̂ = w_d·h).",))
    return solution(L, model="autoencoder", parameters=dict(x=x, w_e=w_e, w_d=w_d),
                    before=[Section(SectionKind.SHAPES, "Shapes", (shapes,))])


@register("dot-attention",
          Param("hs", [[1, 0, 1], [0, 1, 1], [1, 1, 0]], "hidden states h_j, one per row", kind="array",
                shape=(None, None)),
          Param("s", [1, 0, 1], "decoder state", kind="array", shape=(None,)),
          Param("upstream", None, "∂L/∂c: L = upstream·c (default: ones, L = sum(c))", kind="array",
                shape=(None,)),
          exercise=Setup({"hs": "int(-1..2)", "s": "int(-1..1)", "upstream": "{-1, 1, 2}[3]"}, ("alpha", "c", "∂L/∂s"),
                           stated=("upstream",), explain="upstream is ∂L/∂c: L = upstream · c."),
          examples=({'s': '[1, 0, 0]'}, {'upstream': '[1, -1, 2]', 'hs': '[[1, 0, 0], [0, 1, 2], [1, 1, 0]]'}))
def dot_attention(hs, s, upstream) -> Solution:
    _check("dot-attention", "s", (len(s),), (len(hs[0]),), "the width of each hidden state")
    g = Graph("Dot-product attention")
    H = tensor(g, "H", hs, latex=r"H")
    S = tensor(g, "s", s)
    e = matmul(H, S, name="e")
    alpha = softmax(e, name="alpha", latex=r"\alpha")
    c = matmul(H, alpha, ta=True, name="c")
    if upstream is not None:
        _check("dot-attention", "upstream", (len(upstream),), (len(s),), "one entry per context entry")
    L = total(c, upstream)
    best = max(range(len(hs)), key=lambda j: alpha.entries[j].approx)
    ties = [j + 1 for j in range(len(hs)) if alpha.entries[j].approx == alpha.entries[best].approx]
    which = (f"The context aligns most with h_{best + 1} (the largest weight α_{best + 1})." if len(ties) == 1
             else f"The weights tie between h_{', h_'.join(map(str, ties))}.")
    remarks = [Remark((which,)), Remark((_loss_text(upstream, "the context entries"),))]
    sums = {sp.Add(*row) for row in hs}
    if upstream is None and len(sums) == 1:
        r = sums.pop()
        remarks.append(Remark((f"∂L/∂e and ∂L/∂s are 0 here: L = Σ_k c_k = Σ_j α_j·(Σ_k h_jk), and every h_j "
                               f"sums to {r}, so L = {r}·Σ_j α_j = {r} whatever the scores (the weights α_j sum "
                               "to 1). A weighted loss, --set 'upstream=[1, -1, 2]', makes them non-zero.",)))
    return solution(L, model="dot-attention", parameters=dict(hs=hs, s=s, upstream=upstream),
                    extra=[Section(SectionKind.REMARKS, "Remarks", tuple(remarks))])


@register("self-attention",
          Param("Q", [[0.212, 0.04, 0.63, 0.36], [0.1, 0.14, 0.86, 0.77]], "queries, one row per token",
                kind="array", shape=(None, None)),
          Param("K", [[0.31, 0.84, 0.963, 0.57], [0.45, 0.94, 0.73, 0.58]], "keys, one row per token",
                kind="array", shape=(None, None)),
          Param("V", [[0.36, 0.83, 0.1, 0.35], [0.31, 0.36, 0.19, 0.72]], "values, one row per token",
                kind="array", shape=(None, None)),
          Param("upstream", None, "∂L/∂Z: L = Σ upstream ⊙ Z (default: ones, L = sum(Z))", kind="array",
                shape=(None, None)),
          exercise=Setup({"Q": "int(-10..10)/10", "K": "int(-10..10)/10", "V": "int(-5..5)/10",
                                  "upstream": "{-1, 1, 2}[2,4]"},
                            ("Z", "∂L/∂Q"), places=3, stated=("upstream",),
                            explain="d_k is the width of a query (the columns of Q); the softmax is taken along "
                                    "each row of A: row t of P is the softmax of row t over the keys, and sums to "
                                    "1. upstream is ∂L/∂Z: L = Σ upstream ⊙ Z."),
          examples=({'upstream': '[[1, 0, 0, 0], [0, 1, 0, 0]]'}, {'Q': '[[1, 0], [0, 1]]', 'K': '[[1, 1], [0, 1]]', 'V': '[[2, 0], [0, 2]]'}))
def self_attention(Q, K, V, upstream) -> Solution:
    _check("self-attention", "K", _shape(K), _shape(Q), "as many keys as queries, of the same width")
    if len(V) != len(K):
        raise ParameterError(f"self-attention: V: expected {len(K)} rows (one per token), got {len(V)}")
    d_k = len(Q[0])
    g = Graph("Scaled dot-product self-attention")
    q, k, v = tensor(g, "Q", Q), tensor(g, "K", K), tensor(g, "V", V)
    scores = matmul(q, k, tb=True, name="S")
    width = Derivation()
    dk = width.symbol("d_k", "d_{k}", "d_k", positive=True)
    sizes = Section(SectionKind.SIZES, "Sizes", (width.step(dk, None, None, sp.Integer(d_k),
                                                   "the width of a query and of a key row", with_float=False),))
    scaled = scale(1 / sp.sqrt(d_k), scores, name="A",
                   written=sp.Pow(sp.sqrt(dk, evaluate=False), -1, evaluate=False))
    alpha = softmax(scaled, name="P")
    z = matmul(alpha, v, name="Z")
    if upstream is not None:
        _check("self-attention", "upstream", _shape(upstream), (len(Q), len(V[0])), "the shape of Z")
    L = total(z, upstream)
    return solution(L, model="self-attention", parameters=dict(Q=Q, K=K, V=V, upstream=upstream),
                    before=[sizes], names=width.names,
                    extra=[Section(SectionKind.REMARKS, "Remarks", (
                        Remark((f"d_k = {d_k}, so the scores are scaled by 1/√{d_k}; "
                                "each row of P is a softmax over the keys; row t of Z is z_t.",)),
                        Remark((_loss_text(upstream, "all entries of Z"),))))])


#: The size of one entry of a positional encoding: its exact sine or cosine and its float take
#: about 1.2 ms (512 positions × 39 at n = 10^9, the largest admitted: benchmarks/bounds.py).
ENCODING_ENTRY_SIZE = 10


@register("positional-encoding",
          Param("tokens", "I am a robot", "the sentence (its words give the positions)", kind="text"),
          Param("length", None, "number of positions, instead of tokens", kind="int", high=512),
          Param("d", 4, "encoding width", kind="int", high=512),
          Param("n", 100, "the base (10000 in the original transformer)", kind="int", high=10**9),
          exercise=Setup({"d": "{4, 6}", "n": "int(10..200)"}, ("PE[1] (am)", "PE[2] (a)"), forward_gives_answer=True),
          examples=({'d': '6'}, {'tokens': 'a b', 'n': '10000'}))
def positional_encoding(tokens, length, d, n) -> Solution:
    words = tokens.split() if length is None else [f"position {p}" for p in range(length)]
    if not words:
        raise ParameterError("positional-encoding: tokens: expected at least one word")
    if len(words) > 512:
        raise ParameterError(f"positional-encoding: tokens: at most 512 words, got {len(words)}")
    limits.check(len(words) * d * ENCODING_ENTRY_SIZE,
                 f"positional-encoding: the {len(words)}×{d} encoding ({ENCODING_ENTRY_SIZE} per entry)")
    derivation = Derivation()
    steps = []
    for pos, word in enumerate(words):
        row_exact, row_approx = [], []
        for col in range(d):
            i = col // 2
            arg = sp.Integer(pos) / sp.Integer(n) ** sp.Rational(2 * i, d)
            value = (sp.sin if col % 2 == 0 else sp.cos)(arg)
            row_exact.append(value)
            row_approx.append(numeric.evaluate(value, {}))
        sym = derivation.matrix_symbol(f"PE_{pos}", (1, d), rf"\mathrm{{PE}}_{{{pos}}}",
                              f"PE[{pos}]" if length else f"PE[{pos}] ({word})")
        steps.append(Step(sym, exact=sp.ImmutableMatrix([row_exact]), approx=(tuple(row_approx),)))
    remark = Remark((f"Arguments are in radians: PE(1, 2) = sin(1/{n}^(2/{d})) ≈ "
                     f"{mpmath.nstr(mpmath.sin(mpmath.mpf(1) / mpmath.mpf(n) ** (mpmath.mpf(2) / d)), 4)}; "
                     "the notes' 0.0017 is the sine of 0.1 degrees, not of 0.1 radians (0.0998).",))
    base, width = derivation.symbol("n", "n"), derivation.symbol("d", "d")
    given = (derivation.step(base, None, None, sp.Integer(n), "the base", with_float=False),
             derivation.step(width, None, None, sp.Integer(d), "the encoding's width: entries 2i (sine) and "
                             "2i + 1 (cosine) of row pos, positions counted from 0", with_float=False))
    return derivation.solution("positional-encoding", "Sinusoidal positional encoding",
                               (Section(SectionKind.GIVEN, "Given", given),
                                Section(SectionKind.FORWARD, f"The {len(words)}×{d} encoding, one row per token", tuple(steps)),
                                Section(SectionKind.REMARKS, "Remarks", (remark,))),
                               dict(tokens=tokens, length=len(words), d=d, n=n))
