"""cast: a dtype change, and torch's promotion of mixed operands through it."""
import numpy as np

from ..dtypes import DEFAULT, cast_value, float_result_type, result_type
from ..engine import Tensor
from .op import Op

cast = Op("cast", lambda x, dtype, order="K": x.astype(dtype, order="C" if 0 in x.strides else order),  # "C":
          # contiguous()'s copy, and an expand()ed view's (NumPy's "K" would keep its zero strides' odd order)
          lambda g, out, x, dtype, order="K": cast(g, dtype=x.dtype), "cast g back", saves="")


def cast_to(a, dtype):
    """A tensor, an array or a number as dtype (a tensor through the cast op, so on the tape)."""
    if isinstance(a, Tensor):
        return a if a._data.dtype == dtype else cast(a, dtype=dtype)
    return cast_value(a, dtype)


_NUMBERS = (float, int)
_PAIRS: dict = {}    # (what x is, what y is, the default float) -> their result type: a program meets a few pairs


def _what(a):
    """What promotion reads of an operand: a tensor's dtype and whether it is 0-d, or a number's type."""
    t = type(a)
    if t is bool or t is int or t is float:
        return t
    if isinstance(a, Tensor):                         # (nn.Parameter too)
        a = a._data
    elif t is not np.ndarray:
        return None
    return a.dtype, a.ndim == 0


def promote(*operands) -> tuple:
    """The operands as tensors or arrays of one dtype (the result type): the arithmetic
    operators, where, clamp and cat call this; a Python number becomes a 0-d constant."""
    if len(operands) == 2:                            # the common cases, at little cost
        x, y = operands
        if isinstance(x, Tensor):
            dx = x._data.dtype
            if isinstance(y, Tensor):
                if dx is y._data.dtype or dx == y._data.dtype:
                    return operands
            elif type(y) in _NUMBERS and dx.kind == "f":     # a weak scalar, as a ready constant
                return x, Tensor._wrap(np.array(y, dx))
        elif type(x) in _NUMBERS and isinstance(y, Tensor) and y._data.dtype.kind == "f":
            return Tensor._wrap(np.array(x, y._data.dtype)), y
        key = (_what(x), _what(y), DEFAULT.float)
        dtype = _PAIRS.get(key)
        if dtype is None:
            dtype = result_type(x, y)
            if None not in key:
                _PAIRS[key] = dtype
        return cast_to(x, dtype), cast_to(y, dtype)
    dtype = result_type(*operands)
    return tuple(cast_to(a, dtype) for a in operands)


def minus(op: str, x, y) -> tuple:
    """promote(x, y) for a subtraction (op names it): torch refuses a bool tensor or a bool number on either side."""
    for a in (x, y):
        if a._data.dtype.kind == "b" if isinstance(a, Tensor) else isinstance(a, (bool, np.bool_)):
            raise RuntimeError(f"{op}: subtraction, the `-` operator, with a bool tensor is not supported (as torch); "
                               "use the `^` operator or logical_xor() instead")
    return promote(x, y)


def promote_float(*operands) -> tuple:
    """promote for ops whose result is a float (x / y, atan2, hypot): integer operands convert
    straight to the float type, so 300 / int8 tensor is 150.0, not a wrapped int8 divided."""
    dtype = float_result_type(*operands)
    return tuple(cast_to(a, dtype) for a in operands)
