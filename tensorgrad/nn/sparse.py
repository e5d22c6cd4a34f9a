"""nn.EmbeddingBag and F.embedding_bag, as torch: sums, means or maxima of bags of embeddings,
without materialising the per-bag lists (an index_add of the looked-up rows into their bags)."""
import numpy as np

from .. import functional as F
from ..creation import Generator, tensor, zeros
from ..tensor import Tensor
from . import init
from .modules import Module, Parameter


def _bags(input, offsets, include_last_offset: bool, name: str):
    """(flat indices, the bag of each, number of bags) from a 2-D input (one bag per row) or a 1-D
    input cut at offsets."""
    idx = np.asarray(input._data if isinstance(input, Tensor) else input)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{name}: input must hold indices (integers), got {idx.dtype}")
    if idx.ndim == 2:
        if offsets is not None:
            raise ValueError(f"{name}: offsets has to be None if input is 2D")
        n, length = idx.shape
        return idx.ravel(), np.repeat(np.arange(n), length), n
    if idx.ndim != 1:
        raise ValueError(f"{name}: input has to be 1D or 2D Tensor, but got Tensor of dimension {idx.ndim}")
    if offsets is None:
        raise ValueError(f"{name}: offsets has to be a 1D Tensor but got None")
    off = np.asarray(offsets._data if isinstance(offsets, Tensor) else offsets).astype(np.int64)
    if off.ndim != 1:
        raise ValueError(f"{name}: offsets has to be a 1D Tensor")
    if off.size and off[0] != 0:
        raise ValueError(f"{name}: offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start "
                         "from position 0. However, got " + str(off[0]))
    if off.size and off[-1] > idx.size:
        raise ValueError(f"{name}: offsets[-1] can not be greater than input's length ({idx.size}), but got "
                         f"offsets[-1] of {off[-1]}")
    n = off.size - 1 if include_last_offset else off.size     # (the last bag runs to the end, as torch's)
    ends = np.append(off[1:n], idx.size)
    return idx, np.repeat(np.arange(n), ends - off[:n]), n


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type: float = 2, scale_grad_by_freq: bool = False,
                  mode: str = "mean", sparse: bool = False, per_sample_weights=None, include_last_offset: bool = False,
                  padding_idx: int | None = None):
    """torch.nn.functional.embedding_bag: for each bag, the sum, mean or max of weight's rows at its
    indices (per_sample_weights scale them, with mode='sum'); entries equal to padding_idx are left
    out; an empty bag gives zeros."""
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"embedding_bag: mode has to be one of sum, mean or max, got {mode!r}")
    if max_norm is not None or scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding_bag: max_norm, scale_grad_by_freq and sparse are not supported by "
                                  "tensorgrad")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. per_sample_weights is only "
                                  f"supported for mode='sum' (got mode='{mode}'). Please open a feature request on "
                                  "GitHub.")
    idx, bag, n = _bags(input, offsets, include_last_offset, "embedding_bag")
    num, dim = weight.shape
    if padding_idx is not None:
        padding_idx %= num
    keep = np.ones(idx.size, bool) if padding_idx is None else idx != padding_idx
    rows = F.embedding(idx[keep], weight)                                 # (kept, dim)
    if per_sample_weights is not None:
        w = per_sample_weights.reshape(-1)
        rows = rows * w[np.flatnonzero(keep)].unsqueeze(1)
    counts = np.bincount(bag[keep], minlength=n)
    if mode == "max":
        if rows.shape[0] == 0:
            return zeros(n, dim, dtype=weight.dtype)
        if (counts == 0).any() or np.any(np.diff(bag[keep]) < 0):
            raise NotImplementedError("embedding_bag: mode='max' with empty bags is not supported by tensorgrad")
        # bags of equal length (2-D input): a max over the bag dim; otherwise one bag at a time
        if np.all(counts == counts[0]):
            return rows.reshape(n, counts[0], dim).amax(dim=1)
        ends = np.cumsum(counts)
        return F.stack([rows[e - c:e].amax(dim=0) for c, e in zip(counts, ends)])
    out = F.index_add(zeros(n, dim, dtype=weight.dtype), 0, tensor(bag[keep]), rows)   # (bags, dim)
    if mode == "mean":
        out = out / tensor(np.maximum(counts, 1).astype(weight.dtype)).unsqueeze(1)
    return out


class EmbeddingBag(Module):
    """A table of num_embeddings vectors; each bag of indices gives the sum, mean or max of its
    vectors (torch.nn.EmbeddingBag). forward(input, offsets=None, per_sample_weights=None): input
    2-D (one bag per row) or 1-D with offsets (where each bag starts)."""

    def __init__(self, num_embeddings: int, embedding_dim: int, max_norm=None, norm_type: float = 2.0,
                 scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False, _weight=None,
                 include_last_offset: bool = False, padding_idx: int | None = None,
                 generator: Generator | None = None, dtype=None):
        super().__init__()
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise AssertionError("padding_idx must be within num_embeddings")
            padding_idx %= num_embeddings
        self.num_embeddings, self.embedding_dim, self.mode = num_embeddings, embedding_dim, mode
        self.max_norm, self.norm_type, self.scale_grad_by_freq, self.sparse = max_norm, norm_type, \
            scale_grad_by_freq, sparse
        self.include_last_offset, self.padding_idx = include_last_offset, padding_idx
        if _weight is None:
            self.weight = Parameter(zeros(num_embeddings, embedding_dim, dtype=dtype))
            init.normal_(self.weight, generator=generator)
            if padding_idx is not None:
                self.weight.numpy()[padding_idx] = 0
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise AssertionError("Shape of weight does not match num_embeddings and embedding_dim")
            self.weight = Parameter(tensor(np.array(_weight)))

    @classmethod
    def from_pretrained(cls, embeddings, freeze: bool = True, max_norm=None, norm_type: float = 2.0,
                        scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                        include_last_offset: bool = False, padding_idx: int | None = None) -> "EmbeddingBag":
        """An EmbeddingBag holding (a copy of) the 2-D embeddings; freeze: its weight does not require grad."""
        if len(embeddings.shape) != 2:
            raise ValueError("Embeddings parameter is expected to be 2-dimensional")
        rows, dim = embeddings.shape
        bag = cls(rows, dim, max_norm, norm_type, scale_grad_by_freq, mode, sparse,
                  _weight=np.asarray(embeddings._data if isinstance(embeddings, Tensor) else embeddings),
                  include_last_offset=include_last_offset, padding_idx=padding_idx)
        bag.weight.requires_grad_(not freeze)
        return bag

    def forward(self, input, offsets=None, per_sample_weights=None):
        return embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type, self.scale_grad_by_freq,
                             self.mode, self.sparse, per_sample_weights, self.include_last_offset, self.padding_idx)

    def extra_repr(self):
        pad = f", padding_idx={self.padding_idx}" if self.padding_idx is not None else ""
        return f"{self.num_embeddings}, {self.embedding_dim}, mode='{self.mode}'{pad}"
