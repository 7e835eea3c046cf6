"""Acceptance (issue 27): nanoGPT's transformer ``Block``, as Andrej Karpathy wrote it.

The classes below (LayerNorm, CausalSelfAttention, MLP, Block, GPTConfig) are copied verbatim
from karpathy/nanoGPT's model.py, as test material (nothing of them is changed; the charter allows
public code in tests). Flash attention is off: ``F.scaled_dot_product_attention`` is hidden while
the Block is built, so it takes its own path (a ``tril`` buffer sliced by ``T``, ``masked_fill``
with -inf, ``softmax``). Config: n_embd 4, n_head 2, block size 3, dropout 0, bias on; batch 1
and 2. Expected gradients: PyTorch float64 autograd on a float64 copy, with every parameter and
input a multiple of 1/16 (so float32 and float64 hold the same numbers the solution reads).
"""

import math
from dataclasses import dataclass

import pytest

torch = pytest.importorskip("torch")
import torch.nn as nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402

import symderiv  # noqa: E402

# ----- karpathy/nanoGPT model.py, verbatim -------------------------------------------------------

class LayerNorm(nn.Module):
    """ LayerNorm but with an optional bias. PyTorch doesn't support simply bias=False """

    def __init__(self, ndim, bias):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(ndim))
        self.bias = nn.Parameter(torch.zeros(ndim)) if bias else None

    def forward(self, input):
        return F.layer_norm(input, self.weight.shape, self.weight, self.bias, 1e-5)

class CausalSelfAttention(nn.Module):

    def __init__(self, config):
        super().__init__()
        assert config.n_embd % config.n_head == 0
        # key, query, value projections for all heads, but in a batch
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
        # output projection
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        # regularization
        self.attn_dropout = nn.Dropout(config.dropout)
        self.resid_dropout = nn.Dropout(config.dropout)
        self.n_head = config.n_head
        self.n_embd = config.n_embd
        self.dropout = config.dropout
        # flash attention make GPU go brrrrr but support is only in PyTorch >= 2.0
        self.flash = hasattr(torch.nn.functional, 'scaled_dot_product_attention')
        if not self.flash:
            print("WARNING: using slow attention. Flash Attention requires PyTorch >= 2.0")
            # causal mask to ensure that attention is only applied to the left in the input sequence
            self.register_buffer("bias", torch.tril(torch.ones(config.block_size, config.block_size))
                                        .view(1, 1, config.block_size, config.block_size))

    def forward(self, x):
        B, T, C = x.size() # batch size, sequence length, embedding dimensionality (n_embd)

        # calculate query, key, values for all heads in batch and move head forward to be the batch dim
        q, k, v  = self.c_attn(x).split(self.n_embd, dim=2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) # (B, nh, T, hs)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) # (B, nh, T, hs)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) # (B, nh, T, hs)

        # causal self-attention; Self-attend: (B, nh, T, hs) x (B, nh, hs, T) -> (B, nh, T, T)
        if self.flash:
            # efficient attention using Flash Attention CUDA kernels
            y = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=None, dropout_p=self.dropout if self.training else 0, is_causal=True)
        else:
            # manual implementation of attention
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
            att = att.masked_fill(self.bias[:,:,:T,:T] == 0, float('-inf'))
            att = F.softmax(att, dim=-1)
            att = self.attn_dropout(att)
            y = att @ v # (B, nh, T, T) x (B, nh, T, hs) -> (B, nh, T, hs)
        y = y.transpose(1, 2).contiguous().view(B, T, C) # re-assemble all head outputs side by side

        # output projection
        y = self.resid_dropout(self.c_proj(y))
        return y

class MLP(nn.Module):

    def __init__(self, config):
        super().__init__()
        self.c_fc    = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.gelu    = nn.GELU()
        self.c_proj  = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x):
        x = self.c_fc(x)
        x = self.gelu(x)
        x = self.c_proj(x)
        x = self.dropout(x)
        return x

class Block(nn.Module):

    def __init__(self, config):
        super().__init__()
        self.ln_1 = LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        x = x + self.mlp(self.ln_2(x))
        return x

@dataclass
class GPTConfig:
    block_size: int = 1024
    vocab_size: int = 50304 # GPT-2 vocab_size of 50257, padded up to nearest multiple of 64 for efficiency
    n_layer: int = 12
    n_head: int = 12
    n_embd: int = 768
    dropout: float = 0.0
    bias: bool = True # True: bias in Linears and LayerNorms, like GPT-2. False: a bit better and faster

# ----- the test --------------------------------------------------------------------------------


class Summed(nn.Module):
    """The Block's output, summed: the loss whose gradients are compared."""

    def __init__(self, block):
        super().__init__()
        self.block = block

    def forward(self, x):
        return self.block(x).sum()


def make_block(seed: int):
    config = GPTConfig(block_size=3, vocab_size=5, n_layer=1, n_head=2, n_embd=4, dropout=0.0, bias=True)
    flash = F.scaled_dot_product_attention
    del F.scaled_dot_product_attention  # nanoGPT takes its own attention path when PyTorch lacks this
    try:
        block = Block(config)
    finally:
        F.scaled_dot_product_attention = flash
    torch.manual_seed(seed)
    with torch.no_grad():
        for p in block.parameters():
            p.copy_(torch.round(torch.randn(p.shape) * 8) / 16)
    return block


@pytest.mark.parametrize("batch", [1, 2])
def test_nanogpt_block_as_written_against_float64_autograd(batch):
    block = make_block(batch)
    assert not block.attn.flash
    torch.manual_seed(10 + batch)
    x = torch.round(torch.randn(batch, 3, 4) * 8) / 16
    model = Summed(block)
    sol = symderiv.from_torch(model, x)
    reference = Summed(block).double()
    import copy
    reference = copy.deepcopy(model).double()
    reference(x.double()).backward()
    for name, p in reference.named_parameters():
        got = [float(v) for row in sol.results[name].approx for v in row]
        want = p.grad.reshape(-1).tolist()
        assert len(got) == len(want), name
        scale = max(abs(w) for w in want)
        for g, w in zip(got, want):
            assert abs(g - w) <= 1e-12 * max(abs(w), 1e-3 * scale) + 1e-15, (name, got, want)
