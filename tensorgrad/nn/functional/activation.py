"""torch.nn.functional's activations. `where(c, f(x), ...)` with an f that can overflow computes f on
where(c, x, 0): otherwise the branch not taken would send 0 * inf = NaN back."""


from ... import ops
from ...functions.math import minimum, where
from ...functions.reduce import softmax
from ...functions.shape import chunk


def leaky_relu(x, negative_slope: float = 0.01, inplace: bool = False):
    """x where x > 0, negative_slope * x elsewhere."""
    return where(x > 0, x, x * negative_slope)


def elu(x, alpha: float = 1.0, inplace: bool = False):
    """x where x > 0, alpha * (exp(x) - 1) elsewhere (Clevert et al. 2016)."""
    neg = x <= 0
    return where(neg, ops.expm1(where(neg, x, 0)) * alpha, x)


def selu(x, inplace: bool = False):
    """scale * elu(x, alpha), the self-normalising constants of Klambauer et al. (2017)."""
    return elu(x, 1.6732632423543772848170429916717) * 1.0507009873554804934193349852946


def celu(x, alpha: float = 1.0, inplace: bool = False):
    """x where x > 0, alpha * (exp(x / alpha) - 1) elsewhere (Barron 2017)."""
    neg = x <= 0
    return where(neg, ops.expm1(where(neg, x, 0) / alpha) * alpha, x)


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
    return x * ops.sigmoid(x)


def softplus(x, beta: float = 1.0, threshold: float = 20.0):
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold, as torch."""
    linear = x * beta > threshold
    return where(linear, x, ops.log1p(ops.exp(where(linear, 0, x) * beta)) / beta)


def mish(x, inplace: bool = False):
    """x * tanh(softplus(x)) (Misra 2019)."""
    return x * ops.tanh(softplus(x))


def softsign(x):
    """x / (1 + |x|)."""
    return x / (1 + ops.abs(x))


def hardtanh(x, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
    """Clamp to [min_val, max_val]; unlike clamp, the gradient is 0 at the two ends, as torch."""
    return where(x <= min_val, min_val, where(x >= max_val, max_val, x))


def relu6(x, inplace: bool = False):
    """min(max(x, 0), 6), the gradient 0 at both ends as torch."""
    return hardtanh(x, 0.0, 6.0)


def hardsigmoid(x, inplace: bool = False):
    """0 below -3, 1 above 3, x / 6 + 1/2 between (the gradient 0 at -3 and 3)."""
    return where(x <= -3, 0, where(x >= 3, 1, (x + 3) / 6))


def hardswish(x, inplace: bool = False):
    """x * hardsigmoid(x) (Howard et al. 2019), with torch's gradients at -3 and 3."""
    return where(x <= -3, 0, where(x < 3, x * (x + 3) / 6, x))


def logsigmoid(x):
    """log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)), which neither overflows nor underflows."""
    return minimum(x, 0) - ops.log1p(ops.exp(-ops.abs(x)))


def glu(input, dim: int = -1):
    """a * sigmoid(b), the two halves of input along dim (Dauphin et al. 2017)."""
    a, b = chunk(input, 2, dim)
    return a * ops.sigmoid(b)


def softmin(input, dim: int = -1):
    """softmax(-input)."""
    return softmax(-input, dim)


def threshold(input, threshold: float, value: float, inplace: bool = False):
    """input where input > threshold, value elsewhere."""
    return where(input > threshold, input, value)


def hardshrink(input, lambd: float = 0.5):
    """input where |input| > lambd, 0 elsewhere."""
    return where(ops.abs(input) > lambd, input, 0)


def softshrink(input, lambd: float = 0.5):
    """input moved lambd towards 0, and 0 within lambd of it."""
    return where(input > lambd, input - lambd, where(input < -lambd, input + lambd, 0))


def tanhshrink(input):
    """input - tanh(input)."""
    return input - ops.tanh(input)


def prelu(input, weight):
    """input where > 0, weight * input elsewhere; weight (C,) per channel (dim 1) or (1,)."""
    w = ops.reshape(weight, shape=(1, -1) + (1,) * (input.ndim - 2)) if input.ndim >= 2 else weight
    return where(input > 0, input, w * input)
