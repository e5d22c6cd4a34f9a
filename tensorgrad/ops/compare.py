"""Ops without a gradient: comparisons, tests, argmax, logic. Their results never require grad."""
import numpy as np

from .op import Op, quiet

lt = Op("lt", np.less)
le = Op("le", np.less_equal)
gt = Op("gt", np.greater)
ge = Op("ge", np.greater_equal)
eq = Op("eq", np.equal)
ne = Op("ne", np.not_equal)
isnan = Op("isnan", np.isnan)
isinf = Op("isinf", np.isinf)
isfinite = Op("isfinite", np.isfinite)
floor_divide = Op("floor_divide", quiet(np.floor_divide))
# a 0-d tensor's one dim is the whole tensor
argmax = Op("argmax", lambda x, axis, keepdims: np.argmax(x, axis=axis if x.ndim else None, keepdims=keepdims))
argmin = Op("argmin", lambda x, axis, keepdims: np.argmin(x, axis=axis if x.ndim else None, keepdims=keepdims))
all = Op("all", lambda x, axis, keepdims: np.all(x, axis=axis, keepdims=keepdims))
any = Op("any", lambda x, axis, keepdims: np.any(x, axis=axis, keepdims=keepdims))
argsort = Op("argsort", lambda x, axis: np.argsort(x, axis=axis, kind="stable"))
bitwise_not = Op("bitwise_not", np.invert)           # ~mask: logical not on bools
bitwise_and = Op("bitwise_and", np.bitwise_and)
bitwise_or = Op("bitwise_or", np.bitwise_or)
bitwise_xor = Op("bitwise_xor", np.bitwise_xor)
