"""symderiv's gradients against PyTorch float64 autograd (the reference for the 'pytorch' convention).

Each catalogue model's forward pass is written out again here with torch tensors; torch's
``backward`` gives the expected gradients, compared with ``float(sol.results[name].approx)``.
At the non-differentiable points torch itself is the reference: ``relu'(0) = 0``, ``|x|'(0) = 0``
and ``torch.maximum`` / ``torch.minimum`` split the upstream gradient evenly at a tie
(checked in ``test_torch_conventions_at_kinks`` so that a torch change shows up here first).
"""

from fractions import Fraction as F

import pytest
import sympy as sp

torch = pytest.importorskip("torch")

import symderiv  # noqa: E402

DT = torch.float64
REL = 1e-12
ZERO_ABS = 1e-15


# ----- helpers --------------------------------------------------------------------------------
def leaf(value):
    """A float64 scalar tensor that records its gradient."""
    return torch.tensor(float(value), dtype=DT, requires_grad=True)


def torch_grads(forward, **inputs):
    """``{name: d forward / d name}`` by torch autograd; ``forward`` takes the leaves by name."""
    leaves = {name: leaf(v) for name, v in inputs.items()}
    out = forward(**leaves)
    out.backward()
    return {name: (t.grad.item() if t.grad is not None else 0.0) for name, t in leaves.items()}


def assert_close(actual, expected, what=""):
    """Relative 1e-12, or absolute 1e-15 when the expected gradient is exactly zero."""
    if expected == 0:
        assert abs(actual) <= ZERO_ABS, f"{what}: got {actual!r}, torch gives 0"
    else:
        assert abs(actual - expected) <= REL * abs(expected), f"{what}: got {actual!r}, torch gives {expected!r}"


def assert_matches_torch(results, expected):
    """Every input of ``expected`` has a result, no result is extra, and each value matches."""
    assert set(results) == set(expected)
    for name, value in expected.items():
        assert_close(float(results[name].approx), value, name)


def sigmoid(t):
    return 1 / (1 + torch.exp(-t))


# ----- torch's own behaviour at kinks ---------------------------------------------------------
def test_torch_conventions_at_kinks():
    """The torch behaviour the 'pytorch' convention is meant to copy (so the references below are meaningful)."""
    assert torch_grads(lambda a: torch.relu(a), a=0) == {"a": 0.0}
    assert torch_grads(lambda a: torch.abs(a), a=0) == {"a": 0.0}
    assert torch_grads(lambda a, b: torch.maximum(a, b), a=2, b=2) == {"a": 0.5, "b": 0.5}
    assert torch_grads(lambda a, b: torch.minimum(a, b), a=2, b=2) == {"a": 0.5, "b": 0.5}


# ----- graph-add-mul and graph-mul-add ----------------------------------------------------------
XYZ = [
    {},
    dict(x=3, y=-7, z=0.5),
    dict(x=F(1, 3), y=F(-2, 7), z=F(5, 11)),
    dict(x=0, y=0, z=0),
    dict(x=-1.25, y=1.25, z=1e3),
]
XYZ_DEFAULT = dict(x=-2, y=5, z=-4)


@pytest.mark.parametrize("params", XYZ, ids=str)
def test_graph_add_mul(params):
    """f = (x + y)·z."""
    sol = symderiv.solve("graph-add-mul", **params)
    expected = torch_grads(lambda x, y, z: (x + y) * z, **{**XYZ_DEFAULT, **params})
    assert_matches_torch(sol.results, expected)


@pytest.mark.parametrize("params", XYZ, ids=str)
def test_graph_mul_add(params):
    """f = x + y·z."""
    sol = symderiv.solve("graph-mul-add", **params)
    expected = torch_grads(lambda x, y, z: x + y * z, **{**XYZ_DEFAULT, **params})
    assert_matches_torch(sol.results, expected)


# ----- sigmoid-neuron ---------------------------------------------------------------------------
NEURON_DEFAULT = dict(w0=2, x0=-1, w1=-3, x1=-2, w2=-3)
NEURON = [
    {},
    dict(w0=0.5, x0=1.5, w1=-0.25, x1=4, w2=0.1),
    dict(w0=F(1, 3), x0=F(-7, 5), w1=F(2, 9), x1=F(11, 4), w2=F(-1, 6)),
    dict(w0=0, x0=0, w1=0, x1=0, w2=0),
    dict(w0=5, x0=3, w1=4, x1=2, w2=1),      # saturated: s = 24
    dict(w0=-5, x0=3, w1=4, x1=-2, w2=-1),   # saturated the other way: s = -24
]


@pytest.mark.parametrize("staging", ["gates", "sum3", "sigmoid"])
@pytest.mark.parametrize("params", NEURON, ids=str)
def test_sigmoid_neuron(params, staging):
    """f = 1/(1 + exp(-(w0·x0 + w1·x1 + w2))) in each of the three stagings."""
    sol = symderiv.solve("sigmoid-neuron", staging=staging, **params)

    def forward(w0, x0, w1, x1, w2):
        return 1 / (1 + torch.exp(-(w0 * x0 + w1 * x1 + w2)))

    expected = torch_grads(forward, **{**NEURON_DEFAULT, **params})
    assert_matches_torch(sol.results, expected)


def test_sigmoid_neuron_torch_sigmoid_agrees():
    """The same neuron through torch.sigmoid (torch's fused gate) gives the same reference."""
    sol = symderiv.solve("sigmoid-neuron", staging="sigmoid", w0=0.75, x0=-2, w1=1.5, x1=0.5, w2=0.25)
    expected = torch_grads(lambda w0, x0, w1, x1, w2: torch.sigmoid(w0 * x0 + w1 * x1 + w2),
                           w0=0.75, x0=-2, w1=1.5, x1=0.5, w2=0.25)
    assert_matches_torch(sol.results, expected)


# ----- max-gate ---------------------------------------------------------------------------------
MAX_DEFAULT = dict(x=3, y=-4, z=2, w=-1)
MAX = [
    {},
    dict(z=-3, w=1),                 # w wins
    dict(z=2, w=2),                  # tie
    dict(z=-0.5, w=-0.5, x=0.25),    # tie at negative values
    dict(x=F(2, 3), y=F(-9, 4), z=F(1, 7), w=F(1, 8)),
    dict(z=0, w=0),                  # tie at zero
]


@pytest.mark.parametrize("first", ["mul", "add8"])
@pytest.mark.parametrize("params", MAX, ids=str)
def test_max_gate(params, first):
    """f = 2·(x·y + max(z, w)), or 2·(x + 8y + max(z, w)); a tie splits like torch.maximum."""
    sol = symderiv.solve("max-gate", first=first, convention="pytorch", **params)

    def forward(x, y, z, w):
        f1 = x * y if first == "mul" else x + 8 * y
        return 2 * (f1 + torch.maximum(z, w))

    expected = torch_grads(forward, **{**MAX_DEFAULT, **params})
    assert_matches_torch(sol.results, expected)


@pytest.mark.parametrize("params", [{}, dict(z=2, w=2), dict(x=-1.5, y=0.5, z=-1, w=3)], ids=str)
def test_max_gate_sympy_first_gate(params):
    """The first gate given as a SymPy expression, f1 = x²·y + exp(x/4)."""
    x, y = sp.symbols("x y")
    sol = symderiv.solve("max-gate", first=x ** 2 * y + sp.exp(x / 4), **params)
    expected = torch_grads(lambda x, y, z, w: 2 * (x ** 2 * y + torch.exp(x / 4) + torch.maximum(z, w)),
                           **{**MAX_DEFAULT, **params})
    assert_matches_torch(sol.results, expected)


# ----- xor-mlp ----------------------------------------------------------------------------------
XOR_ROWS = [(0, 0, 0), (0, 1, 1), (1, 0, 1), (1, 1, 0)]
XOR_DEFAULT = dict(W1=[[1, 1], [1, 1]], b1=[0, -1], w2=[1, -2], b2=0)
XOR_WEIGHTS = [
    {},                                                   # computes XOR: L = 0, several ReLUs at 0
    dict(W1=[[0.5, 1], [2, 0.25]], b1=[0.1, 0.3], w2=[1.5, -0.7], b2=0.2),
    dict(W1=[[F(3, 4), F(1, 3)], [F(-1, 2), F(5, 3)]], b1=[F(1, 5), F(1, 7)], w2=[F(2, 3), F(3, 5)],
         b2=F(-1, 9)),
    dict(b2=0.5),                                         # L > 0 on rows 0 and 3, hidden ReLU at 0
    dict(b2=-1),                                          # output ReLU at 0 on row 1 and 2
    dict(W1=[[1, -1], [-1, 1]], b1=[0, 0], w2=[1, 1], b2=0.25),   # hidden ReLUs at 0 on row 0 and 3
]
XOR_NAMES = ["W1_11", "W1_12", "b1_1", "W1_21", "W1_22", "b1_2", "w2_1", "w2_2", "b2"]


def xor_forward(row):
    """L(W1, b1, w2, b2) = ½(relu(w2·relu(W1 x + b1) + b2) − y)² at truth-table row ``row``."""
    x1, x2, y = XOR_ROWS[row]

    def forward(W1_11, W1_12, b1_1, W1_21, W1_22, b1_2, w2_1, w2_2, b2):
        h1 = torch.relu(W1_11 * x1 + W1_12 * x2 + b1_1)
        h2 = torch.relu(W1_21 * x1 + W1_22 * x2 + b1_2)
        yhat = torch.relu(w2_1 * h1 + w2_2 * h2 + b2)
        return 0.5 * (yhat - y) ** 2

    return forward


def xor_flat(W1, b1, w2, b2):
    return dict(zip(XOR_NAMES, [W1[0][0], W1[0][1], b1[0], W1[1][0], W1[1][1], b1[1], w2[0], w2[1], b2]))


@pytest.mark.parametrize("row", range(4))
@pytest.mark.parametrize("weights", XOR_WEIGHTS, ids=str)
def test_xor_mlp(weights, row):
    """Every row of the truth table, with the XOR weights and with others (ReLU'(0) = 0 as in torch)."""
    sol = symderiv.solve("xor-mlp", row=row, convention="pytorch", **weights)
    expected = torch_grads(xor_forward(row), **xor_flat(**{**XOR_DEFAULT, **weights}))
    assert_matches_torch(sol.results, expected)


def test_xor_mlp_some_case_has_nonzero_gradients():
    """Guard: the weight sets above are not all trivially zero-gradient."""
    weights = XOR_WEIGHTS[1]
    nonzero = [name for row in range(4)
               for name, v in torch_grads(xor_forward(row), **xor_flat(**weights)).items() if v != 0]
    assert len(set(nonzero)) == len(XOR_NAMES)


# ----- sigmoid-chain ----------------------------------------------------------------------------
CHAIN = [
    {},
    dict(depth=1),
    dict(depth=5, w=2, x=-1, y=0),
    dict(depth=10, w=[0.5, -1, 2, 1.5, -0.25, 3, 1, -2, 0.75, 1.25], x=0.8, y=0.3),
    dict(depth=10, w=[F(1, 3), F(-5, 2), F(7, 4), F(2, 5), 4, F(-1, 9), F(9, 8), F(-3, 2), 2, F(5, 6)],
         x=F(-2, 3), y=F(1, 4)),
    dict(w=[1, 2, 3, 4], x=0, y=1),                       # x = 0: dL/dw1 = 0
    dict(w=3, x=2, y=1),
]


def chain_forward(n, y):
    """L = ½(a_n − y)², a_k = σ(w_k a_{k−1}), a_0 = x."""
    def forward(x, **ws):
        a = x
        for k in range(1, n + 1):
            a = sigmoid(ws[f"w{k}"] * a)
        return 0.5 * (a - y) ** 2
    return forward


@pytest.mark.parametrize("params", CHAIN, ids=str)
def test_sigmoid_chain(params):
    """The chain of sigmoid layers, with one weight for all layers or a list of weights."""
    sol = symderiv.solve("sigmoid-chain", **params)
    x, w, y = params.get("x", 1), params.get("w", F(1, 2)), params.get("y", 1)
    ws = w if isinstance(w, list) else [w] * params.get("depth", 3)
    inputs = {"x": x, **{f"w{k}": wk for k, wk in enumerate(ws, 1)}}
    expected = torch_grads(chain_forward(len(ws), float(y)), **inputs)
    assert_matches_torch(sol.results, expected)


# ----- hand-built graphs ----------------------------------------------------------------------
class TorchOps:
    """The gate methods of :class:`symderiv.Graph`, done with torch (a graph-shaped torch forward)."""

    add = staticmethod(lambda *xs: sum(xs[1:], xs[0]))
    sub = staticmethod(lambda a, b: a - b)
    mul = staticmethod(lambda a, b: a * b)
    div = staticmethod(lambda a, b: a / b)
    neg = staticmethod(lambda a: -a)
    recip = staticmethod(lambda a: 1 / a)
    pow = staticmethod(lambda a, b: a ** b)
    exp = staticmethod(torch.exp)
    log = staticmethod(torch.log)
    tanh = staticmethod(torch.tanh)
    sigmoid = staticmethod(torch.sigmoid)
    relu = staticmethod(torch.relu)
    abs = staticmethod(torch.abs)
    max = staticmethod(torch.maximum)
    min = staticmethod(torch.minimum)

    @staticmethod
    def linear(*pairs, bias=0):
        return sum((w * x for w, x in pairs), bias)


# Each case: (id, forward(ops, **inputs), inputs). ``ops`` is a Graph or TorchOps.
GRAPHS = [
    ("sub-div", lambda o, x, y, z: o.div(o.sub(x, y), o.add(o.mul(x, z), 1)),
     dict(x=1.5, y=-2, z=0.75)),
    ("operators", lambda o, x, y, z: (x - y) / (x * z + 1) - 3 / y + 2 * z - (1 - x),
     dict(x=F(1, 3), y=F(-5, 2), z=F(7, 9))),
    ("pow-inputs", lambda o, x, y: o.pow(x, y), dict(x=1.75, y=-0.5)),
    ("pow-const", lambda o, x, y: o.pow(x, 3) + o.pow(y, 0.5) + x ** 2, dict(x=-2, y=2.25)),
    ("pow-const-base", lambda o, x: o.pow(2, x), dict(x=1.5)),
    ("log-tanh", lambda o, x, y, z: o.log(x * x + y) * o.tanh(z), dict(x=-1.5, y=0.5, z=0.3)),
    ("log-div", lambda o, x, y: o.log(o.div(x, y)), dict(x=F(1, 7), y=F(3, 2))),
    ("tanh-deep", lambda o, x: o.tanh(o.tanh(o.tanh(x * 3))), dict(x=0.2)),
    ("abs-min", lambda o, x, y, z: o.abs(x - y) + o.min(x * z, y), dict(x=0.5, y=2, z=-3)),
    ("abs-neg", lambda o, x: o.abs(o.neg(x)) * x, dict(x=-1.25)),
    ("abs-at-zero", lambda o, x, y: o.abs(x - y) + x * y, dict(x=0.5, y=0.5)),
    ("min-tie", lambda o, x, y, z: o.min(x * z, y) * 3, dict(x=0.5, y=1, z=2)),
    ("min-tie-same-node", lambda o, x: o.min(x, x) * x, dict(x=-1.5)),
    ("max-tie-same-node", lambda o, x, y: o.max(x, x) + o.max(y * 2, y + 1), dict(x=2, y=1)),
    ("max-min", lambda o, x, y: o.max(x, y) * o.min(x, y), dict(x=-0.25, y=4)),
    ("relu-at-zero", lambda o, x, y: o.relu(x - y) + o.relu(x) * y, dict(x=0, y=0)),
    ("relu-positive", lambda o, x, y: o.relu(x * y - 1) ** 2, dict(x=2, y=1.5)),
    ("neg-recip-exp", lambda o, x, y: o.recip(o.add(1, o.exp(o.neg(x * y)))), dict(x=0.75, y=-2)),
    ("sigmoid", lambda o, x, y: o.sigmoid(x) * o.sigmoid(y) + o.sigmoid(x * y), dict(x=-3, y=0.5)),
    ("linear", lambda o, w1, x1, w2, x2, b: o.tanh(o.linear((w1, x1), (w2, x2), bias=b)),
     dict(w1=0.5, x1=-1, w2=F(2, 3), x2=0.25, b=0.1)),
    ("fan-out", lambda o, x, y: o.mul(o.add(x, y, x), x) + o.exp(x) * o.log(y), dict(x=0.3, y=1.7)),
    ("add-many", lambda o, x, y, z: o.add(x, y, z, x * y, 5), dict(x=1, y=2, z=3)),
]


@pytest.mark.parametrize("forward, inputs", [c[1:] for c in GRAPHS], ids=[c[0] for c in GRAPHS])
def test_hand_built_graph(forward, inputs):
    """A graph built with the gate methods and operators, against the same forward in torch."""
    g = symderiv.Graph()
    nodes = {name: g.input(name, v) for name, v in inputs.items()}
    out = forward(g, **nodes)
    bw = g.backward(out, convention="pytorch")
    got = {n.name: bw.approx[n] for n in bw.grads if n.is_input}
    expected = torch_grads(lambda **t: forward(TorchOps, **t), **inputs)
    assert set(got) <= set(expected)
    for name, value in expected.items():
        assert_close(float(got.get(name, 0)), value, name)
    # gradients() and the Solution report the same numbers as backward()
    exact = g.gradients(out)
    sol = g.solution(out)
    for name in got:
        assert float(sol.results[name].approx) == float(got[name])
        if not exact[name].free_symbols:
            assert_close(float(exact[name]), expected[name], f"{name} (exact)")


def test_define_gate():
    """A gate given as a SymPy expression (define) chained with ordinary gates."""
    g = symderiv.Graph()
    x, y = g.input("x", 0.5), g.input("y", -1.25)
    q = g.mul(x, y, name="q")
    d = g.define("d", sp.sin(q.symbol) * x.symbol ** 2 + sp.exp(y.symbol) / (1 + q.symbol ** 2))
    out = g.tanh(g.add(d, x), name="out")
    got = g.backward(out).approx

    def forward(x, y):
        q = x * y
        return torch.tanh(torch.sin(q) * x ** 2 + torch.exp(y) / (1 + q ** 2) + x)

    expected = torch_grads(forward, x=0.5, y=-1.25)
    assert_close(float(got[x]), expected["x"], "x")
    assert_close(float(got[y]), expected["y"], "y")
