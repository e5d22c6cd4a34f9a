"""Multi-head attention (Vaswani et al. 2017, section 3.2.2), as torch.nn.MultiheadAttention.

Parameters and state-dict keys are torch's: in_proj_weight (3 * embed_dim, embed_dim) holding the
query, key and value projections stacked (or q_proj_weight, k_proj_weight, v_proj_weight when kdim or
vdim differ from embed_dim), in_proj_bias (3 * embed_dim,), and out_proj (a Linear).
"""
import math

import numpy as np

from . import functional as F
from ..engine import Tensor
from ..functions import Generator, tensor, zeros
from . import init
from .layers import Linear
from .modules import Module, Parameter


def _float_mask(mask, dtype, what: str):
    """torch's canonical mask: a bool mask (True: masked out) becomes -inf where True, 0 elsewhere;
    a float one is added as it is."""
    if mask is None:
        return None
    mask = mask if isinstance(mask, Tensor) else tensor(np.asarray(mask))
    if mask.dtype == np.bool_:
        return tensor(np.where(mask.numpy(), -np.inf, 0.0).astype(dtype))
    if mask.dtype.kind != "f":
        raise TypeError(f"MultiheadAttention: only bool and floating types of {what} are supported, got {mask.dtype}")
    return mask


class NonDynamicallyQuantizableLinear(Linear):
    """MultiheadAttention's out_proj: a Linear under torch's own class name (which its repr shows)."""


class MultiheadAttention(Module):
    """Attention over num_heads heads of embed_dim // num_heads features each:
    out_proj(concat_h softmax(q_h k_h^T / sqrt(d) + mask) v_h), q, k and v projected from query, key
    and value. forward returns (output, weights): output (L, N, E) ((N, L, E) with batch_first, (L, E)
    unbatched), weights (N, L, S) averaged over the heads ((N, H, L, S) with average_attn_weights=False)
    or None with need_weights=False. Masks as torch: attn_mask (L, S) or (N * H, L, S) and
    key_padding_mask (N, S), bool (True: not attended) or float (added)."""

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
                 vdim: int | None = None, batch_first: bool = False, device=None, dtype=None,
                 generator: Generator | None = None):
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} and "
                             f"num_heads={num_heads} instead")
        if embed_dim % num_heads:
            raise AssertionError("embed_dim must be divisible by num_heads")
        if add_bias_kv or add_zero_attn:
            raise NotImplementedError("MultiheadAttention: add_bias_kv and add_zero_attn are not supported by "
                                      "tensorgrad (tensorgrad/nn/attention.py); leave them False")
        self.embed_dim, self.num_heads, self.dropout, self.batch_first = embed_dim, num_heads, dropout, batch_first
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.head_dim = embed_dim // num_heads
        self.generator = generator
        E = embed_dim
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(zeros(3 * E, E, dtype=dtype))
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = Parameter(zeros(E, E, dtype=dtype))
            self.k_proj_weight = Parameter(zeros(E, self.kdim, dtype=dtype))
            self.v_proj_weight = Parameter(zeros(E, self.vdim, dtype=dtype))
            self.register_parameter("in_proj_weight", None)
        self.register_parameter("in_proj_bias", Parameter(zeros(3 * E, dtype=dtype)) if bias else None)
        self.out_proj = NonDynamicallyQuantizableLinear(E, E, bias=bias, generator=generator, dtype=dtype)
        self.bias_k = self.bias_v = None
        self.add_zero_attn = False
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        """torch's: Xavier-uniform projections, zero biases (out_proj's weight keeps Linear's init)."""
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight, generator=self.generator)
        else:
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(w, generator=self.generator)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)

    def _projections(self):
        E = self.embed_dim
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight
            ws = (w[:E], w[E:2 * E], w[2 * E:])
        else:
            ws = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
        b = self.in_proj_bias
        bs = (None, None, None) if b is None else (b[:E], b[E:2 * E], b[2 * E:])
        return ws, bs

    def forward(self, query, key, value, key_padding_mask=None, need_weights: bool = True, attn_mask=None,
                average_attn_weights: bool = True, is_causal: bool = False):
        if is_causal and attn_mask is None:
            raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the Transformer "
                               "module method `generate_square_subsequent_mask` to create this mask.")
        batched = query.ndim == 3
        if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
            raise ValueError(f"MultiheadAttention: query, key and value must all be 3-D (batched) or 2-D "
                             f"(unbatched), got {tuple(query.shape)}, {tuple(key.shape)} and {tuple(value.shape)}")
        if not batched:                                       # (L, E): one sequence
            query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0) if isinstance(key_padding_mask, Tensor) \
                    else np.asarray(key_padding_mask)[None]
        elif self.batch_first:                                # (N, L, E) -> (L, N, E)
            query, key, value = query.transpose(0, 1), key.transpose(0, 1), value.transpose(0, 1)
        L, N, E = query.shape
        S = key.shape[0]
        if E != self.embed_dim:
            raise ValueError(f"MultiheadAttention: was expecting embedding dimension of {self.embed_dim}, but got {E}")
        if key.shape[:2] != value.shape[:2]:
            raise ValueError(f"MultiheadAttention: key shape {tuple(key.shape)} does not match value shape "
                             f"{tuple(value.shape)}")
        H, d = self.num_heads, self.head_dim
        (wq, wk, wv), (bq, bk, bv) = self._projections()
        # project and split into heads: (L, N, E) -> (N, H, L, d)
        q = F.linear(query, wq, bq).reshape(L, N, H, d).permute(1, 2, 0, 3)
        k = F.linear(key, wk, bk).reshape(S, N, H, d).permute(1, 2, 0, 3)
        v = F.linear(value, wv, bv).reshape(S, N, H, d).permute(1, 2, 0, 3)
        mask = self._merged_mask(attn_mask, key_padding_mask, N, L, S, q.dtype)   # (N or 1, H or 1, L, S)
        p = self.dropout if self.training else 0.0
        if need_weights:    # torch's explicit path: the weights (after dropout) are returned
            scores = (q * math.sqrt(1.0 / d)) @ k.transpose(-1, -2)                 # (N, H, L, S)
            if mask is not None:
                scores = scores + mask
            weights = F.softmax(scores, dim=-1)
            if p > 0:
                weights = F.dropout(weights, p, generator=self.generator)
            out = weights @ v                                                        # (N, H, L, d)
        else:
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p, generator=self.generator)
            weights = None
        out = self.out_proj(out.permute(2, 0, 1, 3).reshape(L, N, E))                # (L, N, E)
        if weights is not None and average_attn_weights:
            weights = weights.mean(dim=1)                                            # (N, L, S)
        if not batched:
            return out.squeeze(1), None if weights is None else weights.squeeze(0)
        if self.batch_first:
            out = out.transpose(0, 1)
        return out, weights

    def _merged_mask(self, attn_mask, key_padding_mask, N, L, S, dtype):
        attn_mask = _float_mask(attn_mask, dtype, "attn_mask")
        key_padding_mask = _float_mask(key_padding_mask, dtype, "key_padding_mask")
        H = self.num_heads
        if attn_mask is not None:
            if attn_mask.ndim == 2:
                if tuple(attn_mask.shape) != (L, S):
                    raise RuntimeError(f"The shape of the 2D attn_mask is {tuple(attn_mask.shape)}, but should be "
                                       f"{(L, S)}.")
            elif attn_mask.ndim == 3:
                if tuple(attn_mask.shape) != (N * H, L, S):
                    raise RuntimeError(f"The shape of the 3D attn_mask is {tuple(attn_mask.shape)}, but should be "
                                       f"{(N * H, L, S)}.")
                attn_mask = attn_mask.reshape(N, H, L, S)
            else:
                raise RuntimeError(f"attn_mask's dimension {attn_mask.ndim} is not supported")
        if key_padding_mask is not None:
            if tuple(key_padding_mask.shape) != (N, S):
                raise RuntimeError(f"expecting key_padding_mask shape of {(N, S)}, but got "
                                   f"{tuple(key_padding_mask.shape)}")
            key_padding_mask = key_padding_mask.reshape(N, 1, 1, S)
            attn_mask = key_padding_mask if attn_mask is None else attn_mask + key_padding_mask
        return attn_mask


