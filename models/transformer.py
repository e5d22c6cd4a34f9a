"""makemore.py's Transformer: a GPT-2-style decoder (Vaswani et al. 2017, "Attention Is All You Need",
https://arxiv.org/abs/1706.03762; Radford et al. 2019, GPT-2), pre-LayerNorm blocks of causal
multi-head self-attention and an MLP with GELU (tanh approximation, Hendrycks & Gimpel 2016,
https://arxiv.org/abs/1606.08415). As makemore.py: no dropout, no weight tying, lm_head without bias."""
import math

import tensorgrad as tg
import tensorgrad.nn.functional as F
from tensorgrad import nn


class NewGELU(nn.Module):
    """GELU as BERT and GPT-2 compute it: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""

    def forward(self, x):
        # makemore.py spells it out, 0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x**3))); the same
        # formula is one fused op here (torch's F.gelu(approximate="tanh")): 1 node instead of 9, forward and back
        return F.gelu(x, approximate="tanh")


class CausalSelfAttention(nn.Module):
    """n_head heads of scaled dot-product attention, each position attending to itself and the past."""

    def __init__(self, config):
        super().__init__()
        if config.n_embd % config.n_head:
            raise ValueError(f"n_embd {config.n_embd} is not a multiple of n_head {config.n_head}")
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd)   # query, key, value of all heads at once
        self.c_proj = nn.Linear(config.n_embd, config.n_embd)
        bs = config.block_size
        self.register_buffer("bias", tg.tril(tg.ones(bs, bs)).reshape(1, 1, bs, bs))   # (1, 1, T, T) the mask
        self.n_head, self.n_embd = config.n_head, config.n_embd

    def forward(self, x):
        B, T, C = x.shape
        nh, hs = self.n_head, C // self.n_head
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)          # 3 x (B, T, C)
        q = q.reshape(B, T, nh, hs).transpose(1, 2)                 # (B, nh, T, hs)
        k = k.reshape(B, T, nh, hs).transpose(1, 2)                 # (B, nh, T, hs)
        v = v.reshape(B, T, nh, hs).transpose(1, 2)                 # (B, nh, T, hs)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hs))     # (B, nh, T, T)
        att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf"))
        att = F.softmax(att, dim=-1)
        y = att @ v                                                 # (B, nh, T, hs)
        y = y.transpose(1, 2).reshape(B, T, C)                      # (B, T, C) the heads side by side
        return self.c_proj(y)                                       # (B, T, C)


class Block(nn.Module):
    """x + attn(ln_1(x)), then x + mlp(ln_2(x)), the MLP 4 n_embd wide."""

    def __init__(self, config):
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd)
        self.mlp = nn.ModuleDict(dict(
            c_fc=nn.Linear(config.n_embd, 4 * config.n_embd),
            c_proj=nn.Linear(4 * config.n_embd, config.n_embd),
            act=NewGELU(),
        ))

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))                                     # (B, T, n_embd)
        m = self.mlp
        x = x + m.c_proj(m.act(m.c_fc(self.ln_2(x))))                       # (B, T, n_embd)
        return x


class Transformer(nn.Module):
    """Token and position embeddings, n_layer blocks, a final LayerNorm, the lm_head decoder."""

    def __init__(self, config):
        super().__init__()
        self.block_size = config.block_size
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(config.vocab_size, config.n_embd),
            wpe=nn.Embedding(config.block_size, config.n_embd),
            h=nn.ModuleList([Block(config) for _ in range(config.n_layer)]),
            ln_f=nn.LayerNorm(config.n_embd),
        ))
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)

    def get_block_size(self) -> int:
        return self.block_size

    def forward(self, idx):
        B, T = idx.shape
        if T > self.block_size:
            raise ValueError(f"Transformer: a sequence of {T} is longer than the block size {self.block_size}")
        pos = tg.arange(0, T).unsqueeze(0)                            # (1, T)
        x = self.transformer.wte(idx) + self.transformer.wpe(pos)     # (B, T, n_embd)
        for block in self.transformer.h:
            x = block(x)                                              # (B, T, n_embd)
        x = self.transformer.ln_f(x)
        return self.lm_head(x)                                        # (B, T, vocab_size)
