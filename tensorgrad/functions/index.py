"""Gathers and scatter-adds (gather, index_select, scatter_add, ...), all on the getitem / index_put pair."""

import numpy as np

from .. import ops
from ..dims import wrap_dim
from ..engine import Tensor, data_of
from ..ops import index_array
from .shape import _along_dim


def _check_index(index, size: int, op: str):
    """torch's gathers and scatters take no negative index (NumPy would count from the end)."""
    if index.size and (index.min() < 0 or index.max() >= size):
        bad = index.min() if index.min() < 0 else index.max()
        raise IndexError(f"{op}: index {bad} is out of range for a dim of size {size}")


def _along(index, x, dim: int, op: str) -> tuple:
    """The NumPy key that takes index[i, j, ...] along dim and i, j, ... elsewhere, once the
    index is checked as torch checks it (its callers hold the index's own copy, index_array)."""
    index = np.asarray(index)
    if index.ndim != x.ndim or index.dtype.kind not in "iu":
        raise IndexError(f"{op}: index must be an integer tensor with as many dims as the input, "
                         f"got {index.dtype} {index.shape} for input {x.shape}")
    dim = wrap_dim(dim, x.ndim, op)
    if any(i > n for d, (i, n) in enumerate(zip(index.shape, x.shape)) if d != dim):
        raise ValueError(f"{op}: index {index.shape} is larger than the input {x.shape} outside dim {dim}")
    _check_index(index, x.shape[dim], op)
    return _key_along(index, dim)


def _key_along(index: np.ndarray, dim: int) -> tuple:
    """The key that picks index[i, j] along dim: np.indices(sparse=True) for the other dims, built directly."""
    ones = (1,) * index.ndim
    return tuple(index if d == dim else np.arange(n).reshape(ones[:d] + (n,) + ones[d + 1:])
                 for d, n in enumerate(index.shape))


def gather(x, dim: int, index):
    """out[i][j] = x[index[i][j]][j] (dim 0), as torch.gather; backward scatter-adds."""
    index = index_array(index)
    if index.size == 0:                 # an empty result of index's shape (torch checks no shapes then)
        return ops.getitem(ops.reshape(x, shape=(-1,)), key=(np.zeros(index.shape, np.int64),))
    return ops.getitem(x, key=_along(index, x, dim, "gather"))


def scatter_add(x, dim: int, index, src):
    """out = x, then out[index[i][j]][j] += src[i][j] (dim 0), repeated indices adding up."""
    index = index_array(index)
    if index.size == 0:                 # nothing to add (torch checks no shapes then)
        return x.clone()
    if src.shape != index.shape:
        if src.ndim != index.ndim or any(i > n for i, n in zip(index.shape, src.shape)):
            raise ValueError(f"scatter_add: index {index.shape} is larger than src {src.shape}")
        src = ops.getitem(src, key=tuple(slice(n) for n in index.shape))
    return ops.index_put(x, src, key=_along(index, x, dim, "scatter_add"), accumulate=True)


def index_add(x, dim: int, index, source):
    """out = x, then out[..., index[i], ...] += source[..., i, ...] along dim, as torch.index_add."""
    d, index = wrap_dim(dim, x.ndim, "index_add"), index_array(index)
    want = x.shape[:d] + index.shape + x.shape[d + 1:]
    if index.ndim != 1 or source.shape != want:
        raise ValueError(f"index_add: expected a 1-D index and a source of shape {want}, "
                         f"got index {index.shape} and source {source.shape}")
    _check_index(index, x.shape[d], "index_add")
    return ops.index_put(x, source, key=(slice(None),) * d + (index,), accumulate=True)


def index_select(input, dim: int, index):
    """The slices of dim at the (1-D) index: a gather, its gradient a scatter-add."""
    idx = index_array(index)
    if idx.ndim > 1 or idx.dtype.kind not in "iu":
        raise IndexError(f"index_select: expected a 1-D integer index, got {idx.dtype} {idx.shape}")
    d = wrap_dim(dim, input.ndim, "index_select")
    _check_index(idx, input.shape[d] if input.ndim else 1, "index_select")   # -1 is out of range, as torch
    return _along_dim(input, d, idx.reshape(-1))


def masked_select(input, mask):
    """The elements where the (broadcast) bool mask holds, as a 1-D tensor."""
    m = index_array(mask)
    if m.dtype != np.bool_:
        raise TypeError(f"masked_select: expected a bool mask, got {m.dtype}")
    shape = np.broadcast_shapes(input.shape, m.shape)
    x = input if input.shape == shape else ops.expand(input, shape=shape)
    return ops.getitem(x, key=np.broadcast_to(m, shape))


def take_along_dim(input, indices, dim: int | None = None):
    """input gathered at indices along dim (the two broadcast against each other), or at flat indices."""
    idx = index_array(indices)
    if dim is None:
        return ops.getitem(ops.reshape(input, shape=(-1,)), key=idx.reshape(-1))
    d = wrap_dim(dim, input.ndim, "take_along_dim")
    shape = list(np.broadcast_shapes(tuple(1 if i == d else n for i, n in enumerate(input.shape)),
                                     tuple(1 if i == d else n for i, n in enumerate(idx.shape))))
    x = ops.expand(input, shape=tuple(shape[:d] + [input.shape[d]] + shape[d + 1:]))
    return gather(x, d, np.broadcast_to(idx, tuple(shape[:d] + [idx.shape[d]] + shape[d + 1:])))


def scatter(input, dim: int, index, src=None, value=None, reduce: str | None = None):
    """out = input, then out[index[i][j]][j] = src[i][j] (dim 0), or = value, as torch.scatter.
    (With repeated indices torch leaves which write wins unspecified.)"""
    if reduce is not None:
        raise NotImplementedError("scatter: reduce= is not supported; use scatter_add for sums")
    if isinstance(src, (bool, int, float, np.number)):     # x.scatter(dim, index, 0.5): torch's value overload
        src, value = None, src
    idx = index_array(index)
    if idx.size == 0:                   # nothing to write (torch checks no shapes then)
        return input.clone()
    source = src if src is not None else np.full(idx.shape, value, dtype=input.dtype)
    if source.shape != idx.shape:
        source = ops.getitem(source, key=tuple(slice(n) for n in idx.shape))
    return ops.index_put(input, source, key=_along(idx, input, dim, "scatter"), accumulate=False)


def nonzero(input, *, as_tuple: bool = False):
    """The indices of the non-zero elements: (count, ndim) int64, or one index tensor per dim."""
    a = np.asarray(data_of(input))
    if a.ndim == 0:                     # as torch: a 0-d tensor has no dims to index (as_tuple: read as 1-d)
        n = int(a != 0)
        return (Tensor._wrap(np.zeros(n, np.int64)),) if as_tuple else Tensor._wrap(np.zeros((n, 0), np.int64))
    found = np.nonzero(a)
    if as_tuple:
        return tuple(Tensor._wrap(i.astype(np.int64)) for i in found)
    return Tensor._wrap(np.stack(found, axis=1).astype(np.int64) if found else np.zeros((0, 0), np.int64))


def argwhere(input):
    """nonzero(input): the indices of the non-zero elements, one row each."""
    return nonzero(input)


def index_fill(input, dim: int, index, value):
    """input with the slices of dim at index set to value."""
    d = wrap_dim(dim, input.ndim, "index_fill")
    return ops.index_put(input, np.asarray(data_of(value), input.dtype),
                         key=(slice(None),) * d + (index_array(index).reshape(-1),), accumulate=False)


def index_copy(input, dim: int, index, source):
    """input with the slices of dim at index replaced by source's."""
    d = wrap_dim(dim, input.ndim, "index_copy")
    return ops.index_put(input, source, key=(slice(None),) * d + (index_array(index).reshape(-1),),
                         accumulate=False)


def take(input, index):
    """input's elements at the flat (row-major) positions in index, in index's shape."""
    i = index_array(index)
    n = input._data.size
    _check_index(np.where(i < 0, i + n, i), n, "take")
    return ops.getitem(ops.reshape(input, shape=(-1,)), key=np.where(i < 0, i + n, i))


def masked_scatter(input, mask, source):
    """input with source's first elements, in order, written where the (broadcast) bool mask holds:
    gradients to input where it is not masked and to those elements of source."""
    m = index_array(mask)
    if m.dtype != np.bool_:
        raise TypeError(f"masked_scatter: expected a bool mask, got {m.dtype}")
    if np.broadcast_shapes(input.shape, m.shape) != input.shape:
        raise RuntimeError(f"masked_scatter: mask of shape {m.shape} does not broadcast to input's {input.shape}")
    m = np.broadcast_to(m, input.shape)
    k = int(m.sum())
    if k > source._data.size:
        raise RuntimeError(f"masked_scatter: the mask holds {k} elements, source has only {source._data.size}")
    picked = ops.getitem(ops.reshape(source, shape=(-1,)), key=(slice(0, k),))
    return ops.index_put(input, picked.astype(input.dtype), key=(m,), accumulate=False)


def unravel_index(indices, shape) -> tuple:
    """The coordinates (one int64 tensor per dim of shape) of flat, row-major indices."""
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    i = index_array(indices)
    if i.dtype.kind not in "iu":
        raise TypeError(f"unravel_index: expected integer indices, got {i.dtype}")
    n = int(np.prod(shape))
    if i.size and (i.min() < -n or i.max() >= n):
        raise RuntimeError(f"unravel_index: index out of bounds for a tensor of {n} elements")
    return tuple(Tensor._wrap(c.astype(np.int64)) for c in np.unravel_index(np.where(i < 0, i + n, i), shape))
