"""The bigram language model of makemore: a table of logits for the next character given the
previous one (makemore part 1, trained here by gradient descent as in makemore.py)."""
import tensorgrad as tg
from tensorgrad import nn


class Bigram(nn.Module):
    """logits[i] are the (unnormalised log-) counts of each character following character i."""

    def __init__(self, config):
        super().__init__()
        n = config.vocab_size
        self.logits = nn.Parameter(tg.zeros(n, n))   # (vocab_size, vocab_size)

    def get_block_size(self) -> int:
        return 1   # only the previous character matters

    def forward(self, idx):
        return self.logits[idx]                     # (B, T) -> (B, T, vocab_size)
