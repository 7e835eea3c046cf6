"""Answer sets typed the way students type them (issue 25), derived here by hand with mpmath at
50 digits, never with symderiv: each model's forward and backward pass is written out below as a
student works it, every written value rounded to the student's digits and used from then on, and
a planted slip (where a set has one) computed in place from the student's own values.

``python3 tests/check_sets/derive.py`` writes ``tests/check_sets/sets/*.txt`` and ``sets.json``
(the expectations: the model, the planted slip's line and kind); ``tests/test_check_sets.py``
checks that the files are what this script writes, and runs the checker on them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import mpmath
from mpmath import mpf

mpmath.mp.dps = 50
HERE = Path(__file__).resolve().parent
SETS = HERE / "sets"


def sig(x):
    return 1 / (1 + mpmath.exp(-x))


class Student:
    """Writes values at ``digits`` significant digits (or keeps them all for an unwritten one:
    ``rounds`` says whether an unwritten value is rounded too), applies a planted slip."""

    def __init__(self, digits, written=None, slip=None, names=None, rounds=True, working=False):
        self.digits, self.written, self.slip = digits, written, slip
        self.names = names if names is not None else {}
        self.rounds, self.working = rounds, working
        self.lines: list[str] = []
        self.slip_line = None

    def text(self, x):
        if x == mpmath.nint(x) and abs(x) < 10 ** 6:
            return str(int(mpmath.nint(x)))
        s = mpmath.nstr(x, self.digits, strip_zeros=False, min_fixed=-4, max_fixed=7)
        return s

    def rounded(self, x):
        return mpf(self.text(x))

    def __call__(self, name, value, alt=None, how=None):
        """The value the student uses for ``name``: ``value`` (or the slip ``alt[kind]``), rounded
        when written (and when not written, if they round as they go)."""
        if self.slip is not None and self.slip[0] == name:
            value = alt[self.slip[1]]
        vector = isinstance(value, list)
        shown = self.names.get(name, name)
        write = self.written is None or name in self.written
        if vector:
            used = [self.rounded(v) if write or self.rounds else v for v in value]
        else:
            used = self.rounded(value) if write or self.rounds else value
        if write:
            if self.slip is not None and self.slip[0] == name:
                self.slip_line = len(self.lines) + 1
            if vector:
                text = "[" + ", ".join(self.text(v) for v in value) + "]"
            else:
                text = self.text(value)
            if how and self.working:
                text = f"{how} = {text}"
            self.lines.append(f"{shown} = {text}")
        return used


# ----------------------------------------------------------------------------- the models

def sigmoid_neuron(s: Student):
    w0, x0, w1, x1, w2 = mpf(2), mpf(-1), mpf(-3), mpf(-2), mpf(-3)
    f1 = s("f1", w0 * x0)
    f2 = s("f2", w1 * x1)
    f3 = s("f3", f1 + f2)
    f4 = s("f4", f3 + w2)
    f5 = s("f5", -f4)
    f6 = s("f6", mpmath.exp(f5), {"exp-sign": mpmath.exp(-f5)}, how="e^{-1}")
    f7 = s("f7", f6 + 1)
    s("f8", 1 / f7)
    g7 = s("∂f/∂f7", -1 / f7 ** 2, {"sign": 1 / f7 ** 2})
    g6 = s("∂f/∂f6", g7)
    g5 = s("∂f/∂f5", g6 * f6, {"missing-factor": f6})
    g4 = s("∂f/∂f4", -g5)
    g3 = s("∂f/∂f3", g4)
    s("∂f/∂w2", g4)
    g1 = s("∂f/∂f1", g3)
    g2 = s("∂f/∂f2", g3)
    s("∂f/∂w0", g1 * x0, {"operation": g1 + x0})
    s("∂f/∂x0", g1 * w0, {"sign": -g1 * w0})
    s("∂f/∂w1", g2 * x1)
    s("∂f/∂x1", g2 * w1)


def sigmoid_chain(s: Student):
    x, w1, w2, w3, y = mpf(1), mpf(1) / 2, mpf(1) / 2, mpf(1) / 2, mpf(1)
    z1 = s("z1", w1 * x)
    a1 = s("a1", sig(z1), {"activation": z1})
    z2 = s("z2", a1 * w2)
    a2 = s("a2", sig(z2), {"activation": z2})
    z3 = s("z3", a2 * w3)
    a3 = s("a3", sig(z3))
    s("L", (a3 - y) ** 2 / 2, {"factor-2": (a3 - y) ** 2})
    ga3 = s("∂L/∂a3", a3 - y)
    gz3 = s("∂L/∂z3", ga3 * a3 * (1 - a3), {"sigmoid-derivative": ga3 * a3, "missing-factor": a3 * (1 - a3)})
    ga2 = s("∂L/∂a2", gz3 * w3)
    gz2 = s("∂L/∂z2", ga2 * a2 * (1 - a2), {"sigmoid-derivative": ga2 * a2})
    ga1 = s("∂L/∂a1", gz2 * w2)
    gz1 = s("∂L/∂z1", ga1 * a1 * (1 - a1))
    s("∂L/∂w3", gz3 * a2)
    s("∂L/∂w2", gz2 * a1)
    s("∂L/∂w1", gz1 * x)
    s("∂L/∂x", gz1 * w1)


def graph_mul_add(s: Student):
    x, y, z = mpf(-2), mpf(5), mpf(-4)
    q = s("q", y * z, {"operation": y + z}, how="y·z")
    s("f", x + q, how="x + q")
    s("∂f/∂x", mpf(1))
    s("∂f/∂y", z, {"sign": -z})
    s("∂f/∂z", y)


def max_gate(s: Student):
    x, y, z, w = mpf(3), mpf(-4), mpf(2), mpf(-1)
    f1 = s("f1", x * y)
    f2 = s("f2", max(z, w))
    f3 = s("f3", f1 + f2)
    s("f4", 2 * f3)
    g3 = s("∂f/∂f3", mpf(2))
    g1 = s("∂f/∂f1", g3)
    g2 = s("∂f/∂f2", g3)
    s("∂f/∂x", g1 * y, {"sign": -g1 * y})
    s("∂f/∂y", g1 * x)
    s("∂f/∂z", g2)
    s("∂f/∂w", 0 * g2)


def matvec(m, v):
    return [mpmath.fsum(a * b for a, b in zip(row, v)) for row in m]


def transpose(m):
    return [list(r) for r in zip(*m)]


def rnn(s: Student):
    W_xh = [[mpf(1) / 2, mpf(-3) / 10], [mpf(4) / 5, mpf(1) / 5], [mpf(1) / 10, mpf(2) / 5]]
    W_hh = [[mpf(1) / 10, mpf(2) / 5, 0], [mpf(-1) / 5, mpf(3) / 10, mpf(1) / 5], [mpf(1) / 20, mpf(-1) / 10, mpf(1) / 5]]
    W_hy = [[mpf(1), mpf(-1), mpf(1) / 2], [mpf(1) / 2, mpf(1) / 2, mpf(-1) / 2]]
    x1, x2 = [mpf(1), mpf(2)], [mpf(-1), mpf(1)]
    v1 = s("v1", matvec(W_xh, x1))
    h1 = s("h1", [mpmath.tanh(v) for v in v1], {"activation": v1})
    s("y1", matvec(W_hy, h1))
    u2 = s("u2", matvec(W_hh, h1))
    v2 = s("v2", matvec(W_xh, x2))
    z2 = s("z2", [a + b for a, b in zip(u2, v2)])
    h2 = s("h2", [mpmath.tanh(v) for v in z2])
    s("y2", matvec(W_hy, h2))
    gh2 = s("∂L/∂h2", matvec(transpose(W_hy), [mpf(1), mpf(1)]))
    gz2 = s("∂L/∂z2", [g * (1 - h ** 2) for g, h in zip(gh2, h2)], {"derivative-left-out": gh2})
    gh1 = s("∂L/∂h1", [a + b for a, b in zip(matvec(transpose(W_hh), gz2), matvec(transpose(W_hy), [1, 1]))])
    gz1 = s("∂L/∂z1", [g * (1 - h ** 2) for g, h in zip(gh1, h1)])
    s("∂L/∂h0", matvec(transpose(W_hh), gz1), {"transposed-factor": matvec(W_hh, gz1)})


def self_attention(s: Student):
    Q = [[mpf("0.212"), mpf("0.04"), mpf("0.63"), mpf("0.36")], [mpf("0.1"), mpf("0.14"), mpf("0.86"), mpf("0.77")]]
    K = [[mpf("0.31"), mpf("0.84"), mpf("0.963"), mpf("0.57")], [mpf("0.45"), mpf("0.94"), mpf("0.73"), mpf("0.58")]]
    V = [[mpf("0.36"), mpf("0.83"), mpf("0.1"), mpf("0.35")], [mpf("0.31"), mpf("0.36"), mpf("0.19"), mpf("0.72")]]
    S = [[None, None], [None, None]]
    for i in range(2):
        for j in range(2):
            S[i][j] = s(f"S_{i + 1}_{j + 1}", mpmath.fsum(Q[i][k] * K[j][k] for k in range(4)))
    A = [[None, None], [None, None]]
    for i in range(2):
        for j in range(2):
            A[i][j] = s(f"A_{i + 1}_{j + 1}", S[i][j] / 2, {"scale": S[i][j]})
    P = [[None, None], [None, None]]
    for i in range(2):
        e = [mpmath.exp(a) for a in A[i]]
        f = [mpmath.exp(-a) for a in A[i]]
        for j in range(2):
            P[i][j] = s(f"P_{i + 1}_{j + 1}", e[j] / sum(e), {"exp-sign": f[j] / sum(f)})
    for i in range(2):
        for j in range(4):
            s(f"Z_{i + 1}_{j + 1}", P[i][0] * V[0][j] + P[i][1] * V[1][j])


def autoencoder(s: Student):
    x, w_e, w_d = [mpf(2), mpf(0)], [mpf(1) / 2, mpf(-1)], [mpf(1), mpf(1) / 2]
    h = s("h", w_e[0] * x[0] + w_e[1] * x[1])
    xhat = s("xhat", [w_d[0] * h, w_d[1] * h])
    s("L", ((xhat[0] - x[0]) ** 2 + (xhat[1] - x[1]) ** 2) / 2,
      {"factor-2": (xhat[0] - x[0]) ** 2 + (xhat[1] - x[1]) ** 2})
    g = s("∂L/∂xhat", [xhat[0] - x[0], xhat[1] - x[1]])
    gh = s("∂L/∂h", g[0] * w_d[0] + g[1] * w_d[1], {"sign": -(g[0] * w_d[0] + g[1] * w_d[1])})
    s("∂L/∂w_d", [g[0] * h, g[1] * h])
    s("∂L/∂w_e", [gh * x[0], gh * x[1]])


def conv2d(s: Student):
    X = [[3, 0, 1, 2, 7, 4], [1, 5, 8, 9, 3, 1], [2, 7, 2, 5, 1, 3], [0, 1, 3, 1, 7, 8], [4, 2, 1, 6, 2, 8],
         [2, 4, 5, 2, 3, 9]]
    Kk = [[1, 0, -1], [1, 0, -1], [1, 0, -1]]

    def window(i, j):
        return mpf(sum(Kk[a][b] * X[i + a][j + b] for a in range(3) for b in range(3)))
    for i in range(4):
        for j in range(4):
            off = window(i, j + 1) if j + 1 < 4 else window(i, j - 1)
            s(f"O_{i + 1}_{j + 1}", window(i, j), {"window": off})


def pooling(s: Student):
    X = [[-5, -4, 0, 8], [-10, -2, 2, 3], [0, -2, -4, -7], [-3, -2, -3, -16]]
    for i in range(2):
        for j in range(2):
            s(f"Y_{i + 1}_{j + 1}", mpf(max(X[2 * i + a][2 * j + b] for a in range(2) for b in range(2))))
    for i in range(4):
        for j in range(4):
            window = [X[2 * (i // 2) + a][2 * (j // 2) + b] for a in range(2) for b in range(2)]
            top = max(window)
            first = next(k for k, v in enumerate(window) if v == top)
            mine = (i % 2) * 2 + (j % 2)
            s(f"∂L/∂X[{i + 1},{j + 1}]", mpf(1 if mine == first else 0), {"pool-cell": mpf(1)})


MODELS = {"sigmoid-neuron": sigmoid_neuron, "sigmoid-chain": sigmoid_chain, "graph-mul-add": graph_mul_add,
          "max-gate": max_gate, "rnn": rnn, "self-attention": self_attention, "autoencoder": autoencoder,
          "conv2d": conv2d, "pooling": pooling}

#: Name spellings a student uses (LaTeX, ASCII, aliases), by notation.
NOTATIONS = {
    "latex": lambda n: "$" + _latex(n) + "$",
    "ascii": lambda n: n.replace("∂", "d"),
    "hat": lambda n: n.replace("xhat", "x̂"),
    "assign": lambda n: n,
}


def _latex(name: str) -> str:
    if name.startswith("∂") and "/" in name:
        top, bottom = name[1:].split("/∂")
        return r"\frac{\partial " + top + r"}{\partial " + bottom.replace("_", "_") + "}"
    return name


# ----------------------------------------------------------------------------- the sets

def sets():
    """(id, model, digits, written, slip, notation, rounds, working, encoding)."""
    out = []

    def add(model, digits, slip=None, written=None, notation="plain", rounds=True, working=False,
            encoding="utf-8", tag=""):
        sid = f"{model}-{digits}d" + (f"-{slip[0]}-{slip[1]}" if slip else "-right") + (f"-{tag}" if tag else "")
        sid = sid.replace("∂", "d").replace("/", "_").replace("[", "").replace("]", "").replace(",", "")
        out.append(dict(id=sid, model=model, digits=digits, written=written, slip=slip, notation=notation,
                        rounds=rounds, working=working, encoding=encoding))

    for model in MODELS:
        for d in (2, 3, 4, 6):
            add(model, d)
    add("sigmoid-neuron", 4, written=["f6", "f8", "∂f/∂f6", "∂f/∂f5", "∂f/∂w0", "∂f/∂x0"], tag="few")
    add("sigmoid-neuron", 6, written=["∂f/∂f6", "∂f/∂f5", "∂f/∂w0"], tag="few")
    add("sigmoid-neuron", 3, written=["f8", "∂f/∂x0", "∂f/∂x1"], rounds=False, tag="results")
    add("sigmoid-chain", 3, written=["a3", "∂L/∂z3", "∂L/∂z1", "∂L/∂w1"], tag="few")
    add("rnn", 4, written=["h1", "h2", "∂L/∂z2", "∂L/∂h0"], tag="few")
    add("self-attention", 4, written=["S_1_1", "A_1_1", "P_1_1", "Z_1_1"], tag="few")
    add("sigmoid-neuron", 4, notation="latex", tag="latex")
    add("sigmoid-neuron", 4, notation="ascii", working=True, tag="working")
    add("graph-mul-add", 3, notation="assign", working=True, tag="working")
    add("autoencoder", 3, notation="hat", tag="hat")
    add("sigmoid-neuron", 4, encoding="utf-16", tag="utf16")
    add("sigmoid-neuron", 4, encoding="utf-8-sig", tag="bom")
    add("sigmoid-chain", 4, encoding="latin-1", notation="ascii", tag="latin1")
    slips = [("sigmoid-neuron", ("f6", "exp-sign")), ("sigmoid-neuron", ("∂f/∂f7", "sign")),
             ("sigmoid-neuron", ("∂f/∂f5", "missing-factor")), ("sigmoid-neuron", ("∂f/∂x0", "sign")),
             ("sigmoid-neuron", ("∂f/∂w0", "operation")), ("sigmoid-chain", ("a1", "activation")),
             ("sigmoid-chain", ("L", "factor-2")), ("sigmoid-chain", ("∂L/∂z3", "sigmoid-derivative")),
             ("sigmoid-chain", ("∂L/∂z2", "sigmoid-derivative")), ("sigmoid-chain", ("∂L/∂z3", "missing-factor")),
             ("graph-mul-add", ("q", "operation")), ("graph-mul-add", ("∂f/∂y", "sign")),
             ("max-gate", ("∂f/∂x", "sign")), ("rnn", ("h1", "activation")),
             ("rnn", ("∂L/∂z2", "derivative-left-out")), ("rnn", ("∂L/∂h0", "transposed-factor")),
             ("self-attention", ("A_1_1", "scale")), ("self-attention", ("P_1_1", "exp-sign")),
             ("autoencoder", ("L", "factor-2")), ("autoencoder", ("∂L/∂h", "sign")),
             ("conv2d", ("O_2_3", "window")), ("pooling", ("∂L/∂X[1,1]", "pool-cell"))]
    for model, slip in slips:
        for d in ((3, 4) if model not in ("conv2d", "pooling") else (2,)):
            add(model, d, slip=slip)
    return out


def write_set(spec) -> tuple[str, int | None]:
    names = {}
    student = Student(spec["digits"], spec["written"], spec["slip"], names, spec["rounds"], spec["working"])
    notation = spec["notation"]
    probe = Student(spec["digits"])
    MODELS[spec["model"]](probe)
    for line in probe.lines:
        name = line.split(" = ")[0]
        if notation in NOTATIONS:
            names[name] = NOTATIONS[notation](name)
    MODELS[spec["model"]](student)
    sep = " := " if notation == "assign" else " = "
    lines = [f"# {spec['model']}: {spec['id']} (derived by tests/check_sets/derive.py with mpmath)"]
    if spec["encoding"] != "utf-8":
        lines[0] += ", Lösung, Übung 3"  # a character that is not ASCII, in the file's encoding
    lines += [ln.replace(" = ", sep, 1) for ln in student.lines]
    return "\n".join(lines) + "\n", (student.slip_line + 1 if student.slip_line else None)


def main() -> int:
    SETS.mkdir(exist_ok=True)
    manifest = []
    for spec in sets():
        text, slip_line = write_set(spec)
        data = text.encode(spec["encoding"])
        (SETS / f"{spec['id']}.txt").write_bytes(data)
        manifest.append({"id": spec["id"], "model": spec["model"], "digits": spec["digits"],
                         "slip": None if spec["slip"] is None else {"name": spec["slip"][0], "kind": spec["slip"][1],
                                                                    "line": slip_line},
                         "encoding": spec["encoding"], "notation": spec["notation"]})
    (HERE / "sets.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(manifest)} sets")
    return 0


if __name__ == "__main__":
    sys.exit(main())
