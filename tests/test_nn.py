"""tensorgrad.nn against torch.nn: Module bookkeeping (the same names, orders and errors as torch
for the same model), state dicts, containers, every layer, activation and loss (forward and
gradients), the fused layer norm, batch norm and cross-entropy against their composites and
torch, nn.init's fans, gains and distributions, and gradient clipping."""
import collections
import math

import numpy as np
import pytest
import torch

import tensorgrad as tg
import tensorgrad.nn.functional as F
from tensorgrad import nn

TIGHT = dict(rtol=1e-10, atol=1e-12)


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def _np(t):
    """The array of a tensorgrad or torch tensor (or of a gradient)."""
    return t.detach().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)


def _mlp(dtype=np.float64):
    g = tg.Generator().manual_seed(0)
    return nn.Sequential(nn.Embedding(27, 10, generator=g), nn.Flatten(), nn.Linear(30, 16, bias=False, generator=g),
                         nn.BatchNorm1d(16), nn.Tanh(), nn.Linear(16, 27, generator=g)).to(dtype)


def _copy_params(ours: nn.Module, theirs: torch.nn.Module) -> None:
    """torch's module gets our parameters and buffers (the same names, the same layouts)."""
    with torch.no_grad():
        for name, t in theirs.state_dict(keep_vars=True).items():
            t.copy_(torch.tensor(_np(ours.state_dict()[name])))


# ----------------------------------------------------------------------------
# Module: the same model written with tensorgrad.nn and torch.nn has the same state

def _net(m, ones):
    """One model, written against m = tensorgrad.nn or torch.nn."""

    class Block(m.Module):
        def __init__(self):
            super().__init__()
            self.scale = m.Parameter(ones(3))
            self.fc = m.Linear(4, 3)
            self.bn = m.BatchNorm1d(3)
            self.register_buffer("step", ones(1))
            self.register_buffer("scratch", ones(2), persistent=False)

        def forward(self, x):
            return self.bn(self.fc(x)) * self.scale

    class Net(m.Module):
        def __init__(self):
            super().__init__()
            self.block = Block()
            self.heads = m.ModuleList([m.Linear(3, 2), m.Linear(3, 2, bias=False)])
            self.extra = m.ModuleDict({"act": m.Tanh(), "out": m.Linear(2, 2)})
            self.tied = self.heads[0]                # a module reachable twice
            self.plain = ones(5)                     # a plain tensor attribute: not state

        def forward(self, x):
            h = self.block(x)
            return self.extra["out"](self.extra["act"](self.heads[0](h) + self.heads[1](h)))

    return Net()


def test_named_parameters_buffers_modules_and_state_dict_keys_are_torchs():
    ours, theirs = _net(nn, tg.ones), _net(torch.nn, torch.ones)
    for method in ("named_parameters", "named_buffers", "named_modules", "named_children"):
        assert [n for n, _ in getattr(ours, method)()] == [n for n, _ in getattr(theirs, method)()], method
    assert [n for n, _ in ours.named_parameters(remove_duplicate=False)] == \
        [n for n, _ in theirs.named_parameters(remove_duplicate=False)]
    assert [n for n, _ in ours.named_parameters(prefix="net", recurse=False)] == []
    assert [n for n, _ in ours.block.named_parameters(prefix="b", recurse=False)] == ["b.scale"]
    assert list(ours.state_dict()) == list(theirs.state_dict())          # no 'scratch' (non-persistent), tied twice
    assert len(list(ours.children())) == len(list(theirs.children())) == 4
    assert len(list(ours.modules())) == len(list(theirs.modules()))
    assert isinstance(ours.block.scale, nn.Parameter) and ours.block.scale.requires_grad
    assert [p.name for p in ours.parameters()] == [n for n, _ in ours.named_parameters()]   # viz shows these
    assert ours.get_submodule("block.fc") is ours.block.fc
    assert ours.get_parameter("block.fc.weight") is ours.block.fc.weight
    assert ours.get_buffer("block.bn.running_mean") is ours.block.bn.running_mean
    with pytest.raises(AttributeError):
        ours.get_submodule("block.nothing")


def test_assignment_rules_are_torchs():
    """Parameters, modules and buffers by type; reassigning a registered name keeps its kind."""
    for m, ones in ((nn, tg.ones), (torch.nn, torch.ones)):
        net = _net(m, ones)
        net.block.fc.bias = None                                             # a declared, absent parameter
        assert [n for n, _ in net.block.fc.named_parameters()] == ["weight"]
        with pytest.raises(TypeError):
            net.block.fc.weight = ones(3, 4)                                 # a plain tensor is not a Parameter
        net.block.bn.running_mean = ones(3) * 2                              # a buffer stays a buffer
        assert "running_mean" in dict(net.block.bn.named_buffers())
        with pytest.raises(TypeError):
            net.block.bn.running_mean = 3.0
        net.block.fc = None
        assert "block.fc.weight" not in dict(net.named_parameters())
        with pytest.raises(TypeError):
            net.block.fc = 5
        del net.block.scale
        assert "block.scale" not in dict(net.named_parameters())
        with pytest.raises(AttributeError):
            net.no_such_thing


@pytest.mark.parametrize("call, error", [
    (lambda m, t: m.register_buffer("a.b", t), KeyError),
    (lambda m, t: m.register_buffer("", t), KeyError),
    (lambda m, t: m.register_buffer(3, t), TypeError),
    (lambda m, t: m.register_buffer("weight", t), KeyError),               # already a parameter
    (lambda m, t: m.register_buffer("forward", t), KeyError),              # already an attribute
    (lambda m, t: m.register_buffer("x", 3.0), TypeError),
    (lambda m, t: m.register_parameter("x", t), TypeError),                # not a Parameter
    (lambda m, t: m.register_parameter("a.b", None), KeyError),
    (lambda m, t: m.add_module("x", 3), TypeError),
    (lambda m, t: m.add_module("weight", None), KeyError),
    (lambda m, t: m.train("yes"), ValueError),
])
def test_registration_errors_are_torchs(call, error):
    for m, make in ((nn.Linear(2, 2), tg.ones), (torch.nn.Linear(2, 2), torch.ones)):
        with pytest.raises(error):
            call(m, make(2))


def test_a_subclass_that_skips_super_init_still_works():
    class Bare(nn.Module):
        def __init__(self):              # no super().__init__(): tensorgrad makes the stores when first needed
            self.w = nn.Parameter(tg.ones(2))
            self.register_buffer("b", tg.zeros(2))

    bare = Bare()
    assert [n for n, _ in bare.named_parameters()] == ["w"] and list(bare.state_dict()) == ["w", "b"]


def test_parameter_shares_memory_and_is_a_leaf():
    t = tg.tensor(np.arange(3.0))
    p = nn.Parameter(t)
    assert p.is_leaf and p.requires_grad and isinstance(p, tg.Tensor)
    t.numpy()[0] = 7                      # torch.nn.Parameter(t) shares t's memory
    assert p.numpy()[0] == 7
    assert not nn.Parameter(t, requires_grad=False).requires_grad
    assert not isinstance(p * 2, nn.Parameter) and not isinstance(p.detach(), nn.Parameter)
    assert repr(p).startswith("Parameter containing:\ntensor(")
    for m, t in ((nn, tg.tensor([1, 2])), (torch.nn, torch.tensor([1, 2]))):
        with pytest.raises(RuntimeError):     # only floating tensors can require grad
            m.Parameter(t)


def test_train_eval_apply_requires_grad_and_zero_grad():
    net = _net(nn, tg.ones)
    assert net.eval() is net and not any(m.training for m in net.modules())
    assert net.train() is net and all(m.training for m in net.modules())
    visited = []
    assert net.apply(lambda m: visited.append(type(m).__name__)) is net
    tvisited = []
    _net(torch.nn, torch.ones).apply(lambda m: tvisited.append(type(m).__name__))
    assert visited == tvisited                                  # children first, then the parent
    F.mse_loss(net(tg.tensor(_rand(5, 4), dtype=np.float32)), tg.zeros(5, 2)).backward()
    assert all(p.grad is not None for p in net.parameters())
    grads = [np.asarray(p.grad) for p in net.parameters()]
    net.zero_grad(set_to_none=False)                            # zeroed in place
    assert all(p.grad is not None and not np.asarray(p.grad).any() for p in net.parameters())
    assert all(not g.any() for g in grads)
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())


def test_forward_runs_in_a_name_scope_per_module():
    net = _net(nn, tg.ones)
    out = net(tg.tensor(_rand(5, 4), dtype=np.float32))
    scopes, stack = set(), [out]
    while stack:
        t = stack.pop()
        scopes.add(t._scope)
        stack.extend(t._prev)
    assert {"Net.block.fc", "Net.block.bn", "Net.block", "Net.0", "Net.1", "Net.out"} <= scopes
    assert _mlp()(np.zeros((4, 3), np.int64))._scope == "Sequential.5"


class Recording(nn.Module):
    """makemore part 3's layers keep their output (`self.out`) to plot activation statistics."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        self.out = self.fc(x).tanh()
        return self.out


def test_activations_kept_on_a_module_are_not_state():
    net = Recording()
    state = list(net.state_dict())
    for grad_mode in (True, False):                 # under no_grad the outputs are leaves: still not state
        with tg.set_grad_enabled(grad_mode):
            out = net(tg.tensor(_rand(5, 4), dtype=np.float32))
        assert net.out is out and list(net.state_dict()) == state == ["fc.weight", "fc.bias"]
        assert list(net.buffers()) == [] and out.name is None
    Recording().load_state_dict(net.state_dict())   # strict: no stray keys


# ----------------------------------------------------------------------------
# state dicts

def test_state_dict_shares_memory_and_loads_in_place():
    a, b = _net(nn, tg.ones), _net(nn, tg.ones)
    state = a.state_dict()
    assert all(isinstance(v, tg.Tensor) and not v.requires_grad for v in state.values())
    state["block.fc.weight"].numpy()[:] = 7       # detached, but the same memory, as torch's
    assert (a.block.fc.weight.numpy() == 7).all()
    assert a.state_dict(keep_vars=True)["block.fc.weight"] is a.block.fc.weight
    w = b.block.fc.weight
    result = b.load_state_dict(state)
    assert b.block.fc.weight is w and (w.numpy() == 7).all()          # copied into the same parameter
    assert result.missing_keys == [] and result.unexpected_keys == []
    for k, v in b.state_dict().items():
        np.testing.assert_array_equal(_np(v), _np(state[k]))
    b.load_state_dict({k: _np(v).astype(np.float64) for k, v in state.items()})   # arrays, cast to float32
    assert b.block.fc.weight.dtype == np.float32


def test_deepcopy_and_pickle_make_independent_models():
    """torch's idioms for a snapshot: copy.deepcopy(model) or copy.deepcopy(model.state_dict())."""
    import copy
    import pickle
    net = _mlp()                                   # (pickle needs module-level classes)
    snapshot, clone, unpickled = copy.deepcopy(net.state_dict()), copy.deepcopy(net), pickle.loads(pickle.dumps(net))
    net[2].weight.numpy()[...] = 5
    for other in (clone, unpickled):
        assert isinstance(other[2].weight, nn.Parameter) and other[2].weight.requires_grad
        assert not (other[2].weight.numpy() == 5).any()
        assert list(other.state_dict()) == list(net.state_dict())
    assert not (snapshot["2.weight"].numpy() == 5).any()
    net.load_state_dict(snapshot)
    assert not (net[2].weight.numpy() == 5).any()


def test_load_state_dict_errors_are_torchs_and_change_nothing():
    a, b = _net(nn, tg.ones), _net(nn, tg.ones)
    before = {k: _np(v).copy() for k, v in b.state_dict().items()}
    bad = dict(a.state_dict(), **{"block.fc.weight": np.zeros((4, 3))})        # the lecture's (in, out) layout
    missing = {k: v for k, v in a.state_dict().items() if k != "block.bn.running_var"}
    extra = dict(a.state_dict(), extra=np.zeros(1))
    tnet = _net(torch.nn, torch.ones)
    for state in (bad, missing, extra):
        with pytest.raises(RuntimeError) as ours:
            b.load_state_dict(state)
        with pytest.raises(RuntimeError) as theirs:
            tnet.load_state_dict({k: torch.tensor(_np(v)) for k, v in state.items()})
        assert str(ours.value).replace("torch.Size([", "(").replace("])", ")") == \
            str(theirs.value).replace("torch.Size([", "(").replace("])", ")").replace(", )", ",)")
    for k, v in b.state_dict().items():
        np.testing.assert_array_equal(_np(v), before[k])
    result = b.load_state_dict(missing, strict=False)
    assert result.missing_keys == ["block.bn.running_var"] and result.unexpected_keys == []
    assert b.load_state_dict(extra, strict=False).unexpected_keys == ["extra"]
    with pytest.raises(RuntimeError, match="size mismatch for block.fc.weight"):
        b.load_state_dict(bad, strict=False)                                   # shapes must fit, even so


def test_a_torch_state_dict_loads_as_it_is():
    ours, theirs = _mlp(), torch.nn.Sequential(
        torch.nn.Embedding(27, 10), torch.nn.Flatten(), torch.nn.Linear(30, 16, bias=False),
        torch.nn.BatchNorm1d(16), torch.nn.Tanh(), torch.nn.Linear(16, 27)).double()
    theirs(torch.tensor(np.random.default_rng(0).integers(0, 27, (8, 3))))   # moves the running stats
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    assert list(ours.state_dict()) == list(theirs.state_dict())               # num_batches_tracked too
    for k, v in theirs.state_dict().items():
        np.testing.assert_array_equal(_np(ours.state_dict()[k]), v.numpy())
    older = {k: v for k, v in ours.state_dict().items() if not k.endswith("num_batches_tracked")}
    ours.load_state_dict(older)           # as torch: a state dict without num_batches_tracked still loads


def test_to_double_and_float():
    net = _net(nn, tg.ones)
    w = net.block.fc.weight
    assert net.to("cpu") is net and net.cpu() is net and net.to(device="cpu", dtype=np.float64) is net
    assert net.block.fc.weight is w and w.dtype == np.float64 and w.requires_grad     # the same Parameter
    for bad, error in ((lambda: net.to(np.int64), TypeError), (lambda: net.to("cuda"), RuntimeError),
                       (lambda: net.cuda(), RuntimeError)):
        with pytest.raises(error):
            bad()
    assert all(t.dtype == np.float32 for t in net.to(tg.zeros(1)).state_dict().values() if t.dtype.kind == "f")
    net = net.double()
    assert all(t.dtype == np.float64 for t in net.state_dict().values() if t.dtype.kind == "f")
    assert net.block.bn.num_batches_tracked.dtype == np.int64
    assert net(tg.tensor(_rand(3, 4))).dtype == np.float64
    assert all(t.dtype == np.float32 for t in net.float().state_dict().values() if t.dtype.kind == "f")


# ----------------------------------------------------------------------------
# containers

def test_sequential_list_and_dict_behave_as_torchs():
    for m in (nn, torch.nn):
        seq = m.Sequential(m.Linear(2, 3), m.Tanh(), m.Linear(3, 1))
        assert len(seq) == 3 and isinstance(seq[-1], m.Linear) and [n for n, _ in seq[1:].named_children()] == ["1", "2"]
        seq.append(m.Identity())
        assert [n for n, _ in seq.named_children()] == ["0", "1", "2", "3"]
        named = m.Sequential(collections.OrderedDict([("fc", m.Linear(2, 2)), ("act", m.ReLU())]))
        assert [n for n, _ in named.named_parameters()] == ["fc.weight", "fc.bias"] and named[0] is named.fc
        lst = m.ModuleList([m.Linear(1, 1), m.Tanh()])
        lst.append(m.Linear(1, 2))
        lst.extend([m.ReLU()])
        lst.insert(1, m.Linear(2, 2))
        lst[0] = m.Linear(3, 3)
        del lst[2]
        assert [type(x).__name__ for x in lst] == ["Linear", "Linear", "Linear", "ReLU"]
        assert [n for n, _ in lst.named_parameters()] == ["0.weight", "0.bias", "1.weight", "1.bias",
                                                          "2.weight", "2.bias"]
        assert len(lst[1:]) == 3 and len(lst + lst) == 8
        with pytest.raises(IndexError):
            lst[4]
        d = m.ModuleDict({"a": m.Linear(1, 1)})
        d["b"] = m.Linear(1, 2)
        d.update([("c", m.Tanh())])
        assert list(d) == list(d.keys()) == ["a", "b", "c"] and "b" in d and len(d) == 3
        assert isinstance(d.pop("a"), m.Linear) and [n for n, _ in d.named_parameters()] == ["b.weight", "b.bias"]
        with pytest.raises(KeyError):
            d["zzz"]


def test_parameter_list_and_dict_behave_as_torchs():
    for m, ones in ((nn, tg.ones), (torch.nn, torch.ones)):
        class Holder(m.Module):
            def __init__(self):
                super().__init__()
                self.ps = m.ParameterList([m.Parameter(ones(3)), ones(2, 2)])    # a tensor becomes a Parameter
                self.d = m.ParameterDict({"w": ones(2)})

        h = Holder()
        h.ps.append(ones(1))
        h.ps[0] = ones(4)
        h.d["b"] = ones(5)
        h.d.update({"c": ones(1)})
        assert all(isinstance(p, m.Parameter) and p.requires_grad for p in list(h.ps) + list(h.d.values()))
        assert [n for n, _ in h.named_parameters()] == ["ps.0", "ps.1", "ps.2", "d.w", "d.b", "d.c"], m
        assert list(h.state_dict()) == ["ps.0", "ps.1", "ps.2", "d.w", "d.b", "d.c"]
        assert len(h.ps) == 3 and tuple(h.ps[-1].shape) == (1,) and len(h.ps[1:]) == 2 and tuple(h.ps[0].shape) == (4,)
        assert list(h.d) == list(h.d.keys()) == ["w", "b", "c"] and "b" in h.d and len(h.d) == 3
        assert tuple(h.d.pop("w").shape) == (2,) and list(h.d) == ["b", "c"]
        with pytest.raises(AttributeError):      # torch's (a ModuleDict says KeyError)
            h.d["w"]
        with pytest.raises(IndexError):
            h.ps[3]
    p = nn.ParameterList([tg.ones(2)])
    optim_ = tg.optim.SGD(p.parameters(), lr=0.5)
    (p[0] * 2).sum().backward()
    optim_.step()
    assert p[0].numpy().tolist() == [0.0, 0.0]


def test_sequential_forward_and_grads_match_torch():
    seq = _mlp()
    ref = torch.nn.Sequential(torch.nn.Embedding(27, 10), torch.nn.Flatten(), torch.nn.Linear(30, 16, bias=False),
                              torch.nn.BatchNorm1d(16), torch.nn.Tanh(), torch.nn.Linear(16, 27)).double()
    _copy_params(seq, ref)
    x = np.random.default_rng(0).integers(0, 27, (32, 3))
    y = np.random.default_rng(1).integers(0, 27, 32)
    loss = F.cross_entropy(seq(x), y)
    tloss = torch.nn.functional.cross_entropy(ref(torch.tensor(x)), torch.tensor(y))
    np.testing.assert_allclose(loss.item(), tloss.item(), **TIGHT)
    loss.backward()
    tloss.backward()
    for name, p in seq.named_parameters():
        np.testing.assert_allclose(_np(p.grad), ref.get_parameter(name).grad.numpy(), err_msg=name, **TIGHT)


def test_repr_of_modules_is_torchs():
    pairs = [lambda m: m.Embedding(27, 10), lambda m: m.Embedding(5, 2, padding_idx=0),
             lambda m: m.Linear(30, 200), lambda m: m.Linear(30, 200, bias=False),
             lambda m: m.BatchNorm1d(3), lambda m: m.BatchNorm1d(3, momentum=None, affine=False),
             lambda m: m.LayerNorm(8), lambda m: m.LayerNorm((2, 3), elementwise_affine=False),
             lambda m: m.Dropout(0.2), lambda m: m.Identity(), lambda m: m.Flatten(), lambda m: m.Tanh(),
             lambda m: m.ReLU(), lambda m: m.GELU(approximate="tanh"), lambda m: m.LeakyReLU(0.2),
             lambda m: m.Softmax(dim=1), lambda m: m.ELU(alpha=0.5), lambda m: m.Hardtanh(-2.0, 2.0),
             lambda m: m.Softplus(beta=2.0), lambda m: m.CrossEntropyLoss(), lambda m: m.MSELoss(),
             lambda m: m.Sequential(m.Linear(2, 3), m.Tanh()), lambda m: m.ModuleList([m.ReLU()])]
    for make in pairs:
        assert repr(make(nn)) == repr(make(torch.nn))
    assert repr(nn.BatchNorm1d(3, unbiased=True)).endswith("track_running_stats=True, unbiased=True)")


# ----------------------------------------------------------------------------
# layers against torch

def test_linear_matches_torch_with_the_same_weight():
    lin = nn.Linear(5, 3).double()
    assert lin.weight.shape == (3, 5) and lin.bias.shape == (3,)   # (out, in), as torch.nn.Linear
    ref = torch.nn.Linear(5, 3).double()
    _copy_params(lin, ref)
    x = _rand(7, 5)
    out, tout = lin(tg.tensor(x)), ref(torch.tensor(x))
    np.testing.assert_allclose(_np(out), _np(tout), **TIGHT)
    g = _rand(7, 3, seed=2)
    out.backward(g)
    tout.backward(torch.tensor(g))
    np.testing.assert_allclose(_np(lin.weight.grad), ref.weight.grad.numpy(), **TIGHT)
    np.testing.assert_allclose(_np(lin.bias.grad), ref.bias.grad.numpy(), **TIGHT)
    nobias = nn.Linear(4, 4, bias=False).double()           # square: a transposed weight would not show in shapes
    np.testing.assert_allclose(_np(nobias(tg.tensor(x[:, :4]))), x[:, :4] @ nobias.weight.numpy().T, **TIGHT)


def test_linear_init_is_torchs_uniform():
    lin = nn.Linear(400, 300, generator=tg.Generator().manual_seed(1))
    bound = 1 / 20   # 1 / sqrt(in_features)
    for p in (lin.weight, lin.bias):
        assert p.is_leaf and p.requires_grad and p.dtype == np.float32
        assert np.abs(p.numpy()).max() <= bound and np.abs(p.numpy()).max() > 0.95 * bound
    assert abs(lin.weight.numpy().std() - bound / 3 ** 0.5) < 0.001        # U(-b, b) has std b / sqrt(3)
    again = nn.Linear(400, 300, generator=tg.Generator().manual_seed(1))
    assert np.array_equal(lin.weight.numpy(), again.weight.numpy()) and np.array_equal(lin.bias.numpy(), again.bias.numpy())
    assert nn.Linear(3, 2, dtype=np.float64).weight.dtype == np.float64


@pytest.mark.parametrize("padding_idx", [None, 2, -1])
def test_embedding_matches_torch(padding_idx):
    emb = nn.Embedding(10, 4, padding_idx=padding_idx).double()
    ref = torch.nn.Embedding(10, 4, padding_idx=padding_idx).double()
    if padding_idx is not None:
        assert emb.padding_idx == ref.padding_idx and not emb.weight.numpy()[padding_idx].any()
        emb.weight.numpy()[padding_idx] = 1.5                 # a changed padding row is looked up as it is
    _copy_params(emb, ref)
    idx = np.array([[1, 2, 2], [9, 1, 1]])                    # repeated indices add up; 2 and 9 may be padding
    out, tout = emb(idx), ref(torch.tensor(idx))
    assert out.shape == (2, 3, 4)
    np.testing.assert_allclose(_np(out), _np(tout), **TIGHT)
    g = _rand(2, 3, 4)
    out.backward(g)
    tout.backward(torch.tensor(g))
    np.testing.assert_allclose(_np(emb.weight.grad), ref.weight.grad.numpy(), **TIGHT)
    with pytest.raises(AssertionError):
        nn.Embedding(3, 2, padding_idx=3)


def test_embedding_from_pretrained():
    table = _rand(4, 3)
    emb, ref = nn.Embedding.from_pretrained(table), torch.nn.Embedding.from_pretrained(torch.tensor(table))
    assert not emb.weight.requires_grad and emb.weight.requires_grad == ref.weight.requires_grad
    np.testing.assert_array_equal(_np(emb(np.array([3, 0]))), table[[3, 0]])
    assert nn.Embedding.from_pretrained(table, freeze=False).weight.requires_grad


def _torch_bn_unbiased(x, w, b, eps=1e-5):
    """The lecture's batch norm: normalise with the Bessel-corrected batch variance."""
    mean = x.mean(0, keepdim=True)
    var = x.var(0, keepdim=True, unbiased=True)
    return w * (x - mean) * (var + eps) ** -0.5 + b


@pytest.mark.parametrize("unbiased", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batchnorm1d_matches_torch(unbiased, dtype):
    tol = TIGHT if dtype == np.float64 else dict(rtol=1e-5, atol=1e-6)
    bn = nn.BatchNorm1d(6, momentum=0.2, eps=1e-3, unbiased=unbiased).to(dtype)
    ref = torch.nn.BatchNorm1d(6, momentum=0.2, eps=1e-3).to(torch.float64 if dtype == np.float64 else torch.float32)
    bn.weight.numpy()[:] = _rand(6, seed=5) + 1
    bn.bias.numpy()[:] = _rand(6, seed=6)
    _copy_params(bn, ref)
    for step in range(3):   # train mode: batch statistics, running statistics updated
        x = (_rand(10, 6, seed=step) * 3 + 2).astype(dtype)
        tx = torch.tensor(x, requires_grad=True)
        xt = tg.tensor(x, requires_grad=True)
        out = bn(xt)
        if unbiased:
            tw, tb = ref.weight.detach().requires_grad_(), ref.bias.detach().requires_grad_()
            tout = _torch_bn_unbiased(tx, tw, tb, eps=1e-3)
            with torch.no_grad():
                ref(tx)   # torch's module only for its running statistics (which do not depend on the flavour)
        else:
            tw, tb = ref.weight, ref.bias
            tout = ref(tx)
        np.testing.assert_allclose(_np(out), _np(tout), **tol)
        g = _rand(10, 6, seed=10 + step).astype(dtype)
        bn.zero_grad()
        tw.grad = tb.grad = None
        out.backward(g)
        tout.backward(torch.tensor(g))
        for a, b in ((xt.grad, tx.grad), (bn.weight.grad, tw.grad), (bn.bias.grad, tb.grad),
                     (bn.running_mean, ref.running_mean), (bn.running_var, ref.running_var)):
            np.testing.assert_allclose(_np(a), _np(b), **tol)
        assert bn.num_batches_tracked.item() == ref.num_batches_tracked.item() == step + 1
    bn.eval()
    ref.eval()
    x = _rand(4, 6, seed=99).astype(dtype)   # eval mode: running statistics, nothing updated
    rm = bn.running_mean.numpy().copy()
    np.testing.assert_allclose(_np(bn(tg.tensor(x))), _np(ref(torch.tensor(x))), **tol)
    assert np.array_equal(bn.running_mean.numpy(), rm) and bn.num_batches_tracked.item() == 3


@pytest.mark.parametrize("kwargs", [dict(), dict(momentum=None), dict(track_running_stats=False),
                                    dict(affine=False, momentum=None)])
def test_batchnorm1d_on_n_c_l_and_its_options_match_torch(kwargs):
    bn, ref = nn.BatchNorm1d(4, **kwargs).double(), torch.nn.BatchNorm1d(4, **kwargs).double()
    for step in range(4):
        x = _rand(5, 4, 7, seed=step) * (step + 1) + step
        xt, tx = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        out, tout = bn(xt), ref(tx)
        g = _rand(5, 4, 7, seed=20 + step)
        out.backward(g)
        tout.backward(torch.tensor(g))
        np.testing.assert_allclose(_np(out), _np(tout), **TIGHT)
        np.testing.assert_allclose(_np(xt.grad), tx.grad.numpy(), **TIGHT)
        for name, p in bn.named_parameters():
            np.testing.assert_allclose(_np(p.grad), ref.get_parameter(name).grad.numpy(), **TIGHT)
            p.grad = ref.get_parameter(name).grad = None
        for name, b in ref.named_buffers():
            np.testing.assert_allclose(_np(bn.get_buffer(name)), b.numpy(), **TIGHT)
    bn.eval(), ref.eval()
    x = _rand(2, 4, 3, seed=9)
    np.testing.assert_allclose(_np(bn(tg.tensor(x))), _np(ref(torch.tensor(x))), **TIGHT)


def test_batchnorm1d_running_stats_are_written_in_place():
    """A training step updates the running statistics in place and says so (their version moves),
    so a graph whose backward needs their old values refuses to run, as torch's."""
    bn = nn.BatchNorm1d(3).double()
    rm, version = bn.running_mean, bn.running_mean._version
    x = tg.tensor(_rand(4, 3), requires_grad=True)
    y = (x * bn.running_mean).sum()          # mul's backward reads running_mean
    bn(tg.tensor(_rand(4, 3)))
    assert bn.running_mean is rm and rm._version > version
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_batchnorm1d_errors():
    with pytest.raises(ValueError, match=r"BatchNorm1d\(3\): a batch of 1 values per channel is too small"):
        nn.BatchNorm1d(3)(tg.tensor(_rand(1, 3)))
    bn = nn.BatchNorm1d(3).eval()    # eval mode normalises single examples with the running statistics
    np.testing.assert_allclose(_np(bn(tg.tensor(_rand(1, 3)))), _rand(1, 3) / np.sqrt(1 + 1e-5), rtol=1e-6)
    with pytest.raises(ValueError, match=r"2D or 3D"):
        nn.BatchNorm1d(3)(tg.tensor(_rand(2, 3, 4, 5)))
    with pytest.raises(ValueError, match="4 channels"):
        nn.BatchNorm1d(3)(tg.tensor(_rand(2, 4)))


@pytest.mark.parametrize("shape, normalized", [((6, 5), 5), ((2, 3, 4), (3, 4)), ((3, 2, 8), [8])])
@pytest.mark.parametrize("affine", [True, False])
def test_layernorm_module_matches_torch(shape, normalized, affine):
    ln, ref = nn.LayerNorm(normalized, elementwise_affine=affine).double(), \
        torch.nn.LayerNorm(normalized, elementwise_affine=affine).double()
    for p in ln.parameters():
        p.numpy()[...] = _rand(*p.shape, seed=3) + 1
    _copy_params(ln, ref)
    x = _rand(*shape) * 2 + 1
    xt, tx = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, tout = ln(xt), ref(tx)
    assert out._op == "layer_norm"                       # one fused node
    g = _rand(*shape, seed=1)
    out.backward(g)
    tout.backward(torch.tensor(g))
    np.testing.assert_allclose(_np(out), _np(tout), **TIGHT)
    np.testing.assert_allclose(_np(xt.grad), tx.grad.numpy(), **TIGHT)
    for name, p in ln.named_parameters():
        np.testing.assert_allclose(_np(p.grad), ref.get_parameter(name).grad.numpy(), **TIGHT)
    assert nn.LayerNorm(4, bias=False).bias is None


def test_dropout_train_eval_and_generator():
    x = tg.ones(200, 300, requires_grad=True)
    drop = nn.Dropout(0.3, generator=tg.Generator().manual_seed(0))
    out = drop(x)
    kept = _np(out) != 0
    assert abs(kept.mean() - 0.7) < 0.01                              # each kept with probability 1 - p
    np.testing.assert_allclose(_np(out)[kept], 1 / 0.7, rtol=1e-6)    # and scaled by 1 / (1 - p)
    out.sum().backward()
    np.testing.assert_array_equal(_np(x.grad), _np(out))              # the gradient passes where kept, scaled
    again = nn.Dropout(0.3, generator=tg.Generator().manual_seed(0))(x)
    np.testing.assert_array_equal(_np(again), _np(out))
    assert drop.eval()(x) is x                                        # eval: the identity
    assert not _np(nn.Dropout(1.0)(x)).any() and nn.Dropout(0.0)(x) is x
    for p in (-0.1, 1.5):
        for m in (nn, torch.nn):
            with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
                m.Dropout(p)
    assert isinstance(nn.Identity(3, unused=True)(x), tg.Tensor) and nn.Identity()(x) is x


# activations and losses: each module against its torch.nn twin (it calls its F namesake)
ACTIVATIONS = [("ReLU", {}), ("Tanh", {}), ("Sigmoid", {}), ("Softmax", dict(dim=1)), ("LogSoftmax", dict(dim=0)),
               ("GELU", {}), ("GELU", dict(approximate="tanh")), ("SiLU", {}), ("LeakyReLU", dict(negative_slope=0.2)),
               ("ELU", dict(alpha=0.7)), ("SELU", {}), ("CELU", dict(alpha=1.3)), ("Mish", {}),
               ("Softplus", dict(beta=2.0, threshold=3.0)), ("Softsign", {}), ("Hardtanh", dict(min_val=-0.5)),
               ("ReLU6", {}), ("Hardsigmoid", {}), ("Hardswish", {}), ("LogSigmoid", {})]


@pytest.mark.parametrize("name, kwargs", ACTIVATIONS, ids=[f"{n}-{k}" for n, k in ACTIVATIONS])
def test_activation_modules_match_torch(name, kwargs):
    module = getattr(nn, name)(**kwargs)
    x = _rand(4, 5) * 4
    x[0, :3] = [0.0, 3.0, -3.0]                               # the kinks of relu6 / hardtanh / hard*
    x[0, :3] += 1e-3
    xt, tx = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, tout = module(xt), getattr(torch.nn, name)(**kwargs)(tx)
    g = _rand(4, 5, seed=1)
    out.backward(g)
    tout.backward(torch.tensor(g))
    np.testing.assert_allclose(_np(out), _np(tout), **TIGHT)
    # torch's CPU backward kernels of these two use float32 constants (1.0f / 6, 1 / alpha) even in float64
    tol = dict(rtol=1e-7, atol=1e-9) if name in ("Hardsigmoid", "CELU") else TIGHT
    np.testing.assert_allclose(_np(xt.grad), tx.grad.numpy(), **tol)
    assert repr(module) == repr(getattr(torch.nn, name)(**kwargs))


def test_activation_options_and_errors():
    assert nn.LeakyReLU(0.3).negative_slope == 0.3 and nn.GELU().approximate == "none"
    with pytest.raises(TypeError):
        nn.ReLU(slope=1)
    with pytest.raises(TypeError):
        nn.Tanh(1)
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        out = nn.Softmax()(tg.tensor(_rand(2, 3)))
    np.testing.assert_allclose(_np(out).sum(1), 1)          # dim 1 for a 2-d input, as torch


LOSSES = [  # (module, kwargs, input maker, target maker)
    ("CrossEntropyLoss", {}, lambda: _rand(6, 4), lambda: np.array([0, 3, 1, 1, 2, 0])),
    ("CrossEntropyLoss", dict(reduction="sum", ignore_index=1), lambda: _rand(6, 4), lambda: np.array([0, 3, 1, 1, 2, 0])),
    ("CrossEntropyLoss", dict(weight=np.array([1.0, 2.0, 0.5, 1.0]), label_smoothing=0.1), lambda: _rand(6, 4),
     lambda: np.array([0, 3, 1, 1, 2, 0])),
    ("NLLLoss", {}, lambda: _rand(5, 3), lambda: np.array([0, 2, 1, 1, 0])),
    ("NLLLoss", dict(weight=np.array([1.0, 2.0, 0.5]), reduction="none"), lambda: _rand(5, 3),
     lambda: np.array([0, 2, 1, 1, 0])),
    ("MSELoss", {}, lambda: _rand(3, 4), lambda: _rand(3, 4, seed=1)),
    ("MSELoss", dict(reduction="sum"), lambda: _rand(3, 4), lambda: _rand(3, 4, seed=1)),
    ("L1Loss", {}, lambda: _rand(3, 4), lambda: _rand(3, 4, seed=1)),
    ("SmoothL1Loss", dict(beta=0.5), lambda: _rand(3, 4), lambda: _rand(3, 4, seed=1)),
    ("HuberLoss", dict(delta=0.5), lambda: _rand(3, 4), lambda: _rand(3, 4, seed=1)),
    ("BCEWithLogitsLoss", {}, lambda: _rand(3, 4), lambda: (_rand(3, 4, seed=1) > 0).astype(float)),
    ("BCEWithLogitsLoss", dict(pos_weight=np.array([1.0, 2.0, 3.0, 0.5])), lambda: _rand(3, 4),
     lambda: (_rand(3, 4, seed=1) > 0).astype(float)),
    ("BCELoss", {}, lambda: 1 / (1 + np.exp(-_rand(3, 4))), lambda: (_rand(3, 4, seed=1) > 0).astype(float)),
    ("KLDivLoss", dict(reduction="batchmean"), lambda: np.log(np.full((2, 3), 1 / 3)), lambda: np.array(
        [[0.2, 0.3, 0.5], [0.1, 0.1, 0.8]])),
]


@pytest.mark.parametrize("i", range(len(LOSSES)), ids=[f"{n}-{sorted(k)}" for n, k, _, _ in LOSSES])
def test_loss_modules_match_torch(i):
    name, kwargs, make_x, make_y = LOSSES[i]
    tkwargs = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    xt = tg.tensor(make_x(), requires_grad=True)
    loss = getattr(nn, name)(**kwargs)(xt, make_y())
    tx = torch.tensor(make_x(), requires_grad=True)
    tloss = getattr(torch.nn, name)(**tkwargs)(tx, torch.tensor(make_y()))
    g = _rand(*tloss.shape, seed=3)
    loss.backward(g)
    tloss.backward(torch.tensor(g))
    np.testing.assert_allclose(_np(loss), _np(tloss), **TIGHT)
    np.testing.assert_allclose(_np(xt.grad), tx.grad.numpy(), **TIGHT)


def test_loss_module_errors():
    with pytest.raises(ValueError, match="avg is not a valid value for reduction"):   # torch: at the first call
        nn.MSELoss(reduction="avg")
    assert [n for n, _ in nn.CrossEntropyLoss(weight=np.ones(3)).named_buffers()] == ["weight"]


# ----------------------------------------------------------------------------
# fused ops: against their composites (tensorgrad) and torch

def _ln_composite(x, w, b, dims, eps=1e-5):
    mean = x.mean(dims, keepdim=True)
    diff = x - mean
    var = (diff * diff).mean(dims, keepdim=True)
    return diff * (var + eps) ** -0.5 * w + b


@pytest.mark.parametrize("shape, normalized", [((8, 5), (5,)), ((2, 3, 4, 6), (4, 6)), ((7,), (7,))])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fused_layer_norm_matches_composite_and_torch(shape, normalized, dtype):
    x = (_rand(*shape) * 3 + 1).astype(dtype)
    w, b = (_rand(*normalized, seed=1) + 1).astype(dtype), _rand(*normalized, seed=2).astype(dtype)
    g = _rand(*shape, seed=3).astype(dtype)
    dims = tuple(range(len(shape) - len(normalized), len(shape)))
    results = []
    for fn in (lambda x, w, b: F.layer_norm(x, normalized, w, b, eps=1e-4),
               lambda x, w, b: _ln_composite(x, w, b, dims, eps=1e-4)):
        xs = [tg.tensor(a, requires_grad=True) for a in (x, w, b)]
        out = fn(*xs)
        out.backward(g)
        results.append([_np(out)] + [_np(t.grad) for t in xs])
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    tout = torch.nn.functional.layer_norm(tx, normalized, tw, tb, eps=1e-4)
    tout.backward(torch.tensor(g))
    want = [_np(tout), tx.grad.numpy(), tw.grad.numpy(), tb.grad.numpy()]
    tol = TIGHT if dtype == np.float64 else dict(rtol=2e-4, atol=2e-5)
    for got in results:
        for a, c in zip(got, want):
            assert a.dtype == dtype
            np.testing.assert_allclose(a, c, **tol)


def test_fused_layer_norm_second_derivative_and_errors():
    x = tg.tensor(_rand(4, 6), requires_grad=True)
    w = tg.tensor(_rand(6, seed=1) + 1, requires_grad=True)
    assert tg.testing.gradcheck(lambda x, w: F.layer_norm(x, (6,), w, None), [x, w])
    (gx,) = tg.grad((F.layer_norm(x, (6,), w) ** 2).sum(), [x], create_graph=True)
    (hx,) = tg.grad((gx * tg.tensor(_rand(4, 6, seed=5))).sum(), [x])
    tx, tw = torch.tensor(_rand(4, 6), requires_grad=True), torch.tensor(_rand(6, seed=1) + 1)
    (tgx,) = torch.autograd.grad((torch.nn.functional.layer_norm(tx, (6,), tw) ** 2).sum(), [tx], create_graph=True)
    (thx,) = torch.autograd.grad((tgx * torch.tensor(_rand(4, 6, seed=5))).sum(), [tx])
    np.testing.assert_allclose(_np(hx), thx.numpy(), rtol=1e-9, atol=1e-10)
    for bad in (lambda: F.layer_norm(x, (5,)), lambda: F.layer_norm(x, (6,), tg.ones(5, dtype=np.float64))):
        with pytest.raises(RuntimeError):
            bad()
    with pytest.raises(RuntimeError):
        torch.nn.functional.layer_norm(tx, (5,))


def _bn_composite(x, w, b, correction, eps=1e-5):
    n = x.shape[0]
    mean = x.sum(0, keepdim=True) / n
    diff = x - mean
    var = (diff * diff).sum(0, keepdim=True) / (n - correction)
    return w * diff * (var + eps) ** -0.5 + b


@pytest.mark.parametrize("correction", [0, 1])
def test_fused_batch_norm_matches_composite_and_torch(correction):
    x, w, b = _rand(16, 5) * 2 + 1, _rand(1, 5, seed=1) + 1, _rand(1, 5, seed=2)
    g = _rand(16, 5, seed=3)
    results = []
    for fn in (lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True, correction=correction),
               lambda x, w, b: _bn_composite(x, w, b, correction)):
        xs = [tg.tensor(a, requires_grad=True) for a in (x, w, b)]
        out = fn(*xs)
        out.backward(g)
        results.append([_np(out)] + [_np(t.grad) for t in xs])
    fused = F.batch_norm(tg.tensor(x, requires_grad=True), None, None, tg.tensor(w), tg.tensor(b), training=True)
    assert fused._op == "batch_norm"   # one node in the graph
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    if correction == 0:
        tout = torch.nn.functional.batch_norm(tx, None, None, tw[0], tb[0], training=True).reshape(16, 5)
    else:
        tout = _torch_bn_unbiased(tx, tw, tb)
    tout.backward(torch.tensor(g))
    want = [_np(tout), tx.grad.numpy(), tw.grad.numpy(), tb.grad.numpy()]
    for got in results:
        for a, c in zip(got, want):
            np.testing.assert_allclose(a, c, **TIGHT)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_fused_cross_entropy_matches_composite_and_torch(reduction):
    logits = _rand(12, 7) * 3
    y = np.random.default_rng(0).integers(0, 7, 12)
    y[3] = -100   # ignored
    g = _rand(12, seed=4) if reduction == "none" else None
    outs = []
    for composite in (False, True):
        x = tg.tensor(logits, requires_grad=True)
        if composite:   # exercise 2's starting point: -log softmax at the target, averaged
            keep = y != -100
            losses = -F.log_softmax(x, 1)[np.arange(12), np.where(keep, y, 0)] * keep
            out = {"mean": losses.sum() / keep.sum(), "sum": losses.sum(), "none": losses}[reduction]
        else:
            out = F.cross_entropy(x, y, reduction=reduction)
            assert out._op == "cross_entropy"
        out.backward(g)
        outs.append((_np(out), _np(x.grad)))
    tx = torch.tensor(logits, requires_grad=True)
    tout = torch.nn.functional.cross_entropy(tx, torch.tensor(y), reduction=reduction)
    tout.backward(None if g is None else torch.tensor(g))
    for out, grad in outs:
        np.testing.assert_allclose(out, _np(tout), **TIGHT)
        np.testing.assert_allclose(grad, tx.grad.numpy(), **TIGHT)


# ----------------------------------------------------------------------------
# nn.init: torch's fans and gains, the distributions they give, reproducible with a generator

@pytest.mark.parametrize("shape", [(30, 20), (8, 4, 3), (6, 5, 3, 2)])
def test_init_fans_are_torchs(shape):
    ours = nn.init._calculate_fan_in_and_fan_out(tg.zeros(*shape))
    assert ours == torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(*shape))
    for m, t in ((nn.init, tg.zeros(4)), (torch.nn.init, torch.zeros(4))):
        with pytest.raises(ValueError, match="fewer than 2 dimensions"):
            m.xavier_uniform_(t)


@pytest.mark.parametrize("nonlinearity, param", [("linear", None), ("conv2d", None), ("sigmoid", None),
                                                 ("tanh", None), ("relu", None), ("leaky_relu", None),
                                                 ("leaky_relu", 0.2), ("leaky_relu", math.sqrt(5)), ("selu", None)])
def test_calculate_gain_is_torchs(nonlinearity, param):
    assert nn.init.calculate_gain(nonlinearity, param) == torch.nn.init.calculate_gain(nonlinearity, param)


def test_init_errors_are_torchs():
    for m, t in ((nn.init, tg.zeros(3, 4)), (torch.nn.init, torch.zeros(3, 4))):
        for bad in (lambda: m.calculate_gain("swish"), lambda: m.calculate_gain("leaky_relu", "x"),
                    lambda: m.kaiming_normal_(t, mode="fan_avg")):
            with pytest.raises(ValueError):
                bad()
        with pytest.warns(UserWarning, match="zero-element"):
            m.kaiming_uniform_(tg.zeros(0, 3) if m is nn.init else torch.zeros(0, 3))


def _std_and_bound(name, shape, **kw):
    """torch's formulas, written out: (std, uniform bound or None)."""
    fan_in, fan_out = shape[1] * math.prod(shape[2:]), shape[0] * math.prod(shape[2:])
    if name.startswith("xavier"):
        std = kw.get("gain", 1.0) * math.sqrt(2.0 / (fan_in + fan_out))
    else:
        gain = torch.nn.init.calculate_gain(kw.get("nonlinearity", "leaky_relu"), kw.get("a", 0))
        std = gain / math.sqrt(fan_in if kw.get("mode", "fan_in") == "fan_in" else fan_out)
    return std, (math.sqrt(3) * std if name.endswith("uniform_") else None)


@pytest.mark.parametrize("name, kw", [("kaiming_normal_", {}), ("kaiming_uniform_", {}),
                                      ("kaiming_normal_", dict(mode="fan_out", nonlinearity="relu")),
                                      ("kaiming_uniform_", dict(a=math.sqrt(5))),
                                      ("xavier_normal_", {}), ("xavier_uniform_", dict(gain=5 / 3))])
@pytest.mark.parametrize("shape", [(256, 128), (64, 32, 3, 3)])
def test_init_distributions_have_torchs_std_and_bound(name, kw, shape):
    t = getattr(nn.init, name)(tg.zeros(*shape, dtype=np.float64), generator=tg.Generator().manual_seed(0), **kw)
    ref = getattr(torch.nn.init, name)(torch.zeros(*shape, dtype=torch.float64), **kw)
    std, bound = _std_and_bound(name, shape, **kw)
    a = _np(t)
    n = a.size
    assert abs(a.mean()) < 5 * std / math.sqrt(n)                             # mean 0, within 5 standard errors
    assert abs(a.std() / std - 1) < 5 * math.sqrt(2 / n) + 1e-3               # std as torch's formula
    assert abs(ref.numpy().std() / std - 1) < 5 * math.sqrt(2 / n) + 1e-3     # (and so is torch's)
    if bound is not None:
        assert np.abs(a).max() <= bound and np.abs(a).max() > 0.99 * bound
    again = getattr(nn.init, name)(tg.zeros(*shape, dtype=np.float64), generator=tg.Generator().manual_seed(0), **kw)
    np.testing.assert_array_equal(_np(again), a)


def test_simple_inits_and_their_moments():
    gen = tg.Generator().manual_seed(3)
    p = nn.Parameter(tg.zeros(300, 400))
    assert nn.init.normal_(p, mean=2.0, std=0.5, generator=gen) is p and p.dtype == np.float32
    assert abs(p.numpy().mean() - 2.0) < 0.005 and abs(p.numpy().std() - 0.5) < 0.005
    nn.init.uniform_(p, -3.0, 1.0, generator=gen)
    assert p.numpy().min() >= -3 and p.numpy().max() < 1 and abs(p.numpy().mean() + 1) < 0.01
    assert abs(p.numpy().std() - 4 / math.sqrt(12)) < 0.01
    assert (_np(nn.init.constant_(p, 0.25)) == 0.25).all() and (_np(nn.init.ones_(p)) == 1).all()
    assert not _np(nn.init.zeros_(p)).any()
    lin = nn.Linear(3, 4)
    before = lin.weight
    lin.apply(lambda m: nn.init.xavier_uniform_(m.weight) if isinstance(m, nn.Linear) else None)
    assert lin.weight is before                                               # filled in place


# ----------------------------------------------------------------------------
# gradient clipping

@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    shapes = [(4, 3), (3,), (2, 2, 2)]
    ours = [tg.tensor(_rand(*s, seed=i), requires_grad=True) for i, s in enumerate(shapes)]
    theirs = [torch.tensor(_rand(*s, seed=i), requires_grad=True) for i, s in enumerate(shapes)]
    for i, (a, b) in enumerate(zip(ours, theirs)):
        (a * tg.tensor(_rand(*a.shape, seed=10 + i))).sum().backward()
        (b * torch.tensor(_rand(*b.shape, seed=10 + i))).sum().backward()
    extra = tg.tensor(_rand(2), requires_grad=True)           # no grad: skipped
    total = nn.utils.clip_grad_norm_(ours + [extra], max_norm, norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    np.testing.assert_allclose(_np(total), ttotal.numpy(), **TIGHT)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(_np(a.grad), b.grad.numpy(), **TIGHT)


def test_clip_grad_value_and_nonfinite():
    a, ta = tg.tensor(_rand(5, 4), requires_grad=True), torch.tensor(_rand(5, 4), requires_grad=True)
    (a * 3).sum().backward()
    (ta * 3).sum().backward()
    nn.utils.clip_grad_value_(a, 1.5)
    torch.nn.utils.clip_grad_value_(ta, 1.5)
    np.testing.assert_array_equal(_np(a.grad), ta.grad.numpy())
    a.grad = tg.tensor(np.full((5, 4), np.inf))
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_([a], 1.0, error_if_nonfinite=True)
    assert nn.utils.clip_grad_norm_([tg.ones(2, requires_grad=True)], 1.0).item() == 0.0   # no grads: norm 0
