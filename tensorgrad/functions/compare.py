"""Comparing tensors (no gradients)."""

import numpy as np

from ..engine import Tensor, data_of


def _one_dtype(op: str, input, other):
    """torch's isclose and allclose compare two tensors of one dtype only."""
    a, b = data_of(input), data_of(other)
    if isinstance(input, Tensor) and isinstance(other, Tensor) and a.dtype != b.dtype:
        raise RuntimeError(f"{op}: {a.dtype} did not match {b.dtype} (both tensors must have one dtype, as torch)")
    return a, b


def isclose(input, other, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Tensor:
    """|input - other| <= atol + rtol * |other|, elementwise, as torch.isclose."""
    a, b = _one_dtype("isclose", input, other)
    return Tensor._wrap(np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


def allclose(input, other, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:
    """True if isclose holds everywhere."""
    a, b = _one_dtype("allclose", input, other)
    return bool(np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan).all())


def equal(input, other) -> bool:
    """True if both have the same shape and elements, as torch.equal."""
    a, b = np.asarray(data_of(input)), np.asarray(data_of(other))
    return a.shape == b.shape and bool((a == b).all())


def isin(elements, test_elements, *, assume_unique: bool = False, invert: bool = False) -> Tensor:
    """Whether each element of `elements` is among `test_elements` (either may be a number); bool, no gradient."""
    a, b = np.asarray(data_of(elements)), np.asarray(data_of(test_elements))
    return Tensor._wrap(np.asarray(np.isin(a, b, assume_unique=assume_unique, invert=invert)))
