"""makemore.py's bag-of-words language model: each position averages the embeddings of itself and
all positions before it (a causal mean: attention with equal weights), adds an MLP, and decodes."""
import tensorgrad as tg
import tensorgrad.nn.functional as F
from tensorgrad import nn


class CausalBoW(nn.Module):
    """y_t = mean(x_1..x_t): a softmax over zeros under the lower-triangular mask."""

    def __init__(self, config):
        super().__init__()
        self.block_size = config.block_size
        bs = config.block_size
        self.register_buffer("bias", tg.tril(tg.ones(bs, bs)).reshape(1, bs, bs))   # (1, T, T) the mask

    def forward(self, x):
        B, T, C = x.shape
        att = tg.zeros(B, T, T, dtype=x.dtype)                                   # (B, T, T)
        att = att.masked_fill(self.bias[:, :T, :T] == 0, float("-inf"))
        att = F.softmax(att, dim=-1)                                             # rows average the past
        return att @ x                                                           # (B, T, C)


class BoWBlock(nn.Module):
    """x + CausalBoW(x), then x + MLP(x) (Linear, tanh, Linear)."""

    def __init__(self, config):
        super().__init__()
        self.cbow = CausalBoW(config)
        self.mlp = nn.ModuleDict(dict(
            c_fc=nn.Linear(config.n_embd, config.n_embd2),
            c_proj=nn.Linear(config.n_embd2, config.n_embd),
        ))

    def forward(self, x):
        x = x + self.cbow(x)                                          # (B, T, n_embd)
        x = x + self.mlp.c_proj(self.mlp.c_fc(x).tanh())              # (B, T, n_embd)
        return x


class BoW(nn.Module):
    """Token and position embeddings, one BoWBlock, a Linear decoder."""

    def __init__(self, config):
        super().__init__()
        self.block_size = config.block_size
        self.vocab_size = config.vocab_size
        self.wte = nn.Embedding(config.vocab_size, config.n_embd)
        self.wpe = nn.Embedding(config.block_size, config.n_embd)
        self.context_block = BoWBlock(config)
        self.lm_head = nn.Linear(config.n_embd, self.vocab_size)

    def get_block_size(self) -> int:
        return self.block_size

    def forward(self, idx):
        B, T = idx.shape
        if T > self.block_size:
            raise ValueError(f"BoW: a sequence of {T} is longer than the block size {self.block_size}")
        pos = tg.arange(0, T).unsqueeze(0)              # (1, T)
        x = self.wte(idx) + self.wpe(pos)               # (B, T, n_embd)
        x = self.context_block(x)                       # (B, T, n_embd)
        return self.lm_head(x)                          # (B, T, vocab_size)
