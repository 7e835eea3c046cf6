"""Your PyTorch model, worked by hand: :func:`from_torch` traces an ``nn.Module`` with torch.fx and
builds its forward computation from the engine's gates, so the worked solution has every forward
value, local derivative and gradient exact, one section per layer, checked against autograd.

torch stays optional: it is imported when :func:`from_torch` is called.

Why torch.fx (``symbolic_trace``) and not torch.export: fx keeps the model's own vocabulary, one
node per ``nn.Linear``, ``torch.tanh`` or ``.sum()`` with the module's qualified name, which is
what a worked solution titles its sections with and what a refusal points at; it is pure Python,
fast (milliseconds) and its refusal of data-dependent control flow is one clear sentence.
torch.export lowers the model to ATen operators (``addmm``, ``convolution``, ``_softmax``), loses
the layer boundaries a person reads, and takes seconds through TorchDynamo.
"""

from __future__ import annotations

import copy
import functools
import math
import os
import re
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import mpmath
import sympy as sp

from .. import limits
from ..errors import InternalError, TorchError
from ..engine import backward
from ..graph import Graph, Node
from ..notation import Hadamard, infix, prime, written
from ..printing import Name, Shown
from ..record import Remark, Section, Solution
from .vocabulary import LOSSES, REFUSED, SUPPORTED, Op, user_spelling
from ..tensor import (MATRIX_GATES, MatrixGate, Tensor, add_matrix_gate, elementwise, make_tensor, matmul, pad,
                     pool, softmax, solution)

INSTALL = "from_torch needs PyTorch: pip install 'symderiv[torch]'"

# ----- exact values ----------------------------------------------------------------------------


def shortest_decimal(x: float, precision: int, min_exponent: int) -> Fraction:
    """The shortest decimal that rounds to ``x`` in a binary format of ``precision`` significand
    bits whose smallest normal number is 2**``min_exponent`` (float32: 24 and -126; float64: 53
    and -1022), as a Fraction; among decimals of that length, the one nearest ``x``."""
    v = Fraction(x)
    if v == 0:
        return Fraction(0)
    a = abs(v)
    e = a.numerator.bit_length() - a.denominator.bit_length()
    if Fraction(2) ** e > a:
        e -= 1
    ulp = Fraction(2) ** (max(e, min_exponent) - precision + 1)
    below = ulp / 2 if a == Fraction(2) ** e and e > min_exponent else ulp
    low, high = a - below / 2, a + ulp / 2
    even = (a / ulp).numerator % 2 == 0  # round half to even: the interval's ends round to a
    for digits in range(1, 40):
        mantissa, _, exponent = f"{float(a):.{digits - 1}e}".partition("e")
        n, scale = int(mantissa.replace(".", "")), Fraction(10) ** (int(exponent) - digits + 1)
        inside = [d for d in ((n - 1) * scale, n * scale, (n + 1) * scale)
                  if (low <= d <= high if even else low < d < high)]
        if inside:
            best = min(inside, key=lambda d: abs(d - a))
            return best if v > 0 else -best
    raise InternalError(f"no decimal rounds to {x!r}")  # pragma: no cover (17 digits always do)


def python_number(x: float | int) -> sp.Expr:
    """A Python number of the model's code, exact: an int as itself, a float as the shortest decimal
    that rounds to it, unless it is the float of the square root of a simple fraction
    (``2 ** -0.5`` is √2/2, ``3 ** 0.5`` is √3, not 16-digit decimals)."""
    if isinstance(x, bool) or isinstance(x, int):
        return sp.Integer(int(x))
    if not math.isfinite(x):
        raise TorchError(f"from_torch: the number {x!r} in the model's code is not finite")
    decimal = shortest_decimal(x, 53, -1022)
    if decimal.denominator > 1000 and x != 0:
        square = Fraction(x * x).limit_denominator(1000)
        root = sp.sqrt(sp.Rational(square.numerator, square.denominator)) * (1 if x > 0 else -1)
        if float(root) == x:
            return root
    return sp.Rational(decimal.numerator, decimal.denominator)


def _entry_labels(i: int, j: int, rows: int, cols: int) -> tuple[str, str]:
    """Entry (i, j)'s node-name suffix (``2_3``) and LaTeX index (``23``; ``2,3`` past 9)."""
    if cols == 1:
        return f"{i + 1}", f"{i + 1}"
    return f"{i + 1}_{j + 1}", f"{i + 1}{j + 1}" if rows < 10 and cols < 10 else f"{i + 1},{j + 1}"


def _exact_entries(t: Any, what: str, exact_binary: bool) -> list:
    """A tensor's entries as exact SymPy numbers (nested lists, torch's shape)."""
    import torch
    if t.dtype == torch.bool or t.is_complex():
        raise TorchError(f"from_torch: {what}: a {t.dtype} tensor; expected real numbers")
    values = t.detach().cpu()
    if t.is_floating_point():
        if not bool(torch.isfinite(values).all()):
            raise TorchError(f"from_torch: {what} has an entry that is not finite")
        info = torch.finfo(t.dtype)
        precision = round(1 - math.log2(info.eps))
        min_exponent = round(math.log2(info.tiny))

        def read(x: float) -> sp.Rational:
            f = Fraction(x) if exact_binary else shortest_decimal(x, precision, min_exponent)
            return sp.Rational(f.numerator, f.denominator)
    else:
        def read(x: int) -> sp.Rational:
            return sp.Integer(x)

    def walk(v: Any) -> Any:
        return [walk(x) for x in v] if isinstance(v, list) else read(v)
    return walk(values.tolist())


# ----- names -----------------------------------------------------------------------------------

_LATEX_SPECIAL = {"\\": r"\setminus{}", "{": r"\{", "}": r"\}", "_": r"\_", "#": r"\#", "$": r"\$",
                  "%": r"\%", "&": r"\&", "^": r"\hat{}", "~": r"\sim{}", "<": r"<{}", ">": r">{}"}


def _latex_text(name: str) -> str:
    """A name from the user's model (a ModuleDict key, an add_module name) as literal text inside
    ``\\mathrm{}``: every LaTeX special character escaped, so a name is never read as a command."""
    return "".join(_LATEX_SPECIAL.get(c, c) for c in name)


def _latex_id(name: str) -> str:
    """``h0`` -> ``h_{0}``, ``tanh_1`` -> ``\\mathrm{tanh}_{1}``, ``fc1`` -> ``\\mathrm{fc1}``."""
    m = re.fullmatch(r"([A-Za-z])(\d+)", name) or re.fullmatch(r"([A-Za-z]+)_(\d+)", name)
    if m:
        head = m.group(1) if len(m.group(1)) == 1 else rf"\mathrm{{{m.group(1)}}}"
        return f"{head}_{{{m.group(2)}}}"
    if len(name) == 1 and name.isalpha():
        return name
    return r"\mathrm{" + _latex_text(name) + "}"


def _param_latex(qualname: str) -> str:
    """``0.weight`` -> ``W^{[0]}``, ``fc1.bias`` -> ``b^{[\\mathrm{fc1}]}``; ``Wq`` -> ``\\mathrm{Wq}``."""
    path, _, leaf = qualname.rpartition(".")
    head = {"weight": "W", "bias": "b"}.get(leaf, _latex_id(leaf))
    if not path:
        return head
    where = path if path.isdigit() else r"\mathrm{" + _latex_text(path) + "}"
    return f"{head}^{{[{where}]}}"


# ----- the matrix gates of PyTorch layers ----------------------------------------------------

Plus = infix("Plus", "+", "+")
Minus = infix("Minus", "-", "-", 50)
Over = infix("Over", r"\oslash", "⊘", 50)
Divided = infix("Divided", "/", "/", 50)
PlusBias = infix("PlusBias", "+", "+")
Corr = infix("Corr", r"\star", "⋆")
conv_full = written("conv_full", r"\mathrm{conv}_{\mathrm{full}}", "conv_full")
sum_of = written("sum_of", r"\mathrm{sum}", "sum")
broadcast = written("broadcast", r"\mathrm{broadcast}", "broadcast")
reshape_back = written("reshape_back", r"\mathrm{reshape}^{-1}", "reshape⁻¹")
sum_to = written("sum_to", r"\mathrm{sum\_to}", "sum_to")
negated = written("negated", "-", "-")


def _shape_symbol(shape: tuple[int, ...]) -> sp.Symbol:
    return sp.Symbol("×".join(map(str, shape)) or "()")


def _ones(rows: int) -> sp.MatrixSymbol:
    return sp.MatrixSymbol("1", rows, 1)


def _linear_formula(t: Tensor) -> sp.Basic:
    """W·x + b (a column), X·Wᵀ + bᵀ (rows: torch's y = x·Aᵀ + b; 𝟙·bᵀ for several rows)."""
    ps = t.parents
    if t.extra["rows"]:
        prod = sp.MatMul(ps[0].symbol, sp.Transpose(ps[1].symbol), evaluate=False)
        if len(ps) == 2:
            return prod
        bias = sp.Transpose(ps[2].symbol)
        if ps[0].shape[0] > 1:
            bias = sp.MatMul(_ones(ps[0].shape[0]), bias, evaluate=False)
        return Plus(prod, bias)
    prod = sp.MatMul(ps[0].symbol, ps[1].symbol, evaluate=False)
    return prod if len(ps) == 2 else Plus(prod, ps[2].symbol)


def _linear_rule(c: Tensor, k: int, d: sp.Basic) -> sp.Basic:
    """Column y = W·x + b: ∂L/∂W = δ·xᵀ, ∂L/∂x = Wᵀ·δ, ∂L/∂b = δ. Rows Y = X·Wᵀ + 𝟙·bᵀ:
    ∂L/∂X = δ·W, ∂L/∂W = δᵀ·X, ∂L/∂b = δᵀ·𝟙."""
    ps = c.parents
    if c.extra["rows"]:
        if k == 0:
            return sp.MatMul(d, ps[1].symbol, evaluate=False)
        if k == 1:
            return sp.MatMul(sp.Transpose(d), ps[0].symbol, evaluate=False)
        rows = ps[0].shape[0]
        return sp.Transpose(d) if rows == 1 else sp.MatMul(sp.Transpose(d), _ones(rows), evaluate=False)
    if k == 0:
        return sp.MatMul(d, sp.Transpose(ps[1].symbol), evaluate=False)
    if k == 1:
        return sp.MatMul(sp.Transpose(ps[0].symbol), d, evaluate=False)
    return d


def _conv_rule(c: Tensor, k: int, d: sp.Basic) -> sp.Basic:
    """O = Σ_c X_c ⋆ K_c + b: ∂L/∂X_c = conv_full(δ, K_c), ∂L/∂K_c = X_c ⋆ δ, ∂L/∂b = sum(δ)."""
    n = c.extra["channels"]
    if k < n:
        return conv_full(d, c.parents[n + k].symbol)
    if k < 2 * n:
        return Corr(c.parents[k - n].symbol, d)
    return sum_of(d)


def _arith_rule(c: Tensor, k: int, d: sp.Basic) -> sp.Basic:
    """The rule of a ± b, a ⊙ b, a ⊘ b for the k-th tensor operand, summed back to its shape
    when it was broadcast."""
    op, operands, slots = c.extra["op"], c.extra["operands"], c.extra["slots"]
    slot = slots[k]
    a, b = operands
    other = operands[1 - slot]
    if op == "add":
        rule = d
    elif op == "sub":
        rule = d if slot == 0 else sp.MatMul(-1, d, evaluate=False)
    elif op == "mul":
        rule = Hadamard(d, other) if isinstance(other, sp.MatrixExpr) else sp.MatMul(other, d, evaluate=False)
    elif op in ("pow", "max", "min"):  # δ ⊙ the entries' local derivative (the engine's, entry by entry)
        rule = Hadamard(d, _partial(op, slot)(a, b))
    elif slot == 0:  # div, the numerator
        rule = Over(d, b) if isinstance(b, sp.MatrixExpr) else Divided(d, b)
    else:  # div, the denominator: −δ ⊙ a ⊘ (b ⊙ b)
        rule = negated(Over(Hadamard(d, a), Hadamard(b, b)))
    if c.parents[k].shape != c.shape:
        rule = sum_to(rule, _shape_symbol(c.parents[k].shape))
    return rule


_ARITH_GLYPH = {"add": "+", "sub": "−", "mul": "⊙", "div": "⊘", "pow": "^", "max": "max", "min": "min"}
Power = infix("Power", "^", "^", 60)
MaxEach = written("MaxEach", r"\max", "max")
MinEach = written("MinEach", r"\min", "min")


@functools.lru_cache(maxsize=None)
def _partial(op: str, slot: int) -> type:
    """∂op/∂(its first or second input), written entry by entry (its values are the engine's)."""
    which = "ab"[slot]
    return written(f"d_{op}_d{which}", rf"\partial_{{{which}}}\mathrm{{{op}}}", f"∂{op}/∂{which}")


@functools.lru_cache(maxsize=None)
def _backward_of(what: str) -> type:
    """How the gradient of an operation that moves, picks or reduces entries goes back, written as
    the operation's transpose applied to δ (``viewᵀ(δ)``, ``[…]ᵀ(δ)``): each entry's gradient is
    the engine's sum over the places it went to."""
    ident = re.sub(r"\W", "_", what)
    return written(f"back_{ident}", rf"\mathrm{{{_latex_text(what)}}}^{{\top}}", f"{what}ᵀ")


@functools.lru_cache(maxsize=None)
def _arrange_form(what: str) -> type:
    ident = re.sub(r"\W", "_", what)
    return written(f"arrange_{ident}", rf"\mathrm{{{_latex_text(what)}}}", what)


@functools.lru_cache(maxsize=None)
def _map_form(fn: str) -> type:
    """An element-wise function ``fn`` as written on a matrix (``sqrt(X)``)."""
    return written(f"map_{fn}", rf"\mathrm{{{fn}}}", fn)

for _row in [
    MatrixGate(name="torch_linear", rule=_linear_rule,
               glyph=lambda t: ("x·Wᵀ" if t.extra["rows"] else "W·x") + (" + b" if len(t.parents) == 3 else ""),
               written_out=lambda t: (("linear", t.parents[0].shape, t.parents[1].shape),
                                      " entry by entry: row · column (+ bias)", t.entries)),
    MatrixGate(name="torch_conv", rule=_conv_rule, glyph="⋆ + b",
               written_out=lambda t: (("conv", t.extra["layer"]), ": the element-wise products of the kernels with "
                                      "each window, summed (+ bias); the first two positions written out",
                                      t.entries[:2])),
    MatrixGate(name="torch_arith", rule=_arith_rule, glyph=lambda t: _ARITH_GLYPH[t.extra["op"]]),
    MatrixGate(name="torch_neg", rule=lambda c, k, d: sp.MatMul(-1, d, evaluate=False), glyph="−"),
    MatrixGate(name="torch_arrange", rule=lambda c, k, d: _backward_of(c.extra["what"])(d),
               glyph=lambda t: t.extra["what"]),
    MatrixGate(name="torch_map", rule=lambda c, k, d: Hadamard(d, prime(_map_form(c.extra["fn"]))(c.parents[0].symbol)),
               glyph=lambda t: t.extra["fn"]),
    MatrixGate(name="torch_transpose", rule=lambda c, k, d: sp.Transpose(d), glyph="ᵀ"),
    MatrixGate(name="torch_reshape", glyph="reshape",
               rule=lambda c, k, d: reshape_back(d) if len(c.parents) == 1 else reshape_back(d, k + 1)),
    MatrixGate(name="torch_sum", rule=lambda c, k, d: broadcast(d), glyph="Σ"),
    MatrixGate(name="torch_mean", glyph="mean",
               rule=lambda c, k, d: Divided(broadcast(d), sp.Integer(c.extra["count"]))),
]:
    add_matrix_gate(_row)


# ----- values: a torch shape over matrices of nodes -------------------------------------------

@dataclass
class _Value:
    """A traced tensor: its torch shape and its matrices (rank 0: 1×1, rank 1: a column, rank 2:
    a matrix, rank 3 (C, H, W) and rank 4 (1, C, H, W): one H×W map per channel).
    ``transposed``: a ``.T`` folded into the matmul that reads it."""

    shape: tuple[int, ...]
    mats: tuple[Tensor, ...]
    transposed: bool = False
    masked: frozenset = frozenset()  # flat positions filled with -inf (masked_fill): only softmax reads them

    @property
    def mat(self) -> Tensor:
        return self.mats[0]


@dataclass
class _Data:
    """A tensor known from the example alone, with no gradient: an integer input, a buffer, a mask,
    ``torch.ones`` made in ``forward``. Operations on data only are PyTorch's own; data meeting a
    traced tensor becomes named data entries (:meth:`_Interpreter.value_of`)."""

    value: Any
    name: str
    qualname: str | None = None


@dataclass
class _Pair:
    """``x.max(dim)``'s result: ``.values`` (traced) and ``.indices`` (data)."""

    values: Any
    indices: Any

    def __getitem__(self, k: int) -> Any:
        return (self.values, self.indices)[k]


def _flat(v: _Value) -> list[Node]:
    """The entries in torch's (row-major) order: channel by channel, row by row."""
    return [n for t in v.mats for n in t.entries]


def _layout(shape: tuple[int, ...]) -> list[tuple[int, int]]:
    """The matrix shapes a torch shape is laid out as."""
    if len(shape) == 0:
        return [(1, 1)]
    if len(shape) == 1:
        return [(shape[0], 1)]
    if len(shape) == 2:
        return [shape]
    return [tuple(shape[-2:])] * math.prod(shape[:-2])


# ----- what is supported ----------------------------------------------------------------------

def _resolve(path: str) -> Any:
    """The function at a dotted path (``torch.nn.functional.relu``), None where this torch lacks it."""
    import builtins
    import operator as operator_module

    import torch
    import torch.nn.functional  # noqa: F401 (torch.nn.functional as an attribute)
    head, *rest = path.split(".")
    value: Any = {"torch": torch, "operator": operator_module, "builtins": builtins}[head]
    for part in rest:
        value = getattr(value, part, None)
    return value


@functools.lru_cache(maxsize=1)
def _tables() -> tuple[dict[Any, Op], dict[str, Op], dict[str, Op], dict[Any, Op]]:
    """The vocabulary's rows by what the fx graph holds: functions (by object), methods and
    modules (by name), and the refused functions (by object)."""
    functions = {_resolve(op.key): op for op in SUPPORTED if op.kind == "function"}
    methods = {op.key: op for op in SUPPORTED if op.kind == "method"}
    modules = {op.key: op for op in SUPPORTED if op.kind == "module"}
    refused = {_resolve(op.key): op for op in REFUSED if op.kind == "function"}
    functions.pop(None, None)
    refused.pop(None, None)
    return functions, methods, modules, refused


class _Places:
    """Where each fx node is in the model's code (``model.py:12 in forward: y = x ** 2``), read
    by tracing the model once more with stack traces only when a refusal needs one."""

    def __init__(self, model: Any, torch_dir: str, example: Sequence[Any]):
        self.model, self.torch_dir, self.example = model, torch_dir, example
        self.traces: dict[str, str] | None = None

    def of(self, node: Any) -> str:
        if self.traces is None:
            from torch import fx
            graph = _trace(self.model, fx, self.torch_dir, self.example, places=True).graph
            self.traces = {n.name: n.stack_trace or "" for n in graph.nodes}
        lines = self.traces.get(node.name, "").strip().splitlines()
        for k in range(0, len(lines) - 1):  # the innermost frame of the user's code
            m = re.match(r'\s*File "([^"]+)", line (\d+), in (\S+)', lines[k])
            if m and not os.path.abspath(m.group(1)).startswith(self.torch_dir):
                code = lines[k + 1].strip()
                return f"{os.path.basename(m.group(1))}:{m.group(2)} in {m.group(3)}: {code}"
        return f"layer '{node.target}'" if node.op == "call_module" else f"fx node {node.name}"


def _refusal(what: str, node: Any, places: _Places, rewrite: str = "") -> str:
    """One refusal: what the user wrote, where, and what to write instead."""
    return f"{what} at {places.of(node)}" + (f" ({rewrite})" if rewrite else "")


def _refused(refusals: Sequence[str]) -> TorchError:
    """Every refusal of a model in one error."""
    if len(refusals) == 1:
        return TorchError(f"from_torch: not supported: {refusals[0]}; the supported operations are listed in "
                          "docs/pytorch.md")
    listed = "; ".join(f"({k}) {r}" for k, r in enumerate(refusals, 1))
    return TorchError(f"from_torch: {len(refusals)} operations are not supported: {listed}; the supported "
                      "operations are listed in docs/pytorch.md")


def _pair(value: Any) -> int | None:
    """A square size (an int, or a pair of equal ints), else None."""
    if isinstance(value, int):
        return value
    if isinstance(value, (tuple, list)) and len(value) == 2 and value[0] == value[1]:
        return int(value[0])
    return None


def _module_problem(m: Any) -> str | None:
    """What of a supported module's settings is not supported (None: all is)."""
    kind = type(m).__name__
    if kind == "Dropout" and m.training and m.p > 0:
        return "in training mode: dropout is random there; call model.eval() first"
    if kind == "Conv2d":
        if m.groups != 1 or _pair(m.dilation) != 1 or m.padding_mode != "zeros":
            return "groups, dilation and padding modes other than 1, 1 and zeros"
        if isinstance(m.padding, str) and m.padding != "valid":
            return f"padding={m.padding!r}"
        if _pair(m.stride) is None or (not isinstance(m.padding, str) and _pair(m.padding) is None) \
                or _pair(m.kernel_size) is None:
            return "unequal strides, paddings or kernel sides"
    if kind in ("MaxPool2d", "AvgPool2d"):
        if getattr(m, "ceil_mode", False) or _pair(m.padding) != 0 or _pair(m.kernel_size) is None \
                or _pair(m.stride if m.stride is not None else m.kernel_size) is None:
            return "padding, ceil_mode and unequal window sides or strides"
        if kind == "MaxPool2d" and (_pair(m.dilation) != 1 or m.return_indices):
            return "dilation and return_indices"
        if kind == "AvgPool2d" and m.divisor_override is not None:
            return "divisor_override"
    return None


#: The losses given as ``loss=`` worked by their own formula (one gate), as before the functional ones.
_OWN_LOSSES = ("MSELoss", "CrossEntropyLoss", "BCELoss")


def _loss_problem(loss: Any) -> str | None:
    kind = type(loss).__name__
    if kind not in {op.key for op in LOSSES}:
        return f"the loss {kind}"
    if loss.reduction not in ("mean", "sum", "batchmean"):
        return f"{kind}(reduction={loss.reduction!r}) (it is not a number)"
    if getattr(loss, "weight", None) is not None or getattr(loss, "pos_weight", None) is not None:
        return f"{kind} with class weights"
    return None


# ----- the solution ----------------------------------------------------------------------------

@dataclass(frozen=True)
class TorchSolution(Solution):
    """The worked solution of a PyTorch model: a :class:`~symderiv.Solution` whose gradients can be
    checked against PyTorch's autograd (:meth:`check_against_autograd`, done once by
    :func:`from_torch`)."""

    autograd: Callable[[], dict[str, Any]] | None = field(default=None, compare=False, repr=False)
    worked: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    by_node: Callable[[], dict[str, tuple[tuple[int, ...], list[float]]]] | None = \
        field(default=None, compare=False, repr=False)

    def node_gradients(self) -> dict[str, tuple[tuple[int, ...], list[float]]]:
        """∂L/∂(each tensor the forward computes), by its torch.fx node name (``matmul``,
        ``getitem_3``): its torch shape and its entries' gradients in torch's order, as the
        engine accumulated them (a view's entries are those it views)."""
        return self.by_node() if self.by_node else {}

    def check_against_autograd(self, rtol: float = 1e-9, atol: float = 1e-12) -> float:
        """Run the model in float64 at the solution's exact values, backward through PyTorch's
        autograd, and compare every parameter's ``.grad`` with the worked gradient. Returns the
        largest difference; raises :class:`~symderiv.InternalError` when one is beyond
        ``atol + rtol·|gradient|``."""
        grads = self.autograd() if self.autograd else {}
        largest = 0.0
        for name, got in grads.items():
            want = self.worked[name]
            for index, g in enumerate(got):
                w = want[index]
                diff = abs(g - w)
                largest = max(largest, diff)
                if diff > atol + rtol * abs(w):
                    raise InternalError(f"from_torch: the worked gradient of {name} (entry {index}) is {w!r} but "
                                        f"PyTorch autograd gives {g!r}; please report the model")
        return largest


class _Builder:
    """Interprets an fx graph node by node, building matrix gates on a symderiv Graph."""

    def __init__(self, model: Any, gm: Any, g: Graph, exact_binary: bool, places: _Places):
        self.model, self.gm, self.g, self.exact_binary, self.places = model, gm, g, exact_binary, places
        self.params: dict[str, list[Tensor]] = {}  # a parameter's matrices (a conv weight: one per kernel)
        self.param_entries: dict[str, list[Node]] = {}  # its entry nodes in torch's order
        self.layer: dict[int, str] = {}  # id(tensor) -> its section title
        self.buffers: set[str] = set()  # buffers read: data, no gradient, no result
        self.by_node: dict[str, _Value] = {}  # each fx node's traced tensor
        self.inputs: dict[str, tuple[str, _Value]] = {}  # forward's float arguments: (their name, entries)
        self.wrt: set[str] = set()  # forward's arguments whose gradient is asked for
        self.data_values: dict[int, Any] = {}  # id(data) -> its entries, once it meets a traced tensor
        self.used: set[str] = {"L", *(n.name for n in g.nodes)}  # L: the loss
        self.remarks: list[str] = []
        self.prefix = ""  # "0." when the model is one layer, traced as nn.Sequential(model)

    def shown(self, qualname: str) -> str:
        """A parameter's name as the user's model calls it."""
        return qualname[len(self.prefix):] if self.prefix and qualname.startswith(self.prefix) else qualname

    # names
    def fresh(self, stem: str) -> str:
        """A tensor name no other tensor has, whose entries' names (``name_1``, ``name_1_2``) no
        other node has: a trailing ``_3`` is glued on (``mul_3`` -> ``mul3``), so a name never ends
        as an entry's does, and a taken one gets ``v2``, ``v3``, ..."""
        base = stem.rstrip("_") or "h"
        while re.search(r"_\d+$", base):
            base = re.sub(r"_(\d+)$", r"\1", base)
        name, k = base, 1
        while name in self.used or any(n.startswith(name + "_") for n in self.used):
            k += 1
            name = f"{base}v{k}"
        self.used.add(name)
        return name

    def stem(self, node: Any) -> str:
        name = node.name.lstrip("_")
        return name if name and name[0].isalpha() else f"h{name}"

    # leaves
    def leaf(self, name: str, latex: str, text_name: str, values: list, shape: tuple[int, ...], data: bool
             ) -> tuple[Tensor, ...]:
        """Matrices of input (or data) nodes holding ``values`` laid out for ``shape``."""
        flat = _flatten(values)
        mats, k = [], 0
        layout = _layout(shape)
        for c, (r, w) in enumerate(layout):
            tname = text_name if len(layout) == 1 else f"{text_name}[{c}]"
            tlatex = latex if len(layout) == 1 else f"{latex}_{{{c}}}"
            ident = self.fresh(name if len(layout) == 1 else f"{name}_c{c}")
            make = self.g.data if data else self.g.input
            rows = []
            for i in range(r):
                row = []
                for j in range(w):
                    suffix, index = _entry_labels(i, j, r, w)
                    n = make(f"{ident}_{suffix}", flat[k], latex=f"{{{tlatex}}}_{{{index}}}")
                    self.g.names[n.symbol] = Name(f"{{{tlatex}}}_{{{index}}}", f"{tname}_{suffix}")
                    row.append(n)
                    k += 1
                rows.append(row)
            t = make_tensor(self.g, tname, rows, None, (), None, tlatex)
            mats.append(t)
        return tuple(mats)

    def param(self, qualname: str) -> _Value:
        """The matrices of parameter (or buffer) ``qualname``, made at its first use."""
        try:
            p = self.model.get_parameter(qualname)
            data = False
        except AttributeError:
            p = self.model.get_buffer(qualname)
            data = True
            self.buffers.add(qualname)
        shape = tuple(p.shape)
        if qualname not in self.params:
            values = _exact_entries(p, qualname, self.exact_binary)
            ident = "p_" + re.sub(r"\W", "_", qualname)
            shown = self.shown(qualname)
            latex = _param_latex(shown)
            if len(shape) == 4:  # a conv weight: one kernel per (output, input) channel
                mats = []
                for o in range(shape[0]):
                    for c in range(shape[1]):
                        mats += self.leaf(f"{ident}_{o}_{c}", f"{latex}_{{{o}{c}}}".replace("W^", "K^"),
                                          f"{shown}[{o},{c}]", values[o][c], shape[2:], data)
                        self.params[f"{qualname}[{o},{c}]"] = mats[-1:]
                self.params[qualname] = mats
            else:  # any other rank: one matrix per index of its leading dims
                self.params[qualname] = list(self.leaf(ident, latex, shown, values, shape, data))
            self.param_entries[qualname] = [n for t in self.params[qualname] for n in t.entries]
        return _Value(shape, tuple(self.params[qualname]))

    def bias_channel(self, qualname: str, o: int) -> Tensor:
        """Output channel ``o``'s bias of a conv layer, a 1×1 matrix of its own."""
        key = f"{qualname}[{o}]"
        if key not in self.params:
            p = self.model.get_parameter(qualname)
            values = _exact_entries(p, qualname, self.exact_binary)
            if qualname not in self.param_entries:
                self.param_entries[qualname] = [None] * len(values)
            ident = "p_" + re.sub(r"\W", "_", qualname) + f"_{o}"
            (t,) = self.leaf(ident, f"{_param_latex(self.shown(qualname))}_{{{o}}}", self.shown(key), [[values[o]]],
                             (1, 1), False)
            self.params[key] = [t]
            self.param_entries[qualname][o] = t.entries[0]
        return self.params[key][0]

    # building helpers
    def build(self, name: str, latex: str, shape: tuple[int, int], make: Callable[[int, int, str, str], Node],
              gate: MatrixGate, parents: tuple[Tensor, ...], formula: sp.Basic, text_name: str | None = None,
              **extra: Any) -> Tensor:
        """A tensor of new entries ``make(i, j, node name, latex)``."""
        ident = self.fresh(name)
        r, w = shape
        rows = []
        for i in range(r):
            row = []
            for j in range(w):
                suffix, index = _entry_labels(i, j, r, w)
                row.append(make(i, j, f"{ident}_{suffix}", f"{{{latex}}}_{{{index}}}"))
            rows.append(row)
        t = make_tensor(self.g, ident, rows, gate, parents, formula, latex, **extra)
        if text_name:
            self.g.names[t.symbol] = Name(latex, text_name)
        return t

    def shared(self, name: str, latex: str, rows: list[list[Node]], gate: MatrixGate, parents: tuple[Tensor, ...],
               formula: sp.Basic, **extra: Any) -> Tensor:
        """A tensor of existing entries (a reshape, a transpose)."""
        return make_tensor(self.g, self.fresh(name), rows, gate, parents, formula, latex, **extra)


def _flatten(values: Any) -> list:
    if isinstance(values, list):
        return [x for v in values for x in _flatten(v)]
    return [values]


def _channels(stem: str, latex: str, count: int, c: int) -> tuple[str, str]:
    return (stem, latex) if count == 1 else (f"{stem}_c{c + 1}", f"{latex}^{{({c + 1})}}")


class _Interpreter(_Builder):
    """The handlers of each supported module, function and method."""

    def run(self, example: Sequence[Any]) -> _Value | Node:
        env: dict[Any, Any] = {}
        placeholders = [n for n in self.gm.graph.nodes if n.op == "placeholder"]
        for node, value in zip(placeholders, example):
            name = "x" if node.name in ("input", "input_1") else self.stem(node)
            shape = tuple(value.shape)
            if 0 in shape:
                raise TorchError(f"from_torch: the input {node.name} is empty (shape {shape}); give at least one "
                                 "example")
            if not value.is_floating_point():  # class indices, token ids: data
                env[node] = _Data(value, name)
                continue
            data = not (value.requires_grad or node.name in self.wrt)  # an input with a gradient when asked
            env[node] = _Value(shape, self.leaf(name, _latex_id(name), name,
                                                _exact_entries(value, node.name, self.exact_binary), shape, data))
            self.inputs[node.name] = (name, env[node])
        out = None
        groups: list[str] = []
        for node in self.gm.graph.nodes:
            if node.op == "placeholder":
                continue
            if node.op == "output":
                returned = node.args[0]
                if not _is_node(returned):
                    count = len(returned) if isinstance(returned, (tuple, list, dict)) else 1
                    raise TorchError(f"from_torch: the model returns a {type(returned).__name__} of {count} "
                                     "values; from_torch works a model that returns one tensor (return the one "
                                     "the loss is taken of)")
                out = env[returned]
                break
            title = self.section_title(node, groups)
            before = len(self.g.tensors)
            args = [env[a] if _is_node(a) else _map_nodes(a, env) for a in node.args]
            kwargs = {k: (env[a] if _is_node(a) else _map_nodes(a, env)) for k, a in node.kwargs.items()}
            final = node.users and all(u.op == "output" for u in node.users)
            if node.op == "get_attr":
                env[node] = self.attribute(node)
            elif not _holds_value((args, kwargs)):
                env[node] = self.concrete(node, args, kwargs)
            else:
                if any(isinstance(v, _Value) and v.masked for v in _leaves((args, kwargs))) and \
                        not self.reads_masked(node):
                    raise _refused([_refusal("a -inf fill (masked_fill) read by something other than softmax",
                                             node, self.places, "apply the softmax right after the fill")])
                args = [self.floats_to_values(a, node) for a in args]
                kwargs = {k: self.floats_to_values(a, node) for k, a in kwargs.items()}
                env[node] = self.apply(node, args, kwargs, final)
                if isinstance(env[node], (_Value, _Pair)):
                    self.by_node[node.name] = env[node].values if isinstance(env[node], _Pair) else env[node]
            for t in self.g.tensors[before:]:
                self.layer.setdefault(id(t), title)
            meta = node.meta.get("tensor_meta")
            if isinstance(env[node], _Value) and meta is not None and hasattr(meta, "shape"):
                want = tuple(meta.shape)
                env[node].shape = want
                got = [t.shape for t in env[node].mats]
                if got != _layout(want) and not env[node].transposed:
                    raise InternalError(f"from_torch: {node.name} was laid out as {got} for torch shape {want}")
        return out

    def attribute(self, node: Any) -> Any:
        """A parameter (traced, with a gradient), or a buffer or a constant (data)."""
        if node.target in dict(self.model.named_parameters()):
            return self.param(node.target)
        value = _attribute(self.gm, node.target)
        import torch
        if isinstance(value, torch.Tensor):
            return _Data(value.detach(), self.stem(node), node.target)
        return value

    def concrete(self, node: Any, args: list, kwargs: dict) -> Any:
        """An operation on data only, run by PyTorch itself (``torch.ones``, ``tril``, ``==``, a slice
        of a buffer, a shape's arithmetic)."""
        import torch
        a, k = _unwrap(args), _unwrap(kwargs)
        with torch.no_grad():
            if node.op == "call_function":
                result = node.target(*a, **k)
            elif node.op == "call_method":
                result = getattr(a[0], node.target)(*a[1:], **k)
            else:
                result = self.gm.get_submodule(node.target)(*a, **k)

        def wrap(r: Any) -> Any:
            if isinstance(r, torch.Tensor):
                return _Data(r, self.stem(node))
            if isinstance(r, (tuple, list)) and not isinstance(r, torch.Size):
                return type(r)(wrap(v) for v in r) if type(r) in (tuple, list) else tuple(wrap(v) for v in r)
            return r
        return wrap(result)

    def floats_to_values(self, a: Any, node: Any) -> Any:
        """Float data meeting a traced tensor becomes data entries (no gradient); integer and
        boolean data stay data (indices, masks)."""
        if isinstance(a, (tuple, list)):
            return type(a)(self.floats_to_values(v, node) for v in a)
        if isinstance(a, _Data) and a.value.is_floating_point():
            return self.value_of(a)
        return a

    def value_of(self, d: _Data) -> _Value:
        key = id(d)
        if key not in self.data_values or self.data_values[key][0] is not d:
            if d.qualname is not None and d.qualname in dict(self.model.named_buffers()):
                self.data_values[key] = (d, self.param(d.qualname))
            else:
                shape = tuple(d.value.shape)
                name = d.name if d.qualname is None else re.sub(r"\W", "_", d.qualname).lstrip("_") or "c"
                mats = self.leaf(name, _latex_id(name), name, _exact_entries(d.value, name, self.exact_binary),
                                 shape, True)
                self.data_values[key] = (d, _Value(shape, mats))  # d kept: its id is not reused
        return self.data_values[key][1]

    def reads_masked(self, node: Any) -> bool:
        """Whether ``node`` is a softmax (which reads a -inf fill as a zero weight)."""
        functions, methods, modules, _ = _tables()
        op = (functions.get(node.target) if node.op == "call_function" else
              methods.get(node.target) if node.op == "call_method" else
              modules.get(type(self.gm.get_submodule(node.target)).__name__))
        return op is not None and op.handler in ("softmax", "Softmax", "log_softmax")

    def section_title(self, node: Any, groups: list[str]) -> str:
        if node.op == "call_module":
            m = self.gm.get_submodule(node.target)
            title = f"{m!r}" if self.prefix else f"layer {node.target}, {m!r}"
            groups.append(title)
            return title
        own = f"{type(self.model).__name__}.forward"
        if not groups or not groups[-1].startswith(own):
            count = sum(1 for t in groups if t.startswith(own))
            groups.append(own if count == 0 else f"{own} (part {count + 1})")
        return groups[-1]

    # dispatch
    def apply(self, node: Any, args: list, kwargs: dict, final: bool) -> Any:
        stem = self.stem(node)
        latex = _latex_id(stem)
        if node.op == "call_module":
            m = self.gm.get_submodule(node.target)
            handler = getattr(self, f"module_{type(m).__name__}")
            state = args[1] if len(args) > 1 else kwargs.get("hx")
            if state is not None:  # a recurrent cell's state
                return handler(m, node, args[0], stem, latex, final, state=state)
            return handler(m, node, args[0], stem, latex, final)
        functions, methods, _, _ = _tables()
        op = functions[node.target] if node.op == "call_function" else methods[node.target]
        return getattr(self, f"op_{op.handler}")(node, args, kwargs, stem, latex, final)

    # modules
    def module_Linear(self, m, node, x: _Value, stem, latex, final):
        if len(x.shape) > 2:  # over the last dim: the rows of x viewed as a matrix, then viewed back
            rows = self.arranged(f"{stem}_rows", latex, (math.prod(x.shape[:-1]), x.shape[-1]), _flat(x), x.mats,
                                 "view")
            out = self.module_Linear(m, node, rows, f"{stem}_flat", latex, final)
            return self.arranged(stem, latex, (*x.shape[:-1], m.out_features), _flat(out), out.mats, "view")
        W = self.param(f"{node.target}.weight").mat
        b = self.param(f"{node.target}.bias").mat if m.bias is not None else None
        xs = self.dense(x, node)
        if len(x.shape) == 1:
            X = xs.mat

            def make(i, j, n, lx):
                pairs = [v for k in range(W.shape[1]) for v in (W.nodes[i][k], X.nodes[k][0])]
                return self.g.apply("linear" if b else "dot", *pairs, *([b.nodes[i][0]] if b else []), name=n,
                                    latex=lx)
            parents = (W, X, b) if b else (W, X)
            t = self.build(stem, latex, (W.shape[0], 1), make, MATRIX_GATES["torch_linear"], parents, None, rows=False)
        elif len(x.shape) == 2:
            X = xs.mat

            def make(i, j, n, lx):
                pairs = [v for k in range(W.shape[1]) for v in (W.nodes[j][k], X.nodes[i][k])]
                return self.g.apply("linear" if b else "dot", *pairs, *([b.nodes[j][0]] if b else []), name=n,
                                    latex=lx)
            parents = (X, W, b) if b else (X, W)
            t = self.build(stem, latex, (X.shape[0], W.shape[0]), make, MATRIX_GATES["torch_linear"], parents, None,
                           rows=True)
        else:
            raise TorchError(f"from_torch: nn.Linear on a {len(x.shape)}-dimensional input (fx node {node.name}); "
                             "supported: a vector or a matrix of rows")
        t.formula = _linear_formula(t)
        return _Value((W.shape[0],) if len(x.shape) == 1 else (x.shape[0], W.shape[0]), (t,))

    def module_Conv2d(self, m, node, x: _Value, stem, latex, final):
        if len(x.shape) not in (3, 4):
            raise TorchError(f"from_torch: nn.Conv2d on a {len(x.shape)}-dimensional input (fx node {node.name}); "
                             "supported: (C, H, W) or (1, C, H, W)")
        stride = _pair(m.stride)
        padding = 0 if isinstance(m.padding, str) else _pair(m.padding)
        k = _pair(m.kernel_size)
        qual = node.target
        weights = self.param(f"{qual}.weight").mats
        C, O = m.in_channels, m.out_channels
        batch = len(x.mats) // C  # a batch of images: each worked on its own, its channels side by side
        mats = []
        for image in range(batch):
            mats += self.conv_image(m, x.mats[image * C:(image + 1) * C], weights, stride, padding, k,
                                    stem if batch == 1 else f"{stem}_n{image + 1}", latex)
        if stride > 1:
            self.remarks.append(f"Layer {qual} has stride {stride}: in its backward rule the upstream gradient is "
                                f"first spread out by the stride ({stride - 1} zero(s) between its entries).")
        n_r, n_c = mats[0].shape
        return _Value((*x.shape[:-3], O, n_r, n_c), tuple(mats))

    def conv_image(self, m, images, weights, stride, padding, k, stem, latex) -> list[Tensor]:
        """One image's output channels: Σ_c X_c ⋆ K_oc + b_o."""
        qual = next(name for name, mod in self.gm.named_modules() if mod is m)
        inputs = [pad(X, padding, name=self.fresh(f"{X.name}_pad" if X.name.isidentifier() else f"{stem}_in_pad"),
                      latex=rf"{self.g.names[X.symbol].latex}_{{\mathrm{{pad}}}}") if padding else X
                  for X in images]
        C, O = m.in_channels, m.out_channels
        n_r, n_c = inputs[0].shape
        out_shape = ((n_r - k) // stride + 1, (n_c - k) // stride + 1)
        mats = []
        for o in range(O):
            kernels = [weights[o * C + c] for c in range(C)]
            bias = self.bias_channel(f"{qual}.bias", o) if m.bias is not None else None

            def make(i, j, n, lx, kernels=kernels, bias=bias):
                pairs = [v for c in range(C) for a in range(k) for b in range(k)
                         for v in (kernels[c].nodes[a][b], inputs[c].nodes[i * stride + a][j * stride + b])]
                return self.g.apply("linear" if bias else "dot", *pairs, *([bias.nodes[0][0]] if bias else []),
                                    name=n, latex=lx)
            name, lx = _channels(stem, latex, O, o)
            formula = sp.Add(*(Corr(inputs[c].symbol, kernels[c].symbol) for c in range(C)), evaluate=False) \
                if C > 1 else Corr(inputs[0].symbol, kernels[0].symbol)
            if bias:
                formula = PlusBias(formula, bias.symbol)
            parents = (*inputs, *kernels, *([bias] if bias else []))
            mats.append(self.build(name, lx, out_shape, make, MATRIX_GATES["torch_conv"], parents, formula,
                                   channels=C, layer=qual))
        return mats

    def pool(self, m, node, x: _Value, stem, latex, mode: str):
        if len(x.shape) not in (3, 4):
            raise TorchError(f"from_torch: {type(m).__name__} on a {len(x.shape)}-dimensional input (fx node "
                             f"{node.name}); supported: (C, H, W) or (1, C, H, W)")
        size = _pair(m.kernel_size)
        stride = _pair(m.stride if m.stride is not None else m.kernel_size)
        mats = []
        for c, X in enumerate(x.mats):
            name, lx = _channels(stem, latex, len(x.mats), c)
            mats.append(pool(X, size, stride, mode, name=self.fresh(name), latex=lx))
        return _Value((*x.shape[:-2], *mats[0].shape), tuple(mats))

    def module_MaxPool2d(self, m, node, x, stem, latex, final):
        return self.pool(m, node, x, stem, latex, "max")

    def module_AvgPool2d(self, m, node, x, stem, latex, final):
        return self.pool(m, node, x, stem, latex, "average")

    def elementwise(self, fn: str, x: _Value, stem: str, latex: str) -> _Value:
        x = self.dense(x, None)
        mats = []
        for c, X in enumerate(x.mats):
            name, lx = _channels(stem, latex, len(x.mats), c)
            mats.append(elementwise(fn, X, name=self.fresh(name), latex=lx))
        return _Value(x.shape, tuple(mats))

    def module_ReLU(self, m, node, x, stem, latex, final):
        return self.elementwise("relu", x, stem, latex)

    def module_Sigmoid(self, m, node, x, stem, latex, final):
        return self.elementwise("sigmoid", x, stem, latex)

    def module_Tanh(self, m, node, x, stem, latex, final):
        return self.elementwise("tanh", x, stem, latex)

    def module_Softmax(self, m, node, x, stem, latex, final):
        return self.softmax(node, x, m.dim, stem, latex)

    def module_Flatten(self, m, node, x, stem, latex, final):
        return self.reshape(node, x, _flattened(x.shape, m.start_dim, m.end_dim), stem, latex)

    def module_Identity(self, m, node, x, stem, latex, final):
        return x

    def module_Dropout(self, m, node, x, stem, latex, final):
        self.remarks.append(f"Layer {node.target}, {m!r}, is the identity in evaluation mode (model.eval()).")
        return x

    # functions and methods
    def dense(self, x: _Value, node: Any) -> _Value:
        """``x`` with a folded transpose made a matrix of its own."""
        if not x.transposed:
            return x
        A = x.mat
        rows = [list(r) for r in zip(*A.nodes)]
        t = self.shared(f"{A.name}_T" if A.name.isidentifier() else "transposed",
                        rf"{self.g.names[A.symbol].latex}^{{T}}", rows, MATRIX_GATES["torch_transpose"], (A,),
                        sp.Transpose(A.symbol))
        return _Value((x.shape[1], x.shape[0]), (t,))

    def softmax(self, node, x: _Value, dim: Any, stem, latex):
        x = self.dense(x, node)
        rank = len(x.shape)
        if dim is None:
            dim = 0 if rank in (0, 1, 3) else 1
        if rank in (1, 2) and dim % rank == rank - 1 and not x.masked:
            return _Value(x.shape, (softmax(x.mat, name=self.fresh(stem), latex=latex),))
        out_shape, groups = _groups(x.shape, (dim % max(rank, 1),), True)
        entries = _flat(x)
        group_of = {k: [p for p in g if p not in x.masked] for g in groups for k in g}

        def make(k: int, n: str, lx: str) -> Node:
            if k in x.masked:
                return self.g.const(0)
            ins = [entries[p] for p in group_of[k]]
            return self.g.apply("softmax", entries[k], *ins, name=n, latex=lx)  # (z_i, z_1, ..., z_n)
        return self.nd(stem, latex, x.shape, make, MATRIX_GATES["torch_arrange"], lambda m: x.mats,
                       lambda m: _arrange_form(f"softmax{dim}")(x.mats[m].symbol), what=f"softmax{dim}")

    def reshape(self, node, x: _Value, shape: tuple[int, ...], stem, latex):
        x = self.dense(x, node)
        if _layout(shape) == [t.shape for t in x.mats] and len(x.mats) == len(_layout(shape)):
            return _Value(shape, x.mats)
        if len(shape) > 2 or len(x.shape) > 4:
            return self.arranged(stem, latex, shape, _flat(x), x.mats, "view")
        flat = _flat(x)
        (r, w), = _layout(shape)
        rows = [flat[i * w:(i + 1) * w] for i in range(r)]
        formula = sp.Function("reshape")(*(t.symbol for t in x.mats)) if len(x.mats) > 1 \
            else sp.Function("reshape")(x.mat.symbol)
        return _Value(shape, (self.shared(stem, latex, rows, MATRIX_GATES["torch_reshape"], x.mats, formula),))

    def op_getattr(self, node, args, kwargs, stem, latex, final):
        x, attr = args
        if isinstance(x, _Pair) and attr in ("values", "indices"):
            return getattr(x, attr)
        if attr == "shape":
            return tuple(x.shape)
        if attr == "T" and len(x.shape) <= 2:
            return self.op_t(node, [x], {}, stem, latex, final)
        if attr in ("T", "mT"):
            return self.rearrange(node, [x, attr], {}, stem, latex, what=attr)
        raise _refused([_refusal(f"the attribute x.{attr}", node, self.places)])

    def op_getitem(self, node, args, kwargs, stem, latex, final):
        container, index = args
        if isinstance(container, (tuple, list, _Pair)):
            return container[index]
        gathered = any(isinstance(i, (_Data, _Value, list, range)) for i in _leaves(index)) or \
            isinstance(index, (_Data, list, range))
        return self.rearrange(node, args, kwargs, stem, latex, copy=gathered, what="[…]")

    def op_size(self, node, args, kwargs, stem, latex, final):
        shape = tuple(args[0].shape)
        dim = args[1] if len(args) > 1 else kwargs.get("dim")
        return shape if dim is None else shape[dim]

    def op_t(self, node, args, kwargs, stem, latex, final):
        x = args[0]
        if len(x.shape) < 2:
            return x
        if len(x.shape) > 2:
            raise TorchError(f"from_torch: .T of a {len(x.shape)}-dimensional tensor (fx node {node.name}); "
                             "supported: of a matrix")
        folded = _Value((x.shape[1], x.shape[0]), x.mats, not x.transposed)
        matmuls = {f for f, op in _tables()[0].items() if op.handler == "matmul"}
        if all((u.op == "call_function" and u.target in matmuls) or (u.op == "call_method" and u.target == "matmul")
               for u in node.users):
            return folded
        return self.dense(folded, node)

    def op_matmul(self, node, args, kwargs, stem, latex, final):
        a, b = args
        ra, rb = len(a.shape), len(b.shape)
        if ra > 2 or rb > 2:
            return self.batched_matmul(node, self.dense(a, node), self.dense(b, node), stem, latex)
        if ra not in (1, 2) or rb not in (1, 2):
            raise TorchError(f"from_torch: @ of {ra}- and {rb}-dimensional tensors (fx node {node.name}); "
                             "supported: vectors and matrices")
        if ra == 1 and rb == 2:  # x @ B is the column Bᵀ·x (torch's shape: a vector)
            return _Value((b.shape[1],), (matmul(b.mat, a.mat, ta=not b.transposed, tb=a.transposed,
                                                 name=self.fresh(stem), latex=latex),))
        ta = a.transposed != (ra == 1)  # a vector on the left is a row: xᵀ
        tb = b.transposed
        shape = (*a.shape[:-1], *b.shape[1:]) if rb == 2 else tuple(a.shape[:-1])
        return _Value(shape, (matmul(a.mat, b.mat, ta=ta, tb=tb, name=self.fresh(stem), latex=latex),))

    def batched_matmul(self, node, a: _Value, b: _Value, stem: str, latex: str) -> _Value:
        """A @ B over broadcast leading dims: one matrix product per leading index."""
        import torch
        if len(a.shape) < 2 or len(b.shape) < 2:
            raise _refused([_refusal("@ of a vector with a batch of matrices", node, self.places,
                                     "unsqueeze the vector to a matrix")])
        batch = tuple(torch.broadcast_shapes(a.shape[:-2], b.shape[:-2]))
        pick_a = torch.arange(len(a.mats)).reshape(a.shape[:-2]).expand(batch).reshape(-1).tolist()
        pick_b = torch.arange(len(b.mats)).reshape(b.shape[:-2]).expand(batch).reshape(-1).tolist()
        mats = []
        for m, (i, j) in enumerate(zip(pick_a, pick_b)):
            name, lx = _channels(stem, latex, len(pick_a), m)
            mats.append(matmul(a.mats[i], b.mats[j], name=self.fresh(name), latex=lx))
        return _Value((*batch, a.shape[-2], b.shape[-1]), tuple(mats))

    def op_relu(self, node, args, kwargs, stem, latex, final):
        return self.elementwise("relu", args[0], stem, latex)

    def op_sigmoid(self, node, args, kwargs, stem, latex, final):
        return self.elementwise("sigmoid", args[0], stem, latex)

    def op_tanh(self, node, args, kwargs, stem, latex, final):
        return self.elementwise("tanh", args[0], stem, latex)

    def op_exp(self, node, args, kwargs, stem, latex, final):
        return self.elementwise("exp", args[0], stem, latex)

    def op_log(self, node, args, kwargs, stem, latex, final):
        return self.elementwise("log", args[0], stem, latex)

    def op_softmax(self, node, args, kwargs, stem, latex, final):
        dim = args[1] if len(args) > 1 else kwargs.get("dim")
        return self.softmax(node, args[0], dim, stem, latex)

    def op_flatten(self, node, args, kwargs, stem, latex, final):
        x = args[0]
        start = args[1] if len(args) > 1 else kwargs.get("start_dim", 0)
        end = args[2] if len(args) > 2 else kwargs.get("end_dim", -1)
        return self.reshape(node, x, _flattened(x.shape, start, end), stem, latex)

    def op_view(self, node, args, kwargs, stem, latex, final):
        return self.reshape(node, args[0], tuple(node.meta["tensor_meta"].shape), stem, latex)  # -1 resolved

    op_reshape = op_view

    def reduce(self, node, args, kwargs, stem, latex, final, mean: bool):
        x = self.dense(args[0], node)
        dim = args[1] if len(args) > 1 else kwargs.get("dim", kwargs.get("axis"))
        keepdim = bool(args[2] if len(args) > 2 else kwargs.get("keepdim", kwargs.get("keepdims", False)))
        entries = _flat(x)
        gate = "mean" if mean else "add"
        rank = len(x.shape)
        dims = tuple(range(rank)) if dim is None else tuple(d % max(rank, 1) for d in
                                                             (dim if isinstance(dim, (tuple, list)) else (dim,)))
        if not entries:
            raise TorchError(f"from_torch: .{'mean' if mean else 'sum'}() of an empty tensor (shape {x.shape}, "
                             f"fx node {node.name}); give at least one entry")

        def make(group: list[Node], n: str, lx: str) -> Node:
            if len(group) == 1:
                return self.g.apply("mul", 1, group[0], name=n, latex=lx)
            return self.g.apply(gate, *group, name=n, latex=lx)
        formula = sp.Function("mean" if mean else "sum")(*(t.symbol for t in x.mats))
        matrix_gate = MATRIX_GATES["torch_mean" if mean else "torch_sum"]
        if set(dims) == set(range(rank)) and not keepdim:
            if final:
                return make(entries, "L", "L")
            t = self.build(stem, latex, (1, 1), lambda i, j, n, lx: make(entries, n, lx), matrix_gate, x.mats,
                           formula, count=len(entries))
            return _Value((1,) * len(x.shape) if keepdim else (), (t,))
        if len(x.mats) != 1 or len(x.shape) > 2:
            return self.reduced(x, dims, keepdim, gate, stem, latex, "mean" if mean else "sum")
        out_shape = tuple(1 if d in dims else s for d, s in enumerate(x.shape) if keepdim or d not in dims)
        groups: dict[tuple, list[Node]] = {}
        for k, n in enumerate(entries):
            index = _unravel(k, x.shape)
            groups.setdefault(tuple(0 if d in dims else i for d, i in enumerate(index)), []).append(n)
        ordered = [groups[key] for key in sorted(groups)]
        (r, w), = _layout(out_shape)
        count = len(ordered[0])
        t = self.build(stem, latex, (r, w), lambda i, j, n, lx: make(ordered[i * w + j], n, lx), matrix_gate,
                       x.mats, formula, count=count)
        return _Value(out_shape, (t,))

    def op_sum(self, node, args, kwargs, stem, latex, final):
        return self.reduce(node, args, kwargs, stem, latex, final, False)

    def op_mean(self, node, args, kwargs, stem, latex, final):
        return self.reduce(node, args, kwargs, stem, latex, final, True)

    def op_neg(self, node, args, kwargs, stem, latex, final):
        x = self.dense(args[0], node)
        if len(x.mats) != 1:
            return self.mapped("neg", "neg", x, stem, latex)
        X = x.mat
        t = self.build(stem, latex, X.shape, lambda i, j, n, lx: self.g.apply("neg", X.nodes[i][j], name=n,
                                                                               latex=lx),
                       MATRIX_GATES["torch_neg"], (X,), sp.MatMul(-1, X.symbol, evaluate=False))
        return _Value(x.shape, (t,))

    def arith(self, op: str, node, args, stem, latex, final):
        """``a op b`` entry by entry with broadcasting, at any rank (numbers too)."""
        import torch
        operands = [self.dense(a, node) if isinstance(a, _Value) else a for a in args]
        for a in operands:
            if not isinstance(a, (_Value, int, float, sp.Basic)):
                raise _refused([_refusal(f"arithmetic with a {type(a).__name__}", node, self.places)])
        shapes = [tuple(a.shape) if isinstance(a, _Value) else () for a in operands]
        out_shape = tuple(torch.broadcast_shapes(*shapes))
        flats = [_flat(a) if isinstance(a, _Value) else None for a in operands]

        def entry(k: int, flat_index: int) -> Any:
            a, shape = operands[k], shapes[k]
            if not isinstance(a, _Value):
                return a if isinstance(a, sp.Basic) else python_number(a)
            index = _unravel(flat_index, out_shape)
            index = index[len(index) - len(shape):]
            index = tuple(0 if s == 1 else i for i, s in zip(index, shape))
            return flats[k][_ravel(index, shape)]

        def make_node(flat_index: int, n: str, lx: str) -> Node:
            return self.g.apply(op, *(entry(k, flat_index) for k in range(len(operands))), name=n, latex=lx)
        layout = _layout(out_shape)
        if final and len(layout) == 1 and layout[0] == (1, 1):
            return make_node(0, "L", "L")
        mats, start = [], 0
        for m, (r, w) in enumerate(layout):
            parts = [a.mats[m % len(a.mats)] if isinstance(a, _Value) else None for a in operands]
            exprs = [t.symbol if t is not None else entry(k, 0) for k, t in enumerate(parts)]
            formula = {"add": Plus, "sub": Minus, "mul": Hadamard, "div": Over, "pow": Power, "max": MaxEach,
                       "min": MinEach}[op](*exprs)
            if op == "mul" and not all(isinstance(e, sp.MatrixExpr) for e in exprs):
                formula = sp.MatMul(*exprs, evaluate=False)
            if op == "div" and not isinstance(exprs[1], sp.MatrixExpr):
                formula = Divided(*exprs)
            parents = tuple(t for t in parts if t is not None)
            slots = tuple(k for k, t in enumerate(parts) if t is not None)
            name, lx = _channels(stem, latex, len(layout), m)
            mats.append(self.build(name, lx, (r, w), lambda i, j, n, l, s0=start, w=w: make_node(s0 + i * w + j, n, l),
                                   MATRIX_GATES["torch_arith"], parents, formula, op=op, operands=tuple(exprs),
                                   slots=slots))
            start += r * w
        return _Value(out_shape, tuple(mats))

    # ----- any rank: tensors laid out as matrices over their leading dims
    def nd(self, stem: str, latex: str, shape: tuple[int, ...], make: Callable[[int, str, str], Node],
           gate: MatrixGate, parents_of: Callable[[int], Sequence[Tensor]], formula_of: Callable[[int], sp.Basic],
           **extra: Any) -> _Value:
        """New entries ``make(flat index, node name, latex)`` for ``shape``, one tensor per matrix of
        its layout; ``parents_of(m)``, ``formula_of(m)``: what matrix ``m`` is made of, as written."""
        layout = _layout(shape)
        mats, start = [], 0
        for m, (r, w) in enumerate(layout):
            name, lx = _channels(stem, latex, len(layout), m)
            mats.append(self.build(name, lx, (r, w), lambda i, j, n, l, s0=start, w=w: make(s0 + i * w + j, n, l),
                                   gate, tuple(parents_of(m)), formula_of(m), **extra))
            start += r * w
        return _Value(tuple(shape), tuple(mats))

    def arranged(self, stem: str, latex: str, shape: tuple[int, ...], nodes: Sequence[Node],
                 parents: Sequence[Tensor], what: str) -> _Value:
        """Existing entries laid out for ``shape`` (a view, a transpose, a slice): no new gate."""
        layout = _layout(shape)
        mats, start = [], 0
        symbols = [p.symbol for p in parents]
        for m, (r, w) in enumerate(layout):
            rows = [list(nodes[start + i * w:start + (i + 1) * w]) for i in range(r)]
            name, lx = _channels(stem, latex, len(layout), m)
            mats.append(self.shared(name, lx, rows, MATRIX_GATES["torch_arrange"], tuple(parents),
                                    _arrange_form(what)(*symbols), what=what))
            start += r * w
        return _Value(tuple(shape), tuple(mats))

    def rearrange(self, node: Any, args: list, kwargs: dict, stem: str, latex: str, copy: bool = False,
                  what: str | None = None, call: Callable | None = None) -> Any:
        """An operation that moves, picks or copies entries (view, transpose, permute, a slice, an
        index, cat, split, an embedding, tril), run by PyTorch itself on tensors of the entries'
        positions (1, 2, ...; 0: a zero it wrote): its result says where each entry goes."""
        import torch
        pool: list[Node | None] = [None]
        parents: list[Tensor] = []

        def positions(a: Any) -> Any:
            if isinstance(a, _Value):
                a = self.dense(a, node)
                flat = _flat(a)
                start = len(pool)
                pool.extend(flat)
                parents.extend(a.mats)
                return torch.arange(start, start + len(flat)).reshape(a.shape)
            if isinstance(a, _Data):
                return a.value
            if isinstance(a, (tuple, list)):
                return type(a)(positions(v) for v in a)
            if isinstance(a, dict):
                return {k: positions(v) for k, v in a.items()}
            return a
        a, k = positions(args), positions(kwargs)
        if call is not None:
            result = call(*a, **k)
        elif node.op == "call_method":
            result = getattr(a[0], node.target)(*a[1:], **k)
        elif node.target is getattr:
            result = getattr(a[0], a[1])
        else:
            result = node.target(*a, **k)
        label = what or (node.target if isinstance(node.target, str) else getattr(node.target, "__name__", "arrange"))

        def build(r: Any, part: str) -> Any:
            if isinstance(r, (tuple, list)):
                return tuple(build(v, f"{part}_{i + 1}") for i, v in enumerate(r))
            if not isinstance(r, torch.Tensor):
                return r
            where = r.reshape(-1).tolist()
            shape = tuple(r.shape)
            if not where:
                raise TorchError(f"from_torch: {label} gives an empty tensor (shape {shape}, fx node {node.name})")
            repeated = len(set(where)) < len(where)
            if copy or repeated or 0 in where:
                def make(i: int, n: str, lx: str) -> Node:
                    return self.g.const(0) if where[i] == 0 else self.g.apply("pick", pool[where[i]], name=n, latex=lx)
                return self.nd(part, latex, shape, make, MATRIX_GATES["torch_arrange"], lambda m: parents,
                               lambda m: _arrange_form(label)(*(p.symbol for p in parents)), what=label)
            return self.arranged(part, latex, shape, [pool[i] for i in where], parents, label)
        return build(result, stem)

    def op_rearrange(self, node, args, kwargs, stem, latex, final):
        return self.rearrange(node, args, kwargs, stem, latex)

    def op_contiguous(self, node, args, kwargs, stem, latex, final):
        return args[0]

    def op_embedding(self, node, args, kwargs, stem, latex, final):
        import torch.nn.functional as F
        return self.rearrange(node, args, kwargs, stem, latex, copy=True, what="embedding",
                              call=lambda ids, weight, *rest, **kw: F.embedding(ids, weight))

    def module_Embedding(self, m, node, x, stem, latex, final):
        weight = self.param(f"{node.target}.weight")
        import torch.nn.functional as F
        return self.rearrange(node, [x, weight], {}, stem, latex, copy=True, what="embedding",
                              call=lambda ids, w: F.embedding(ids, w))

    def reduced(self, x: _Value, dims: tuple[int, ...], keepdim: bool, gate: str, stem: str, latex: str,
                what: str) -> _Value:
        """``gate`` over each group of entries along ``dims`` (sum: add, mean, max: maxpool)."""
        x = self.dense(x, None)
        out_shape, groups = _groups(x.shape, dims, keepdim)
        entries = _flat(x)

        def make(k: int, n: str, lx: str) -> Node:
            ins = [entries[p] for p in groups[k]]
            return self.g.apply("pick", ins[0], name=n, latex=lx) if len(ins) == 1 else \
                self.g.apply(gate, *ins, name=n, latex=lx)
        return self.nd(stem, latex, out_shape, make, MATRIX_GATES["torch_arrange"], lambda m: x.mats,
                       lambda m: _arrange_form(what)(*(t.symbol for t in x.mats)), what=what)

    def op_max(self, node, args, kwargs, stem, latex, final):
        other = args[1] if len(args) > 1 else kwargs.get("other")
        if isinstance(other, (_Value, float)) or (isinstance(other, int) and "dim" in kwargs):
            return self.arith("max", node, [args[0], other], stem, latex, final)
        return self.extreme(node, args, kwargs, stem, latex, "max")

    def op_min(self, node, args, kwargs, stem, latex, final):
        other = args[1] if len(args) > 1 else kwargs.get("other")
        if isinstance(other, (_Value, float)):
            return self.arith("min", node, [args[0], other], stem, latex, final)
        return self.extreme(node, args, kwargs, stem, latex, "min")

    def tied_maximum(self, x: _Value, dims: tuple[int, ...], keepdim: bool, stem: str, latex: str) -> _Value:
        """The maximum of each group as ``amax`` and ``max()`` differentiate it: the entry itself,
        or, when several entries tie for it, their mean (equal to it, and its gradient split
        evenly among them)."""
        out_shape, groups = _groups(x.shape, dims, keepdim)
        entries = _flat(x)

        def make(k: int, n: str, lx: str) -> Node:
            group = [entries[p] for p in groups[k]]
            top = max(e.approx for e in group)
            tied = [e for e in group if e.approx == top]  # equal floats; exact equality checked below
            tied = [e for e in tied if e is tied[0] or sp.simplify(e.value - tied[0].value) == 0]
            return self.g.apply("pick", tied[0], name=n, latex=lx) if len(tied) == 1 else \
                self.g.apply("mean", *tied, name=n, latex=lx)
        return self.nd(stem, latex, out_shape, make, MATRIX_GATES["torch_arrange"], lambda m: x.mats,
                       lambda m: _arrange_form("amax")(*(t.symbol for t in x.mats)), what="amax")

    def extreme(self, node, args, kwargs, stem, latex, which: str, even: bool = False) -> Any:
        """``x.max()``, ``x.max(dim, keepdim)`` (values and indices), the same for min (as −max(−x))."""
        x = self.dense(args[0], node)
        dim = args[1] if len(args) > 1 else kwargs.get("dim")
        keepdim = bool(args[2] if len(args) > 2 else kwargs.get("keepdim", False))
        if which == "min":
            x = self.mapped("neg", "neg", x, f"{stem}_neg", latex)
        dims = tuple(range(len(x.shape))) if dim is None else (dim % max(len(x.shape), 1),)
        name = stem if which == "max" else f"{stem}_negmax"
        if dim is None or even:  # PyTorch splits the gradient evenly among tied maxima: their mean
            values = self.tied_maximum(x, dims, keepdim if dim is not None else False, name, latex)
        else:  # over a dim, the gradient goes to the index max returns (the first maximum)
            values = self.reduced(x, dims, keepdim, "maxpool", name, latex, f"max{dim}")
        if which == "min":
            values = self.mapped("neg", "neg", values, stem, latex)
        if dim is None:
            return values
        import torch
        _, groups = _groups(x.shape, dims, keepdim)
        entries = _flat(x)
        first_max = [max(range(len(g)), key=lambda i, g=g: (entries[g[i]].approx, -i)) for g in groups]
        return _Pair(values, _Data(torch.tensor(first_max).reshape(values.shape), f"{stem}_indices"))

    def op_amax(self, node, args, kwargs, stem, latex, final):
        result = self.extreme(node, args, kwargs, stem, latex, "max", even=True)
        return result.values if isinstance(result, _Pair) else result

    def op_var(self, node, args, kwargs, stem, latex, final):
        return self.variance(node, args, kwargs, stem, latex, final, root=False)

    def op_std(self, node, args, kwargs, stem, latex, final):
        return self.variance(node, args, kwargs, stem, latex, final, root=True)

    def variance(self, node, args, kwargs, stem, latex, final, root: bool):
        x = self.dense(args[0], node)
        dim = args[1] if len(args) > 1 else kwargs.get("dim")
        keepdim = bool(kwargs.get("keepdim", False))
        correction = kwargs.get("correction", 0 if kwargs.get("unbiased") is False else 1)
        rank = len(x.shape)
        dims = tuple(range(rank)) if dim is None else tuple(d % max(rank, 1) for d in
                                                             (dim if isinstance(dim, (tuple, list)) else (dim,)))
        count = math.prod(x.shape[d] for d in dims)
        mean = self.reduced(x, dims, True, "mean", f"{stem}_mean", latex, "mean")
        centred = self.arith("sub", node, [x, mean], f"{stem}_centred", latex, False)
        squared = self.mapped("square", "pow", centred, f"{stem}_sq", latex, 2)
        total = self.reduced(squared, dims, keepdim, "add", f"{stem}_sum", latex, "sum")
        var = self.arith("div", node, [total, count - correction], stem if not root else f"{stem}_var", latex, False)
        return self.mapped("sqrt", "sqrt", var, stem, latex) if root else var

    def op_log_softmax(self, node, args, kwargs, stem, latex, final):
        x = self.dense(args[0], node)
        dim = args[1] if len(args) > 1 else kwargs.get("dim")
        return self.log_softmax(node, x, dim, stem, latex)

    def log_softmax(self, node, x: _Value, dim: int, stem: str, latex: str) -> _Value:
        """x − log Σ exp(x) along ``dim`` (exact, so no shift by the maximum is needed)."""
        dims = (dim % max(len(x.shape), 1),)
        e = self.mapped("exp", "exp", x, f"{stem}_exp", latex)
        total = self.reduced(e, dims, True, "add", f"{stem}_sumexp", latex, "sum")
        log_total = self.mapped("log", "log", total, f"{stem}_lse", latex)
        return self.arith("sub", node, [x, log_total], stem, latex, False)

    def op_logsumexp(self, node, args, kwargs, stem, latex, final):
        x = self.dense(args[0], node)
        dim = args[1] if len(args) > 1 else kwargs.get("dim")
        keepdim = bool(args[2] if len(args) > 2 else kwargs.get("keepdim", False))
        dims = tuple(d % max(len(x.shape), 1) for d in (dim if isinstance(dim, (tuple, list)) else (dim,)))
        e = self.mapped("exp", "exp", x, f"{stem}_exp", latex)
        return self.mapped("log", "log", self.reduced(e, dims, keepdim, "add", f"{stem}_sum", latex, "sum"),
                           stem, latex)

    def op_masked_fill(self, node, args, kwargs, stem, latex, final):
        import torch
        x, mask = self.dense(args[0], node), args[1]
        value = args[2] if len(args) > 2 else kwargs["value"]
        if not isinstance(mask, _Data) or isinstance(value, _Value):
            raise _refused([_refusal("masked_fill with a traced mask or value", node, self.places)])
        where = torch.broadcast_to(mask.value.bool(), x.shape).reshape(-1).tolist()
        if value == float("-inf"):
            return _Value(x.shape, x.mats, masked=frozenset(k for k, m in enumerate(where) if m))
        entries = _flat(x)
        fill = python_number(value)

        def make(k: int, n: str, lx: str) -> Node:
            return self.g.const(fill) if where[k] else self.g.apply("pick", entries[k], name=n, latex=lx)
        return self.nd(stem, latex, x.shape, make, MATRIX_GATES["torch_arrange"], lambda m: x.mats,
                       lambda m: _arrange_form("masked_fill")(x.mats[m].symbol), what="masked_fill")

    def op_where(self, node, args, kwargs, stem, latex, final):
        import torch
        cond, a, b = args
        if not isinstance(cond, _Data):
            raise _refused([_refusal("torch.where with a traced condition", node, self.places)])
        a, b = (self.value_of(_Data(torch.tensor(float(v)), f"{stem}_const")) if not isinstance(v, _Value) else v
                for v in (a, b))
        return self.rearrange(node, [cond, a, b], {}, stem, latex, copy=True, what="where",
                              call=lambda c, p, q: torch.where(c, p, q))

    def op_layer_norm(self, node, args, kwargs, stem, latex, final):
        x = self.dense(args[0], node)
        shape = args[1] if len(args) > 1 else kwargs["normalized_shape"]
        weight = args[2] if len(args) > 2 else kwargs.get("weight")
        bias = args[3] if len(args) > 3 else kwargs.get("bias")
        eps = args[4] if len(args) > 4 else kwargs.get("eps", 1e-5)
        return self.normalized(node, x, tuple(range(len(x.shape) - len(tuple(shape)), len(x.shape))), weight, bias,
                               eps, stem, latex)

    def module_LayerNorm(self, m, node, x, stem, latex, final):
        weight = self.param(f"{node.target}.weight") if m.weight is not None else None
        bias = self.param(f"{node.target}.bias") if m.bias is not None else None
        dims = tuple(range(len(x.shape) - len(m.normalized_shape), len(x.shape)))
        return self.normalized(node, x, dims, weight, bias, m.eps, stem, latex)

    def normalized(self, node, x: _Value, dims: tuple[int, ...], weight: Any, bias: Any, eps: float, stem: str,
                   latex: str, mean: _Value | None = None, var: _Value | None = None) -> _Value:
        """(x − mean)·(var + eps)^(−1/2)·weight + bias over ``dims`` (LayerNorm; BatchNorm over the
        batch), with the batch's biased variance unless ``mean`` and ``var`` are given (running)."""
        x = self.dense(x, node)
        if mean is None:
            mean = self.reduced(x, dims, True, "mean", f"{stem}_mean", latex, "mean")
        centred = self.arith("sub", node, [x, mean], f"{stem}_centred", latex, False)
        if var is None:
            squared = self.mapped("square", "pow", centred, f"{stem}_sq", latex, 2)
            var = self.reduced(squared, dims, True, "mean", f"{stem}_var", latex, "mean")
        shifted = self.arith("add", node, [var, eps], f"{stem}_vareps", latex, False)
        scale = self.mapped("rsqrt", "pow", shifted, f"{stem}_rstd", latex, sp.Rational(-1, 2))
        out = self.arith("mul", node, [centred, scale], f"{stem}_hat" if weight is not None or bias is not None
                         else stem, latex, False)
        if weight is not None:
            out = self.arith("mul", node, [out, weight], stem if bias is None else f"{stem}_scaled", latex, False)
        if bias is not None:
            out = self.arith("add", node, [out, bias], stem, latex, False)
        return out

    def op_scaled_dot_product_attention(self, node, args, kwargs, stem, latex, final):
        """softmax(q·kᵀ·scale (+ mask), over the last dim)·v; ``is_causal``: the upper triangle −inf."""
        import torch
        q, k, v, mask, dropout, causal, scale = self.loss_args(
            args, kwargs, ("query", "key", "value", "attn_mask", "dropout_p", "is_causal", "scale"),
            {"dropout_p": 0.0, "is_causal": False})
        if dropout:
            raise _refused([_refusal("attention dropout", node, self.places, "dropout_p=0, or model.eval()")])
        q, k, v = (self.dense(t, node) for t in (q, k, v))
        keys_t = self.rearrange(node, [k, -2, -1], {}, f"{stem}_kT", latex, what="transpose",
                                call=lambda t, a, b: t.transpose(a, b))
        scores = self.op_matmul(node, [q, keys_t], {}, f"{stem}_scores", latex, False)
        factor = python_number(scale) if scale is not None else 1 / sp.sqrt(q.shape[-1])
        scores = self.arith("mul", node, [scores, factor], f"{stem}_scaled", latex, False)
        L, S = q.shape[-2], k.shape[-2]
        if causal:
            lower = torch.ones(L, S, dtype=torch.bool).tril()
            mask = _Data(lower, f"{stem}_causal")
        if isinstance(mask, _Data) and mask.value.dtype == torch.bool:
            where = torch.broadcast_to(~mask.value, scores.shape).reshape(-1).tolist()
            scores = _Value(scores.shape, scores.mats, masked=frozenset(i for i, m in enumerate(where) if m))
        elif mask is not None:
            scores = self.arith("add", node, [scores, mask], f"{stem}_masked", latex, False)
        weights = self.softmax(node, scores, -1, f"{stem}_weights", latex)
        return self.op_matmul(node, [weights, v], {}, stem, latex, final)

    # ----- losses, as F.* in forward and as loss= (one implementation each)
    def reduced_loss(self, node, per: _Value, reduction: str, stem: str, latex: str, final: bool,
                     count: int | None = None) -> Any:
        """A loss's entries reduced as ``reduction`` says: their sum, their mean (over ``count``
        when given: the entries not ignored, the batch for 'batchmean'), or all of them ('none')."""
        if reduction == "none":
            return per
        if reduction == "mean" and count is None:
            return self.reduce(node, [per], {}, stem, latex, final, True)
        total = self.reduce(node, [per], {}, stem if reduction == "sum" else f"{stem}_sum", latex,
                            final and reduction == "sum", False)
        if reduction == "sum":
            return total
        return self.arith("div", node, [total, count], stem, latex, final)

    def loss_args(self, args: list, kwargs: dict, names: Sequence[str], defaults: Mapping[str, Any]) -> list:
        """A functional loss's arguments by name, positional or keyword, with PyTorch's defaults."""
        return [args[k] if k < len(args) else kwargs.get(name, defaults.get(name)) for k, name in enumerate(names)]

    def op_mse_loss(self, node, args, kwargs, stem, latex, final):
        x, t, reduction = self.loss_args(args, kwargs, ("input", "target", "reduction"), {"reduction": "mean"})
        diff = self.arith("sub", node, [x, t], f"{stem}_diff", latex, False)
        return self.reduced_loss(node, self.mapped("square", "pow", diff, f"{stem}_sq", latex, 2), reduction, stem,
                                 latex, final)

    def op_l1_loss(self, node, args, kwargs, stem, latex, final):
        x, t, reduction = self.loss_args(args, kwargs, ("input", "target", "reduction"), {"reduction": "mean"})
        diff = self.arith("sub", node, [x, t], f"{stem}_diff", latex, False)
        return self.reduced_loss(node, self.mapped("abs", "abs", diff, f"{stem}_abs", latex), reduction, stem, latex,
                                 final)

    def op_huber_loss(self, node, args, kwargs, stem, latex, final, scale: float = 1.0):
        x, t, reduction, delta = self.loss_args(args, kwargs, ("input", "target", "reduction", "delta"),
                                                {"reduction": "mean", "delta": 1.0})
        return self.huber(node, x, t, reduction, delta, 1.0, stem, latex, final)

    def op_smooth_l1_loss(self, node, args, kwargs, stem, latex, final):
        x, t, reduction, beta = self.loss_args(args, kwargs, ("input", "target", "reduction", "beta"),
                                               {"reduction": "mean", "beta": 1.0})
        if beta == 0:
            return self.op_l1_loss(node, [x, t, reduction], {}, stem, latex, final)
        return self.huber(node, x, t, reduction, beta, beta, stem, latex, final)

    def huber(self, node, x, t, reduction, delta, divisor, stem, latex, final):
        """½·min(|d|, δ)² + δ·(|d| − min(|d|, δ)): ½d² inside δ, δ(|d| − ½δ) outside (over β: smooth L1)."""
        size = self.mapped("abs", "abs", self.arith("sub", node, [x, t], f"{stem}_diff", latex, False),
                           f"{stem}_abs", latex)
        inside = self.mapped("clamp_max", "min", size, f"{stem}_in", latex, python_number(delta))
        quadratic = self.arith("mul", node, [self.mapped("square", "pow", inside, f"{stem}_sq", latex, 2),
                                             sp.Rational(1, 2)], f"{stem}_quad", latex, False)
        linear = self.arith("mul", node, [self.arith("sub", node, [size, inside], f"{stem}_out", latex, False),
                                          delta], f"{stem}_lin", latex, False)
        per = self.arith("add", node, [quadratic, linear], f"{stem}_each" if divisor == 1 else f"{stem}_h", latex,
                         False)
        if divisor != 1:
            per = self.arith("div", node, [per, divisor], f"{stem}_each", latex, False)
        return self.reduced_loss(node, per, reduction, stem, latex, final)

    def op_binary_cross_entropy(self, node, args, kwargs, stem, latex, final):
        p, t, _, reduction = self.loss_args(args, kwargs, ("input", "target", "weight", "reduction"),
                                            {"reduction": "mean"})
        log_p = self.mapped("log", "log", p, f"{stem}_logp", latex)
        log_q = self.mapped("log", "log", self.arith("sub", node, [1, p], f"{stem}_q", latex, False), f"{stem}_logq",
                            latex)
        agree = self.arith("add", node, [self.arith("mul", node, [t, log_p], f"{stem}_tp", latex, False),
                                         self.arith("mul", node, [self.arith("sub", node, [1, t], f"{stem}_1mt", latex,
                                                                             False), log_q],
                                                    f"{stem}_tq", latex, False)], f"{stem}_ll", latex, False)
        return self.reduced_loss(node, self.mapped("neg", "neg", agree, f"{stem}_each", latex), reduction, stem, latex,
                                 final)

    def op_binary_cross_entropy_with_logits(self, node, args, kwargs, stem, latex, final):
        z, t, _, _, reduction = self.loss_args(args, kwargs, ("input", "target", "weight", "size_average", "reduce"),
                                               {})
        reduction = kwargs.get("reduction", "mean")
        softplus = self.softplus(node, self.mapped("neg", "neg", z, f"{stem}_negz", latex), 1, f"{stem}_sp", latex)
        per = self.arith("add", node, [self.arith("mul", node, [self.arith("sub", node, [1, t], f"{stem}_1mt", latex,
                                                                          False), z], f"{stem}_tz", latex, False),
                                       softplus], f"{stem}_each", latex, False)
        return self.reduced_loss(node, per, reduction, stem, latex, final)

    def op_cross_entropy(self, node, args, kwargs, stem, latex, final):
        x, t, _, _, ignore_index, _, reduction, smoothing = self.loss_args(
            args, kwargs, ("input", "target", "weight", "size_average", "ignore_index", "reduce", "reduction",
                           "label_smoothing"), {"ignore_index": -100, "reduction": "mean", "label_smoothing": 0.0})
        x = self.dense(x, node)
        log_p = self.log_softmax(node, x, 1 if len(x.shape) > 1 else 0, f"{stem}_logp", latex)
        return self.negative_log_likelihood(node, log_p, t, ignore_index, reduction, smoothing, stem, latex, final)

    def op_nll_loss(self, node, args, kwargs, stem, latex, final):
        x, t, _, _, ignore_index, _, reduction = self.loss_args(
            args, kwargs, ("input", "target", "weight", "size_average", "ignore_index", "reduce", "reduction"),
            {"ignore_index": -100, "reduction": "mean"})
        return self.negative_log_likelihood(node, self.dense(x, node), t, ignore_index, reduction, 0.0, stem, latex,
                                            final)

    def negative_log_likelihood(self, node, log_p: _Value, target: Any, ignore_index: int, reduction: str,
                                smoothing: float, stem: str, latex: str, final: bool) -> Any:
        """−Σ_c q_c·log p_c per row, q the target (a class: one-hot; probabilities: as given), smoothed
        to (1 − ε)·q + ε/C; mean over the rows whose class is not ``ignore_index``."""
        rows = [_flat(log_p)] if len(log_p.shape) == 1 else \
            [_flat(log_p)[i * log_p.shape[1]:(i + 1) * log_p.shape[1]] for i in range(log_p.shape[0])]
        classes = len(rows[0])
        eps = python_number(smoothing)
        if isinstance(target, _Data):  # class indices
            labels = [int(v) for v in target.value.reshape(-1).tolist()]
            weights = [None if c == ignore_index else
                       [(1 - eps) * sp.Integer(int(k == c)) + eps / classes for k in range(classes)] for c in labels]
            count = sum(w is not None for w in weights)
        else:
            probabilities = _flat(self.dense(target, node))
            weights = [[probabilities[i * classes + k] for k in range(classes)] for i in range(len(rows))]
            count = len(rows)
            if smoothing:
                raise _refused([_refusal("label smoothing with probability targets", node, self.places)])

        def make(i: int, n: str, lx: str) -> Node:
            if weights[i] is None:
                return self.g.const(0)
            pairs = [v for k in range(classes) if not (isinstance(weights[i][k], sp.Basic) and weights[i][k] == 0)
                     for v in (-weights[i][k] if isinstance(weights[i][k], sp.Basic) else weights[i][k], rows[i][k])]
            if not isinstance(weights[i][0], sp.Basic):  # probabilities: −Σ q·log p, the q data nodes
                pairs = [v for k in range(classes) for v in (weights[i][k], rows[i][k])]
                return self.g.apply("neg", self.g.apply("dot", *pairs), name=n, latex=lx)
            return self.g.apply("dot", *pairs, name=n, latex=lx)
        per = self.nd(f"{stem}_each", latex, (len(rows),), make, MATRIX_GATES["torch_arrange"], lambda m: log_p.mats,
                      lambda m: _arrange_form("nll")(*(t.symbol for t in log_p.mats)), what="nll")
        if len(log_p.shape) == 1:
            per = self.arranged(f"{stem}_one", latex, (), _flat(per), per.mats, "item")
        return self.reduced_loss(node, per, reduction, stem, latex, final,
                                 count=count if reduction == "mean" and count != len(rows) else None)

    def op_kl_div(self, node, args, kwargs, stem, latex, final):
        x, t, _, _, reduction, log_target = self.loss_args(
            args, kwargs, ("input", "target", "size_average", "reduce", "reduction", "log_target"),
            {"reduction": "mean", "log_target": False})
        x = self.dense(x, node)
        targets = _flat(self.dense(t, node))
        inputs = _flat(x)

        def make(k: int, n: str, lx: str) -> Node:
            q = targets[k]
            if log_target:  # e^t·(t − x)
                return self.g.apply("mul", self.g.apply("exp", q), self.g.apply("sub", q, inputs[k]), name=n, latex=lx)
            if q.value == 0:
                return self.g.const(0)
            return self.g.apply("mul", q, self.g.apply("sub", self.g.apply("log", q), inputs[k]), name=n, latex=lx)
        per = self.nd(f"{stem}_each", latex, x.shape, make, MATRIX_GATES["torch_arrange"], lambda m: x.mats,
                      lambda m: _arrange_form("kl")(x.mats[m].symbol), what="kl")
        if reduction == "batchmean":
            return self.reduced_loss(node, per, "mean", stem, latex, final, count=x.shape[0])
        return self.reduced_loss(node, per, reduction, stem, latex, final)

    def cell_linear(self, node, x: _Value, qual: str, which: str, stem: str, latex: str) -> _Value:
        """x·W_{which}ᵀ + b_{which} of a recurrent cell (``ih`` or ``hh``)."""
        weight = self.param(f"{qual}.weight_{which}")
        product = self.op_matmul(node, [x, self.op_rearrange_t(node, weight, stem)], {}, f"{stem}_{which}", latex,
                                 False)
        bias_name = f"{qual}.bias_{which}"
        if bias_name in dict(self.model.named_parameters()):
            product = self.arith("add", node, [product, self.param(bias_name)], f"{stem}_{which}b", latex, False)
        return product

    def module_loss(self, loss: Any, out: _Value, target: Any) -> Node:
        """``loss=`` of a class the functional handlers work: its settings as F.*'s arguments."""
        kind = type(loss).__name__
        node = next(n for n in self.gm.graph.nodes if n.op == "output")
        t = _Data(target, "y") if not target.is_floating_point() else \
            self.value_of(_Data(target, "y"))
        settings = {name: getattr(loss, name) for name in ("reduction", "ignore_index", "label_smoothing", "delta",
                                                           "beta", "log_target") if hasattr(loss, name)}
        handler = {"L1Loss": self.op_l1_loss, "BCEWithLogitsLoss": self.op_binary_cross_entropy_with_logits,
                   "NLLLoss": self.op_nll_loss, "HuberLoss": self.op_huber_loss,
                   "SmoothL1Loss": self.op_smooth_l1_loss, "KLDivLoss": self.op_kl_div,
                   "CrossEntropyLoss": self.op_cross_entropy, "MSELoss": self.op_mse_loss,
                   "BCELoss": self.op_binary_cross_entropy}[kind]
        result = handler(node, [out, t], settings, "loss", "L", True)
        return result if isinstance(result, Node) else _as_loss(self, result)

    def cell_inputs(self, m, node, x: _Value, state: Any) -> tuple[_Value, Any]:
        """The input as a batch of rows, and the state (zeros when None, as PyTorch does)."""
        import torch
        if len(x.shape) == 1:
            x = self.arranged(f"{self.stem(node)}_x", "x", (1, x.shape[0]), _flat(x), x.mats, "unsqueeze0")
        if state is None:
            zeros = _Data(torch.zeros(x.shape[0], m.hidden_size), f"{self.stem(node)}_h0")
            state = (self.value_of(zeros), self.value_of(_Data(zeros.value.clone(), f"{self.stem(node)}_c0"))) \
                if type(m).__name__ == "LSTMCell" else self.value_of(zeros)
        return x, state

    def module_RNNCell(self, m, node, x, stem, latex, final, state=None):
        """h' = tanh(x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh) (relu with nonlinearity='relu')."""
        x, h = self.cell_inputs(m, node, x, state)
        total = self.arith("add", node, [self.cell_linear(node, x, node.target, "ih", stem, latex),
                                         self.cell_linear(node, h, node.target, "hh", stem, latex)],
                           f"{stem}_pre", latex, False)
        return self.elementwise("tanh" if m.nonlinearity == "tanh" else "relu", total, stem, latex)

    def module_GRUCell(self, m, node, x, stem, latex, final, state=None):
        """r, z, n gates: r = σ(·), z = σ(·), n = tanh(x_n + r ⊙ h_n), h' = (1 − z) ⊙ n + z ⊙ h."""
        x, h = self.cell_inputs(m, node, x, state)
        gi = self.cell_linear(node, x, node.target, "ih", stem, latex)
        gh = self.cell_linear(node, h, node.target, "hh", stem, latex)
        size = m.hidden_size
        (i_r, i_z, i_n) = self.rearrange(node, [gi, size], {}, f"{stem}_i", latex, what="chunk",
                                         call=lambda t, n: t.split(n, dim=-1))
        (h_r, h_z, h_n) = self.rearrange(node, [gh, size], {}, f"{stem}_h", latex, what="chunk",
                                         call=lambda t, n: t.split(n, dim=-1))
        r = self.elementwise("sigmoid", self.arith("add", node, [i_r, h_r], f"{stem}_rpre", latex, False),
                             f"{stem}_r", latex)
        z = self.elementwise("sigmoid", self.arith("add", node, [i_z, h_z], f"{stem}_zpre", latex, False),
                             f"{stem}_z", latex)
        n = self.elementwise("tanh", self.arith("add", node, [i_n, self.arith("mul", node, [r, h_n], f"{stem}_rh",
                                                                                latex, False)],
                                                f"{stem}_npre", latex, False), f"{stem}_n", latex)
        keep = self.arith("mul", node, [z, h], f"{stem}_zh", latex, False)
        fresh_part = self.arith("mul", node, [self.arith("sub", node, [1, z], f"{stem}_1mz", latex, False), n],
                                f"{stem}_zn", latex, False)
        return self.arith("add", node, [fresh_part, keep], stem, latex, False)

    def module_LSTMCell(self, m, node, x, stem, latex, final, state=None):
        """i, f, g, o gates: c' = f ⊙ c + i ⊙ g, h' = o ⊙ tanh(c')."""
        x, (h, c) = self.cell_inputs(m, node, x, state)
        gates = self.arith("add", node, [self.cell_linear(node, x, node.target, "ih", stem, latex),
                                         self.cell_linear(node, h, node.target, "hh", stem, latex)],
                           f"{stem}_gates", latex, False)
        i, f, g, o = self.rearrange(node, [gates, m.hidden_size], {}, f"{stem}_g", latex, what="chunk",
                                    call=lambda t, n: t.split(n, dim=-1))
        i, f, o = (self.elementwise("sigmoid", v, f"{stem}_{k}", latex) for v, k in ((i, "i"), (f, "f"), (o, "o")))
        g = self.elementwise("tanh", g, f"{stem}_cand", latex)
        c_next = self.arith("add", node, [self.arith("mul", node, [f, c], f"{stem}_fc", latex, False),
                                          self.arith("mul", node, [i, g], f"{stem}_ig", latex, False)],
                            f"{stem}_c", latex, False)
        h_next = self.arith("mul", node, [o, self.elementwise("tanh", c_next, f"{stem}_tanhc", latex)], stem, latex,
                            False)
        return (h_next, c_next)

    def module_BatchNorm1d(self, m, node, x, stem, latex, final):
        return self.batch_norm(m, node, x, stem, latex)

    module_BatchNorm2d = module_BatchNorm1d

    def batch_norm(self, m, node, x: _Value, stem: str, latex: str) -> _Value:
        """Training: the batch's mean and biased variance over every dim but the channels (1);
        evaluation: the running statistics (data). Weight and bias per channel."""
        channel_shape = tuple(s if d == 1 else 1 for d, s in enumerate(x.shape))
        dims = tuple(d for d in range(len(x.shape)) if d != 1)

        def per_channel(qualname: str) -> _Value:
            p = self.param(qualname)
            return self.arranged(f"{self.stem(node)}_{qualname.rsplit('.', 1)[1]}", latex, channel_shape, _flat(p),
                                 p.mats, "view")
        weight = per_channel(f"{node.target}.weight") if m.affine else None
        bias = per_channel(f"{node.target}.bias") if m.affine else None
        if m.training or not m.track_running_stats:
            return self.normalized(node, x, dims, weight, bias, m.eps, stem, latex)
        mean = self.value_of(_Data(m.running_mean.detach().reshape(channel_shape), f"{stem}_rmean"))
        var = self.value_of(_Data(m.running_var.detach().reshape(channel_shape), f"{stem}_rvar"))
        return self.normalized(node, x, dims, weight, bias, m.eps, stem, latex, mean=mean, var=var)

    def op_gelu(self, node, args, kwargs, stem, latex, final):
        approximate = args[1] if len(args) > 1 else kwargs.get("approximate", "none")
        return self.gelu(node, args[0], approximate, stem, latex)

    def module_GELU(self, m, node, x, stem, latex, final):
        return self.gelu(node, x, m.approximate, stem, latex)

    def gelu(self, node, x: _Value, approximate: str, stem: str, latex: str) -> _Value:
        """x·(1 + erf(x/√2))/2, or with tanh: x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))/2."""
        if approximate == "tanh":
            cube = self.mapped("cube", "pow", x, f"{stem}_cube", latex, 3)
            inner = self.arith("add", node, [x, self.arith("mul", node, [cube, 0.044715], f"{stem}_c3", latex,
                                                           False)], f"{stem}_inner", latex, False)
            scaled = self.arith("mul", node, [inner, sp.sqrt(2 / sp.pi)], f"{stem}_arg", latex, False)
            squash = self.mapped("tanh", "tanh", scaled, f"{stem}_tanh", latex)
        else:
            scaled = self.arith("mul", node, [x, sp.sqrt(2) / 2], f"{stem}_arg", latex, False)
            squash = self.mapped("erf", "erf", scaled, f"{stem}_erf", latex)
        half = self.arith("mul", node, [x, sp.Rational(1, 2)], f"{stem}_half", latex, False)
        return self.arith("mul", node, [half, self.arith("add", node, [squash, 1], f"{stem}_gate", latex, False)],
                          stem, latex, False)

    def op_elu(self, node, args, kwargs, stem, latex, final):
        """max(x, 0) + min(0, α(eˣ − 1))."""
        alpha = args[1] if len(args) > 1 else kwargs.get("alpha", 1.0)
        x = self.dense(args[0], node)
        curve = self.arith("mul", node, [self.arith("sub", node, [self.mapped("exp", "exp", x, f"{stem}_exp", latex),
                                                                  1], f"{stem}_em1", latex, False), alpha],
                           f"{stem}_neg", latex, False)
        return self.arith("add", node, [self.mapped("clamp_min", "max", x, f"{stem}_pos", latex, 0),
                                        self.mapped("clamp_max", "min", curve, f"{stem}_negpart", latex, 0)],
                          stem, latex, False)

    def module_ELU(self, m, node, x, stem, latex, final):
        return self.op_elu(node, [x, m.alpha], {}, stem, latex, final)

    def op_relu6(self, node, args, kwargs, stem, latex, final):
        return self.op_clamp(node, [args[0], 0, 6], {}, stem, latex, final)

    def module_ReLU6(self, m, node, x, stem, latex, final):
        return self.op_relu6(node, [x], {}, stem, latex, final)

    def op_hardtanh(self, node, args, kwargs, stem, latex, final):
        low = args[1] if len(args) > 1 else kwargs.get("min_val", -1.0)
        high = args[2] if len(args) > 2 else kwargs.get("max_val", 1.0)
        return self.op_clamp(node, [args[0], low, high], {}, stem, latex, final)

    def module_Hardtanh(self, m, node, x, stem, latex, final):
        return self.op_hardtanh(node, [x, m.min_val, m.max_val], {}, stem, latex, final)

    def op_silu(self, node, args, kwargs, stem, latex, final):
        x = self.dense(args[0], node)
        return self.arith("mul", node, [x, self.elementwise("sigmoid", x, f"{stem}_sigmoid", latex)], stem, latex,
                          False)

    def module_SiLU(self, m, node, x, stem, latex, final):
        return self.op_silu(node, [x], {}, stem, latex, final)

    def softplus(self, node, x: _Value, beta: float, stem: str, latex: str) -> _Value:
        """log(1 + exp(β·x))/β."""
        z = x if beta == 1 else self.arith("mul", node, [x, beta], f"{stem}_scaled", latex, False)
        e = self.mapped("exp", "exp", z, f"{stem}_exp", latex)
        out = self.mapped("log", "log", self.arith("add", node, [e, 1], f"{stem}_1p", latex, False),
                          stem if beta == 1 else f"{stem}_log", latex)
        return out if beta == 1 else self.arith("div", node, [out, beta], stem, latex, False)

    def op_softplus(self, node, args, kwargs, stem, latex, final):
        return self.softplus(node, self.dense(args[0], node), args[1] if len(args) > 1 else kwargs.get("beta", 1),
                             stem, latex)

    def module_Softplus(self, m, node, x, stem, latex, final):
        if m.threshold < 100:
            self.remarks.append(f"{m!r}: worked as log(1 + exp(βx))/β everywhere (PyTorch switches to x above "
                                "the threshold, where the two agree to float precision).")
        return self.softplus(node, self.dense(x, node), m.beta, stem, latex)

    def op_leaky_relu(self, node, args, kwargs, stem, latex, final):
        slope = args[1] if len(args) > 1 else kwargs.get("negative_slope", 0.01)
        x = self.dense(args[0], node)
        return self.arith("max", node, [x, self.arith("mul", node, [x, slope], f"{stem}_slope", latex, False)],
                          stem, latex, False)

    def module_LeakyReLU(self, m, node, x, stem, latex, final):
        return self.op_leaky_relu(node, [x, m.negative_slope], {}, stem, latex, final)

    def op_dropout(self, node, args, kwargs, stem, latex, final):
        p = args[1] if len(args) > 1 else kwargs.get("p", 0.5)
        training = args[2] if len(args) > 2 else kwargs.get("training", True)
        if training and p > 0:
            raise _refused([_refusal("F.dropout in training mode", node, self.places,
                                     "pass training=self.training and call model.eval() first")])
        return args[0]

    def op_linear(self, node, args, kwargs, stem, latex, final):
        x, weight = args[0], args[1]
        bias = args[2] if len(args) > 2 else kwargs.get("bias")
        product = self.op_matmul(node, [x, self.op_rearrange_t(node, weight, stem)], {}, f"{stem}_xw", latex, False)
        return product if bias is None else self.arith("add", node, [product, bias], stem, latex, final)

    def op_rearrange_t(self, node, w: _Value, stem: str) -> _Value:
        return _Value((w.shape[1], w.shape[0]), w.mats, not w.transposed) if len(w.shape) == 2 else w

    def mapped(self, fn: str, gate: str, x: _Value, stem: str, latex: str, *constants: Any) -> _Value:
        """``gate(entry, *constants)`` entry by entry (``sqrt``, ``abs``, ``x ** 2``, a clamp)."""
        x = self.dense(x, None)
        mats = []
        for c, X in enumerate(x.mats):
            name, lx = _channels(stem, latex, len(x.mats), c)
            make = (lambda i, j, n, lx_, X=X: self.g.apply(gate, X.nodes[i][j], *constants, name=n, latex=lx_))
            mats.append(self.build(name, lx, X.shape, make, MATRIX_GATES["torch_map"], (X,),
                                   _map_form(fn)(X.symbol), fn=fn))
        return _Value(x.shape, tuple(mats))

    def op_trig(self, node, args, kwargs, stem, latex, final):
        fn = node.target if isinstance(node.target, str) else node.target.__name__
        return self.mapped(fn, fn, args[0], stem, latex)

    def op_rsqrt(self, node, args, kwargs, stem, latex, final):
        return self.mapped("rsqrt", "pow", args[0], stem, latex, sp.Rational(-1, 2))

    def op_prod(self, node, args, kwargs, stem, latex, final):
        x = self.dense(args[0], node)
        dim = args[1] if len(args) > 1 else kwargs.get("dim")
        keepdim = bool(args[2] if len(args) > 2 else kwargs.get("keepdim", False))
        dims = tuple(range(len(x.shape))) if dim is None else (dim % max(len(x.shape), 1),)
        return self.reduced(x, dims, keepdim, "mul", stem, latex, "prod")

    def op_pad(self, node, args, kwargs, stem, latex, final):
        import torch.nn.functional as F
        mode = args[2] if len(args) > 2 else kwargs.get("mode", "constant")
        value = args[3] if len(args) > 3 else kwargs.get("value")
        if mode != "constant" or value not in (None, 0):
            raise _refused([_refusal(f"F.pad with mode={mode!r}, value={value!r}", node, self.places,
                                     "pad with zeros (the default)")])
        return self.rearrange(node, [args[0], args[1]], {}, stem, latex, what="pad",
                              call=lambda t, pad: F.pad(t, pad))

    def op_erf(self, node, args, kwargs, stem, latex, final):
        return self.mapped("erf", "erf", args[0], stem, latex)

    def op_sqrt(self, node, args, kwargs, stem, latex, final):
        return self.mapped("sqrt", "sqrt", args[0], stem, latex)

    def op_abs(self, node, args, kwargs, stem, latex, final):
        return self.mapped("abs", "abs", args[0], stem, latex)

    def op_square(self, node, args, kwargs, stem, latex, final):
        return self.mapped("square", "pow", args[0], stem, latex, 2)

    def op_pow(self, node, args, kwargs, stem, latex, final):
        base, exponent = args[0], args[1] if len(args) > 1 else kwargs["exponent"]
        if isinstance(base, _Value) and not isinstance(exponent, _Value):
            return self.mapped(f"pow{exponent}" if isinstance(exponent, int) and exponent >= 0 else "pow", "pow",
                               base, stem, latex, python_number(exponent))
        return self.arith("pow", node, [base, exponent], stem, latex, final)

    def op_clamp(self, node, args, kwargs, stem, latex, final):
        low = args[1] if len(args) > 1 else kwargs.get("min")
        high = args[2] if len(args) > 2 else kwargs.get("max")
        if isinstance(low, _Value) or isinstance(high, _Value):
            raise _refused([_refusal("clamp with tensor bounds", node, self.places,
                                     "write torch.maximum(x, low) and torch.minimum(x, high)")])
        out = args[0]
        if low is not None:
            out = self.mapped("clamp_min", "max", out, stem if high is None else f"{stem}_low", latex,
                              python_number(low))
        if high is not None:
            out = self.mapped("clamp_max", "min", out, stem, latex, python_number(high))
        return out

    def op_maximum(self, node, args, kwargs, stem, latex, final):
        return self.arith("max", node, args, stem, latex, final)

    def op_minimum(self, node, args, kwargs, stem, latex, final):
        return self.arith("min", node, args, stem, latex, final)

    def op_add(self, node, args, kwargs, stem, latex, final):
        return self.arith("add", node, args, stem, latex, final)

    def op_sub(self, node, args, kwargs, stem, latex, final):
        return self.arith("sub", node, args, stem, latex, final)

    def op_mul(self, node, args, kwargs, stem, latex, final):
        return self.arith("mul", node, args, stem, latex, final)

    def op_div(self, node, args, kwargs, stem, latex, final):
        return self.arith("div", node, args, stem, latex, final)


def _leaves(a: Any) -> list:
    """The values inside nested tuples, lists and dicts."""
    if isinstance(a, (tuple, list)):
        return [x for v in a for x in _leaves(v)]
    if isinstance(a, dict):
        return [x for v in a.values() for x in _leaves(v)]
    return [a]


def _holds_value(a: Any) -> bool:
    """Whether a traced tensor (with a gradient) is among ``a``'s leaves."""
    return any(isinstance(x, (_Value, _Pair)) for x in _leaves(a))


def _unwrap(a: Any) -> Any:
    """``a`` with data as its torch tensors."""
    if isinstance(a, (tuple, list)):
        return type(a)(_unwrap(v) for v in a)
    if isinstance(a, dict):
        return {k: _unwrap(v) for k, v in a.items()}
    return a.value if isinstance(a, _Data) else a


def _is_node(a: Any) -> bool:
    return type(a).__name__ == "Node" and hasattr(a, "op") and hasattr(a, "users")


def _map_nodes(a: Any, env: dict) -> Any:
    if isinstance(a, (tuple, list)):
        return type(a)(env[x] if _is_node(x) else _map_nodes(x, env) for x in a)
    return a


def _flattened(shape: tuple[int, ...], start: int, end: int) -> tuple[int, ...]:
    rank = len(shape)
    start, end = start % rank, end % rank
    return (*shape[:start], math.prod(shape[start:end + 1]), *shape[end + 1:])


def _groups(shape: tuple[int, ...], dims: tuple[int, ...], keepdim: bool
            ) -> tuple[tuple[int, ...], list[list[int]]]:
    """A reduction over ``dims``: its result's shape and, for each of its entries in order, the
    flat positions of the entries it reduces."""
    rank = len(shape)
    kept = [d for d in range(rank) if d not in dims]
    index = list(range(math.prod(shape)))
    out_shape = tuple(1 if d in dims else shape[d] for d in range(rank) if keepdim or d not in dims)
    groups: dict[tuple, list[int]] = {}
    for k in index:
        position = _unravel(k, shape)
        groups.setdefault(tuple(position[d] for d in kept), []).append(k)
    return out_shape, [groups[key] for key in sorted(groups)]


def _unravel(k: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    out = []
    for s in reversed(shape):
        out.append(k % s)
        k //= s
    return tuple(reversed(out))


def _ravel(index: tuple[int, ...], shape: tuple[int, ...]) -> int:
    k = 0
    for i, s in zip(index, shape):
        k = k * s + i
    return k


# ----- the loss --------------------------------------------------------------------------------

def _loss(b: _Builder, loss: Any, out: _Value, target: Any) -> tuple[Node, str]:
    """The loss node ``L`` of the model's output and the target, and the loss's section title."""
    kind = type(loss).__name__
    entries = _flat(out)
    ys = [n.symbol for n in entries]
    mean = loss.reduction == "mean"
    if target is None:
        raise TorchError(f"from_torch: {kind} needs a target: give target=")
    tshape = tuple(target.shape)
    if kind == "CrossEntropyLoss" and not target.is_floating_point():
        classes = _flatten(_exact_entries(target, "target", False))
        rows = [ys] if len(out.shape) == 1 else [ys[i * out.shape[1]:(i + 1) * out.shape[1]]
                                                 for i in range(out.shape[0])]
        if len(out.shape) not in (1, 2) or len(classes) != len(rows):
            raise TorchError(f"from_torch: CrossEntropyLoss of an output of shape {out.shape} with a target of "
                             f"shape {tshape}; supported: (C,) with one class index, or (N, C) with N")
        terms = []
        for row, cls in zip(rows, classes):
            if not 0 <= int(cls) < len(row):
                raise TorchError(f"from_torch: CrossEntropyLoss: the target class {cls} is not one of 0 to "
                                 f"{len(row) - 1}")
            terms.append(-row[int(cls)] + sp.log(sp.Add(*(sp.exp(z) for z in row))))
        expr = sp.Add(*terms)
        if mean and len(terms) > 1:
            expr = expr / len(terms)
        b.remarks.append(f"The target class{'es are' if len(classes) > 1 else ' is'} "
                         f"{', '.join(str(c) for c in classes)} (counted from 0, as PyTorch does).")
    else:
        if tshape != tuple(out.shape):
            raise TorchError(f"from_torch: {kind}: the target's shape {tshape} is not the output's {tuple(out.shape)}")
        if len(_layout(tshape)) != 1:
            raise TorchError(f"from_torch: {kind} of an image-shaped output; supported: a vector or a matrix")
        (t_mat,) = b.leaf("y", "y", "y", _exact_entries(target, "target", b.exact_binary), tshape, True)
        ts = [n.symbol for n in t_mat.entries]
        if kind == "MSELoss":
            expr = sp.Add(*((y - t) ** 2 for y, t in zip(ys, ts)))
        elif kind == "BCELoss":
            expr = -sp.Add(*(t * sp.log(y) + (1 - t) * sp.log(1 - y) for y, t in zip(ys, ts)))
        else:  # CrossEntropyLoss with probabilities
            rows = len(out.shape) == 2
            width = out.shape[-1]
            expr = sp.Integer(0)
            for i in range(len(ys) // width):
                z, p = ys[i * width:(i + 1) * width], ts[i * width:(i + 1) * width]
                log_total = sp.log(sp.Add(*(sp.exp(v) for v in z)))
                expr += -sp.Add(*(q * (v - log_total) for q, v in zip(p, z)))
            if mean and rows:
                expr = expr / (len(ys) // width)
        if mean and kind != "CrossEntropyLoss" and len(ys) > 1:
            expr = expr / len(ys)
    return b.g.define("L", expr), f"the loss, {kind}(reduction='{loss.reduction}')"


# ----- the front door --------------------------------------------------------------------------

def from_torch(model: Any, inputs: Any, *, loss: Any = None, target: Any = None, exact_binary: bool = False,
               title: str | None = None, convention: str = "pytorch", wrt: Sequence[str] = ()) -> TorchSolution:
    """The worked solution of a PyTorch ``model`` (an ``nn.Module``) at ``inputs`` (a tensor, or a
    tuple of them, one per argument of ``forward``): traced with torch.fx, every parameter's
    gradient of ``loss(model(inputs), target)`` (an ``nn.MSELoss``, ``nn.CrossEntropyLoss`` or
    ``nn.BCELoss``), or of the model's own output when it is a number and ``loss`` is None.

    A float entry becomes the shortest decimal that rounds to it at the tensor's dtype (float32
    0.15 is 3/20); ``exact_binary=True`` keeps its binary value. The gradients are checked against
    PyTorch's autograd in float64 at those values (:meth:`TorchSolution.check_against_autograd`).
    A module, function or method it does not support is refused, before any work, with a
    :class:`~symderiv.errors.TorchError` naming it and where it is in the model's code. An input
    made with ``requires_grad=True``, or named in ``wrt`` (``forward``'s argument names), gets its
    gradient in ``results`` too, by that name.
    """
    try:
        import torch
        from torch import fx
    except ImportError:
        raise TorchError(INSTALL) from None
    torch_dir = os.path.dirname(os.path.abspath(torch.__file__))
    if not isinstance(model, torch.nn.Module):
        raise TorchError(f"from_torch: expected a torch.nn.Module, got {type(model).__name__}")
    example = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    if not all(isinstance(x, torch.Tensor) for x in example):
        raise TorchError("from_torch: inputs: expected a tensor or a tuple of tensors")
    if loss is not None:
        problem = _loss_problem(loss)
        if problem:
            raise TorchError(f"from_torch: {problem} is not supported; supported losses: "
                             f"{', '.join(op.key for op in LOSSES)} "
                             "with reduction 'mean' or 'sum'")
    if target is not None and not isinstance(target, torch.Tensor):
        raise TorchError("from_torch: target: expected a tensor")

    one_layer = _is_leaf(model)
    if one_layer:  # fx traces into the root's own forward: trace it as the one layer of a Sequential
        model = torch.nn.Sequential(model)
    gm = _trace(model, fx, torch_dir, example)
    places = _Places(model, torch_dir, example)
    _check_supported(gm, places, _traced_nodes(gm, example))
    _check_size(gm, example)
    placeholders = [n for n in gm.graph.nodes if n.op == "placeholder"]
    if len(placeholders) != len(example):
        raise TorchError(f"from_torch: the model's forward takes {len(placeholders)} input(s), "
                         f"got {len(example)}")

    g = Graph(title or f"{type(model).__name__}, a PyTorch model, worked by hand")
    builder = _Interpreter(model, gm, g, exact_binary, places)
    builder.prefix = "0." if one_layer else ""
    builder.wrt = set(wrt)
    out = builder.run(example)
    if loss is not None:
        if not isinstance(out, _Value):
            raise TorchError("from_torch: the model returns a number already; give no loss=")
        if type(loss).__name__ in _OWN_LOSSES and not getattr(loss, "label_smoothing", 0) and \
                not (target is not None and not target.is_floating_point()
                     and bool((target == getattr(loss, "ignore_index", -100)).any())):
            L, loss_title = _loss(builder, loss, out, target)
        else:
            L, loss_title = builder.module_loss(loss, out, target), f"the loss, {loss!r}"
    else:
        L, loss_title = _as_loss(builder, out), "the model's output, the loss"

    layer_of = {k: v for k, v in builder.layer.items()}
    sol = solution(L, model="from_torch", title=g.title, convention=convention,
                   layer_of=lambda t: layer_of.get(id(t), "the inputs"), loss_title=loss_title,
                   extra=[])
    worked, results = _gradients(builder, sol)
    marked = [name for name, x in zip((n.name for n in gm.graph.nodes if n.op == "placeholder"), example)
              if x.requires_grad]
    unknown = [w for w in wrt if w not in builder.inputs]
    if unknown:
        raise TorchError(f"from_torch: wrt: {', '.join(unknown)} is not a float argument of forward; expected one "
                         f"of {', '.join(builder.inputs) or 'none'}")
    for argument in dict.fromkeys([*marked, *wrt]):  # an input's gradient, by forward's argument name
        if argument in builder.inputs:
            results[argument] = _input_gradient(builder.inputs[argument][1], sol)

    def autograd() -> dict[str, list[float]]:
        return _autograd(model, example, loss, target, builder)
    value_rule = ("each entry is its exact binary value (exact_binary=True)" if exact_binary else
                  "each float entry is the shortest decimal that rounds to it at its dtype (float32 0.15 is 3/20)")
    checked = TorchSolution(sol.model, sol.title, sol.sections, sol.names, {}, results, sol.diagram,
                            autograd=autograd, worked=worked)
    largest = checked.check_against_autograd()
    remarks = [Remark((f"Values: {value_rule}.",)), *(Remark((r,)) for r in builder.remarks),
               Remark((f"Checked against PyTorch autograd in float64 at these values: every parameter's "
                       f"gradient agrees, the largest difference being {largest:.1e}.",))]
    def by_node() -> dict[str, tuple[tuple[int, ...], list[float]]]:
        bw = backward(g, L, convention=convention)
        return {name: (tuple(v.shape), [float(bw.approx.get(n, 0)) for n in _flat(v)])
                for name, v in builder.by_node.items()}
    return TorchSolution(sol.model, sol.title, (*sol.sections, Section("remarks", "Remarks", tuple(remarks))),
                         sol.names, {}, results, sol.diagram, autograd=autograd, worked=worked, by_node=by_node)


def _is_leaf(model: Any) -> bool:
    """Whether torch.fx takes ``model`` as one layer (a module of torch.nn other than a container)."""
    import torch
    containers = (torch.nn.Sequential, torch.nn.ModuleList, torch.nn.ModuleDict)
    return type(model).__module__.startswith("torch.nn") and not isinstance(model, containers)


def _as_loss(b: _Builder, out: Any) -> Node:
    if isinstance(out, Node):
        return out
    if not isinstance(out, _Value) or math.prod(out.shape) != 1:
        shape = tuple(out.shape) if isinstance(out, _Value) else type(out).__name__
        raise TorchError(f"from_torch: the model returns a tensor of shape {shape}, not a number: give loss= "
                         "(and target=), e.g. loss=torch.nn.MSELoss()")
    return b.g.apply("mul", 1, _flat(out)[0], name="L", latex="L")


@dataclass(frozen=True)
class _TensorMeta:
    shape: tuple[int, ...]
    dtype: Any


class _ModelFails(Exception):
    """The model itself fails on the example (PyTorch's own error), met while tracing."""


def _concrete_tracer(fx: Any, example: Sequence[Any]) -> Any:
    """An ``fx.Tracer`` that runs the model on the example as it traces, so that a shape is a
    number (``B, T, C = x.size()``, ``self.bias[:, :, :T, :T]``, ``math.sqrt(k.size(-1))``): the
    concrete shapes of the example input, which is all a worked solution of it needs."""
    import contextlib

    import torch
    try:  # while tracing, fx patches nn.Module's __call__ and __getattr__: the real run needs them back
        from torch.fx._symbolic_trace import _maybe_revert_all_patches as unpatched
    except ImportError:  # pragma: no cover (torch is pinned; a later one may move it)
        unpatched = contextlib.nullcontext

    class ConcreteProxy(fx.Proxy):
        def size(self, dim: int | None = None) -> Any:
            value = self.node.meta["example"]
            return value.size() if dim is None else value.size(dim)

        @property
        def shape(self) -> Any:
            return self.node.meta["example"].shape

        def dim(self) -> int:
            return self.node.meta["example"].dim()

        def __len__(self) -> int:
            return len(self.node.meta["example"])

    class ConcreteTracer(fx.Tracer):
        def __init__(self) -> None:
            super().__init__()
            self.inputs = iter(example)

        def proxy(self, node: Any) -> Any:
            return ConcreteProxy(node, self)

        def create_proxy(self, kind: str, target: Any, args: Any, kwargs: Any, *rest: Any, **more: Any) -> Any:
            proxy = super().create_proxy(kind, target, args, kwargs, *rest, **more)
            real = fx.node.map_aggregate((args, kwargs), lambda a: a.node.meta.get("example")
                                         if isinstance(a, fx.Proxy) else a)
            a, k = real
            try:
                with torch.no_grad(), unpatched():
                    if kind == "placeholder":
                        value = next(self.inputs, None)
                    elif kind == "get_attr":
                        value = _attribute(self.root, target)
                    elif kind == "call_module":
                        value = self.root.get_submodule(target)(*a, **k)
                    elif kind == "call_function":
                        value = target(*a, **k)
                    elif kind == "call_method":
                        value = getattr(a[0], target)(*a[1:], **k)
                    else:
                        value = None
            except Exception as e:
                raise _ModelFails(str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__) from e
            proxy.node.meta["example"] = value
            if isinstance(value, torch.Tensor):
                proxy.node.meta["tensor_meta"] = _TensorMeta(tuple(value.shape), value.dtype)
            return proxy
    return ConcreteTracer()


def _trace(model: Any, fx: Any, torch_dir: str, example: Sequence[Any], places: bool = False) -> Any:
    """The fx GraphModule of ``model``, traced with the example's concrete shapes; what fx cannot
    trace is refused with fx's own reason. ``places``: record where each node is in the model's
    code (its stack trace), which costs seconds on the first call of a process (torch imports its
    compiler to do it): only a refusal asks for it."""
    tracer = _concrete_tracer(fx, example)
    tracer.record_stack_traces = places
    try:
        graph = tracer.trace(model)
    except _ModelFails as e:
        raise TorchError(f"from_torch: the model fails on this input in PyTorch: {e}") from None
    except Exception as e:
        frames = [f for f in traceback.extract_tb(e.__traceback__)
                  if not os.path.abspath(f.filename).startswith((torch_dir, os.path.dirname(__file__)))]
        where = f" at {os.path.basename(frames[-1].filename)}:{frames[-1].lineno} in {frames[-1].name}: " \
                f"{(frames[-1].line or '').strip()}" if frames else ""
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise TorchError(f"from_torch: torch.fx cannot trace {type(model).__name__}{where} ({reason}); "
                         "from_torch needs a forward whose operations do not depend on the values") from None
    try:
        return fx.GraphModule(model, graph)
    except SyntaxError as e:  # fx writes the graph as Python: a layer name with a quote breaks it
        raise TorchError(f"from_torch: torch.fx cannot write {type(model).__name__}'s graph as Python ({e.msg}): "
                         "rename the layers whose names hold quotes") from None


def _check_size(gm: Any, example: Sequence[Any]) -> None:
    """Refuse up front, by the size limit, a model whose parameters and inputs alone pass it: each
    of their entries enters at least one gate (``nn.Linear(1000, 1000)`` has 1,001,000)."""
    used: dict[str, int] = {}
    for node in gm.graph.nodes:
        if node.op == "call_module":
            for name, p in gm.get_submodule(node.target).named_parameters(prefix=node.target):
                used[name] = p.numel()
        elif node.op == "get_attr":
            value = _attribute(gm, node.target)
            used[node.target] = value.numel() if hasattr(value, "numel") else 1
    entries = sum(used.values()) + sum(x.numel() for x in example)
    limits.check(entries, what="the model's parameters and inputs", unit="entries")


def _attribute(gm: Any, qualname: str) -> Any:
    value = gm
    for part in qualname.split("."):
        value = getattr(value, part)
    return value


def _traced_nodes(gm: Any, example: Sequence[Any]) -> set:
    """The fx nodes that carry a gradient: those reading a float input or a parameter (directly,
    through a layer that has parameters, or through another such node). The others are data,
    which PyTorch computes (``torch.arange``, a mask, a shape)."""
    floats = [n for n, x in zip((n for n in gm.graph.nodes if n.op == "placeholder"), example)
              if x.is_floating_point()]
    parameters = dict(gm.named_parameters())
    traced = set(floats)
    for node in gm.graph.nodes:
        inputs = [a for a in _leaves((node.args, node.kwargs)) if _is_node(a)]
        if node.op == "get_attr" and node.target in parameters:
            traced.add(node)
        elif node.op == "call_module" and any(True for _ in gm.get_submodule(node.target).parameters()):
            traced.add(node)
        elif node.op == "call_method" and node.target in ("size", "dim") or \
                node.op == "call_function" and node.target is getattr and node.args[1] == "shape":
            continue  # a shape: numbers
        elif node.op in ("call_function", "call_method", "call_module") and any(a in traced for a in inputs):
            traced.add(node)
    return traced


def _check_supported(gm: Any, places: _Places, traced: set) -> None:
    """Refuse, before any work, every module, function and method the vocabulary lacks, all of
    them in one error, each as the user wrote it, where, and with the rewrite to use (operations
    on data alone are PyTorch's, and always read)."""
    functions, methods, modules, refused = _tables()
    refused_modules = {op.key: op for op in REFUSED if op.kind == "module"}
    refused_methods = {op.key: op for op in REFUSED if op.kind == "method"}
    refusals: list[str] = []
    for node in gm.graph.nodes:
        if node not in traced:
            continue
        if node.op == "call_module":
            m = gm.get_submodule(node.target)
            kind = type(m).__name__
            ours = type(m).__module__.startswith("torch.nn")
            shown = f"nn.{kind}" if ours else type(m).__qualname__
            if kind not in modules or not ours:
                known = refused_modules.get(kind) if ours else None
                refusals.append(_refusal(f"the layer {shown}", node, places,
                                         known.reads if known else "write its forward out of supported operations"))
                continue
            problem = _module_problem(m)
            if problem:
                refusals.append(_refusal(f"{m!r}", node, places, problem))
        elif node.op == "call_function":
            if node.target in functions:
                if node.target is getattr and node.args[1] not in ("T", "mT", "shape", "values", "indices"):
                    known = next((op for op in REFUSED if op.kind == "method" and op.key == node.args[1]), None)
                    refusals.append(_refusal(f"the attribute x.{node.args[1]}", node, places,
                                             known.reads if known else ""))
                continue
            name = getattr(node.target, "__name__", str(node.target))
            module = getattr(node.target, "__module__", None) or ""
            known = refused.get(node.target)
            shown = known.written if known else user_spelling(module, name)
            refusals.append(_refusal(shown, node, places, known.reads if known else ""))
        elif node.op == "call_method" and node.target not in methods:
            known = refused_methods.get(node.target)
            refusals.append(_refusal(f"x.{node.target}()", node, places, known.reads if known else ""))
    if refusals:
        raise _refused(refusals)


# ----- gradients and the autograd check --------------------------------------------------------

def _gradients(b: _Builder, sol: Solution) -> tuple[dict[str, list[float]], dict[str, Shown]]:
    """Each parameter's worked gradient as floats (torch's order), and the results by its own
    name: a parameter of up to 2 dimensions as its matrix (a vector: a column), a conv weight as
    an array of its shape (exact values; its floats are ``worked``)."""
    zero = Shown(sp.Integer(0), mpmath.mpf(0))  # an entry the loss does not depend on
    entry_results = {n.name: sol.results.get(n.name, zero) for entries in b.param_entries.values() for n in entries}
    worked = {q: [float(entry_results[n.name].approx) for n in entries] for q, entries in b.param_entries.items()}
    results: dict[str, Shown] = {}
    for key, mats in b.params.items():
        if key in b.param_entries and len(mats) > 1 and key not in b.buffers:  # a conv weight, whole: (O, C, k, k)
            shape = tuple(b.model.get_parameter(key).shape)
            results[b.shown(key)] = Shown(sp.ImmutableDenseNDimArray(
                [entry_results[n.name].exact for n in b.param_entries[key]], shape), None)
        elif len(mats) == 1 and key not in b.buffers and "[" not in key:
            rows = [[entry_results[n.name] for n in row] for row in mats[0].nodes]
            results[b.shown(key)] = Shown(sp.ImmutableMatrix([[r.exact for r in row] for row in rows]),
                                 tuple(tuple(r.approx for r in row) for row in rows))
    for qualname, entries in b.param_entries.items():  # a conv bias, whole: a column
        if qualname not in b.params and qualname not in b.buffers:
            results[b.shown(qualname)] = Shown(sp.ImmutableMatrix([[entry_results[n.name].exact] for n in entries]),
                                      tuple((entry_results[n.name].approx,) for n in entries))
    return worked, results


def _input_gradient(value: _Value, sol: Solution) -> Shown:
    """∂L/∂(an input of forward), its torch shape (a vector: a column; past two dims: an array)."""
    zero = Shown(sp.Integer(0), mpmath.mpf(0))
    entries = [sol.results.get(n.name, zero) for n in _flat(value)]
    shape = tuple(value.shape)
    if len(shape) > 2:
        return Shown(sp.ImmutableDenseNDimArray([e.exact for e in entries], shape), None)
    rows, cols = (shape if len(shape) == 2 else (shape[0], 1) if shape else (1, 1))
    return Shown(sp.ImmutableMatrix([[entries[i * cols + j].exact for j in range(cols)] for i in range(rows)]),
                 tuple(tuple(entries[i * cols + j].approx for j in range(cols)) for i in range(rows)))


def _autograd(model: Any, example: Sequence[Any], loss: Any, target: Any, b: _Builder) -> dict[str, list[float]]:
    """Every parameter's ``.grad`` from PyTorch autograd in float64, at the solution's exact values."""
    import torch
    m = copy.deepcopy(model).double()  # in the model's own mode: BatchNorm in training uses the batch's statistics
    values = {n.name: float(n.value) for n in b.g.nodes if n.kind in ("input", "data")}
    with torch.no_grad():
        for qualname, entries in b.param_entries.items():
            p = m.get_parameter(qualname) if qualname in dict(m.named_parameters()) else m.get_buffer(qualname)
            p.copy_(torch.tensor([values[n.name] for n in entries], dtype=torch.float64).reshape(p.shape))
    xs = [_float64_at(x, b.exact_binary) for x in example]
    out = m(*xs)
    if loss is not None:
        t = _float64_at(target, b.exact_binary) if target.is_floating_point() else target
        out = loss(out, t)
    m.zero_grad()
    out.backward()
    return {q: m.get_parameter(q).grad.reshape(-1).tolist() if m.get_parameter(q).grad is not None
            else [0.0] * m.get_parameter(q).numel()
            for q in b.param_entries if q in dict(m.named_parameters())}


def _float64_at(x: Any, exact_binary: bool) -> Any:
    """``x`` in float64 at the exact values the solution read it as."""
    import torch
    if not x.is_floating_point():
        return x
    exact = _flatten(_exact_entries(x, "input", exact_binary))
    return torch.tensor([float(v) for v in exact], dtype=torch.float64).reshape(x.shape)


__all__ = ["INSTALL", "TorchSolution", "from_torch", "shortest_decimal"]
