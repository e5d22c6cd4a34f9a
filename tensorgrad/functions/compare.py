"""Comparing tensors (no gradients)."""

import numpy as np

from ..engine import Tensor, data_of


def isclose(input, other, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Tensor:
    """|input - other| <= atol + rtol * |other|, elementwise, as torch.isclose."""
    return Tensor._wrap(np.isclose(data_of(input), data_of(other), rtol=rtol, atol=atol, equal_nan=equal_nan))


def allclose(input, other, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:
    """True if isclose holds everywhere."""
    return bool(isclose(input, other, rtol, atol, equal_nan).numpy().all())


def equal(input, other) -> bool:
    """True if both have the same shape and elements, as torch.equal."""
    a, b = np.asarray(data_of(input)), np.asarray(data_of(other))
    return a.shape == b.shape and bool((a == b).all())
