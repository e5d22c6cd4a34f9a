"""Linear and bilinear layers, embeddings and embedding bags, one-hot, and distances, as torch.nn.functional's."""

import numpy as np

from ... import ops
from ...engine import Tensor, apply, data_of
from ...ops import index_array
from ...functions.creation import tensor, zeros
from ...functions.index import _check_index, index_add
from ...functions.linalg import einsum
from ...functions.shape import stack
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
    """x @ weight.T + bias, torch's layout (weight is (out_features, in_features)): one op (ops.linear)
    for float operands of one dtype, as nn.Linear calls it."""
    if isinstance(x, Tensor) and isinstance(weight, Tensor):     # (checked on the arrays: a layer's every call)
        xd, wd = x._data, weight._data
        if (xd.ndim and wd.ndim == 2 and xd.shape[-1] == wd.shape[1] and xd.dtype == wd.dtype
                and xd.dtype.kind == "f"):
            if bias is None:
                return apply(ops.linear, (x, weight), ops.NO_ATTRS)
            if isinstance(bias, Tensor) and bias._data.shape == wd.shape[:1] and bias._data.dtype == xd.dtype:
                return apply(ops.linear, (x, weight, bias), ops.NO_ATTRS)
    out = x @ weight.T
    return out if bias is None else out + bias


def embedding(index, weight):
    """weight[index]: its gradient is a scatter-add into the rows of weight."""
    _check_index(np.asarray(data_of(index)), weight.shape[0], "embedding")
    return weight[index]


def cosine_similarity(x1, x2, dim: int = 1, eps: float = 1e-8):
    """The cosine of the angle between x1 and x2 along dim, each norm clamped at eps, as torch (the two
    broadcast to one shape first)."""
    shape = tuple(np.broadcast_shapes(x1.shape, x2.shape))
    x1, x2 = (x if tuple(x.shape) == shape else x.expand(*shape) for x in (x1, x2))
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
    if c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of "
                           f"upscale_factor, but input.size(-3)={c} is not divisible by {r * r}")
    x = ops.reshape(input, shape=tuple(lead) + (c // (r * r), r, r, h, w))
    k = len(lead)
    x = ops.permute(x, axes=tuple(range(k)) + (k, k + 3, k + 1, k + 4, k + 2))       # (..., C, H, r, W, r)
    return ops.reshape(x, shape=tuple(lead) + (c // (r * r), h * r, w * r))


def pixel_unshuffle(input, downscale_factor: int):
    """The inverse of pixel_shuffle: (N, C, H r, W r) -> (N, C r^2, H, W)."""
    r = downscale_factor
    *lead, c, h, w = input.shape
    if h % r or w % r:
        raise RuntimeError(f"pixel_unshuffle expects height ({h}) and width ({w}) to be divisible by "
                           f"downscale_factor={r}")
    x = ops.reshape(input, shape=tuple(lead) + (c, h // r, r, w // r, r))
    k = len(lead)
    x = ops.permute(x, axes=tuple(range(k)) + (k, k + 2, k + 4, k + 1, k + 3))       # (..., C, r, r, H, W)
    return ops.reshape(x, shape=tuple(lead) + (c * r * r, h // r, w // r))


def bilinear(input1, input2, weight, bias=None):
    """torch.nn.functional.bilinear: y_o = x1^T A_o x2 + b_o, A of shape (out, in1, in2), over (*, in1) and (*, in2)."""
    if input1.shape[:-1] != input2.shape[:-1]:
        raise RuntimeError(f"bilinear: input1 and input2 must have the same leading dims, got {tuple(input1.shape)} "
                           f"and {tuple(input2.shape)}")
    if weight.ndim != 3 or (weight.shape[1], weight.shape[2]) != (input1.shape[-1], input2.shape[-1]):
        raise RuntimeError(f"bilinear: weight of shape {tuple(weight.shape)} does not fit inputs of sizes "
                           f"{input1.shape[-1]} and {input2.shape[-1]}")
    out = einsum("...i,oij,...j->...o", input1, weight, input2)              # (*, out)
    return out if bias is None else out + bias


# ----------------------------------------------------------------------------
# embedding bags: an index_add of the looked-up rows into their bags

def _bags(input, offsets, include_last_offset: bool, name: str):
    """(flat indices, the bag of each, number of bags) from a 2-D input (one bag per row) or a 1-D
    input cut at offsets."""
    idx = index_array(input)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{name}: input must hold indices (integers), got {idx.dtype}")
    if idx.ndim == 2:
        if offsets is not None:
            raise ValueError(f"{name}: offsets has to be None if input is 2D")
        n, length = idx.shape
        return idx.ravel(), np.repeat(np.arange(n), length), n
    if idx.ndim != 1:
        raise ValueError(f"{name}: input has to be 1D or 2D Tensor, but got Tensor of dimension {idx.ndim}")
    if offsets is None:
        raise ValueError(f"{name}: offsets has to be a 1D Tensor but got None")
    off = index_array(offsets).astype(np.int64)
    if off.ndim != 1:
        raise ValueError(f"{name}: offsets has to be a 1D Tensor")
    if off.size and off[0] != 0:
        raise ValueError(f"{name}: offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start "
                         "from position 0. However, got " + str(off[0]))
    if off.size and off[-1] > idx.size:
        raise ValueError(f"{name}: offsets[-1] can not be greater than input's length ({idx.size}), but got "
                         f"offsets[-1] of {off[-1]}")
    n = off.size - 1 if include_last_offset else off.size     # (the last bag runs to the end, as torch's)
    ends = np.append(off[1:n], idx.size)
    return idx, np.repeat(np.arange(n), ends - off[:n]), n


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type: float = 2, scale_grad_by_freq: bool = False,
                  mode: str = "mean", sparse: bool = False, per_sample_weights=None, include_last_offset: bool = False,
                  padding_idx: int | None = None):
    """torch.nn.functional.embedding_bag: for each bag, the sum, mean or max of weight's rows at its
    indices (per_sample_weights scale them, with mode='sum'); entries equal to padding_idx are left
    out; an empty bag gives zeros."""
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"embedding_bag: mode has to be one of sum, mean or max, got {mode!r}")
    if max_norm is not None or scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding_bag: max_norm, scale_grad_by_freq and sparse are not supported by "
                                  "tensorgrad")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. per_sample_weights is only "
                                  f"supported for mode='sum' (got mode='{mode}'). Please open a feature request on "
                                  "GitHub.")
    idx, bag, n = _bags(input, offsets, include_last_offset, "embedding_bag")
    num, dim = weight.shape
    if padding_idx is not None:
        padding_idx %= num
    keep = np.ones(idx.size, bool) if padding_idx is None else idx != padding_idx
    rows = embedding(idx[keep], weight)                                 # (kept, dim)
    if per_sample_weights is not None:
        w = per_sample_weights.reshape(-1)
        rows = rows * w[np.flatnonzero(keep)].unsqueeze(1)
    counts = np.bincount(bag[keep], minlength=n)
    if mode == "max":
        if rows.shape[0] == 0:
            return zeros(n, dim, dtype=weight.dtype)
        if (counts == 0).any() or np.any(np.diff(bag[keep]) < 0):
            raise NotImplementedError("embedding_bag: mode='max' with empty bags is not supported by tensorgrad")
        # bags of equal length (2-D input): a max over the bag dim; otherwise one bag at a time
        if np.all(counts == counts[0]):
            return rows.reshape(n, counts[0], dim).amax(dim=1)
        ends = np.cumsum(counts)
        return stack([rows[e - c:e].amax(dim=0) for c, e in zip(counts, ends)])
    out = index_add(zeros(n, dim, dtype=weight.dtype), 0, tensor(bag[keep]), rows)   # (bags, dim)
    if mode == "mean":
        out = out / tensor(np.maximum(counts, 1).astype(weight.dtype)).unsqueeze(1)
    return out
