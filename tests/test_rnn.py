"""nn.RNN, nn.LSTM, nn.GRU and their cells against torch.nn from the same state dict: outputs, final
states, gradients of the input, the initial states and every parameter (float64 tight, float32
close), torch's parameter names and gate order, dropout between layers, and the refusals."""
import numpy as np
import pytest
import torch

import tensorgrad as tg
from tensorgrad import nn

torch.set_num_threads(1)
TIGHT = dict(rtol=1e-10, atol=1e-12)
CLOSE = dict(rtol=1e-4, atol=1e-5)

LAYERS = {   # class, kwargs
    "rnn": ("RNN", dict()),
    "rnn-relu-2-layers": ("RNN", dict(nonlinearity="relu", num_layers=2)),
    "rnn-bidirectional-batch-first": ("RNN", dict(bidirectional=True, batch_first=True)),
    "lstm": ("LSTM", dict()),
    "lstm-3-layers-bidirectional": ("LSTM", dict(num_layers=3, bidirectional=True)),
    "lstm-no-bias-batch-first": ("LSTM", dict(bias=False, batch_first=True, num_layers=2)),
    "lstm-proj-2-layers-bidirectional": ("LSTM", dict(proj_size=3, num_layers=2, bidirectional=True)),
    "lstm-proj-no-bias": ("LSTM", dict(proj_size=2, bias=False)),
    "gru": ("GRU", dict()),
    "gru-2-layers-bidirectional": ("GRU", dict(num_layers=2, bidirectional=True)),
    "gru-no-bias": ("GRU", dict(bias=False)),
}


def _pair(cls, kwargs, dtype, size=(3, 4)):
    torch.manual_seed(0)
    theirs = getattr(torch.nn, cls)(*size, **kwargs, dtype=torch.float64 if dtype == np.float64 else torch.float32)
    ours = getattr(nn, cls)(*size, **kwargs, dtype=dtype)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for (k, v), (_, tv) in zip(ours.state_dict().items(), theirs.state_dict().items()):
        assert v.shape == tuple(tv.shape), k
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def _t(a, lib, grad=True):
    return tg.tensor(a, requires_grad=grad) if lib is tg else torch.tensor(a, requires_grad=grad)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("with_state", [False, True], ids=["zero-state", "given-state"])
@pytest.mark.parametrize("case", list(LAYERS))
def test_layer_matches_torch(case, with_state, dtype):
    cls, kwargs = LAYERS[case]
    ours, theirs = _pair(cls, kwargs, dtype)
    L, N = 5, 2
    shape = (N, L, 3) if kwargs.get("batch_first") else (L, N, 3)
    rng = np.random.default_rng(1)
    a = rng.standard_normal(shape).astype(dtype)
    sizes = [kwargs.get("proj_size") or 4] + ([4] if cls == "LSTM" else [])     # h (proj_size with one), c
    states = [rng.standard_normal((ours.num_layers * ours._directions, N, size)).astype(dtype) for size in sizes]
    results = []
    for lib, model in ((tg, ours), (torch, theirs)):
        x = _t(a, lib)
        hs = [_t(s, lib) for s in states]
        hx = None if not with_state else (tuple(hs) if cls == "LSTM" else hs[0])
        out, final = model(x, hx)
        finals = list(final) if cls == "LSTM" else [final]
        loss = (out * _t(np.linspace(-1, 1, out.numel()).reshape(tuple(out.shape)).astype(dtype), lib, False)).sum()
        for i, f in enumerate(finals):
            loss = loss + (f * (i + 2)).sum() * 0.5
        loss.backward()
        grads = [x.grad] + ([h.grad for h in hs] if with_state else []) + [p.grad for p in model.parameters()]
        results.append(([out] + finals, grads))
    tol = TIGHT if dtype == np.float64 else CLOSE
    for a_, b_ in zip(results[0][0], results[1][0]):
        assert a_.shape == tuple(b_.shape)
        np.testing.assert_allclose(a_.numpy(), b_.detach().numpy(), **tol)
    for i, (a_, b_) in enumerate(zip(*[r[1] for r in results])):
        np.testing.assert_allclose(a_.numpy(), b_.numpy(), **tol, err_msg=f"gradient {i}")


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_unbatched_input(cls):
    ours, theirs = _pair(cls, dict(num_layers=2), np.float64)
    a = np.random.default_rng(2).standard_normal((6, 3))
    out, final = ours(tg.tensor(a))
    tout, tfinal = theirs(torch.tensor(a))
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), **TIGHT)
    for f, tf in zip(final if cls == "LSTM" else [final], tfinal if cls == "LSTM" else [tfinal]):
        assert f.shape == tuple(tf.shape) == (2, 4)
        np.testing.assert_allclose(f.numpy(), tf.detach().numpy(), **TIGHT)


CELLS = {"RNNCell": dict(), "RNNCell-relu": dict(nonlinearity="relu"), "LSTMCell": dict(), "GRUCell": dict(),
         "GRUCell-no-bias": dict(bias=False), "LSTMCell-no-bias": dict(bias=False)}


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("case", list(CELLS))
def test_cell_matches_torch_over_a_few_steps(case, dtype):
    cls = case.split("-")[0]
    ours, theirs = _pair(cls, CELLS[case], dtype)
    rng = np.random.default_rng(3)
    xs = rng.standard_normal((4, 2, 3)).astype(dtype)
    results = []
    for lib, cell in ((tg, ours), (torch, theirs)):
        x = _t(xs, lib)
        state, total = None, 0
        for t in range(4):
            state = cell(x[t], state)
            h = state[0] if cls == "LSTMCell" else state
            total = total + (h * (t + 1)).sum()
        total.backward()
        results.append((h, [x.grad] + [p.grad for p in cell.parameters()]))
    tol = TIGHT if dtype == np.float64 else CLOSE
    np.testing.assert_allclose(results[0][0].numpy(), results[1][0].detach().numpy(), **tol)
    for a_, b_ in zip(results[0][1], results[1][1]):
        np.testing.assert_allclose(a_.numpy(), b_.numpy(), **tol)
    one = ours(tg.tensor(xs[0, 0]))                                          # unbatched
    assert (one[0] if cls == "LSTMCell" else one).shape == (4,)


def test_torchs_names_gate_order_and_init():
    lstm = nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    names = [n for n, _ in lstm.named_parameters()]
    assert names == [n for n, _ in torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True).named_parameters()]
    assert lstm.weight_ih_l1.shape == (16, 8) and lstm.weight_hh_l0_reverse.shape == (16, 4)
    assert all(np.abs(p.numpy()).max() <= 0.5 for p in lstm.parameters())          # U(-1/sqrt(4), 1/sqrt(4))
    assert len(lstm.all_weights) == 4 and len(lstm.all_weights[0]) == 4
    assert nn.GRU(3, 5).weight_ih_l0.shape == (15, 3) and nn.RNNCell(2, 3).weight_hh.shape == (3, 3)


def test_dropout_between_layers_only_in_training():
    gru = nn.GRU(3, 4, num_layers=3, dropout=0.5, generator=tg.Generator().manual_seed(0))
    x = tg.randn(5, 2, 3)
    a, _ = gru(x)
    b, _ = gru(x)
    assert not np.allclose(a.numpy(), b.numpy())                            # fresh masks
    gru.eval()
    c, _ = gru(x)
    d, _ = gru(x)
    np.testing.assert_array_equal(c.numpy(), d.numpy())
    one = nn.GRU(3, 4, num_layers=1, dropout=0.5)                           # no layer to drop after
    one.load_state_dict({k: v for k, v in gru.state_dict().items() if "_l0" in k})
    np.testing.assert_array_equal(one(x)[0].numpy(), one(x)[0].numpy())


def test_refusals_and_errors():
    packed = torch.nn.utils.rnn.pack_padded_sequence(torch.zeros(4, 2, 3), [4, 2])
    with pytest.raises(TypeError, match="another library's tensors"):
        nn.LSTM(3, 4)(packed)
    with pytest.raises(ValueError, match="proj_size"):
        nn.LSTM(3, 4, proj_size=4)
    with pytest.raises(ValueError, match="only supported for LSTM"):
        nn.RNNBase("GRU", 3, 4, proj_size=2)
    with pytest.raises(RuntimeError, match="input_size"):
        nn.GRU(3, 4)(tg.zeros(5, 2, 2))
    with pytest.raises(RuntimeError, match="Expected hidden size"):
        nn.GRU(3, 4)(tg.zeros(5, 2, 3), tg.zeros(1, 3, 4))
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="dropout"):
        nn.RNN(3, 4, dropout=1.5)


# ----------------------------------------------------------------------------
# the fused steps against the same step written with ordinary ops

def _lstm_composite(xp, h, c, w, b):
    i, f, g, o = (h @ w.T + b + xp).chunk(4, dim=-1)
    c = f.sigmoid() * c + i.sigmoid() * g.tanh()
    return tg.cat([o.sigmoid() * c.tanh(), c], -1)


def _gru_composite(xp, h, w, b):
    xr, xz, xn = xp.chunk(3, dim=-1)
    hr, hz, hn = (h @ w.T + b).chunk(3, dim=-1)
    r, z = (hr + xr).sigmoid(), (hz + xz).sigmoid()
    n = (xn + hn * r).tanh()
    return (h - n) * z + n


@pytest.mark.parametrize("name", ["lstm_cell", "gru_cell"])
def test_fused_step_matches_its_composite_and_differentiates_twice(name):
    from tensorgrad.testing import gradcheck
    fused, composite = getattr(tg.ops, name), _lstm_composite if name == "lstm_cell" else _gru_composite
    G, N, H = (4 if name == "lstm_cell" else 3), 3, 4
    rng = np.random.default_rng(0)
    shapes = [(N, G * H), (N, H)] + ([(N, H)] if name == "lstm_cell" else []) + [(G * H, H), (G * H,)]
    arrays = [rng.standard_normal(s) for s in shapes]
    ours, ref = [tg.tensor(a, requires_grad=True) for a in arrays], [tg.tensor(a, requires_grad=True) for a in arrays]
    out, want = fused(*ours), composite(*ref)
    assert out.grad_fn.name() == name
    np.testing.assert_allclose(out.numpy(), want.numpy(), rtol=1e-14, atol=1e-15)
    g = rng.standard_normal(out.shape)
    out.backward(g)
    want.backward(g)
    for a, b in zip(ours, ref):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-13, atol=1e-15)
    assert gradcheck(fused, [tg.tensor(a, requires_grad=True) for a in arrays])
    xs = [tg.tensor(a, requires_grad=True) for a in arrays]                 # second derivatives through the rule
    first = tg.grad((fused(*xs) ** 2).sum(), xs, create_graph=True)
    second = tg.grad(sum((f * f).sum() for f in first), xs)
    cs = [tg.tensor(a, requires_grad=True) for a in arrays]
    cfirst = tg.grad((composite(*cs) ** 2).sum(), cs, create_graph=True)
    csecond = tg.grad(sum((f * f).sum() for f in cfirst), cs)
    for a, b in zip(second, csecond):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-12)


# --- packed and padded sequences (torch.nn.utils.rnn) -----------------------------------------

@pytest.mark.parametrize("mode", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("enforce_sorted", [False, True])
def test_packed_sequences_through_the_recurrent_layers_as_torch(mode, bidirectional, enforce_sorted):
    """Each sequence's state stops at its own last step (the reverse direction starts there): the packed
    outputs, h_n (and c_n), and every gradient equal torch's."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((5, 4, 2)).astype(np.float32)
    lengths = [5, 4, 3, 1] if enforce_sorted else [3, 5, 1, 4]
    got = []
    for m in (torch, tg):
        m.manual_seed(0)
        net = getattr(m.nn, mode)(2, 3, num_layers=2, bidirectional=bidirectional)
        if m is tg:
            net.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})
        else:
            ref = net
        x = m.tensor(X, requires_grad=True)
        out, hn = net(m.nn.utils.rnn.pack_padded_sequence(x, lengths, enforce_sorted=enforce_sorted))
        padded, n = m.nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=6)
        h = hn[0] if mode == "LSTM" else hn
        (padded * padded).sum().add((h * h).sum()).backward()
        got.append([out.data.detach().numpy(), out.batch_sizes.numpy(), padded.detach().numpy(), n.numpy(),
                    h.detach().numpy(), x.grad.numpy(), net.weight_hh_l0.grad.numpy(), net.bias_ih_l1.grad.numpy()])
    for a, b in zip(*got):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_pad_unpad_and_pack_sequences_as_torch():
    for side in ("right", "left"):
        out = []
        for m in (torch, tg):
            seqs = [m.tensor([1.0, 2.0, 3.0]), m.tensor([4.0]), m.tensor([5.0, 6.0])]
            padded = m.nn.utils.rnn.pad_sequence(seqs, batch_first=True, padding_value=-1, padding_side=side)
            unpadded = m.nn.utils.rnn.unpad_sequence(padded, m.tensor([3, 1, 2]), batch_first=True)
            packed = m.nn.utils.rnn.pack_sequence(seqs, enforce_sorted=False)
            out.append((padded.tolist(), m.nn.utils.rnn.pad_sequence(seqs).tolist(), [u.tolist() for u in unpadded],
                        packed.data.tolist(), packed.batch_sizes.tolist(), packed.sorted_indices.tolist()))
        assert out[0] == out[1]
    with pytest.raises(RuntimeError, match="sorted in decreasing order"):
        tg.nn.utils.rnn.pack_padded_sequence(tg.zeros(3, 2), [1, 3])
