"""Normalisation: batch norm and layer norm (fused ops with hand-derived rules), group norm and RMS norm
(composites: layer norm's node over each group; x * rsqrt(mean(x**2) + eps)), normalize."""
import math

import numpy as np

from ... import ops
from ...engine import data_of
from ...functions.math import clamp
from ...functions.reduce import norm


def normalize(input, p: float = 2.0, dim: int = 1, eps: float = 1e-12):
    """input / max(||input||_p over dim, eps)."""
    return input / clamp(norm(input, p, dim, keepdim=True), min=eps)


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
    if training and input.dtype == np.float16:      # statistics in float32, as torch's half kernels
        wide = [None if v is None else v.astype(np.float32) for v in (running_mean, running_var)]
        out = batch_norm(input.astype(np.float32), *wide, weight.astype(np.float32), bias.astype(np.float32),
                         training, momentum, eps, correction)
        for v, w in zip((running_mean, running_var), wide):
            if v is not None:
                data_of(v)[...] = data_of(w)
        return out.astype(np.float16)
    if training:
        n = input.shape[0]
        if n <= 1 or n - correction <= 0:
            raise ValueError(f"batch_norm: expected more than 1 value per channel in training, got a batch of {n}")
        running = None if running_mean is None else (data_of(running_mean), data_of(running_var), momentum)
        return ops.batch_norm(input, weight, bias, eps=eps, correction=correction, running=running)
    return (input - running_mean) * (running_var + eps) ** -0.5 * weight + bias


def layer_norm(input, normalized_shape, weight=None, bias=None, eps: float = 1e-5):
    """torch.nn.functional.layer_norm (Ba et al. 2016): normalise over the last
    len(normalized_shape) dims with their mean and biased variance, then * weight + bias."""
    if input.dtype.kind != "f":
        raise NotImplementedError(f"layer_norm: not implemented for {input.dtype} inputs (as torch)")
    shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else tuple(normalized_shape)
    k = len(shape)
    if k == 0 or input.ndim < k or tuple(input.shape[input.ndim - k:]) != shape:
        raise RuntimeError(f"Given normalized_shape={list(shape)}, expected input with shape "
                           f"[*, {', '.join(map(str, shape))}], but got input of size{list(input.shape)}")
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None and tuple(p.shape) != shape:
            raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but got {name} of shape "
                               f"{list(p.shape)} and normalized_shape = {list(shape)}")
    if input._data.size == 0:                   # nothing to normalise (and NumPy's mean of nothing warns)
        out = input.clone()
        out = out if weight is None else out * weight
        return out if bias is None else out + bias
    weight = np.ones(shape, input.dtype) if weight is None else weight
    bias = np.zeros(shape, input.dtype) if bias is None else bias
    return ops.layer_norm(input, weight, bias, axes=tuple(range(input.ndim - k, input.ndim)), eps=eps)


def _channelwise(v, x):
    """A (C,) weight or bias shaped to broadcast against (N, C, *)."""
    return v.reshape((-1,) + (1,) * (x.ndim - 2))


def group_norm(input, num_groups: int, weight=None, bias=None, eps: float = 1e-5):
    """torch.nn.functional.group_norm (Wu & He 2018): normalise each sample's channels in num_groups
    groups (mean and biased variance over a group's channels and positions), then * weight + bias per
    channel."""
    if input.ndim < 2:
        raise ValueError(f"group_norm: expected an input of shape (N, C, *), got {tuple(input.shape)}")
    N, C = input.shape[0], input.shape[1]
    if C % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by num_groups, but got input of "
                           f"shape {list(input.shape)} and num_groups={num_groups}")
    groups = input.reshape(N, num_groups, C // num_groups * math.prod(input.shape[2:]))   # (N, G, C/G * prod(*))
    out = layer_norm(groups, (groups.shape[-1],), eps=eps).reshape(input.shape)
    if weight is not None:
        out = out * _channelwise(weight, input)
    if bias is not None:
        out = out + _channelwise(bias, input)
    return out


def rms_norm(input, normalized_shape, weight=None, eps: float | None = None):
    """torch.nn.functional.rms_norm (Zhang & Sennrich 2019): x / sqrt(mean(x**2) + eps) over the last
    len(normalized_shape) dims, * weight; eps defaults to the dtype's machine epsilon."""
    if input.dtype.kind != "f":
        raise NotImplementedError(f"layer_norm: not implemented for {input.dtype} inputs (as torch)")
    shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else tuple(normalized_shape)
    k = len(shape)
    if k == 0 or input.ndim < k or tuple(input.shape[input.ndim - k:]) != shape:
        raise RuntimeError(f"Given normalized_shape={list(shape)}, expected input with shape "
                           f"[*, {', '.join(map(str, shape))}], but got input of size{list(input.shape)}")
    eps = float(np.finfo(input.dtype).eps) if eps is None else eps
    dims = tuple(range(input.ndim - k, input.ndim))
    out = input * ((input * input).mean(dim=dims, keepdim=True) + eps).rsqrt()
    return out if weight is None else out * weight
