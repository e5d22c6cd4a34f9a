"""Argument rules shared by every layer: shapes given as f(2, 3) or f((2, 3)), and dims
given torch's way (dim, keepdim) or NumPy's (axis, keepdims). Imports nothing of tensorgrad."""
import collections
import math
import sys

import numpy as np


class Size(tuple):
    """torch.Size: a tuple of dims (a tensor's .shape and .size()); it prints as torch's."""

    def numel(self) -> int:
        n = 1
        for d in self:
            n *= d
        return n

    def __repr__(self):
        return f"torch.Size({list(self)})"

    def __getitem__(self, key):
        got = super().__getitem__(key)
        return Size(got) if type(key) is slice else got


def return_type(name: str, fields: list):
    """torch.return_types.<name>: a named tuple (values, indices) and the like, printed as torch prints it."""
    base = collections.namedtuple(name, fields)

    def __repr__(self):
        return f"torch.return_types.{name}(\n" + ",\n".join(f"{f}={v!r}" for f, v in zip(fields, self)) + ")"
    return type(name, (base,), {"__slots__": (), "__repr__": __repr__, "__module__": "torch.return_types"})


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
    if axis is None and keepdims is None and type(dim) is int and -x.ndim <= dim < x.ndim:   # (the common call)
        return dict(axis=dim % x.ndim if single else (dim % x.ndim,), keepdims=bool(keepdim))
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


# A sum over the leading or the trailing dims of a float32/64 array is a product with a vector of
# ones: BLAS's gemv, 2-7x faster than np.sum over those dims at every size the models meet (the
# batch axis of a gradient, a softmax's row sums). Sums over all elements keep np.sum's pairwise
# order (more accurate for long float32 sums).
BLAS_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_ONES = {}                                           # (length, dtype) -> a read-only vector of ones


def ones(n: int, dtype) -> np.ndarray:
    v = _ONES.get((n, dtype))
    if v is None:
        v = np.ones(n, dtype)
        v.flags.writeable = False
        if len(_ONES) < 256:                         # a training run meets a few lengths
            _ONES[n, dtype] = v
    return v


def matmul_sum(x, axis, keepdims):
    """x.sum(axis, keepdims) as ones @ x (leading dims) or x @ ones (trailing dims); None when
    neither applies (another dtype, a non-contiguous array, all dims or dims in the middle)."""
    if (type(x) is not np.ndarray or type(axis) is not tuple or x.ndim < 2 or not x.flags.c_contiguous
            or x.size == 0 or x.dtype not in BLAS_DTYPES):
        return None
    shape, k = x.shape, len(axis)
    if not 0 < k < len(shape):
        return None
    if k > 1 and len(set(axis)) != k:                # (a dim named twice: NumPy's error)
        return None
    dims = axis if k == 1 else sorted(axis)
    if dims[0] == 0 and dims[-1] == k - 1:           # the leading k dims
        lead = shape[0] if k == 1 else math.prod(shape[:k])
        s = ones(lead, x.dtype) @ x.reshape(lead, -1)
        out = shape[k:]
    elif dims[0] == len(shape) - k and dims[-1] == len(shape) - 1:   # the trailing k dims
        tail = shape[-1] if k == 1 else math.prod(shape[-k:])
        s = x.reshape(-1, tail) @ ones(tail, x.dtype)
        out = shape[:-k]
    else:
        return None
    return s.reshape(kept(shape, axis) if keepdims else out)


def max_kept(x, axes: tuple):
    """x.max(axis=axes, keepdims=True). Over one short last dim (attention's rows of keys, 27 letters'
    logits) NumPy's max pays per row; the max down the columns of a transposed copy runs along
    contiguous memory instead, 2-3x faster for rows of up to 32 values. (The same values: a max does
    not round.)"""
    n = x.shape[-1] if x.ndim else 0
    if type(x) is np.ndarray and 1 < n <= 32 and x.size >= 1024 and axes == (x.ndim - 1,):
        cols = np.ascontiguousarray(x.reshape(-1, n).T)
        return cols.max(axis=0).reshape(x.shape[:-1] + (1,))
    return x.max(axis=axes, keepdims=True)


def has_nan(x) -> bool:
    """Whether x holds a NaN: its max is NaN then (np.max propagates NaN), 3x faster than np.isnan(x).any()."""
    return x.size > 0 and x.dtype.kind in "fc" and bool(np.isnan(x.max()))


# Sums of at least these many values are products with ones (matmul_sum); smaller ones keep np.sum, whose
# order is the lecture's: the engine's un-broadcast (engine.fit), so that Backprop Ninja's hand-derived
# gradients (dlogits.sum(0) and the like) equal the engine's bit for bit, and a softmax's or a
# cross-entropy's row sums, so that the fused cross-entropy's rule is exercise 2's formula bit for bit
FIT_BLAS_MIN, ROWS_BLAS_MIN = 1 << 14, 1 << 12


def sum_of(g, axes, keepdims: bool, least: int = FIT_BLAS_MIN):
    """g.sum(axis=axes, keepdims=keepdims), as a product with ones from `least` values: the sum op's forward,
    the engine's un-broadcast of a gradient (a Tensor under create_graph), a softmax's row sums."""
    if (type(g) is np.ndarray and type(axes) is tuple and axes and g.size and g.dtype.kind == "f"
            and not any([g.strides[a] for a in axes])):
        s = _replicated_sum(g, axes)
        return s if keepdims else s.reshape(tuple(n for i, n in enumerate(g.shape) if i not in axes))
    s = matmul_sum(g, axes, keepdims) if type(g) is np.ndarray and g.size >= least else None
    return g.sum(axis=axes, keepdims=keepdims) if s is None else s


def _replicated_sum(g, axes):
    """The sum over axes of a float array that repeats one slice along all of them (stride 0: a mean's or a
    sum's gradient, np.broadcast_to): that slice times their count, one rounding where np.sum would add the
    copies one by one (a float32 error of ~1e-4 at 20,000 rows)."""
    first = g[tuple([slice(0, 1) if i in axes else slice(None) for i in range(g.ndim)])]
    return first * g.dtype.type(count(g.shape, axes))


def sum_kept(g, axes: tuple, least: int = FIT_BLAS_MIN):
    """sum_of with the summed dims kept (the engine's un-broadcast; least=ROWS_BLAS_MIN: a softmax's rows)."""
    return sum_of(g, axes, True, least)
