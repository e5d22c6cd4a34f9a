"""Linear layers, embeddings, one-hot, and distances, as torch.nn.functional's."""

import numpy as np

from ... import ops
from ...engine import Tensor, data_of
from ...functions.index import _check_index
from ...functions.math import clamp
from ...functions.reduce import norm


def one_hot(tensor, num_classes: int = -1) -> Tensor:
    """int64 one-hot rows, as torch.nn.functional.one_hot (not differentiable)."""
    idx = np.asarray(data_of(tensor))
    if idx.dtype.kind not in "iu":
        raise TypeError(f"one_hot: expected an integer tensor, got {idx.dtype}")
    if num_classes < 0 and idx.size == 0:
        raise ValueError("one_hot: cannot infer num_classes from an empty tensor; pass num_classes")
    n = int(idx.max()) + 1 if num_classes < 0 else num_classes
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise IndexError(f"one_hot: class values must be in [0, {n}), got {idx.min()}..{idx.max()}")
    return Tensor._wrap(np.eye(n, dtype=np.int64)[idx])


def linear(x, weight, bias=None):
    """x @ weight.T + bias, torch's layout (weight is (out_features, in_features))."""
    out = x @ weight.T
    return out if bias is None else out + bias


def embedding(index, weight):
    """weight[index]: its gradient is a scatter-add into the rows of weight."""
    _check_index(np.asarray(data_of(index)), weight.shape[0], "embedding")
    return weight[index]


def cosine_similarity(x1, x2, dim: int = 1, eps: float = 1e-8):
    """The cosine of the angle between x1 and x2 along dim, each norm clamped at eps, as torch."""
    n1 = clamp(norm(x1, 2, dim, keepdim=True), min=eps)
    n2 = clamp(norm(x2, 2, dim, keepdim=True), min=eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pairwise_distance(x1, x2, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False):
    """||x1 - x2 + eps||_p over the last dim."""
    return norm(x1 - x2 + eps, p, dim=-1, keepdim=keepdim)


def pixel_shuffle(input, upscale_factor: int):
    """(N, C r^2, H, W) -> (N, C, H r, W r): sub-pixel rearrangement (Shi et al. 2016)."""
    r = upscale_factor
    *lead, c, h, w = input.shape
    x = ops.reshape(input, shape=tuple(lead) + (c // (r * r), r, r, h, w))
    k = len(lead)
    x = ops.permute(x, axes=tuple(range(k)) + (k, k + 3, k + 1, k + 4, k + 2))       # (..., C, H, r, W, r)
    return ops.reshape(x, shape=tuple(lead) + (c // (r * r), h * r, w * r))


def pixel_unshuffle(input, downscale_factor: int):
    """The inverse of pixel_shuffle: (N, C, H r, W r) -> (N, C r^2, H, W)."""
    r = downscale_factor
    *lead, c, h, w = input.shape
    x = ops.reshape(input, shape=tuple(lead) + (c, h // r, r, w // r, r))
    k = len(lead)
    x = ops.permute(x, axes=tuple(range(k)) + (k, k + 2, k + 4, k + 1, k + 3))       # (..., C, r, r, H, W)
    return ops.reshape(x, shape=tuple(lead) + (c * r * r, h // r, w // r))
