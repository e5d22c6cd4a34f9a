"""The deep BatchNorm MLP of makemore part 3 ("Activations & Gradients, BatchNorm"): the lecture's
"PyTorch-ified" network of five hidden Linear -> BatchNorm1d -> Tanh layers, Linear layers without
bias (BatchNorm makes it useless), Kaiming-style init randn / sqrt(fan_in), and the output layer's
BatchNorm gain scaled by 0.1 so that the first predictions are not confidently wrong.
(Ioffe & Szegedy 2015, https://arxiv.org/abs/1502.03167; He et al. 2015, https://arxiv.org/abs/1502.01852)"""
import math

import tensorgrad as tg
from tensorgrad import nn


def lecture_linear(fan_in: int, fan_out: int, bias: bool, generator: tg.Generator) -> nn.Linear:
    """nn.Linear (torch's (out, in) weight) with the lectures' init: weight randn / sqrt(fan_in), bias 0."""
    layer = nn.Linear(fan_in, fan_out, bias=bias)
    layer.weight = nn.Parameter(tg.randn(fan_out, fan_in, generator=generator) * (1 / math.sqrt(fan_in)))
    if bias:
        layer.bias = nn.Parameter(tg.zeros(fan_out))
    return layer


class DeepBatchNormMLP(nn.Module):
    """C (vocab_size, n_embd) -> flatten -> 5 x (Linear, BatchNorm1d, Tanh) -> Linear, BatchNorm1d.
    BatchNorm normalises with the unbiased batch variance, as the lecture's own BatchNorm1d (x.var)."""

    def __init__(self, config, generator: tg.Generator | None = None):
        super().__init__()
        g = generator or tg.Generator().manual_seed(config.seed)
        V, E, T, H = config.vocab_size, config.n_embd, config.block_size, config.n_hidden
        m = config.bn_momentum
        self.C = nn.Parameter(tg.randn(V, E, generator=g))                     # (V, n_embd)
        sizes = [E * T] + [H] * 4                                              # fan-in of the 5 hidden layers
        layers = []
        for fan_in in sizes:
            layers += [lecture_linear(fan_in, H, False, g), nn.BatchNorm1d(H, momentum=m, unbiased=True), nn.Tanh()]
        layers += [lecture_linear(H, V, False, g), nn.BatchNorm1d(V, momentum=m, unbiased=True)]
        self.layers = nn.Sequential(*layers)
        with tg.no_grad():
            self.layers[-1].weight.mul_(0.1)                                   # last layer: less confident

    def forward(self, X):
        """X (B, block_size) -> logits (B, vocab_size)."""
        emb = self.C[X]                                  # (B, block_size, n_embd)
        x = emb.reshape(emb.shape[0], -1)                # (B, block_size*n_embd)
        return self.layers(x)                            # (B, vocab_size)
