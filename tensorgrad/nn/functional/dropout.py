"""Dropout."""

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
