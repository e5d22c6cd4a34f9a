"""Recurrent layers, as torch.nn: RNN (tanh or relu), LSTM and GRU over whole sequences (several
layers, bidirectional, dropout between layers), and their cells RNNCell, LSTMCell and GRUCell.

Parameters are torch's, name for name: weight_ih_l{k} (gates * hidden_size, input size of layer k),
weight_hh_l{k} (gates * hidden_size, hidden_size), bias_ih_l{k}, bias_hh_l{k}, with the suffix
_reverse for the backward direction; the gates are stacked in torch's order, LSTM's (input, forget,
cell, output) and GRU's (reset, update, new). The time loop is Python over steps of tensor ops: each
layer projects its whole input at once (one matmul), then each step adds h W_hh^T + b_hh; an LSTM or
GRU step is one fused node (the matmul and the gates, with a hand-derived rule).
Packed sequences are not supported: pad the batch to one length.
"""
import math

import numpy as np

from . import functional as F
from .. import ops
from ..engine import Tensor
from ..functions import Generator, zeros
from . import init
from .modules import Module, Parameter
from .utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


# ----------------------------------------------------------------------------
# one step of each cell: x_proj = x W_ih^T + b_ih (precomputed), h (and c) the previous state

def _rnn_step(x_proj, h, w_hh, b_hh, relu: bool):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu)."""
    pre = F.linear(h, w_hh, b_hh) + x_proj
    return pre.relu() if relu else pre.tanh()


def _lstm_step(x_proj, h, c, w_hh, b_hh):
    """i, f, g, o = sigmoid, sigmoid, tanh, sigmoid of the gates; c' = f c + i g; h' = o tanh(c'):
    one fused node (its rule derived by hand, tested against these ops in tests/test_rnn.py)."""
    hc = ops.lstm_cell(x_proj, h, c, w_hh, _bias(b_hh, w_hh))                     # (N, 2H): h', c'
    H = c.shape[-1]
    return hc[:, :H], hc[:, H:]


def _gru_step(x_proj, h, w_hh, b_hh):
    """r = sigmoid(.), z = sigmoid(.), n = tanh(x_n + r (h W_hn^T + b_hn)); h' = (h - n) z + n: one
    fused node."""
    return ops.gru_cell(x_proj, h, w_hh, _bias(b_hh, w_hh))


def _bias(b, w):
    return b if b is not None else np.zeros(w.shape[0], w.dtype)


def _pack_like(x, lengths, like: PackedSequence) -> PackedSequence:
    """x (L, N, H) packed with the lengths and batch order of `like`."""
    if like.sorted_indices is not None:
        order = like.sorted_indices.numpy()
        x, lengths = x[:, order], lengths[order]
    out = pack_padded_sequence(x, lengths)
    return out._replace(sorted_indices=like.sorted_indices, unsorted_indices=like.unsorted_indices)


class RNNBase(Module):
    """The stack of layers and directions shared by RNN, LSTM and GRU."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
                 device=None, dtype=None, generator: Generator | None = None):
        super().__init__()
        if not isinstance(dropout, (int, float)) or not 0 <= dropout <= 1 or isinstance(dropout, bool):
            raise ValueError("dropout should be a number in range [0, 1] representing the probability of an element "
                             "being zeroed")
        if not isinstance(hidden_size, int) or hidden_size <= 0:
            raise ValueError(f"hidden_size must be a positive integer, got {hidden_size!r}")
        if not isinstance(num_layers, int) or num_layers <= 0:
            raise ValueError(f"num_layers must be a positive integer, got {num_layers!r}")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if proj_size and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        self.mode, self.input_size, self.hidden_size, self.num_layers = mode, input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout, self.bidirectional = bias, batch_first, float(dropout), bidirectional
        self.proj_size, self.generator = proj_size, generator
        self._flat_weights_names = []
        gates, out_size = _GATES[mode] * hidden_size, proj_size or hidden_size
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else out_size * self._directions
            for suffix in ("", "_reverse")[:self._directions]:
                shapes = [("weight_ih", (gates, layer_input)), ("weight_hh", (gates, out_size))]
                if bias:
                    shapes += [("bias_ih", (gates,)), ("bias_hh", (gates,))]
                if proj_size:                                  # h = (o * tanh(c)) W_hr^T
                    shapes += [("weight_hr", (proj_size, hidden_size))]
                for kind, shape in shapes:
                    name = f"{kind}_l{layer}{suffix}"
                    setattr(self, name, Parameter(zeros(*shape, dtype=dtype)))
                    self._flat_weights_names.append(name)
        self.reset_parameters()

    @property
    def _directions(self) -> int:
        return 2 if self.bidirectional else 1

    def reset_parameters(self) -> None:
        """torch's init: every weight and bias U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for name in self._flat_weights_names:
            init.uniform_(getattr(self, name), -bound, bound, self.generator)

    @property
    def all_weights(self) -> list:
        """The parameters per layer and direction, [[w_ih, w_hh, b_ih, b_hh(, w_hr)], ...], as torch."""
        per = (4 if self.bias else 2) + (1 if self.proj_size else 0)
        flat = [getattr(self, n) for n in self._flat_weights_names]
        return [flat[i:i + per] for i in range(0, len(flat), per)]

    def _weights(self, layer: int, suffix: str):
        get = lambda kind: getattr(self, f"{kind}_l{layer}{suffix}") if self.bias or kind.startswith("w") else None  # noqa
        return get("weight_ih"), get("weight_hh"), get("bias_ih"), get("bias_hh"), \
            get("weight_hr") if self.proj_size else None

    def _run_direction(self, x, state, layer: int, reverse: bool, running=None):
        """One layer in one direction over x (L, N, H_in) from state (h, or (h, c)); the outputs (L, N, H)
        and the last state. running (L, N, 1) bool, for packed sequences: where a sequence has no step t the
        state stays as it was (so it ends at the sequence's own last step, and the reverse direction starts
        there)."""
        w_ih, w_hh, b_ih, b_hh, w_hr = self._weights(layer, "_reverse" if reverse else "")
        proj = F.linear(x, w_ih, b_ih)                                  # (L, N, gates * H): every step at once
        steps = range(x.shape[0] - 1, -1, -1) if reverse else range(x.shape[0])
        outs = [None] * x.shape[0]
        for t in steps:
            if self.mode == "LSTM":
                new = _lstm_step(proj[t], *state, w_hh, b_hh)
                if w_hr is not None:
                    new = (F.linear(new[0], w_hr), new[1])              # (N, proj_size)
                state = new if running is None else tuple(F.where(running[t], a, b) for a, b in zip(new, state))
                outs[t] = state[0]
            else:
                new = _gru_step(proj[t], state, w_hh, b_hh) if self.mode == "GRU" else \
                    _rnn_step(proj[t], state, w_hh, b_hh, self.mode == "RNN_RELU")
                state = new if running is None else F.where(running[t], new, state)
                outs[t] = state
        return F.stack(outs, 0), state                                  # (L, N, H)

    def forward(self, input, hx=None):
        name = type(self).__name__
        if type(input).__name__ == "PackedSequence" and not isinstance(input, PackedSequence):
            raise TypeError(f"{name}: this PackedSequence holds another library's tensors; pack tensorgrad tensors "
                            "with tensorgrad.nn.utils.rnn.pack_padded_sequence")
        packed, running = input if isinstance(input, PackedSequence) else None, None
        if packed is not None:                      # the real steps, padded to (L, N, H_in), in the batch's order
            input, lengths = pad_packed_sequence(packed)
            running = np.arange(input.shape[0])[:, None, None] < lengths.numpy()[None, :, None]
        batched = input.ndim == 3
        if input.ndim not in (2, 3):
            raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.ndim}D instead")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got "
                               f"{input.shape[-1]}")
        x = input if batched else input.unsqueeze(1)
        if batched and self.batch_first and packed is None:
            x = x.transpose(0, 1)                                       # (L, N, H_in)
        N = x.shape[1]
        expected = (self.num_layers * self._directions, N, self.hidden_size)
        states = self._initial_states(hx, expected, batched, x.dtype, self.proj_size)
        finals_h, finals_c = [], []
        for layer in range(self.num_layers):
            outs = []
            for d in range(self._directions):
                i = layer * self._directions + d
                state = (states[0][i], states[1][i]) if self.mode == "LSTM" else states[i]
                out, last = self._run_direction(x, state, layer, d == 1, running)
                outs.append(out)
                finals_h.append(last[0] if self.mode == "LSTM" else last)
                if self.mode == "LSTM":
                    finals_c.append(last[1])
            x = outs[0] if len(outs) == 1 else F.cat(outs, -1)         # (L, N, D * H)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, generator=self.generator)
        h_n = F.stack(finals_h, 0)                                      # (layers * D, N, H)
        final = (h_n, F.stack(finals_c, 0)) if self.mode == "LSTM" else h_n
        if packed is not None:                      # packed again, in the input's order
            return _pack_like(x, lengths, packed), final
        if batched and self.batch_first:
            x = x.transpose(0, 1)
        if not batched:
            x = x.squeeze(1)
            final = tuple(s.squeeze(1) for s in final) if self.mode == "LSTM" else final.squeeze(1)
        return x, final

    def _initial_states(self, hx, expected, batched: bool, dtype, proj_size: int = 0):
        """hx as (layers * D, N, H) tensors (zeros when not given), checked as torch does; with
        proj_size, h's last dim is proj_size (c's stays hidden_size)."""
        lstm = self.mode == "LSTM"
        h_shape = expected[:2] + (proj_size,) if proj_size else expected
        if hx is None:
            zero = zeros(*h_shape, dtype=dtype)
            return (zero, zeros(*expected, dtype=dtype)) if lstm else zero
        given = hx if lstm else (hx,)
        if lstm and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise TypeError("LSTM: hx must be a tuple (h_0, c_0)")
        fixed = []
        for what, h, want in zip(("hx", "cx"), given, (h_shape, expected)):
            if not isinstance(h, Tensor):
                raise TypeError(f"{type(self).__name__}: {what} must be a Tensor, got {type(h).__name__}")
            if h.ndim != (3 if batched else 2):
                raise RuntimeError(f"For {'batched' if batched else 'unbatched'} {3 if batched else 2}-D input, "
                                   f"{what} should also be {3 if batched else 2}-D but got {h.ndim}-D tensor")
            h = h if batched else h.unsqueeze(1)
            if tuple(h.shape) != want:
                raise RuntimeError(f"Expected hidden size {want}, got {tuple(h.shape)}")
            fixed.append(h)
        return tuple(fixed) if lstm else fixed[0]

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        if self.proj_size:
            s += f", proj_size={self.proj_size}"
        return s


class RNN(RNNBase):
    """The Elman RNN, h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (nonlinearity='relu': relu),
    as torch.nn.RNN. forward(input, h_0=None) -> (output, h_n)."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device=None, dtype=None, generator: Generator | None = None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        self.nonlinearity = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size, hidden_size, num_layers,
                         bias, batch_first, dropout, bidirectional, device=device, dtype=dtype, generator=generator)

    def extra_repr(self):
        return super().extra_repr() + (", nonlinearity='relu'" if self.nonlinearity == "relu" else "")


class LSTM(RNNBase):
    """Long short-term memory (Hochreiter & Schmidhuber 1997), as torch.nn.LSTM.
    forward(input, (h_0, c_0)=None) -> (output, (h_n, c_n)). proj_size > 0: h = (o tanh(c)) W_hr^T, of
    proj_size features (Sak et al. 2014), the weights weight_hr_l{k}."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
                 device=None, dtype=None, generator: Generator | None = None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size, device, dtype, generator)


class GRU(RNNBase):
    """The gated recurrent unit (Cho et al. 2014), as torch.nn.GRU. forward(input, h_0=None) -> (output, h_n)."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, device=None,
                 dtype=None, generator: Generator | None = None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype, generator=generator)


# ----------------------------------------------------------------------------
# the cells: one step, parameters weight_ih, weight_hh, bias_ih, bias_hh

class RNNCellBase(Module):
    _gates = 1

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None,
                 generator: Generator | None = None):
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        gates = self._gates * hidden_size
        self.weight_ih = Parameter(zeros(gates, input_size, dtype=dtype))
        self.weight_hh = Parameter(zeros(gates, hidden_size, dtype=dtype))
        self.register_parameter("bias_ih", Parameter(zeros(gates, dtype=dtype)) if bias else None)
        self.register_parameter("bias_hh", Parameter(zeros(gates, dtype=dtype)) if bias else None)
        bound = 1.0 / math.sqrt(hidden_size) if hidden_size > 0 else 0
        for p in self.parameters():
            init.uniform_(p, -bound, bound, generator)

    def _inputs(self, input, hx, n_states: int):
        """(input (N, H_in), states (N, H) each, batched?): unbatched (H_in,) inputs get a batch of one."""
        name = type(self).__name__
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D instead")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.shape[-1]} expected {self.input_size}")
        batched = input.ndim == 2
        x = input if batched else input.unsqueeze(0)
        if hx is None:
            states = [zeros(x.shape[0], self.hidden_size, dtype=x.dtype) for _ in range(n_states)]
        else:
            states = list(hx) if n_states == 2 else [hx]
            states = [s if batched else s.unsqueeze(0) for s in states]
            for s in states:
                if tuple(s.shape) != (x.shape[0], self.hidden_size):
                    raise RuntimeError(f"{name}: Expected hidden size {(x.shape[0], self.hidden_size)}, got "
                                       f"{tuple(s.shape)}")
        return x, states, batched

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")


class RNNCell(RNNCellBase):
    """One step of the Elman RNN: h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 device=None, dtype=None, generator: Generator | None = None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, device, dtype, generator)

    def forward(self, input, hx=None):
        x, (h,), batched = self._inputs(input, hx, 1)
        h = _rnn_step(F.linear(x, self.weight_ih, self.bias_ih), h, self.weight_hh, self.bias_hh,
                      self.nonlinearity == "relu")
        return h if batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step: forward(input, (h, c)=None) -> (h', c')."""
    _gates = 4

    def forward(self, input, hx=None):
        x, (h, c), batched = self._inputs(input, hx, 2)
        h, c = _lstm_step(F.linear(x, self.weight_ih, self.bias_ih), h, c, self.weight_hh, self.bias_hh)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step: forward(input, h=None) -> h'."""
    _gates = 3

    def forward(self, input, hx=None):
        x, (h,), batched = self._inputs(input, hx, 1)
        h = _gru_step(F.linear(x, self.weight_ih, self.bias_ih), h, self.weight_hh, self.bias_hh)
        return h if batched else h.squeeze(0)
