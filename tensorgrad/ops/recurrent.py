"""Fused recurrent steps: one node per LSTM or GRU step (the hidden-to-hidden matmul and the gates
together, torch's gate order and order of operations), each rule derived by hand and tested against
the step written with ordinary ops (tests/test_rnn.py)."""
import numpy as np

from ..engine import Tensor
from .elementwise import sigmoid, tanh
from .op import Op
from .shape import cat


def _swap(x):
    """x with its last two dims swapped (arrays and tensors)."""
    return x.transpose(-1, -2) if isinstance(x, Tensor) else x.swapaxes(-1, -2)


# recurrent cells, one node per step: the hidden-to-hidden matmul and the gates together.
# xp = x W_ih^T + b_ih (precomputed for every step), h (and c) the previous state, w = W_hh, b = b_hh.

def _sigmoid(a):
    """1 / (1 + exp(-a)), torch's CPU formula, on arrays (exp's overflow gives the right 0); the op
    on tensors (create_graph)."""
    if isinstance(a, Tensor):
        return sigmoid(a)
    return 1 / (1 + np.exp(-a))


def _rows(a, k: int, n: int):
    """The k-th of the n equal column blocks of a (N, n * H) (arrays and tensors)."""
    H = a.shape[-1] // n
    return a[..., k * H:(k + 1) * H]


def _lstm_gates(xp, h, c, w, b):
    a = h @ _swap(w) + b + xp                                               # (N, 4H), torch's order of sums
    i, f = _sigmoid(_rows(a, 0, 4)), _sigmoid(_rows(a, 1, 4))
    g, o = tanh(_rows(a, 2, 4)), _sigmoid(_rows(a, 3, 4))
    c2 = f * c + i * g
    tc = tanh(c2)
    return i, f, g, o, c2, tc


def _floats(op, *xs):
    """torch's recurrent kernels take floating inputs of one dtype only."""
    if any(x.dtype.kind != "f" or x.dtype != xs[0].dtype for x in xs):
        raise TypeError(f"{op}: expected floating inputs of one dtype, got {', '.join(str(x.dtype) for x in xs)}")


def _lstm_forward(xp, h, c, w, b):
    """[h', c'] side by side (N, 2H): c' = f c + i g, h' = o tanh(c')."""
    _floats("lstm_cell", xp, h, c, w, b)
    i, f, g, o, c2, tc = _lstm_gates(xp, h, c, w, b)
    return np.concatenate([o * tc, c2], axis=-1), (i, f, g, o, tc)


def _lstm_backward(gout, out, xp, h, c, w, b, saved=None):
    """dc' = g_c + g_h o (1 - tanh(c')^2); the gates' pre-activations get dc' g i (1 - i),
    dc' c f (1 - f), dc' i (1 - g^2), g_h tanh(c') o (1 - o); then dh = da W, dW = da^T h, db = sum da."""
    if isinstance(gout, Tensor):
        i, f, g, o, _, tc = _lstm_gates(xp, h, c, w, b)
        join = lambda *xs: cat(*xs, axis=xs[0].ndim - 1)                # noqa: E731
    else:
        i, f, g, o, tc = saved
        join = lambda *xs: np.concatenate(xs, axis=-1)                      # noqa: E731
    gh, gc = _rows(gout, 0, 2), _rows(gout, 1, 2)
    dc2 = gc + gh * o * (1 - tc * tc)
    da = join(dc2 * g * i * (1 - i), dc2 * c * f * (1 - f), dc2 * i * (1 - g * g), gh * tc * o * (1 - o))
    return da, da @ w, dc2 * f, _swap(da) @ h, da.sum(axis=0)


lstm_cell = Op("lstm_cell", _lstm_forward, _lstm_backward, "the LSTM step's rule: gates, then matmuls",
               returns_saved=True)


def _gru_gates(xp, h, w, b):
    hg = h @ _swap(w) + b                                                   # (N, 3H)
    r = _sigmoid(_rows(hg, 0, 3) + _rows(xp, 0, 3))
    z = _sigmoid(_rows(hg, 1, 3) + _rows(xp, 1, 3))
    hn = _rows(hg, 2, 3)
    n = tanh(_rows(xp, 2, 3) + hn * r)
    return r, z, n, hn


def _gru_forward(xp, h, w, b):
    """h' = (h - n) z + n, n = tanh(x_n + r (h W_hn^T + b_hn)) (torch's order of operations)."""
    _floats("gru_cell", xp, h, w, b)
    r, z, n, hn = _gru_gates(xp, h, w, b)
    return (h - n) * z + n, (r, z, n, hn)


def _gru_backward(g, out, xp, h, w, b, saved=None):
    """dn = g (1 - z), dz = g (h - n); the pre-activations: n's dn (1 - n^2), r's that times hn r (1 - r),
    z's dz z (1 - z); the hidden side's n block is n's times r. dh = g z + dhg W, dW = dhg^T h."""
    if isinstance(g, Tensor):
        r, z, n, hn = _gru_gates(xp, h, w, b)
        join = lambda *xs: cat(*xs, axis=xs[0].ndim - 1)                # noqa: E731
    else:
        r, z, n, hn = saved
        join = lambda *xs: np.concatenate(xs, axis=-1)                      # noqa: E731
    dan = g * (1 - z) * (1 - n * n)
    dar = dan * hn * r * (1 - r)
    daz = g * (h - n) * z * (1 - z)
    dhg = join(dar, daz, dan * r)
    return join(dar, daz, dan), g * z + dhg @ w, _swap(dhg) @ h, dhg.sum(axis=0)


gru_cell = Op("gru_cell", _gru_forward, _gru_backward, "the GRU step's rule: gates, then matmuls", returns_saved=True)
