"""im2col and col2im: gathering every patch of an input (one as_strided view, no copy) and its
adjoint, adding each patch back where it came from (a scatter-add: overlapping patches add up).
The same gather/scatter-add pair as C[X]; convolution and pooling are built on them."""
import builtins

import numpy as np

from .op import Op


def _patches(x, kernel, stride, dilation):
    """(N, C, *spatial) -> a read-only view (N, C, *out, *kernel): out[n, c, i, j, a, b] =
    x[n, c, i * stride + a * dilation, j * stride + b * dilation]."""
    out = tuple((s - d * (k - 1) - 1) // st + 1 for s, k, st, d in zip(x.shape[2:], kernel, stride, dilation))
    if builtins.min(out, default=1) <= 0:
        raise ValueError(f"the kernel {kernel} (dilation {dilation}) is larger than the (padded) input {x.shape[2:]}")
    steps = x.strides[2:]
    strides = (x.strides[:2] + tuple(s * st for s, st in zip(steps, stride))          # from one patch to the next
               + tuple(s * d for s, d in zip(steps, dilation)))                       # within a patch
    return np.lib.stride_tricks.as_strided(x, x.shape[:2] + out + tuple(kernel), strides, writeable=False)


def _unpatch(cols, shape, kernel, stride, dilation):
    """The adjoint of _patches: for each kernel offset, add that slice of every patch into the
    input positions it was read from."""
    nd = len(kernel)
    out = np.zeros(shape, cols.dtype)
    n_out = cols.shape[2:2 + nd]
    for offset in np.ndindex(*kernel):
        key = tuple(slice(k * d, k * d + st * (o - 1) + 1, st) for k, d, st, o in zip(offset, dilation, stride, n_out))
        out[(slice(None), slice(None)) + key] += cols[(Ellipsis,) + offset]
    return out


im2col = Op("im2col", _patches, lambda g, out, x, kernel, stride, dilation: col2im(
    g, shape=x.shape, kernel=kernel, stride=stride, dilation=dilation), adjoint="col2im: scatter-add the patches of g")


col2im = Op("col2im", _unpatch, lambda g, out, cols, shape, kernel, stride, dilation: im2col(
    g, kernel=kernel, stride=stride, dilation=dilation), adjoint="im2col: gather the patches of g")
