"""What :func:`~symderiv.from_torch` reads: one table, one row per module class, function and
method, from which the interpreter finds its handler, a refusal names what the user wrote, and the
supported-operations table of ``docs/pytorch.md`` is written (:func:`supported_table`).

The table is plain data (no torch import): a function is keyed by its dotted path
(``torch.nn.functional.relu``, ``operator.pow``), resolved when torch is imported.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Op:
    """One thing a model's ``forward`` may use.

    ``kind``: ``module`` (a ``torch.nn`` class, keyed by its name), ``function`` (keyed by its
    dotted path) or ``method`` (a tensor method, keyed by its name). ``written``: how a user
    writes it. ``handler``: the interpreter's handler (``module_<handler>`` or ``op_<handler>``);
    empty for a row that is refused. ``reads``: what of it is read, or, for a refused row, the
    supported rewrite."""

    kind: str
    key: str
    written: str
    handler: str = ""
    reads: str = ""


def _row(kind: str, keys: str, written: str, handler: str, reads: str = "") -> list[Op]:
    """One row per key of ``keys`` (space-separated), all written and handled alike."""
    return [Op(kind, key, written, handler, reads) for key in keys.split()]


#: The supported modules, functions and methods, in the order the docs list them.
SUPPORTED: tuple[Op, ...] = (
    *_row("module", "Linear", "nn.Linear", "Linear", "a vector or a batch of rows"),
    *_row("module", "Conv2d", "nn.Conv2d", "Conv2d",
          "(C, H, W) or (1, C, H, W); square kernels, equal strides and paddings, groups 1, dilation 1"),
    *_row("module", "MaxPool2d", "nn.MaxPool2d", "MaxPool2d", "square windows, no padding"),
    *_row("module", "AvgPool2d", "nn.AvgPool2d", "AvgPool2d", "square windows, no padding"),
    *_row("module", "ReLU", "nn.ReLU", "ReLU"),
    *_row("module", "Sigmoid", "nn.Sigmoid", "Sigmoid"),
    *_row("module", "Tanh", "nn.Tanh", "Tanh"),
    *_row("module", "Softmax", "nn.Softmax", "Softmax", "over the last dim of a vector or a matrix"),
    *_row("module", "Flatten", "nn.Flatten", "Flatten"),
    *_row("module", "Identity", "nn.Identity", "Identity"),
    *_row("module", "Dropout", "nn.Dropout", "Dropout", "in evaluation mode (model.eval()), or p=0: the identity"),
    *_row("module", "Embedding", "nn.Embedding", "Embedding", "rows picked by integer ids"),
    *_row("module", "LayerNorm", "nn.LayerNorm", "LayerNorm", "written out: mean, centred, variance, (var + eps)^(-1/2)"),
    *_row("module", "BatchNorm1d BatchNorm2d", "nn.BatchNorm1d, nn.BatchNorm2d", "BatchNorm1d",
          "training: the batch's statistics; evaluation: the running ones"),
    *_row("module", "GELU", "nn.GELU", "GELU", "exact (erf) and approximate='tanh'"),
    *_row("module", "RNNCell", "nn.RNNCell", "RNNCell", "tanh or relu; the state given or zeros"),
    *_row("module", "GRUCell", "nn.GRUCell", "GRUCell", "the state given or zeros"),
    *_row("module", "LSTMCell", "nn.LSTMCell", "LSTMCell", "the state (h, c) given or zeros"),
    *_row("module", "SiLU", "nn.SiLU", "SiLU", "x·σ(x)"),
    *_row("module", "ELU", "nn.ELU", "ELU", "max(x, 0) + min(0, α(eˣ − 1))"),
    *_row("module", "ReLU6", "nn.ReLU6", "ReLU6", "clamp(x, 0, 6)"),
    *_row("module", "Hardtanh", "nn.Hardtanh", "Hardtanh", "clamp(x, min_val, max_val)"),
    *_row("module", "Softplus", "nn.Softplus", "Softplus", "log(1 + exp(βx))/β"),
    *_row("module", "LeakyReLU", "nn.LeakyReLU", "LeakyReLU", "max(x, slope·x)"),
    *_row("function", "operator.add torch.add", "x + y, torch.add", "add", "with broadcasting, numbers too"),
    *_row("function", "operator.sub torch.sub", "x - y, torch.sub", "sub", "with broadcasting, numbers too"),
    *_row("function", "operator.mul torch.mul", "x * y, torch.mul", "mul", "with broadcasting, numbers too"),
    *_row("function", "operator.truediv torch.div", "x / y, torch.div", "div", "with broadcasting, numbers too"),
    *_row("function", "operator.pow torch.pow", "x ** y, torch.pow", "pow", "a tensor to a number, or a number "
          "or a tensor to a tensor"),
    *_row("function", "operator.neg torch.neg", "-x, torch.neg", "neg"),
    *_row("function", "operator.matmul torch.matmul torch.mm", "x @ y, torch.matmul, torch.mm", "matmul",
          "vectors and matrices"),
    *_row("function", "torch.relu torch.nn.functional.relu", "torch.relu, F.relu", "relu"),
    *_row("function", "torch.sigmoid torch.nn.functional.sigmoid", "torch.sigmoid, F.sigmoid", "sigmoid"),
    *_row("function", "torch.tanh torch.nn.functional.tanh", "torch.tanh, F.tanh", "tanh"),
    *_row("function", "torch.exp", "torch.exp", "exp"),
    *_row("function", "torch.log", "torch.log", "log"),
    *_row("function", "torch.sqrt", "torch.sqrt", "sqrt"),
    *_row("function", "torch.abs", "torch.abs", "abs"),
    *_row("function", "torch.square", "torch.square", "square"),
    *_row("function", "torch.clamp torch.clip", "torch.clamp, torch.clip", "clamp", "min=, max= numbers"),
    *_row("function", "torch.maximum", "torch.maximum", "maximum", "with broadcasting"),
    *_row("function", "torch.minimum", "torch.minimum", "minimum", "with broadcasting"),
    *_row("function", "torch.sum", "torch.sum", "sum", "over every entry, or over dims of a vector or a "
          "matrix, keepdim"),
    *_row("function", "torch.mean", "torch.mean", "mean", "over every entry, or over dims of a vector or a "
          "matrix, keepdim"),
    *_row("function", "torch.softmax torch.nn.functional.softmax", "torch.softmax, F.softmax", "softmax",
          "over the last dim of a vector or a matrix"),
    *_row("function", "torch.flatten", "torch.flatten", "flatten"),
    *_row("function", "torch.nn.functional.embedding", "F.embedding", "embedding"),
    *_row("function", "torch.nn.functional.layer_norm", "F.layer_norm", "layer_norm"),
    *_row("function", "torch.nn.functional.gelu", "F.gelu", "gelu", "exact (erf) and approximate='tanh'"),
    *_row("function", "torch.nn.functional.silu", "F.silu", "silu"),
    *_row("function", "torch.nn.functional.elu", "F.elu", "elu"),
    *_row("function", "torch.nn.functional.relu6", "F.relu6", "relu6"),
    *_row("function", "torch.nn.functional.hardtanh", "F.hardtanh", "hardtanh"),
    *_row("function", "torch.nn.functional.softplus", "F.softplus", "softplus"),
    *_row("function", "torch.nn.functional.leaky_relu", "F.leaky_relu", "leaky_relu"),
    *_row("function", "torch.nn.functional.dropout", "F.dropout", "dropout", "training=False, or p=0"),
    *_row("function", "torch.nn.functional.linear", "F.linear", "linear"),
    *_row("function", "torch.log_softmax torch.nn.functional.log_softmax", "torch.log_softmax, F.log_softmax",
          "log_softmax", "over any dim"),
    *_row("function", "torch.logsumexp", "torch.logsumexp", "logsumexp", "over any dims, keepdim"),
    *_row("function", "torch.max", "torch.max", "max", "of every entry, over a dim (values and indices), or of two "
          "tensors"),
    *_row("function", "torch.amax", "torch.amax", "amax"),
    *_row("function", "torch.min", "torch.min", "min", "of every entry, over a dim, or of two tensors"),
    *_row("function", "torch.var", "torch.var", "var", "over dims, correction, keepdim"),
    *_row("function", "torch.std", "torch.std", "std", "over dims, correction, keepdim"),
    *_row("function", "torch.where", "torch.where", "where", "a data condition"),
    *_row("function", "torch.erf torch.special.erf", "torch.erf", "erf"),
    *_row("function", "torch.sin torch.cos torch.tan", "torch.sin, torch.cos, torch.tan", "trig"),
    *_row("function", "torch.rsqrt", "torch.rsqrt", "rsqrt"),
    *_row("function", "torch.prod", "torch.prod", "prod", "over every entry or a dim"),
    *_row("function", "torch.nn.functional.pad", "F.pad", "pad", "constant 0 (any other value: refused)"),
    *_row("function", "torch.roll torch.diagonal torch.repeat_interleave torch.index_select torch.movedim "
          "torch.swapaxes torch.flatten", "torch.roll, diagonal, repeat_interleave, index_select, movedim, "
          "swapaxes", "rearrange", "the entries moved, no gate"),
    *_row("function", "torch.bmm", "torch.bmm", "matmul"),
    *_row("function", "torch.cat torch.concat torch.stack torch.transpose torch.permute torch.unsqueeze "
          "torch.squeeze torch.reshape torch.tril torch.triu torch.split torch.chunk torch.unbind torch.flip "
          "torch.narrow torch.select", "torch.cat, stack, transpose, permute, unsqueeze, squeeze, reshape, tril, "
          "triu, split, chunk, unbind, flip, narrow, select", "rearrange", "any rank: the entries moved, no gate"),
    *_row("function", "torch.nn.functional.mse_loss", "F.mse_loss", "mse_loss", "every reduction"),
    *_row("function", "torch.nn.functional.l1_loss", "F.l1_loss", "l1_loss", "every reduction"),
    *_row("function", "torch.nn.functional.binary_cross_entropy", "F.binary_cross_entropy", "binary_cross_entropy",
          "every reduction; no weights"),
    *_row("function", "torch.nn.functional.binary_cross_entropy_with_logits", "F.binary_cross_entropy_with_logits",
          "binary_cross_entropy_with_logits", "every reduction; no weights"),
    *_row("function", "torch.nn.functional.cross_entropy", "F.cross_entropy", "cross_entropy",
          "class indices or probabilities, label_smoothing, ignore_index, every reduction; no weights"),
    *_row("function", "torch.nn.functional.nll_loss", "F.nll_loss", "nll_loss", "ignore_index, every reduction"),
    *_row("function", "torch.nn.functional.huber_loss", "F.huber_loss", "huber_loss", "delta, every reduction"),
    *_row("function", "torch.nn.functional.smooth_l1_loss", "F.smooth_l1_loss", "smooth_l1_loss",
          "beta, every reduction"),
    *_row("function", "torch.nn.functional.kl_div", "F.kl_div", "kl_div", "log_target, every reduction"),
    *_row("function", "torch.nn.functional.scaled_dot_product_attention", "F.scaled_dot_product_attention",
          "scaled_dot_product_attention", "attn_mask (bool or added), is_causal, scale; dropout_p=0"),
    *_row("function", "operator.getitem", "x[...], t[0] of a tuple, x.shape[0]", "getitem",
          "ints, slices, None, ..., integer tensors, lists and ranges"),
    *_row("function", "builtins.getattr", "x.T, x.shape", "getattr", ".T of a matrix, .shape"),
    *_row("method", "add", "x.add(y)", "add"),
    *_row("method", "sub", "x.sub(y)", "sub"),
    *_row("method", "mul", "x.mul(y)", "mul"),
    *_row("method", "div", "x.div(y)", "div"),
    *_row("method", "pow", "x.pow(y)", "pow"),
    *_row("method", "neg", "x.neg()", "neg"),
    *_row("method", "matmul", "x.matmul(y)", "matmul", "vectors and matrices"),
    *_row("method", "relu", "x.relu()", "relu"),
    *_row("method", "sigmoid", "x.sigmoid()", "sigmoid"),
    *_row("method", "tanh", "x.tanh()", "tanh"),
    *_row("method", "exp", "x.exp()", "exp"),
    *_row("method", "log", "x.log()", "log"),
    *_row("method", "sqrt", "x.sqrt()", "sqrt"),
    *_row("method", "abs", "x.abs()", "abs"),
    *_row("method", "square", "x.square()", "square"),
    *_row("method", "clamp clip", "x.clamp(min, max), x.clip(...)", "clamp", "numbers"),
    *_row("method", "sum", "x.sum(dim, keepdim)", "sum", "over every entry, or over dims of a vector or a "
          "matrix"),
    *_row("method", "mean", "x.mean(dim, keepdim)", "mean", "over every entry, or over dims of a vector or a "
          "matrix"),
    *_row("method", "softmax", "x.softmax(dim)", "softmax", "over the last dim of a vector or a matrix"),
    *_row("method", "t", "x.t()", "t", "of a matrix"),
    *_row("method", "view reshape", "x.view(...), x.reshape(...)", "view", "to a vector or a matrix"),
    *_row("method", "flatten", "x.flatten()", "flatten"),
    *_row("method", "size", "x.size()", "size", "a number, from the example input's shape"),
    *_row("method", "transpose permute unsqueeze squeeze expand expand_as repeat split chunk unbind tril triu flip "
          "narrow select", "x.transpose(...), .permute, .unsqueeze, .squeeze, .expand, .repeat, .split, .chunk, "
          ".unbind, .tril, .triu, .flip, .narrow, .select", "rearrange", "any rank: the entries moved, no gate"),
    *_row("method", "contiguous float double", "x.contiguous(), x.float(), x.double()", "contiguous",
          "the tensor itself (its exact entries have no dtype)"),
    *_row("method", "roll diagonal repeat_interleave index_select movedim swapaxes", "x.roll, .diagonal, "
          ".repeat_interleave, .index_select, .movedim, .swapaxes", "rearrange", "the entries moved, no gate"),
    *_row("method", "sin cos tan", "x.sin(), x.cos(), x.tan()", "trig"),
    *_row("method", "rsqrt", "x.rsqrt()", "rsqrt"),
    *_row("method", "prod", "x.prod(dim, keepdim)", "prod", "over every entry or a dim"),
    *_row("method", "max", "x.max(dim, keepdim)", "max", "values (.values) and indices (.indices)"),
    *_row("method", "amax", "x.amax(dim, keepdim)", "amax"),
    *_row("method", "min", "x.min(dim, keepdim)", "min"),
    *_row("method", "var", "x.var(dim, keepdim, correction)", "var"),
    *_row("method", "std", "x.std(dim, keepdim, correction)", "std"),
    *_row("method", "log_softmax", "x.log_softmax(dim)", "log_softmax"),
    *_row("method", "logsumexp", "x.logsumexp(dim)", "logsumexp"),
    *_row("method", "masked_fill", "x.masked_fill(mask, value)", "masked_fill",
          "a data mask; -inf only before a softmax"),
)

#: Losses given as ``loss=``, by class name.
LOSSES: tuple[Op, ...] = (
    Op("loss", "MSELoss", "nn.MSELoss", "MSELoss", "reduction 'mean' or 'sum'"),
    Op("loss", "CrossEntropyLoss", "nn.CrossEntropyLoss", "CrossEntropyLoss",
       "class indices or probabilities; label_smoothing, ignore_index; reduction 'mean' or 'sum'; no weights"),
    Op("loss", "BCELoss", "nn.BCELoss", "BCELoss", "reduction 'mean' or 'sum'"),
    Op("loss", "L1Loss", "nn.L1Loss", "L1Loss", "reduction 'mean' or 'sum'"),
    Op("loss", "BCEWithLogitsLoss", "nn.BCEWithLogitsLoss", "BCEWithLogitsLoss", "no weights"),
    Op("loss", "NLLLoss", "nn.NLLLoss", "NLLLoss", "ignore_index; no weights"),
    Op("loss", "HuberLoss", "nn.HuberLoss", "HuberLoss", "delta"),
    Op("loss", "SmoothL1Loss", "nn.SmoothL1Loss", "SmoothL1Loss", "beta"),
    Op("loss", "KLDivLoss", "nn.KLDivLoss", "KLDivLoss", "reduction 'mean', 'sum' or 'batchmean'; log_target"),
)

#: What is refused with a rewrite to offer: the user's spelling and what to write instead.
REFUSED: tuple[Op, ...] = (
    Op("module", "MultiheadAttention", "nn.MultiheadAttention",
       reads="write the heads out: q, k, v = nn.Linear(...)(x)...; (q @ k.t() / d ** 0.5).softmax(-1) @ v"),
    Op("module", "MSELoss", "nn.MSELoss inside forward", reads="return the output and give loss=nn.MSELoss()"),
    Op("module", "CrossEntropyLoss", "nn.CrossEntropyLoss inside forward",
       reads="return the logits and give loss=nn.CrossEntropyLoss()"),
    Op("function", "torch.nn.functional.cosine_similarity", "F.cosine_similarity",
       reads="write (a * b).sum(-1) / ((a * a).sum(-1) * (b * b).sum(-1)).sqrt()"),
    Op("function", "torch.nn.functional.normalize", "F.normalize", reads="write x / (x * x).sum(-1, keepdim=True).sqrt()"),
)

#: How an operator function is written (for a refusal): ``operator.pow`` is ``x ** y``.
OPERATORS = {"add": "x + y", "sub": "x - y", "mul": "x * y", "truediv": "x / y", "floordiv": "x // y",
             "mod": "x % y", "pow": "x ** y", "matmul": "x @ y", "neg": "-x", "getitem": "x[...]",
             "lt": "x < y", "le": "x <= y", "gt": "x > y", "ge": "x >= y", "eq": "x == y", "ne": "x != y",
             "and_": "x & y", "or_": "x | y", "invert": "~x", "abs": "abs(x)"}


def user_spelling(module: str, name: str) -> str:
    """How a user writes the function ``module.name``: ``F.mse_loss``, ``x ** y``, ``torch.erf``."""
    if module in ("operator", "_operator"):
        return OPERATORS.get(name, f"operator.{name}")
    if module.startswith("torch.nn.functional"):
        return f"F.{name}"
    if module.startswith("torch"):
        return f"torch.{name}"
    return f"{module}.{name}" if module else name


def supported_table() -> str:
    """The supported operations as the Markdown table ``docs/pytorch.md`` shows (generated from
    :data:`SUPPORTED` and :data:`LOSSES`; a test checks the page equals it)."""
    lines = ["| you write | kind | what is read |", "|---|---|---|"]
    seen: set[tuple[str, str]] = set()
    for op in (*SUPPORTED, *LOSSES):
        if (op.kind, op.written) in seen:
            continue
        seen.add((op.kind, op.written))
        kind = {"module": "layer", "function": "function", "method": "method", "loss": "loss="}[op.kind]
        lines.append(f"| `{op.written}` | {kind} | {op.reads or 'every setting'} |")
    lines += ["", "Refused with the rewrite to use:", "", "| you write | write instead |", "|---|---|"]
    lines += [f"| `{op.written}` | {op.reads} |" for op in REFUSED]
    return "\n".join(lines) + "\n"


__all__ = ["LOSSES", "OPERATORS", "Op", "REFUSED", "SUPPORTED", "supported_table", "user_spelling"]
