"""Composite ops, written from the primitives of ops.py, and torch.nn.functional's API.

Composites have no backward rule of their own: autograd goes through their primitives.
Most also work on plain arrays, so backward rules may use them. The two fused ops at the
end (cross-entropy, batch norm) do have hand-derived rules, each tested against the
composite it replaces.
"""
import builtins
import collections
import math

import numpy as np

from . import ops
from .conventions import _promote, _promote_float
from .ops import Op, _kept, cat as _cat
from .tensor import Tensor, _shape_arg, get_default_dtype

MaxResult = collections.namedtuple("MaxResult", ["values", "indices"])  # torch.return_types.max


def _data(x):
    return x._data if isinstance(x, Tensor) else x


def _count(shape, axis) -> int:
    return math.prod(shape) if axis is None else math.prod(shape[a] for a in axis)


def _dim(d: int, ndim: int, op: str) -> int:
    """A dim in [-ndim, ndim) made non-negative, or an error naming the op."""
    n = ndim or 1                       # a 0-d tensor takes dim 0 or -1, as in torch
    if isinstance(d, bool) or not isinstance(d, (int, np.integer)):
        raise TypeError(f"{op}: dim must be an int, got {d!r}")
    if not -n <= d < n:
        raise IndexError(f"{op}: dim {d!r} is out of range for a tensor with {ndim} dims")
    return int(d) % n


# ----------------------------------------------------------------------------
# composites behind Tensor's methods (axis already normalized by the method)

def mean(x, axis=None, keepdims=False):
    n = _count(x.shape, axis)
    if n == 0:                          # the mean of nothing is NaN, as torch (and 0 / 0 would warn)
        return ops.sum(x, axis=axis, keepdims=keepdims) * math.nan
    return ops.sum(x, axis=axis, keepdims=keepdims) / n


@np.errstate(divide="ignore", invalid="ignore")       # n <= correction: inf or NaN, as torch
def _var_forward(x, axis, keepdims, correction):
    """sum((x - mean)^2) / max(0, n - correction), as torch (so n <= correction gives inf or NaN)."""
    n = _count(x.shape, axis)
    diff = x - x.sum(axis, keepdims=True) / n
    return (diff * diff).sum(axis, keepdims=keepdims) / (n - correction if n > correction else 0)


@np.errstate(divide="ignore", invalid="ignore")
def _var_backward(g, out, x, axis, keepdims, correction):
    """torch's rule, 2 / (n - correction) * g * (x - mean), not through the mean's backward (so
    an inf in x gives -inf, not NaN); n <= correction over all elements: inf, NaN at the mean."""
    n = _count(x.shape, axis)
    diff, g = x - x.sum(axis, keepdims=True) / n, g.reshape(_kept(x.shape, axis))
    if n <= correction and (axis is None or not x.ndim):
        return g * where(diff == 0, math.nan, math.inf)
    return g * diff * (2 / (n - correction) if n != correction else math.inf)


_var = Op("var", _var_forward, _var_backward, "2 / (n - correction) * g * (x - mean)")  # one node: torch's rule


def var(x, axis=None, keepdims=False, correction=1):
    """sum((x - mean)^2) / max(0, n - correction): correction=1 is Bessel's, torch's default."""
    return _var(x, axis=axis, keepdims=keepdims, correction=correction)


def std(x, axis=None, keepdims=False, correction=1):
    """sqrt(var), NaN where var is (one element, NaN input). Where the variance is 0 the gradient
    is 0, as torch: both wheres are needed, else 0 * sqrt'(0) = 0 * inf = NaN flows back."""
    v = _var(x, axis=axis, keepdims=keepdims, correction=correction)
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
    return _pick(x, axis, keepdims, ops.argmin)


def _kept_all(out, ndim: int, keepdims: bool):
    return ops.reshape(out, shape=(1,) * ndim) if keepdims else out


def _pick(x, axis: int, keepdims: bool, arg):
    """(values, indices) along axis: indices = arg(x) (argmax or argmin), values gathered there."""
    if x.ndim == 0:                     # a 0-d tensor is its own max along its one dim, as torch
        return _pick(unsqueeze(x, 0), 0, False, arg)
    indices = arg(x, axis=axis, keepdims=True)
    values = ops.getitem(x, key=_key_along(_data(indices), axis))      # a gather that needs no checks
    if not keepdims:
        values, indices = squeeze(values, axis), squeeze(indices, axis)
    return MaxResult(values, indices)


def maximum(x, y):
    return ops.maximum(*_promote(x, y))


def minimum(x, y):
    return ops.minimum(*_promote(x, y))


def where(condition, x, y):
    """x where condition holds, else y; x and y promoted as torch does (a Python number is weak)."""
    if isinstance(x, (Tensor, np.ndarray)) or isinstance(y, (Tensor, np.ndarray)):
        x, y = _promote(x, y)
    return ops.where(condition, x, y)


def masked_fill(x, mask, value):
    """x with value where the (bool) mask is True."""
    m = _data(mask)
    if np.asarray(m).dtype != np.bool_:
        raise TypeError(f"masked_fill: expected a bool mask, got {np.asarray(m).dtype}")
    if isinstance(value, Tensor) and value.ndim:
        raise RuntimeError(f"masked_fill only supports a 0-dimensional value tensor, got shape {value.shape}")
    v = value.astype(x.dtype) if isinstance(value, Tensor) else np.asarray(value).astype(x.dtype)
    return ops.where(mask, v, x)


def div(x, y, rounding_mode=None):
    """x / y; rounding_mode 'trunc' or 'floor' rounds the quotient (no gradient through the rounding)."""
    if rounding_mode is None:
        return ops.div(*_promote_float(x, y))
    if rounding_mode not in ("trunc", "floor"):
        raise ValueError(f"div: rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}")
    return floor_divide(x, y) if rounding_mode == "floor" else _trunc_divide(*_promote(x, y))


def pow(x, y):
    """x ** y: a number exponent (x ** 2, x ** -0.5) or a tensor one (elementwise)."""
    if isinstance(y, (int, float, np.number)) and isinstance(x, Tensor):
        if isinstance(y, (float, np.floating)) and x.dtype.kind != "f":
            x = x.astype(get_default_dtype())           # int ** 0.5 is float, as in torch
        c = float(y) if isinstance(y, (float, np.floating)) else int(y)   # a number: never widens x
        if x.dtype == np.bool_:
            x = x.astype(np.int64)                      # bool ** 2 is int64, as in torch
        return ops.pow(x, c=c)
    return ops.pow_tensor(*_promote(x, y))


def sqrt(x):
    return pow(x, 0.5)


def relu(x):
    return ops.relu(x)


def clamp(x, min=None, max=None):
    """The gradient passes where min <= x <= max (both ends included, not at NaN, as torch)."""
    if min is None and max is None:
        raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):      # tensor bounds get gradients too
        x = x if min is None else where(x < min, min, x)
        return x if max is None else where(x > max, max, x)
    min, max = (b.item() if isinstance(b, np.generic) else b for b in (min, max))   # weak, as Python numbers
    if x.dtype.kind != "f" and any(isinstance(b, float) for b in (min, max)):
        x = x.astype(get_default_dtype())           # an int clamped to a float bound is float, as torch
    return ops.clamp(x, min=min, max=max)


def matmul(x, y):
    """1-D, 2-D and batched, as torch.matmul: 1-D operands get a dim added, then removed."""
    if x.ndim == 0 or y.ndim == 0:
        raise ValueError(f"matmul: both operands need at least one dim, got shapes {x.shape} and {y.shape}")
    k1, k2 = x.shape[-1], y.shape[-2] if y.ndim > 1 else y.shape[0]
    if k1 != k2:
        raise ValueError(f"matmul: shapes {x.shape} and {y.shape} cannot be multiplied ({k1} != {k2})")
    if x.ndim > 1 and y.ndim > 1:
        return ops.matmul(x, y)
    out = ops.matmul(unsqueeze(x, 0) if x.ndim == 1 else x, unsqueeze(y, 1) if y.ndim == 1 else y)
    return squeeze(out, tuple(d for d, one in ((-1, y.ndim == 1), (-2, x.ndim == 1)) if one))


# ----------------------------------------------------------------------------
# shapes

def squeeze(x, dim=None):
    """Drop the size-1 dims (only those in dim, if given; other dims stay, as torch)."""
    dims = range(x.ndim) if dim is None else [_dim(d, x.ndim, 'squeeze') for d in ((dim,) if isinstance(dim, int) else dim)]
    drop = {d for d in dims if x.ndim and x.shape[d] == 1}      # a 0-d tensor squeezes to itself
    return ops.reshape(x, shape=tuple(n for d, n in enumerate(x.shape) if d not in drop))


def unsqueeze(x, dim: int):
    d = _dim(dim, x.ndim + 1, 'unsqueeze')
    return ops.reshape(x, shape=x.shape[:d] + (1,) + x.shape[d:])


def flatten(x, start_dim=0, end_dim=-1):
    s, e = _dim(start_dim, x.ndim, 'flatten'), _dim(end_dim, x.ndim, 'flatten')
    if s > e:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    if x.ndim == 0:
        return ops.reshape(x, shape=(1,))
    return ops.reshape(x, shape=x.shape[:s] + (math.prod(x.shape[s:e + 1]),) + x.shape[e + 1:])  # not -1: size 0


def transpose(x, dim0: int, dim1: int):
    axes = list(range(x.ndim))
    d0, d1 = _dim(dim0, x.ndim, 'transpose'), _dim(dim1, x.ndim, 'transpose')
    if d0 != d1:                        # a 0-d tensor: transpose(0, -1) is itself
        axes[d0], axes[d1] = axes[d1], axes[d0]
    return ops.permute(x, axes=tuple(axes))


def expand(x, sizes):
    """Broadcast to sizes (-1 keeps a dim); its backward is the engine's sum."""
    lead = len(sizes) - x.ndim
    shape = tuple(x.shape[i - lead] if s == -1 and i >= lead else s for i, s in enumerate(sizes))
    return ops.expand(x, shape=shape)


def cat(tensors, dim: int = 0):
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat: expected a non-empty list of tensors")
    return _cat(*_promote(*tensors), axis=_dim(dim, tensors[0].ndim, 'cat'))


def stack(tensors, dim: int = 0):
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack: expected a non-empty list of tensors")
    d = _dim(dim, tensors[0].ndim + 1, 'stack')
    if builtins.any(t.shape != tensors[0].shape for t in tensors):
        raise ValueError(f"stack: expected tensors of one shape, got {[t.shape for t in tensors]}")
    return _cat(*_promote(*[unsqueeze(t, d) for t in tensors]), axis=d)


# ----------------------------------------------------------------------------
# gathers and scatter-adds, all on the getitem / index_put pair

def _check_index(index, size: int, op: str):
    """torch's gathers and scatters take no negative index (NumPy would count from the end)."""
    if index.size and (index.min() < 0 or index.max() >= size):
        bad = index.min() if index.min() < 0 else index.max()
        raise IndexError(f"{op}: index {bad} is out of range for a dim of size {size}")


def _along(index, x, dim: int, op: str) -> tuple:
    """The NumPy key that takes index[i, j, ...] along dim and i, j, ... elsewhere, once the
    index is checked as torch checks it."""
    index = np.asarray(_data(index))
    if index.ndim != x.ndim or index.dtype.kind not in "iu":
        raise IndexError(f"{op}: index must be an integer tensor with as many dims as the input, "
                         f"got {index.dtype} {index.shape} for input {x.shape}")
    dim = _dim(dim, x.ndim, op)
    if any(i > n for d, (i, n) in enumerate(zip(index.shape, x.shape)) if d != dim):
        raise ValueError(f"{op}: index {index.shape} is larger than the input {x.shape} outside dim {dim}")
    _check_index(index, x.shape[dim], op)
    return _key_along(index, dim)


def _key_along(index: np.ndarray, dim: int) -> tuple:
    key = list(np.indices(index.shape, sparse=True))
    key[dim] = index
    return tuple(key)


def gather(x, dim: int, index):
    """out[i][j] = x[index[i][j]][j] (dim 0), as torch.gather; backward scatter-adds."""
    return ops.getitem(x, key=_along(index, x, dim, "gather"))


def scatter_add(x, dim: int, index, src):
    """out = x, then out[index[i][j]][j] += src[i][j] (dim 0), repeated indices adding up."""
    index = np.asarray(_data(index))
    if src.shape != index.shape:
        if src.ndim != index.ndim or any(i > n for i, n in zip(index.shape, src.shape)):
            raise ValueError(f"scatter_add: index {index.shape} is larger than src {src.shape}")
        src = ops.getitem(src, key=tuple(slice(n) for n in index.shape))
    return ops.index_put(x, src, key=_along(index, x, dim, "scatter_add"), accumulate=True)


def index_add(x, dim: int, index, source):
    """out = x, then out[..., index[i], ...] += source[..., i, ...] along dim, as torch.index_add."""
    d, index = _dim(dim, x.ndim, "index_add"), np.asarray(_data(index))
    want = x.shape[:d] + index.shape + x.shape[d + 1:]
    if index.ndim != 1 or source.shape != want:
        raise ValueError(f"index_add: expected a 1-D index and a source of shape {want}, "
                         f"got index {index.shape} and source {source.shape}")
    _check_index(index, x.shape[d], "index_add")
    return ops.index_put(x, source, key=(slice(None),) * d + (index,), accumulate=True)


def one_hot(tensor, num_classes: int = -1) -> Tensor:
    """int64 one-hot rows, as torch.nn.functional.one_hot (not differentiable)."""
    idx = np.asarray(_data(tensor))
    if idx.dtype.kind not in "iu":
        raise TypeError(f"one_hot: expected an integer tensor, got {idx.dtype}")
    if num_classes < 0 and idx.size == 0:
        raise ValueError("one_hot: cannot infer num_classes from an empty tensor; pass num_classes")
    n = int(idx.max()) + 1 if num_classes < 0 else num_classes
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise IndexError(f"one_hot: class values must be in [0, {n}), got {idx.min()}..{idx.max()}")
    return Tensor._wrap(np.eye(n, dtype=np.int64)[idx])


# ----------------------------------------------------------------------------
# softmax and friends (the max is subtracted as a constant: it cancels in the math)

def _axis(x, dim, op: str) -> tuple:
    """dim (an int; for logsumexp also a tuple) as an axis tuple: () for a 0-d tensor, whose one
    dim is all of it."""
    if not x.ndim:
        return ()
    if isinstance(dim, (tuple, list)):
        return tuple(sorted({_dim(d, x.ndim, op) for d in dim}))
    return (_dim(dim, x.ndim, op),)


def _rowmax(a: np.ndarray, axis: tuple):
    """The max of a over axis, kept; -inf over a size-0 dim (NumPy has no max of nothing)."""
    return a.max(axis=axis, keepdims=True, initial=-np.inf) if a.size == 0 else a.max(axis=axis, keepdims=True)


# A +inf or a row of -inf gives inf - inf = NaN in the shift: torch's answer, so no warning.
@np.errstate(divide="ignore", invalid="ignore")
def softmax(x, dim: int = -1):
    axis = _axis(x, dim, "softmax")
    e = ops.exp(x - _rowmax(_data(x), axis))
    return e / e.sum(axis=axis, keepdims=True)


@np.errstate(divide="ignore", invalid="ignore")
def log_softmax(x, dim: int = -1):
    axis = _axis(x, dim, "log_softmax")
    z = x - _rowmax(_data(x), axis)
    if _data(x).size == 0:              # nothing to normalise (and log's rule would see 0 / 0)
        return z
    return z - ops.log(ops.exp(z).sum(axis=axis, keepdims=True))


@np.errstate(divide="ignore", invalid="ignore")    # a row of -inf or a size-0 dim: log(0) = -inf, as torch
def _lse_forward(x, axis, keepdims):
    """log(sum(exp(x - m))) + m, with torch's m: the max, or 0 where the max is not finite."""
    m = _rowmax(x, axis)
    m = np.where(np.isfinite(m), m, 0)                 # 0 is a weak scalar: m's dtype stays
    out = np.log(np.exp(ops._float(x) - m).sum(axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis)


@np.errstate(invalid="ignore")                      # a +inf in x: inf - inf = NaN, as torch
def _lse_backward(g, out, x, axis, keepdims):
    """The gradient of logsumexp is softmax(x) = exp(x - out) (torch's rule, one node)."""
    kept = _kept(x.shape, axis)
    return g.reshape(kept) * ops.exp(x - out.reshape(kept))


_logsumexp = Op("logsumexp", _lse_forward, _lse_backward, "g * softmax(x)")


def logsumexp(x, dim=-1, keepdim: bool = False):
    """log(sum(exp(x))) over dim, an int or a tuple of dims."""
    return _logsumexp(x, axis=_axis(x, dim, "logsumexp"), keepdims=keepdim)


def tanh(x):
    return ops.tanh(x)


def sigmoid(x):
    return ops.sigmoid(x)


def linear(x, weight, bias=None):
    """x @ weight.T + bias, torch's layout (weight is (out_features, in_features))."""
    out = x @ weight.T
    return out if bias is None else out + bias


def embedding(index, weight):
    """weight[index]: its gradient is a scatter-add into the rows of weight."""
    _check_index(np.asarray(_data(index)), weight.shape[0], "embedding")
    return weight[index]


def mse_loss(input, target, reduction: str = "mean"):
    d = input - target
    return _reduce(d * d, reduction)


def _reduce(losses, reduction):
    if reduction == "none":
        return losses
    if reduction not in ("mean", "sum"):
        raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    return losses.mean() if reduction == "mean" else losses.sum()


# ----------------------------------------------------------------------------
# elementwise composites (the primitives sin, cos, log2, erf, ... are rows of ops.py)

def _binary(op, x, y):
    """A binary op on (tensor or number, tensor or number), with torch's int/float promotion."""
    return op(*_promote(x, y))


def atan2(input, other):
    """The angle of the point (other, input), in (-pi, pi]: atan2(y, x) as torch."""
    return ops.atan2(*_promote_float(input, other))


def logaddexp(input, other):
    """log(exp(input) + exp(other)), without overflow."""
    return ops.logaddexp(*_promote_float(input, other))


def remainder(input, other):
    """Python's %: the result has the sign of other."""
    return _binary(ops.remainder, input, other)


def fmod(input, other):
    """C's fmod: the result has the sign of input."""
    return _binary(ops.fmod, input, other)


def floor_divide(input, other):
    """floor(input / other), as torch (not differentiable)."""
    return _binary(ops.floor_divide, input, other)


def _trunc_divide(x, y):
    """x / y rounded toward zero (div's rounding_mode='trunc', gradient 0); integers stay integers."""
    if np.asarray(_data(x)).dtype.kind in "biu" and np.asarray(_data(y)).dtype.kind in "biu":
        return ops.floor_divide(x - ops.fmod(x, y), y)          # an exact multiple of y: exact
    return ops.trunc(ops.div(x, y))


def frac(x):
    """The fractional part x - trunc(x) (with x's sign, as torch)."""
    return x - ops.trunc(x)


# round_ is torch.round (tg.round, x.round()), named so that it does not hide Python's round here

def round_(x, decimals: int = 0):
    """Half to even, as torch; the gradient is 0."""
    return ops.round(x) if decimals == 0 else ops.round(x, decimals=decimals)


def rsqrt(x):
    """1 / sqrt(x)."""
    return pow(x, -0.5)


def reciprocal(x):
    """1 / x (integers give the default float dtype)."""
    return ops.div(1.0, x)


def square(x):
    """x * x (integers stay integers)."""
    return x * x


def lerp(input, end, weight):
    """input + weight * (end - input)."""
    return input + weight * (end - input)


def nan_to_num(x, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None):
    """NaN -> nan, inf -> posinf, -inf -> neginf (the dtype's largest and smallest by default);
    the gradient passes where x was finite."""
    if x.dtype.kind != "f":
        return x * 1
    big = np.finfo(x.dtype)
    posinf, neginf = big.max if posinf is None else posinf, big.min if neginf is None else neginf
    return where(ops.isnan(x), nan, where(x == np.inf, posinf, where(x == -np.inf, neginf, x)))


def float_power(x, y):
    """x ** y in float64."""
    return pow(x.astype(np.float64), y.astype(np.float64) if isinstance(y, Tensor) else y)


# ----------------------------------------------------------------------------
# activations. `where(c, f(x), ...)` with an f that can overflow computes f on where(c, x, 0):
# otherwise the branch not taken would send 0 * inf = NaN back.

def leaky_relu(x, negative_slope: float = 0.01, inplace: bool = False):
    """x where x > 0, negative_slope * x elsewhere."""
    return where(x > 0, x, x * negative_slope)


def elu(x, alpha: float = 1.0, inplace: bool = False):
    """x where x > 0, alpha * (exp(x) - 1) elsewhere (Clevert et al. 2016)."""
    neg = x <= 0
    return where(neg, ops.expm1(where(neg, x, 0)) * alpha, x)


def selu(x, inplace: bool = False):
    """scale * elu(x, alpha), the self-normalising constants of Klambauer et al. (2017)."""
    return elu(x, 1.6732632423543772848170429916717) * 1.0507009873554804934193349852946


def celu(x, alpha: float = 1.0, inplace: bool = False):
    """x where x > 0, alpha * (exp(x / alpha) - 1) elsewhere (Barron 2017)."""
    neg = x <= 0
    return where(neg, ops.expm1(where(neg, x, 0) / alpha) * alpha, x)


def gelu(x, approximate: str = "none"):
    """x * Phi(x) with Phi the normal CDF through erf, or its tanh approximation (approximate='tanh')."""
    if approximate == "none":
        return x * 0.5 * (1 + ops.erf(x * 0.7071067811865476))
    if approximate == "tanh":
        return 0.5 * x * (1 + ops.tanh(0.7978845608028654 * (x + 0.044715 * (x * x * x))))
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def silu(x, inplace: bool = False):
    """x * sigmoid(x) (swish)."""
    return x * ops.sigmoid(x)


def softplus(x, beta: float = 1.0, threshold: float = 20.0):
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold, as torch."""
    linear = x * beta > threshold
    return where(linear, x, ops.log1p(ops.exp(where(linear, 0, x) * beta)) / beta)


def mish(x, inplace: bool = False):
    """x * tanh(softplus(x)) (Misra 2019)."""
    return x * ops.tanh(softplus(x))


def softsign(x):
    """x / (1 + |x|)."""
    return x / (1 + ops.abs(x))


def hardtanh(x, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
    """Clamp to [min_val, max_val]; unlike clamp, the gradient is 0 at the two ends, as torch."""
    return where(x <= min_val, min_val, where(x >= max_val, max_val, x))


def relu6(x, inplace: bool = False):
    """min(max(x, 0), 6), the gradient 0 at both ends as torch."""
    return hardtanh(x, 0.0, 6.0)


def hardsigmoid(x, inplace: bool = False):
    """0 below -3, 1 above 3, x / 6 + 1/2 between (the gradient 0 at -3 and 3)."""
    return where(x <= -3, 0, where(x >= 3, 1, (x + 3) / 6))


def hardswish(x, inplace: bool = False):
    """x * hardsigmoid(x) (Howard et al. 2019), with torch's gradients at -3 and 3."""
    return where(x <= -3, 0, where(x < 3, x * (x + 3) / 6, x))


def logsigmoid(x):
    """log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)), which neither overflows nor underflows."""
    return minimum(x, 0) - ops.log1p(ops.exp(-ops.abs(x)))


# ----------------------------------------------------------------------------
# reductions and scans

SortResult = collections.namedtuple("SortResult", ["values", "indices"])   # torch.return_types.sort & co


def _dims(x, dim, op: str):
    """dim (an int, a tuple, or None for all) -> a tuple of non-negative dims, or None."""
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        return None
    return tuple(sorted({_dim(d, x.ndim, op) for d in (dim if isinstance(dim, (tuple, list)) else (dim,))})) \
        if x.ndim else None


def _scan(op, x, dim, dtype, name):
    if dtype is not None:
        x = x.astype(dtype)
    d = _dim(dim, x.ndim, name)
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
    d = _dim(dim, x.ndim, "prod")
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


def sort(x, dim: int = -1, descending: bool = False, stable: bool = False):
    """(values, indices) along dim; ties keep their order (stable); NaN sorts as the largest,
    as torch. The values are a gather of x, so the gradient is a scatter-add to the indices."""
    if x.ndim == 0:
        return SortResult(x * 1, Tensor._wrap(np.zeros((), np.int64)))
    d = _dim(dim, x.ndim, "sort")
    a = _data(x)
    if descending:    # a stable ascending sort of the reversed x, reversed: ties stay in order, NaN first
        n = a.shape[d]
        indices = n - 1 - ops._flip(ops.argsort(ops._flip(a, d), axis=d), d)
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
    d = _dim(dim, x.ndim, "topk")
    n = x.shape[d] if x.ndim else 1
    if not 0 <= k <= n:
        raise IndexError(f"topk: k ({k}) is out of range for dimension {d} of size {n}")
    values, indices = sort(x, d, descending=largest, stable=True)
    key = (slice(None),) * d + (slice(0, k),)
    return SortResult(values[key], indices[key])


def median(x, dim: int | None = None, keepdim: bool = False):
    """The lower median (NaN if there is one), as torch. Over all of x: the value, its gradient
    shared by the elements equal to it; along dim: (values, indices), the gradient to the index."""
    a = _data(x)
    if dim is None:
        flat = np.sort(a.reshape(-1), kind="stable")
        if flat.size == 0:
            return Tensor._wrap(np.array(np.nan, a.dtype))
        value = flat[-1] if np.isnan(flat[-1]) else flat[(flat.size - 1) // 2]
        tied = np.isnan(a) if np.isnan(value) else a == value
        return ops.amax(ops.getitem(x, key=tied), axis=None, keepdims=False)
    d = _dim(dim, x.ndim, "median")
    if x.ndim == 0:
        return SortResult(x * 1, Tensor._wrap(np.zeros((), np.int64)))
    order = np.argsort(a, axis=d, kind="stable")
    nans = np.isnan(a).sum(axis=d, keepdims=True)
    pos = np.where(nans > 0, a.shape[d] - nans, (a.shape[d] - 1) // 2)     # the first NaN, or the middle
    indices = np.take_along_axis(order, pos, axis=d)
    values = gather(x, d, indices)
    if not keepdim:
        values, indices = squeeze(values, d), indices.squeeze(d)
    return SortResult(values, Tensor._wrap(indices))


def nanmedian(x, dim: int | None = None, keepdim: bool = False):
    """median ignoring NaN."""
    a = _data(x)
    if dim is None:
        keep = ~np.isnan(a)
        return median(ops.getitem(x, key=keep)) if keep.any() else Tensor._wrap(np.array(np.nan, a.dtype))
    raise NotImplementedError("nanmedian: only over all of x")


# ----------------------------------------------------------------------------
# shapes: every one a gather (getitem) or a reshape/permute, so every backward is a scatter-add or a reshape

def _along_dim(x, d: int, key):
    return ops.getitem(x, key=(slice(None),) * d + (key,))


def split(x, split_size_or_sections, dim: int = 0) -> tuple:
    """Pieces of split_size along dim (the last one smaller), or of the given sizes, as torch.split."""
    d = _dim(dim, x.ndim, "split")
    n = x.shape[d]
    if isinstance(split_size_or_sections, (int, np.integer)):
        size = int(split_size_or_sections)
        if size <= 0 and n > 0:
            raise ValueError(f"split: split_size must be positive, got {size}")
        sizes = [builtins.min(size, n - s) for s in range(0, n, size)] if n else [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if builtins.sum(sizes) != n:
            raise ValueError(f"split: sizes {sizes} do not add up to {n}, the size of dim {d}")
    ends = np.cumsum(sizes)
    return tuple(_along_dim(x, d, slice(int(e - s), int(e))) for s, e in zip(sizes, ends))


def chunk(x, chunks: int, dim: int = 0) -> tuple:
    """At most `chunks` pieces of ceil(n / chunks) along dim, as torch.chunk."""
    if chunks <= 0:
        raise ValueError(f"chunk: chunks must be positive, got {chunks}")
    d = _dim(dim, x.ndim, "chunk")
    return split(x, builtins.max(-(-x.shape[d] // chunks), 1), d)


def tensor_split(x, indices_or_sections, dim: int = 0) -> tuple:
    """k nearly equal pieces (the first n % k one longer), or pieces cut at the given indices."""
    d = _dim(dim, x.ndim, "tensor_split")
    n = x.shape[d]
    if isinstance(indices_or_sections, (int, np.integer)):
        k = int(indices_or_sections)
        bounds = [i * (n // k) + builtins.min(i, n % k) for i in range(k + 1)]
    else:
        bounds = [0] + [int(i) for i in indices_or_sections] + [n]
    return tuple(_along_dim(x, d, slice(s, builtins.max(s, e))) for s, e in zip(bounds, bounds[1:]))


def unbind(x, dim: int = 0) -> tuple:
    """The slices along dim, as a tuple (each without that dim)."""
    d = _dim(dim, x.ndim, "unbind")
    return tuple(_along_dim(x, d, i) for i in range(x.shape[d]))


def flip(x, dims):
    """x reversed along dims (a gather with negative strides)."""
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    key = [slice(None)] * x.ndim
    for d in dims:
        key[_dim(d, x.ndim, "flip")] = slice(None, None, -1)
    return ops.getitem(x, key=tuple(key))


def fliplr(x):
    """x reversed along dim 1."""
    return flip(x, 1)


def flipud(x):
    """x reversed along dim 0."""
    return flip(x, 0)


def roll(x, shifts, dims=None):
    """Shift along dims, wrapping around; with dims=None, shift the flattened x."""
    if dims is None:
        return ops.reshape(roll(ops.reshape(x, shape=(-1,)), shifts, 0), shape=x.shape)
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(shifts) != len(dims):
        raise ValueError(f"roll: shifts {shifts} and dims {dims} must have the same length")
    for s, d in zip(shifts, dims):
        d = _dim(d, x.ndim, "roll")
        x = _along_dim(x, d, (np.arange(x.shape[d]) - s) % builtins.max(x.shape[d], 1))
    return x


def repeat(x, *sizes):
    """Tile x sizes[i] times along dim i (torch's Tensor.repeat; numpy's tile): an expand and a reshape."""
    sizes = tuple(_shape_arg(sizes))
    if len(sizes) < x.ndim:
        raise ValueError(f"repeat: {len(sizes)} sizes given for a tensor with {x.ndim} dims")
    shape = (1,) * (len(sizes) - x.ndim) + x.shape
    spread = ops.reshape(x, shape=tuple(v for n in shape for v in (1, n)))             # (1, n0, 1, n1, ...)
    wide = ops.expand(spread, shape=tuple(v for r, n in zip(sizes, shape) for v in (r, n)))
    return ops.reshape(wide, shape=tuple(r * n for r, n in zip(sizes, shape)))


def tile(x, dims):
    """repeat, with dims padded by leading 1s when there are fewer than x's dims."""
    dims = tuple(dims)
    return repeat(x, *((1,) * (x.ndim - len(dims)) + dims))


def repeat_interleave(x, repeats=None, dim: int | None = None, output_size: int | None = None):
    """Repeat each element (or slice along dim) repeats times: a gather of np.repeat'ed indices."""
    if repeats is None:                         # repeat_interleave(counts): 0, 0, 1, 2, 2, 2 ...
        counts = np.asarray(_data(x))
        return Tensor._wrap(np.repeat(np.arange(len(counts)), counts))
    if dim is None:
        x, dim = ops.reshape(x, shape=(-1,)), 0
    d = _dim(dim, x.ndim, "repeat_interleave")
    return _along_dim(x, d, np.repeat(np.arange(x.shape[d]), np.asarray(_data(repeats))))


def _tri_mask(x, diagonal: int, lower: bool):
    if x.ndim < 2:
        raise ValueError(f"{'tril' if lower else 'triu'}: expected a tensor with at least 2 dims, got {x.shape}")
    n, m = x.shape[-2:]
    return np.tri(n, m, diagonal, dtype=bool) if lower else ~np.tri(n, m, diagonal - 1, dtype=bool)


def tril(x, diagonal: int = 0):
    """The lower triangle (j <= i + diagonal) of the last two dims; zeros above."""
    return where(_tri_mask(x, diagonal, True), x, np.zeros((), x.dtype))


def triu(x, diagonal: int = 0):
    """The upper triangle (j >= i + diagonal) of the last two dims; zeros below."""
    return where(_tri_mask(x, diagonal, False), x, np.zeros((), x.dtype))


def diagonal(x, offset: int = 0, dim1: int = 0, dim2: int = 1):
    """The diagonal of dims (dim1, dim2), as a new last dim: a gather."""
    return _diagonal(x, offset, dim1, dim2)


def _diagonal(x, offset, dim1, dim2):
    d1, d2 = _dim(dim1, x.ndim, "diagonal"), _dim(dim2, x.ndim, "diagonal")
    if d1 == d2:
        raise ValueError("diagonal: dim1 and dim2 cannot be the same")
    rest = tuple(d for d in range(x.ndim) if d not in (d1, d2))
    moved = ops.permute(x, axes=rest + (d1, d2))
    r0, c0 = builtins.max(-offset, 0), builtins.max(offset, 0)
    n = builtins.max(builtins.min(x.shape[d1] - r0, x.shape[d2] - c0), 0)
    return ops.getitem(moved, key=(Ellipsis, np.arange(n) + r0, np.arange(n) + c0))


def diag(x, diagonal: int = 0):
    """1-D -> a square matrix with x on the given diagonal (a scatter); 2-D -> that diagonal (a gather)."""
    if x.ndim == 2:
        return _diagonal(x, diagonal, 0, 1)
    if x.ndim != 1:
        raise ValueError(f"diag: expected a 1-D or 2-D tensor, got {x.shape}")
    n, k = x.shape[0], builtins.abs(diagonal)
    rows = np.arange(n) + builtins.max(-diagonal, 0)
    cols = np.arange(n) + builtins.max(diagonal, 0)
    return ops.index_put(np.zeros((n + k, n + k), x.dtype), x, key=(rows, cols), accumulate=False)


def diag_embed(x, offset: int = 0):
    """The last dim of x on the diagonal of new square matrices (a scatter)."""
    n = x.shape[-1] + builtins.abs(offset)
    rows, cols = np.arange(x.shape[-1]) + builtins.max(-offset, 0), np.arange(x.shape[-1]) + builtins.max(offset, 0)
    return ops.index_put(np.zeros(x.shape[:-1] + (n, n), x.dtype), x, key=(Ellipsis, rows, cols), accumulate=False)


def trace(x):
    """The sum of a matrix's diagonal."""
    if x.ndim != 2:
        raise ValueError(f"trace: expected a matrix, got shape {x.shape}")
    return ops.sum(diagonal(x), axis=None, keepdims=False)


def movedim(x, source, destination):
    """x with dims source moved to positions destination (a permute)."""
    src = [_dim(d, x.ndim, "movedim") for d in ((source,) if isinstance(source, int) else source)]
    dst = [_dim(d, x.ndim, "movedim") for d in ((destination,) if isinstance(destination, int) else destination)]
    if len(src) != len(dst):
        raise ValueError(f"movedim: source {source} and destination {destination} differ in length")
    order = [d for d in range(x.ndim) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return ops.permute(x, axes=tuple(order))


moveaxis = movedim


def narrow(x, dim: int, start: int, length: int):
    """length elements of dim from start (a slice, sharing storage)."""
    d = _dim(dim, x.ndim, "narrow")
    start = start + x.shape[d] if start < 0 else start
    if not 0 <= start <= start + length <= x.shape[d]:
        raise IndexError(f"narrow: start {start} + length {length} exceeds dimension size {x.shape[d]}")
    return _along_dim(x, d, slice(start, start + length))


def atleast_1d(x):
    """x, with a dim added if it is 0-d."""
    return ops.reshape(x, shape=(1,)) if x.ndim == 0 else x


def atleast_2d(x):
    """x, with leading dims added up to 2."""
    return ops.reshape(x, shape=(1,) * (2 - x.ndim) + x.shape) if x.ndim < 2 else x


def hstack(tensors):
    """Concatenate along dim 1 (dim 0 for 1-D tensors)."""
    tensors = [atleast_1d(t) for t in tensors]
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors):
    """Concatenate along dim 0, 1-D tensors as rows."""
    return cat([atleast_2d(t) for t in tensors], 0)


def column_stack(tensors):
    """Concatenate along dim 1, 1-D tensors as columns."""
    return cat([ops.reshape(t, shape=(-1, 1)) if t.ndim < 2 else t for t in tensors], 1)


def outer(x, y):
    """The outer product x[i] * y[j]."""
    return ops.reshape(x, shape=(-1, 1)) * ops.reshape(y, shape=(1, -1))


def _einsum_letters(equation: str, shapes: list) -> tuple:
    """'...ij,jk' with shapes -> explicit subscripts per operand and for the output; '...' becomes
    letters, and an ellipsis dim of size 1 that broadcasts against a bigger one is dropped from
    that operand (returned as the dims to squeeze)."""
    equation = equation.replace(" ", "")
    ins, _, out = equation.partition("->")
    ins = ins.split(",")
    if len(ins) != len(shapes):
        raise ValueError(f"einsum: the equation has {len(ins)} operands, {len(shapes)} were given")
    spare = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" if c not in equation]
    ell = builtins.max([len(s) - len(sub.replace("...", "")) for sub, s in zip(ins, shapes) if "..." in sub],
                       default=0)
    batch, subs, squeezes = spare[:ell], [], []
    for sub, shape in zip(ins, shapes):
        if "..." in sub:
            k = len(shape) - len(sub.replace("...", ""))
            sub = sub.replace("...", "".join(batch[ell - k:]))
        if len(sub) != len(shape):
            raise ValueError(f"einsum: subscripts '{sub}' do not match an operand of shape {shape}")
        subs.append(sub)
    sizes = {}
    for sub, shape in zip(subs, shapes):
        for c, n in zip(sub, shape):
            sizes[c] = builtins.max(sizes.get(c, 1), n)
    for i, (sub, shape) in enumerate(zip(subs, shapes)):
        drop = [j for j, (c, n) in enumerate(zip(sub, shape)) if n == 1 and sizes[c] != 1]
        squeezes.append(tuple(drop))
        subs[i] = "".join(c for j, c in enumerate(sub) if j not in drop)
    if "->" not in equation:            # implicit output: the letters used once, in order (ellipsis first)
        counts = collections.Counter("".join(subs))
        out = "".join(batch) + "".join(sorted(c for c in counts if counts[c] == 1 and c not in batch))
    else:
        out = out.replace("...", "".join(batch))
    return subs, out, squeezes


def einsum(equation: str, *operands):
    """torch.einsum: explicit or implicit output, '...', broadcasting. Its backward is an einsum too
    (ops.einsum): the adjoint of a contraction is a contraction."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    subs, out, squeezes = _einsum_letters(equation, [o.shape for o in operands])
    xs = [ops.reshape(o, shape=tuple(n for j, n in enumerate(o.shape) if j not in drop)) if drop else o
          for o, drop in zip(operands, squeezes)]
    return ops.einsum(*xs, eq=",".join(subs) + "->" + out)


def tensordot(a, b, dims=2):
    """Contract the last `dims` dims of a with the first of b, or the listed pairs: an einsum."""
    if isinstance(dims, (int, np.integer)):
        da, db = list(range(a.ndim - dims, a.ndim)), list(range(int(dims)))
    else:
        da, db = ([d] if isinstance(d, int) else list(d) for d in dims)
    da, db = [_dim(d, a.ndim, "tensordot") for d in da], [_dim(d, b.ndim, "tensordot") for d in db]
    letters = iter("abcdefghijklmnopqrstuvwxyz")
    sa = [next(letters) for _ in range(a.ndim)]
    sb = [next(letters) for _ in range(b.ndim)]
    for i, j in zip(da, db):
        sb[j] = sa[i]
    out = [c for i, c in enumerate(sa) if i not in da] + [c for j, c in enumerate(sb) if j not in db]
    return ops.einsum(a, b, eq="".join(sa) + "," + "".join(sb) + "->" + "".join(out))


_PAD_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def pad(input, pad, mode: str = "constant", value: float | None = None):
    """torch.nn.functional.pad: pad = (left, right) for the last dim, then the one before, ...
    'constant' writes x into a tensor of value (negative pads crop); 'reflect', 'replicate' and
    'circular' gather x at np.pad'ed indices, so their backward is a scatter-add."""
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ValueError(f"pad: expected an even number of pads for at most {input.ndim} dims, got {pad}")
    k = len(pad) // 2
    dims = [input.ndim - 1 - i for i in range(k)]                   # the dim each (left, right) pair pads
    if mode == "constant":
        crop = [slice(None)] * input.ndim
        for d, (left, right) in zip(dims, zip(pad[::2], pad[1::2])):
            crop[d] = slice(builtins.max(-left, 0), input.shape[d] - builtins.max(-right, 0))
        x = ops.getitem(input, key=tuple(crop)) if builtins.any(p < 0 for p in pad) else input
        shape, place = list(x.shape), [slice(None)] * x.ndim
        for d, (left, right) in zip(dims, zip(pad[::2], pad[1::2])):
            left, right = builtins.max(left, 0), builtins.max(right, 0)
            shape[d] += left + right
            place[d] = slice(left, left + x.shape[d])
        fill = np.full(tuple(shape), 0 if value is None else value, dtype=x.dtype)
        return ops.index_put(fill, x, key=tuple(place), accumulate=False)
    if mode not in _PAD_MODES:
        raise ValueError(f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', got {mode!r}")
    idx = {}
    for d, (left, right) in zip(dims, zip(pad[::2], pad[1::2])):
        n = input.shape[d]
        if mode == "reflect" and (left >= n or right >= n):
            raise ValueError(f"pad: reflect padding ({left}, {right}) must be smaller than the dim's size {n}")
        idx[d] = np.pad(np.arange(n), (left, right), mode=_PAD_MODES[mode])
    lo = builtins.min(idx)
    key = (slice(None),) * lo + np.ix_(*[idx.get(d, np.arange(input.shape[d])) for d in range(lo, input.ndim)])
    return ops.getitem(input, key=key)


# ----------------------------------------------------------------------------
# comparing tensors (no gradients)

def isclose(input, other, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Tensor:
    """|input - other| <= atol + rtol * |other|, elementwise, as torch.isclose."""
    return Tensor._wrap(np.isclose(_data(input), _data(other), rtol=rtol, atol=atol, equal_nan=equal_nan))


def allclose(input, other, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:
    """True if isclose holds everywhere."""
    return bool(isclose(input, other, rtol, atol, equal_nan).numpy().all())


def equal(input, other) -> bool:
    """True if both have the same shape and elements, as torch.equal."""
    a, b = np.asarray(_data(input)), np.asarray(_data(other))
    return a.shape == b.shape and bool((a == b).all())


def histc(input, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:
    """Counts in `bins` equal bins over [min, max] (the data's range when min == max); values
    outside are ignored; the result has input's dtype, as torch.histc."""
    a = _data(input)
    lo, hi = float(min), float(max)
    if lo == hi and a.size:
        lo, hi = float(a.min()), float(a.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if lo > hi:
        raise ValueError(f"histc: max ({hi}) must be larger than min ({lo})")
    counts, _ = np.histogram(a[np.isfinite(a)], bins=bins, range=(lo, hi))
    return Tensor._wrap(counts.astype(a.dtype))


HistogramResult = collections.namedtuple("HistogramResult", ["hist", "bin_edges"])


def histogram(input, bins=100, *, range=None, weight=None, density: bool = False):
    """(hist, bin_edges) as torch.histogram: bins a count (over range, or the data's) or the edges."""
    a = _data(input)
    edges = _data(bins) if isinstance(bins, (Tensor, np.ndarray, list, tuple)) else int(bins)
    hist, edges = np.histogram(a, bins=edges, range=range, weights=None if weight is None else _data(weight),
                               density=density)
    return HistogramResult(Tensor._wrap(hist.astype(a.dtype)), Tensor._wrap(np.asarray(edges, a.dtype)))


def bincount(input, weights=None, minlength: int = 0) -> Tensor:
    """How often each non-negative integer occurs (or the sum of its weights)."""
    idx = np.asarray(_data(input))
    if idx.ndim != 1 or idx.dtype.kind not in "iu" or (idx.size and idx.min() < 0):
        raise ValueError("bincount: expected a 1-D tensor of non-negative integers")
    w = None if weights is None else np.asarray(_data(weights))
    out = np.bincount(idx, weights=w, minlength=minlength)
    return Tensor._wrap(out.astype(np.int64 if w is None else w.dtype if w.dtype.kind == "f" else np.float64))


# ----------------------------------------------------------------------------
# more of torch's everyday names, each a few lines on the ones above

def mm(input, mat2):
    """The product of two matrices."""
    if input.ndim != 2 or mat2.ndim != 2:
        raise ValueError(f"mm: expected two matrices, got shapes {input.shape} and {mat2.shape}")
    return matmul(input, mat2)


def bmm(input, mat2):
    """Batched matrix products: (B, n, m) @ (B, m, p)."""
    if input.ndim != 3 or mat2.ndim != 3 or input.shape[0] != mat2.shape[0]:
        raise ValueError(f"bmm: expected (B, n, m) and (B, m, p), got shapes {input.shape} and {mat2.shape}")
    return matmul(input, mat2)


def mv(input, vec):
    """A matrix times a vector."""
    if input.ndim != 2 or vec.ndim != 1:
        raise ValueError(f"mv: expected a matrix and a vector, got shapes {input.shape} and {vec.shape}")
    return matmul(input, vec)


def dot(input, other):
    """The dot product of two vectors."""
    if input.ndim != 1 or other.ndim != 1:
        raise ValueError(f"dot: expected two vectors, got shapes {input.shape} and {other.shape}")
    return matmul(input, other)


def addmm(input, mat1, mat2, beta: float = 1, alpha: float = 1):
    """beta * input + alpha * (mat1 @ mat2)."""
    product = mm(mat1, mat2)
    return (input if beta == 1 else input * beta) + (product if alpha == 1 else product * alpha)


def index_select(input, dim: int, index):
    """The slices of dim at the (1-D) index: a gather, its gradient a scatter-add."""
    idx = np.asarray(_data(index))
    if idx.ndim > 1 or idx.dtype.kind not in "iu":
        raise IndexError(f"index_select: expected a 1-D integer index, got {idx.dtype} {idx.shape}")
    return _along_dim(input, _dim(dim, input.ndim, "index_select"), idx.reshape(-1))


def masked_select(input, mask):
    """The elements where the (broadcast) bool mask holds, as a 1-D tensor."""
    m = np.asarray(_data(mask))
    if m.dtype != np.bool_:
        raise TypeError(f"masked_select: expected a bool mask, got {m.dtype}")
    shape = np.broadcast_shapes(input.shape, m.shape)
    x = input if input.shape == shape else ops.expand(input, shape=shape)
    return ops.getitem(x, key=np.broadcast_to(m, shape))


def take_along_dim(input, indices, dim: int | None = None):
    """input gathered at indices along dim (the two broadcast against each other), or at flat indices."""
    idx = np.asarray(_data(indices))
    if dim is None:
        return ops.getitem(ops.reshape(input, shape=(-1,)), key=idx.reshape(-1))
    d = _dim(dim, input.ndim, "take_along_dim")
    shape = list(np.broadcast_shapes(tuple(1 if i == d else n for i, n in enumerate(input.shape)),
                                     tuple(1 if i == d else n for i, n in enumerate(idx.shape))))
    x = ops.expand(input, shape=tuple(shape[:d] + [input.shape[d]] + shape[d + 1:]))
    return gather(x, d, np.broadcast_to(idx, tuple(shape[:d] + [idx.shape[d]] + shape[d + 1:])))


def scatter(input, dim: int, index, src=None, value=None, reduce: str | None = None):
    """out = input, then out[index[i][j]][j] = src[i][j] (dim 0), or = value, as torch.scatter.
    (With repeated indices torch leaves which write wins unspecified.)"""
    if reduce is not None:
        raise NotImplementedError("scatter: reduce= is not supported; use scatter_add for sums")
    idx = np.asarray(_data(index))
    source = src if src is not None else np.full(idx.shape, value, dtype=input.dtype)
    if source.shape != idx.shape:
        source = ops.getitem(source, key=tuple(slice(n) for n in idx.shape))
    return ops.index_put(input, source, key=_along(idx, input, dim, "scatter"), accumulate=False)


def meshgrid(*tensors, indexing: str = "ij") -> tuple:
    """Coordinate grids: each 1-D tensor expanded along the others' dims ('ij', or 'xy' with the
    first two swapped), as torch.meshgrid."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    sizes = [t.shape[0] if t.ndim else 1 for t in tensors]
    order = list(range(len(tensors)))
    if indexing == "xy" and len(tensors) > 1:
        order[0], order[1] = 1, 0
    shape = tuple(sizes[i] for i in order)
    grids = []
    for i, t in enumerate(tensors):
        place = order.index(i)
        spread = ops.reshape(t, shape=tuple(-1 if j == place else 1 for j in range(len(tensors))))
        grids.append(ops.expand(spread, shape=shape))
    return tuple(grids)


def cartesian_prod(*tensors):
    """All combinations of the elements of the 1-D tensors, one per row."""
    if len(tensors) == 1:
        return tensors[0]
    return stack([ops.reshape(g, shape=(-1,)) for g in meshgrid(*tensors)], 1)


def cross(input, other, dim: int | None = None):
    """The cross product of 3-vectors along dim (torch.linalg.cross's default, -1, when not given)."""
    shape = np.broadcast_shapes(input.shape, other.shape)
    d = _dim(-1 if dim is None else dim, len(shape), "cross")
    if shape[d] != 3:
        raise ValueError(f"cross: dim {d} must have size 3, got shape {shape}")
    x, y = ops.expand(input, shape=shape), ops.expand(other, shape=shape)
    a = [_along_dim(x, d, slice(i, i + 1)) for i in range(3)]
    b = [_along_dim(y, d, slice(i, i + 1)) for i in range(3)]
    return cat([a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]], d)


def diff(input, n: int = 1, dim: int = -1, prepend=None, append=None):
    """The n-th forward difference along dim (with prepend / append joined first)."""
    d = _dim(dim, input.ndim, "diff")
    parts = [t for t in (prepend, input, append) if t is not None]
    x = cat(parts, d) if len(parts) > 1 else input
    for _ in range(n):
        x = _along_dim(x, d, slice(1, None)) - _along_dim(x, d, slice(None, -1))
    return x


def cummax(x, dim: int):
    """(values, indices) of the running maximum along dim; a tie moves the index on, NaN sticks, as torch."""
    return _cumulative_extreme(x, dim, np.maximum, "cummax")


def cummin(x, dim: int):
    """(values, indices) of the running minimum along dim."""
    return _cumulative_extreme(x, dim, np.minimum, "cummin")


def _cumulative_extreme(x, dim, ufunc, name):
    d = _dim(dim, x.ndim, name)
    if x.ndim == 0:
        return SortResult(x * 1, Tensor._wrap(np.zeros((), np.int64)))
    a = _data(x)
    running = ufunc.accumulate(a, axis=d)
    here = (a == running) | (np.isnan(a) if a.dtype.kind == "f" else False)     # the extreme is (again) here
    positions = np.arange(a.shape[d]).reshape((-1,) + (1,) * (a.ndim - d - 1))
    indices = np.maximum.accumulate(np.where(here, positions, 0), axis=d)
    return SortResult(gather(x, d, indices), Tensor._wrap(indices))


def logcumsumexp(x, dim: int):
    """log(cumsum(exp(x))) along dim, shifted by the max so that it neither overflows nor underflows."""
    d = _dim(dim, x.ndim, "logcumsumexp")
    m = np.max(_data(x), axis=d, keepdims=True) if x.shape[d] else np.zeros((), _data(x).dtype)
    m = np.where(np.isfinite(m), m, 0)                  # a constant: it cancels in the math
    return ops.log(cumsum(ops.exp(x - m), d)) + m


def std_mean(x, dim=None, *, correction=1, keepdim: bool = False) -> tuple:
    """(std, mean) over dim."""
    return x.std(dim, correction=correction, keepdim=keepdim), x.mean(dim, keepdim=keepdim)


def var_mean(x, dim=None, *, correction=1, keepdim: bool = False) -> tuple:
    """(var, mean) over dim."""
    return x.var(dim, correction=correction, keepdim=keepdim), x.mean(dim, keepdim=keepdim)


def xlogy(x, y):
    """x * log(y), and 0 where x is 0 (unless y is NaN), as torch; d/dx is log(y), also at x = 0.
    Each log sees only the y it is selected for, so no branch sends NaN back."""
    fine = (y > 0) | ops.isnan(y)                     # log(y) is a number (or a NaN that must show)
    other = where(fine, 1, y)                         # y <= 0: -inf or NaN, wanted only where x != 0
    return where(fine, x * ops.log(where(fine, y, 1)), where(x == 0, 0, x * ops.log(where(x == 0, 1, other))))


def hypot(x, y):
    """sqrt(x^2 + y^2)."""
    x, y = _promote_float(x, y)
    return sqrt(x * x + y * y)


def copysign(x, y):
    """|x| with the sign of y (-0.0 counts as negative)."""
    return where(np.asarray(np.signbit(_data(y))), -ops.abs(x), ops.abs(x))


def deg2rad(x):
    """Degrees to radians."""
    return x * (math.pi / 180)


def rad2deg(x):
    """Radians to degrees."""
    return x * (180 / math.pi)


def logit(x, eps: float | None = None):
    """log(x / (1 - x)), x clamped to [eps, 1 - eps] first when eps is given."""
    if eps is not None:
        x = clamp(x, eps, 1 - eps)
    return ops.log(x / (1 - x))


def sinc(x):
    """sin(pi x) / (pi x), and 1 at 0."""
    zero = x == 0
    safe = where(zero, 1, x) * math.pi
    return where(zero, 1, ops.sin(safe) / safe)


def dist(input, other, p=2):
    """The p-norm of input - other."""
    return norm(input - other, p)


def cdist(x1, x2, p: float = 2.0):
    """(..., P, M) and (..., R, M) -> the (..., P, R) p-norm distances between their rows."""
    return norm(unsqueeze(x1, -2) - unsqueeze(x2, -3), p, dim=-1)


def nonzero(input, *, as_tuple: bool = False):
    """The indices of the non-zero elements: (count, ndim) int64, or one index tensor per dim."""
    found = np.nonzero(np.asarray(_data(input)))
    if as_tuple:
        return tuple(Tensor._wrap(i.astype(np.int64)) for i in found)
    return Tensor._wrap(np.stack(found, axis=1).astype(np.int64) if found else np.zeros((0, 0), np.int64))


def argwhere(input):
    """nonzero(input): the indices of the non-zero elements, one row each."""
    return nonzero(input)


def unique(input, sorted: bool = True, return_inverse: bool = False, return_counts: bool = False, dim=None):
    """The distinct values (sorted), and optionally where each element went and how often each occurs."""
    a = np.asarray(_data(input))
    values, inverse, counts = np.unique(a, return_inverse=True, return_counts=True,
                                        axis=None if dim is None else _dim(dim, a.ndim, "unique"))
    out = [Tensor._wrap(values)]
    if return_inverse:
        out.append(Tensor._wrap(inverse.reshape(a.shape if dim is None else -1).astype(np.int64)))
    if return_counts:
        out.append(Tensor._wrap(counts.astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def bucketize(input, boundaries, *, right: bool = False):
    """For each value, the index of the boundary bucket it falls in (boundaries sorted, 1-D)."""
    b = np.asarray(_data(boundaries))
    side = "right" if right else "left"
    return Tensor._wrap(np.searchsorted(b, np.asarray(_data(input)), side=side).astype(np.int64))


def searchsorted(sorted_sequence, values, *, right: bool = False, side: str | None = None):
    """Where values would be inserted into the sorted (last dim of) sorted_sequence to keep it sorted."""
    seq, v = np.asarray(_data(sorted_sequence)), np.asarray(_data(values))
    side = side or ("right" if right else "left")
    if seq.ndim == 1:
        return Tensor._wrap(np.searchsorted(seq, v, side=side).astype(np.int64))
    rows = [np.searchsorted(s, r, side=side)
            for s, r in zip(seq.reshape(-1, seq.shape[-1]), v.reshape(-1, v.shape[-1]))]
    return Tensor._wrap(np.stack(rows).reshape(v.shape).astype(np.int64))


def tril_indices(row: int, col: int, offset: int = 0) -> Tensor:
    """The (2, N) int64 coordinates of the lower triangle of a row x col matrix."""
    return Tensor._wrap(np.stack(np.tril_indices(row, offset, col)).astype(np.int64))


def triu_indices(row: int, col: int, offset: int = 0) -> Tensor:
    """The (2, N) int64 coordinates of the upper triangle of a row x col matrix."""
    return Tensor._wrap(np.stack(np.triu_indices(row, offset, col)).astype(np.int64))


# activations and losses of torch.nn.functional beyond the issue's list

def glu(input, dim: int = -1):
    """a * sigmoid(b), the two halves of input along dim (Dauphin et al. 2017)."""
    a, b = chunk(input, 2, dim)
    return a * ops.sigmoid(b)


def softmin(input, dim: int = -1):
    """softmax(-input)."""
    return softmax(-input, dim)


def normalize(input, p: float = 2.0, dim: int = 1, eps: float = 1e-12):
    """input / max(||input||_p over dim, eps)."""
    return input / clamp(norm(input, p, dim, keepdim=True), min=eps)


def cosine_similarity(x1, x2, dim: int = 1, eps: float = 1e-8):
    """The cosine of the angle between x1 and x2 along dim, each norm clamped at eps, as torch."""
    n1 = clamp(norm(x1, 2, dim, keepdim=True), min=eps)
    n2 = clamp(norm(x2, 2, dim, keepdim=True), min=eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pairwise_distance(x1, x2, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False):
    """||x1 - x2 + eps||_p over the last dim."""
    return norm(x1 - x2 + eps, p, dim=-1, keepdim=keepdim)


def threshold(input, threshold: float, value: float, inplace: bool = False):
    """input where input > threshold, value elsewhere."""
    return where(input > threshold, input, value)


def hardshrink(input, lambd: float = 0.5):
    """input where |input| > lambd, 0 elsewhere."""
    return where(ops.abs(input) > lambd, input, 0)


def softshrink(input, lambd: float = 0.5):
    """input moved lambd towards 0, and 0 within lambd of it."""
    return where(input > lambd, input - lambd, where(input < -lambd, input + lambd, 0))


def tanhshrink(input):
    """input - tanh(input)."""
    return input - ops.tanh(input)


def prelu(input, weight):
    """input where > 0, weight * input elsewhere; weight (C,) per channel (dim 1) or (1,)."""
    w = ops.reshape(weight, shape=(1, -1) + (1,) * (input.ndim - 2)) if input.ndim >= 2 else weight
    return where(input > 0, input, w * input)


def pixel_shuffle(input, upscale_factor: int):
    """(N, C r^2, H, W) -> (N, C, H r, W r): sub-pixel rearrangement (Shi et al. 2016)."""
    r = upscale_factor
    *lead, c, h, w = input.shape
    x = ops.reshape(input, shape=tuple(lead) + (c // (r * r), r, r, h, w))
    k = len(lead)
    x = ops.permute(x, axes=tuple(range(k)) + (k, k + 3, k + 1, k + 4, k + 2))       # (..., C, H, r, W, r)
    return ops.reshape(x, shape=tuple(lead) + (c // (r * r), h * r, w * r))


def pixel_unshuffle(input, downscale_factor: int):
    """The inverse of pixel_shuffle: (N, C, H r, W r) -> (N, C r^2, H, W)."""
    r = downscale_factor
    *lead, c, h, w = input.shape
    x = ops.reshape(input, shape=tuple(lead) + (c, h // r, r, w // r, r))
    k = len(lead)
    x = ops.permute(x, axes=tuple(range(k)) + (k, k + 2, k + 4, k + 1, k + 3))       # (..., C, r, r, H, W)
    return ops.reshape(x, shape=tuple(lead) + (c * r * r, h // r, w // r))


def gaussian_nll_loss(input, target, var, full: bool = False, eps: float = 1e-6, reduction: str = "mean"):
    """0.5 (log(max(var, eps)) + (input - target)^2 / max(var, eps)) (+ 0.5 log(2 pi) if full)."""
    v = clamp(var, min=eps) if isinstance(var, Tensor) else builtins.max(var, eps)
    losses = 0.5 * (ops.log(v) + (input - target) ** 2 / v)
    if full:
        losses = losses + 0.5 * math.log(2 * math.pi)
    return _reduce(losses, reduction)


def margin_ranking_loss(input1, input2, target, margin: float = 0.0, reduction: str = "mean"):
    """max(0, -target * (input1 - input2) + margin)."""
    return _reduce(relu(-target * (input1 - input2) + margin), reduction)


def soft_margin_loss(input, target, reduction: str = "mean"):
    """log(1 + exp(-target * input))."""
    return _reduce(softplus(-target * input, threshold=math.inf), reduction)


def hinge_embedding_loss(input, target, margin: float = 1.0, reduction: str = "mean"):
    """input where target is 1, max(0, margin - input) where it is -1."""
    return _reduce(where(_data(target) == 1, input, relu(margin - input)), reduction)


def cosine_embedding_loss(input1, input2, target, margin: float = 0.0, reduction: str = "mean"):
    """1 - cos(x1, x2) where target is 1, max(0, cos(x1, x2) - margin) where it is -1."""
    c = cosine_similarity(input1, input2, dim=-1, eps=1e-8)
    return _reduce(where(_data(target) == 1, 1 - c, relu(c - margin)), reduction)


def triplet_margin_loss(anchor, positive, negative, margin: float = 1.0, p: float = 2.0, eps: float = 1e-6,
                        swap: bool = False, reduction: str = "mean"):
    """max(d(a, p) - d(a, n) + margin, 0), with the pairwise p-distance."""
    d_pos, d_neg = pairwise_distance(anchor, positive, p, eps), pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    return _reduce(relu(d_pos - d_neg + margin), reduction)


# ----------------------------------------------------------------------------
# NaN-aware reductions, logic, and a few more of torch's names

def nansum(x, dim=None, keepdim: bool = False):
    """The sum, NaNs counted as 0 (they get no gradient)."""
    return where(ops.isnan(x), 0, x).sum(dim, keepdim=keepdim)


def nanmean(x, dim=None, keepdim: bool = False):
    """The mean over the elements that are not NaN."""
    count = ops.sum(~ops.isnan(x), axis=_dims(x, dim, "nanmean"), keepdims=keepdim)
    return nansum(x, dim, keepdim) / count.astype(x.dtype)


def logical_and(input, other):
    """Elementwise and of input != 0 and other != 0."""
    return ops.bitwise_and(ops.ne(input, 0), ops.ne(other, 0))


def logical_or(input, other):
    """Elementwise or of input != 0 and other != 0."""
    return ops.bitwise_or(ops.ne(input, 0), ops.ne(other, 0))


def logical_xor(input, other):
    """Elementwise xor of input != 0 and other != 0."""
    return ops.bitwise_xor(ops.ne(input, 0), ops.ne(other, 0))


def logical_not(input):
    """input == 0."""
    return ops.eq(input, 0)


def fmax(input, other):
    """The larger of the two, ignoring a NaN on one side (a tie's gradient goes to input), as torch."""
    take = (input >= other) | ops.isnan(other)
    return where(take, input, other)


def fmin(input, other):
    """The smaller of the two, ignoring a NaN on one side."""
    take = (input <= other) | ops.isnan(other)
    return where(take, input, other)


def heaviside(input, values):
    """0 where input < 0, values where it is 0, 1 where > 0 (not differentiable)."""
    x = _data(input)
    return Tensor._wrap(np.where(x == 0, _data(values), (x > 0)).astype(x.dtype))


def signbit(input):
    """True where the sign bit is set (-0.0 included)."""
    return Tensor._wrap(np.signbit(_data(input)))


def isposinf(input):
    """input == inf."""
    return ops.eq(input, np.inf)


def isneginf(input):
    """input == -inf."""
    return ops.eq(input, -np.inf)


def isreal(input):
    """True everywhere: tensorgrad has no complex numbers."""
    return Tensor._wrap(np.ones(input.shape, bool))


def sgn(input):
    """sign(input) (for real numbers torch's sgn is sign)."""
    return ops.sign(input)


def positive(input):
    """input itself."""
    return input


def negative(input):
    """-input."""
    return -input


def clamp_min(input, min):
    """clamp(input, min=min)."""
    return clamp(input, min=min)


def clamp_max(input, max):
    """clamp(input, max=max)."""
    return clamp(input, max=max)


AminmaxResult = collections.namedtuple("AminmaxResult", ["min", "max"])


def aminmax(input, *, dim: int | None = None, keepdim: bool = False):
    """(min, max) over dim (or all of input), each splitting the gradient between ties."""
    return AminmaxResult(input.amin(dim, keepdim), input.amax(dim, keepdim)) if dim is not None else \
        AminmaxResult(input.amin(), input.amax())


def rot90(input, k: int = 1, dims=(0, 1)):
    """Rotate by 90 degrees k times in the plane of dims (from the first towards the second)."""
    d0, d1 = (_dim(d, input.ndim, "rot90") for d in dims)
    k %= 4
    if k == 1:
        return transpose(flip(input, (d1,)), d0, d1)
    if k == 2:
        return flip(input, (d0, d1))
    if k == 3:
        return flip(transpose(input, d0, d1), (d1,))
    return input * 1


def atleast_3d(x):
    """x with dims added up to 3: (n,) -> (1, n, 1), (n, m) -> (n, m, 1), as torch."""
    if x.ndim == 0:
        return ops.reshape(x, shape=(1, 1, 1))
    if x.ndim == 1:
        return ops.reshape(x, shape=(1, x.shape[0], 1))
    return ops.reshape(x, shape=x.shape + (1,)) if x.ndim == 2 else x


def dstack(tensors):
    """Concatenate along dim 2, after atleast_3d."""
    return cat([atleast_3d(t) for t in tensors], 2)


def block_diag(*tensors):
    """The matrices on the diagonal of one big matrix, zeros elsewhere."""
    mats = [ops.reshape(t, shape=(1, -1)) if t.ndim < 2 else t for t in tensors]
    total = builtins.sum(m.shape[1] for m in mats)
    rows, left = [], 0
    for m in mats:
        rows.append(pad(m, (left, total - left - m.shape[1])))
        left += m.shape[1]
    return cat(rows, 0)


def kron(input, other):
    """The Kronecker product: every element of input times all of other, as blocks."""
    n = builtins.max(input.ndim, other.ndim)
    a = ops.reshape(input, shape=(1,) * (n - input.ndim) + input.shape)
    b = ops.reshape(other, shape=(1,) * (n - other.ndim) + other.shape)
    spread_a = ops.reshape(a, shape=tuple(v for s in a.shape for v in (s, 1)))          # (a0, 1, a1, 1, ...)
    spread_b = ops.reshape(b, shape=tuple(v for s in b.shape for v in (1, s)))          # (1, b0, 1, b1, ...)
    return ops.reshape(spread_a * spread_b, shape=tuple(p * q for p, q in zip(a.shape, b.shape)))


def inner(input, other):
    """The sum of products over the last dims (input * other for a 0-d operand)."""
    if input.ndim == 0 or other.ndim == 0:
        return input * other
    return tensordot(input, other, dims=([-1], [-1]))


def index_fill(input, dim: int, index, value):
    """input with the slices of dim at index set to value."""
    d = _dim(dim, input.ndim, "index_fill")
    return ops.index_put(input, np.asarray(_data(value), input.dtype),
                         key=(slice(None),) * d + (np.asarray(_data(index)).reshape(-1),), accumulate=False)


def index_copy(input, dim: int, index, source):
    """input with the slices of dim at index replaced by source's."""
    d = _dim(dim, input.ndim, "index_copy")
    return ops.index_put(input, source, key=(slice(None),) * d + (np.asarray(_data(index)).reshape(-1),),
                         accumulate=False)


def _sliding_windows(x, dimension: int, size: int, step: int):
    """Tensor.unfold: every window of size elements, step apart, along dimension, as a new last dim."""
    d = _dim(dimension, x.ndim, "unfold")
    n = (x.shape[d] - size) // step + 1
    if size > x.shape[d] or step <= 0:
        raise ValueError(f"unfold: size {size} (step {step}) does not fit dimension {d} of size {x.shape[d]}")
    starts = np.arange(n) * step
    windows = _along_dim(x, d, starts[:, None] + np.arange(size))           # (..., n, size, ...) at d
    return movedim(windows, d + 1, -1)


# ----------------------------------------------------------------------------
# losses, as torch.nn.functional's (the fused cross-entropy op is used whenever it applies)

def _legacy_reduction(size_average, reduce, reduction: str) -> str:
    """torch's deprecated size_average= / reduce= arguments, mapped onto reduction=."""
    if size_average is None and reduce is None:
        return reduction
    if reduce is False:
        return "none"
    return "sum" if size_average is False else "mean"


def _classes_last(x):
    """(N, C, d1, ...) -> (N * d1 * ..., C)."""
    return ops.reshape(movedim(x, 1, -1), shape=(-1, x.shape[1]))


def _class_weight(weight, ndim: int):
    """weight (C,) shaped to broadcast along dim 1 of an ndim input."""
    return np.reshape(np.asarray(_data(weight)), (1, -1) + (1,) * (ndim - 2))


def nll_loss(input, target, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
             reduction: str = "mean"):
    """-input[n, target[n]] (times weight[target[n]]) over (N, C) or (N, C, d1, ...) log-probabilities;
    'mean' divides by the total weight of the targets that are not ignore_index, as torch."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    t = np.asarray(_data(target))
    if input.ndim == 1:                                       # one example: (C,) and a class
        out = nll_loss(unsqueeze(input, 0), t.reshape(1), weight, None, ignore_index, None, reduction)
        return out.reshape(()) if reduction == "none" else out
    if t.dtype.kind not in "iu":
        raise TypeError(f"nll_loss: target must hold class indices (integers), got {t.dtype}")
    if t.shape != input.shape[:1] + input.shape[2:]:
        raise ValueError(f"nll_loss: expected target of shape {input.shape[:1] + input.shape[2:]} for input "
                         f"{input.shape}, got {t.shape}")
    valid = t != ignore_index
    bad = valid & ((t < 0) | (t >= input.shape[1]))
    if bad.any():
        raise IndexError(f"nll_loss: target {t[bad][0]} is out of range for {input.shape[1]} classes")
    safe = np.where(valid, t, 0)
    w = valid.astype(input.dtype) if weight is None else np.asarray(_data(weight), input.dtype)[safe] * valid
    losses = -squeeze(gather(input, 1, np.expand_dims(safe, 1)), 1) * w
    if reduction == "mean":
        return losses.sum() / w.sum()
    return _reduce(losses, reduction)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                  reduction: str = "mean", label_smoothing: float = 0.0):
    """torch.nn.functional.cross_entropy: logits (N, C), (N, C, d1, ...) or (C,); targets class
    indices or probabilities (input's shape); weight=, label_smoothing=, ignore_index=. Class
    indices without weight or smoothing go through the fused op (its rule is the lecture's
    softmax - onehot); the other variants are composites of log_softmax."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"cross_entropy: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    probabilities = np.asarray(_data(target)).dtype.kind == "f"
    if input.ndim == 1:                                       # one example
        t = unsqueeze(target, 0) if probabilities else np.asarray(_data(target)).reshape(1)
        out = cross_entropy(unsqueeze(input, 0), t, weight, None, ignore_index, None, reduction, label_smoothing)
        return out.reshape(()) if reduction == "none" else out
    n_classes = input.shape[1]
    if probabilities:
        if target.shape != input.shape:
            raise ValueError(f"cross_entropy: probability targets must have the input's shape {input.shape}, "
                             f"got {target.shape}")
        if label_smoothing > 0:
            target = target * (1 - label_smoothing) + label_smoothing / n_classes
        logp = log_softmax(input, 1)
        terms = logp * target if weight is None else logp * target * _class_weight(weight, input.ndim)
        losses = -terms.sum(axis=1)
        if reduction == "mean":
            return losses.sum() / (math.prod(input.shape) // n_classes)
        return _reduce(losses, reduction)
    t = np.asarray(_data(target))
    if weight is None and label_smoothing == 0:                 # the fused op, on (rows, C)
        if input.ndim == 2:
            return _cross_entropy_rows(input, t, ignore_index, reduction)
        if t.shape != input.shape[:1] + input.shape[2:]:
            raise ValueError(f"cross_entropy: expected target of shape {input.shape[:1] + input.shape[2:]} for "
                             f"input {input.shape}, got {t.shape}")
        out = _cross_entropy_rows(_classes_last(input), t.reshape(-1), ignore_index, reduction)
        return ops.reshape(out, shape=t.shape) if reduction == "none" else out
    logp = log_softmax(input, 1)
    nll = nll_loss(logp, t, weight, None, ignore_index, None, reduction)
    if label_smoothing == 0:
        return nll
    ignored = t == ignore_index                                 # torch's formula: eps/C of the uniform target
    smooth = -(logp if weight is None else logp * _class_weight(weight, input.ndim)).sum(axis=1)
    smooth = where(ignored, 0, smooth)
    if reduction == "mean":
        total = (~ignored).sum() if weight is None else np.asarray(_data(weight))[t[~ignored]].sum()
        smooth = smooth.sum() / total
    elif reduction == "sum":
        smooth = smooth.sum()
    return nll * (1 - label_smoothing) + smooth * (label_smoothing / n_classes)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction: str = "mean"):
    """-(t log x + (1 - t) log(1 - x)), each log clamped at -100 as torch (so x = 0 or 1 is finite)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    x = _data(input)
    if ((x < 0) | (x > 1)).any():
        raise ValueError("binary_cross_entropy: all elements of input should be between 0 and 1")
    losses = -(target * _clamped_log(input) + (1 - target) * _clamped_log(1 - input))
    return _reduce(losses if weight is None else losses * weight, reduction)


def _clamped_log(x):
    tiny = x > math.exp(-100)
    return where(tiny, ops.log(where(tiny, x, 1)), -100.0)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction: str = "mean", pos_weight=None):
    """BCE of sigmoid(input), from log-sigmoid (stable for any logit); pos_weight scales the
    positive term per class, as torch."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(f"binary_cross_entropy_with_logits: target size {target.shape} must be the input "
                         f"size {input.shape}")
    log_weight = 1 if pos_weight is None else (pos_weight - 1) * target + 1
    losses = (1 - target) * input - log_weight * logsigmoid(input)
    return _reduce(losses if weight is None else losses * weight, reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction: str = "mean"):
    """The mean (or sum, or none) of |input - target|."""
    return _reduce(ops.abs(input - target), _legacy_reduction(size_average, reduce, reduction))


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction: str = "mean", beta: float = 1.0):
    """0.5 d^2 / beta where |d| < beta, |d| - 0.5 beta elsewhere (l1 for beta = 0)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    d = input - target
    a = ops.abs(d)
    if beta == 0:
        return _reduce(a, reduction)
    return _reduce(where(a < beta, 0.5 * d * d / beta, a - 0.5 * beta), reduction)


def huber_loss(input, target, reduction: str = "mean", delta: float = 1.0):
    """0.5 d^2 where |d| < delta, delta (|d| - 0.5 delta) elsewhere (smooth_l1 times delta)."""
    d = input - target
    a = ops.abs(d)
    return _reduce(where(a < delta, 0.5 * d * d, delta * (a - 0.5 * delta)), reduction)


def kl_div(input, target, size_average=None, reduce=None, reduction: str = "mean", log_target: bool = False):
    """target * (log target - input), input being log-probabilities (0 where target is 0);
    reduction='batchmean' divides the sum by the batch size (the KL divergence proper)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if log_target:
        losses = ops.exp(target) * (target - input)
    else:
        positive = target > 0
        xlogx = where(positive, target * ops.log(where(positive, target, 1)), 0)
        losses = xlogx - target * input
    if reduction == "batchmean":
        return losses.sum() / (input.shape[0] if input.ndim else 1)
    return _reduce(losses, reduction)


# ----------------------------------------------------------------------------
# convolution and pooling. The forward gathers every patch of the input (im2col: one as_strided
# view, no copy); its adjoint, col2im, adds each patch of the gradient back where it came from
# (a scatter-add: overlapping patches add up), the same gather/scatter-add pair as C[X].

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


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """torch.nn.functional.unfold: (N, C, H, W) -> (N, C * KH * KW, L), the patches as columns."""
    kernel, dilation, padding, stride = (_tuple(v, 2, "unfold") for v in (kernel_size, dilation, padding, stride))
    x = pad(input, (padding[1], padding[1], padding[0], padding[0])) if builtins.any(padding) else input
    cols = im2col(x, kernel=kernel, stride=stride, dilation=dilation)               # (N, C, OH, OW, KH, KW)
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
    full = col2im(cols, shape=(n, c) + padded, kernel=kernel, stride=stride, dilation=dilation)
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
    if c != weight.shape[1] * groups or out_channels % groups:
        raise ValueError(f"{name}: input with {c} channels and weight {weight.shape} do not fit groups={groups}")
    cols = im2col(x, kernel=tuple(kernel), stride=stride, dilation=dilation)    # (N, C, *out, *kernel)
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
    return im2col(x, kernel=kernel, stride=stride, dilation=dilation), pairs, kernel, stride, dilation


def _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, nd, name):
    x, added = _batched(input, nd, name)
    windows, pairs, kernel, stride, dilation = _pool_windows(x, kernel_size, stride, padding, dilation, ceil_mode,
                                                             nd, name, -np.inf)
    flat = ops.reshape(windows, shape=windows.shape[:2 + nd] + (-1,))       # (N, C, *out, prod(kernel))
    values, best = max(flat, axis=flat.ndim - 1)        # the gradient goes to the first maximum, as torch
    if added:
        values = squeeze(values, 0)
    if not return_indices:
        return values
    offsets = np.unravel_index(_data(best), kernel)    # flat index into the input's spatial dims, as torch
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
        divisor = _patches(inside[None, None], kernel, stride, dilation).sum(axis=axes)[0, 0]
    out = total / divisor
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
    x, added = _batched(input, 1, "adaptive_avg_pool1d")
    (o,) = _tuple(output_size, 1, "adaptive_avg_pool1d")
    out = ops.einsum(x, _adaptive_matrix(x.shape[2], o, x.dtype), eq="ncl,pl->ncp")
    return squeeze(out, 0) if added else out


def adaptive_avg_pool2d(input, output_size):
    """Averages over output_size windows that tile the input (None keeps a size): an einsum with
    one averaging matrix per spatial dim."""
    x, added = _batched(input, 2, "adaptive_avg_pool2d")
    sizes = (output_size,) * 2 if isinstance(output_size, int) or output_size is None else tuple(output_size)
    oh, ow = (x.shape[2 + i] if s is None else int(s) for i, s in enumerate(sizes))
    out = ops.einsum(x, _adaptive_matrix(x.shape[2], oh, x.dtype), _adaptive_matrix(x.shape[3], ow, x.dtype),
                     eq="nchw,ph,qw->ncpq")
    return squeeze(out, 0) if added else out


# ----------------------------------------------------------------------------
# fused ops: one node each, with the hand-derived backward of the lecture

def _ce_forward(x, t, ignore_index, reduction):
    """The losses, and the softmax (kept for the backward). No shift by a non-finite max: a
    row with a +inf (or all -inf) logit is NaN, as in torch."""
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        m = x.max(axis=1, keepdims=True)
        p = np.exp(x - m)
        s = p.sum(axis=1, keepdims=True)
        valid = t != ignore_index
        losses = np.log(s[:, 0]) + m[:, 0] - x[np.arange(len(t)), np.where(valid, t, 0)]
        p /= s                                           # softmax(x)
        if not valid.all():
            losses = np.where(valid, losses, 0)
        if reduction != "none":
            losses = losses.sum() / x.dtype.type(valid.sum()) if reduction == "mean" else losses.sum()
    return losses, p


def _ce_backward(g, out, x, t, ignore_index, reduction, saved=None):
    """dlogits = (softmax(logits) - onehot(target)) * g / n (exercise 2 of the lecture), from the
    forward's softmax. Rows whose target is ignored get 0 (NaN where the row's softmax is NaN,
    as torch); when every target is ignored the mean is 0/0, and its gradient 0, as torch's."""
    t = _data(t)
    valid = t != ignore_index
    rows = np.arange(len(t))[valid]
    if isinstance(g, Tensor):        # create_graph: the softmax from x, so that it can be differentiated again
        with np.errstate(invalid="ignore", over="ignore"):
            e = ops.exp(x - _data(x).max(axis=1, keepdims=True))
        onehot = np.zeros(x.shape, x.dtype)
        onehot[rows, t[valid]] = 1
        dx = e / e.sum(axis=1, keepdims=True) - onehot
    else:
        dx = saved.copy()            # the saved softmax stays as it is (a second backward may read it)
        dx[rows, t[valid]] -= 1
    if reduction == "none":
        scale = g.reshape(-1, 1) * valid[:, None] if not valid.all() else g.reshape(-1, 1)
    else:
        count = valid.sum() if reduction == "mean" else 1
        scale = g / x.dtype.type(count) if count else g * 0
        if not valid.all():
            scale = scale * valid[:, None]
    return dx * scale, None


_cross_entropy = Op("cross_entropy", _ce_forward, _ce_backward, save=True, adjoint="(softmax - onehot) * g / n")


def _cross_entropy_rows(input, target, ignore_index: int = -100, reduction: str = "mean"):
    """Mean of -log softmax(input)[target] over the rows whose target is not ignore_index."""
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"cross_entropy: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    t = np.asarray(_data(target))
    if input.ndim == 1 and t.ndim == 0:     # one row of logits, one class
        out = _cross_entropy_rows(unsqueeze(input, 0), t.reshape(1), ignore_index, reduction)
        return out.reshape(()) if reduction == "none" else out
    if input.ndim != 2 or t.shape != input.shape[:1]:
        raise ValueError(f"cross_entropy: expected input (N, C) and target (N,), got {input.shape} and {t.shape}")
    if t.dtype.kind not in "iu":
        raise TypeError(f"cross_entropy: target must hold class indices (integers), got {t.dtype}")
    bad = (t != ignore_index) & ((t < 0) | (t >= input.shape[1]))
    if bad.any():
        raise IndexError(f"cross_entropy: target {t[bad][0]} is out of range for {input.shape[1]} classes")
    return _cross_entropy(input, t, ignore_index=ignore_index, reduction=reduction)


# The two batch-norm rules update their own fresh (n, C) arrays in place (`*=`, `+=`):
# every new array of that size costs a pass over memory, and often page faults. On tensors
# (create_graph) `a += b` is `a = a + b`, so the same code records ordinary ops.

def _bn_forward(x, gain, bias, eps, correction, running=None):
    """Normalise over the batch; `running` = (mean, var, momentum) are updated in place on the
    way, as torch's kernel does (the running variance unbiased), from the same sums. Keeps the
    normalised input and 1/std for the backward."""
    n = x.shape[0]
    mean = x.sum(axis=0, keepdims=True) / n
    xhat = x - mean                                            # diff, made xhat in place
    sq = (xhat * xhat).sum(axis=0, keepdims=True)
    if running is not None:
        running_mean, running_var, momentum = running
        running_mean *= 1 - momentum
        running_mean += momentum * mean.reshape(running_mean.shape)
        running_var *= 1 - momentum
        running_var += momentum * (sq / (n - 1)).reshape(running_var.shape)
    var_inv = (sq / (n - correction) + eps) ** -0.5
    xhat *= var_inv
    out = xhat * gain
    out += bias
    return out, (xhat, var_inv)


def _bn_backward(g, out, x, gain, bias, eps, correction, running=None, saved=None):
    """Exercise 3 of the lecture, for any correction (n/(n-1) there, Bessel's):
    dx = gain * var_inv / n * (n g - sum(g) - n / (n - correction) * xhat * sum(g * xhat)),
    computed as gain * var_inv * (g - sum(g) / n - xhat * sum(g * xhat) / (n - correction))."""
    n = x.shape[0]
    if isinstance(g, Tensor):        # create_graph: xhat and 1/std from x, so that they can be differentiated again
        diff = x - x.sum(axis=0, keepdims=True) / n
        var_inv = ((diff * diff).sum(axis=0, keepdims=True) / (n - correction) + eps) ** -0.5
        xhat = diff * var_inv
    else:
        xhat, var_inv = saved
    dgain = (g * xhat).sum(axis=0, keepdims=True)
    dbias = g.sum(axis=0, keepdims=True)
    dx = xhat * (dgain / -(n - correction))
    dx += g
    dx -= dbias / n
    dx *= gain * var_inv
    return dx, dgain, dbias


_batch_norm = Op("batch_norm", _bn_forward, _bn_backward, save=True, adjoint="fused batch norm backward")


def _per_channel(v, c: int, what: str):
    """weight, bias and the running statistics hold one value per channel: no broadcasting
    of a size-1 one (torch raises too). (1, C) is accepted, as the lecture's bngain is."""
    if v is None:
        return None
    size = v.size if isinstance(v, np.ndarray) else math.prod(v.shape)
    if size != c:
        raise RuntimeError(f"batch_norm: {what} should contain {c} elements (one per channel), not {size} "
                           f"(shape {tuple(v.shape)})")
    if len(v.shape) == 2 and v.shape[1] != c:      # (C, 1): the rules broadcast (C,) and (1, C) only
        v = v.reshape(c)
    return v


def batch_norm(input, running_mean=None, running_var=None, weight=None, bias=None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5, correction: int = 0):
    """torch.nn.functional.batch_norm over (N, C). In training, normalise with the batch
    statistics (variance with 1/(n - correction): 0 as torch, 1 as the lecture) and update
    the running ones in place (running_var unbiased, as torch); otherwise use the running ones."""
    if input.ndim != 2:
        raise ValueError(f"batch_norm: expected input of shape (N, C), got {input.shape}")
    c = input.shape[1]
    if (running_mean is None) != (running_var is None):
        raise ValueError("batch_norm: running_mean and running_var must either both be None or neither be None")
    if not training and running_mean is None:
        raise RuntimeError("batch_norm: running_mean and running_var must be given in evaluation mode "
                           "(training=False normalises with them)")
    running_mean = _per_channel(running_mean, c, "running_mean")
    running_var = _per_channel(running_var, c, "running_var")
    weight = np.ones(c, input.dtype) if weight is None else _per_channel(weight, c, "weight")
    bias = np.zeros(c, input.dtype) if bias is None else _per_channel(bias, c, "bias")
    if training:
        n = input.shape[0]
        if n <= 1 or n - correction <= 0:
            raise ValueError(f"batch_norm: expected more than 1 value per channel in training, got a batch of {n}")
        running = None if running_mean is None else (_data(running_mean), _data(running_var), momentum)
        return _batch_norm(input, weight, bias, eps=eps, correction=correction, running=running)
    return (input - running_mean) * (running_var + eps) ** -0.5 * weight + bias


# ----------------------------------------------------------------------------
# layer norm (a fused op, as batch norm) and dropout

from .creation import rand as _rand  # noqa: E402  (creation sits beside this module, on the engine)


def _ln_forward(x, weight, bias, axes, eps):
    """Normalise each sample over its last dims (axes), then scale and shift; saves the mean and
    1/std of each sample (small) for the backward, as torch's kernel does."""
    mean = x.mean(axis=axes, keepdims=True)
    out = x - mean                                             # diff, made the output in place
    rstd = (np.square(out).mean(axis=axes, keepdims=True) + eps) ** -0.5
    out *= rstd
    out *= weight
    out += bias
    return out, (mean, rstd)


def _ln_backward(g, out, x, weight, bias, axes, eps, saved=None):
    """Batch norm's rule turned sideways (the mean over a sample's features, not over the batch),
    with biased variance: dxhat = g * weight,
    dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)); dweight = g * xhat, dbias = g
    (the engine sums those two down to weight's shape)."""
    if isinstance(g, Tensor):
        # create_graph: tensors on the tape, so recompute from x (the saved arrays would be
        # constants to a second derivative) and stay out of place (`a *= b` would rewrite a)
        diff = x - x.mean(axis=axes, keepdims=True)
        rstd = ((diff * diff).mean(axis=axes, keepdims=True) + eps) ** -0.5
        xhat = diff * rstd
        dxhat = g * weight
        dx = dxhat - dxhat.mean(axis=axes, keepdims=True) - xhat * (dxhat * xhat).mean(axis=axes, keepdims=True)
        return dx * rstd, g * xhat, g
    # arrays: the same math, each full-size array made once and then updated in place (a new
    # array of that size costs a pass over memory, and often page faults)
    mean, rstd = saved
    xhat = x - mean
    xhat *= rstd
    dx = g * weight                                            # dxhat, made dx in place
    tmp = dx * xhat
    proj = tmp.mean(axis=axes, keepdims=True)
    dx -= dx.mean(axis=axes, keepdims=True)
    dx -= np.multiply(xhat, proj, out=tmp)
    dx *= rstd
    return dx, np.multiply(g, xhat, out=tmp), g


_layer_norm = Op("layer_norm", _ln_forward, _ln_backward, adjoint="fused layer norm backward", save=True)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps: float = 1e-5):
    """torch.nn.functional.layer_norm (Ba et al. 2016): normalise over the last
    len(normalized_shape) dims with their mean and biased variance, then * weight + bias."""
    shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else tuple(normalized_shape)
    k = len(shape)
    if k == 0 or input.ndim < k or tuple(input.shape[input.ndim - k:]) != shape:
        raise RuntimeError(f"Given normalized_shape={list(shape)}, expected input with shape "
                           f"[*, {', '.join(map(str, shape))}], but got input of size{list(input.shape)}")
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None and tuple(p.shape) != shape:
            raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but got {name} of shape "
                               f"{list(p.shape)} and normalized_shape = {list(shape)}")
    weight = np.ones(shape, input.dtype) if weight is None else weight
    bias = np.zeros(shape, input.dtype) if bias is None else bias
    return _layer_norm(input, weight, bias, axes=tuple(range(input.ndim - k, input.ndim)), eps=eps)


def dropout(input, p: float = 0.5, training: bool = True, inplace: bool = False, generator=None):
    """Zero each element with probability p and scale the rest by 1 / (1 - p), in training;
    the identity otherwise. (inplace is accepted for torch's signature; the result is always new.)"""
    if not 0 <= p <= 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0:
        return input
    keep = _data(_rand(*input.shape, generator=generator, dtype=np.float64)) < 1 - p
    scale = input.dtype.type(0 if p == 1 else 1 / (1 - p))
    return input * (keep * scale)
