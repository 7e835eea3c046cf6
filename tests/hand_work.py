"""Simulated hand work, written here independently of symderiv: a student who stages a model's
computation as the key does and rounds every intermediate to a few significant digits (the
sigmoid neuron gate by gate, or with the σ(1−σ) shortcut; an RNN's backpropagation through time;
self-attention's softmax and its backward pass), and the wrong answers a student gives (a wrong
sign, a forgotten factor, a slipped digit). Used by tests/test_tolerance.py (the acceptance rates
asserted) and benchmarks/exercises.py (the rates printed, before and after)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from fractions import Fraction

import numpy as np


def rounder(digits: int) -> Callable[[float], float]:
    """Round to ``digits`` significant digits, as a student writes a number down."""
    def r(x: float) -> float:
        return 0.0 if x == 0 else float(f"{x:.{digits - 1}e}")
    return r


def _m(rows: Sequence[Sequence]) -> np.ndarray:
    return np.array([[float(Fraction(str(v))) for v in row] for row in rows])


def _round(a: np.ndarray, r: Callable[[float], float]) -> np.ndarray:
    return np.vectorize(r, otypes=[float])(a)


def _mul(a: np.ndarray, b: np.ndarray, r: Callable[[float], float]) -> np.ndarray:
    """A matrix product by hand: each product written down rounded, then the sum rounded."""
    out = np.zeros((a.shape[0], b.shape[1]))
    for i in range(a.shape[0]):
        for j in range(b.shape[1]):
            out[i, j] = r(sum(r(a[i, k] * b[k, j]) for k in range(a.shape[1])))
    return out


# ----- sigmoid neuron ---------------------------------------------------------------------------
def sigmoid_neuron_staged(p: dict, digits: int = 4) -> dict[str, float]:
    """f8 = σ(w0·x0 + w1·x1 + w2) gate by gate (f1 … f8), and back through each gate's local
    derivative (−1/f7², e^f5, −1), every number rounded."""
    r = rounder(digits)
    w0, x0, w1, x1, w2 = (float(Fraction(str(p[k]))) for k in ("w0", "x0", "w1", "x1", "w2"))
    f4 = w0 * x0 + w1 * x1 + w2  # integers: exact
    f6 = r(math.exp(-f4))
    f7 = r(1 + f6)
    f8 = r(1 / f7)
    d7 = r(-1 / r(f7 * f7))
    d5 = r(d7 * f6)
    d4 = -d5
    return {"f8": f8, "df_dw0": r(d4 * x0), "df_dx0": r(d4 * w0), "df_dw1": r(d4 * x1), "df_dx1": r(d4 * w1),
            "df_dw2": d4}


def sigmoid_neuron_shortcut(p: dict, digits: int = 4) -> dict[str, float]:
    """The σ(1−σ) shortcut: s = σ(z) rounded, then s(1 − s) rounded, times each input."""
    r = rounder(digits)
    w0, x0, w1, x1, w2 = (float(Fraction(str(p[k]))) for k in ("w0", "x0", "w1", "x1", "w2"))
    z = w0 * x0 + w1 * x1 + w2
    s = r(1 / r(1 + r(math.exp(-z))))
    ds = r(s * r(1 - s))
    return {"f8": s, "df_dw0": r(ds * x0), "df_dx0": r(ds * w0), "df_dw1": r(ds * x1), "df_dx1": r(ds * w1),
            "df_dw2": ds}


# ----- RNN, backpropagation through time ----------------------------------------------------------
def rnn_bptt(p: dict, digits: int = 4) -> dict[str, float]:
    """h_t = tanh(W_hh·h_(t−1) + W_xh·x_t), y_t = W_hy·h_t, L = Σ upstream_t·y_t; backward
    through time with 1 − h² for tanh; every number rounded."""
    r = rounder(digits)
    Wxh, Whh, Why = _m(p["W_xh"]), _m(p["W_hh"]), _m(p["W_hy"])
    h = _m([[v] for v in p["h0"]])
    xs = [_m([[v] for v in x]) for x in p["xs"]]
    up = _m(p["upstream"]) if p.get("upstream") is not None else np.ones((len(xs), Why.shape[0]))
    hs, out = [h], {}
    for t, x in enumerate(xs, 1):
        z = _round(_mul(Whh, hs[-1], r) + _mul(Wxh, x, r), r)
        h = _round(np.tanh(z), r)
        y = _mul(Why, h, r)
        hs.append(h)
        out.update({f"y{t}_{i + 1}": y[i, 0] for i in range(y.shape[0])})
    dWhy = np.zeros_like(Why)
    dWhh = np.zeros_like(Whh)
    dh_next = np.zeros_like(hs[0])
    for t in range(len(xs), 0, -1):
        dy = up[t - 1].reshape(-1, 1)
        dWhy = _round(dWhy + _mul(dy, hs[t].T, r), r)
        dh = _round(_mul(Why.T, dy, r) + dh_next, r)
        dz = _round(dh * _round(1 - _round(hs[t] * hs[t], r), r), r)
        dWhh = _round(dWhh + _mul(dz, hs[t - 1].T, r), r)
        dh_next = _mul(Whh.T, dz, r)
    for name, W in (("W_hh", dWhh), ("W_hy", dWhy)):
        out.update({f"dL_d{name}_{i + 1}_{j + 1}": W[i, j] for i in range(W.shape[0]) for j in range(W.shape[1])})
    return out


# ----- self-attention -------------------------------------------------------------------------------
def self_attention(p: dict, digits: int = 4) -> dict[str, float]:
    """Z = softmax(Q·Kᵀ/√d_k)·V row by row, and ∂L/∂Q through the softmax's Jacobian; every
    number rounded."""
    r = rounder(digits)
    Q, K, V = _m(p["Q"]), _m(p["K"]), _m(p["V"])
    up = _m(p["upstream"]) if p.get("upstream") is not None else np.ones((Q.shape[0], V.shape[1]))
    scale = r(1 / math.sqrt(Q.shape[1]))
    A = _round(_mul(Q, K.T, r) * scale, r)
    E = _round(np.exp(A), r)
    P = _round(E / _round(E.sum(axis=1, keepdims=True), r), r)
    Z = _mul(P, V, r)
    dP = _mul(up, V.T, r)
    inner = _round((_round(P * dP, r)).sum(axis=1, keepdims=True), r)
    dA = _round(P * _round(dP - inner, r), r)
    dQ = _mul(_round(dA * scale, r), K, r)
    out = {f"Z_{i + 1}_{j + 1}": Z[i, j] for i in range(Z.shape[0]) for j in range(Z.shape[1])}
    out.update({f"dL_dQ_{i + 1}_{j + 1}": dQ[i, j] for i in range(dQ.shape[0]) for j in range(dQ.shape[1])})
    return out


SIMULATIONS: dict[str, dict[str, Callable[[dict, int], dict[str, float]]]] = {
    "sigmoid-neuron": {"staged as the key": sigmoid_neuron_staged, "σ(1−σ) shortcut": sigmoid_neuron_shortcut},
    "rnn": {"backpropagation through time": rnn_bptt},
    "self-attention": {"softmax and its Jacobian": self_attention},
}


def wrong_answers(value: float, digits: int) -> Iterable[float]:
    """Answers a student gets wrong, as written to ``digits`` digits: the sign flipped, a factor
    of 2 lost or doubled, a tenth off (a slipped digit); a zero has only its slips."""
    r = rounder(digits)
    if value == 0:
        return [r(10.0 ** -digits)]
    return [r(-value), r(value / 2), r(value * 2), r(value * 1.1), r(value * 0.9)]


def old_tolerance(value: float, digits: int) -> float:
    """The tolerance before issue 26: one unit in the last digit shown."""
    if value == 0:
        return 0.0
    return 10.0 ** (math.floor(math.log10(abs(float(f"{value:.{digits - 1}e}")))) - digits + 1)
