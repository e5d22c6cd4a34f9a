"""Issue 19's ops with backward rules: erf/erfc/erfinv on tensorgrad._special, the fused GELU and
the fused scaled-dot-product attention.

(A draft location: once the op table is split into tensorgrad/ops/, these move there.)
"""
import math

import numpy as np

from .. import _special, ops
from ..ops import Op, _math, exp, where
from ..tensor import Tensor

_SQRT_HALF = 0.7071067811865476              # 1 / sqrt(2)
_INV_SQRT_2PI = 0.3989422804014327           # 1 / sqrt(2 pi)
_TWO_OVER_SQRT_PI = 1.1283791670955126       # 2 / sqrt(pi)

# the error functions: erf's rule is 2/sqrt(pi) exp(-x**2); erfinv's is its inverse's reciprocal
ops.erf.forward = _math(_special.erf)         # the vectorized erf replaces math.erf element by element
erfc = Op("erfc", _math(_special.erfc), lambda g, out, x: g * -_TWO_OVER_SQRT_PI * exp(-x * x),
          "-g * 2/sqrt(pi) * exp(-x**2)", saves="inputs")
erfinv = Op("erfinv", _math(_special.erfinv), lambda g, out, x: g * (0.5 * math.sqrt(math.pi)) * exp(out * out),
            "g * sqrt(pi)/2 * exp(out**2)", saves="out")


# ----------------------------------------------------------------------------
# GELU, x * Phi(x) (Hendrycks & Gimpel 2016): one node, Phi kept from the forward for the backward.
# approximate='tanh': Phi(x) ~ (1 + tanh(k (x + 0.044715 x**3))) / 2, k = sqrt(2 / pi), tanh kept.

_K = 0.7978845608028654                       # sqrt(2 / pi)
_C = 0.044715


def _gelu_forward(x, approximate):
    """out = x * Phi(x); keeps Phi(x) (exact) or the tanh (approximate='tanh')."""
    one = x.dtype.type
    if approximate == "tanh":             # torch's order of operations: k * (x + 0.044715 * x**3)
        t = x * x
        t *= x
        t *= one(_C)
        t += x
        t *= one(_K)
        np.tanh(t, out=t)
        out = t + 1
        out *= x * one(0.5)
        return out, t
    cdf = _special.erf(x * one(_SQRT_HALF))
    cdf += 1
    cdf *= one(0.5)
    return x * cdf, cdf


def _gelu_backward(g, out, x, approximate, saved=None):
    """exact: d/dx x Phi(x) = Phi(x) + x phi(x), phi(x) = exp(-x**2 / 2) / sqrt(2 pi);
    tanh: (1 + t) / 2 + x (1 - t**2) / 2 * k (1 + 3 * 0.044715 x**2)."""
    if isinstance(g, Tensor):      # create_graph: from x with recorded ops, to differentiate again
        if approximate == "tanh":
            t = ops.tanh(_K * (x + _C * x * x * x))
            return g * ((1 + t) * 0.5 + x * (1 - t * t) * (0.5 * _K) * (1 + 3 * _C * x * x))
        cdf = (ops.erf(x * _SQRT_HALF) + 1) * 0.5
        return g * (cdf + x * exp(x * x * -0.5) * _INV_SQRT_2PI)
    one = x.dtype.type
    if approximate == "tanh":
        t = saved                          # torch's: (1 + t) / 2 + x / 2 * (1 - t**2) * k (1 + 3 c x**2)
        dx = x * x
        dx *= one(3 * _C)
        dx += 1
        dx *= one(_K)
        dx *= 1 - t * t
        dx *= x * one(0.5)
        half = t + 1
        half *= one(0.5)
        dx += half
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


gelu = Op("gelu", _gelu_forward, _gelu_backward, "g * (Phi(x) + x * phi(x))", saves="inputs", save=True)


def gelu_fn(input, approximate: str = "none"):
    """torch.nn.functional.gelu: x * Phi(x), Phi the normal CDF (approximate='tanh': its tanh form), one node."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return gelu(input, approximate=approximate)


# ----------------------------------------------------------------------------
# scaled dot-product attention (Vaswani et al. 2017): softmax(q k^T * scale + bias) v as one node.
# The rule: with p the attention weights, d = the dropout's keep / (1 - p_drop) (1 without dropout),
#   dv = (p d)^T g,  dp = (g v^T) d,  ds = p * (dp - rowsum(dp * p)),  dq = scale ds k,  dk = scale ds^T q,
# and an additive (float) mask's gradient is ds. A row with every key masked has weights 0 (torch's
# safe softmax), so its output and gradients are 0.

def _swap(x):
    """x with its last two dims swapped (arrays and tensors)."""
    return x.transpose(-1, -2) if isinstance(x, Tensor) else x.swapaxes(-1, -2)


def _attn_weights(q, k, mask, scale, causal):
    """softmax(q k^T * scale + bias) over the keys, 0 on fully masked rows; works on arrays and tensors."""
    s = (q @ _swap(k)) * scale                                      # (..., L, S)
    L, S = s.shape[-2], s.shape[-1]
    allowed = np.tril(np.ones((L, S), bool)) if causal else None
    if mask is not None and np.asarray(mask._data if isinstance(mask, Tensor) else mask).dtype == np.bool_:
        m = np.asarray(mask._data if isinstance(mask, Tensor) else mask)
        allowed = m if allowed is None else allowed & m
    elif mask is not None:
        s = s + mask
    if allowed is not None:
        s = where(np.broadcast_to(allowed, s.shape), s, -np.inf)
    data = s._data if isinstance(s, Tensor) else s
    top = np.max(data, axis=-1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0)                       # a fully masked row: exp(-inf) = 0 everywhere
    e = exp(s - top)
    total = e.sum(axis=-1, keepdims=True)
    return e / where(total == 0, 1, total)                          # 0 / 1 on fully masked rows


def _sdpa_forward(q, k, v, *mask, scale, causal, keep):
    with np.errstate(invalid="ignore"):
        p = _attn_weights(q, k, mask[0] if mask else None, scale, causal)
    pd = p if keep is None else p * keep
    return pd @ v, p


def _sdpa_backward(g, out, q, k, v, *mask, scale, causal, keep, saved=None):
    if isinstance(g, Tensor):      # create_graph: the weights again, from recorded ops
        p = _attn_weights(q, k, mask[0] if mask else None, scale, causal)
    else:
        p = saved
    pd = p if keep is None else p * keep
    dv = _swap(pd) @ g
    dp = g @ _swap(v)
    if keep is not None:
        dp = dp * keep
    ds = p * (dp - (dp * p).sum(axis=-1, keepdims=True))
    dq = (ds @ k) * scale
    dk = (_swap(ds) @ q) * scale
    if not mask:
        return dq, dk, dv
    is_bool = np.asarray(mask[0]._data if isinstance(mask[0], Tensor) else mask[0]).dtype == np.bool_
    return dq, dk, dv, None if is_bool else ds


sdpa = Op("scaled_dot_product_attention", _sdpa_forward, _sdpa_backward,
          "dv = p^T g, ds = p * (g v^T - rowsum), dq = ds k * scale, dk = ds^T q * scale", save=True)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p: float = 0.0, is_causal: bool = False,
                                 scale: float | None = None, enable_gqa: bool = False, *, generator=None):
    """torch.nn.functional.scaled_dot_product_attention: softmax(q k^T * scale + mask) v, one fused node.
    q (..., L, E), k (..., S, E), v (..., S, Ev), batch dims broadcasting; attn_mask bool (True: attend)
    or float (added), broadcastable to (..., L, S); is_causal: a lower-triangular (L, S) mask; scale
    defaults to 1 / sqrt(E); dropout_p drops attention weights (generator=, tensorgrad's addition, seeds
    it). A query whose every key is masked gets weights 0 (output 0), as torch."""
    from ..creation import rand
    for name, t in (("query", query), ("key", key), ("value", value)):
        if t.ndim < 2:
            raise ValueError(f"scaled_dot_product_attention: {name} must have at least 2 dims (..., L, E), "
                             f"got shape {tuple(t.shape)}")
    if query.shape[-1] != key.shape[-1]:
        raise ValueError(f"scaled_dot_product_attention: query's and key's last dims differ: "
                         f"{tuple(query.shape)} and {tuple(key.shape)}")
    if key.shape[-2] != value.shape[-2]:
        raise ValueError(f"scaled_dot_product_attention: key and value have different lengths: "
                         f"{tuple(key.shape)} and {tuple(value.shape)}")
    if is_causal and attn_mask is not None:
        raise RuntimeError("scaled_dot_product_attention: _scaled_dot_product_attention: Explicit attn_mask should "
                           "not be set when is_causal=True")
    if not 0 <= dropout_p <= 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {dropout_p}")
    if enable_gqa and query.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        if query.shape[-3] % key.shape[-3]:
            raise RuntimeError(f"scaled_dot_product_attention: enable_gqa needs the query heads "
                               f"({query.shape[-3]}) to be a multiple of the key heads ({key.shape[-3]})")
        groups = query.shape[-3] // key.shape[-3]
        key, value = key.repeat_interleave(groups, dim=-3), value.repeat_interleave(groups, dim=-3)
    scale = 1 / math.sqrt(query.shape[-1]) if scale is None else scale
    keep = None
    if dropout_p > 0:
        shape = np.broadcast_shapes(tuple(query.shape[:-1]) + (key.shape[-2],),
                                    tuple(key.shape[:-2]) + (query.shape[-2], key.shape[-2]))
        u = rand(*shape, generator=generator, dtype=np.float64).numpy()
        keep = (u < 1 - dropout_p).astype(query.dtype) * query.dtype.type(0 if dropout_p == 1 else 1 / (1 - dropout_p))
    if attn_mask is None:
        return sdpa(query, key, value, scale=scale, causal=bool(is_causal), keep=keep)
    if not isinstance(attn_mask, Tensor):
        from ..creation import tensor
        attn_mask = tensor(np.asarray(attn_mask))
    if attn_mask.dtype != np.bool_ and attn_mask.dtype != query.dtype:
        raise TypeError(f"scaled_dot_product_attention: attn_mask must be bool or of query's dtype {query.dtype}, "
                        f"got {attn_mask.dtype}")
    return sdpa(query, key, value, attn_mask, scale=scale, causal=bool(is_causal), keep=keep)


def _install() -> None:
    """Until these move into the op table and nn.functional: F.gelu, F.scaled_dot_product_attention,
    tg.erfc / tg.erfinv and their Tensor methods."""
    import tensorgrad
    from .. import functional
    functional.gelu = gelu_fn
    from .normalization import group_norm, rms_norm
    functional.group_norm, functional.rms_norm = group_norm, rms_norm
    from .layers import bilinear
    from .sparse import embedding_bag
    functional.bilinear, functional.embedding_bag = bilinear, embedding_bag
    functional.scaled_dot_product_attention = scaled_dot_product_attention
    for name, fn in (("erfc", erfc), ("erfinv", erfinv)):
        setattr(tensorgrad, name, fn)
        if not hasattr(Tensor, name):
            setattr(Tensor, name, lambda self, fn=fn: fn(self))
            setattr(Tensor, name + "_", lambda self, fn=fn: self._inplace(fn.name + "_", fn))


# ----------------------------------------------------------------------------
# recurrent cells, one node per step: the hidden-to-hidden matmul and the gates together.
# xp = x W_ih^T + b_ih (precomputed for every step), h (and c) the previous state, w = W_hh, b = b_hh.

def _rows(a, k: int, n: int):
    """The k-th of the n equal column blocks of a (N, n * H) (arrays and tensors)."""
    H = a.shape[-1] // n
    return a[..., k * H:(k + 1) * H]


def _lstm_gates(xp, h, c, w, b):
    a = h @ _swap(w) + b + xp                                               # (N, 4H), torch's order of sums
    i, f = ops.sigmoid(_rows(a, 0, 4)), ops.sigmoid(_rows(a, 1, 4))
    g, o = ops.tanh(_rows(a, 2, 4)), ops.sigmoid(_rows(a, 3, 4))
    c2 = f * c + i * g
    tc = ops.tanh(c2)
    return i, f, g, o, c2, tc


def _lstm_forward(xp, h, c, w, b):
    """[h', c'] side by side (N, 2H): c' = f c + i g, h' = o tanh(c')."""
    i, f, g, o, c2, tc = _lstm_gates(xp, h, c, w, b)
    return np.concatenate([o * tc, c2], axis=-1), (i, f, g, o, tc)


def _lstm_backward(gout, out, xp, h, c, w, b, saved=None):
    """dc' = g_c + g_h o (1 - tanh(c')^2); the gates' pre-activations get dc' g i (1 - i),
    dc' c f (1 - f), dc' i (1 - g^2), g_h tanh(c') o (1 - o); then dh = da W, dW = da^T h, db = sum da."""
    if isinstance(gout, Tensor):
        i, f, g, o, _, tc = _lstm_gates(xp, h, c, w, b)
        join = lambda *xs: ops.cat(*xs, axis=xs[0].ndim - 1)                # noqa: E731
    else:
        i, f, g, o, tc = saved
        join = lambda *xs: np.concatenate(xs, axis=-1)                      # noqa: E731
    gh, gc = _rows(gout, 0, 2), _rows(gout, 1, 2)
    dc2 = gc + gh * o * (1 - tc * tc)
    da = join(dc2 * g * i * (1 - i), dc2 * c * f * (1 - f), dc2 * i * (1 - g * g), gh * tc * o * (1 - o))
    return da, da @ w, dc2 * f, _swap(da) @ h, da.sum(axis=0)


lstm_cell = Op("lstm_cell", _lstm_forward, _lstm_backward, "the LSTM step's rule: gates, then matmuls", save=True)


def _gru_gates(xp, h, w, b):
    hg = h @ _swap(w) + b                                                   # (N, 3H)
    r = ops.sigmoid(_rows(hg, 0, 3) + _rows(xp, 0, 3))
    z = ops.sigmoid(_rows(hg, 1, 3) + _rows(xp, 1, 3))
    hn = _rows(hg, 2, 3)
    n = ops.tanh(_rows(xp, 2, 3) + hn * r)
    return r, z, n, hn


def _gru_forward(xp, h, w, b):
    """h' = (h - n) z + n, n = tanh(x_n + r (h W_hn^T + b_hn)) (torch's order of operations)."""
    r, z, n, hn = _gru_gates(xp, h, w, b)
    return (h - n) * z + n, (r, z, n, hn)


def _gru_backward(g, out, xp, h, w, b, saved=None):
    """dn = g (1 - z), dz = g (h - n); the pre-activations: n's dn (1 - n^2), r's that times hn r (1 - r),
    z's dz z (1 - z); the hidden side's n block is n's times r. dh = g z + dhg W, dW = dhg^T h."""
    if isinstance(g, Tensor):
        r, z, n, hn = _gru_gates(xp, h, w, b)
        join = lambda *xs: ops.cat(*xs, axis=xs[0].ndim - 1)                # noqa: E731
    else:
        r, z, n, hn = saved
        join = lambda *xs: np.concatenate(xs, axis=-1)                      # noqa: E731
    dan = g * (1 - z) * (1 - n * n)
    dar = dan * hn * r * (1 - r)
    daz = g * (h - n) * z * (1 - z)
    dhg = join(dar, daz, dan * r)
    return join(dar, daz, dan), g * z + dhg @ w, _swap(dhg) @ h, dhg.sum(axis=0)


gru_cell = Op("gru_cell", _gru_forward, _gru_backward, "the GRU step's rule: gates, then matmuls", save=True)
