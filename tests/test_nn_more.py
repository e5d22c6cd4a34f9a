"""Issue 19's containers and utilities against torch: Unflatten, Bilinear, Embedding.from_pretrained,
EmbeddingBag, parameters_to_vector / vector_to_parameters, clip_grad_norm_(foreach=), Module.half /
float / double / to(dtype), named_modules / get_submodule / apply, and weight tying."""
import numpy as np
import pytest
import torch

import tensorgrad as tg
import tensorgrad.nn.functional as F
from tensorgrad import nn

TIGHT = dict(rtol=1e-10, atol=1e-12)


def _copy(ours, theirs):
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})


def test_unflatten_and_bilinear_match_torch():
    x = np.random.default_rng(0).standard_normal((2, 6, 3))
    assert nn.Unflatten(1, (2, 3))(tg.tensor(x)).shape == torch.nn.Unflatten(1, (2, 3))(torch.tensor(x)).shape
    assert nn.Unflatten(-1, (3, -1))(tg.tensor(x)).shape == (2, 6, 3, 1)
    torch.manual_seed(0)
    theirs = torch.nn.Bilinear(3, 4, 5, dtype=torch.float64)
    ours = nn.Bilinear(3, 4, 5, dtype=np.float64)
    assert list(ours.state_dict()) == list(theirs.state_dict()) and ours.weight.shape == (5, 3, 4)
    assert np.abs(ours.weight.numpy()).max() <= 1 / np.sqrt(3)
    _copy(ours, theirs)
    a, b = np.random.default_rng(1).standard_normal((2, 7, 3)), np.random.default_rng(2).standard_normal((2, 7, 4))
    xs, txs = [tg.tensor(v, requires_grad=True) for v in (a, b)], [torch.tensor(v, requires_grad=True) for v in (a, b)]
    out, tout = ours(*xs), theirs(*txs)
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), **TIGHT)
    out.sum().backward()
    tout.sum().backward()
    for p, tp in zip(list(xs) + list(ours.parameters()), list(txs) + list(theirs.parameters())):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), **TIGHT)
    no_bias = nn.Bilinear(3, 4, 5, bias=False)
    assert no_bias.bias is None and F.bilinear(tg.ones(3), tg.ones(4), no_bias.weight).shape == (5,)


def test_embedding_from_pretrained():
    w = np.random.default_rng(0).standard_normal((5, 3))
    emb = nn.Embedding.from_pretrained(tg.tensor(w))
    temb = torch.nn.Embedding.from_pretrained(torch.tensor(w))
    assert not emb.weight.requires_grad and temb.weight.requires_grad is False
    idx = np.array([[0, 4], [2, 2]])
    np.testing.assert_array_equal(emb(tg.tensor(idx)).numpy(), temb(torch.tensor(idx)).numpy())
    trainable = nn.Embedding.from_pretrained(tg.tensor(w), freeze=False, padding_idx=1)
    assert trainable.weight.requires_grad and trainable.padding_idx == 1
    assert trainable.weight.numpy()[1].tolist() == w[1].tolist()          # torch keeps the given row
    with pytest.raises(ValueError, match="2-dimensional"):
        nn.Embedding.from_pretrained(tg.ones(3))


BAGS = {   # EmbeddingBag kwargs, forward arguments
    "mean-2d": (dict(mode="mean"), dict(input=np.array([[1, 2, 4], [4, 3, 9]]))),
    "sum-offsets": (dict(mode="sum"), dict(input=np.array([1, 2, 4, 5, 4, 3, 2, 9]), offsets=np.array([0, 4, 4, 6]))),
    "mean-offsets-empty-bag": (dict(mode="mean"), dict(input=np.array([1, 2, 4, 5, 4]), offsets=np.array([0, 2, 2]))),
    "max-2d": (dict(mode="max"), dict(input=np.array([[1, 2, 4], [4, 3, 9]]))),
    "max-offsets": (dict(mode="max"), dict(input=np.array([1, 2, 4, 5, 4, 3]), offsets=np.array([0, 1, 4]))),
    "sum-weights": (dict(mode="sum"), dict(input=np.array([1, 2, 4, 5, 4]), offsets=np.array([0, 3]),
                                           per_sample_weights=np.array([0.5, 2.0, -1.0, 1.5, 0.25]))),
    "last-offset": (dict(mode="sum", include_last_offset=True), dict(input=np.array([1, 2, 4, 5, 4, 3]),
                                                                      offsets=np.array([0, 2, 5]))),
    "padding-mean": (dict(mode="mean", padding_idx=2), dict(input=np.array([[1, 2, 4], [2, 2, 9]]))),
}


@pytest.mark.parametrize("case", list(BAGS))
def test_embedding_bag_matches_torch(case):
    kwargs, call = BAGS[case]
    torch.manual_seed(0)
    theirs = torch.nn.EmbeddingBag(10, 3, **kwargs, dtype=torch.float64)
    ours = nn.EmbeddingBag(10, 3, **kwargs, dtype=np.float64)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    _copy(ours, theirs)
    psw = call.get("per_sample_weights")
    w, tw = (tg.tensor(psw, requires_grad=True), torch.tensor(psw, requires_grad=True)) if psw is not None else (None,
                                                                                                               None)
    offsets = call.get("offsets")
    out = ours(tg.tensor(call["input"]), None if offsets is None else tg.tensor(offsets), per_sample_weights=w)
    tout = theirs(torch.tensor(call["input"]), None if offsets is None else torch.tensor(offsets),
                  per_sample_weights=tw)
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), **TIGHT)
    g = np.random.default_rng(3).standard_normal(out.shape)
    out.backward(g)
    tout.backward(torch.tensor(g))
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), **TIGHT)
    if w is not None:
        np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), **TIGHT)


def test_embedding_bag_errors_and_from_pretrained():
    bag = nn.EmbeddingBag.from_pretrained(tg.tensor(np.eye(4)), mode="sum")
    assert not bag.weight.requires_grad
    np.testing.assert_array_equal(bag(tg.tensor([[0, 1], [2, 2]])).numpy(), [[1, 1, 0, 0], [0, 0, 2, 0]])
    with pytest.raises(ValueError, match="offsets has to be None"):
        bag(tg.tensor([[0, 1]]), tg.tensor([0]))
    with pytest.raises(ValueError, match="offsets\\[0\\] has to be 0"):
        bag(tg.tensor([0, 1]), tg.tensor([1]))
    with pytest.raises(NotImplementedError, match="per_sample_weights"):
        nn.EmbeddingBag(4, 2)(tg.tensor([[0, 1]]), per_sample_weights=tg.ones(1, 2))


def test_parameters_to_vector_and_back_as_torch():
    torch.manual_seed(0)
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Linear(4, 2)).double()
    ours = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2)).double()
    _copy(ours, theirs)
    vec = nn.utils.parameters_to_vector(ours.parameters())
    tvec = torch.nn.utils.parameters_to_vector(theirs.parameters())
    np.testing.assert_array_equal(vec.numpy(), tvec.detach().numpy())
    (vec * tg.arange(vec.numel())).sum().backward()                    # the vector keeps the graph
    np.testing.assert_array_equal(ours[0].weight.grad.numpy().ravel(), np.arange(12))
    new = np.random.default_rng(0).standard_normal(vec.numel())
    nn.utils.vector_to_parameters(tg.tensor(new), ours.parameters())
    torch.nn.utils.vector_to_parameters(torch.tensor(new), theirs.parameters())
    for p, tp in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_array_equal(p.numpy(), tp.detach().numpy())
    with pytest.raises(RuntimeError, match="elements"):
        nn.utils.vector_to_parameters(tg.ones(3), ours.parameters())


@pytest.mark.parametrize("foreach", [None, True, False])
def test_clip_grad_norm_accepts_foreach(foreach):
    p, tp = tg.tensor([3.0, 4.0], requires_grad=True), torch.tensor([3.0, 4.0], requires_grad=True)
    (p * p).sum().backward()
    (tp * tp).sum().backward()
    total = nn.utils.clip_grad_norm_([p], 1.0, foreach=foreach)
    ttotal = torch.nn.utils.clip_grad_norm_([tp], 1.0, foreach=foreach)
    np.testing.assert_allclose(total.item(), ttotal.item(), rtol=1e-6)
    np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-6)
    nn.utils.clip_grad_value_([p], 0.1, foreach=foreach)
    assert np.abs(p.grad.numpy()).max() <= 0.1


def test_module_dtype_casts_and_walks():
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3), nn.Sequential(nn.Linear(3, 1)))
    assert model.half()[0].weight.dtype == np.float16
    assert model[1].num_batches_tracked.dtype == np.int64                # integer buffers keep their dtype
    assert model.float()[0].weight.dtype == np.float32
    assert model.double()[2][0].bias.dtype == np.float64
    assert model.to(tg.float32)[1].running_mean.dtype == np.float32
    assert [name for name, _ in model.named_modules()] == ["", "0", "1", "2", "2.0"]
    assert model.get_submodule("2.0") is model[2][0]
    with pytest.raises(AttributeError):
        model.get_submodule("2.1")
    seen = []
    model.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "BatchNorm1d", "Linear", "Sequential", "Sequential"]   # children first, as torch


def test_weight_tying_counts_once_and_saves_under_both_names():
    def build(lib):
        m = lib.nn.Module()
        m.emb = lib.nn.Embedding(5, 3)
        m.head = lib.nn.Linear(3, 5, bias=False)
        m.head.weight = m.emb.weight
        return m

    ours, theirs = build(tg), build(torch)
    assert len(list(ours.parameters())) == len(list(theirs.parameters())) == 1
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()] == ["emb.weight"]
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["emb.weight", "head.weight"]
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    assert ours.head.weight is ours.emb.weight
    np.testing.assert_array_equal(ours.head.weight.numpy(), theirs.emb.weight.detach().numpy())
    opt = tg.optim.SGD(ours.parameters(), lr=0.1)
    assert len(opt.param_groups[0]["params"]) == 1
    x = tg.tensor([0, 3])
    ours.head(ours.emb(x)).sum().backward()                              # both uses add into one gradient
    assert ours.emb.weight.grad is ours.head.weight.grad


ROUND_TRIP = [
    ("LSTM", (3, 4), dict(num_layers=2, bidirectional=True)), ("GRU", (3, 4), dict(bias=False)),
    ("LSTM", (3, 4), dict(proj_size=2, num_layers=2)),
    ("RNN", (3, 4), dict(nonlinearity="relu")), ("LSTMCell", (3, 4), {}), ("GRUCell", (3, 4), {}),
    ("RNNCell", (3, 4), {}), ("MultiheadAttention", (8, 2), dict(kdim=3, vdim=5)),
    ("MultiheadAttention", (8, 2), dict(bias=False)), ("BatchNorm2d", (3,), {}), ("BatchNorm3d", (3,), {}),
    ("GroupNorm", (2, 4), {}), ("RMSNorm", (5,), {}), ("InstanceNorm2d", (3,), dict(affine=True,
                                                                                   track_running_stats=True)),
    ("LayerNorm", (5,), dict(bias=False)), ("Bilinear", (2, 3, 4), {}), ("EmbeddingBag", (6, 3), {}),
]


@pytest.mark.parametrize("name, args, kwargs", ROUND_TRIP, ids=[f"{n}-{sorted(k)}" for n, _, k in ROUND_TRIP])
def test_state_dicts_go_both_ways(name, args, kwargs):
    """Ours loads into torch's module and back, name for name and shape for shape."""
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    again = getattr(nn, name)(*args, **kwargs)
    again.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    for (k, v), (k2, v2) in zip(ours.state_dict().items(), again.state_dict().items()):
        assert k == k2
        np.testing.assert_array_equal(v.numpy(), v2.numpy())
