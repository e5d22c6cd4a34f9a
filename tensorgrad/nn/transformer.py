"""The Transformer (Vaswani et al. 2017, "Attention Is All You Need"), as torch.nn.Transformer and
its parts: TransformerEncoderLayer, TransformerEncoder, TransformerDecoderLayer, TransformerDecoder.

Built from nn.MultiheadAttention, nn.Linear, nn.LayerNorm and nn.Dropout, with torch's attribute
names (self_attn, multihead_attn, linear1, linear2, norm1..3, dropout, dropout1..3), so a torch
state_dict loads as it is. Shapes: (S, N, E) sequences, (N, S, E) with batch_first, (S, E) unbatched.
Post-norm (the paper's, x = norm(x + sublayer(x))) by default; norm_first=True is pre-norm,
x = x + sublayer(norm(x)) (Xiong et al. 2020).
"""
import copy

import numpy as np

from . import functional as F
from . import init
from ..dtypes import get_default_dtype
from ..engine import Tensor
from ..functions import Generator, tensor
from ..modes import is_grad_enabled
from .attention import MultiheadAttention
from .layers import GELU, Dropout, LayerNorm, Linear, ReLU
from .modules import Module, ModuleList


def _activation(activation):
    """'relu' / 'gelu' -> F.relu / F.gelu; a callable (a function or a Module) as it is."""
    if isinstance(activation, str):
        if activation not in ("relu", "gelu"):
            raise RuntimeError(f"activation should be relu/gelu, not {activation}")
        return F.relu if activation == "relu" else F.gelu
    if not callable(activation):
        raise TypeError(f"Transformer: activation must be 'relu', 'gelu' or a callable, got {activation!r}")
    return activation


def _square_subsequent_mask(sz: int, dtype=None) -> Tensor:
    """(sz, sz): 0 on and below the diagonal, -inf above it (position i attends to j <= i)."""
    dtype = get_default_dtype() if dtype is None else dtype
    return tensor(np.triu(np.full((sz, sz), -np.inf, dtype=dtype), k=1))


def _is_causal(mask, is_causal, size: int | None) -> bool:
    """torch's reading of the is_causal hint: as given, or (None) whether mask is the causal mask."""
    if is_causal is not None or mask is None:
        return bool(is_causal)
    m = mask.numpy() if isinstance(mask, Tensor) else np.asarray(mask)
    sz = size if size is not None else m.shape[-2]
    causal = _square_subsequent_mask(sz, m.dtype).numpy()
    return m.shape == causal.shape and bool((m == causal).all())


def _clones(layer: Module, n: int) -> ModuleList:
    """n independent deep copies of layer (torch's _get_clones), sharing its generators, not copying them:
    copied generators would draw the same dropout masks in every layer."""
    shared = {id(g): g for m in layer.modules() for g in [getattr(m, "generator", None)] if g is not None}
    return ModuleList([copy.deepcopy(layer, dict(shared)) for _ in range(n)])


def _seq_len(x, batch_first: bool) -> int:
    return x.shape[0] if x.ndim == 2 else x.shape[1 if batch_first else 0]


# ----------------------------------------------------------------------------
# layers

class TransformerEncoderLayer(Module):
    """Self-attention then a feed-forward network (linear1, activation, linear2), each with dropout,
    a residual connection and a LayerNorm."""

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation="relu", layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device=None, dtype=None,
                 generator: Generator | None = None):
        super().__init__()
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first,
                                            dtype=dtype, generator=generator)
        # the feed-forward network: d_model -> dim_feedforward -> d_model
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, generator=generator, dtype=dtype)
        self.dropout = Dropout(dropout, generator=generator)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, generator=generator, dtype=dtype)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout, generator=generator)
        self.dropout2 = Dropout(dropout, generator=generator)
        self.activation = _activation(activation)
        # torch's flag for its fused kernel (1: relu, 2: gelu, 0: other); TransformerEncoder reads it
        act = self.activation
        self.activation_relu_or_gelu = 1 if act is F.relu or isinstance(act, ReLU) else \
            2 if act is F.gelu or isinstance(act, GELU) else 0

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal: bool = False):
        x = src                                                          # (S, N, E) or (N, S, E)
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff_block(x))
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal: bool):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, need_weights=False,
                           is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x):
        x = self.linear2(self.dropout(self.activation(self.linear1(x))))   # (.., E) -> (.., F) -> (.., E)
        return self.dropout2(x)


class TransformerDecoderLayer(Module):
    """Masked self-attention over the target, attention to the encoder's output (memory), then a
    feed-forward network; each with dropout, a residual connection and a LayerNorm."""

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation="relu", layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device=None, dtype=None,
                 generator: Generator | None = None):
        super().__init__()
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first,
                                            dtype=dtype, generator=generator)
        self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                                 batch_first=batch_first, dtype=dtype, generator=generator)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, generator=generator, dtype=dtype)
        self.dropout = Dropout(dropout, generator=generator)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, generator=generator, dtype=dtype)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm3 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout, generator=generator)
        self.dropout2 = Dropout(dropout, generator=generator)
        self.dropout3 = Dropout(dropout, generator=generator)
        self.activation = _activation(activation)

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal: bool = False, memory_is_causal: bool = False):
        x = tgt                                                          # (T, N, E) or (N, T, E)
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask, memory_key_padding_mask, memory_is_causal)
            x = x + self._ff_block(self.norm3(x))
        else:
            x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
            x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask, memory_is_causal))
            x = self.norm3(x + self._ff_block(x))
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal: bool):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, is_causal=is_causal,
                           need_weights=False)[0]
        return self.dropout1(x)

    def _mha_block(self, x, memory, attn_mask, key_padding_mask, is_causal: bool):
        # queries from the target, keys and values from the memory: (T, N, E) x (S, N, E) -> (T, N, E)
        x = self.multihead_attn(x, memory, memory, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                                is_causal=is_causal, need_weights=False)[0]
        return self.dropout2(x)

    def _ff_block(self, x):
        x = self.linear2(self.dropout(self.activation(self.linear1(x))))
        return self.dropout3(x)


# ----------------------------------------------------------------------------
# stacks

class TransformerEncoder(Module):
    """num_layers deep copies of encoder_layer applied in turn (layers.0, layers.1, ...), then norm if given."""

    def __init__(self, encoder_layer: Module, num_layers: int, norm: Module | None = None,
                 enable_nested_tensor: bool = True, mask_check: bool = True):
        super().__init__()
        self.layers = _clones(encoder_layer, num_layers)
        self.num_layers, self.norm = num_layers, norm
        self.enable_nested_tensor, self.mask_check = enable_nested_tensor, mask_check
        self.use_nested_tensor = enable_nested_tensor and _nested_ok(encoder_layer)

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal: bool | None = None):
        first = self.layers[0]
        is_causal = _is_causal(mask, is_causal, _seq_len(src, first.self_attn.batch_first))
        output = src
        for layer in self.layers:
            output = layer(output, src_mask=mask, src_key_padding_mask=src_key_padding_mask, is_causal=is_causal)
        padded = self._nested_padding(src, mask, src_key_padding_mask)
        if padded is not None:     # torch's nested-tensor path returns zeros at the padded positions
            output = F.masked_fill(output, tensor(padded[..., None]), 0.0)
        if self.norm is not None:
            output = self.norm(output)
        return output

    def _nested_padding(self, src, mask, key_padding_mask):
        """The (N, S) padding mask when torch would run its nested-tensor inference path (eval, no
        gradient wanted, batch_first, a key padding mask that pads only at the ends, no attn mask):
        it skips the padded positions and returns 0 there. Else None."""
        first = self.layers[0]
        if not self.use_nested_tensor or first.training or src.ndim != 3 or key_padding_mask is None \
                or mask is not None:
            return None
        kpm = key_padding_mask.numpy() if isinstance(key_padding_mask, Tensor) else np.asarray(key_padding_mask)
        pad = kpm if kpm.dtype == np.bool_ else kpm != 0
        if (np.diff(pad.astype(np.int8), axis=-1) < 0).any():      # a real token after padding: not left-aligned
            return None
        if is_grad_enabled() and (src.requires_grad or any(p.requires_grad for p in first.parameters())):
            return None
        return pad


def _nested_ok(layer) -> bool:
    """Whether torch would use nested tensors with this layer (its fused encoder kernel's conditions)."""
    return (isinstance(layer, TransformerEncoderLayer) and not layer.norm_first and layer.self_attn.batch_first
            and layer.self_attn._qkv_same_embed_dim and layer.self_attn.in_proj_bias is not None
            and bool(layer.activation_relu_or_gelu) and layer.norm1.eps == layer.norm2.eps
            and layer.self_attn.num_heads % 2 == 0)


class TransformerDecoder(Module):
    """num_layers deep copies of decoder_layer applied in turn to the target (each attending to the
    same memory), then norm if given."""

    def __init__(self, decoder_layer: Module, num_layers: int, norm: Module | None = None):
        super().__init__()
        self.layers = _clones(decoder_layer, num_layers)
        self.num_layers, self.norm = num_layers, norm

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal: bool | None = None, memory_is_causal: bool = False):
        tgt_is_causal = _is_causal(tgt_mask, tgt_is_causal, _seq_len(tgt, self.layers[0].self_attn.batch_first))
        output = tgt
        for layer in self.layers:
            output = layer(output, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                           tgt_key_padding_mask=tgt_key_padding_mask, memory_key_padding_mask=memory_key_padding_mask,
                           tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)
        if self.norm is not None:
            output = self.norm(output)
        return output


class Transformer(Module):
    """The encoder-decoder model: encoder(src) -> memory; decoder(tgt, memory) -> output (T, N, E).
    Every weight matrix (a parameter of 2 or more dims) starts Xavier-uniform, as torch's."""

    def __init__(self, d_model: int = 512, nhead: int = 8, num_encoder_layers: int = 6,
                 num_decoder_layers: int = 6, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation="relu", custom_encoder: Module | None = None, custom_decoder: Module | None = None,
                 layer_norm_eps: float = 1e-5, batch_first: bool = False, norm_first: bool = False,
                 bias: bool = True, device=None, dtype=None, generator: Generator | None = None):
        super().__init__()
        layer_args = (d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps, batch_first, norm_first,
                      bias)
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            layer = TransformerEncoderLayer(*layer_args, dtype=dtype, generator=generator)
            norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
            self.encoder = TransformerEncoder(layer, num_encoder_layers, norm)
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            layer = TransformerDecoderLayer(*layer_args, dtype=dtype, generator=generator)
            norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
            self.decoder = TransformerDecoder(layer, num_decoder_layers, norm)
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p, generator=generator)
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first

    def forward(self, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None, src_key_padding_mask=None,
                tgt_key_padding_mask=None, memory_key_padding_mask=None, src_is_causal: bool | None = None,
                tgt_is_causal: bool | None = None, memory_is_causal: bool = False):
        if src.ndim == 3 and src.shape[0 if self.batch_first else 1] != tgt.shape[0 if self.batch_first else 1]:
            raise RuntimeError("the batch number of src and tgt must be equal")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise RuntimeError("the feature number of src and tgt must be equal to d_model")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=src_is_causal)                           # (S, N, E)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask, tgt_is_causal=tgt_is_causal,
                            memory_is_causal=memory_is_causal)                  # (T, N, E)

    @staticmethod
    def generate_square_subsequent_mask(sz: int, device=None, dtype=None) -> Tensor:
        """The causal mask: (sz, sz) float, -inf above the diagonal, 0 elsewhere."""
        return _square_subsequent_mask(sz, dtype)
