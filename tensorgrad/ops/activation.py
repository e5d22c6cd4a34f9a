"""Fused activations: GELU as one node (forward and its hand-derived rule), which is several times
faster than its composite x * (1 + erf(x / sqrt 2)) / 2 and is tested against it (tests/test_special.py)."""
import numpy as np

from ..engine import Tensor
from .elementwise import exp, tanh
from .op import Op
from .special import erf, erf_gelu32, erf_values

_SQRT_HALF = 0.7071067811865476              # 1 / sqrt(2)
_INV_SQRT_2PI = 0.3989422804014327           # 1 / sqrt(2 pi)

# GELU, x * Phi(x) (Hendrycks & Gimpel 2016): one node, Phi kept from the forward for the backward.
# approximate='tanh': Phi(x) ~ (1 + tanh(k (x + 0.044715 x**3))) / 2, k = sqrt(2 / pi), kept as the
# sigmoid it equals, sigmoid(2 k (x + 0.044715 x**3)).

_K = 0.7978845608028654                       # sqrt(2 / pi)
_C = 0.044715


def _gelu_forward(x, approximate):
    """out = x * Phi(x); keeps Phi(x) (exact, or its tanh approximation). float16 is computed in
    float32, as torch (x**3 would overflow)."""
    if x.dtype == np.float16:
        out, saved = _gelu_forward(x.astype(np.float32), approximate)
        return out.astype(np.float16), saved
    if x.ndim == 0:                        # (the in-place steps below need arrays, not NumPy scalars)
        out, saved = _gelu_forward(x.reshape(1), approximate)
        return out.reshape(()), saved.reshape(())
    one = x.dtype.type
    if approximate == "tanh":
        # (1 + tanh(u)) / 2 = sigmoid(2u), u = k (x + 0.044715 x**3): out = x / (1 + exp(-2u)), with one exp
        # where tanh costs two (NumPy's float32 tanh is 2x its exp); the same function, rounded elsewhere
        s = x * x                          # -2u = x (-2k c x**2 - 2k)
        s *= one(-2 * _K * _C)
        s += one(-2 * _K)
        s *= x
        np.exp(s, out=s)
        s += 1
        np.reciprocal(s, out=s)
        return x * s, s
    cdf = (erf_gelu32 if x.dtype == np.float32 else erf_values)(x * one(_SQRT_HALF))
    cdf += 1
    cdf *= one(0.5)
    return x * cdf, cdf  # -inf * 0 = NaN, as torch


def _gelu_backward(g, out, x, approximate, saved=None):
    """exact: d/dx x Phi(x) = Phi(x) + x phi(x), phi(x) = exp(-x**2 / 2) / sqrt(2 pi);
    tanh: (1 + t) / 2 + x (1 - t**2) / 2 * k (1 + 3 * 0.044715 x**2), t = tanh(u); from the kept
    s = (1 + t) / 2, s + x s (1 - s) 2k (1 + 3 * 0.044715 x**2)."""
    if isinstance(g, Tensor):      # create_graph: from x with recorded ops, to differentiate again
        if approximate == "tanh":
            t = tanh(_K * (x + _C * x * x * x))
            return g * ((1 + t) * 0.5 + x * (1 - t * t) * (0.5 * _K) * (1 + 3 * _C * x * x))
        cdf = (erf(x * _SQRT_HALF) + 1) * 0.5
        return g * (cdf + x * exp(x * x * -0.5) * _INV_SQRT_2PI)
    if x.ndim == 0:
        return _gelu_backward(np.reshape(g, 1), out, x.reshape(1), approximate, saved.reshape(1)).reshape(())
    if x.dtype == np.float16:
        return _gelu_backward(g.astype(np.float32), out, x.astype(np.float32), approximate, saved).astype(np.float16)
    one = x.dtype.type
    if approximate == "tanh":
        s = saved                          # sigmoid(2u): d/dx = s + x s (1 - s) 2k (1 + 3 c x**2)
        dx = x * x                         # 2k (1 + 3c x**2) = 6kc x**2 + 2k
        dx *= one(6 * _K * _C)
        dx += one(2 * _K)
        dx *= x
        ds = 1 - s
        ds *= s
        dx *= ds
        dx += s
        dx *= g
        return dx
    dx = x * x
    dx *= one(-0.5)
    np.exp(dx, out=dx)
    dx *= one(_INV_SQRT_2PI)
    dx *= x
    dx += saved
    dx *= g
    return dx


gelu = Op("gelu", _gelu_forward, _gelu_backward, "g * (Phi(x) + x * phi(x))", saves="inputs", returns_saved=True)
