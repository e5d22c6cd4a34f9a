"""The wider torch.nn against torch: the Transformer family, resizing (F.interpolate, nn.Upsample),
channel dropout, the padding modules, and thin modules over functional ops (activations, reshaping,
distances, losses), plus F's in-place activation spellings. Each compares the forward, the gradient
of every input and parameter (a non-uniform upstream gradient), in float64 tightly and in float32,
with weights loaded from the torch module's state_dict."""
import copy
import warnings

import numpy as np
import pytest
import torch

import tensorgrad as tg
from tensorgrad import nn
import tensorgrad.nn.functional as F

TIGHT = dict(rtol=1e-10, atol=1e-12)
LOOSE = dict(rtol=1e-4, atol=1e-5)
DTYPES = {"f64": (np.float64, torch.float64, TIGHT), "f32": (np.float32, torch.float32, LOOSE)}


def _load(ours, theirs):
    """torch's weights into ours, through state_dict (the keys must be torch's)."""
    state = theirs.state_dict()
    assert list(ours.state_dict()) == list(state)
    ours.load_state_dict({k: v.detach().numpy() for k, v in state.items()})


def _compare(ours, theirs, arrays, tol, grad=(), out=lambda y: y, **kwargs):
    """Run ours and theirs (callables) on the arrays (those indexed in grad require grad); compare
    the output and, after backward of a non-uniform weighting of it, the gradients of those inputs
    and of every parameter the modules hold."""
    xs = [tg.tensor(a, requires_grad=i in grad) for i, a in enumerate(arrays)]
    txs = [torch.tensor(a, requires_grad=i in grad) for i, a in enumerate(arrays)]
    y, ty = out(ours(*xs, **kwargs)), out(theirs(*txs, **{k: _torch(v) for k, v in kwargs.items()}))
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), **tol)
    params = list(ours.parameters()) if isinstance(ours, nn.Module) else []
    tparams = list(theirs.parameters()) if isinstance(theirs, torch.nn.Module) else []
    if not grad and not params:
        return y
    w = np.random.default_rng(99).standard_normal(y.shape).astype(y.dtype)
    (y * tg.tensor(w)).sum().backward()
    (ty * torch.tensor(w)).sum().backward()
    for i in grad:
        np.testing.assert_allclose(xs[i].grad.numpy(), txs[i].grad.numpy(), **tol)
    assert len(params) == len(tparams)
    for (name, p), tp in zip(ours.named_parameters() if params else (), tparams):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), **tol, err_msg=name)
    return y


def _torch(v):
    return torch.tensor(v) if isinstance(v, np.ndarray) else v


def _rand(*shape, dtype=np.float64, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


# ----------------------------------------------------------------------------
# the Transformer family

LAYER_CONFIGS = {
    "post-norm": dict(),
    "pre-norm-gelu-batch-first": dict(norm_first=True, activation="gelu", batch_first=True),
    "no-bias-eps": dict(bias=False, layer_norm_eps=1e-3),
    "callable-activation": dict(activation="silu"),          # resolved below to each library's F.silu
}


def _layer_kwargs(cfg, lib):
    cfg = dict(cfg)
    if cfg.get("activation") == "silu":
        cfg["activation"] = lib.nn.functional.silu
    return cfg


def _pair(name, cfg, dtype, *args):
    """The same module built by both libraries (dropout 0, so train mode is deterministic), torch's weights."""
    np_dtype, t_dtype, _ = DTYPES[dtype]
    torch.manual_seed(0)
    theirs = getattr(torch.nn, name)(*args, dropout=0.0, dtype=t_dtype, **_layer_kwargs(cfg, torch))
    ours = getattr(nn, name)(*args, dropout=0.0, dtype=np_dtype, **_layer_kwargs(cfg, tg))
    _load(ours, theirs)
    return ours, theirs


def _seq(bf, n, s, e, dtype, seed):
    return _rand(*((n, s, e) if bf else (s, n, e)), dtype=dtype, seed=seed)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cfg", LAYER_CONFIGS)
def test_encoder_layer_matches_torch(cfg, dtype):
    ours, theirs = _pair("TransformerEncoderLayer", LAYER_CONFIGS[cfg], dtype, 8, 2, 16)
    bf = LAYER_CONFIGS[cfg].get("batch_first", False)
    np_dtype, _, tol = DTYPES[dtype]
    src = _seq(bf, 3, 5, 8, np_dtype, 1)
    causal = np.triu(np.ones((5, 5), bool), 1)
    padding = np.array([[0, 0, 0, 1, 1], [0, 0, 0, 0, 0], [0, 0, 0, 0, 1]], bool)
    _compare(ours, theirs, [src], tol, grad=(0,))
    _compare(ours, theirs, [src], tol, grad=(0,), src_mask=causal, is_causal=True)
    _compare(ours, theirs, [src], tol, grad=(0,), src_key_padding_mask=padding)
    float_mask = np.where(causal, -np.inf, 0.0).astype(np_dtype)
    float_padding = np.where(padding, -np.inf, 0.0).astype(np_dtype)
    _compare(ours, theirs, [src], tol, grad=(0,), src_mask=float_mask, src_key_padding_mask=float_padding)
    _compare(ours, theirs, [src[0] if bf else src[:, 0]], tol, grad=(0,))            # unbatched (S, E)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cfg", LAYER_CONFIGS)
def test_decoder_layer_matches_torch(cfg, dtype):
    ours, theirs = _pair("TransformerDecoderLayer", LAYER_CONFIGS[cfg], dtype, 8, 2, 16)
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    bf = LAYER_CONFIGS[cfg].get("batch_first", False)
    np_dtype, _, tol = DTYPES[dtype]
    tgt, memory = _seq(bf, 2, 4, 8, np_dtype, 2), _seq(bf, 2, 6, 8, np_dtype, 3)
    mask = np.triu(np.ones((4, 4), bool), 1)
    mem_padding = np.where(np.array([[0, 0, 0, 0, 1, 1], [0, 0, 0, 0, 0, 0]], bool), -np.inf, 0).astype(np_dtype)
    memory_mask = np.where(np.random.default_rng(4).random((4, 6)) < 0.3, -1.5, 0.0).astype(np_dtype)
    _compare(ours, theirs, [tgt, memory], tol, grad=(0, 1))
    _compare(ours, theirs, [tgt, memory], tol, grad=(0, 1), tgt_mask=mask, tgt_is_causal=True,
             memory_key_padding_mask=mem_padding, memory_mask=memory_mask)
    _compare(ours, theirs, [tgt, memory], tol, grad=(0, 1), tgt_key_padding_mask=np.array([[0, 0, 0, 1], [0] * 4], bool))


@pytest.mark.parametrize("dtype", DTYPES)
def test_encoder_and_decoder_stacks_match_torch(dtype):
    np_dtype, t_dtype, tol = DTYPES[dtype]
    torch.manual_seed(1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)       # torch's note that nested tensors need batch_first
        theirs = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(8, 4, 12, 0.0, dtype=t_dtype), 3,
                                             norm=torch.nn.LayerNorm(8, dtype=t_dtype))
    ours = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 4, 12, 0.0, dtype=np_dtype), 3,
                                 norm=nn.LayerNorm(8, dtype=np_dtype))
    assert "layers.2.self_attn.in_proj_weight" in ours.state_dict() and "norm.bias" in ours.state_dict()
    _load(ours, theirs)
    src = _rand(5, 2, 8, dtype=np_dtype, seed=5)
    mask = torch.nn.Transformer.generate_square_subsequent_mask(5, dtype=t_dtype).numpy()
    _compare(ours, theirs, [src], tol, grad=(0,), mask=mask)                      # is_causal detected from it
    _compare(ours, theirs, [src], tol, grad=(0,), src_key_padding_mask=np.array([[0, 0, 0, 0, 1], [0, 0, 1, 1, 1]], bool))

    torch.manual_seed(2)
    theirs = torch.nn.TransformerDecoder(torch.nn.TransformerDecoderLayer(8, 2, 12, 0.0, dtype=t_dtype), 2)
    ours = nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, 12, 0.0, dtype=np_dtype), 2)
    _load(ours, theirs)
    tgt, memory = _rand(4, 2, 8, dtype=np_dtype, seed=6), _rand(5, 2, 8, dtype=np_dtype, seed=7)
    causal = nn.Transformer.generate_square_subsequent_mask(4, dtype=np_dtype).numpy()
    _compare(ours, theirs, [tgt, memory], tol, grad=(0, 1), tgt_mask=causal)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch_first", [False, True])
def test_transformer_matches_torch(batch_first, dtype):
    np_dtype, t_dtype, tol = DTYPES[dtype]
    torch.manual_seed(3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        theirs = torch.nn.Transformer(8, 2, 2, 2, 16, dropout=0.0, batch_first=batch_first, dtype=t_dtype)
    ours = nn.Transformer(8, 2, 2, 2, 16, dropout=0.0, batch_first=batch_first, dtype=np_dtype)
    _load(ours, theirs)
    src, tgt = _seq(batch_first, 3, 5, 8, np_dtype, 8), _seq(batch_first, 3, 4, 8, np_dtype, 9)
    tgt_mask = nn.Transformer.generate_square_subsequent_mask(4, dtype=np_dtype)
    np.testing.assert_array_equal(tgt_mask.numpy(),
                                  torch.nn.Transformer.generate_square_subsequent_mask(4, dtype=t_dtype).numpy())
    padding = np.array([[0, 0, 0, 1, 1], [0] * 5, [0, 0, 0, 0, 1]], bool)
    _compare(ours, theirs, [src, tgt], tol, grad=(0, 1), tgt_mask=tgt_mask.numpy(), src_key_padding_mask=padding,
             memory_key_padding_mask=padding)
    with pytest.raises(RuntimeError, match="batch number of src and tgt"):
        ours(tg.tensor(src), tg.tensor(tgt[:2] if batch_first else tgt[:, :2]))


def test_transformer_init_shapes_and_defaults():
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        theirs = torch.nn.Transformer(16, 4, 1, 1)
    ours = nn.Transformer(16, 4, 1, 1)
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == \
           {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    layer = ours.encoder.layers[0]
    assert layer.linear1.out_features == 2048 and layer.dropout.p == 0.1 and layer.norm1.eps == 1e-5
    assert layer.activation is F.relu and not layer.norm_first and not layer.self_attn.batch_first
    bound = np.sqrt(6 / (2048 + 16))                                   # Xavier-uniform on every matrix
    assert 0.5 * bound < np.abs(layer.linear1.weight.numpy()).max() <= bound
    assert np.all(layer.linear1.bias.numpy() != 0)                     # vectors keep their init
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        nn.TransformerEncoderLayer(8, 2, activation="tanh")


def test_encoder_clones_are_independent_deep_copies():
    layer = nn.TransformerEncoderLayer(8, 2, 16, activation=nn.GELU())
    enc = nn.TransformerEncoder(layer, 3)
    assert len(enc.layers) == 3 and isinstance(enc.layers[1].activation, nn.GELU)
    a, b = enc.layers[0], enc.layers[1]
    assert a.linear1.weight is not b.linear1.weight is not layer.linear1.weight
    np.testing.assert_array_equal(a.linear1.weight.numpy(), layer.linear1.weight.numpy())
    a.linear1.weight.data[0, 0] += 1.0
    assert b.linear1.weight.numpy()[0, 0] != a.linear1.weight.numpy()[0, 0]
    assert len(list(enc.parameters())) == 3 * len(list(layer.parameters()))
    g = tg.Generator().manual_seed(0)
    shared = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, generator=g), 2)
    assert shared.layers[0].dropout.generator is g and shared.layers[1].self_attn.generator is g
    also = copy.deepcopy(shared)
    assert also.layers[0].linear2.weight is not shared.layers[0].linear2.weight


def test_eval_mode_and_the_nested_tensor_path_match_torch():
    """In eval mode without gradients, torch's encoder skips padded positions (returning 0 there,
    before the final norm); with gradients or in training it computes them."""
    torch.manual_seed(4)
    theirs = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(8, 2, 16, batch_first=True,
                                                                          dtype=torch.float64), 2,
                                         norm=torch.nn.LayerNorm(8, dtype=torch.float64))
    ours = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, batch_first=True, dtype=np.float64), 2,
                                 norm=nn.LayerNorm(8, dtype=np.float64))
    _load(ours, theirs)
    with torch.no_grad():
        theirs.norm.bias.normal_()          # the padded rows become the norm's bias
    _load(ours, theirs)
    ours.eval(), theirs.eval()
    src = _rand(2, 5, 8, seed=10)
    padding = np.array([[0, 0, 0, 1, 1], [0, 0, 0, 0, 0]], bool)
    for kwargs in (dict(src_key_padding_mask=padding), dict()):
        with torch.no_grad(), tg.no_grad():
            want = theirs(torch.tensor(src), **{k: torch.tensor(v) for k, v in kwargs.items()})
            got = ours(tg.tensor(src), **kwargs)
        np.testing.assert_allclose(got.numpy(), want.numpy(), **TIGHT)
    with torch.no_grad(), tg.no_grad():
        zeroed = ours(tg.tensor(src), src_key_padding_mask=padding).numpy()
    np.testing.assert_allclose(zeroed[0, 3:], np.broadcast_to(theirs.norm.bias.detach().numpy(), (2, 8)), **TIGHT)
    # with gradients wanted, both compute every position (the eval-mode dropout is off either way)
    _compare(ours, theirs, [src], TIGHT, grad=(0,), src_key_padding_mask=padding)


def test_transformer_dropout_is_active_in_training_and_replays():
    enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, dropout=0.3, batch_first=True), 2)
    x = tg.tensor(_rand(2, 4, 8, dtype=np.float32, seed=11))
    tg.manual_seed(0)
    a = enc(x).numpy()
    b = enc(x).numpy()
    assert not np.allclose(a, b)                                       # training: fresh masks
    enc.eval()
    np.testing.assert_array_equal(enc(x).numpy(), enc(x).numpy())      # eval: deterministic
    enc.train()

    def loss(x):
        return (enc(x) ** 2).mean()
    step = tg.compile(loss)
    got = []
    for seed in (5, 6, 5, 6):                     # record, check, then replays
        tg.manual_seed(seed)
        for p in enc.parameters():
            p.grad = None
        out = step(x)
        out.backward()
        got.append((out.item(), enc.layers[0].linear1.weight.grad.numpy().copy()))
    tg.manual_seed(5)
    want = loss(x)
    for p in enc.parameters():
        p.grad = None
    want.backward()
    assert got[2][0] == got[0][0] == want.item() and got[1][0] != got[0][0]
    assert np.array_equal(got[2][1], enc.layers[0].linear1.weight.grad.numpy())


def test_transformer_errors_name_the_op():
    layer = nn.TransformerEncoderLayer(8, 2, 16)
    with pytest.raises(RuntimeError, match="Need attn_mask if specifying the is_causal hint"):
        layer(tg.randn(3, 1, 8), is_causal=True)
    with pytest.raises(RuntimeError, match="feature number of src and tgt must be equal to d_model"):
        nn.Transformer(8, 2, 1, 1, 16)(tg.randn(3, 1, 8), tg.randn(2, 1, 4))


# ----------------------------------------------------------------------------
# resizing

INTERPOLATIONS = {
    "nearest-2x": ((2, 3, 5), dict(scale_factor=2)),
    "nearest-size": ((1, 2, 4, 5), dict(size=(7, 3))),
    "nearest-fraction": ((1, 2, 4, 5), dict(scale_factor=(1.5, 0.7))),
    "nearest-exact": ((2, 2, 5), dict(size=8, mode="nearest-exact")),
    "linear": ((2, 3, 5), dict(size=9, mode="linear")),
    "linear-align": ((2, 3, 5), dict(scale_factor=1.6, mode="linear", align_corners=True)),
    "linear-down": ((1, 2, 9), dict(size=4, mode="linear")),
    "bilinear": ((2, 2, 3, 4), dict(scale_factor=2, mode="bilinear")),
    "bilinear-align": ((1, 3, 4, 5), dict(size=(6, 2), mode="bilinear", align_corners=True)),
    "bilinear-fraction": ((1, 2, 4, 5), dict(scale_factor=(1.5, 2.3), mode="bilinear")),
    "bilinear-recompute": ((1, 2, 4, 5), dict(scale_factor=(1.5, 2.3), mode="bilinear",
                                              recompute_scale_factor=True)),
    "bilinear-one-pixel": ((1, 2, 3, 3), dict(size=(1, 1), mode="bilinear", align_corners=True)),
    "trilinear": ((1, 2, 2, 3, 4), dict(size=(3, 5, 2), mode="trilinear")),
    "area": ((1, 2, 6, 5), dict(size=(4, 2), mode="area")),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", INTERPOLATIONS)
def test_interpolate_and_upsample_match_torch(case, dtype):
    shape, kwargs = INTERPOLATIONS[case]
    np_dtype, _, tol = DTYPES[dtype]
    x = _rand(*shape, dtype=np_dtype, seed=12)
    _compare(lambda t: F.interpolate(t, **kwargs), lambda t: torch.nn.functional.interpolate(t, **kwargs), [x], tol,
             grad=(0,))
    if kwargs.get("mode") != "nearest-exact":
        _compare(nn.Upsample(**kwargs), torch.nn.Upsample(**kwargs), [x], tol, grad=(0,))


@pytest.mark.parametrize("dtype", DTYPES)
def test_the_upsampling_modules_and_old_spellings_match_torch(dtype):
    np_dtype, _, tol = DTYPES[dtype]
    x = _rand(2, 3, 3, 4, dtype=np_dtype, seed=13)
    _compare(nn.UpsamplingNearest2d(scale_factor=2), torch.nn.UpsamplingNearest2d(scale_factor=2), [x], tol, grad=(0,))
    _compare(nn.UpsamplingBilinear2d(size=(5, 7)), torch.nn.UpsamplingBilinear2d(size=(5, 7)), [x], tol, grad=(0,))
    for name, kwargs in (("upsample", dict(scale_factor=3, mode="bilinear")), ("upsample_nearest", dict(size=(4, 4))),
                         ("upsample_bilinear", dict(scale_factor=2))):
        with pytest.warns(UserWarning, match=f"nn.functional.{name}` is deprecated"):
            _compare(lambda t, name=name, kwargs=kwargs: getattr(F, name)(t, **kwargs),
                     lambda t, name=name, kwargs=kwargs: getattr(torch.nn.functional, name)(t, **kwargs), [x], tol,
                     grad=(0,))
    assert repr(nn.Upsample(scale_factor=2)) == repr(torch.nn.Upsample(scale_factor=2))
    assert repr(nn.UpsamplingBilinear2d(size=3)) == repr(torch.nn.UpsamplingBilinear2d(size=3))


def test_interpolate_errors_as_torch():
    x = tg.ones(1, 2, 3, 4)
    with pytest.raises(ValueError, match="align_corners option can only be set"):
        F.interpolate(x, scale_factor=2, align_corners=True)
    with pytest.raises(ValueError, match="only one of size or scale_factor"):
        F.interpolate(x, size=3, scale_factor=2)
    with pytest.raises(ValueError, match="either size or scale_factor"):
        F.interpolate(x)
    with pytest.raises(NotImplementedError, match="Got 4D input, but linear mode needs 3D input"):
        F.interpolate(x, size=3, mode="linear")
    with pytest.raises(NotImplementedError, match="bicubic"):
        F.interpolate(x, size=3, mode="bicubic")
    with pytest.raises(ValueError, match="spatial dimensions"):
        F.interpolate(x, size=(3, 4, 5))


def test_a_small_conv_net_with_upsample_trains_as_torch():
    """An encoder-decoder conv net (downsample by a strided conv, Upsample back) and a few SGD steps."""
    def build(lib, dtype):
        m = lib.nn
        return m.Sequential(m.Conv2d(2, 4, 3, stride=2, padding=1, dtype=dtype), m.ReLU(),
                            m.Upsample(scale_factor=2, mode="bilinear"), m.ReflectionPad2d(1),
                            m.Conv2d(4, 2, 3, dtype=dtype), m.PReLU(2, dtype=dtype), m.Upsample(size=(10, 10)),
                            m.Dropout2d(0.0))
    torch.manual_seed(0)
    theirs, ours = build(torch, torch.float64), build(tg, np.float64)
    _load(ours, theirs)
    x, y = _rand(3, 2, 8, 8, seed=14), _rand(3, 2, 10, 10, seed=15)
    opt, topt = tg.optim.SGD(ours.parameters(), lr=0.1), torch.optim.SGD(theirs.parameters(), lr=0.1)
    for _ in range(4):
        loss = F.mse_loss(ours(tg.tensor(x)), tg.tensor(y))
        tloss = torch.nn.functional.mse_loss(theirs(torch.tensor(x)), torch.tensor(y))
        opt.zero_grad(), topt.zero_grad()
        loss.backward(), tloss.backward()
        opt.step(), topt.step()
        np.testing.assert_allclose(loss.item(), tloss.item(), **TIGHT)


# ----------------------------------------------------------------------------
# channel dropout

CHANNEL_DROPOUTS = {   # name -> (F function, module, input shape, the axes one draw covers)
    "1d": (F.dropout1d, nn.Dropout1d, (40, 30, 5), (2,)),
    "1d-unbatched": (F.dropout1d, nn.Dropout1d, (600, 5), (1,)),
    "2d": (F.dropout2d, nn.Dropout2d, (30, 40, 2, 3), (2, 3)),
    "3d": (F.dropout3d, nn.Dropout3d, (20, 30, 2, 2, 2), (2, 3, 4)),
    "3d-unbatched": (F.dropout3d, nn.Dropout3d, (600, 2, 2, 2), (1, 2, 3)),
}


@pytest.mark.parametrize("case", CHANNEL_DROPOUTS)
def test_channel_dropout_zeroes_whole_channels_at_rate_p(case):
    fn, module, shape, spatial = CHANNEL_DROPOUTS[case]
    p = 0.3
    x = tg.tensor(np.abs(_rand(*shape, seed=16)) + 0.5, requires_grad=True)
    tg.manual_seed(0)
    y = fn(x, p)
    ratio = y.numpy() / x.numpy()
    kept = ratio != 0
    assert np.all(kept == kept.any(axis=spatial, keepdims=True))      # a channel is dropped whole
    np.testing.assert_allclose(ratio[kept], 1 / (1 - p), rtol=1e-12)
    n = kept.size // np.prod([shape[a] for a in spatial])
    dropped = 1 - kept.mean()
    assert abs(dropped - p) < 4 * np.sqrt(p * (1 - p) / n)            # 4 standard errors
    y.backward(tg.ones(*shape))
    np.testing.assert_array_equal(x.grad.numpy(), np.where(kept, 1 / (1 - p), 0))    # the gradient is the mask
    layer = module(p)
    assert repr(layer) == repr(getattr(torch.nn, module.__name__)(p))
    tg.manual_seed(0)
    np.testing.assert_array_equal(layer(x).numpy(), y.numpy())        # the module draws as F does
    layer.eval()
    assert layer(x) is x and fn(x, p, training=False) is x
    assert np.array_equal(fn(x, 1.0).numpy(), np.zeros(shape)) and fn(x, 0.0) is x


def test_channel_dropout_replays_under_compile_and_follows_generators():
    layer = nn.Dropout2d(0.5)
    x = tg.ones(4, 6, 3, 3, requires_grad=True)
    f = tg.compile(lambda x: layer(x) * 2.0)
    masks = [f(x).numpy() for _ in range(4)]
    assert all(not np.array_equal(masks[i], masks[i + 1]) for i in range(3))
    tg.manual_seed(3)
    replayed = f(x).numpy()
    tg.manual_seed(3)
    np.testing.assert_array_equal(layer(x).numpy() * 2.0, replayed)
    g = tg.Generator().manual_seed(1)
    a = F.dropout1d(x[:, :, 0], 0.5, generator=g).numpy()
    g.manual_seed(1)
    np.testing.assert_array_equal(F.dropout1d(x[:, :, 0], 0.5, generator=g).numpy(), a)


def test_channel_dropout_checks_and_warnings_as_torch():
    with pytest.raises(RuntimeError, match="dropout1d: Expected 2D or 3D input"):
        F.dropout1d(tg.ones(2, 3, 4, 5))
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
        F.dropout2d(tg.ones(2, 3, 4, 5), 1.5)
    with pytest.warns(UserWarning, match="Received a 3D input to dropout2d"):
        y = F.dropout2d(tg.ones(50, 40, 3), 0.5)
    assert np.all(y.numpy() == y.numpy()[:, :, :1])                 # read as (N, C, L), as torch
    with pytest.warns(UserWarning, match="Received a 3-D input to dropout3d"):
        F.dropout3d(tg.ones(2, 3, 4))


# ----------------------------------------------------------------------------
# padding modules

PADS = {   # name -> (constructor args, input shape)
    "ZeroPad1d": ((2,), (2, 3, 4)),
    "ZeroPad2d": (((1, 0, 2, 3),), (2, 3, 4)),
    "ZeroPad3d": ((1,), (1, 2, 2, 3, 2)),
    "ConstantPad1d": (((3, 1), -1.5), (3, 4)),
    "ConstantPad2d": ((2, 0.5), (1, 2, 3, 3)),
    "ConstantPad3d": (((1, 0, 0, 2, 1, 1), 2.0), (2, 2, 2, 3)),
    "ReflectionPad1d": (((2, 3),), (2, 3, 5)),
    "ReflectionPad2d": ((2,), (1, 2, 4, 3)),
    "ReflectionPad3d": (((1, 0, 1, 2, 0, 1),), (1, 1, 2, 3, 3)),
    "ReplicationPad1d": ((3,), (3, 4)),
    "ReplicationPad2d": (((1, 2, 0, 3),), (2, 2, 3, 3)),
    "ReplicationPad3d": ((1,), (2, 2, 2, 2)),
    "CircularPad1d": (((2, 1),), (2, 3, 4)),
    "CircularPad2d": ((1,), (1, 2, 3, 4)),
    "CircularPad3d": (((1, 1, 0, 2, 1, 0),), (1, 1, 2, 3, 3)),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", PADS)
def test_padding_modules_match_torch(name, dtype):
    args, shape = PADS[name]
    np_dtype, _, tol = DTYPES[dtype]
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(theirs)
    _compare(ours, theirs, [_rand(*shape, dtype=np_dtype, seed=17)], tol, grad=(0,))


def test_padding_errors():
    with pytest.raises(ValueError, match="ZeroPad2d: padding must be an int or 4 ints"):
        nn.ZeroPad2d((1, 2))
    with pytest.raises(NotImplementedError, match="padding size 2 is not supported for a 4D input"):
        nn.ReflectionPad1d(1)(tg.ones(1, 2, 3, 4))
    with pytest.raises(ValueError, match="reflect padding"):
        nn.ReflectionPad1d(3)(tg.ones(1, 2, 3))


# ----------------------------------------------------------------------------
# thin modules over functional ops

def _x(*shape, seed=18, dtype=np.float64, low=None):
    a = _rand(*shape, dtype=dtype, seed=seed)
    return np.abs(a) + low if low is not None else a


WRAPPERS = {   # name -> (constructor args, input builders (given a dtype), inputs requiring grad)
    "GLU": ((), lambda d: [_x(3, 4, dtype=d)], (0,)),
    "GLU-dim0": ((0,), lambda d: [_x(4, 3, dtype=d)], (0,)),
    "Softmin": ((1,), lambda d: [_x(3, 5, dtype=d)], (0,)),
    "Softmax2d": ((), lambda d: [_x(2, 3, 2, 2, dtype=d)], (0,)),
    "Hardshrink": ((), lambda d: [_x(4, 5, dtype=d)], (0,)),
    "Softshrink": ((0.3,), lambda d: [_x(4, 5, dtype=d)], (0,)),
    "Tanhshrink": ((), lambda d: [_x(4, 5, dtype=d)], (0,)),
    "Threshold": ((0.1, -2.0), lambda d: [_x(4, 5, dtype=d)], (0,)),
    "PixelShuffle": ((2,), lambda d: [_x(2, 8, 2, 3, dtype=d)], (0,)),
    "PixelUnshuffle": ((2,), lambda d: [_x(2, 2, 4, 6, dtype=d)], (0,)),
    "CosineSimilarity": ((), lambda d: [_x(3, 4, dtype=d), _x(3, 4, seed=19, dtype=d)], (0, 1)),
    "CosineSimilarity-dim": ((0, 1e-6), lambda d: [_x(3, 4, dtype=d), _x(3, 1, seed=19, dtype=d)], (0, 1)),
    "PairwiseDistance": ((), lambda d: [_x(3, 4, dtype=d), _x(3, 4, seed=19, dtype=d)], (0, 1)),
    "PairwiseDistance-p1": ((1.0, 1e-6, True), lambda d: [_x(3, 4, dtype=d), _x(3, 4, seed=19, dtype=d)], (0, 1)),
    "Unfold": (((2, 3),), lambda d: [_x(2, 3, 4, 5, dtype=d)], (0,)),
    "Unfold-options": (((2, 2), 1, 1, 2), lambda d: [_x(1, 2, 5, 5, dtype=d)], (0,)),
    "Fold": (((4, 5), (2, 2)), lambda d: [_x(2, 12, 12, dtype=d)], (0,)),
    "AdaptiveAvgPool1d": ((3,), lambda d: [_x(2, 3, 7, dtype=d)], (0,)),
    "PReLU": ((), lambda d: [_x(2, 3, 4, dtype=d)], (0,)),
    "PReLU-channels": ((3, 0.1), lambda d: [_x(2, 3, 4, dtype=d)], (0,)),
    "MarginRankingLoss": ((0.2,), lambda d: [_x(6, dtype=d), _x(6, seed=19, dtype=d),
                                             np.array([1, -1, 1, 1, -1, -1], d)], (0, 1)),
    "TripletMarginLoss": ((0.5, 2.0, 1e-6, True), lambda d: [_x(4, 3, dtype=d), _x(4, 3, seed=19, dtype=d),
                                                            _x(4, 3, seed=20, dtype=d)], (0, 1, 2)),
    "CosineEmbeddingLoss": ((0.1, None, None, "sum"), lambda d: [_x(4, 3, dtype=d), _x(4, 3, seed=19, dtype=d),
                                                                np.array([1, -1, -1, 1], d)], (0, 1)),
    "HingeEmbeddingLoss": ((), lambda d: [_x(5, dtype=d), np.array([1, -1, 1, -1, -1], d)], (0,)),
    "SoftMarginLoss": ((None, None, "none"), lambda d: [_x(5, dtype=d), np.array([1, -1, 1, -1, -1], d)], (0,)),
    "GaussianNLLLoss": ((), lambda d: [_x(4, 3, dtype=d), _x(4, 3, seed=19, dtype=d), _x(4, 3, seed=20, dtype=d, low=0.1)],
                        (0, 1, 2)),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", WRAPPERS)
def test_thin_modules_match_torch(case, dtype):
    args, inputs, grad = WRAPPERS[case]
    name = case.split("-")[0]
    np_dtype, t_dtype, tol = DTYPES[dtype]
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    if name == "PReLU":
        ours.to(np_dtype), theirs.to(t_dtype)
        with torch.no_grad():
            theirs.weight.uniform_(0.1, 0.5)       # not the init value, so the copy is seen
        _load(ours, theirs)
    assert repr(ours) == repr(theirs)
    _compare(ours, theirs, inputs(np_dtype), tol, grad=grad)


def test_prelu_and_gaussian_nll_defaults():
    p, tp = nn.PReLU(4, init=0.3), torch.nn.PReLU(4, init=0.3)
    assert list(p.state_dict()) == ["weight"] and p.weight.shape == (4,)
    np.testing.assert_allclose(p.weight.numpy(), tp.weight.detach().numpy())
    loss = nn.GaussianNLLLoss(full=True, eps=1e-3, reduction="sum")
    assert (loss.full, loss.eps, loss.reduction) == (True, 1e-3, "sum")
    with pytest.raises(TypeError):
        nn.GaussianNLLLoss(True)                       # keyword-only, as torch


def test_legacy_loss_arguments_as_torch():
    a, b, t = _x(5), _x(5, seed=21), np.array([1.0, -1, 1, -1, 1])
    for size_average, reduce in ((False, None), (None, False), (True, True)):
        with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
            ours = nn.MarginRankingLoss(0.1, size_average, reduce)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            theirs = torch.nn.MarginRankingLoss(0.1, size_average, reduce)
        assert ours.reduction == theirs.reduction
        _compare(ours, theirs, [a, b, t], TIGHT, grad=(0, 1))
    with pytest.raises(ValueError, match="bogus is not a valid value for reduction"):
        nn.SoftMarginLoss(reduction="bogus")


# ----------------------------------------------------------------------------
# F's in-place activations

@pytest.mark.parametrize("name, args", [("leaky_relu_", (0.2,)), ("elu_", (0.7,)), ("celu_", (1.5,)),
                                        ("selu_", ()), ("threshold_", (0.1, -3.0))])
def test_inplace_activation_spellings_write_into_their_input(name, args):
    a = _x(3, 4, seed=22)
    x, tx = tg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    h, th = x * 1, tx * 1
    assert getattr(F, name)(h, *args) is h
    assert getattr(torch.nn.functional, name)(th, *args) is th
    np.testing.assert_allclose(h.numpy(), th.detach().numpy(), **TIGHT)
    w = _x(3, 4, seed=23)
    (h * tg.tensor(w)).sum().backward()
    (th * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), **TIGHT)
    with pytest.raises(RuntimeError):
        getattr(F, name)(tg.tensor(a, requires_grad=True), *args)     # a leaf that requires grad, as torch
