"""torch.nn.functional's losses (the fused cross-entropy op is used whenever it applies)."""
import builtins
import math

import numpy as np

from ... import ops
from ...dtypes import get_default_dtype, promote_types
from ...engine import Tensor, data_of
from ...ops import index_array
from ...functions.creation import full_like, ones_like, zeros_like
from ...modes import no_grad
from ...functions.index import gather
from ...functions.math import clamp, minimum, relu, where
from ...functions.reduce import log_softmax
from ...functions.shape import movedim, squeeze, unsqueeze
from .activation import logsigmoid, softplus
from .linear import pairwise_distance


def _difference(input, target, op: str, integers: bool = False):
    """input - target as torch's F.mse_loss and friends compute it: broadcast first (so a 0-d target's
    dtype counts in full: float32 input, float64 0-d target -> float64), floats only unless integers."""
    dtype = promote_types(input.dtype, target.dtype) if isinstance(target, Tensor) else input.dtype
    if not integers and dtype.kind != "f":
        raise NotImplementedError(f"{op}: not implemented for {dtype} inputs (as torch)")
    if isinstance(target, Tensor) and target.dtype != input.dtype:
        input, target = input.astype(dtype), target.astype(dtype)
    return input - target


def _weighted(losses, weight, input, reduction: str, op: str, mean_by_weight: bool = True):
    """torch's weight= of mse_loss, l1_loss, huber_loss: input's shape; 'mean' divides by its sum
    (huber_loss: by the number of elements)."""
    if weight is None:
        return _reduce(losses, reduction, op)
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError(f"{op}: Weights and input must have the same size.")
    losses = losses * weight
    if reduction == "mean" and mean_by_weight:
        return losses.sum() / weight.sum()
    return _reduce(losses, reduction, op)


def mse_loss(input, target, size_average=None, reduce=None, reduction: str = "mean", weight=None):
    """The mean (or sum, or none) of (input - target)^2."""
    d = _difference(input, target, "mse_loss")
    return _weighted(d * d, weight, input, _legacy_reduction(size_average, reduce, reduction), "mse_loss")


def _reduce(losses, reduction, op: str = "loss"):
    if reduction == "none":
        return losses
    if reduction not in ("mean", "sum"):
        raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    if reduction == "mean" and losses.dtype.kind != "f":
        raise RuntimeError(f"{op}: the mean of {losses.dtype} losses has no dtype (as torch's mean(), which "
                           "takes floating-point inputs only)")
    return losses.mean() if reduction == "mean" else losses.sum()


def gaussian_nll_loss(input, target, var, full: bool = False, eps: float = 1e-6, reduction: str = "mean"):
    """0.5 (log(max(var, eps)) + (input - target)^2 / max(var, eps)) (+ 0.5 log(2 pi) if full). As
    torch, var is clamped under no_grad (its gradient passes the clamp), a float var is a constant
    one, and a var one dim short (or with one dim of size 1) is shared along that dim."""
    if isinstance(var, float):
        if var < 0:
            raise ValueError("gaussian_nll_loss: var has negative entry/entries")
        var = var * ones_like(input)
    elif bool((data_of(var) < 0).any()):
        raise ValueError("gaussian_nll_loss: var has negative entry/entries")
    if var.shape != input.shape:
        if input.shape[:-1] == var.shape:
            var = unsqueeze(var, -1)
        elif not (input.ndim == var.ndim and builtins.sum(v for n, v in zip(input.shape, var.shape) if n != v) == 1):
            raise ValueError(f"gaussian_nll_loss: var is of incorrect size {tuple(var.shape)} for input "
                             f"{tuple(input.shape)}")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"gaussian_nll_loss: {reduction} is not valid")
    var = var.clone()
    with no_grad():
        var.clamp_(min=eps)         # an integer var cannot hold eps: refused, as torch
    losses = 0.5 * (ops.log(var) + (input - target) ** 2 / var)
    if full:
        losses = losses + 0.5 * math.log(2 * math.pi)
    return _reduce(losses, reduction, "gaussian_nll_loss")


def _same_shape_out(op, input, *others):
    """torch writes these losses into a tensor of input's shape: the others may broadcast to it, not past it."""
    shapes = [tuple(o.shape) for o in others if o is not None and hasattr(o, "shape")]
    full = np.broadcast_shapes(tuple(input.shape), *shapes)
    if full != tuple(input.shape):
        raise RuntimeError(f"{op}: output with shape {list(input.shape)} doesn't match the broadcast shape {list(full)}")


def margin_ranking_loss(input1, input2, target, margin: float = 0.0, reduction: str = "mean"):
    """max(0, -target * (input1 - input2) + margin)."""
    if not input1.ndim == input2.ndim == target.ndim:
        raise RuntimeError(f"margin_ranking_loss: all input tensors should have the same dimension but got sizes: "
                           f"input1: {tuple(input1.shape)}, input2: {tuple(input2.shape)}, target: {tuple(target.shape)}")
    return _reduce(relu(-target * (input1 - input2) + margin), reduction, "margin_ranking_loss")


def soft_margin_loss(input, target, reduction: str = "mean"):
    """log(1 + exp(-target * input)), in input's dtype (torch writes it into a tensor like input)."""
    _same_shape_out("soft_margin_loss", input, target)
    if input.dtype.kind != "f":
        raise RuntimeError(f"soft_margin_loss: result type {get_default_dtype()} can't be cast to the desired "
                           f"output type {input.dtype} (as torch)")
    z = -input * target
    z = z if z.dtype == input.dtype else z.to(input.dtype)
    return _reduce(softplus(z, threshold=math.inf), reduction, "soft_margin_loss")


def hinge_embedding_loss(input, target, margin: float = 1.0, reduction: str = "mean"):
    """max(0, margin - input) where target is not 1, plus input where it is not -1 (torch's formula,
    with margin in input's dtype)."""
    zero = zeros_like(input)
    room = clamp(full_like(input, margin) - input, min=0)
    t = data_of(target)
    return _reduce(where(t != 1, room, zero) + where(t != -1, input, zero), reduction, "hinge_embedding_loss")


def cosine_embedding_loss(input1, input2, target, margin: float = 0.0, reduction: str = "mean"):
    """1 - cos(x1, x2) where target is 1, max(0, cos(x1, x2) - margin) where it is -1, 0 elsewhere;
    cos = x1.x2 / sqrt((|x1|^2 + 1e-12)(|x2|^2 + 1e-12)), as torch."""
    if target.ndim > 1 or not input1.ndim == input2.ndim == target.ndim + 1:
        raise RuntimeError(f"cosine_embedding_loss: {target.ndim}D target tensor expects {target.ndim + 1}D input "
                           f"tensors, but found inputs with sizes {list(input1.shape)} and {list(input2.shape)}")
    d = target.ndim
    prod = (input1 * input2).sum(d)
    denom = (((input1 * input1).sum(d) + 1e-12) * ((input2 * input2).sum(d) + 1e-12)) ** 0.5
    c = prod / denom
    t, zero = data_of(target), zeros_like(c)
    losses = where(t == 1, 1 - c, zero) + where(t == -1, clamp(c - margin, min=0), zero)
    return _reduce(losses, reduction, "cosine_embedding_loss")


def triplet_margin_loss(anchor, positive, negative, margin: float = 1.0, p: float = 2.0, eps: float = 1e-6,
                        swap: bool = False, reduction: str = "mean"):
    """max(d(a, p) - d(a, n) + margin, 0), with the pairwise p-distance."""
    d_pos, d_neg = pairwise_distance(anchor, positive, p, eps), pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    return _reduce(relu(d_pos - d_neg + margin), reduction, "triplet_margin_loss")


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
    return np.reshape(np.asarray(data_of(weight)), (1, -1) + (1,) * (ndim - 2))


def nll_loss(input, target, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
             reduction: str = "mean"):
    """-input[n, target[n]] (times weight[target[n]]) over (N, C) or (N, C, d1, ...) log-probabilities;
    'mean' divides by the total weight of the targets that are not ignore_index, as torch."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if input.dtype.kind != "f":
        raise NotImplementedError(f"nll_loss: not implemented for {input.dtype} inputs (as torch)")
    t = index_array(target)
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
    w = valid.astype(input.dtype) if weight is None else np.asarray(data_of(weight), input.dtype)[safe] * valid
    losses = -squeeze(gather(input, 1, np.expand_dims(safe, 1)), 1) * w
    if reduction == "mean":
        return losses.sum() / w.sum()
    return _reduce(losses, reduction, "nll_loss")


def cross_entropy(input, target, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                  reduction: str = "mean", label_smoothing: float = 0.0):
    """torch.nn.functional.cross_entropy: logits (N, C), (N, C, d1, ...) or (C,); targets class
    indices or probabilities (input's shape); weight=, label_smoothing=, ignore_index=. Class
    indices without weight or smoothing go through the fused op (its rule is the lecture's
    softmax - onehot); the other variants are composites of log_softmax."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"cross_entropy: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    if input.dtype.kind != "f":
        raise NotImplementedError(f"cross_entropy: not implemented for {input.dtype} logits (as torch)")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    probabilities = np.asarray(data_of(target)).dtype.kind == "f"
    if input.ndim == 1:                                       # one example
        t = unsqueeze(target, 0) if probabilities else index_array(target).reshape(1)
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
        return _reduce(losses, reduction, "cross_entropy")
    t = index_array(target)
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
        total = (~ignored).sum() if weight is None else np.asarray(data_of(weight))[t[~ignored]].sum()
        smooth = smooth.sum() / total
    elif reduction == "sum":
        smooth = smooth.sum()
    return nll * (1 - label_smoothing) + smooth * (label_smoothing / n_classes)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction: str = "mean"):
    """-(t log x + (1 - t) log(1 - x)), each log clamped at -100 as torch (so x = 0 or 1 is finite)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    x = data_of(input)
    if ((x < 0) | (x > 1)).any():
        raise ValueError("binary_cross_entropy: all elements of input should be between 0 and 1")
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"binary_cross_entropy: using a target size ({tuple(target.shape)}) that is different to the "
                         f"input size ({tuple(input.shape)}) is not supported; make them the same size")
    _same_shape_out("binary_cross_entropy", input, weight)
    losses = -(target * _clamped_log(input) + (1 - target) * _clamped_log(1 - input))
    return _reduce(losses if weight is None else losses * weight, reduction, "binary_cross_entropy")


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
    _same_shape_out("binary_cross_entropy_with_logits", input, weight, pos_weight)
    log_weight = 1 if pos_weight is None else (pos_weight - 1) * target + 1
    losses = (1 - target) * input - log_weight * logsigmoid(input)
    return _reduce(losses if weight is None else losses * weight, reduction, "binary_cross_entropy_with_logits")


def l1_loss(input, target, size_average=None, reduce=None, reduction: str = "mean", weight=None):
    """The mean (or sum, or none) of |input - target| (integers allowed, bools refused, as torch)."""
    ops.minus("l1_loss", input, target)                # (refuses bools, as torch)
    d = _difference(input, target, "l1_loss", integers=True)
    return _weighted(ops.abs(d), weight, input, _legacy_reduction(size_average, reduce, reduction), "l1_loss")


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction: str = "mean", beta: float = 1.0):
    """0.5 d^2 / beta where |d| < beta, |d| - 0.5 beta elsewhere (l1 for beta = 0)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    d = _difference(input, target, "smooth_l1_loss")
    a = ops.abs(d)
    if beta == 0:
        return _reduce(a, reduction, "smooth_l1_loss")
    return _reduce(where(a < beta, 0.5 * d * d / beta, a - 0.5 * beta), reduction, "smooth_l1_loss")


def huber_loss(input, target, reduction: str = "mean", delta: float = 1.0, weight=None):
    """0.5 d^2 where |d| < delta, delta (|d| - 0.5 delta) elsewhere (smooth_l1 times delta)."""
    d = _difference(input, target, "huber_loss")
    a = ops.abs(d)
    losses = where(a < delta, 0.5 * d * d, delta * (a - 0.5 * delta))
    return _weighted(losses, weight, input, reduction, "huber_loss", mean_by_weight=False)


def kl_div(input, target, size_average=None, reduce=None, reduction: str = "mean", log_target: bool = False):
    """target * (log target - input), input being log-probabilities (0 where target is 0);
    reduction='batchmean' divides the sum by the batch size (the KL divergence proper)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if input.dtype.kind != "f" or target.dtype.kind != "f":
        raise RuntimeError(f"kl_div: Integral inputs not supported (got {input.dtype} and {target.dtype})")
    if log_target:
        losses = ops.exp(target) * (target - input)
    else:
        positive = target > 0
        xlogx = where(positive, target * ops.log(where(positive, target, 1)), 0)
        losses = xlogx - target * input
    if reduction == "batchmean":
        return losses.sum() / (input.shape[0] if input.ndim else 1)
    return _reduce(losses, reduction, "kl_div")


def _cross_entropy_rows(input, target, ignore_index: int = -100, reduction: str = "mean"):
    """Mean of -log softmax(input)[target] over the rows whose target is not ignore_index."""
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"cross_entropy: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    t = np.asarray(data_of(target))                           # (cross_entropy copied it: index_array)
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
    return ops.cross_entropy(input, t, ignore_index=ignore_index, reduction=reduction)
