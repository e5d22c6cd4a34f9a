"""Sorting, searching and counting (torch.sort, topk, unique, histc, ...): gathers and rule-free composites."""

import numpy as np

from .. import ops
from ..dims import return_type, wrap_dim
from ..engine import Tensor, data_of
from .index import gather
from .reduce import _PAIRS, SortResult


def _flip(a, axis):
    return a[(slice(None),) * axis + (slice(None, None, -1),)]
from .shape import squeeze, stack, unsqueeze


HistogramResult = return_type("histogram", ["hist", "bin_edges"])




def sort(x, dim: int = -1, descending: bool = False, stable: bool = False):
    """(values, indices) along dim; ties keep their order (stable); NaN sorts as the largest,
    as torch. The values are a gather of x, so the gradient is a scatter-add to the indices."""
    d = wrap_dim(dim, x.ndim, "sort")
    if x.ndim == 0:
        return SortResult(x.clone(), Tensor._wrap(np.zeros((), np.int64)))
    a = data_of(x)
    if descending:    # a stable ascending sort of the reversed x, reversed: ties stay in order, NaN first
        n = a.shape[d]
        indices = n - 1 - _flip(ops.argsort(_flip(a, d), axis=d), d)
    else:
        indices = ops.argsort(a, axis=d)
    return SortResult(gather(x, d, indices), Tensor._wrap(indices))


def argsort(x, dim: int = -1, descending: bool = False, stable: bool = False):
    """The indices that sort x along dim (stable: ties keep their order)."""
    return sort(x, dim, descending, stable).indices


def msort(x):
    """x sorted along dim 0."""
    return sort(x, 0).values


def topk(x, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):
    """The k largest (or smallest) along dim, as (values, indices)."""
    if x.dtype == np.bool_:
        raise RuntimeError("topk: does not support bool dtypes (as torch on CPU)")
    d = wrap_dim(dim, x.ndim, "topk")
    n = x.shape[d] if x.ndim else 1
    if not 0 <= k <= n:
        raise IndexError(f"topk: k ({k}) is out of range for dimension {d} of size {n}")
    values, indices = sort(x, d, descending=largest, stable=True)
    key = (slice(None),) * d + (slice(0, k),) if x.ndim else ()       # a 0-d x is its own top 1
    return _PAIRS["topk"](values[key], indices[key])


def histc(input, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:
    """Counts in `bins` equal bins over [min, max] (the data's range when min == max); values
    outside are ignored; the result has input's dtype, as torch.histc."""
    a = data_of(input)
    lo, hi = float(min), float(max)
    if lo == hi and a.size:
        lo, hi = float(a.min()), float(a.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if lo > hi:
        raise ValueError(f"histc: max ({hi}) must be larger than min ({lo})")
    counts, _ = np.histogram(a[np.isfinite(a)], bins=bins, range=(lo, hi))
    return Tensor._wrap(counts.astype(a.dtype))


def histogram(input, bins=100, *, range=None, weight=None, density: bool = False):
    """(hist, bin_edges) as torch.histogram: bins a count (over range, or the data's) or the edges."""
    a = data_of(input)
    edges = data_of(bins) if isinstance(bins, (Tensor, np.ndarray, list, tuple)) else int(bins)
    with np.errstate(invalid="ignore", divide="ignore"):      # density of nothing: NaN, as torch
        hist, edges = np.histogram(a, bins=edges, range=range, weights=None if weight is None else data_of(weight),
                                   density=density)
    return HistogramResult(Tensor._wrap(hist.astype(a.dtype)), Tensor._wrap(np.asarray(edges, a.dtype)))


def bincount(input, weights=None, minlength: int = 0) -> Tensor:
    """How often each non-negative integer occurs (or the sum of its weights)."""
    idx = np.asarray(data_of(input))
    if idx.ndim != 1 or idx.dtype.kind not in "iu" or (idx.size and idx.min() < 0):
        raise ValueError("bincount: expected a 1-D tensor of non-negative integers")
    w = None if weights is None else np.asarray(data_of(weights))
    out = np.bincount(idx, weights=w, minlength=minlength)
    return Tensor._wrap(out.astype(np.int64 if w is None else w.dtype if w.dtype.kind == "f" else np.float64))


def unique(input, sorted: bool = True, return_inverse: bool = False, return_counts: bool = False, dim=None):
    """The distinct values (sorted), and optionally where each element went and how often each occurs."""
    a = np.asarray(data_of(input))
    values, inverse, counts = np.unique(a, return_inverse=True, return_counts=True,
                                        axis=None if dim is None else wrap_dim(dim, a.ndim, "unique"))
    out = [Tensor._wrap(values)]
    if return_inverse:
        out.append(Tensor._wrap(inverse.reshape(a.shape if dim is None else -1).astype(np.int64)))
    if return_counts:
        out.append(Tensor._wrap(counts.astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def bucketize(input, boundaries, *, right: bool = False):
    """For each value, the index of the boundary bucket it falls in (boundaries sorted, 1-D)."""
    b = np.asarray(data_of(boundaries))
    side = "right" if right else "left"
    return Tensor._wrap(np.searchsorted(b, np.asarray(data_of(input)), side=side).astype(np.int64))


def searchsorted(sorted_sequence, values, *, right: bool = False, side: str | None = None):
    """Where values would be inserted into the sorted (last dim of) sorted_sequence to keep it sorted."""
    seq, v = np.asarray(data_of(sorted_sequence)), np.asarray(data_of(values))
    side = side or ("right" if right else "left")
    if seq.ndim == 1:
        return Tensor._wrap(np.searchsorted(seq, v, side=side).astype(np.int64))
    rows = [np.searchsorted(s, r, side=side)
            for s, r in zip(seq.reshape(-1, seq.shape[-1]), v.reshape(-1, v.shape[-1]))]
    return Tensor._wrap(np.stack(rows).reshape(v.shape).astype(np.int64) if rows else np.zeros(v.shape, np.int64))


def median(x, dim: int | None = None, keepdim: bool = False):
    """The lower median (NaN if there is one), as torch. Over all of x: the value, its gradient
    shared by the elements equal to it; along dim: (values, indices), the gradient to the index."""
    if x.dtype == np.bool_ and x._data.size:
        raise NotImplementedError("median: not implemented for bool (as torch)")
    a = data_of(x)
    if dim is None:
        flat = np.sort(a.reshape(-1), kind="stable")
        if flat.size == 0:                              # NaN, on the tape (an empty gradient), as torch
            return ops.sum(x, axis=None, keepdims=False) * np.nan
        value = flat[-1] if np.isnan(flat[-1]) else flat[(flat.size - 1) // 2]
        tied = np.isnan(a) if np.isnan(value) else a == value
        return ops.amax(ops.getitem(x, key=tied), axis=None, keepdims=False)
    d = wrap_dim(dim, x.ndim, "median")
    if x.ndim == 0:
        return _PAIRS["median"](x.clone(), Tensor._wrap(np.zeros((), np.int64)))
    order = np.argsort(a, axis=d, kind="stable")
    nans = np.isnan(a).sum(axis=d, keepdims=True)
    pos = np.where(nans > 0, a.shape[d] - nans, (a.shape[d] - 1) // 2)     # the first NaN, or the middle
    indices = np.take_along_axis(order, pos, axis=d)
    values = gather(x, d, indices)
    if not keepdim:
        values, indices = squeeze(values, d), indices.squeeze(d)
    return _PAIRS["median"](values, Tensor._wrap(indices))


def nanmedian(x, dim: int | None = None, keepdim: bool = False):
    """median ignoring NaN."""
    a = data_of(x)
    if dim is None:
        keep = ~np.isnan(a)
        return median(ops.getitem(x, key=keep)) if keep.any() else ops.sum(x, axis=None, keepdims=False) * np.nan
    raise NotImplementedError("nanmedian: only over all of x")


def kthvalue(x, k: int, dim: int = -1, keepdim: bool = False):
    """The k-th smallest along dim (k from 1), as (values, indices): a gather of x at a stable sort's k-th
    index (NaN sorts as the largest), so the gradient goes to that element."""
    d = wrap_dim(dim, x.ndim, "kthvalue")
    n = x.shape[d] if x.ndim else 1
    if not 1 <= k <= n:
        raise IndexError(f"kthvalue: k ({k}) is out of range for dimension {d} of size {n}")
    if x.ndim == 0:
        return _PAIRS["kthvalue"](x.clone(), Tensor._wrap(np.zeros((), np.int64)))
    key = (slice(None),) * d + (slice(k - 1, k),)
    indices = ops.argsort(data_of(x), axis=d)[key]
    values = gather(x, d, indices)
    if not keepdim:
        values, indices = squeeze(values, d), indices.squeeze(d)
    return _PAIRS["kthvalue"](values, Tensor._wrap(indices))


def unique_consecutive(input, return_inverse: bool = False, return_counts: bool = False, dim=None):
    """input with each run of equal consecutive values (or slices along dim) kept once; optionally
    which run each element went to and the runs' lengths."""
    a = np.asarray(data_of(input))
    d = None if dim is None else wrap_dim(dim, a.ndim, "unique_consecutive")
    rows = a.reshape(-1) if d is None else np.moveaxis(a, d, 0).reshape(a.shape[d] if a.ndim else 1, -1)
    if len(rows) == 0:
        starts = np.zeros(0, bool)
    else:
        change = rows[1:] != rows[:-1]
        starts = np.concatenate([[True], change if d is None else change.any(axis=1)])
    values = rows[starts] if d is None else np.moveaxis(
        np.moveaxis(a, d, 0)[starts], 0, d)
    run = np.cumsum(starts) - 1
    out = [Tensor._wrap(values)]
    if return_inverse:
        out.append(Tensor._wrap(run.reshape(a.shape if d is None else -1).astype(np.int64)))
    if return_counts:
        out.append(Tensor._wrap(np.diff(np.append(np.flatnonzero(starts), len(rows))).astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def quantile(input, q, dim=None, keepdim: bool = False, *, interpolation: str = "linear"):
    """The q-th quantiles (q in [0, 1], a number or a 1-d tensor: its dim comes first) of input along dim (all
    of it by default), between the two order statistics around q (n - 1) as `interpolation` says ('linear',
    'lower', 'higher', 'midpoint', 'nearest'); a slice holding a NaN gives NaN, as torch."""
    return _quantile("quantile", input, q, dim, keepdim, interpolation, skip_nan=False)


def nanquantile(input, q, dim=None, keepdim: bool = False, *, interpolation: str = "linear"):
    """quantile ignoring NaNs (a slice of only NaNs gives NaN)."""
    return _quantile("nanquantile", input, q, dim, keepdim, interpolation, skip_nan=True)


def _quantile(name, input, q, dim, keepdim, interpolation, skip_nan):
    if interpolation not in ("linear", "lower", "higher", "midpoint", "nearest"):
        raise ValueError(f"{name}: interpolation must be one of linear, lower, higher, midpoint or nearest, "
                         f"got {interpolation!r}")
    if input.dtype not in (np.float32, np.float64):
        raise RuntimeError(f"{name}() input tensor must be either float or double dtype")
    if isinstance(q, Tensor) and q.dtype != input.dtype:
        raise RuntimeError(f"{name}() q tensor must be same dtype as the input tensor")
    if input.numel() == 0:
        raise RuntimeError(f"{name}() input tensor must be non-empty")
    qs = np.asarray(data_of(q), dtype=np.float64)
    if qs.ndim > 1 or qs.size and (qs.min() < 0 or qs.max() > 1 or np.isnan(qs).any()):
        raise RuntimeError(f"{name}() q must be a scalar or 1D tensor with values in [0, 1]")
    x = ops.reshape(input, shape=(-1,)) if dim is None else input
    d = 0 if dim is None else wrap_dim(dim, input.ndim, name)
    if x.ndim == 0:
        x, d = ops.reshape(x, shape=(1,)), 0
    if x.shape[d] == 0:
        raise RuntimeError(f"{name}() input tensor must be non-empty")
    values = sort(x, d).values                                          # NaN last
    moved = np.moveaxis(np.asarray(data_of(values)), d, -1)             # (..., n)
    nans = np.isnan(moved).sum(axis=-1, keepdims=True)                  # (..., 1)
    count = moved.shape[-1] - nans if skip_nan else np.full_like(nans, moved.shape[-1])
    pos = np.maximum(count - 1, 0) * qs.reshape(-1, *([1] * moved.ndim))   # (Q, ..., 1)
    lo, hi = np.floor(pos).astype(np.int64), np.ceil(pos).astype(np.int64)
    if interpolation == "nearest":
        lo = hi = np.round(pos).astype(np.int64)
    elif interpolation == "lower":
        hi = lo
    elif interpolation == "higher":
        lo = hi

    def at(k):                                                          # values at positions k, (Q, ...)
        k = np.moveaxis(k, -1, d + 1)                                   # (Q, ..., 1 at d, ...)
        got = stack([gather(values, d, k[i]) for i in range(len(k))]) if len(k) else None
        return squeeze(got, d + 1)
    low, high = at(lo), at(hi)
    if interpolation == "linear":
        frac = np.moveaxis(pos - lo, -1, d + 1).squeeze(d + 1).astype(input.dtype)
        out = low + (high - low) * frac
    elif interpolation == "midpoint":
        out = (low + high) * 0.5
    else:
        out = low
    bad = np.moveaxis(((nans > 0) if not skip_nan else (count == 0)), -1, 0)   # (1, ...) slices that are NaN
    out = ops.where(np.broadcast_to(bad, out.shape), np.asarray(np.nan, input.dtype), out) if bad.any() else out
    if keepdim and input.ndim:                                          # (a 0-d input has no dim to keep)
        out = unsqueeze(out, d + 1) if dim is not None else ops.reshape(out, shape=(qs.size,) + (1,) * input.ndim)
    return ops.reshape(out, shape=out.shape[1:]) if qs.ndim == 0 else out
