"""makemore.py's MLP language model (Bengio et al. 2003, "A Neural Probabilistic Language Model",
https://www.jmlr.org/papers/volume3/bengio03a/bengio03a.pdf): for every position, embed the
block_size previous characters, concatenate and predict the next one with a one-hidden-layer MLP.
Positions before the start of the sequence are a special <BLANK> token, index vocab_size."""
import numpy as np

import tensorgrad as tg
from tensorgrad import nn


class MLP(nn.Module):
    """wte (vocab_size + 1, n_embd) -> concat of block_size embeddings -> Linear, Tanh, Linear."""

    def __init__(self, config):
        super().__init__()
        self.block_size = config.block_size
        self.vocab_size = config.vocab_size
        self.wte = nn.Embedding(config.vocab_size + 1, config.n_embd)   # +1: the <BLANK> token
        self.mlp = nn.Sequential(
            nn.Linear(self.block_size * config.n_embd, config.n_embd2),
            nn.Tanh(),
            nn.Linear(config.n_embd2, self.vocab_size),
        )

    def get_block_size(self) -> int:
        return self.block_size

    def forward(self, idx):
        B, T = idx.shape
        idx = idx if isinstance(idx, tg.Tensor) else tg.from_numpy(np.asarray(idx))   # an op: tg.compile sees it
        # the k-th embedding of position t is the character k steps back: idx rolled right k times,
        # with <BLANK> where that falls before the start (makemore.py rolls idx and sets column 0).
        # The rolled indices are built first (integers, no gradient), then looked up at once: the same
        # numbers as block_size lookups, with one scatter-add in backward instead of block_size
        blank = tg.full((B, self.block_size), self.vocab_size, dtype=idx.dtype)
        padded = tg.cat([blank, idx], 1)                                         # (B, block_size + T)
        back = self.block_size + np.arange(T)[:, None] - np.arange(self.block_size)[None, :]    # (T, block_size)
        context = padded[:, back]                                                # (B, T, block_size)
        emb = self.wte(context)                                                  # (B, T, block_size, n_embd)
        x = emb.reshape(B, T, -1)                                                 # (B, T, block_size*n_embd)
        return self.mlp(x)                                                        # (B, T, vocab_size)
