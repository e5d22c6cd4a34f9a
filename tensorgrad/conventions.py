"""torch's conventions that tensorgrad follows where NumPy's differ: dtype promotion by
category, and where the dims of an advanced index go."""
from typing import NamedTuple

import numpy as np

from .tensor import Tensor, _as_array, _dtype, _mode  # noqa: F401  (_as_array, _dtype: part of this API)


# ----------------------------------------------------------------------------
# dtypes: torch's promotion by category

def _category(dtype) -> int:
    return "biufc".index(dtype.kind) if dtype.kind != "u" else 1


def _promote_types(a: np.dtype, b: np.dtype) -> np.dtype:
    """torch.promote_types: the higher category wins with its own width (int64 + float32 is
    float32, where NumPy says float64); within a category, the wider type."""
    ca, cb = _category(a), _category(b)
    return np.promote_types(a, b) if ca == cb else (a if ca > cb else b)


def result_type(*operands) -> np.dtype:
    """torch's rule: tensors with dims decide; 0-d tensors, then Python numbers, only raise the
    category (bool < int < float), not the width: float32 * float64 0-d tensor -> float32,
    int64 * 2.5 -> the default float, uint8 + 300 -> uint8."""
    dims, zero, numbers = [], [], []
    for a in operands:
        if isinstance(a, (Tensor, np.ndarray)):
            d = a._data if isinstance(a, Tensor) else a
            (dims if d.ndim else zero).append(d.dtype)
        elif isinstance(a, (bool, np.bool_)):
            numbers.append(np.dtype(np.bool_))
        elif isinstance(a, (int, np.integer)):
            numbers.append(np.dtype(np.int64))
        elif isinstance(a, (float, np.floating)):
            numbers.append(_mode.default_dtype)
        else:
            raise TypeError(f"unsupported operand of type {type(a).__name__}")
    out = None
    for group in (dims, zero, numbers):
        if not group:
            continue
        t = group[0]
        for d in group[1:]:
            t = _promote_types(t, d)
        if group is numbers and t.kind == "f":
            t = _mode.default_dtype                   # a Python float is the default dtype's
        if out is None or _category(t) > _category(out):
            out = t
    return out


def _promote(*operands) -> tuple:
    """The operands as tensors or arrays of one dtype (the result type): the arithmetic
    operators, where, clamp and cat call this; a Python number becomes a 0-d constant."""
    if len(operands) == 2:                            # the common cases, at little cost
        x, y = operands
        if type(x) is Tensor:
            if type(y) is Tensor and x._data.dtype == y._data.dtype:
                return operands
            if type(y) is float and x._data.dtype.kind == "f":    # a weak scalar, as a ready constant
                return x, Tensor._wrap(np.array(y, x._data.dtype))
        elif type(x) is float and type(y) is Tensor and y._data.dtype.kind == "f":
            return Tensor._wrap(np.array(x, y._data.dtype)), y
    dtype = result_type(*operands)
    return tuple(_cast_to(a, dtype) for a in operands)


def _promote_float(*operands) -> tuple:
    """_promote for ops whose result is a float (x / y, atan2, hypot): integer operands convert
    straight to the float type, so 300 / int8 tensor is 150.0, not a wrapped int8 divided."""
    dtype = result_type(*operands)
    if dtype.kind != "f":
        dtype = _mode.default_dtype
    return tuple(_cast_to(a, dtype) for a in operands)


def _cast_to(a, dtype):
    if isinstance(a, Tensor):
        return a if a._data.dtype == dtype else ops.cast(a, dtype=dtype)
    if isinstance(a, np.ndarray):
        return a if a.dtype == dtype else a.astype(dtype)
    try:
        return np.array(a, dtype=dtype)
    except OverflowError:                              # uint8 + 300 wraps, as in torch
        return np.array(a).astype(dtype)


# ----------------------------------------------------------------------------
# indexing

class TwoStep(NamedTuple):
    """An index torch reads in two steps: the integers first (each drops its dim), then the
    advanced part, so that the new dims land where torch puts them, not where NumPy does."""
    first: tuple
    then: tuple


def _is_int(k) -> bool:
    return isinstance(k, (int, np.integer)) and not isinstance(k, (bool, np.bool_))


def _index_key(key):
    """torch's indexing as a NumPy key: tensors become arrays, uint8 and bool tensors masks,
    and ints mixed with advanced indices are read first (a TwoStep)."""
    if isinstance(key, tuple):
        key = tuple(_index_part(k) for k in key)
    else:
        return _index_part(key)
    advanced = [k for k in key if isinstance(k, np.ndarray) and k.ndim > 0]
    if not advanced or not any(_is_int(k) for k in key):
        return key
    first, then = [], []
    for k in key:
        if _is_int(k):
            first.append(int(k))
        elif isinstance(k, np.ndarray) and k.ndim > 0:
            first.extend([slice(None)] * (k.ndim if k.dtype == np.bool_ else 1))
            then.append(k)
        elif k is None:
            first.append(None)
            then.append(slice(None))
        else:
            first.append(k)
            then.append(k if k is Ellipsis else slice(None))
    return TwoStep(tuple(first), tuple(then))


def _index_part(k):
    if isinstance(k, Tensor):
        k = k._data
    elif isinstance(k, list) and any(isinstance(i, (Tensor, list)) for i in k):
        k = np.array([_index_part(i) for i in k])
    elif isinstance(k, (list, range)):
        k = np.asarray(k)
        if k.size == 0:
            k = k.astype(np.int64)
    if isinstance(k, np.ndarray):
        if k.ndim == 0 and k.dtype.kind in "iu":
            return int(k)                                  # a 0-d integer tensor is an int index
        if k.dtype == np.uint8:
            k = k.astype(np.bool_)                         # torch reads a uint8 index as a mask
        elif k.dtype.kind not in "iub":
            raise IndexError(f"tensors used as indices must be long, int, byte or bool tensors, got {k.dtype}")
    return k


from . import ops  # noqa: E402  (_cast_to records a cast)
