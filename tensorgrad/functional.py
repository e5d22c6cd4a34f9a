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
from .ops import Op, cat as _cat
from .conventions import _promote
from .tensor import Tensor, get_default_dtype

MaxResult = collections.namedtuple("MaxResult", ["values", "indices"])  # torch.return_types.max


def _data(x):
    return x._data if isinstance(x, Tensor) else x


def _count(shape, axis) -> int:
    return math.prod(shape) if axis is None else math.prod(shape[a] for a in axis)


def _dim(d: int, ndim: int, op: str) -> int:
    """A dim in [-ndim, ndim) made non-negative, or an error naming the op."""
    n = ndim or 1                       # a 0-d tensor takes dim 0 or -1, as in torch
    if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or not -n <= d < n:
        raise IndexError(f"{op}: dim {d!r} is out of range for a tensor with {ndim} dims")
    return int(d) % n


# ----------------------------------------------------------------------------
# composites behind Tensor's methods (axis already normalized by the method)

def mean(x, axis=None, keepdims=False):
    return ops.sum(x, axis=axis, keepdims=keepdims) / _count(x.shape, axis)


def var(x, axis=None, keepdims=False, correction=1):
    """sum((x - mean)^2) / (n - correction): correction=1 is Bessel's, torch's default."""
    diff = x - mean(x, axis, keepdims=True)
    return ops.sum(diff * diff, axis=axis, keepdims=keepdims) / (_count(x.shape, axis) - correction)


def std(x, axis=None, keepdims=False, correction=1):
    """sqrt(var). Where the variance is 0 the gradient is 0, as in torch, not 0 * inf = NaN."""
    v = var(x, axis, keepdims, correction)
    positive = v > 0
    return sqrt(where(positive, v, 1)) * positive


def amin(x, axis=None, keepdims=False):
    return -ops.amax(-x, axis=axis, keepdims=keepdims)


def max(x, axis=None, keepdims=False):
    """All of x: the max, ties sharing the gradient. Along axis: (values, indices), the
    gradient going to the first maximum only (the one whose index is returned), as torch."""
    if axis is None:
        return ops.amax(x, axis=None, keepdims=keepdims)
    indices = ops.argmax(x, axis=axis, keepdims=True)
    values = gather(x, axis, indices)
    if not keepdims:
        values, indices = squeeze(values, axis), squeeze(indices, axis)
    return MaxResult(values, indices)


def min(x, axis=None, keepdims=False):
    if axis is None:
        return amin(x, None, keepdims)
    values, indices = max(-x, axis, keepdims)
    return MaxResult(-values, indices)


def maximum(x, y):
    return ops.maximum(*_promote(x, y))


def minimum(x, y):
    x, y = _promote(x, y)
    return -ops.maximum(-x, -y)


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
        return ops.div(*_promote(x, y))
    if rounding_mode not in ("trunc", "floor"):
        raise ValueError(f"div: rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}")
    return floor_divide(x, y) if rounding_mode == "floor" else _trunc_divide(*_promote(x, y))


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
    return where(x > 0, x, 0)  # the gradient at 0 is 0, as torch


def clamp(x, min=None, max=None):
    """The gradient passes where min <= x <= max (both ends included, as torch)."""
    if min is None and max is None:
        raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
    if min is not None:
        x = where(x < min, min, x)
    if max is not None:
        x = where(x > max, max, x)
    return x


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
    drop = {d for d in dims if x.shape[d] == 1}
    return ops.reshape(x, shape=tuple(n for d, n in enumerate(x.shape) if d not in drop))


def unsqueeze(x, dim: int):
    d = _dim(dim, x.ndim + 1, 'unsqueeze')
    return ops.reshape(x, shape=x.shape[:d] + (1,) + x.shape[d:])


def flatten(x, start_dim=0, end_dim=-1):
    if x.ndim == 0:
        return ops.reshape(x, shape=(1,))
    s, e = _dim(start_dim, x.ndim, 'flatten'), _dim(end_dim, x.ndim, 'flatten')
    return ops.reshape(x, shape=x.shape[:s] + (-1,) + x.shape[e + 1:])


def transpose(x, dim0: int, dim1: int):
    axes = list(range(x.ndim))
    d0, d1 = _dim(dim0, x.ndim, 'transpose'), _dim(dim1, x.ndim, 'transpose')
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
    if any(t.shape != tensors[0].shape for t in tensors):
        raise ValueError(f"stack: expected tensors of one shape, got {[t.shape for t in tensors]}")
    return _cat(*_promote(*[unsqueeze(t, d) for t in tensors]), axis=d)


# ----------------------------------------------------------------------------
# gathers and scatter-adds, all on the getitem / index_put pair

def _along(index, x, dim: int, op: str) -> tuple:
    """The NumPy key that takes index[i, j, ...] along dim and i, j, ... elsewhere."""
    index = np.asarray(_data(index))
    if index.ndim != x.ndim or index.dtype.kind not in "iu":
        raise IndexError(f"{op}: index must be an integer tensor with as many dims as the input, "
                         f"got {index.dtype} {index.shape} for input {x.shape}")
    dim = _dim(dim, x.ndim, op)
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
        src = ops.getitem(src, key=tuple(slice(n) for n in index.shape))
    return ops.index_put(x, src, key=_along(index, x, dim, "scatter_add"), accumulate=True)


def index_add(x, dim: int, index, source):
    """out = x, then out[..., index[i], ...] += source[..., i, ...] along dim, as torch.index_add."""
    d, index = _dim(dim, x.ndim, "index_add"), np.asarray(_data(index))
    want = x.shape[:d] + index.shape + x.shape[d + 1:]
    if index.ndim != 1 or source.shape != want:
        raise ValueError(f"index_add: expected a 1-D index and a source of shape {want}, "
                         f"got index {index.shape} and source {source.shape}")
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

def _shift(x, d: int):
    """The max over dim d, as a constant (it cancels in the math); a non-finite max
    (a row of -inf) becomes 0, as torch does, so the row gives -inf rather than NaN."""
    m = _data(x).max(axis=d, keepdims=True)
    return np.where(np.isfinite(m), m, 0)               # 0 is a weak scalar: m's dtype stays


def softmax(x, dim: int = -1):
    d = _dim(dim, x.ndim, "softmax")
    e = ops.exp(x - _shift(x, d))
    return e / e.sum(axis=d, keepdims=True)


def log_softmax(x, dim: int = -1):
    d = _dim(dim, x.ndim, "log_softmax")
    z = x - _shift(x, d)
    return z - ops.log(ops.exp(z).sum(axis=d, keepdims=True))


def logsumexp(x, dim: int = -1, keepdim: bool = False):
    d = _dim(dim, x.ndim, "logsumexp")
    m = _shift(x, d)
    out = ops.log(ops.exp(x - m).sum(axis=d, keepdims=True)) + m
    return out if keepdim else squeeze(out, d)


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


_cross_entropy = Op("cross_entropy", _ce_forward, _ce_backward, save=True)


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


_batch_norm = Op("batch_norm", _bn_forward, _bn_backward, save=True)


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
