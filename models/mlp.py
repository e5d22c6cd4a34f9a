"""makemore.py's MLP language model (Bengio et al. 2003, "A Neural Probabilistic Language Model",
https://www.jmlr.org/papers/volume3/bengio03a/bengio03a.pdf): for every position, embed the
block_size previous characters, concatenate and predict the next one with a one-hidden-layer MLP.
Positions before the start of the sequence are a special <BLANK> token, index vocab_size."""
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
        idx = tg.tensor(idx) if not isinstance(idx, tg.Tensor) else idx
        blank = tg.full((B, self.block_size), self.vocab_size, dtype=tg.int64)   # (B, block_size) <BLANK>s
        padded = tg.cat([blank, idx], dim=1)                                     # (B, block_size + T)
        # the k-th embedding of position t is the character k steps back: idx rolled right k times,
        # with <BLANK> where that falls before the start (makemore.py rolls idx and sets column 0)
        embs = [self.wte(padded[:, self.block_size - k:self.block_size - k + T])   # (B, T, n_embd)
                for k in range(self.block_size)]
        x = tg.cat(embs, dim=-1)                                                  # (B, T, block_size*n_embd)
        return self.mlp(x)                                                        # (B, T, vocab_size)
