"""Reductions, softmax and scans of torch.*, composites on the ops of the table."""
import math
import warnings

import numpy as np

from .. import ops
from ..dims import count, dim_list, return_type, wrap_dim
from ..dtypes import as_dtype, get_default_dtype
from ..engine import Tensor, data_of
from .index import _key_along, gather
from .math import pow, sqrt, where
from .shape import squeeze, unsqueeze


AminmaxResult = return_type("aminmax", ["min", "max"])


SortResult = return_type("sort", ["values", "indices"])            # torch.return_types.sort & co
MaxResult, MinResult = return_type("max", ["values", "indices"]), return_type("min", ["values", "indices"])
_PAIRS = {name: return_type(name, ["values", "indices"]) for name in ("cummax", "cummin", "topk", "median",
                                                                       "nanmedian", "kthvalue", "mode")}




def mean(x, axis=None, keepdims=False):
    if x.dtype.kind != "f":
        raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be either a floating point or "
                           f"complex dtype. Got: {x.dtype}")
    if x.dtype == np.float16:           # accumulated and divided in float32, as torch
        return mean(x.astype(np.float32), axis, keepdims).astype(np.float16)
    n = count(x.shape, axis)
    if n == 0:                          # the mean of nothing is NaN, as torch (and 0 / 0 would warn)
        return ops.sum(x, axis=axis, keepdims=keepdims) * math.nan
    return ops.mean(x, axis=axis, keepdims=keepdims)


def _floating(x, op: str) -> None:
    if x.dtype.kind != "f":
        raise RuntimeError(f"{op}: only supports floating point dtypes, got {x.dtype}")


def var(x, axis=None, keepdims=False, correction=1):
    """sum((x - mean)^2) / max(0, n - correction): correction=1 is Bessel's, torch's default."""
    _floating(x, "var")
    return ops.var(x, axis=axis, keepdims=keepdims, correction=correction)


def std(x, axis=None, keepdims=False, correction=1):
    """sqrt(var), NaN where var is (one element, NaN input). Where the variance is 0 the gradient
    is 0, as torch: both wheres are needed, else 0 * sqrt'(0) = 0 * inf = NaN flows back."""
    _floating(x, "std")
    v = ops.var(x, axis=axis, keepdims=keepdims, correction=correction)
    zero = v == 0
    return where(zero, 0, sqrt(where(zero, 1, v)))


def amin(x, axis=None, keepdims=False):
    return ops.amin(x, axis=axis, keepdims=keepdims)


def max(x, axis=None, keepdims=False):
    """All of x: the max, ties sharing the gradient (a NaN max sends it to the NaNs). Along axis:
    (values, indices), the gradient going to the first maximum only (the returned index), as torch."""
    if axis is None:
        return _kept_all(ops.max(x), x.ndim, keepdims)
    return _pick(x, axis, keepdims, ops.argmax)


def min(x, axis=None, keepdims=False):
    if axis is None:
        return _kept_all(ops.min(x), x.ndim, keepdims)
    return _pick(x, axis, keepdims, ops.argmin, MinResult)


def _kept_all(out, ndim: int, keepdims: bool):
    return ops.reshape(out, shape=(1,) * ndim) if keepdims else out


def _pick(x, axis: int, keepdims: bool, arg, result=MaxResult):
    """(values, indices) along axis: indices = arg(x) (argmax or argmin), values gathered there."""
    if x.ndim == 0:                     # a 0-d tensor is its own max along its one dim, as torch
        return _pick(unsqueeze(x, 0), 0, False, arg, result)
    indices = arg(x if x.dtype != np.bool_ else x.astype(np.uint8), axis=axis, keepdims=True)   # (arg refuses bools)
    values = ops.getitem(x, key=_key_along(data_of(indices), axis))      # a gather that needs no checks
    if not keepdims:
        values, indices = squeeze(values, axis), squeeze(indices, axis)
    return result(values, indices)


def _axis(x, dim, op: str) -> tuple:
    """dim (an int; for logsumexp also a tuple) as an axis tuple: () for a 0-d tensor, whose one
    dim is all of it."""
    dims = dim_list(x.ndim, dim if isinstance(dim, (tuple, list)) else (dim,), op)
    return dims if x.ndim else ()


def _shift(x, axis):
    """The max along axis, a constant to subtract (it cancels in the math): an op on the detached
    tensor, so that tg.compile records and replays it, or on the array itself."""
    if isinstance(x, Tensor) and x._data.size:
        return ops.amax(x.detach(), axis=axis, keepdims=True)
    return ops.rowmax(data_of(x), axis)


def _softmax_input(x, dim, dtype, op: str):
    """torch's softmax arguments: dtype= casts x first; without it x must be floating (torch has no
    integer kernel); dim=None is F.softmax's legacy implicit choice, with torch's warning."""
    if dtype is not None:
        x = x.astype(as_dtype(dtype))
    elif x.dtype.kind != "f" and x._data.size:         # (torch runs no kernel on an empty tensor)
        raise NotImplementedError(f"{op}: not implemented for {x.dtype} (as torch: pass dtype= to compute in a "
                                  "floating dtype)")
    if dim is None:
        warnings.warn(f"Implicit dimension choice for {op} has been deprecated. Change the call to include dim=X "
                      "as an argument.", stacklevel=3)
        dim = 0 if x.ndim in (0, 1, 3) else 1
    return x, dim


# A +inf or a row of -inf gives inf - inf = NaN in the shift: torch's answer, so no warning.
@np.errstate(divide="ignore", invalid="ignore")
def softmax(x, dim: int | None = None, dtype=None):
    """exp(x) / sum(exp(x)) along dim (F.softmax's implicit dim when None, with torch's warning)."""
    x, dim = _softmax_input(x, dim, dtype, "softmax")
    if x.dtype.kind != "f":
        return x.clone()                                # empty
    return ops.softmax(x, axis=_axis(x, dim, "softmax"))      # one fused node, forward and backward


@np.errstate(divide="ignore", invalid="ignore")
def log_softmax(x, dim: int | None = None, dtype=None):
    """x - logsumexp(x) along dim."""
    x, dim = _softmax_input(x, dim, dtype, "log_softmax")
    if x.dtype.kind != "f":
        return x.clone()                                # empty
    axis = _axis(x, dim, "log_softmax")
    z = x - _shift(x, axis)
    if data_of(x).size == 0:              # nothing to normalise (and log's rule would see 0 / 0)
        return z
    out = z - ops.log(ops.exp(z).sum(axis=axis, keepdims=True))
    return out if out.is_contiguous() else out.contiguous()     # (row-major, as torch's, whatever x's layout)


def logsumexp(x, dim=-1, keepdim: bool = False):
    """log(sum(exp(x))) over dim, an int or a tuple of dims (integers become the default float)."""
    if x.dtype.kind != "f":
        x = x.astype(get_default_dtype())
    return ops.logsumexp(x, axis=_axis(x, dim, "logsumexp"), keepdims=keepdim)


def _dims(x, dim, op: str):
    """dim (an int, a tuple, or None for all) -> a tuple of non-negative dims, or None."""
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        return None
    dims = dim_list(x.ndim, dim if isinstance(dim, (tuple, list)) else (dim,), op)
    return dims if x.ndim else None


def _scan(op, x, dim, dtype, name):
    if dtype is not None:
        x = x.astype(dtype)
    d = wrap_dim(dim, x.ndim, name)
    if x.ndim == 0:
        return ops.reshape(op(ops.reshape(x, shape=(1,)), axis=0), shape=())
    return op(x, axis=d)


def cumsum(x, dim: int, dtype=None):
    """Running sums along dim (integers and bools sum in int64, as torch); backward: reversed cumsum."""
    return _scan(ops.cumsum, x, dim, dtype, "cumsum")


def cumprod(x, dim: int, dtype=None):
    """Running products along dim; the gradient is exact where x has zeros."""
    return _scan(ops.cumprod, x, dim, dtype, "cumprod")


def prod(x, dim: int | None = None, keepdim: bool = False, dtype=None):
    """The last running product along dim (so its gradient is cumprod's, exact with zeros)."""
    if dtype is not None:
        x = x.astype(dtype)
    if dim is None:
        flat = ops.reshape(x, shape=(-1,))
        if flat.shape[0] == 0:
            return ops.sum(flat, axis=None, keepdims=False) + 1
        return ops.getitem(ops.cumprod(flat, axis=0), key=-1)
    d = wrap_dim(dim, x.ndim, "prod")
    if x.ndim == 0:
        return prod(x)
    if x.shape[d] == 0:          # empty products are 1; the sum (0) keeps the result on the graph
        return ops.sum(x, axis=(d,), keepdims=keepdim) + 1
    out = ops.getitem(ops.cumprod(x, axis=d), key=(slice(None),) * d + (slice(-1, None),))
    return out if keepdim else squeeze(out, d)


def norm(x, p="fro", dim=None, keepdim: bool = False, dtype=None):
    """The vector p-norm over dim (all of x by default): p = 2 or 'fro', 1, inf, -inf, 0 or any
    number. The gradient at a zero vector is 0, as torch."""
    if dtype is not None:
        x = x.astype(dtype)
    _floating(x, "norm")
    axis = _dims(x, dim, "norm")
    if p in ("fro", 2, 2.0):
        p = 2
    elif isinstance(p, str):
        raise ValueError(f"norm: p={p!r} is not supported (use 'fro', or a number)")
    a = ops.abs(x)
    if p == np.inf:
        return ops.amax(a, axis=axis, keepdims=keepdim)
    if p == -np.inf:
        return amin(a, axis, keepdim)
    if p == 0:
        return ops.sum(ops.ne(x, 0), axis=axis, keepdims=keepdim).astype(x.dtype)
    if p == 1:
        return ops.sum(a, axis=axis, keepdims=keepdim)
    total = ops.sum(x * x if p == 2 else a ** p, axis=axis, keepdims=keepdim)
    zero = total == 0                        # the root's gradient there is 0, as torch's (NaN stays NaN)
    return where(zero, 0, pow(where(zero, 1, total), 1 / p))


def count_nonzero(x, dim=None):
    """How many elements are not 0 (over dim, or all), as int64."""
    return ops.sum(ops.ne(x, 0), axis=_dims(x, dim, "count_nonzero"), keepdims=False)


def cummax(x, dim: int):
    """(values, indices) of the running maximum along dim; a tie moves the index on, NaN sticks, as torch."""
    return _cumulative_extreme(x, dim, np.maximum, "cummax")


def cummin(x, dim: int):
    """(values, indices) of the running minimum along dim."""
    return _cumulative_extreme(x, dim, np.minimum, "cummin")


def _cumulative_extreme(x, dim, ufunc, name):
    d = wrap_dim(dim, x.ndim, name)
    if x.ndim == 0:
        return _PAIRS[name](x.clone(), Tensor._wrap(np.zeros((), np.int64)))
    a = data_of(x)
    running = ufunc.accumulate(a, axis=d)
    here = (a == running) | (np.isnan(a) if a.dtype.kind == "f" else False)     # the extreme is (again) here
    positions = np.arange(a.shape[d]).reshape((-1,) + (1,) * (a.ndim - d - 1))
    indices = np.maximum.accumulate(np.where(here, positions, 0), axis=d)
    return _PAIRS[name](gather(x, d, indices), Tensor._wrap(indices))


def logcumsumexp(x, dim: int):
    """log(cumsum(exp(x))) along dim, shifted by the max so that it neither overflows nor underflows."""
    d = wrap_dim(dim, x.ndim, "logcumsumexp")
    m = np.max(data_of(x), axis=d, keepdims=True) if x.shape[d] else np.zeros((), data_of(x).dtype)
    m = np.where(np.isfinite(m), m, 0)                  # a constant: it cancels in the math
    return ops.log(cumsum(ops.exp(x - m), d)) + m


def std_mean(x, dim=None, *, correction=1, keepdim: bool = False) -> tuple:
    """(std, mean) over dim."""
    return x.std(dim, correction=correction, keepdim=keepdim), x.mean(dim, keepdim=keepdim)


def var_mean(x, dim=None, *, correction=1, keepdim: bool = False) -> tuple:
    """(var, mean) over dim."""
    return x.var(dim, correction=correction, keepdim=keepdim), x.mean(dim, keepdim=keepdim)


def dist(input, other, p=2):
    """The p-norm of input - other."""
    return norm(input - other, p)


def nansum(x, dim=None, keepdim: bool = False):
    """The sum, NaNs counted as 0 (they get no gradient)."""
    return where(ops.isnan(x), 0, x).sum(dim, keepdim=keepdim)


def nanmean(x, dim=None, keepdim: bool = False):
    """The mean over the elements that are not NaN."""
    count = ops.sum(~ops.isnan(x), axis=_dims(x, dim, "nanmean"), keepdims=keepdim)
    return nansum(x, dim, keepdim) / count.astype(x.dtype)


def aminmax(input, *, dim: int | None = None, keepdim: bool = False):
    """(min, max) over dim (or all of input), each splitting the gradient between ties."""
    return AminmaxResult(input.amin(dim, keepdim), input.amax(dim, keepdim)) if dim is not None else \
        AminmaxResult(input.amin(), input.amax())


def cov(input, *, correction: int = 1, fweights=None, aweights=None):
    """The covariance of the variables in input's rows (a 1-D input: one variable), its observations
    the columns, optionally weighted by integer frequencies and float importances, as torch.cov."""
    x = input if input.ndim == 2 else ops.reshape(input, shape=(1, -1))
    if aweights is not None and np.promote_types(x.dtype, aweights.dtype) != x.dtype:
        x = x.astype(np.promote_types(x.dtype, aweights.dtype))      # (float64 importances: a float64 result)
    if input.ndim > 2:
        raise ValueError(f"cov: expected a 1-D or 2-D input, got shape {input.shape}")
    n = x.shape[1]
    w = None
    for name, wt in (("fweights", fweights), ("aweights", aweights)):
        if wt is None:
            continue
        if wt.ndim > 1 or wt.shape[0] != n:
            raise ValueError(f"cov: {name} must be 1-D with one weight per observation ({n}), got shape {wt.shape}")
        if name == "fweights" and wt.dtype.kind not in "iu":
            raise TypeError(f"cov: fweights must be integers, got {wt.dtype}")
        w = wt if w is None else w * wt
    if w is None:
        total = float(n)
        mean = ops.sum(x, axis=(1,), keepdims=True) / total
        norm = total - correction
    else:
        w = w.astype(x.dtype)
        total = ops.sum(w, axis=None, keepdims=False)
        mean = ops.sum(x * w, axis=(1,), keepdims=True) / total
        norm = total - correction * (ops.sum(w * aweights.astype(x.dtype), axis=None, keepdims=False) / total
                                     if aweights is not None else 1)
    diff = x - mean
    weighted = diff if w is None else diff * w
    if not isinstance(norm, Tensor):
        norm = Tensor._wrap(np.asarray(norm, x.dtype))
    c = weighted @ ops.permute(diff, axes=(1, 0)) / ops.maximum(norm, Tensor._wrap(np.zeros((), x.dtype)))
    return ops.reshape(c, shape=()) if input.ndim < 2 else c        # (no degrees of freedom left: 0, so inf/NaN)


def corrcoef(input):
    """Pearson's correlation coefficients of the variables in input's rows, clipped to [-1, 1]."""
    c = cov(input)
    if c.ndim == 0:
        return c / c
    d = sqrt(ops.diagonal(c, offset=0, dim1=0, dim2=1))
    r = c / ops.reshape(d, shape=(-1, 1)) / ops.reshape(d, shape=(1, -1))
    return ops.clamp(r, min=-1.0, max=1.0)


def trapezoid(y, x=None, *, dx=None, dim: int = -1):
    """The integral of y along dim by the trapezoidal rule, at the points x (a tensor along dim) or spaced dx
    (1 by default)."""
    d = wrap_dim(dim, y.ndim, "trapezoid")
    n = y.shape[d]
    if n == 0:
        return ops.sum(y, axis=(d,), keepdims=False)
    lo = ops.getitem(y, key=(slice(None),) * d + (slice(0, n - 1),))
    hi = ops.getitem(y, key=(slice(None),) * d + (slice(1, n),))
    if x is None:
        return ops.sum(lo + hi, axis=(d,), keepdims=False) * ((1.0 if dx is None else dx) / 2)
    if dx is not None:
        raise RuntimeError("trapezoid: pass x or dx, not both")
    x = x if isinstance(x, Tensor) else Tensor._wrap(np.asarray(x))
    xd = d if x.ndim == y.ndim else x.ndim - 1
    spacing = ops.getitem(x, key=(slice(None),) * xd + (slice(1, n),)) - ops.getitem(
        x, key=(slice(None),) * xd + (slice(0, n - 1),))
    if x.ndim == 1 and y.ndim > 1:                    # (a 1-d x runs along dim of y)
        spacing = ops.reshape(spacing, shape=(-1,) + (1,) * (y.ndim - 1 - d))
    return ops.sum((lo + hi) * spacing, axis=(d,), keepdims=False) / 2


def trapz(y, x=None, *, dx=None, dim: int = -1):
    """torch.trapz, trapezoid's older name."""
    return trapezoid(y, x, dx=dx, dim=dim)
