"""The hierarchical model of makemore part 5 ("Building a WaveNet"), after van den Oord et al. 2016,
"WaveNet: A Generative Model for Raw Audio" (https://arxiv.org/abs/1609.03499): instead of crushing
all 8 characters of the context into one layer, fuse them two at a time (FlattenConsecutive(2)),
three times, like the dilated causal convolutions of WaveNet. The lecture reaches train 1.769,
val 1.993 with 76,579 parameters after 200,000 SGD steps on names.txt."""
import tensorgrad as tg
from tensorgrad import nn

from models.deep_bn import lecture_linear


class FlattenConsecutive(nn.Module):
    """(B, T, C) -> (B, T // n, C * n): concatenate each n consecutive positions; (B, C*n) if T == n."""

    def __init__(self, n: int):
        super().__init__()
        self.n = n

    def forward(self, x):
        B, T, C = x.shape
        x = x.reshape(B, T // self.n, C * self.n)        # (B, T/n, C*n)
        if x.shape[1] == 1:
            x = x.squeeze(1)                             # (B, C*n)
        return x

    def extra_repr(self):
        return f"{self.n}"


class BatchNorm1dOverTime(nn.BatchNorm1d):
    """BatchNorm1d over the last dim of (B, C) or (B, T, C), statistics over B (and T), as the lecture's
    BatchNorm1d (torch's own BatchNorm1d wants (B, C, T) instead)."""

    def forward(self, x):
        if x.ndim == 3:
            B, T, C = x.shape
            return super().forward(x.reshape(B * T, C)).reshape(B, T, C)   # (B, T, C)
        return super().forward(x)                                            # (B, C)


class WaveNet(nn.Module):
    """Embedding -> 3 x (FlattenConsecutive(2), Linear, BatchNorm1d, Tanh) -> Linear. block_size 8."""

    def __init__(self, config, generator: tg.Generator | None = None):
        super().__init__()
        g = generator or tg.Generator().manual_seed(config.seed)
        V, E, H, m = config.vocab_size, config.n_embd, config.n_hidden, config.bn_momentum
        if config.block_size != 8:
            raise ValueError(f"WaveNet fuses its context three times by 2: block_size must be 8, "
                             f"not {config.block_size}")
        emb = nn.Embedding(V, E)
        emb.weight = nn.Parameter(tg.randn(V, E, generator=g))              # (V, n_embd)

        def bn():
            return BatchNorm1dOverTime(H, momentum=m, unbiased=True)
        self.layers = nn.Sequential(
            emb,                                                            # (B, 8, n_embd)
            FlattenConsecutive(2), lecture_linear(E * 2, H, False, g), bn(), nn.Tanh(),   # (B, 4, n_hidden)
            FlattenConsecutive(2), lecture_linear(H * 2, H, False, g), bn(), nn.Tanh(),   # (B, 2, n_hidden)
            FlattenConsecutive(2), lecture_linear(H * 2, H, False, g), bn(), nn.Tanh(),   # (B, n_hidden)
            lecture_linear(H, V, True, g),                                               # (B, vocab_size)
        )
        with tg.no_grad():
            self.layers[-1].weight.mul_(0.1)                               # last layer: less confident

    def forward(self, X):
        """X (B, 8) -> logits (B, vocab_size)."""
        return self.layers(X)
