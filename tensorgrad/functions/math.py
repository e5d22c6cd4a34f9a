"""Elementwise composites of torch.*: each a few lines on the ops of the table, with no rule of its own."""
import math

import numpy as np

from .. import ops
from ..dims import return_type
from ..dtypes import checked_scalar, get_default_dtype
from ..engine import Tensor, data_of
from ..ops import promote, promote_float


def maximum(x, y):
    return ops.maximum(*promote(x, y))


def minimum(x, y):
    return ops.minimum(*promote(x, y))


def where(condition, x=None, y=None):
    """x where condition holds, else y; x and y promoted as torch does (a Python number is weak).
    where(condition) alone: the indices where it holds, one tensor per dim (nonzero(as_tuple=True))."""
    if x is None and y is None:
        found = np.nonzero(np.atleast_1d(np.asarray(data_of(condition))))
        return tuple(Tensor._wrap(i.astype(np.int64)) for i in found)
    if x is None or y is None:
        raise TypeError("where: expected both x and y, or neither (where(condition) gives the indices)")
    if isinstance(x, (Tensor, np.ndarray)) or isinstance(y, (Tensor, np.ndarray)):
        x, y = promote(x, y)
    return ops.where(condition, x, y)


def masked_fill(x, mask, value):
    """x with value where the (bool) mask is True."""
    m = data_of(mask)
    if np.asarray(m).dtype != np.bool_:
        raise TypeError(f"masked_fill: expected a bool mask, got {np.asarray(m).dtype}")
    if isinstance(value, Tensor) and value.ndim:
        raise RuntimeError(f"masked_fill only supports a 0-dimensional value tensor, got shape {value.shape}")
    if isinstance(value, Tensor):      # a 0-d tensor: where's rule gives it its gradient too
        return ops.where(mask, value.astype(x.dtype), x)
    return ops.masked_fill(x, mask, value=checked_scalar(value, x.dtype, "masked_fill"))


def div(x, y, rounding_mode=None):
    """x / y; rounding_mode 'trunc' or 'floor' rounds the quotient (no gradient through the rounding)."""
    if rounding_mode is None:
        return ops.div(*promote_float(x, y))
    if rounding_mode not in ("trunc", "floor"):
        raise ValueError(f"div: rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}")
    return floor_divide(x, y) if rounding_mode == "floor" else _binary(_trunc_divide, x, y, "div")


def pow(x, y):
    """x ** y: a number exponent (x ** 2, x ** -0.5) or a tensor one (elementwise)."""
    if isinstance(y, (bool, np.bool_)) and isinstance(x, Tensor) and x.dtype == np.bool_:
        return x.clone() if y else ops.eq(x, x)          # bool ** True stays bool, as torch
    if isinstance(x, (bool, np.bool_)) and isinstance(y, Tensor) and y.dtype == np.bool_ or \
            isinstance(x, Tensor) and isinstance(y, Tensor) and x.dtype == y.dtype == np.bool_:
        raise NotImplementedError("pow: \"pow\" not implemented for 'Bool' (as torch)")
    if isinstance(y, (int, float, np.number)) and isinstance(x, Tensor):
        if isinstance(y, (float, np.floating)) and x.dtype.kind != "f":
            x = x.astype(get_default_dtype())           # int ** 0.5 is float, as in torch
        c = float(y) if isinstance(y, (float, np.floating)) else int(y)   # a number: never widens x
        if c == 0 and isinstance(y, (bool, np.bool_)):
            c = False                                   # x ** False: torch's rule has no zero-power case for it
        if x.dtype == np.bool_:
            x = x.astype(np.int64)                      # bool ** 2 is int64, as in torch
        if x.dtype.kind in "iu" and c < 0:
            raise RuntimeError("pow: Integers to negative integer powers are not allowed (as torch; a tensor "
                               "exponent is: 1 ** -1 is 1, 2 ** -1 is 0)")
        return ops.pow(x, c=c)
    return ops.pow_tensor(*promote(x, y))


def sqrt(x):
    return pow(x, 0.5)


def relu(x):
    return ops.relu(x)


def clamp(x, min=None, max=None):
    """The gradient passes where min <= x <= max (both ends included, not at NaN, as torch)."""
    if min is None and max is None:
        raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
    if x.dtype == np.bool_ and all(isinstance(b, (bool, np.bool_)) for b in (min, max) if b is not None):
        raise NotImplementedError("clamp: \"clamp_scalar_cpu\" not implemented for 'Bool' (as torch: bool "
                                  "bounds on a bool tensor)")
    if isinstance(min, Tensor) or isinstance(max, Tensor):      # tensor bounds get gradients too
        x = x if min is None else where(x < min, min, x)
        return x if max is None else where(x > max, max, x)
    min, max = (b.item() if isinstance(b, np.generic) else b for b in (min, max))   # weak, as Python numbers
    if x.dtype.kind != "f" and any(isinstance(b, float) for b in (min, max)):
        x = x.astype(get_default_dtype())           # an int clamped to a float bound is float, as torch
    return ops.clamp(x, min=min, max=max)


tanh, sigmoid = ops.tanh, ops.sigmoid


def _binary(op, x, y, name=None):
    """A binary op on (tensor or number, tensor or number), with torch's int/float promotion; torch has
    no bool kernel for the quotients (//, %, fmod)."""
    x, y = promote(x, y)
    if np.asarray(data_of(x)).dtype == np.bool_:
        name = name or op.name
        raise NotImplementedError(f"{name}: \"{name}\" not implemented for 'Bool' (as torch)")
    return op(x, y)


def atan2(input, other):
    """The angle of the point (other, input), in (-pi, pi]: atan2(y, x) as torch."""
    return ops.atan2(*promote_float(input, other))


_TORCH_NAMES = {"bool": "Bool", "uint8": "Byte", "int8": "Char", "int16": "Short", "int32": "Int", "int64": "Long"}


def _no_integers(name, *xs):
    """torch has no kernel of name for integer or bool tensors (when all inputs are such)."""
    dtypes = [np.asarray(data_of(x)).dtype for x in xs]
    if all(d.kind in "biu" for d in dtypes):
        raise NotImplementedError(f"{name}: \"{name}\" not implemented for '{_TORCH_NAMES.get(dtypes[0].name)}' "
                                  "(as torch: integer and bool tensors have no kernel)")


def logaddexp(input, other):
    """log(exp(input) + exp(other)), without overflow (floats only, as torch)."""
    _no_integers("logaddexp", input, other)
    return ops.logaddexp(*promote_float(input, other))


def remainder(input, other):
    """Python's %: the result has the sign of other."""
    return _binary(ops.remainder, input, other)


def fmod(input, other):
    """C's fmod: the result has the sign of input."""
    return _binary(ops.fmod, input, other)


def floor_divide(input, other):
    """floor(input / other), as torch (not differentiable)."""
    return _binary(ops.floor_divide, input, other)


def _trunc_divide(x, y):
    """x / y rounded toward zero (div's rounding_mode='trunc', gradient 0); integers stay integers."""
    if np.asarray(data_of(x)).dtype.kind in "biu" and np.asarray(data_of(y)).dtype.kind in "biu":
        return ops.floor_divide(x - ops.fmod(x, y), y)          # an exact multiple of y: exact
    return ops.trunc(ops.div(x, y))


def frac(x):
    """The fractional part x - trunc(x) (with x's sign, as torch; floats only)."""
    _no_integers("frac", x)
    return x - ops.trunc(x)


def round(x, decimals: int = 0):
    """Half to even, as torch; the gradient is 0."""
    return ops.round(x) if decimals == 0 else ops.round(x, decimals=decimals)


def rsqrt(x):
    """1 / sqrt(x), as torch computes it (rsqrt(-0.0) is -inf, where pow(-0.0, -0.5) is inf)."""
    return 1 / sqrt(x)


def reciprocal(x):
    """1 / x (integers give the default float dtype)."""
    return ops.reciprocal(x)


def square(x):
    """x * x (integers stay integers; a bool gives int64, as torch)."""
    if x.dtype == np.bool_:
        x = x.astype(np.int64)
    return x * x


def lerp(input, end, weight):
    """input + weight * (end - input): floats only, end (and a weight tensor of 1 or more dims) of
    input's dtype, as torch."""
    _no_integers("lerp", input)
    for name, t in (("end", end), ("weight", weight)):
        if isinstance(t, Tensor) and t.dtype != input.dtype and (name == "end" or t.ndim):
            raise RuntimeError(f"lerp: expected dtype {input.dtype} for `{name}` but got dtype {t.dtype}")
    if isinstance(weight, Tensor) and weight.dtype != input.dtype:
        weight = weight.astype(input.dtype)             # a 0-d weight of another dtype: input's
    return input + weight * (end - input)


def nan_to_num(x, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None):
    """NaN -> nan, inf -> posinf, -inf -> neginf (the dtype's largest and smallest by default);
    the gradient passes where x was finite."""
    if x.dtype.kind != "f":
        return x.clone()
    big = np.finfo(x.dtype)
    posinf, neginf = big.max if posinf is None else posinf, big.min if neginf is None else neginf
    return where(ops.isnan(x), nan, where(x == np.inf, posinf, where(x == -np.inf, neginf, x)))


def float_power(x, y):
    """x ** y in float64 (either may be a Python number)."""
    if not isinstance(x, Tensor):
        return pow(float(x), y.astype(np.float64))
    return pow(x.astype(np.float64), y.astype(np.float64) if isinstance(y, Tensor) else y)


def xlogy(x, y):
    """x * log(y), and 0 where x is 0 (unless y is NaN), as torch; d/dx is log(y), also at x = 0.
    Each log sees only the y it is selected for, so no branch sends NaN back. Both are promoted
    first (to a float), either may be a Python number."""
    x, y = (v if isinstance(v, Tensor) else Tensor._wrap(v) for v in promote_float(x, y))
    fine = (y > 0) | ops.isnan(y)                     # log(y) is a number (or a NaN that must show)
    other = where(fine, 1, y)                         # y <= 0: -inf or NaN, wanted only where x != 0
    return where(fine, x * ops.log(where(fine, y, 1)), where(x == 0, 0, x * ops.log(where(x == 0, 1, other))))


def hypot(x, y):
    """sqrt(x^2 + y^2) (floats only, as torch)."""
    for name, t in (("input", x), ("other", y)):
        if not isinstance(t, Tensor):
            raise TypeError(f"hypot(): argument '{name}' must be Tensor, not {type(t).__name__}")
    _no_integers("hypot", x, y)
    x, y = promote_float(x, y)
    return sqrt(x * x + y * y)


def copysign(x, y):
    """|x| with the sign of y (-0.0 counts as negative); a float, as torch. Its gradient is
    sign(x) * (the sign taken) for x and 0 for y, whose tensor is in the graph all the same."""
    if not isinstance(x, Tensor):
        raise TypeError(f"copysign(): input must be a Tensor, not {type(x).__name__}")
    x, y = promote_float(x, y)
    sign = np.where(np.signbit(data_of(y)), -1, 1).astype(x.dtype)
    if isinstance(y, Tensor) and y.requires_grad:
        sign = ops.sign(y) * 0 + sign                   # the same +-1, with y's gradient 0 (as torch)
    return ops.abs(x) * sign


def deg2rad(x):
    """Degrees to radians."""
    return x * (math.pi / 180)


def rad2deg(x):
    """Radians to degrees."""
    return x * (180 / math.pi)


def logit(x, eps: float | None = None):
    """log(x / (1 - x)), x clamped to [eps, 1 - eps] first when eps is given."""
    if eps is not None:
        x = clamp(x, eps, 1 - eps)
    return ops.log(x / (1 - x))


def sinc(x):
    """sin(pi x) / (pi x), and 1 at 0."""
    zero = x == 0
    safe = where(zero, 1, x) * math.pi
    return where(zero, 1, ops.sin(safe) / safe)


def logical_and(input, other):
    """Elementwise and of input != 0 and other != 0."""
    return ops.bitwise_and(ops.ne(input, 0), ops.ne(other, 0))


def logical_or(input, other):
    """Elementwise or of input != 0 and other != 0."""
    return ops.bitwise_or(ops.ne(input, 0), ops.ne(other, 0))


def logical_xor(input, other):
    """Elementwise xor of input != 0 and other != 0."""
    return ops.bitwise_xor(ops.ne(input, 0), ops.ne(other, 0))


def logical_not(input):
    """input == 0."""
    return ops.eq(input, 0)


def fmax(input, other):
    """The larger of the two, ignoring a NaN on one side (a tie's gradient goes to input), as torch."""
    take = (input >= other) | ops.isnan(other)
    return where(take, input, other)


def fmin(input, other):
    """The smaller of the two, ignoring a NaN on one side."""
    take = (input <= other) | ops.isnan(other)
    return where(take, input, other)


def heaviside(input, values):
    """0 where input < 0, values where it is 0, 1 where > 0; two tensors of one dtype. Its result
    requires grad when an input does and its backward refuses, as torch."""
    if not isinstance(values, Tensor):
        raise TypeError(f"heaviside(): argument 'values' must be Tensor, not {type(values).__name__}")
    if input.dtype != values.dtype:
        raise RuntimeError(f"heaviside is not yet implemented for tensors with different dtypes ({input.dtype} "
                           f"and {values.dtype})")
    return ops.heaviside(input, values)


def signbit(input):
    """True where the sign bit is set (-0.0 included)."""
    return Tensor._wrap(np.signbit(data_of(input)))


def isposinf(input):
    """input == inf."""
    return ops.eq(input, np.inf)


def isneginf(input):
    """input == -inf."""
    return ops.eq(input, -np.inf)


def isreal(input):
    """True everywhere: tensorgrad has no complex numbers."""
    return Tensor._wrap(np.ones(input.shape, bool))


def sgn(input):
    """sign(input) (for real numbers torch's sgn is sign)."""
    return ops.sign(input)


def positive(input):
    """input itself (not a bool tensor, as torch)."""
    if input.dtype == np.bool_:
        raise RuntimeError("positive: the `+` operator, on a bool tensor is not supported (as torch)")
    return input


def negative(input):
    """-input."""
    return -input


def clamp_min(input, min):
    """clamp(input, min=min)."""
    return clamp(input, min=min)


def clamp_max(input, max):
    """clamp(input, max=max)."""
    return clamp(input, max=max)


def addcmul(input, tensor1, tensor2, *, value=1):
    """input + value * tensor1 * tensor2 (the optimizers' update spelling), promoted as torch."""
    return input + _times(value, tensor1 * tensor2, "addcmul", input)


def addcdiv(input, tensor1, tensor2, *, value=1):
    """input + value * tensor1 / tensor2; two integer tensors are refused, as torch."""
    if all(isinstance(t, Tensor) and t.dtype.kind in "biu" for t in (tensor1, tensor2)):
        raise RuntimeError("addcdiv: integer division of tensors is no longer supported (as torch); "
                           "use tensor1.div(tensor2, rounding_mode=...) and add")
    return input + _times(value, tensor1 / tensor2, "addcdiv", input)


def _times(value, t, name, input):
    """value * t; for an integer result the value is truncated to an integer first, as torch."""
    if not isinstance(value, (int, float, np.number, np.bool_)):
        raise TypeError(f"{name}: value must be a number, got {type(value).__name__}")
    integral = t.dtype.kind in "biu" and (not isinstance(input, Tensor) or input.dtype.kind in "biu")
    value = int(value) if integral else value
    return t if value == 1 else t * value


def logaddexp2(input, other):
    """log2(2**input + 2**other), without overflow (floats only, as torch)."""
    _no_integers("logaddexp2", input, other)
    x, y = promote_float(input, other)
    return logaddexp(x * math.log(2), y * math.log(2)) / math.log(2)


def ldexp(input, other):
    """input * 2**other, a float result (as torch)."""
    x, e = promote_float(input, other)
    return x * pow(2.0, e) if isinstance(e, Tensor) else x * 2.0 ** e


def _integers(name, x, y):
    x, y = promote(x, y)
    if any(np.asarray(data_of(t)).dtype.kind not in "biu" for t in (x, y)):
        raise RuntimeError(f"{name}: \"{name}\" is implemented for integer tensors only (as torch)")
    return np.asarray(data_of(x)), np.asarray(data_of(y))


def gcd(input, other):
    """The elementwise greatest common divisor of two integer tensors (no gradient)."""
    return Tensor._wrap(np.gcd(*_integers("gcd", input, other)))


def lcm(input, other):
    """The elementwise least common multiple of two integer tensors (no gradient)."""
    return Tensor._wrap(np.lcm(*_integers("lcm", input, other)))


def frexp(input):
    """(mantissa, exponent) with input = mantissa * 2**exponent, |mantissa| in [0.5, 1): floats only; the
    exponent is int32, as torch; no gradient."""
    if input.dtype.kind != "f":
        raise RuntimeError(f"frexp: expected a floating point tensor, got {input.dtype}")
    m, e = np.frexp(input._data)
    return FrexpResult(Tensor._wrap(np.asarray(m)), Tensor._wrap(np.asarray(e, np.int32)))


FrexpResult = return_type("frexp", ["mantissa", "exponent"])


def bitwise_and(input, other): return input & other
def bitwise_or(input, other): return input | other
def bitwise_xor(input, other): return input ^ other
def bitwise_not(input): return ~input
