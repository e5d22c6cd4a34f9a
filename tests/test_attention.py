"""F.scaled_dot_product_attention (one fused node) against its composite and torch, and
nn.MultiheadAttention against torch.nn.MultiheadAttention from the same state dict."""
import math

import numpy as np
import pytest
import torch

import tensorgrad as tg
import tensorgrad.nn.functional as F
from tensorgrad import nn

torch.set_num_threads(1)
TIGHT = dict(rtol=1e-10, atol=1e-12)
CLOSE = dict(rtol=1e-4, atol=1e-5)


def composite(q, k, v, attn_mask=None, is_causal=False, scale=None, keep=None):
    """softmax(q k^T * scale + bias) v from tensorgrad's ordinary ops: a row with every key masked
    gets weights 0 (torch's safe softmax)."""
    L, S = q.shape[-2], k.shape[-2]
    scale = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    s = q @ k.transpose(-1, -2) * scale
    allowed = np.ones((L, S), bool)
    if is_causal:
        allowed = np.tril(allowed)
    if attn_mask is not None and attn_mask.dtype == np.bool_:
        allowed = allowed & attn_mask.numpy()
    elif attn_mask is not None:
        s = s + attn_mask
    allowed = np.broadcast_to(allowed, s.shape)
    s = s.masked_fill(tg.tensor(~allowed), -math.inf)
    dead = np.broadcast_to((~allowed).all(-1, keepdims=True), s.shape) | np.isneginf(s.detach().numpy()).all(
        -1, keepdims=True)
    p = F.softmax(s.masked_fill(tg.tensor(dead), 0.0), dim=-1).masked_fill(tg.tensor(dead), 0.0)
    if keep is not None:
        p = p * keep
    return p @ v


rng = np.random.default_rng(0)
MASK = rng.random((4, 6)) > 0.4
MASK[1] = False                                              # a query that sees no key: output 0
ADD = rng.standard_normal((3, 1, 6))
ADD_DEAD = np.where(MASK, 0.0, -np.inf)                      # additive -inf masks, a row fully masked
CASES = {                                                   # q, k, v shapes and keyword arguments
    "plain": ([(2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7)], {}),
    "causal": ([(2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7)], dict(is_causal=True)),
    "causal-square": ([(3, 5, 4), (3, 5, 4), (3, 5, 4)], dict(is_causal=True)),
    "bool-mask": ([(2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7)], dict(attn_mask=MASK)),
    "float-mask-broadcast": ([(2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7)], dict(attn_mask=ADD)),
    "float-mask-dead-row": ([(2, 4, 5), (2, 6, 5), (2, 6, 3)], dict(attn_mask=ADD_DEAD)),
    "scale": ([(2, 4, 5), (2, 6, 5), (2, 6, 3)], dict(scale=0.3)),
    "broadcast-batch-heads": ([(2, 3, 4, 5), (1, 3, 6, 5), (2, 1, 6, 7)], {}),
    "unbatched": ([(4, 5), (6, 5), (6, 2)], dict(attn_mask=MASK)),
}


def _inputs(shapes, dtype, lib):
    arrays = [np.random.default_rng(i).standard_normal(s).astype(dtype) for i, s in enumerate(shapes)]
    make = tg.tensor if lib is tg else torch.tensor
    return [make(a, requires_grad=True) for a in arrays]


def _kw(kw, lib, dtype):
    out = {}
    for k, v in kw.items():
        if isinstance(v, np.ndarray):
            v = v if v.dtype == np.bool_ else v.astype(dtype)
            v = tg.tensor(v) if lib is tg else torch.tensor(v)
        out[k] = v
    return out


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("case", list(CASES))
def test_sdpa_is_one_node_matching_its_composite_and_torch(case, dtype):
    shapes, kw = CASES[case]
    ours, comp, theirs = _inputs(shapes, dtype, tg), _inputs(shapes, dtype, tg), _inputs(shapes, dtype, torch)
    out = F.scaled_dot_product_attention(*ours, **_kw(kw, tg, dtype))
    ref = composite(*comp, **_kw(kw, tg, dtype))
    tref = torch.nn.functional.scaled_dot_product_attention(*theirs, **_kw(kw, torch, dtype))
    assert out.grad_fn.name() == "scaled_dot_product_attention" and out.dtype == dtype
    g = np.random.default_rng(9).standard_normal(out.shape).astype(dtype)
    for o in (out, ref):
        o.backward(g)
    tref.backward(torch.tensor(g))
    tol = TIGHT if dtype == np.float64 else CLOSE
    np.testing.assert_allclose(out.numpy(), ref.numpy(), **tol)
    np.testing.assert_allclose(out.numpy(), tref.detach().numpy(), **tol)
    for a, b, c in zip(ours, comp, theirs):
        assert a.grad.shape == a.shape
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), **tol)
        np.testing.assert_allclose(a.grad.numpy(), c.grad.numpy(), **tol)


def test_a_fully_masked_query_gives_zeros_and_no_nan():
    q, k, v = _inputs([(1, 4, 5), (1, 6, 5), (1, 6, 3)], np.float64, tg)
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=tg.tensor(MASK))
    out.sum().backward()
    assert (out.numpy()[0, 1] == 0).all() and (q.grad.numpy()[0, 1] == 0).all()
    assert all(np.isfinite(t.grad.numpy()).all() for t in (q, k, v))


def test_the_additive_mask_gets_its_gradient():
    q, k, v = _inputs([(2, 4, 5), (2, 6, 5), (2, 6, 3)], np.float64, tg)
    tq, tk, tv = _inputs([(2, 4, 5), (2, 6, 5), (2, 6, 3)], np.float64, torch)
    m, tm = tg.tensor(ADD[0], requires_grad=True), torch.tensor(ADD[0], requires_grad=True)
    F.scaled_dot_product_attention(q, k, v, attn_mask=m).sum().backward()
    torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, attn_mask=tm).sum().backward()
    np.testing.assert_allclose(m.grad.numpy(), tm.grad.numpy(), **TIGHT)


def test_second_derivatives_match_torch():
    shapes = [(2, 3, 5), (2, 4, 5), (2, 4, 2)]
    ours, theirs = _inputs(shapes, np.float64, tg), _inputs(shapes, np.float64, torch)
    mask = np.tril(np.ones((3, 4), bool))
    out = F.scaled_dot_product_attention(*ours, attn_mask=tg.tensor(mask))
    tout = torch.nn.functional.scaled_dot_product_attention(*theirs, attn_mask=torch.tensor(mask))
    first = tg.grad((out * out).sum(), ours, create_graph=True)
    tfirst = torch.autograd.grad((tout * tout).sum(), theirs, create_graph=True)
    second = tg.grad(sum((f * f).sum() for f in first), ours)
    tsecond = torch.autograd.grad(sum((f * f).sum() for f in tfirst), theirs)
    for a, b in zip(second, tsecond):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-9, atol=1e-11)


def test_dropout_follows_the_generator_and_matches_the_composite_with_that_mask():
    q, k, v = _inputs([(2, 4, 5), (2, 6, 5), (2, 6, 3)], np.float64, tg)
    qc, kc, vc = _inputs([(2, 4, 5), (2, 6, 5), (2, 6, 3)], np.float64, tg)
    out = F.scaled_dot_product_attention(q, k, v, dropout_p=0.3, generator=tg.Generator().manual_seed(5))
    again = F.scaled_dot_product_attention(q, k, v, dropout_p=0.3, generator=tg.Generator().manual_seed(5))
    np.testing.assert_array_equal(out.numpy(), again.numpy())
    keep = tg.ops.dropout_mask(shape=(2, 4, 6), p=0.3, dtype=np.float64, generator=tg.Generator().manual_seed(5))
    assert set(np.unique(keep)) == {0, 1 / 0.7}                  # (the draw dropout makes: 0 or 1 / (1 - p))
    ref = composite(qc, kc, vc, keep=tg.tensor(keep))
    np.testing.assert_allclose(out.numpy(), ref.numpy(), **TIGHT)
    out.sum().backward()
    ref.sum().backward()
    for a, b in ((q, qc), (k, kc), (v, vc)):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), **TIGHT)
    p1 = F.scaled_dot_product_attention(q, k, v, dropout_p=1.0)
    assert (p1.numpy() == 0).all()


def test_sdpa_errors():
    q, k, v = _inputs([(2, 4, 5), (2, 6, 5), (2, 6, 3)], np.float64, tg)
    with pytest.raises(RuntimeError, match="is_causal"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=tg.tensor(MASK), is_causal=True)
    with pytest.raises(ValueError, match="last dims"):
        F.scaled_dot_product_attention(q, v, v)
    with pytest.raises(ValueError, match="different lengths"):
        F.scaled_dot_product_attention(q, k, v[:, :3])


def test_grouped_query_attention():
    shapes = [(1, 4, 3, 5), (1, 2, 6, 5), (1, 2, 6, 3)]
    ours, theirs = _inputs(shapes, np.float64, tg), _inputs(shapes, np.float64, torch)
    out = F.scaled_dot_product_attention(*ours, enable_gqa=True)
    tout = torch.nn.functional.scaled_dot_product_attention(*theirs, enable_gqa=True)
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), **TIGHT)
    out.sum().backward()
    tout.sum().backward()
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), **TIGHT)


# ----------------------------------------------------------------------------
# nn.MultiheadAttention

def _pair(dtype=np.float64, **kw):
    torch.manual_seed(0)
    theirs = torch.nn.MultiheadAttention(8, 2, **kw, dtype=torch.float64 if dtype == np.float64 else torch.float32)
    ours = nn.MultiheadAttention(8, 2, **kw, dtype=dtype)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


MHA = {
    "self": (dict(), dict()),
    "batch-first": (dict(batch_first=True), dict()),
    "no-bias": (dict(bias=False), dict()),
    "kdim-vdim": (dict(kdim=5, vdim=3), dict()),
    "key-padding": (dict(), dict(key_padding_mask=np.array([[False, False, True, False, True],
                                                             [False, True, False, False, False]]))),
    "attn-mask-bool": (dict(), dict(attn_mask=np.triu(np.ones((4, 5), bool), 1))),
    "attn-mask-float-3d": (dict(), dict(attn_mask=np.random.default_rng(3).standard_normal((4, 4, 5)))),
    "per-head-weights": (dict(), dict(average_attn_weights=False)),
    "no-weights": (dict(), dict(need_weights=False, key_padding_mask=np.array([[False, False, True, False, True],
                                                                                 [False, True, False, False, False]]))),
    "unbatched": (dict(), dict(unbatched=True)),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("case", list(MHA))
def test_multihead_attention_matches_torch(case, dtype):
    init, call = MHA[case]
    call = dict(call)
    ours, theirs = _pair(dtype, **init)
    unbatched = call.pop("unbatched", False)
    kd, vd = init.get("kdim", 8), init.get("vdim", 8)
    shapes = [(4, 8), (5, kd), (5, vd)] if unbatched else [(4, 2, 8), (5, 2, kd), (5, 2, vd)]
    if init.get("batch_first"):
        shapes = [(s[1], s[0], s[2]) for s in shapes]
    if case == "self":
        shapes = [shapes[0]] * 3
    xs, txs = _inputs(shapes, dtype, tg), _inputs(shapes, dtype, torch)
    if case == "self":
        xs, txs = [xs[0]] * 3, [txs[0]] * 3
    out, w = ours(*xs, **_kw(call, tg, dtype))
    tout, tw = theirs(*txs, **_kw(call, torch, dtype))
    tol = TIGHT if dtype == np.float64 else CLOSE
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), **tol)
    if tw is None:
        assert w is None
    else:
        np.testing.assert_allclose(w.numpy(), tw.detach().numpy(), **tol)
    g = np.random.default_rng(4).standard_normal(out.shape).astype(dtype)
    out.backward(g)
    tout.backward(torch.tensor(g))
    for x, tx in zip(xs, txs):
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), **tol)
    for (name, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), **tol, err_msg=name)


def test_multihead_attention_init_and_refusals():
    m = nn.MultiheadAttention(8, 2)
    assert m.in_proj_weight.shape == (24, 8) and m.in_proj_bias.shape == (24,)
    assert (m.in_proj_bias.numpy() == 0).all() and (m.out_proj.bias.numpy() == 0).all()
    bound = math.sqrt(6 / (24 + 8))                             # xavier_uniform_ on (3E, E)
    assert np.abs(m.in_proj_weight.numpy()).max() <= bound
    assert list(nn.MultiheadAttention(8, 2, kdim=4).state_dict()) == list(
        torch.nn.MultiheadAttention(8, 2, kdim=4).state_dict())
    with pytest.raises(NotImplementedError, match="add_bias_kv"):
        nn.MultiheadAttention(8, 2, add_bias_kv=True)
    with pytest.raises(AssertionError, match="divisible"):
        nn.MultiheadAttention(8, 3)
    with pytest.raises(RuntimeError, match="is_causal"):
        m(tg.ones(3, 1, 8), tg.ones(3, 1, 8), tg.ones(3, 1, 8), is_causal=True)


def test_multihead_attention_dropout_in_training_only():
    m = nn.MultiheadAttention(8, 2, dropout=0.5, generator=tg.Generator().manual_seed(0))
    x = tg.randn(4, 2, 8)
    a, _ = m(x, x, x)
    b, _ = m(x, x, x)
    assert not np.allclose(a.numpy(), b.numpy())
    m.eval()
    c, _ = m(x, x, x)
    d, _ = m(x, x, x, need_weights=False)
    np.testing.assert_allclose(c.numpy(), d.numpy(), rtol=1e-5, atol=1e-6)
