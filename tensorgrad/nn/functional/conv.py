"""Convolution and pooling. The forward gathers every patch of the input (im2col: one as_strided
view, no copy); its adjoint, col2im, adds each patch of the gradient back where it came from
(a scatter-add: overlapping patches add up), the same gather/scatter-add pair as C[X]."""
import builtins

import math

import numpy as np

from ... import ops
from ...engine import Tensor, data_of
from ...functions import reduce
from ...functions.math import div
from ...functions.shape import pad, squeeze, unsqueeze


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """torch.nn.functional.unfold: (N, C, H, W) -> (N, C * KH * KW, L), the patches as columns."""
    kernel, dilation, padding, stride = (_tuple(v, 2, "unfold") for v in (kernel_size, dilation, padding, stride))
    x = pad(input, (padding[1], padding[1], padding[0], padding[0])) if builtins.any(padding) else input
    cols = ops.im2col(x, kernel=kernel, stride=stride, dilation=dilation)               # (N, C, OH, OW, KH, KW)
    n, c, oh, ow = cols.shape[:4]
    return ops.reshape(ops.permute(cols, axes=(0, 1, 4, 5, 2, 3)), shape=(n, c * kernel[0] * kernel[1], oh * ow))


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """torch.nn.functional.fold, unfold's adjoint: columns (N, C * KH * KW, L) summed back into (N, C, H, W)."""
    size, kernel, dilation, padding, stride = (_tuple(v, 2, "fold") for v in
                                               (output_size, kernel_size, dilation, padding, stride))
    padded = tuple(s + 2 * p for s, p in zip(size, padding))
    out = tuple((s - d * (k - 1) - 1) // st + 1 for s, k, st, d in zip(padded, kernel, stride, dilation))
    n, c = input.shape[0], input.shape[1] // (kernel[0] * kernel[1])
    if input.shape[1:] != (c * kernel[0] * kernel[1], out[0] * out[1]):
        raise ValueError(f"fold: expected input (N, C * {kernel[0] * kernel[1]}, {out[0] * out[1]}), got {input.shape}")
    cols = ops.permute(ops.reshape(input, shape=(n, c) + kernel + out), axes=(0, 1, 4, 5, 2, 3))
    full = ops.col2im(cols, shape=(n, c) + padded, kernel=kernel, stride=stride, dilation=dilation)
    return ops.getitem(full, key=(Ellipsis,) + tuple(slice(p, p + n) for p, n in zip(padding, size)))


def _tuple(v, nd: int, name: str) -> tuple:
    t = (int(v),) * nd if isinstance(v, (int, np.integer)) else tuple(int(a) for a in v)
    if len(t) != nd:
        raise ValueError(f"{name}: expected {nd} values, got {v}")
    return t


def _batched(x, nd: int, name: str):
    """An unbatched (C, *spatial) input gets a batch dim; returns (x, whether it was added)."""
    if x.ndim == nd + 1:
        return unsqueeze(x, 0), True
    if x.ndim != nd + 2:
        raise ValueError(f"{name}: expected a {nd + 1}-D or {nd + 2}-D input, got shape {x.shape}")
    return x, False


def _conv(input, weight, bias, stride, padding, dilation, groups, nd: int, name: str):
    x, added = _batched(input, nd, name)
    kernel, stride, dilation = weight.shape[2:], _tuple(stride, nd, name), _tuple(dilation, nd, name)
    if padding == "same":
        if builtins.any(s != 1 for s in stride):
            raise ValueError(f"{name}: padding='same' is not supported for strided convolutions")
        total = [d * (k - 1) for d, k in zip(dilation, kernel)]
        pairs = [(t // 2, t - t // 2) for t in total]              # the odd one out goes right, as torch
    elif padding == "valid":
        pairs = [(0, 0)] * nd
    else:
        pairs = [(p, p) for p in _tuple(padding, nd, name)]
    if builtins.any(p for pair in pairs for p in pair):
        x = pad(x, tuple(p for pair in reversed(pairs) for p in pair))
    n, c = x.shape[:2]
    out_channels = weight.shape[0]
    if out_channels < groups:
        raise RuntimeError(f"{name}: given groups={groups}, expected weight to be at least {groups} at dimension 0, "
                           f"but got weight of size {list(weight.shape)} instead")
    if c != weight.shape[1] * groups or out_channels % groups:
        raise ValueError(f"{name}: input with {c} channels and weight {weight.shape} do not fit groups={groups}")
    cols = ops.im2col(x, kernel=tuple(kernel), stride=stride, dilation=dilation)    # (N, C, *out, *kernel)
    space, ks = "hwd"[:nd], "ijk"[:nd]
    if groups == 1:
        out = ops.einsum(cols, weight, eq=f"nc{space}{ks},oc{ks}->no{space}")
    else:
        cols = ops.reshape(cols, shape=(n, groups, c // groups) + cols.shape[2:])
        w = ops.reshape(weight, shape=(groups, out_channels // groups) + weight.shape[1:])
        out = ops.einsum(cols, w, eq=f"ngc{space}{ks},goc{ks}->ngo{space}")
        out = ops.reshape(out, shape=(n, out_channels) + out.shape[3:])
    if bias is not None:
        out = out + ops.reshape(bias, shape=(1, -1) + (1,) * nd)
    return squeeze(out, 0) if added else out


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups: int = 1):
    """Input (N, C_in, L), weight (C_out, C_in / groups, K): torch.nn.functional.conv1d."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, 1, "conv1d")


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups: int = 1):
    """Input (N, C_in, H, W), weight (C_out, C_in / groups, KH, KW); padding a number, a pair,
    'valid' or 'same': torch.nn.functional.conv2d, as an einsum of the input's patches."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, 2, "conv2d")


def _pool_windows(x, kernel_size, stride, padding, dilation, ceil_mode, nd, name, fill):
    """The pooling windows of x padded with `fill`: (N, C, *out, *kernel), and the padding used
    (left, right) per dim. ceil_mode adds windows that start inside the left-padded input, as torch."""
    kernel = _tuple(kernel_size, nd, name)
    no_stride = stride is None or (not isinstance(stride, int) and len(stride) == 0)
    stride = kernel if no_stride else _tuple(stride, nd, name)             # torch's default: the kernel size
    padding, dilation = _tuple(padding, nd, name), _tuple(dilation, nd, name)
    if builtins.any(2 * p > k for p, k in zip(padding, kernel)):
        raise ValueError(f"{name}: padding {padding} should be at most half of the kernel size {kernel}")
    pairs = []
    for size, k, s, p, d in zip(x.shape[2:], kernel, stride, padding, dilation):
        span = size + 2 * p - d * (k - 1) - 1
        out = (-(-span // s) if ceil_mode else span // s) + 1
        if ceil_mode and (out - 1) * s >= size + p:      # the last window must start inside the input or left pad
            out -= 1
        pairs.append((p, builtins.max((out - 1) * s + d * (k - 1) + 1 - size - p, 0)))
    if builtins.any(p for pair in pairs for p in pair):
        x = pad(x, tuple(v for pair in reversed(pairs) for v in pair), value=fill)
    return ops.im2col(x, kernel=kernel, stride=stride, dilation=dilation), pairs, kernel, stride, dilation


def _no_kernel(x, name: str, kinds: str):
    """torch has no kernel of this pooling for x's dtype kind (b: bool, i/u: integers)."""
    if x.dtype.kind in kinds:
        raise NotImplementedError(f"{name}: not implemented for {x.dtype} inputs (as torch)")


def _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, nd, name):
    _no_kernel(input, name, "b")
    x, added = _batched(input, nd, name)
    lowest = -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min      # padding never wins
    windows, pairs, kernel, stride, dilation = _pool_windows(x, kernel_size, stride, padding, dilation, ceil_mode,
                                                             nd, name, lowest)
    flat = ops.reshape(windows, shape=windows.shape[:2 + nd] + (math.prod(kernel),))   # (N, C, *out, prod(kernel))
    values, best = reduce.max(flat, axis=flat.ndim - 1)        # the gradient goes to the first maximum, as torch
    if added:
        values = squeeze(values, 0)
    if not return_indices:
        return values
    offsets = np.unravel_index(data_of(best), kernel)    # flat index into the input's spatial dims, as torch
    grid = np.indices(windows.shape[2:2 + nd], sparse=True)
    where_in = [g * s - p + o * d for g, s, (p, _), o, d in zip(grid, stride, pairs, offsets, dilation)]
    indices = np.ravel_multi_index(where_in, x.shape[2:])
    return values, Tensor._wrap(indices[0] if added else indices)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """The max of each window along the last dim (padding counts as -inf)."""
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 1, "max_pool1d")


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """The max of each window (padding counts as -inf); its gradient goes to the first maximum."""
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 2, "max_pool2d")


def _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, nd, name):
    _no_kernel(input, name, "b")
    x, added = _batched(input, nd, name)
    windows, pairs, kernel, stride, dilation = _pool_windows(x, kernel_size, stride, padding, 1, ceil_mode, nd,
                                                             name, 0.0)
    axes = tuple(range(2 + nd, 2 + 2 * nd))
    total = ops.sum(windows, axis=axes, keepdims=False)
    if divisor_override:
        divisor = divisor_override
    else:           # how many positions of each window count: inside the input (+ its padding, by default)
        padded = tuple(n + left + right for n, (left, right) in zip(x.shape[2:], pairs))
        inside = np.zeros(padded, x.dtype)
        p = _tuple(padding, nd, name)
        inside[tuple(slice(left - (q if count_include_pad else 0), left + n + (q if count_include_pad else 0))
                     for n, (left, _), q in zip(x.shape[2:], pairs, p))] = 1
        divisor = ops.im2col(inside[None, None], kernel=kernel, stride=stride, dilation=dilation).sum(axis=axes)[0, 0]
    out = total / divisor if x.dtype.kind == "f" else div(total, divisor, rounding_mode="trunc")   # ints, as torch
    return squeeze(out, 0) if added else out


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode: bool = False, count_include_pad: bool = True):
    """The mean of each window along the last dim."""
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, None, 1, "avg_pool1d")


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None):
    """The mean of each window (by default zero padding counts in the divisor, as torch)."""
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, 2,
                     "avg_pool2d")


def _adaptive_matrix(size: int, out: int, dtype) -> np.ndarray:
    """(out, size): row i averages input positions floor(i * size / out) .. ceil((i + 1) * size / out)."""
    m = np.zeros((out, size), dtype)
    for i in range(out):
        start, end = (i * size) // out, -(-((i + 1) * size) // out)
        m[i, start:end] = 1 / (end - start)
    return m


def adaptive_avg_pool1d(input, output_size):
    """Averages over output_size windows that tile the last dim."""
    _no_kernel(input, "adaptive_avg_pool1d", "biu")
    x, added = _batched(input, 1, "adaptive_avg_pool1d")
    (o,) = _tuple(output_size, 1, "adaptive_avg_pool1d")
    out = ops.einsum(x, _adaptive_matrix(x.shape[2], o, x.dtype), eq="ncl,pl->ncp")
    return squeeze(out, 0) if added else out


def adaptive_avg_pool2d(input, output_size):
    """Averages over output_size windows that tile the input (None keeps a size): an einsum with
    one averaging matrix per spatial dim."""
    _no_kernel(input, "adaptive_avg_pool2d", "biu")
    x, added = _batched(input, 2, "adaptive_avg_pool2d")
    sizes = (output_size,) * 2 if isinstance(output_size, int) or output_size is None else tuple(output_size)
    oh, ow = (x.shape[2 + i] if s is None else int(s) for i, s in enumerate(sizes))
    out = ops.einsum(x, _adaptive_matrix(x.shape[2], oh, x.dtype), _adaptive_matrix(x.shape[3], ow, x.dtype),
                     eq="nchw,ph,qw->ncpq")
    return squeeze(out, 0) if added else out
