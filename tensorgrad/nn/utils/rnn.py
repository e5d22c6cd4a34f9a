"""torch.nn.utils.rnn: batches of sequences of different lengths. pad_sequence stacks them padded to the
longest; a PackedSequence holds only their real steps (time-major, longest first), which nn.RNN, LSTM and
GRU take as input: each sequence's state stops at its own last step (the reverse direction starts there),
and the outputs come back packed the same way."""
from typing import NamedTuple

import numpy as np

from ... import ops
from ...engine import Tensor
from ...functions import cat, stack, tensor
from ..functional import pad


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0, padding_side: str = "right"):
    """(L, N, *) (or (N, L, *)) from N tensors of shapes (l_i, *), padded with padding_value."""
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError("pad_sequence: received an empty list of sequences")
    if padding_side not in ("right", "left"):
        raise ValueError(f"pad_sequence: padding_side must be 'left' or 'right', got {padding_side!r}")
    longest = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        widths = [0, 0] * (s.ndim - 1) + ([0, longest - s.shape[0]] if padding_side == "right"
                                          else [longest - s.shape[0], 0])
        padded.append(pad(s, tuple(widths), value=padding_value) if longest > s.shape[0] else s)
    out = stack(padded, 0)                                            # (N, L, *)
    return out if batch_first else out.transpose(0, 1)


def unpad_sequence(padded_sequences, lengths, batch_first: bool = False) -> list:
    """The N sequences of a padded batch, each cut to its length."""
    x = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    return [x[i, :int(n)] for i, n in enumerate(_lengths(lengths))]


class PackedSequence(NamedTuple):
    """data: the real steps, time-major ((sum of lengths, *)); batch_sizes: how many sequences are still
    running at each step; sorted_indices: the batch order by length (longest first) and unsorted_indices its
    inverse (None when the batch came sorted)."""
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor = None
    unsorted_indices: Tensor = None

    def to(self, *args, **kwargs):
        return self._replace(data=self.data.to(*args, **kwargs))


def _lengths(lengths) -> np.ndarray:
    return np.asarray(lengths._data if isinstance(lengths, Tensor) else lengths, dtype=np.int64).reshape(-1)


def pack_padded_sequence(input, lengths, batch_first: bool = False, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch (L, N, *) (or (N, L, *)) of sequences of the given lengths."""
    n = _lengths(lengths)
    x = input.transpose(0, 1) if batch_first else input                # (L, N, *)
    if len(n) != x.shape[1]:
        raise ValueError(f"pack_padded_sequence: {len(n)} lengths for a batch of {x.shape[1]}")
    if n.size and (n.min() <= 0 or n.max() > x.shape[0]):
        raise RuntimeError("pack_padded_sequence: every length must be in [1, the padded length]")
    if enforce_sorted:
        if np.any(np.diff(n) > 0):
            raise RuntimeError("pack_padded_sequence: `lengths` array must be sorted in decreasing order when "
                               "`enforce_sorted` is True; pass enforce_sorted=False")
        order, inverse = None, None
        sorted_n = n
    else:
        o = np.argsort(-n, kind="stable")
        order, inverse = tensor(o), tensor(np.argsort(o))
        sorted_n = n[o]
        x = x[:, o]
    batch_sizes = np.array([(sorted_n > t).sum() for t in range(int(sorted_n[0]))], np.int64)
    data = cat([x[t, :b] for t, b in enumerate(batch_sizes)], 0)
    return PackedSequence(data, tensor(batch_sizes), order, inverse)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False, padding_value: float = 0.0,
                        total_length=None):
    """(padded batch (L, N, *) or (N, L, *) in the original order, lengths (int64)) from a PackedSequence."""
    data, sizes = sequence.data, _lengths(sequence.batch_sizes)
    L = len(sizes) if total_length is None else int(total_length)
    if L < len(sizes):
        raise ValueError(f"pad_packed_sequence: total_length {L} is shorter than the longest sequence "
                         f"({len(sizes)})")
    N = int(sizes[0])
    rows, start = [], 0
    for b in sizes:
        step = data[start:start + b]
        if b < N:
            step = pad(step, tuple([0, 0] * (data.ndim - 1) + [0, N - int(b)]), value=padding_value)
        rows.append(step)
        start += int(b)
    rows += [ops.expand(tensor(np.asarray(padding_value, data.dtype)), shape=(N,) + data.shape[1:])
             ] * (L - len(sizes))
    x = stack(rows, 0)                                                # (L, N, *), sorted order
    n = np.array([(sizes > i).sum() for i in range(N)], np.int64)
    if sequence.unsorted_indices is not None:
        back = _lengths(sequence.unsorted_indices)
        x, n = x[:, back], n[back]
    return (x.transpose(0, 1) if batch_first else x), tensor(n)


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of sequences (l_i, *) directly."""
    sequences = list(sequences)
    return pack_padded_sequence(pad_sequence(sequences), [s.shape[0] for s in sequences],
                                enforce_sorted=enforce_sorted)
