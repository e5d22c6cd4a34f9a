"""Dropout: of elements, and of whole channels (dropout1d/2d/3d)."""
import warnings

from ... import ops
from ...engine import apply
from ...functions.random import default_generator


def dropout(input, p: float = 0.5, training: bool = True, inplace: bool = False, generator=None):
    """Zero each element with probability p and scale the rest by 1 / (1 - p), in training;
    the identity otherwise. (inplace is accepted for torch's signature; the result is always new.)
    The mask is a draw (ops.dropout_mask), so tg.compile replays it with fresh numbers."""
    if not 0 <= p <= 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0:
        return input
    mask = apply(ops.dropout_mask, (), dict(shape=input.shape, p=p, dtype=input.dtype,
                                            generator=generator or default_generator))
    return input * mask


def _feature_dropout(input, p: float, training: bool, generator, name: str):
    """Zero whole channels: one draw per (sample, channel) of (N, C, *spatial), broadcast over the
    spatial dims (torch's feature_dropout)."""
    if not 0 <= p <= 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0:
        return input
    if input.ndim < 2:
        raise RuntimeError(f"{name}: Feature dropout requires at least 2 dimensions in the input, got {input.ndim}")
    shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)               # (N, C, 1, ...)
    mask = apply(ops.dropout_mask, (), dict(shape=shape, p=p, dtype=input.dtype,
                                            generator=generator or default_generator))
    return input * mask


def _unbatched(input, batched_ndim: int, p, training, generator, name):
    """Channel dropout of an input with or without its batch dim (one fewer)."""
    if input.ndim == batched_ndim or not training or p == 0:
        return _feature_dropout(input, p, training, generator, name)
    return _feature_dropout(input.unsqueeze(0), p, training, generator, name).squeeze(0)


def dropout1d(input, p: float = 0.5, training: bool = True, inplace: bool = False, generator=None):
    """Zero whole channels of (N, C, L) or (C, L) with probability p, scaling the rest by 1 / (1 - p).
    (inplace is accepted for torch's signature; the result is always new.)"""
    if input.ndim not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D input. Note that "
                           "dropout1d exists to provide channel-wise dropout on inputs with 1 spatial dimension, a "
                           "channel dimension, and an optional batch dimension (i.e. 2D or 3D inputs).")
    return _unbatched(input, 3, p, training, generator, "dropout1d")


def dropout2d(input, p: float = 0.5, training: bool = True, inplace: bool = False, generator=None):
    """Zero whole channels of (N, C, H, W) with probability p, scaling the rest by 1 / (1 - p). As torch,
    a 3-D input is read as (N, C, L) (with its warning), not as an unbatched (C, H, W)."""
    if input.ndim not in (3, 4):
        warnings.warn(f"dropout2d: Received a {input.ndim}-D input to dropout2d, which is deprecated and will "
                      "result in an error in a future release. To retain the behavior and silence this warning, "
                      "please use dropout instead. Note that dropout2d exists to provide channel-wise dropout on "
                      "inputs with 2 spatial dimensions, a channel dimension, and an optional batch dimension "
                      "(i.e. 3D or 4D inputs).", stacklevel=2)
    if input.ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout "
                      "behavior is desired - input is interpreted as shape (N, C, L), where C is the channel dim. "
                      "This behavior will change in a future release to interpret the input as one without a batch "
                      "dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise dropout behavior, please "
                      "switch to using dropout1d instead.", stacklevel=2)
    return _feature_dropout(input, p, training, generator, "dropout2d")


def dropout3d(input, p: float = 0.5, training: bool = True, inplace: bool = False, generator=None):
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) with probability p, scaling the rest by 1 / (1 - p)."""
    if input.ndim not in (4, 5):
        warnings.warn(f"dropout3d: Received a {input.ndim}-D input to dropout3d, which is deprecated and will "
                      "result in an error in a future release. To retain the behavior and silence this warning, "
                      "please use dropout instead. Note that dropout3d exists to provide channel-wise dropout on "
                      "inputs with 3 spatial dimensions, a channel dimension, and an optional batch dimension "
                      "(i.e. 4D or 5D inputs).", stacklevel=2)
    return _unbatched(input, 5, p, training, generator, "dropout3d")
