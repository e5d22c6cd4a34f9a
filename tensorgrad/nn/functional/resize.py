"""Resizing, as torch.nn.functional.interpolate and its older upsample spellings.

Every mode is separable: one spatial dim at a time, the output gathers input rows at indices
computed here in NumPy (nearest), or blends two gathered rows with weights (linear), so the
engine derives the backward (index_select's is a scatter-add). The index arithmetic follows
torch's CPU kernels: nearest in float32, linear in the input's precision."""
import math
import warnings

import numpy as np

from ...functions import tensor
from ...functions.index import index_select
from .conv import adaptive_avg_pool1d, adaptive_avg_pool2d

_LINEAR = {"linear": 3, "bilinear": 4, "trilinear": 5}    # mode -> the input's ndim it needs


def _per_dim(value, dim: int, what: str, input):
    if isinstance(value, (list, tuple)):
        if len(value) != dim:
            raise ValueError(f"interpolate: input with spatial dimensions of {list(input.shape[2:])} needs {dim} "
                             f"{what}(s), got {what} {list(value)}")
        return list(value)
    return [value] * dim


def _nearest_index(n_in: int, n_out: int, scale, exact: bool) -> np.ndarray:
    """src = floor(dst * s) (nearest-exact: floor((dst + 0.5) * s)), s = 1 / scale_factor or n_in / n_out,
    in float32 as torch's kernel."""
    s = np.float32(1.0 / scale) if scale is not None and scale > 0 else np.float32(n_in) / np.float32(n_out)
    dst = np.arange(n_out, dtype=np.float32) + (np.float32(0.5) if exact else np.float32(0))
    return np.minimum(np.floor(dst * s).astype(np.int64), n_in - 1)


def _linear_weights(n_in: int, n_out: int, scale, align_corners: bool, dtype):
    """(i0, i1, w0, w1): output j = w0[j] x[i0[j]] + w1[j] x[i1[j]]. Source coordinate
    j * (n_in - 1) / (n_out - 1) with align_corners, else (j + 0.5) * s - 0.5 clamped at 0."""
    t = np.dtype(dtype).type
    if align_corners:
        s = t(n_in - 1) / t(n_out - 1) if n_out > 1 else t(0)
        src = np.arange(n_out, dtype=dtype) * s
    else:
        s = t(1.0 / scale) if scale is not None and scale > 0 else t(n_in) / t(n_out)
        src = np.maximum((np.arange(n_out, dtype=dtype) + t(0.5)) * s - t(0.5), t(0))
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    i1 = i0 + (i0 < n_in - 1)
    w1 = np.clip(src - i0, 0, 1).astype(dtype)
    return i0, i1, (t(1) - w1).astype(dtype), w1


def interpolate(input, size=None, scale_factor=None, mode: str = "nearest", align_corners: bool | None = None,
                recompute_scale_factor: bool | None = None, antialias: bool = False):
    """Resize the spatial dims of (N, C, *spatial) to size (or spatial * scale_factor, floored), by
    mode 'nearest', 'nearest-exact', 'linear' (3-D), 'bilinear' (4-D), 'trilinear' (5-D) or 'area'."""
    if mode in ("nearest", "nearest-exact", "area"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating modes: "
                             "linear | bilinear | bicubic | trilinear")
    else:
        align_corners = bool(align_corners)
    if input.ndim not in (3, 4, 5):
        raise NotImplementedError(f"interpolate: only 3D, 4D and 5D input tensors are supported (got "
                                  f"{input.ndim}D) for the modes: nearest | linear | bilinear | trilinear | area | "
                                  f"nearest-exact (got {mode})")
    if mode in ("bicubic", "lanczos"):
        raise NotImplementedError(f"interpolate: mode {mode!r} is not supported by tensorgrad "
                                  "(tensorgrad/nn/functional/resize.py); use 'bilinear' or 'nearest'")
    if mode not in ("nearest", "nearest-exact", "area") and mode not in _LINEAR:
        raise NotImplementedError(f"interpolate: unknown mode {mode!r}: nearest | linear | bilinear | trilinear | "
                                  "area | nearest-exact")
    if mode in _LINEAR and input.ndim != _LINEAR[mode]:
        raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs {_LINEAR[mode]}D input")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported by tensorgrad")
    dim, spatial = input.ndim - 2, tuple(input.shape[2:])
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is None and scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    if size is not None:
        if recompute_scale_factor:
            raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
        out_size, scales = [int(s) for s in _per_dim(size, dim, "size", input)], [None] * dim
    else:
        scales = [float(s) for s in _per_dim(scale_factor, dim, "scale_factor", input)]
        out_size = [math.floor(n * s) for n, s in zip(spatial, scales)]
        if recompute_scale_factor or mode == "area":
            scales = [None] * dim
    if any(n <= 0 for n in out_size):
        raise RuntimeError(f"interpolate: input spatial size {list(spatial)} gives an empty output {out_size}")
    if mode == "area":
        if dim == 3:
            raise NotImplementedError("interpolate: mode 'area' on 5-D inputs is not supported by tensorgrad")
        return (adaptive_avg_pool1d if dim == 1 else adaptive_avg_pool2d)(input, out_size if dim == 2 else out_size[0])
    if mode in _LINEAR and input.dtype.kind != "f":
        raise NotImplementedError(f"interpolate: mode {mode!r} is not implemented for {input.dtype} inputs (as torch)")
    x = input
    for d in reversed(range(dim)):         # the last dim first, as torch's kernel blends
        axis, n_in, n_out = 2 + d, spatial[d], out_size[d]
        if mode in _LINEAR:
            i0, i1, w0, w1 = _linear_weights(n_in, n_out, scales[d], align_corners, input.dtype)
            along = (-1,) + (1,) * (dim - 1 - d)                  # the weights broadcast along this axis
            x = index_select(x, axis, tensor(i0)) * tensor(w0.reshape(along)) \
                + index_select(x, axis, tensor(i1)) * tensor(w1.reshape(along))
        elif n_in != n_out:
            x = index_select(x, axis, tensor(_nearest_index(n_in, n_out, scales[d], mode == "nearest-exact")))
    return x


def upsample(input, size=None, scale_factor=None, mode: str = "nearest", align_corners: bool | None = None):
    """interpolate, under its deprecated name (with torch's warning)."""
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """interpolate(mode='nearest'), deprecated as in torch."""
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use `nn.functional.interpolate` instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """interpolate(mode='bilinear', align_corners=True), deprecated as in torch."""
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use `nn.functional.interpolate` instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)
