"""Ops without a gradient: comparisons, tests, argmax, logic (their results never require grad), and
floor division (its gradient is 0, as torch's div(rounding_mode='floor'))."""
import numpy as np

from .op import Op


def integer_quotient(name: str, f):
    """floor_divide, remainder, fmod: on integers a divisor of 0 is an error, and bools have no
    kernel, as torch (on floats the answers are inf or NaN, quietly)."""
    def forward(x, y):
        kind = np.result_type(x, y).kind
        if kind == "b" and np.broadcast(x, y).size:
            raise NotImplementedError(f"{name}: not implemented for bool tensors (as torch)")
        if kind in "iu" and not np.all(y) and np.broadcast(x, y).size:      # (no kernel runs on empty ones)
            raise RuntimeError(f"{name}: ZeroDivisionError (an integer divided by 0, as torch)")
        return f(x, y)
    return forward


def _zero(g, out, x, y):
    return np.zeros(np.shape(g), g.dtype), np.zeros(np.shape(g), g.dtype)

lt = Op("lt", np.less)
le = Op("le", np.less_equal)
gt = Op("gt", np.greater)
ge = Op("ge", np.greater_equal)
eq = Op("eq", np.equal)
ne = Op("ne", np.not_equal)
isnan = Op("isnan", np.isnan)
isinf = Op("isinf", np.isinf)
isfinite = Op("isfinite", np.isfinite)
floor_divide = Op("floor_divide", integer_quotient("floor_divide", np.floor_divide), _zero, "0, 0", saves="")
def _arg(name: str, f):
    """argmax, argmin: a 0-d tensor's one dim is the whole tensor; bools are refused, as torch."""
    def forward(x, axis, keepdims):
        if x.dtype == np.bool_:
            raise RuntimeError(f"{name}(): does not support bool input (as torch)")
        return f(x, axis=axis if x.ndim else None, keepdims=keepdims)   # (the method: NumPy's function wraps it)
    return forward


argmax = Op("argmax", _arg("argmax", np.ndarray.argmax))
argmin = Op("argmin", _arg("argmin", np.ndarray.argmin))
all = Op("all", lambda x, axis, keepdims: np.all(x, axis=axis, keepdims=keepdims))
any = Op("any", lambda x, axis, keepdims: np.any(x, axis=axis, keepdims=keepdims))
argsort = Op("argsort", lambda x, axis: np.argsort(x, axis=axis, kind="stable"))
bitwise_not = Op("bitwise_not", np.invert)           # ~mask: logical not on bools
bitwise_and = Op("bitwise_and", np.bitwise_and)
bitwise_or = Op("bitwise_or", np.bitwise_or)
bitwise_xor = Op("bitwise_xor", np.bitwise_xor)
