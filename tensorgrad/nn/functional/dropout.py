"""Dropout."""

import numpy as np

from ...engine import data_of
from ...functions.random import rand


def dropout(input, p: float = 0.5, training: bool = True, inplace: bool = False, generator=None):
    """Zero each element with probability p and scale the rest by 1 / (1 - p), in training;
    the identity otherwise. (inplace is accepted for torch's signature; the result is always new.)"""
    if not 0 <= p <= 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0:
        return input
    keep = data_of(rand(*input.shape, generator=generator, dtype=np.float64)) < 1 - p
    scale = input.dtype.type(0 if p == 1 else 1 / (1 - p))
    return input * (keep * scale)
