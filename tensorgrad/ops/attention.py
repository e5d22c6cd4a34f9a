"""Fused attention: softmax(q k^T * scale + bias) v as one node (scaled_dot_product_attention), its
rule derived by hand and tested against the composite it replaces (tests/test_attention.py)."""
import numpy as np

from ..engine import Tensor, data_of
from .elementwise import exp, where
from .op import Op

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
    if mask is not None and data_of(mask).dtype == np.bool_:
        allowed = data_of(mask) if allowed is None else allowed & data_of(mask)
    elif mask is not None:
        s = s + mask
    if allowed is not None:
        s = where(np.broadcast_to(allowed, s.shape), s, -np.inf)
    top = np.max(data_of(s), axis=-1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0)                       # a fully masked row: exp(-inf) = 0 everywhere
    e = exp(s - top)
    total = e.sum(axis=-1, keepdims=True)
    return e / where(total == 0, 1, total)                          # 0 / 1 on fully masked rows


def _sdpa_forward(q, k, v, *mask, scale, causal, keep):
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
    return dq, dk, dv, None if data_of(mask[0]).dtype == np.bool_ else ds


scaled_dot_product_attention = Op(
    "scaled_dot_product_attention", _sdpa_forward, _sdpa_backward,
    "dv = p^T g, ds = p * (g v^T - rowsum), dq = ds k * scale, dk = ds^T q * scale", returns_saved=True)
