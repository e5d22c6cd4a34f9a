"""Composite ops, written from the primitives of ops.py, and torch.nn.functional's API.

Composites have no backward rule of their own: autograd goes through their primitives.
Most also work on plain arrays, so backward rules may use them. The two fused ops at the
end (cross-entropy, batch norm) do have hand-derived rules, each tested against the
composite it replaces.
"""
import collections
import math

import numpy as np

from . import ops
from .ops import Op, _kept, cat as _cat, where  # noqa: F401  (where is part of this API)
from .tensor import Tensor, get_default_dtype

MaxResult = collections.namedtuple("MaxResult", ["values", "indices"])  # torch.return_types.max


def _data(x):
    return x.data if isinstance(x, Tensor) else x


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


_var = Op("var", _var_forward, _var_backward)       # one node: torch's rule, not the composite's


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
    return ops.maximum(x, y)


def minimum(x, y):
    return ops.minimum(x, y)


def pow(x, y):
    """x ** y: a number exponent (x ** 2, x ** -0.5) or a tensor one (elementwise)."""
    if isinstance(y, (int, float, np.number)):
        if isinstance(y, (float, np.floating)) and x.dtype.kind != "f":
            x = x.astype(get_default_dtype())           # int ** 0.5 is float, as in torch
        return ops.pow(x, c=y)
    return ops.pow_tensor(x, y)


def sqrt(x):
    return ops.pow(x, c=0.5)


def relu(x):
    return ops.relu(x)


def clamp(x, min=None, max=None):
    """The gradient passes where min <= x <= max (both ends included, not at NaN, as torch)."""
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
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
    return _cat(*tensors, axis=_dim(dim, tensors[0].ndim, 'cat'))


def stack(tensors, dim: int = 0):
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack: expected a non-empty list of tensors")
    d = _dim(dim, tensors[0].ndim + 1, 'stack')
    if any(t.shape != tensors[0].shape for t in tensors):
        raise ValueError(f"stack: expected tensors of one shape, got {[t.shape for t in tensors]}")
    return _cat(*[unsqueeze(t, d) for t in tensors], axis=d)


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

def _axis(x, dim: int, op: str) -> tuple:
    """dim as an axis tuple: () for a 0-d tensor, whose one dim is all of it."""
    return (_dim(dim, x.ndim, op),) if x.ndim else ()


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


_logsumexp = Op("logsumexp", _lse_forward, _lse_backward)


def logsumexp(x, dim: int = -1, keepdim: bool = False):
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
# fused ops: one node each, with the hand-derived backward of the lecture

def _ce_forward(x, t, ignore_index, reduction):
    m = x.max(axis=1, keepdims=True)
    lse = np.log(np.exp(x - m).sum(axis=1)) + m[:, 0]
    valid = t != ignore_index
    losses = lse - x[np.arange(len(t)), np.where(valid, t, 0)]
    if not valid.all():
        losses = np.where(valid, losses, 0)
    if reduction == "none":
        return losses
    return losses.sum() / x.dtype.type(valid.sum()) if reduction == "mean" else losses.sum()


def _ce_backward(g, out, x, t, ignore_index, reduction):
    """dlogits = (softmax(logits) - onehot(target)) * g / n (exercise 2 of the lecture)."""
    t = _data(t)
    valid = t != ignore_index
    rows = np.arange(len(t))[valid]
    onehot = np.zeros(x.shape, x.dtype)
    onehot[rows, t[valid]] = 1
    dx = softmax(x, 1) - onehot
    if not valid.all():
        dx = dx * valid[:, None]
    if reduction == "none":
        return dx * g.reshape(-1, 1), None
    return (dx * g / x.dtype.type(valid.sum()) if reduction == "mean" else dx * g), None


_cross_entropy = Op("cross_entropy", _ce_forward, _ce_backward)


def cross_entropy(input, target, ignore_index: int = -100, reduction: str = "mean"):
    """Mean of -log softmax(input)[target] over the rows whose target is not ignore_index."""
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"cross_entropy: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    t = np.asarray(_data(target))
    if input.ndim == 1 and t.ndim == 0:     # one row of logits, one class
        out = cross_entropy(unsqueeze(input, 0), t.reshape(1), ignore_index, reduction)
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
    way, as torch's kernel does (the running variance unbiased), from the same sums."""
    n = x.shape[0]
    mean = x.sum(axis=0, keepdims=True) / n
    out = x - mean                                             # diff, made the output in place
    sq = (out * out).sum(axis=0, keepdims=True)
    if running is not None:
        running_mean, running_var, momentum = running
        running_mean *= 1 - momentum
        running_mean += momentum * mean.reshape(running_mean.shape)
        running_var *= 1 - momentum
        running_var += momentum * (sq / (n - 1)).reshape(running_var.shape)
    out *= gain * (sq / (n - correction) + eps) ** -0.5
    out += bias
    return out


def _bn_backward(g, out, x, gain, bias, eps, correction, running=None):
    """Exercise 3 of the lecture, for any correction (n/(n-1) there, Bessel's):
    dx = gain * var_inv / n * (n g - sum(g) - n / (n - correction) * xhat * sum(g * xhat)),
    computed as gain * var_inv * (g - sum(g) / n - xhat * sum(g * xhat) / (n - correction))."""
    n = x.shape[0]
    xhat = x - x.sum(axis=0, keepdims=True) / n                # diff, made xhat in place
    var_inv = ((xhat * xhat).sum(axis=0, keepdims=True) / (n - correction) + eps) ** -0.5
    xhat *= var_inv
    dgain = (g * xhat).sum(axis=0, keepdims=True)
    dbias = g.sum(axis=0, keepdims=True)
    dx = xhat * (dgain / -(n - correction))
    dx += g
    dx -= dbias / n
    dx *= gain * var_inv
    return dx, dgain, dbias


_batch_norm = Op("batch_norm", _bn_forward, _bn_backward)


def batch_norm(input, running_mean=None, running_var=None, weight=None, bias=None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5, correction: int = 0):
    """torch.nn.functional.batch_norm over (N, C). In training, normalise with the batch
    statistics (variance with 1/(n - correction): 0 as torch, 1 as the lecture) and update
    the running ones in place (running_var unbiased, as torch); otherwise use the running ones."""
    if input.ndim != 2:
        raise ValueError(f"batch_norm: expected input of shape (N, C), got {input.shape}")
    c = input.shape[1]
    weight = np.ones(c, input.dtype) if weight is None else weight
    bias = np.zeros(c, input.dtype) if bias is None else bias
    if training:
        n = input.shape[0]
        if n <= 1 or n - correction <= 0:
            raise ValueError(f"batch_norm: expected more than 1 value per channel in training, got a batch of {n}")
        running = None if running_mean is None else (_data(running_mean), _data(running_var), momentum)
        return _batch_norm(input, weight, bias, eps=eps, correction=correction, running=running)
    return (input - running_mean) * (running_var + eps) ** -0.5 * weight + bias
