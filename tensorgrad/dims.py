"""Argument rules shared by every layer: shapes given as f(2, 3) or f((2, 3)), and dims
given torch's way (dim, keepdim) or NumPy's (axis, keepdims). Imports nothing of tensorgrad."""
import math
import sys

import numpy as np


def shape_arg(shape) -> tuple:
    """Accept f(2, 3) and f((2, 3)) alike."""
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else tuple(shape)


def wrap_dim(d: int, ndim: int, op: str) -> int:
    """A dim in [-ndim, ndim) made non-negative, or an error naming the op."""
    n = ndim or 1                       # a 0-d tensor takes dim 0 or -1, as in torch
    if isinstance(d, bool) or not isinstance(d, (int, np.integer)):
        raise TypeError(f"{op}: dim must be an int, got {d!r}")
    if not -n <= d < n:
        raise IndexError(f"{op}: dim {d!r} is out of range for a tensor with {ndim} dims")
    return int(d) % n


def dim_list(ndim: int, dims, op: str) -> tuple:
    """Each dim checked and made non-negative, sorted; a dim named twice is an error, as in torch."""
    out = [wrap_dim(d, ndim, op) for d in dims]
    if len(set(out)) != len(out):
        raise RuntimeError(f"{op}: dim {next(d for d in out if out.count(d) > 1)} appears multiple times in the "
                           f"list of dims {tuple(dims)}")
    return tuple(sorted(out))


def reduction(x, dim, keepdim, axis, keepdims, single=False) -> dict:
    """torch's (dim, keepdim) or NumPy's (axis, keepdims) -> dict(axis=, keepdims=), dims made
    non-negative (a 0-d tensor takes dim 0 or -1, as torch). Errors name the calling method."""
    d = dim if axis is None else axis
    k = bool(keepdim if keepdims is None else keepdims)
    if d is None or (isinstance(d, (tuple, list)) and len(d) == 0):    # dim=() reduces everything, as torch
        return dict(axis=None, keepdims=k)
    ds = tuple(d) if isinstance(d, (tuple, list)) else (d,)
    n, error = max(x.ndim, 1), None
    for a in ds:
        if isinstance(a, bool) or not isinstance(a, (int, np.integer)):
            error = TypeError(f"dim must be an int or a tuple of ints, got {d!r}")
        elif not -n <= a < n:
            error = IndexError(f"dim {d!r} is out of range for a tensor of shape {x.shape}")
    if single and len(ds) != 1:
        error = TypeError(f"expected one dim, got {d!r}")
    if error is not None:
        raise type(error)(f"{sys._getframe(1).f_code.co_name}: {error}")    # the calling method: sum, max, ...
    ds = tuple([int(a) % n for a in ds])
    if single:
        return dict(axis=ds[0], keepdims=k)
    return dict(axis=ds if x.ndim else (), keepdims=k)                 # a 0-d tensor: nothing to reduce


def kept(shape, axis) -> tuple:
    """The shape a reduction over `axis` has with keepdims=True."""
    if axis is None:
        return (1,) * len(shape)
    return tuple(1 if i in axis else n for i, n in enumerate(shape))


def count(shape, axis) -> int:
    """How many elements a reduction over `axis` (None: all) takes together."""
    return math.prod(shape) if axis is None else math.prod(shape[a] for a in axis)
