"""torch.*'s shape functions: every one a gather (getitem) or a reshape/permute, so every backward is a scatter-add or a reshape."""
import builtins
import itertools
import math

import numpy as np

from .. import ops
from ..dims import Size, shape_arg, wrap_dim
from ..device import check as check_device
from ..engine import Tensor, data_of
from ..ops import promote
from .math import where


def squeeze(x, dim=None):
    """Drop the size-1 dims (only those in dim, if given; other dims stay, as torch)."""
    dims = range(x.ndim) if dim is None else [wrap_dim(d, x.ndim, 'squeeze') for d in ((dim,) if isinstance(dim, int) else dim)]
    drop = {d for d in dims if x.ndim and x.shape[d] == 1}      # a 0-d tensor squeezes to itself
    return ops.reshape(x, shape=tuple(n for d, n in enumerate(x.shape) if d not in drop))


def unsqueeze(x, dim: int):
    d = wrap_dim(dim, x.ndim + 1, 'unsqueeze')
    return ops.reshape(x, shape=x.shape[:d] + (1,) + x.shape[d:])


def flatten(x, start_dim=0, end_dim=-1):
    s, e = wrap_dim(start_dim, x.ndim, 'flatten'), wrap_dim(end_dim, x.ndim, 'flatten')
    if s > e:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    if x.ndim == 0:
        return ops.reshape(x, shape=(1,))
    return ops.reshape(x, shape=x.shape[:s] + (math.prod(x.shape[s:e + 1]),) + x.shape[e + 1:])  # not -1: size 0


def transpose(x, dim0: int, dim1: int):
    axes = list(range(x.ndim))
    d0, d1 = wrap_dim(dim0, x.ndim, 'transpose'), wrap_dim(dim1, x.ndim, 'transpose')
    if d0 != d1:                        # a 0-d tensor: transpose(0, -1) is itself
        axes[d0], axes[d1] = axes[d1], axes[d0]
    return ops.permute(x, axes=tuple(axes))


def expand(x, sizes):
    """Broadcast to sizes (-1 keeps a dim); its backward is the engine's sum."""
    lead = len(sizes) - x.ndim
    shape = tuple(x.shape[i - lead] if s == -1 and i >= lead else s for i, s in enumerate(sizes))
    return ops.expand(x, shape=shape)


def cat(tensors, dim: int = 0):
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat: expected a non-empty list of tensors")
    return ops.cat(*promote(*tensors), axis=wrap_dim(dim, tensors[0].ndim, 'cat'))


def stack(tensors, dim: int = 0):
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack: expected a non-empty list of tensors")
    d = wrap_dim(dim, tensors[0].ndim + 1, 'stack')
    if builtins.any(t.shape != tensors[0].shape for t in tensors):
        raise ValueError(f"stack: expected tensors of one shape, got {[t.shape for t in tensors]}")
    return ops.cat(*promote(*[unsqueeze(t, d) for t in tensors]), axis=d)


def _along_dim(x, d: int, key):
    return ops.getitem(x, key=(slice(None),) * d + (key,))


def split(x, split_size_or_sections, dim: int = 0) -> tuple:
    """Pieces of split_size along dim (the last one smaller), or of the given sizes, as torch.split."""
    d = wrap_dim(dim, x.ndim, "split")
    n = x.shape[d]
    if isinstance(split_size_or_sections, (int, np.integer)):
        size = int(split_size_or_sections)
        if size <= 0 and n > 0:
            raise ValueError(f"split: split_size must be positive, got {size}")
        sizes = [builtins.min(size, n - s) for s in range(0, n, size)] if n else [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if builtins.sum(sizes) != n:
            raise ValueError(f"split: sizes {sizes} do not add up to {n}, the size of dim {d}")
    ends = np.cumsum(sizes)
    return tuple(_along_dim(x, d, slice(int(e - s), int(e))) for s, e in zip(sizes, ends))


def chunk(x, chunks: int, dim: int = 0) -> tuple:
    """At most `chunks` pieces of ceil(n / chunks) along dim, as torch.chunk."""
    if chunks <= 0:
        raise ValueError(f"chunk: chunks must be positive, got {chunks}")
    d = wrap_dim(dim, x.ndim, "chunk")
    if x.ndim and x.shape[d] == 0:                  # torch: `chunks` empty pieces
        return tuple(ops.getitem(x, key=(slice(None),) * d + (slice(0, 0),)) for _ in range(chunks))
    return split(x, builtins.max(-(-x.shape[d] // chunks), 1), d)


def tensor_split(x, indices_or_sections, dim: int = 0) -> tuple:
    """k nearly equal pieces (the first n % k one longer), or pieces cut at the given indices."""
    d = wrap_dim(dim, x.ndim, "tensor_split")
    n = x.shape[d]
    if isinstance(indices_or_sections, (int, np.integer)):
        k = int(indices_or_sections)
        bounds = [i * (n // k) + builtins.min(i, n % k) for i in range(k + 1)]
    else:
        bounds = [0] + [int(i) for i in indices_or_sections] + [n]
    return tuple(_along_dim(x, d, slice(s, builtins.max(s, e))) for s, e in zip(bounds, bounds[1:]))


def unbind(x, dim: int = 0) -> tuple:
    """The slices along dim, as a tuple (each without that dim)."""
    d = wrap_dim(dim, x.ndim, "unbind")
    return tuple(_along_dim(x, d, i) for i in range(x.shape[d]))


def flip(x, dims):
    """x reversed along dims (a gather with negative strides), a copy as torch's (not a view of x)."""
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    key = [slice(None)] * x.ndim
    for d in dims:
        d = wrap_dim(d, x.ndim, "flip")
        if x.ndim:                                  # a 0-d tensor is its own flip
            key[d] = slice(None, None, -1)
    return ops.getitem(x, key=tuple(key)).clone()


def fliplr(x):
    """x reversed along dim 1."""
    if x.ndim < 2:
        raise RuntimeError(f"fliplr: input must be >= 2-d, got {x.ndim}-d")
    return flip(x, 1)


def flipud(x):
    """x reversed along dim 0."""
    if x.ndim < 1:
        raise RuntimeError("flipud: input must be >= 1-d, got a 0-d tensor")
    return flip(x, 0)


def roll(x, shifts, dims=None):
    """Shift along dims, wrapping around; with dims=None, shift the flattened x."""
    if dims is None:
        return ops.reshape(roll(ops.reshape(x, shape=(-1,)), shifts, 0), shape=x.shape)
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(shifts) != len(dims):
        raise ValueError(f"roll: shifts {shifts} and dims {dims} must have the same length")
    for s, d in zip(shifts, dims):
        d = wrap_dim(d, x.ndim, "roll")
        x = _along_dim(x, d, (np.arange(x.shape[d]) - s) % builtins.max(x.shape[d], 1))
    return x


def repeat(x, *sizes):
    """Tile x sizes[i] times along dim i (torch's Tensor.repeat; numpy's tile): an expand and a reshape."""
    sizes = tuple(shape_arg(sizes))
    if len(sizes) < x.ndim:
        raise ValueError(f"repeat: {len(sizes)} sizes given for a tensor with {x.ndim} dims")
    shape = (1,) * (len(sizes) - x.ndim) + x.shape
    spread = ops.reshape(x, shape=tuple(v for n in shape for v in (1, n)))             # (1, n0, 1, n1, ...)
    wide = ops.expand(spread, shape=tuple(v for r, n in zip(sizes, shape) for v in (r, n)))
    out = ops.reshape(wide, shape=tuple(r * n for r, n in zip(sizes, shape)))
    if out._base is not None or not out._data.flags.c_contiguous:      # a fresh contiguous tensor, as torch's
        out = ops.index_put(np.zeros(out.shape, out.dtype), out, key=(Ellipsis,), accumulate=False)
    return out


def tile(x, dims):
    """repeat, with dims padded by leading 1s when there are fewer than x's dims."""
    dims = tuple(dims)
    return repeat(x, *((1,) * (x.ndim - len(dims)) + dims))


def repeat_interleave(x, repeats=None, dim: int | None = None, output_size: int | None = None):
    """Repeat each element (or slice along dim) repeats times: a gather of np.repeat'ed indices."""
    if repeats is None:                         # repeat_interleave(counts): 0, 0, 1, 2, 2, 2 ...
        counts = np.asarray(data_of(x))
        return Tensor._wrap(np.repeat(np.arange(len(counts)), counts))
    if dim is None:
        x, dim = ops.reshape(x, shape=(-1,)), 0
    d = wrap_dim(dim, x.ndim, "repeat_interleave")
    return _along_dim(x, d, np.repeat(np.arange(x.shape[d]), np.asarray(data_of(repeats))))


def _tri_mask(x, diagonal: int, lower: bool):
    if x.ndim < 2:
        raise ValueError(f"{'tril' if lower else 'triu'}: expected a tensor with at least 2 dims, got {x.shape}")
    n, m = x.shape[-2:]
    return np.tri(n, m, diagonal, dtype=bool) if lower else ~np.tri(n, m, diagonal - 1, dtype=bool)


def tril(x, diagonal: int = 0):
    """The lower triangle (j <= i + diagonal) of the last two dims; zeros above."""
    return where(_tri_mask(x, diagonal, True), x, np.zeros((), x.dtype))


def triu(x, diagonal: int = 0):
    """The upper triangle (j >= i + diagonal) of the last two dims; zeros below."""
    return where(_tri_mask(x, diagonal, False), x, np.zeros((), x.dtype))


def diagonal(x, offset: int = 0, dim1: int = 0, dim2: int = 1):
    """The diagonal of dims (dim1, dim2), as a new last dim: a view, as torch's (writing into it writes x)."""
    d1, d2 = wrap_dim(dim1, x.ndim, "diagonal"), wrap_dim(dim2, x.ndim, "diagonal")
    if d1 == d2:
        raise ValueError("diagonal: dim1 and dim2 cannot be the same")
    return ops.diagonal(x, offset=int(offset), dim1=d1, dim2=d2)


def _diagonal(x, offset, dim1, dim2):
    """diag's copy of a diagonal: a gather."""
    d1, d2 = wrap_dim(dim1, x.ndim, "diagonal"), wrap_dim(dim2, x.ndim, "diagonal")
    if d1 == d2:
        raise ValueError("diagonal: dim1 and dim2 cannot be the same")
    rest = tuple(d for d in range(x.ndim) if d not in (d1, d2))
    moved = ops.permute(x, axes=rest + (d1, d2))
    r0, c0 = builtins.max(-offset, 0), builtins.max(offset, 0)
    n = builtins.max(builtins.min(x.shape[d1] - r0, x.shape[d2] - c0), 0)
    return ops.getitem(moved, key=(Ellipsis, np.arange(n) + r0, np.arange(n) + c0))


def diag(x, diagonal: int = 0):
    """1-D -> a square matrix with x on the given diagonal (a scatter); 2-D -> that diagonal (a gather)."""
    if x.ndim == 2:
        return _diagonal(x, diagonal, 0, 1)
    if x.ndim != 1:
        raise ValueError(f"diag: expected a 1-D or 2-D tensor, got {x.shape}")
    n, k = x.shape[0], builtins.abs(diagonal)
    rows = np.arange(n) + builtins.max(-diagonal, 0)
    cols = np.arange(n) + builtins.max(diagonal, 0)
    return ops.index_put(np.zeros((n + k, n + k), x.dtype), x, key=(rows, cols), accumulate=False)


def diag_embed(x, offset: int = 0):
    """The last dim of x on the diagonal of new square matrices (a scatter)."""
    n = x.shape[-1] + builtins.abs(offset)
    rows, cols = np.arange(x.shape[-1]) + builtins.max(-offset, 0), np.arange(x.shape[-1]) + builtins.max(offset, 0)
    return ops.index_put(np.zeros(x.shape[:-1] + (n, n), x.dtype), x, key=(Ellipsis, rows, cols), accumulate=False)


def movedim(x, source, destination):
    """x with dims source moved to positions destination (a permute)."""
    src = [wrap_dim(d, x.ndim, "movedim") for d in ((source,) if isinstance(source, int) else source)]
    dst = [wrap_dim(d, x.ndim, "movedim") for d in ((destination,) if isinstance(destination, int) else destination)]
    if len(src) != len(dst):
        raise ValueError(f"movedim: source {source} and destination {destination} differ in length")
    if x.ndim == 0:
        return ops.permute(x, axes=())
    order = [d for d in range(x.ndim) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return ops.permute(x, axes=tuple(order))


moveaxis = movedim


def narrow(x, dim: int, start: int, length: int):
    """length elements of dim from start (a slice, sharing storage)."""
    d = wrap_dim(dim, x.ndim, "narrow")
    start = start + x.shape[d] if start < 0 else start
    if not 0 <= start <= start + length <= x.shape[d]:
        raise IndexError(f"narrow: start {start} + length {length} exceeds dimension size {x.shape[d]}")
    return _along_dim(x, d, slice(start, start + length))


def atleast_1d(x):
    """x, with a dim added if it is 0-d."""
    return ops.reshape(x, shape=(1,)) if x.ndim == 0 else x


def atleast_2d(x):
    """x, with leading dims added up to 2."""
    return ops.reshape(x, shape=(1,) * (2 - x.ndim) + x.shape) if x.ndim < 2 else x


def hstack(tensors):
    """Concatenate along dim 1 (dim 0 for 1-D tensors)."""
    tensors = [atleast_1d(t) for t in tensors]
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors):
    """Concatenate along dim 0, 1-D tensors as rows."""
    return cat([atleast_2d(t) for t in tensors], 0)


def column_stack(tensors):
    """Concatenate along dim 1, 1-D tensors as columns."""
    return cat([ops.reshape(t, shape=(-1, 1)) if t.ndim < 2 else t for t in tensors], 1)


def meshgrid(*tensors, indexing: str = "ij") -> tuple:
    """Coordinate grids: each 1-D tensor expanded along the others' dims ('ij', or 'xy' with the
    first two swapped), as torch.meshgrid."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    sizes = [t.shape[0] if t.ndim else 1 for t in tensors]
    order = list(range(len(tensors)))
    if indexing == "xy" and len(tensors) > 1:
        order[0], order[1] = 1, 0
    shape = tuple(sizes[i] for i in order)
    grids = []
    for i, t in enumerate(tensors):
        place = order.index(i)
        spread = ops.reshape(t, shape=tuple(-1 if j == place else 1 for j in range(len(tensors))))
        grids.append(ops.expand(spread, shape=shape))
    return tuple(grids)


def cartesian_prod(*tensors):
    """All combinations of the elements of the 1-D tensors, one per row."""
    for t in tensors:
        if t.ndim != 1:
            raise RuntimeError(f"cartesian_prod: expect a 1D vector, but got shape {tuple(t.shape)}")
    if len(tensors) == 1:
        return tensors[0]
    return stack([ops.reshape(g, shape=(-1,)) for g in meshgrid(*tensors)], 1)


def tril_indices(row: int, col: int, offset: int = 0, *, device=None) -> Tensor:
    """The (2, N) int64 coordinates of the lower triangle of a row x col matrix."""
    check_device(device, "tril_indices")
    return Tensor._wrap(np.stack(np.tril_indices(row, offset, col)).astype(np.int64))


def triu_indices(row: int, col: int, offset: int = 0, *, device=None) -> Tensor:
    """The (2, N) int64 coordinates of the upper triangle of a row x col matrix."""
    check_device(device, "triu_indices")
    return Tensor._wrap(np.stack(np.triu_indices(row, offset, col)).astype(np.int64))


def rot90(input, k: int = 1, dims=(0, 1)):
    """Rotate by 90 degrees k times in the plane of dims (from the first towards the second)."""
    d0, d1 = (wrap_dim(d, input.ndim, "rot90") for d in dims)
    k %= 4
    if k == 1:
        return transpose(flip(input, (d1,)), d0, d1)
    if k == 2:
        return flip(input, (d0, d1))
    if k == 3:
        return flip(transpose(input, d0, d1), (d1,))
    return input.clone()


def atleast_3d(x):
    """x with dims added up to 3: (n,) -> (1, n, 1), (n, m) -> (n, m, 1), as torch."""
    if x.ndim == 0:
        return ops.reshape(x, shape=(1, 1, 1))
    if x.ndim == 1:
        return ops.reshape(x, shape=(1, x.shape[0], 1))
    return ops.reshape(x, shape=x.shape + (1,)) if x.ndim == 2 else x


def dstack(tensors):
    """Concatenate along dim 2, after atleast_3d."""
    return cat([atleast_3d(t) for t in tensors], 2)


def block_diag(*tensors):
    """The matrices on the diagonal of one big matrix, zeros elsewhere."""
    mats = [ops.reshape(t, shape=(1, -1)) if t.ndim < 2 else t for t in tensors]
    total = builtins.sum(m.shape[1] for m in mats)
    rows, left = [], 0
    for m in mats:
        rows.append(pad(m, (left, total - left - m.shape[1])))
        left += m.shape[1]
    return cat(rows, 0)


def _sliding_windows(x, dimension: int, size: int, step: int):
    """Tensor.unfold: every window of size elements, step apart, along dimension, as a new last dim."""
    d = wrap_dim(dimension, x.ndim, "unfold")
    n = (x.shape[d] - size) // step + 1
    if size > x.shape[d] or step <= 0:
        raise ValueError(f"unfold: size {size} (step {step}) does not fit dimension {d} of size {x.shape[d]}")
    starts = np.arange(n) * step
    windows = _along_dim(x, d, starts[:, None] + np.arange(size))           # (..., n, size, ...) at d
    return movedim(windows, d + 1, -1)


_PAD_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def pad(input, pad, mode: str = "constant", value: float | None = None):
    """torch.nn.functional.pad: pad = (left, right) for the last dim, then the one before, ...
    'constant' writes x into a tensor of value (negative pads crop); 'reflect', 'replicate' and
    'circular' gather x at np.pad'ed indices, so their backward is a scatter-add."""
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ValueError(f"pad: expected an even number of pads for at most {input.ndim} dims, got {pad}")
    k = len(pad) // 2
    dims = [input.ndim - 1 - i for i in range(k)]                   # the dim each (left, right) pair pads
    if mode == "constant":
        crop = [slice(None)] * input.ndim
        for d, (left, right) in zip(dims, zip(pad[::2], pad[1::2])):
            crop[d] = slice(builtins.max(-left, 0), input.shape[d] - builtins.max(-right, 0))
        x = ops.getitem(input, key=tuple(crop)) if builtins.any(p < 0 for p in pad) else input
        shape, place = list(x.shape), [slice(None)] * x.ndim
        for d, (left, right) in zip(dims, zip(pad[::2], pad[1::2])):
            left, right = builtins.max(left, 0), builtins.max(right, 0)
            shape[d] += left + right
            place[d] = slice(left, left + x.shape[d])
        fill = np.full(tuple(shape), 0 if value is None else value, dtype=x.dtype)
        return ops.index_put(fill, x, key=tuple(place), accumulate=False)
    if mode not in _PAD_MODES:
        raise ValueError(f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', got {mode!r}")
    if input.ndim not in (k + 1, k + 2) or k > 3:   # torch's kernels: 1 to 3 padded dims, with a channel dim
        raise NotImplementedError(f"pad: padding size {len(pad)} is not supported for a {input.ndim}D input in mode "
                                  f"{mode!r}; non-constant padding takes 2 (2D or 3D input), 4 (3D or 4D) or 6 "
                                  "(4D or 5D) pads")
    idx = {}
    for d, (left, right) in zip(dims, zip(pad[::2], pad[1::2])):
        n = input.shape[d]
        if mode == "reflect" and (left >= n or right >= n):
            raise ValueError(f"pad: reflect padding ({left}, {right}) must be smaller than the dim's size {n}")
        idx[d] = np.pad(np.arange(n), (left, right), mode=_PAD_MODES[mode])
    lo = builtins.min(idx)
    key = (slice(None),) * lo + np.ix_(*[idx.get(d, np.arange(input.shape[d])) for d in range(lo, input.ndim)])
    return ops.getitem(input, key=key)


def broadcast_shapes(*shapes):
    """The shape the given shapes broadcast to (torch.Size), or torch's error."""
    try:
        return Size(np.broadcast_shapes(*[(s,) if isinstance(s, int) else tuple(s) for s in shapes]))
    except ValueError:
        raise RuntimeError(f"broadcast_shapes: shapes {list(shapes)} cannot be broadcast together") from None


def broadcast_tensors(*tensors) -> tuple:
    """The tensors expanded to their common shape (views: the gradients sum back)."""
    shape = broadcast_shapes(*[t.shape for t in tensors])
    return tuple(t if t.shape == shape else ops.expand(t, shape=tuple(shape)) for t in tensors)


def _split_by(name, x, d, min_ndim, indices_or_sections):
    if x.ndim < min_ndim:
        raise RuntimeError(f"{name} requires a tensor with at least {min_ndim} dimension, but got a tensor with "
                           f"{x.ndim} dimensions!")
    if isinstance(indices_or_sections, int) and indices_or_sections and x.shape[d] % indices_or_sections:
        raise RuntimeError(f"{name} attempted to split along dimension {d}, but the size of the dimension "
                           f"{x.shape[d]} is not divisible by the split_size {indices_or_sections}!")
    return tensor_split(x, indices_or_sections, d)


def hsplit(x, indices_or_sections) -> tuple:
    """tensor_split along dim 1 (dim 0 of a 1-d tensor); equal sections must divide it."""
    return _split_by("torch.hsplit", x, 0 if x.ndim == 1 else 1, 1, indices_or_sections)


def vsplit(x, indices_or_sections) -> tuple:
    return _split_by("torch.vsplit", x, 0, 2, indices_or_sections)


def dsplit(x, indices_or_sections) -> tuple:
    return _split_by("torch.dsplit", x, 2, 3, indices_or_sections)


def split_with_sizes(x, split_sizes, dim: int = 0) -> tuple:
    """Pieces of the given sizes along dim (they must add up to its length)."""
    d = wrap_dim(dim, x.ndim, "split_with_sizes")
    if builtins.sum(split_sizes) != x.shape[d]:
        raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {x.shape[d]} (input tensor's "
                           f"size at dimension {d}), but got split_sizes={list(split_sizes)}")
    return split(x, list(split_sizes), d)


def diagflat(x, offset: int = 0):
    """x flattened, on the given diagonal of a square matrix."""
    return diag(ops.reshape(x, shape=(-1,)), offset)


def narrow_copy(x, dim: int, start: int, length: int):
    return narrow(x, dim, start, length).clone()


def combinations(input, r: int = 2, with_replacement: bool = False):
    """The r-element combinations of a 1-d tensor's elements, in order, as rows (C, r): a gather, so gradients
    flow back to the elements."""
    if input.ndim != 1:
        raise RuntimeError(f"combinations: expect a 1D vector, but got shape {tuple(input.shape)}")
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    rows = np.array(list(pick(range(input.shape[0]), r)), dtype=np.int64).reshape(-1, r)
    if r == 0 or rows.size == 0:
        return ops.reshape(ops.getitem(input, key=np.zeros(0, np.int64)), shape=(0,) if r == 0 else (0, r))
    return ops.getitem(input, key=rows)
