"""Convolutional layers of the notes: cross-correlation with padding and stride, pooling, volumes."""

from __future__ import annotations

import dataclasses

import sympy as sp

from .. import limits
from ..diagram import merge
from ..errors import ParameterError
from ..graph import Graph
from ..printing import Name, Shown
from ..solution import Remark, Section, Solution, Step
from ..ops import written
from ..tensor import RULES, Tensor, _new, add, solution, tensor, total
from . import Param, register

IMAGE = [[3, 0, 1, 2, 7, 4], [1, 5, 8, 9, 3, 1], [2, 7, 2, 5, 1, 3], [0, 1, 3, 1, 7, 8], [4, 2, 1, 6, 2, 8],
         [2, 4, 5, 2, 3, 9]]
EDGE = [[1, 0, -1], [1, 0, -1], [1, 0, -1]]


def _size_step(n: int, p: int, f: int, s: int, axis: str) -> Step:
    """⌊(n + 2p − f)/s⌋ + 1 with the numbers, as a step."""
    N, P, F, S = sp.symbols("n p f s", positive=True)
    inner = sp.Add(N, sp.Mul(2, P, evaluate=False), sp.Mul(-1, F, evaluate=False), evaluate=False)
    formula = sp.Add(sp.floor(sp.Mul(inner, sp.Pow(S, -1, evaluate=False), evaluate=False), evaluate=False),
                     1, evaluate=False)
    out = (n + 2 * p - f) // s + 1
    note = () if (n + 2 * p - f) % s == 0 else (
        f"{n + 2 * p - f}/{s} is not whole: the floor drops the last {(n + 2 * p - f) % s} "
        f"{'column' if axis == 'width' else 'row'}(s) of the padded input, which no window covers",)
    return Step(sp.Symbol(f"n_out_{axis}"), formula, {N: _shown(n), P: _shown(p), F: _shown(f), S: _shown(s)},
                sp.Integer(out), None, note)


def _shown(v: int) -> Shown:
    return Shown(sp.Integer(v), None)


def _conv(image, kernel, stride: int, padding: int, model: str, upstream=None,
          title: str = "Cross-correlation of an image with a filter") -> Solution:
    n_rows, n_cols = len(image), len(image[0])
    f_rows, f_cols = len(kernel), len(kernel[0])
    if stride < 1 or padding < 0:
        raise ParameterError(f"{model}: stride must be at least 1 and padding at least 0")
    if f_rows > n_rows + 2 * padding or f_cols > n_cols + 2 * padding:
        raise ParameterError(f"{model}: kernel: the {f_rows}x{f_cols} kernel is larger than the padded "
                             f"{n_rows + 2 * padding}x{n_cols + 2 * padding} image")
    out_r = (n_rows + 2 * padding - f_rows) // stride + 1
    out_c = (n_cols + 2 * padding - f_cols) // stride + 1
    # checked before building: each output entry is a dot gate over the window and the kernel
    limits.check(out_r * out_c * (2 * f_rows * f_cols + 1), f"{model}: the {out_r}x{out_c} output")
    g = Graph(title)
    X = tensor(g, "X", image)
    K = tensor(g, "K", kernel)
    if padding:
        zero = g.const(0)
        rows = [[zero] * (n_cols + 2 * padding) for _ in range(padding)]
        rows += [[zero] * padding + list(r) + [zero] * padding for r in X.nodes]
        rows += [[zero] * (n_cols + 2 * padding) for _ in range(padding)]
        Xp = _new(g, "X_pad", rows, "pad", (X,), sp.Function("pad")(X.symbol), r"X_{\mathrm{pad}}")
    else:
        Xp = X
    O = correlate(Xp, K, stride, "O")
    if upstream is not None and (len(upstream), len(upstream[0])) != (out_r, out_c):
        raise ParameterError(f"{model}: upstream: expected shape {out_r}x{out_c} (the output), "
                             f"got {len(upstream)}x{len(upstream[0])}")
    L = total(O, upstream)
    sizes = Section("sizes", "Output size", (_size_step(n_rows, padding, f_rows, stride, "height"),
                                              _size_step(n_cols, padding, f_cols, stride, "width")))
    loss = ("The loss is the sum of the output entries (an upstream gradient of ones)." if upstream is None
            else "The loss is the sum of the output entries weighted by the given upstream gradient.")
    return solution(L, model=model, parameters=dict(image=image, kernel=kernel, stride=stride, padding=padding,
                                                    upstream=upstream),
                    before=[sizes], extra=[Section("remarks", "Remarks", (
                        Remark(("Deep-learning libraries compute cross-correlation (the kernel is not "
                                "flipped); each output entry is the sum of the element-wise products of "
                                "the kernel with one window.",)),
                        Remark((loss,)),
                        Remark(("Backward: the kernel's gradient is the correlation of the (padded) input "
                                "with the upstream gradient; the input's gradient is the full convolution "
                                "of the upstream gradient with the kernel"
                                + ("." if stride == 1 else f", the upstream gradient first spread out by the "
                                   f"stride ({stride - 1} zero(s) between its entries)."),))))])


def correlate(X: Tensor, K: Tensor, stride: int, name: str, latex: str | None = None) -> Tensor:
    """X ⋆ K: each output entry a ``dot`` gate over the kernel and one window of X."""
    g = X.graph
    (n_r, n_c), (f_r, f_c) = X.shape, K.shape
    lx = latex or name
    nodes = [[g.apply("dot", *(v for a in range(f_r) for b in range(f_c)
                              for v in (K.nodes[a][b], X.nodes[i * stride + a][j * stride + b])),
                      name=f"{name}_{i + 1}_{j + 1}", latex=f"{{{lx}}}_{{{i + 1}{j + 1}}}")
              for j in range((n_c - f_c) // stride + 1)] for i in range((n_r - f_r) // stride + 1)]
    return _new(g, name, nodes, "conv", (X, K), _Corr(X.symbol, K.symbol), lx, stride=stride)


class _PlusBias(sp.Function):
    """Z + b, the bias added at every position."""

    def _latex(self, printer):
        return f"{printer._print(self.args[0])} + {printer._print(self.args[1])}"

    def _sympystr(self, printer):
        return f"{printer._print(self.args[0])} + {printer._print(self.args[1])}"


class _Corr(sp.Function):
    """X ⋆ K, the cross-correlation as written."""

    def _latex(self, printer):
        return f"{printer._print(self.args[0])} \\star {printer._print(self.args[1])}"

    def _sympystr(self, printer):
        return f"{printer._print(self.args[0])} ⋆ {printer._print(self.args[1])}"


_full = written("conv_full", r"\mathrm{conv}_{\mathrm{full}}", "conv_full")
_crop = written("crop", r"\mathrm{crop}", "crop")
_route = written("route", r"\mathrm{route}_{\max}", "route_max")
_spread = written("spread", r"\mathrm{spread}", "spread")
_sum = written("sum", r"\mathrm{sum}", "sum")

# The matrix-level backward rules of these gates, beside the generic ones in symderiv.tensor.
RULES.update({
    "conv": lambda c, k, d: _full(d, c.parents[1].symbol) if k == 0 else _Corr(c.parents[0].symbol, d),
    "pad": lambda c, k, d: _crop(d),
    "maxpool": lambda c, k, d: _route(d),
    "mean": lambda c, k, d: _spread(d),
    "bias": lambda c, k, d: d if k == 0 else _sum(d),
})

_IMAGE_P = [[2, 3, 7, 4, 6], [6, 6, 9, 8, 7], [3, 4, 8, 3, 8], [7, 8, 3, 6, 6], [4, 2, 1, 8, 3]]


@register("conv2d", "Cross-correlation of a 6×6 image with a 3×3 vertical edge detector",
          Param("image", IMAGE, "the image (rows)", kind="array", shape=(None, None)),
          Param("kernel", EDGE, "the filter (rows)", kind="array", shape=(None, None)),
          Param("stride", 1, "stride", kind="int", high=100),
          Param("padding", 0, "zero padding", kind="int", low=0, high=100),
          Param("upstream", None, "∂L/∂output (default: ones, L = the sum of the map)", kind="array",
                shape=(None, None)))
def conv2d(image, kernel, stride, padding, upstream) -> Solution:
    return _conv(image, kernel, stride, padding, "conv2d", upstream)


@register("conv2d-padding", "Zero padding and stride: a 5×5 image, p = 1, a 2×2 filter, s = 2",
          Param("image", _IMAGE_P, "the image (rows)", kind="array", shape=(None, None)),
          Param("kernel", [[1, -1], [0, -1]], "the filter (rows)", kind="array", shape=(None, None)),
          Param("padding", 1, "zero padding", kind="int", low=0, high=100),
          Param("stride", 2, "stride", kind="int", high=100),
          Param("upstream", None, "∂L/∂output (default: ones)", kind="array", shape=(None, None)))
def conv2d_padding(image, kernel, padding, stride, upstream) -> Solution:
    return _conv(image, kernel, stride, padding, "conv2d-padding", upstream,
                 title="Convolution with zero padding and stride")


def _feature_map() -> list[list[int]]:
    """The conv2d default output (the notes' 4×4 feature map), computed here for pooling's default."""
    return [[sum(EDGE[a][b] * IMAGE[i + a][j + b] for a in range(3) for b in range(3)) for j in range(4)]
            for i in range(4)]


def _pool(inp, size: int, stride: int, mode: str) -> Solution:
    g = Graph(f"{'Max' if mode == 'max' else 'Average'} pooling")
    X = tensor(g, "X", inp)
    n_r, n_c = len(inp), len(inp[0])
    out_r, out_c = (n_r - size) // stride + 1, (n_c - size) // stride + 1
    op = "maxpool" if mode == "max" else "mean"
    nodes = [[g.apply(op, *(X.nodes[i * stride + a][j * stride + b] for a in range(size) for b in range(size)),
                      name=f"Y_{i + 1}_{j + 1}", latex=f"Y_{{{i + 1}{j + 1}}}")
              for j in range(out_c)] for i in range(out_r)]
    Y = _new(g, "Y", nodes, op, (X,), sp.Function(f"{mode}pool")(X.symbol), "Y")
    return solution(total(Y), model="pooling", title=f"{'Max' if mode == 'max' else 'Average'} pooling, "
                    f"{size}×{size} windows, stride {stride}", parameters={})


@register("pooling", "Max and average pooling (2×2 windows, stride 2) of the conv2d feature map",
          Param("input", _feature_map(), "the input (rows)", kind="array", shape=(None, None)),
          Param("size", 2, "window size", kind="int", high=100),
          Param("stride", 2, "stride", kind="int", high=100),
          Param("mode", "both", "max, average or both", kind="choice", choices=("both", "max", "average")))
def pooling(input, size, stride, mode) -> Solution:  # noqa: A002 (the catalogue's name)
    if size > len(input) or size > len(input[0]):
        raise ParameterError(f"pooling: the {size}x{size} window is larger than the "
                             f"{len(input)}x{len(input[0])} input")
    modes = ("max", "average") if mode == "both" else (mode,)
    out = ((len(input) - size) // stride + 1) * ((len(input[0]) - size) // stride + 1)
    limits.check(out * (size * size + 1) * len(modes), f"pooling: the {out}-entry output")
    parts = [_pool(input, size, stride, m) for m in modes]
    sections, names = [], {}
    for m, part in zip(modes, parts):
        names.update(part.names)
        sections += [Section(s.kind, f"{'Max' if m == 'max' else 'Average'} pooling: {s.title}", s.items)
                     for s in part.sections]
    sections.append(Section("remarks", "Remarks", (
        Remark(("Backward: max pooling routes each window's upstream gradient to its maximum (on a tie, "
                "to the first maximum, as PyTorch does); average pooling spreads it evenly, 1/(size²) to "
                "each entry. The loss is the sum of the pooled outputs.",)),)))
    results = parts[0].results if len(parts) == 1 else \
        {f"{m}:{k}": v for m, part in zip(modes, parts) for k, v in part.results.items()}
    return Solution("pooling", "Max and average pooling" if mode == "both" else parts[0].title,
                    tuple(sections), names, dict(input=input, size=size, stride=stride, mode=mode), results,
                    merge(p.diagram for p in parts))


@register("conv-volume", "Convolution over a volume: one filter slice per channel, summed, plus a bias",
          Param("height", 4, "input height", kind="int", high=10_000),
          Param("width", 4, "input width", kind="int", high=10_000),
          Param("channels", 3, "input channels", kind="int", high=10_000),
          Param("kernel_size", 3, "filter height and width", kind="int", high=10_000),
          Param("filters", 10, "number of filters in the layer", kind="int", high=100_000),
          Param("volume", None, "optional input values: one height×width matrix per channel", kind="array",
                shape=(None, None, None)),
          Param("filter", None, "optional values of one filter: one kernel_size×kernel_size slice per channel",
                kind="array", shape=(None, None, None)),
          Param("bias", 0, "that filter's bias"))
def conv_volume(height, width, channels, kernel_size, filters, volume, filter, bias) -> Solution:  # noqa: A002
    if (volume is None) != (filter is None):
        raise ParameterError("conv-volume: give both volume and filter, or neither")
    if volume is not None:
        channels, height, width = len(volume), len(volume[0]), len(volume[0][0])
        if len(filter[0]) != len(filter[0][0]):
            raise ParameterError(f"conv-volume: filter: expected square slices, got "
                                 f"{len(filter[0])}x{len(filter[0][0])}")
        if len(filter) != channels:
            raise ParameterError(f"conv-volume: filter: expected {channels} slices (one per channel), "
                                 f"got {len(filter)}")
        kernel_size = len(filter[0])
    if kernel_size > min(height, width):
        raise ParameterError(f"conv-volume: the {kernel_size}x{kernel_size} kernel is larger than the "
                             f"{height}x{width} input")
    counts = _volume_counts(height, width, channels, kernel_size, filters)
    params = dict(height=height, width=width, channels=channels, kernel_size=kernel_size, filters=filters,
                  volume=volume, filter=filter, bias=bias)
    if volume is None:
        return Solution("conv-volume", "Convolution over a volume", counts, dict(_VOLUME_NAMES), params)
    g = Graph("Convolution over a volume: one filter")
    slices = [correlate(tensor(g, f"X{c + 1}", volume[c], latex=f"X_{{{c + 1}}}"),
                        tensor(g, f"K{c + 1}", filter[c], latex=f"K_{{{c + 1}}}"), 1, f"S{c + 1}",
                        latex=f"S_{{{c + 1}}}") for c in range(channels)]
    total_map = slices[0]
    for c, sl in enumerate(slices[1:], 2):
        total_map = add(total_map, sl, name="Z" if c == channels else f"Z{c}",
                        latex="Z" if c == channels else f"Z_{{{c}}}")
    b = tensor(g, "b", [[bias]])
    out = _new(g, "O", [[g.add(z, b.nodes[0][0], name=f"O_{i + 1}_{j + 1}", latex=f"O_{{{i + 1}{j + 1}}}")
                         for j, z in enumerate(row)] for i, row in enumerate(total_map.nodes)],
               "bias", (total_map, b), _PlusBias(total_map.symbol, b.symbol), "O")
    sol = solution(total(out), model="conv-volume", parameters=params, before=list(counts),
                   extra=[Section("remarks", "Remarks", (Remark((
                       "Each slice S_c is the correlation of channel c with the filter's slice c; the "
                       "output map is their sum plus the bias, added at every position (so the bias "
                       "gathers the whole upstream gradient). The loss is the sum of the map.",)),))])
    return dataclasses.replace(sol, names={**_VOLUME_NAMES, **sol.names})


_h, _w, _c, _f, _k = sp.symbols("h w c f k", positive=True, integer=True)
_PER, _OUT_H, _OUT_W, _PER_FILTER, _TOTAL = (sp.Symbol(n) for n in ("weights", "out_h", "out_w", "params", "total"))
_VOLUME_NAMES = {**{s: Name(sp.latex(s), str(s)) for s in (_h, _w, _c, _f, _k)},
                 _PER: Name(r"\text{weights per filter}", "weights per filter"),
                 _PER_FILTER: Name(r"\text{parameters per filter}", "parameters per filter"),
                 _TOTAL: Name(r"\text{parameters of the layer}", "parameters of the layer"),
                 _OUT_H: Name(r"h_{\mathrm{out}}", "h_out"), _OUT_W: Name(r"w_{\mathrm{out}}", "w_out")}


def _volume_counts(height: int, width: int, channels: int, kernel_size: int, filters: int) -> tuple[Section, ...]:
    """The parameter count and the output shape, worked with the numbers."""
    values = {_h: _shown(height), _w: _shown(width), _c: _shown(channels), _f: _shown(kernel_size),
              _k: _shown(filters)}
    f, c = _f, _c
    steps = (
        Step(_PER, f * f * c, values, sp.Integer(kernel_size ** 2 * channels), None,
             ("one filter has a kernel_size×kernel_size slice per input channel",)),
        Step(_PER_FILTER, f * f * c + 1, values, sp.Integer(kernel_size ** 2 * channels + 1), None,
             ("the channel slices' sums are added together with one bias",)),
        Step(_TOTAL, _k * (f * f * c + 1), values, sp.Integer(filters * (kernel_size ** 2 * channels + 1)), None),
        Step(_OUT_H, _h - f + 1, values, sp.Integer(height - kernel_size + 1), None, ("stride 1, no padding",)),
        Step(_OUT_W, _w - f + 1, values, sp.Integer(width - kernel_size + 1), None),
    )
    shape = f"{height - kernel_size + 1}×{width - kernel_size + 1}×{filters}"
    return (Section("counts", "Parameters and output shape", steps),
            Section("shape", "Output volume", (Remark((f"The output volume is {shape}: one "
                                                        f"{height - kernel_size + 1}×{width - kernel_size + 1} "
                                                        "map per filter, stacked.",)),)))
