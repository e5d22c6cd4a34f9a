"""Reductions and scans. The adjoint of summing is replicating (expand), and expand's adjoint is
the engine's un-broadcasting sum: the duality in two rows."""
import math

import numpy as np

from ..dims import count, kept, sum_of
from ..dtypes import float_of
from .elementwise import exp, where
from .op import Op
from .shape import expand, permute


def _amax_backward(g, out, x, axis, keepdims):
    """amax's and amin's rule (torch's): tied extremes share g evenly; a NaN result, which no x
    equals, makes the gradient of its whole slice NaN (g / 0 * 0)."""
    out, g = out.reshape(kept(x.shape, axis)), g.reshape(kept(x.shape, axis))
    mask = x == out
    return g / mask.sum(axis=axis, keepdims=True).astype(g.dtype) * mask


def _max_backward(g, out, x):
    """max()'s and min()'s rule over all elements (torch's): ties share g evenly, and a NaN
    result sends it to the NaNs."""
    mask = np.isnan(np.asarray(x)) if np.isnan(np.asarray(out)) else x == out
    return where(mask, g / mask.sum().astype(g.dtype), 0)



def _flip(a, axis):
    return a[(slice(None),) * axis + (slice(None, None, -1),)]


def _cumprod_backward(g, out, x, axis):
    """dx_i = sum over k >= i of g_k * prod_{j <= k, j != i} x_j. Without zeros that is a reversed
    cumsum of g * out, divided by x_i; with zeros, the products come from n cumprods of x, the
    i-th with x_i set to 1 (O(n^2) along the axis, exact)."""
    if not (np.asarray(x) == 0).any():
        return _flip(cumsum(_flip(g * out, axis), axis=axis), axis) / x
    n, last = x.shape[axis], x.ndim
    order = tuple(d for d in range(x.ndim) if d != axis) + (axis,)
    xs, gs = permute(x, axes=order), permute(g, axes=order)       # the axis last: (..., n)
    eye = np.eye(n, dtype=bool)
    prods = cumprod(where(eye, 1, expand(xs[..., None, :], shape=xs.shape[:-1] + (n, n))), axis=last)
    dx = sum(where(np.triu(np.ones((n, n), bool)), prods, 0) * gs[..., None, :], axis=(last,), keepdims=False)
    return permute(dx, axes=tuple(np.argsort(order)))



# reductions and scans: the adjoint of summing is replicating (expand)
def _sum(x, axis, keepdims):
    """torch accumulates a half-precision sum in float32, then rounds it to half. A sum of many values
    over leading or trailing dims is a product with ones (dims.sum_of); fewer, NumPy's own (in the
    order of the engine's un-broadcast, engine.fit: a hand-written gradient's .sum(0) equals .grad)."""
    if x.dtype == np.float16:
        return np.sum(x, axis=axis, keepdims=keepdims, dtype=np.float32).astype(np.float16)
    return sum_of(x, axis, keepdims)


def _mean(x, axis, keepdims):
    """The sum divided by the count, in x's dtype (float32 or float64; functions.mean casts half)."""
    return _sum(x, axis, keepdims) / x.dtype.type(count(x.shape, axis))


def _cumsum(x, axis):
    if x.dtype == np.float16:
        return np.cumsum(x, axis=axis, dtype=np.float32).astype(np.float16)
    return np.cumsum(x, axis=axis)


sum = Op("sum", _sum,
         lambda g, out, x, axis, keepdims: expand(g.reshape(kept(x.shape, axis)), shape=x.shape),
         "replicate (expand) g", saves="")
mean = Op("mean", _mean,
          lambda g, out, x, axis, keepdims: expand((g / count(x.shape, axis)).reshape(kept(x.shape, axis)),
                                                   shape=x.shape),
          "replicate (expand) g / n", saves="")
amax = Op("amax", lambda x, axis, keepdims: np.amax(x, axis=axis, keepdims=keepdims), _amax_backward,
          "g to the max (ties share)")
amin = Op("amin", lambda x, axis, keepdims: np.amin(x, axis=axis, keepdims=keepdims), _amax_backward,
          "g to the min (ties share)")
max = Op("max", np.max, _max_backward, "g to the max (ties share)")    # of all elements; along a dim,
min = Op("min", np.min, _max_backward, "g to the min (ties share)")    # functional.max gathers
cumsum = Op("cumsum", _cumsum,
            lambda g, out, x, axis: _flip(cumsum(_flip(g, axis), axis=axis), axis), "reversed cumsum of g",
            saves="")
cumprod = Op("cumprod", lambda x, axis: np.cumprod(x, axis=axis), _cumprod_backward,
             "reversed cumsum of g * out, / x")


# fused: one node each with torch's rule, where the composite's rule would differ at the edges

def _var_forward(x, axis, keepdims, correction):
    """sum((x - mean)^2) / max(0, n - correction), as torch (so n <= correction gives inf or NaN)."""
    if x.dtype == np.float16:                          # accumulated in float32, as torch
        return _var_forward(x.astype(np.float32), axis, keepdims, correction).astype(np.float16)
    n = count(x.shape, axis)
    diff = x - _sum(x, axis, True) / n
    return _sum(diff * diff, axis, keepdims) / (n - correction if n > correction else 0)


def _var_backward(g, out, x, axis, keepdims, correction):
    """torch's rule, 2 / (n - correction) * g * (x - mean), not through the mean's backward (so
    an inf in x gives -inf, not NaN); n <= correction over all elements: inf, NaN at the mean."""
    n = count(x.shape, axis)
    diff, g = x - x.sum(axis, keepdims=True) / n, g.reshape(kept(x.shape, axis))
    if n <= correction and (axis is None or not x.ndim):
        return g * where((diff == 0) | (diff != diff), math.nan, math.inf)   # NaN where x is not finite
    return g * diff * (2 / (n - correction) if n != correction else math.inf)


var = Op("var", _var_forward, _var_backward, "2 / (n - correction) * g * (x - mean)",  # one node: torch's rule
         saves="inputs")


def rowmax(a: np.ndarray, axis: tuple):
    """The max of a over axis, kept; -inf over a size-0 dim (NumPy has no max of nothing)."""
    return a.max(axis=axis, keepdims=True, initial=-np.inf) if a.size == 0 else a.max(axis=axis, keepdims=True)


def _lse_forward(x, axis, keepdims):
    """log(sum(exp(x - m))) + m, with torch's m: the max, or 0 where the max is not finite."""
    m = rowmax(x, axis)
    m = np.where(np.isfinite(m), m, 0)                 # 0 is a weak scalar: m's dtype stays
    out = np.log(_sum(np.exp(float_of(x) - m), axis, True)) + m
    return out if keepdims else np.squeeze(out, axis)


def _lse_backward(g, out, x, axis, keepdims):
    """The gradient of logsumexp is softmax(x) = exp(x - out) (torch's rule, one node)."""
    shape = kept(x.shape, axis)
    return g.reshape(shape) * exp(x - out.reshape(shape))


logsumexp = Op("logsumexp", _lse_forward, _lse_backward, "g * softmax(x)")
