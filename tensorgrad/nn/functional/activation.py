"""torch.nn.functional's activations. `where(c, f(x), ...)` with an f that can overflow computes f on
where(c, x, 0): otherwise the branch not taken would send 0 * inf = NaN back. As torch, most take
floating inputs only (torch has no integer kernel for them), and inplace=True writes the result into x."""


from ... import ops
from ...functions.math import minimum, where
from ...functions.reduce import softmax
from ...functions.shape import chunk
from ...inplace import inplace as write_into


def _floating(x, name: str):
    if x.dtype.kind != "f":
        raise NotImplementedError(f"{name}: not implemented for {x.dtype} inputs (as torch)")


def _no_bool(x, name: str):
    if x.dtype.kind == "b":
        raise RuntimeError(f"{name}: Bool inputs not supported (as torch)")


def _result(x, inplace: bool, name: str, f):
    """f(x); with inplace=True written into x, which is returned, as torch."""
    return write_into(x, name + "_", f) if inplace else f(x)


def relu(input, inplace: bool = False):
    """max(x, 0), integers staying integers."""
    _no_bool(input, "relu")
    return _result(input, inplace, "relu", ops.relu)


def relu_(input):
    return relu(input, inplace=True)


def leaky_relu(x, negative_slope: float = 0.01, inplace: bool = False):
    """x where x > 0, negative_slope * x elsewhere."""
    _floating(x, "leaky_relu")
    return _result(x, inplace, "leaky_relu", lambda t: where(t > 0, t, t * negative_slope))


def leaky_relu_(x, negative_slope: float = 0.01):
    return leaky_relu(x, negative_slope, inplace=True)


def elu(x, alpha: float = 1.0, inplace: bool = False):
    """x where x > 0, alpha * (exp(x) - 1) elsewhere (Clevert et al. 2016)."""
    _floating(x, "elu")

    def f(t):
        neg = t <= 0
        return where(neg, ops.expm1(where(neg, t, 0)) * alpha, t)
    return _result(x, inplace, "elu", f)


def elu_(x, alpha: float = 1.0):
    return elu(x, alpha, inplace=True)


def selu(x, inplace: bool = False):
    """scale * elu(x, alpha), the self-normalising constants of Klambauer et al. (2017)."""
    _floating(x, "selu")
    return _result(x, inplace, "selu",
                   lambda t: elu(t, 1.6732632423543772848170429916717) * 1.0507009873554804934193349852946)


def selu_(x):
    return selu(x, inplace=True)


def celu(x, alpha: float = 1.0, inplace: bool = False):
    """x where x > 0, alpha * (exp(x / alpha) - 1) elsewhere (Barron 2017)."""
    _floating(x, "celu")

    def f(t):
        neg = t <= 0
        return where(neg, ops.expm1(where(neg, t, 0) / alpha) * alpha, t)
    return _result(x, inplace, "celu", f)


def celu_(x, alpha: float = 1.0):
    return celu(x, alpha, inplace=True)


def gelu(x, approximate: str = "none"):
    """x * Phi(x) with Phi the normal CDF through erf, or its tanh approximation (approximate='tanh'):
    one fused node (ops/activation.py)."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    if x.dtype.kind != "f":
        raise TypeError(f"gelu: expected a floating-point input, got {x.dtype} (as torch, which has no integer GELU)")
    return ops.gelu(x, approximate=approximate)


def silu(x, inplace: bool = False):
    """x * sigmoid(x) (swish)."""
    _floating(x, "silu")
    return _result(x, inplace, "silu", lambda t: t * ops.sigmoid(t))


def softplus(x, beta: float = 1.0, threshold: float = 20.0):
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold, as torch."""
    _floating(x, "softplus")
    linear = x * beta > threshold
    return where(linear, x, ops.log1p(ops.exp(where(linear, 0, x) * beta)) / beta)


def mish(x, inplace: bool = False):
    """x * tanh(softplus(x)) (Misra 2019)."""
    _floating(x, "mish")
    return _result(x, inplace, "mish", lambda t: t * ops.tanh(softplus(t)))


def softsign(x):
    """x / (1 + |x|)."""
    _no_bool(x, "softsign")
    return x / (1 + ops.abs(x))


def hardtanh(x, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
    """Clamp to [min_val, max_val]; unlike clamp, the gradient is 0 at the two ends, as torch. An
    integer input stays integer: the bounds are cast to its dtype (truncated towards 0), as torch."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val cannot be greater than max_val, got {min_val} > {max_val}")
    if x.dtype.kind == "b":
        raise RuntimeError("hardtanh: Bool inputs not supported (as torch)")
    if x.dtype.kind in "iu":
        min_val, max_val = int(min_val), int(max_val)
        if x.dtype.kind == "u" and min_val < 0:
            raise RuntimeError(f"hardtanh: cannot do hardtanh on an unsigned type ({x.dtype}) with negative limits")
    return _result(x, inplace, "hardtanh", lambda t: where(t <= min_val, min_val, where(t >= max_val, max_val, t)))


def hardtanh_(x, min_val: float = -1.0, max_val: float = 1.0):
    return hardtanh(x, min_val, max_val, inplace=True)


def relu6(x, inplace: bool = False):
    """min(max(x, 0), 6), the gradient 0 at both ends as torch."""
    return hardtanh(x, 0.0, 6.0, inplace)


def hardsigmoid(x, inplace: bool = False):
    """0 below -3, 1 above 3, x / 6 + 1/2 between (the gradient 0 at -3 and 3)."""
    _floating(x, "hardsigmoid")
    return _result(x, inplace, "hardsigmoid", lambda t: where(t <= -3, 0, where(t >= 3, 1, (t + 3) / 6)))


def hardswish(x, inplace: bool = False):
    """x * hardsigmoid(x) (Howard et al. 2019), with torch's gradients at -3 and 3."""
    _floating(x, "hardswish")
    return _result(x, inplace, "hardswish", lambda t: where(t <= -3, 0, where(t < 3, t * (t + 3) / 6, t)))


def logsigmoid(x):
    """log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)), which neither overflows nor underflows."""
    _floating(x, "logsigmoid")
    return minimum(x, 0) - ops.log1p(ops.exp(-ops.abs(x)))


def glu(input, dim: int = -1):
    """a * sigmoid(b), the two halves of input along dim (Dauphin et al. 2017)."""
    _floating(input, "glu")
    a, b = chunk(input, 2, dim)
    return a * ops.sigmoid(b)


def softmin(input, dim: int | None = None, _stacklevel: int = 3, dtype=None):
    """softmax(-input) (input cast to dtype first, if given)."""
    return softmax(-(input if dtype is None else input.to(dtype)), dim)


def threshold(input, threshold: float, value: float, inplace: bool = False):
    """input where input > threshold, value elsewhere. An integer input stays integer: threshold and
    value are cast to its dtype (truncated towards 0), as torch."""
    _no_bool(input, "threshold")
    if input.dtype.kind in "iu":
        threshold, value = int(threshold), int(value)
    return _result(input, inplace, "threshold", lambda t: where(t > threshold, t, value))


_threshold = threshold      # threshold_'s argument, named as torch's, hides the function


def threshold_(input, threshold: float, value: float):
    return _threshold(input, threshold, value, inplace=True)


def hardshrink(input, lambd: float = 0.5):
    """input where |input| > lambd, 0 elsewhere."""
    _floating(input, "hardshrink")
    return where(ops.abs(input) > lambd, input, 0)


def softshrink(input, lambd: float = 0.5):
    """input moved lambd towards 0, and 0 within lambd of it."""
    _floating(input, "softshrink")
    return where(input > lambd, input - lambd, where(input < -lambd, input + lambd, 0))


def tanhshrink(input):
    """input - tanh(input)."""
    _no_bool(input, "tanhshrink")
    return input - ops.tanh(input)


def prelu(input, weight):
    """input where > 0, weight * input elsewhere; weight (C,) per channel (dim 1) or (1,)."""
    w = ops.reshape(weight, shape=(1, -1) + (1,) * (input.ndim - 2)) if input.ndim >= 2 else weight
    return where(input > 0, input, w * input)
