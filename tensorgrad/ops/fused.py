"""Fused ops: one node each with a hand-derived rule, where the composite would be slower: the
cross-entropy and batch norm of the lecture's exercises 2 and 3, and layer norm. Each rule is
written once: on arrays it reads what the forward saved; under create_graph it recomputes
those values from x as tensors, so that they can be differentiated again. Each is tested
against the composite it replaces (tests/test_fused.py)."""
import math

import numpy as np

from ..engine import Tensor, data_of
from .elementwise import exp
from .op import Op
from .reduce import _sum
from ..dims import BLAS_DTYPES, ROWS_BLAS_MIN, matmul_sum, max_kept, ones, sum_kept


def _sums(a, axis: tuple):
    """a.sum(axis, keepdims=True); on arrays as a product with ones where that applies (reduce.matmul_sum)."""
    s = None if isinstance(a, Tensor) else matmul_sum(a, axis, True)
    return a.sum(axis=axis, keepdims=True) if s is None else s


def _means(a, axis: tuple):
    return _sums(a, axis) / math.prod(a.shape[d] for d in axis)


def _row_sums(e, axes):
    """A softmax's row sums (dims.ROWS_BLAS_MIN); half precision summed in float32, as torch."""
    return _sum(e, axes, True) if e.dtype == np.float16 else sum_kept(e, axes, ROWS_BLAS_MIN)


# Many short rows (attention's, 16-32 keys each) shift by the max of all of x: one reduction instead of a
# max per row, and a scalar to subtract. Rows far below it would underflow, so where any row's sum
# is under SUM_FLOOR (a row more than ~45 below the max in float32) the rows' own maxes are used after all.
SUM_FLOOR = {np.dtype(np.float32): 1e-20, np.dtype(np.float64): 1e-200}


def _softmax_parts(x, axes):
    """softmax over axes, with the max it shifted away and the row sums it divided by: the forward of
    F.softmax and of the cross-entropy, which so agree bit for bit (no shift by a non-finite max: a
    row holding +inf, or only -inf, is NaN, as torch)."""
    if (x.size >= ROWS_BLAS_MIN and axes == (x.ndim - 1,) and x.shape[-1] <= 32 and x.dtype in SUM_FLOOR
            and type(x) is np.ndarray):
        top = x.max()
        e = np.subtract(x, top, order="C")                    # (row-major, as torch's softmax, whatever x's layout)
        np.exp(e, out=e)
        s = _row_sums(e, axes)
        if s.min() >= SUM_FLOOR[x.dtype]:                     # (False for a NaN)
            e /= s
            return e, np.full(s.shape, top, x.dtype), s
    m = max_kept(x, axes)
    e = np.asarray(np.subtract(x, m, order="C"))         # (an array also for a 0-d x)
    np.exp(e, out=e)
    s = _row_sums(e, axes)
    e /= s
    return e, m, s


def _ce_forward(x, t, ignore_index, reduction):
    """The losses, log(sum exp(x - m)) + m - x[target], and the softmax (kept for the backward)."""
    p, m, s = _softmax_parts(x, (1,))
    valid = t != ignore_index
    everywhere = valid.all()
    losses = np.log(s[:, 0]) + m[:, 0] - x[np.arange(len(t)), t if everywhere else np.where(valid, t, 0)]
    if not everywhere:
        losses = np.where(valid, losses, 0)
    if reduction != "none":
        n = len(t) if everywhere else valid.sum()
        losses = losses.sum() / x.dtype.type(n) if reduction == "mean" else losses.sum()
    return losses, p


def _softmax_rows(x):
    """softmax over dim 1, on arrays or (under create_graph) on tensors."""
    e = exp(x - data_of(x).max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _ce_backward(g, out, x, t, ignore_index, reduction, saved=None):
    """dlogits = (softmax(logits) - onehot(target)) * g / n (exercise 2 of the lecture), from the
    forward's softmax (recomputed from x under create_graph, so that it can be differentiated
    again). Rows whose target is ignored get 0 (NaN where the row's softmax is NaN, as torch);
    when every target is ignored the mean is 0/0, and its gradient 0, as torch's."""
    t = data_of(t)
    valid = t != ignore_index
    rows = np.arange(len(t))[valid]
    p = _softmax_rows(x) if isinstance(g, Tensor) else saved
    dx = p * 1                       # a copy: the saved softmax stays as it is (a second backward may read it)
    dx[rows, t[valid]] -= 1
    if reduction == "none":
        scale = g.reshape(-1, 1) * valid[:, None] if not valid.all() else g.reshape(-1, 1)
    else:
        count = valid.sum() if reduction == "mean" else 1
        scale = g / x.dtype.type(count) if count else g * 0
        if not valid.all():
            scale = scale * valid[:, None]
    return dx * scale, None


cross_entropy = Op("cross_entropy", _ce_forward, _ce_backward, returns_saved=True, adjoint="(softmax - onehot) * g / n",
                   saves="inputs", reads=((1,), ()))   # (the rule reads the forward's softmax and the targets,
# not the logits: as torch's log_softmax saves its output, the logits may be written after the loss is taken)


def _bn_forward(x, gain, bias, eps, correction, running=None):
    """Normalise over the batch; `running` = (mean, var, momentum) are updated in place on the
    way, as torch's kernel does (the running variance unbiased), from the same sums. Keeps the
    normalised input and 1/std for the backward."""
    n = x.shape[0]
    mean = _sums(x, (0,)) / n
    xhat = x - mean                                            # diff, made xhat in place
    out = xhat * xhat                                          # the squares, then (in place) the output
    sq = _sums(out, (0,))
    if running is not None:
        running_mean, running_var, momentum = running
        running_mean *= 1 - momentum
        running_mean += momentum * mean.reshape(running_mean.shape)
        running_var *= 1 - momentum
        running_var += momentum * (sq / (n - 1)).reshape(running_var.shape)
    var_inv = (sq / (n - correction) + eps) ** -0.5
    xhat *= var_inv
    if out.dtype == np.result_type(xhat, gain):
        np.multiply(xhat, gain, out=out)
    else:
        out = xhat * gain
    out += bias
    return out, (xhat, var_inv)


def _bn_stats(x, eps, correction):
    """The normalised input and 1/std, from x: on tensors under create_graph, so that they can be
    differentiated again (the forward's saved arrays would be constants to a second derivative)."""
    n = x.shape[0]
    diff = x - x.sum(axis=0, keepdims=True) / n
    var_inv = ((diff * diff).sum(axis=0, keepdims=True) / (n - correction) + eps) ** -0.5
    return diff * var_inv, var_inv


def _bn_backward(g, out, x, gain, bias, eps, correction, running=None, saved=None):
    """Exercise 3 of the lecture, for any correction (n/(n-1) there, Bessel's):
    dx = gain * var_inv / n * (n g - sum(g) - n / (n - correction) * xhat * sum(g * xhat)),
    computed as gain * var_inv * (g - sum(g) / n - xhat * sum(g * xhat) / (n - correction))."""
    n = x.shape[0]
    xhat, var_inv = _bn_stats(x, eps, correction) if isinstance(g, Tensor) else saved
    dx = g * xhat                                              # summed into dgain, then (in place) dx
    dgain, dbias = _sums(dx, (0,)), _sums(g, (0,))
    if isinstance(dx, Tensor) or dx.dtype != np.result_type(xhat, dgain):
        dx = xhat * (dgain / -(n - correction))
    else:
        np.multiply(xhat, dgain / -(n - correction), out=dx)
    dx += g
    dx -= dbias / n
    dx *= gain * var_inv
    return dx, dgain, dbias


batch_norm = Op("batch_norm", _bn_forward, _bn_backward, returns_saved=True, adjoint="fused batch norm backward",
                saves="inputs")     # (its rule reads x and what the forward saved, not out: ReLU(inplace=True) may follow)


def _ln_forward(x, weight, bias, axes, eps):
    """Normalise each sample over its last dims (axes), then scale and shift; saves the mean and
    1/std of each sample (small) for the backward, as torch's kernel does."""
    mean = _means(x, axes)
    out = x - mean                                             # diff, made the output in place
    rstd = (_means(np.square(out), axes) + eps) ** -0.5
    out *= rstd
    out *= weight
    out += bias
    return out, (mean, rstd)


def _ln_stats(x, axes, eps):
    """Each sample's mean and 1/std, from x (on tensors under create_graph)."""
    mean = x.mean(axis=axes, keepdims=True)
    diff = x - mean
    return mean, ((diff * diff).mean(axis=axes, keepdims=True) + eps) ** -0.5


def _ln_backward(g, out, x, weight, bias, axes, eps, saved=None):
    """Batch norm's rule turned sideways (the mean over a sample's features, not over the batch),
    with biased variance: dxhat = g * weight,
    dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)); dweight = sum of g * xhat, dbias = sum
    of g, over the samples. On float arrays each sum and mean is a matrix-vector product (the means of
    dxhat and dxhat * xhat are g @ weight and (g * xhat) @ weight): 2x faster than the composite, whose
    full-size gradients of weight and bias the engine would sum down."""
    if isinstance(g, Tensor) or g.dtype not in BLAS_DTYPES or not g.dtype == x.dtype == weight.dtype:
        mean, rstd = _ln_stats(x, axes, eps) if isinstance(g, Tensor) else saved
        xhat = (x - mean) * rstd
        dxhat = g * weight
        proj = _means(dxhat * xhat, axes)
        dx = dxhat - _means(dxhat, axes)                      # a fresh array (or tensor): written in place
        dx -= xhat * proj
        dx *= rstd
        return dx, g * xhat, g
    mean, rstd = saved
    n = weight.size
    rows = x.size // n
    g2, w = g.reshape(rows, n), weight.reshape(n)
    rstd2 = rstd.reshape(rows, 1)
    xhat = x.reshape(rows, n) - mean.reshape(rows, 1)
    xhat *= rstd2
    gx = g2 * xhat
    one = ones(rows, g.dtype)
    dweight, dbias = one @ gx, one @ g2
    proj, m = gx @ w, g2 @ w                                  # n * mean(dxhat * xhat), n * mean(dxhat)
    proj /= n
    m /= n
    dx = np.multiply(g2, w, out=gx)                          # dxhat, in gx's memory (summed already)
    dx -= m[:, None]
    xhat *= proj[:, None]
    dx -= xhat
    dx *= rstd2
    return dx.reshape(x.shape), dweight.reshape(weight.shape), dbias.reshape(weight.shape)


layer_norm = Op("layer_norm", _ln_forward, _ln_backward, adjoint="fused layer norm backward", returns_saved=True,
                saves="inputs")


def _softmax_forward(x, axis):
    """exp(x - max) / sum along axis (the max cancels in the math; a row holding +inf, or only -inf,
    is NaN, as torch)."""
    if x.size == 0:
        return x.copy()
    return _softmax_parts(x, axis if type(axis) is tuple else (axis,))[0]


def _softmax_backward(g, out, x, axis):
    """The Jacobian of softmax, diag(s) - s s^T, applied to g: out * (g - sum(g * out))."""
    if isinstance(g, Tensor):
        return out * (g - (g * out).sum(axis=axis, keepdims=True))
    axes = axis if type(axis) is tuple else (axis,)
    gout = np.asarray(g * out)                           # (an array also for a 0-d x)
    dx = np.subtract(g, _row_sums(gout, axes), out=gout)
    dx *= out
    return dx


softmax = Op("softmax", _softmax_forward, _softmax_backward, "out * (g - sum(g * out))", saves="out")
