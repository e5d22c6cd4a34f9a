"""Indexing: torch's keys read as NumPy keys, a gather (getitem) and its adjoint, a scatter-add
(index_put with accumulate), whose adjoint is a gather again."""
from typing import NamedTuple

import numpy as np

from ..engine import Tensor
from ..modes import _mode
from .op import Op
from .shape import permute


class TwoStep(NamedTuple):
    """An index torch reads in two steps: the integers first (each drops its dim), then the
    advanced part, so that the new dims land where torch puts them, not where NumPy does."""
    first: tuple
    then: tuple


def _is_int(k) -> bool:
    return isinstance(k, (int, np.integer)) and not isinstance(k, (bool, np.bool_))


_BASIC_TYPES = frozenset([int, slice, type(None), type(Ellipsis)])      # (not bool: a mask)


def index_key(key):
    """torch's indexing as a NumPy key: tensors become arrays, uint8 and bool tensors masks,
    and ints mixed with advanced indices are read first (a TwoStep)."""
    if type(key) in _BASIC_TYPES:
        return key
    if type(key) is tuple and all([type(k) in _BASIC_TYPES for k in key]):   # x[:, t, :]: NumPy's key as it is
        return key
    if isinstance(key, tuple):
        key = tuple(_index_part(k) for k in key)
    else:
        return _index_part(key)
    advanced = [k for k in key if isinstance(k, np.ndarray) and k.ndim > 0]
    if not advanced or not any(_is_int(k) for k in key):
        return key
    first, then = [], []
    for k in key:
        if _is_int(k):
            first.append(int(k))
        elif isinstance(k, np.ndarray) and k.ndim > 0:
            first.extend([slice(None)] * (k.ndim if k.dtype == np.bool_ else 1))
            then.append(k)
        elif k is None:
            first.append(None)
            then.append(slice(None))
        else:
            first.append(k)
            then.append(k if k is Ellipsis else slice(None))
    return TwoStep(tuple(first), tuple(then))


def index_array(a) -> np.ndarray:
    """An index, mask or target argument as an array of its own: the op keeps it for its backward, where
    a later in-place write to the tensor it came from must not move the gradient (torch refuses the
    backward then; the copy gives the gradient of the forward that ran). While tg.compile records, the
    tensor's own array, which the recording must recognise as its argument's (the replay's node checks
    its arguments' versions instead)."""
    a = a._data if isinstance(a, Tensor) else a
    return np.asarray(a) if _mode.trace is not None else np.array(a)


def _index_part(k):
    if isinstance(k, Tensor):
        k = index_array(k)
    elif isinstance(k, list) and any(isinstance(i, (Tensor, list)) for i in k):
        k = np.array([_index_part(i) for i in k])
    elif isinstance(k, (list, range)):
        k = np.asarray(k)
        if k.size == 0:
            k = k.astype(np.int64)
    if isinstance(k, np.ndarray):
        if k.ndim == 0 and k.dtype.kind in "iu":
            return int(k)                                  # a 0-d integer tensor is an int index
        if k.dtype == np.uint8:
            k = k.astype(np.bool_)                         # torch reads a uint8 index as a mask
        elif k.dtype.kind not in "iub":
            raise IndexError(f"tensors used as indices must be long, int, byte or bool tensors, got {k.dtype}")
    return k


def take(x, key):
    """x[key], for NumPy keys and for torch's two-step ones (conventions.TwoStep: ints first). One integer
    array picking rows (an embedding lookup) is x.take: the same values, 2-3x faster than x[key]. An int for
    every dim gives a 0-d view of x, as torch (x[0].fill_(1) writes x), where NumPy gives a scalar copy."""
    if type(key) is np.ndarray and key.dtype.kind in "iu" and type(x) is np.ndarray and x.ndim:
        return x.take(key, axis=0)
    out = x[key.first][key.then] if isinstance(key, TwoStep) else x[key]
    if type(out) is not np.ndarray and type(x) is np.ndarray and _basic(key):
        key = key if isinstance(key, tuple) else (key,)
        if Ellipsis not in key:
            out = x[key + (Ellipsis,)]
    return out


def put(out, key, v, accumulate=False):
    """out[key] = v, or += with repeated indices adding up, in place."""
    if isinstance(key, TwoStep):
        out, key = out[key.first], key.then            # a view: writing it writes out
    if accumulate and _basic(key):
        out[key] += v                                   # slices and ints repeat nothing: a plain add
    elif accumulate:
        scatter_add(out, key, v)
    else:
        out[key] = v


# Scatter-adds of fewer than SCATTER_MIN values keep np.add.at: there it costs what the others do,
# and it adds one index at a time in the table's dtype, the sums of the lecture's loop bit for bit.
# For more, a one-hot product is fastest on tables of up to SMALL_TABLE rows (makemore's 27 letters).
SCATTER_MIN, SMALL_TABLE = 2048, 64


def scatter_add(out, key, v):
    """out[key] += v in place, where repeated indices all add up (out[key] += v keeps one of them).
    Many rows of a small table (an embedding's backward: (B, T) letters into 27 rows) are summed
    as a one-hot matrix times v; other large scatters into a float table by np.bincount over the
    flat positions the key picks (in float64). Each adds in a fixed order, so a run repeats bit
    for bit, and matches torch to float rounding."""
    if out.dtype.kind != "f" or np.size(v) < SCATTER_MIN or out.size == 0:
        np.add.at(out, key, v)
        return
    if _picks_once(key):
        out[key] += v                                   # no position twice: a plain add
        return
    rows = key[0] if type(key) is tuple and len(key) == 1 else key
    if (type(rows) is np.ndarray and rows.dtype.kind in "iu" and out.shape[0] <= SMALL_TABLE
            and out.dtype.itemsize >= 4 and _onehot_add(out, rows, v)):
        return
    where = np.arange(out.size).reshape(out.shape)[key]           # the flat position of each indexed element
    sums = np.bincount(where.reshape(-1), np.broadcast_to(v, where.shape).reshape(-1), out.size)
    out += sums.reshape(out.shape).astype(out.dtype, copy=False)


@np.errstate(invalid="ignore", over="ignore")      # (also reached outside an op: inplace.py writes with put)
def _onehot_add(out, rows, v) -> bool:
    """out[rows] += v as (one-hot of rows) @ v, or False (nothing done) for the general path to do it:
    for negative or out-of-range rows, and when v holds an inf or NaN, which the zeros of the
    one-hot matrix would spread to every row (0 * inf is NaN)."""
    n, i = out.shape[0], rows.reshape(-1)
    if i.min() < 0 or i.max() >= n:
        return False
    shape = rows.shape + out.shape[1:]
    vs = (v if v.shape == shape else np.broadcast_to(v, shape)).reshape(i.size, -1)
    sums = (i == np.arange(n)[:, None]).astype(out.dtype) @ vs.astype(out.dtype, copy=False)   # (n, row size)
    if not np.isfinite(sums).all():
        return False
    out += sums.reshape(out.shape)
    return True


def _picks_once(key) -> bool:
    """Whether a key of integer arrays picks no position twice: one of them numbers the picks in turn
    (x[arange(n), y], or max along a dim's gather), so the others cannot repeat a position."""
    if type(key) is not tuple or len(key) < 2 or not all([type(k) is np.ndarray and k.dtype.kind in "iu" for k in key]):
        return False
    n = np.broadcast(*key).size
    return any([k.size == n and np.array_equal(k.reshape(-1), np.arange(n)) for k in key])


def _basic(key) -> bool:
    """A key of slices, ints, None and ... only (NumPy's basic indexing: a view, no repeats)."""
    return all([isinstance(k, (slice, int, type(None), type(Ellipsis))) and not isinstance(k, bool)
                for k in (key if isinstance(key, tuple) else (key,))])


def _index_put(x, v, key, accumulate):
    if v.ndim and v.shape[0] == 1 and v.ndim > take(x, key).ndim:   # NumPy drops v's leading 1s; torch refuses
        raise ValueError(f"values of shape {v.shape} cannot be broadcast to the indexed shape {take(x, key).shape}")
    out = np.array(x)                   # a copy (also of a NumPy scalar, which a 0-d rule may hand in)
    put(out, key, v, accumulate)
    return out



# indexing: a gather's adjoint is a scatter-add, and a scatter-add's is a gather
def _getitem_backward(g, out, x, key):
    """g scatter-added into zeros of x's shape (on arrays straight into the fresh zeros; under create_graph
    through the index_put op, so that it is recorded)."""
    if type(g) is not np.ndarray:
        return index_put(np.zeros(x.shape, g.dtype), g, key=key, accumulate=True)
    gx = np.zeros(x.shape, g.dtype)
    put(gx, key, g, True)
    return gx


getitem = Op("getitem", take, _getitem_backward, "scatter-add g", saves="", view=True,
             into=lambda gx, g, key: put(gx, key, g, True))
index_put = Op("index_put", _index_put,
               lambda g, out, x, v, key, accumulate: (
                   g if accumulate else index_put(g, np.zeros((), g.dtype), key=key, accumulate=False),
                   take(g, key)), "g, gather g[key]", saves="")


# the diagonal: a view, as torch's (x.diagonal().fill_(1) writes into x); its adjoint puts g on the diagonal
def _diagonal(x, offset, dim1, dim2):
    d = np.diagonal(x, offset, dim1, dim2)         # NumPy's is a read-only view of x; torch's is writeable
    if x.flags.writeable:
        d.flags.writeable = True
    return d


def diagonal_put(x, v, offset: int, dim1: int, dim2: int):
    """x with v (shaped as x's diagonal: the other dims, then the diagonal's) written on that diagonal."""
    rest = tuple(d for d in range(x.ndim) if d not in (dim1, dim2))
    axes = rest + (dim1, dim2)
    n = v.shape[-1]
    key = (Ellipsis, np.arange(n) + max(-offset, 0), np.arange(n) + max(offset, 0))
    moved = index_put(permute(x, axes=axes), v, key=key, accumulate=False)
    return permute(moved, axes=tuple(np.argsort(axes)))


diagonal = Op("diagonal", _diagonal,
              lambda g, out, x, offset, dim1, dim2: diagonal_put(np.zeros(x.shape, g.dtype), g, offset, dim1, dim2),
              "g put on the diagonal of zeros", saves="", view=True)
