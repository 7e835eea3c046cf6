"""Convolutional layers of the notes: cross-correlation with padding and stride, pooling, volumes."""

from __future__ import annotations

import sympy as sp

from .. import limits
from ..errors import ParameterError
from ..graph import Graph
from ..printing import Name
from ..record import Remark, Section, SectionKind, Solution
from ..tensor import add, add_bias, correlate, pad, pool, solution, tensor, total
from ..writers import Derivation, combine, shown_number
from .registry import Param, Setup, register

IMAGE = [[3, 0, 1, 2, 7, 4], [1, 5, 8, 9, 3, 1], [2, 7, 2, 5, 1, 3], [0, 1, 3, 1, 7, 8], [4, 2, 1, 6, 2, 8],
         [2, 4, 5, 2, 3, 9]]
EDGE = [[1, 0, -1], [1, 0, -1], [1, 0, -1]]


def _sizes(shape: tuple[int, int], kernel: tuple[int, int], padding: int, stride: int) -> tuple[Section, dict]:
    """The output's height and width, ⌊(n + 2p − f)/s⌋ + 1 along each axis, with the numbers."""
    d = Derivation()
    P, S = d.symbol("p", "p", positive=True), d.symbol("s", "s", positive=True)
    given, steps = [], []
    for axis, n, f, out_name in (("height", shape[0], kernel[0], "h"), ("width", shape[1], kernel[1], "w")):
        N = d.symbol(f"n_{out_name}", f"n_{{{out_name}}}", f"n_{out_name}", positive=True)
        F = d.symbol(f"f_{out_name}", f"f_{{{out_name}}}", f"f_{out_name}", positive=True)
        given += [d.step(N, None, None, sp.Integer(n), f"the input's {axis}", with_float=False),
                  d.step(F, None, None, sp.Integer(f), f"the filter's {axis}", with_float=False)]
        inner = sp.Add(N, sp.Mul(2, P, evaluate=False), sp.Mul(-1, F, evaluate=False), evaluate=False)
        formula = sp.Add(sp.floor(sp.Mul(inner, sp.Pow(S, -1, evaluate=False), evaluate=False), evaluate=False),
                         1, evaluate=False)
        rest = (n + 2 * padding - f) % stride
        note = () if rest == 0 else (
            f"{n + 2 * padding - f}/{stride} is not whole: the floor drops the last {rest} "
            f"{'column' if axis == 'width' else 'row'}{'s' if rest > 1 else ''} of the "
            f"{'padded ' if padding else ''}input, which no window covers",)
        values = {N: shown_number(sp.Integer(n)), P: shown_number(sp.Integer(padding)),
                  F: shown_number(sp.Integer(f)), S: shown_number(sp.Integer(stride))}
        lhs = d.symbol(f"{out_name}_out", rf"{out_name}_{{\mathrm{{out}}}}", f"{out_name}_out")
        steps.append(d.step(lhs, formula, values, sp.Integer((n + 2 * padding - f) // stride + 1), *note,
                            with_float=False))
    given += [d.step(P, None, None, sp.Integer(padding), "the zero padding", with_float=False),
              d.step(S, None, None, sp.Integer(stride), "the stride", with_float=False)]
    return Section(SectionKind.SIZES, "Output size", tuple(given + steps)), d.names


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
    Xp = pad(X, padding) if padding else X
    O = correlate(Xp, K, stride, "O")
    if upstream is not None and (len(upstream), len(upstream[0])) != (out_r, out_c):
        raise ParameterError(f"{model}: upstream: expected shape {out_r}x{out_c} (the output), "
                             f"got {len(upstream)}x{len(upstream[0])}")
    L = total(O, upstream)
    sizes, size_names = _sizes((n_rows, n_cols), (f_rows, f_cols), padding, stride)
    loss = ("The loss is the sum of the output entries (an upstream gradient of ones)." if upstream is None
            else "The loss is the sum of the output entries weighted by the given upstream gradient.")
    return solution(L, model=model, parameters=dict(image=image, kernel=kernel, stride=stride, padding=padding,
                                                    upstream=upstream),
                    before=[sizes], extra=[Section(SectionKind.REMARKS, "Remarks", (
                        Remark(("Deep-learning libraries compute cross-correlation (the kernel is not "
                                "flipped); each output entry is the sum of the element-wise products of "
                                "the kernel with one window.",)),
                        Remark((loss,)),
                        Remark(("Backward: the kernel's gradient is the correlation of the (padded) input "
                                "with the upstream gradient; the input's gradient is the full convolution "
                                "of the upstream gradient with the kernel"
                                + ("." if stride == 1 else f", the upstream gradient first spread out by the "
                                   f"stride ({stride - 1} zero{'s' if stride > 2 else ''} between its "
                                   "entries)."),))))],
                    names=size_names)


_IMAGE_P = [[2, 3, 7, 4, 6], [6, 6, 9, 8, 7], [3, 4, 8, 3, 8], [7, 8, 3, 6, 6], [4, 2, 1, 8, 3]]


@register("conv2d",
          Param("image", IMAGE, "the image (rows)", kind="array", shape=(None, None)),
          Param("kernel", EDGE, "the filter (rows)", kind="array", shape=(None, None)),
          Param("stride", 1, "stride", kind="int", high=100),
          Param("padding", 0, "zero padding", kind="int", low=0, high=100),
          Param("upstream", None, "∂L/∂output (default: ones, L = the sum of the map)", kind="array",
                shape=(None, None)),
          exercise=Setup({"image": "int(0..9)", "kernel": "int(-2..2)"}, ("O", "∂L/∂K")),
          examples=({'kernel': '[[1,0],[0,-1]]'}, {'stride': '2', 'padding': '1', 'kernel': '[[1,2],[3,4]]'}))
def conv2d(image, kernel, stride, padding, upstream) -> Solution:
    return _conv(image, kernel, stride, padding, "conv2d", upstream)


@register("conv2d-padding",
          Param("image", _IMAGE_P, "the image (rows)", kind="array", shape=(None, None)),
          Param("kernel", [[1, -1], [0, -1]], "the filter (rows)", kind="array", shape=(None, None)),
          Param("padding", 1, "zero padding", kind="int", low=0, high=100),
          Param("stride", 2, "stride", kind="int", high=100),
          Param("upstream", None, "∂L/∂output (default: ones)", kind="array", shape=(None, None)),
          exercise=Setup({"image": "int(0..9)", "kernel": "int(-2..2)"}, ("O", "∂L/∂K")),
          examples=({'padding': '0', 'stride': '1'}, {'upstream': '[[1,2,3],[0,-1,1],[2,2,2]]'}))
def conv2d_padding(image, kernel, padding, stride, upstream) -> Solution:
    return _conv(image, kernel, stride, padding, "conv2d-padding", upstream,
                 title="Convolution with zero padding and stride")


def _feature_map() -> list[list[int]]:
    """The conv2d default output (the notes' 4×4 feature map), computed here for pooling's default."""
    return [[sum(EDGE[a][b] * IMAGE[i + a][j + b] for a in range(3) for b in range(3)) for j in range(4)]
            for i in range(4)]


def _pool(inp, size: int, stride: int, mode: str) -> Solution:
    kind = "Max" if mode == "max" else "Average"
    g = Graph(f"{kind} pooling")
    Y = pool(tensor(g, "X", inp), size, stride, mode)
    return solution(total(Y), model="pooling", title=f"{kind} pooling, {size}×{size} windows, stride {stride}",
                    parameters={})


@register("pooling",
          Param("input", _feature_map(), "the input (rows)", kind="array", shape=(None, None)),
          Param("size", 2, "window size", kind="int", high=100),
          Param("stride", 2, "stride", kind="int", high=100),
          Param("mode", "both", "max, average or both", kind="choice", choices=("both", "max", "average")),
          exercise=Setup({"input": "int(-9..9)", "mode": "max"}, ("Y", "∂L/∂X"), zero_ok=("∂L/∂X",)),
          examples=({'mode': 'max', 'input': '[[1,3,2,4],[5,6,7,8],[3,2,1,0],[1,2,3,4]]'}, {'size': '3', 'stride': '1', 'mode': 'average'}))
def pooling(input, size, stride, mode) -> Solution:  # noqa: A002 (the catalogue's name)
    if size > len(input) or size > len(input[0]):
        raise ParameterError(f"pooling: the {size}x{size} window is larger than the "
                             f"{len(input)}x{len(input[0])} input")
    modes = ("max", "average") if mode == "both" else (mode,)
    out = ((len(input) - size) // stride + 1) * ((len(input[0]) - size) // stride + 1)
    limits.check(out * (size * size + 1) * len(modes), f"pooling: the {out}-entry output")
    parts = [(m, f"{'Max' if m == 'max' else 'Average'} pooling", _pool(input, size, stride, m)) for m in modes]
    remark = Remark(("Backward: max pooling routes each window's upstream gradient to its maximum (on a tie, "
                     "to the first maximum, as PyTorch does); average pooling spreads it evenly, 1/(size²) to "
                     "each entry. The loss is the sum of the pooled outputs.",))
    return combine("pooling", "Max and average pooling", parts,
                   dict(input=input, size=size, stride=stride, mode=mode), [remark])


@register("conv-volume",
          Param("height", 4, "input height", kind="int", high=10_000),
          Param("width", 4, "input width", kind="int", high=10_000),
          Param("channels", 3, "input channels", kind="int", high=10_000),
          Param("kernel_size", 3, "filter height and width", kind="int", high=10_000),
          Param("filters", 10, "number of filters in the layer", kind="int", high=100_000),
          Param("volume", None, "optional input values: one height×width matrix per channel", kind="array",
                shape=(None, None, None)),
          Param("filter", None, "optional values of one filter: one kernel_size×kernel_size slice per channel",
                kind="array", shape=(None, None, None)),
          Param("bias", 0, "that filter's bias"),
          exercise=Setup({"height": "int(4..8)", "width": "int(4..8)", "channels": "{1, 3}",
                          "kernel_size": "{1, 3, 5}", "filters": "int(2..16)"},
                         ("parameters per filter", "parameters of the layer", "h_out", "w_out"), forward_gives_answer=True),
          examples=({'height': '32', 'width': '32', 'filters': '6', 'kernel_size': '5'}, {'volume': '[[[1,2],[3,4]],[[0,1],[1,0]]]', 'filter': '[[[1]],[[-1]]]', 'bias': '1/2'}))
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
        return Derivation(_VOLUME_NAMES).solution("conv-volume", "Convolution over a volume", counts, params)
    g = Graph("Convolution over a volume: one filter")
    slices = [correlate(tensor(g, f"X{c + 1}", volume[c], latex=f"X_{{{c + 1}}}"),
                        tensor(g, f"K{c + 1}", filter[c], latex=f"K_{{{c + 1}}}"), 1, f"S{c + 1}",
                        latex=f"S_{{{c + 1}}}") for c in range(channels)]
    total_map = slices[0]
    for c, sl in enumerate(slices[1:], 2):
        total_map = add(total_map, sl, name="Z" if c == channels else f"Z{c}",
                        latex="Z" if c == channels else f"Z_{{{c}}}")
    out = add_bias(total_map, tensor(g, "b", [[bias]]), name="O")
    return solution(total(out), model="conv-volume", parameters=params, before=list(counts),
                   extra=[Section(SectionKind.REMARKS, "Remarks", (Remark((
                       "Each slice S_c is the correlation of channel c with the filter's slice c; the "
                       "output map is their sum plus the bias, added at every position (so the bias "
                       "gathers the whole upstream gradient). The loss is the sum of the map.",)),))],
                    names=_VOLUME_NAMES)


_h, _w, _c, _f, _k = sp.symbols("h w c f k", positive=True, integer=True)
_PER, _OUT_H, _OUT_W, _PER_FILTER, _TOTAL = (sp.Symbol(n) for n in ("weights", "out_h", "out_w", "params", "total"))
_VOLUME_NAMES = {**{s: Name(sp.latex(s), str(s)) for s in (_h, _w, _c, _f, _k)},
                 _PER: Name(r"\text{weights per filter}", "weights per filter"),
                 _PER_FILTER: Name(r"\text{parameters per filter}", "parameters per filter"),
                 _TOTAL: Name(r"\text{parameters of the layer}", "parameters of the layer"),
                 _OUT_H: Name(r"h_{\mathrm{out}}", "h_out"), _OUT_W: Name(r"w_{\mathrm{out}}", "w_out")}


def _volume_counts(height: int, width: int, channels: int, kernel_size: int, filters: int) -> tuple[Section, ...]:
    """The parameter count and the output shape, worked with the numbers."""
    values = {_h: shown_number(sp.Integer(height)), _w: shown_number(sp.Integer(width)),
              _c: shown_number(sp.Integer(channels)), _f: shown_number(sp.Integer(kernel_size)),
              _k: shown_number(sp.Integer(filters))}
    d = Derivation()
    f, c = _f, _c
    steps = (
        d.step(_PER, f * f * c, values, sp.Integer(kernel_size ** 2 * channels),
               "one filter has an f×f slice per input channel", with_float=False),
        d.step(_PER_FILTER, f * f * c + 1, values, sp.Integer(kernel_size ** 2 * channels + 1),
               "the channel slices' sums are added together with one bias", with_float=False),
        d.step(_TOTAL, _k * (f * f * c + 1), values, sp.Integer(filters * (kernel_size ** 2 * channels + 1)),
               with_float=False),
        d.step(_OUT_H, _h - f + 1, values, sp.Integer(height - kernel_size + 1), "stride 1, no padding",
               with_float=False),
        d.step(_OUT_W, _w - f + 1, values, sp.Integer(width - kernel_size + 1), with_float=False),
    )
    shape = f"{height - kernel_size + 1}×{width - kernel_size + 1}×{filters}"
    given = tuple(d.step(sym, None, None, sp.Integer(v), note, with_float=False) for sym, v, note in (
        (_h, height, "the input's height"), (_w, width, "its width"), (_c, channels, "its channels"),
        (_f, kernel_size, "the filter's height and width"), (_k, filters, "the number of filters")))
    return (Section(SectionKind.GIVEN, "Given", given),
            Section(SectionKind.COUNTS, "Parameters and output shape", steps),
            Section(SectionKind.SHAPE, "Output volume", (Remark((f"The output volume is {shape}: one "
                                                        f"{height - kernel_size + 1}×{width - kernel_size + 1} "
                                                        "map per filter, stacked.",)),)))
