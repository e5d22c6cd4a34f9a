"""Attention: scaled_dot_product_attention, one fused node (ops/attention.py)."""
import math

import numpy as np

from ... import ops
from ...engine import Tensor, apply
from ...functions.creation import tensor
from ...functions.random import default_generator


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p: float = 0.0, is_causal: bool = False,
                                 scale: float | None = None, enable_gqa: bool = False, *, generator=None):
    """torch.nn.functional.scaled_dot_product_attention: softmax(q k^T * scale + mask) v, one fused node.
    q (..., L, E), k (..., S, E), v (..., S, Ev), batch dims broadcasting; attn_mask bool (True: attend)
    or float (added), broadcastable to (..., L, S); is_causal: a lower-triangular (L, S) mask; scale
    defaults to 1 / sqrt(E); dropout_p drops attention weights (generator=, tensorgrad's addition, seeds
    it). A query whose every key is masked gets weights 0 (output 0), as torch."""
    if not query.dtype == key.dtype == value.dtype or query.dtype.kind != "f":
        raise TypeError(f"scaled_dot_product_attention: expected query, key and value of one floating dtype, got "
                        f"{query.dtype}, {key.dtype} and {value.dtype}")
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
        raise RuntimeError("scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True "
                           "(as torch)")
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
        keep = apply(ops.dropout_mask, (), dict(shape=shape, p=dropout_p, dtype=query.dtype,      # a draw that
                                                generator=generator or default_generator))._data  # tg.compile replays
    if attn_mask is None:
        return ops.scaled_dot_product_attention(query, key, value, scale=scale, causal=bool(is_causal), keep=keep)
    if not isinstance(attn_mask, Tensor):
        attn_mask = tensor(np.asarray(attn_mask))
    if attn_mask.dtype != np.bool_ and attn_mask.dtype != query.dtype:
        raise TypeError(f"scaled_dot_product_attention: attn_mask must be bool or of query's dtype {query.dtype}, "
                        f"got {attn_mask.dtype}")
    return ops.scaled_dot_product_attention(query, key, value, attn_mask, scale=scale, causal=bool(is_causal),
                                            keep=keep)

