"""tensorgrad.nn: Module bookkeeping, each layer against its torch counterpart, the fused
cross-entropy and batch norm against their composites and torch, and the optimizers."""
import numpy as np
import pytest
import torch

import tensorgrad as tg
import tensorgrad.nn.functional as F
from tensorgrad import nn

TIGHT = dict(rtol=1e-10, atol=1e-12)


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def _mlp(dtype=np.float64):
    g = tg.Generator().manual_seed(0)
    return nn.Sequential(nn.Embedding(27, 10, generator=g), nn.Flatten(), nn.Linear(30, 16, bias=False, generator=g),
                         nn.BatchNorm1d(16), nn.Tanh(), nn.Linear(16, 27, generator=g)).to(dtype)


# ----------------------------------------------------------------------------
# Module

class Block(nn.Module):
    def __init__(self):
        self.fc = nn.Linear(4, 3)
        self.bn = nn.BatchNorm1d(3)
        self.scale = tg.ones(3, requires_grad=True)

    def forward(self, x):
        return self.bn(self.fc(x)) * self.scale


class Net(nn.Module):
    def __init__(self):
        self.block = Block()
        self.heads = [nn.Linear(3, 2), nn.Linear(3, 2, bias=False)]

    def forward(self, x):
        h = self.block(x)
        return self.heads[0](h) + self.heads[1](h)


def test_named_parameters_buffers_and_modules():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["block.scale", "block.fc.weight", "block.fc.bias", "block.bn.weight", "block.bn.bias",
                     "heads.0.weight", "heads.0.bias", "heads.1.weight"]
    assert [p.name for p in net.parameters()] == names          # viz shows these
    assert [n for n, _ in net.named_buffers()] == ["block.bn.running_mean", "block.bn.running_var"]
    assert [n for n, _ in net.named_modules()] == ["", "block", "block.fc", "block.bn", "heads.0", "heads.1"]
    assert len(net.children()) == 3 and len(net.modules()) == 6
    assert "Linear(in_features=4, out_features=3, bias=True)" in repr(net)


def test_train_eval_and_zero_grad():
    net = Net()
    assert net.eval() is net and not any(m.training for m in net.modules())
    assert net.train() is net and all(m.training for m in net.modules())
    F.mse_loss(net(tg.tensor(_rand(5, 4), dtype=np.float32)), tg.zeros(5, 2)).backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_forward_runs_in_a_name_scope_per_module():
    net = Net()
    out = net(tg.tensor(_rand(5, 4), dtype=np.float32))
    scopes, stack = set(), [out]
    while stack:
        t = stack.pop()
        scopes.add(t._scope)
        stack.extend(t._prev)
    assert {"Net.block.fc", "Net.block.bn", "Net.block", "Net.heads.0", "Net.heads.1"} <= scopes
    seq = _mlp()
    assert seq(np.zeros((4, 3), np.int64))._scope == "Sequential.5"


def test_state_dict_round_trip_and_errors():
    a, b = Net(), Net()
    state = a.state_dict()
    assert list(state) == [n for n, _ in a._named_tensors()]
    b.load_state_dict(state)
    assert all(np.array_equal(x, y) for x, y in zip(state.values(), b.state_dict().values()))
    state["block.fc.weight"][:] = 7          # a copy: changing it leaves the model alone
    assert not (a.block.fc.weight.data == 7).any()

    before = b.state_dict()
    bad = dict(a.state_dict(), **{"block.fc.weight": np.zeros((4, 3))})   # the lecture's (in, out) layout
    with pytest.raises(ValueError, match=r"'block.fc.weight' has shape \(4, 3\) in the state, but \(3, 4\)"):
        b.load_state_dict(bad)
    missing = {k: v for k, v in a.state_dict().items() if k != "block.bn.running_var"}
    with pytest.raises(KeyError, match=r"missing keys \['block.bn.running_var'\]"):
        b.load_state_dict(missing)
    with pytest.raises(KeyError, match=r"unexpected keys \['extra'\]"):
        b.load_state_dict(dict(a.state_dict(), extra=np.zeros(1)))
    assert all(np.array_equal(before[k], v) for k, v in b.state_dict().items())   # nothing changed
    b.load_state_dict(missing, strict=False)


def test_to_double_and_float():
    net = Net().double()
    assert all(t.dtype == np.float64 for _, t in net._named_tensors())
    assert net(tg.tensor(_rand(3, 4))).dtype == np.float64
    assert all(t.dtype == np.float32 for _, t in net.float()._named_tensors())


class Recording(nn.Module):
    """makemore part 3's layers keep their output (`self.out`) to plot activation statistics."""

    def __init__(self):
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        self.h = self.fc(x)
        self.out = self.h.tanh()
        return self.out


def test_activations_kept_on_a_module_are_not_parameters_or_buffers():
    net = Recording()
    names, state = [n for n, _ in net.named_parameters()], list(net.state_dict())
    out = net(tg.tensor(_rand(5, 4), dtype=np.float32))
    assert net.out is out and not out.is_leaf
    assert [n for n, _ in net.named_parameters()] == names == ["fc.weight", "fc.bias"]
    assert list(net.state_dict()) == state and net.buffers() == []
    assert out.name is None and net.h.name is None        # an activation's name is left alone
    with tg.no_grad():                                     # under no_grad the outputs are leaves
        net(tg.tensor(_rand(5, 4), dtype=np.float32))
    assert net.out.is_leaf and list(net.state_dict()) == state and net.buffers() == []
    Recording().load_state_dict(net.state_dict())          # strict: no stray keys
    net.fc.extra = tg.zeros(2)                             # assigned outside forward: a buffer
    assert [n for n, _ in net.named_buffers()] == ["fc.extra"] and net.fc.extra.name == "extra"


# ----------------------------------------------------------------------------
# layers against torch

def test_linear_matches_torch_with_the_same_weight():
    lin = nn.Linear(5, 3).double()
    assert lin.weight.shape == (3, 5) and lin.bias.shape == (3,)   # (out, in), as torch.nn.Linear
    ref = torch.nn.Linear(5, 3).double()
    with torch.no_grad():
        ref.weight.copy_(torch.tensor(lin.weight.numpy()))            # no transpose
        ref.bias.copy_(torch.tensor(lin.bias.numpy()))
    x = _rand(7, 5)
    out, tout = lin(tg.tensor(x)), ref(torch.tensor(x))
    np.testing.assert_allclose(out.data, tout.detach().numpy(), **TIGHT)
    g = _rand(7, 3, seed=2)
    out.backward(g)
    tout.backward(torch.tensor(g))
    np.testing.assert_allclose(lin.weight.grad, ref.weight.grad.numpy(), **TIGHT)
    np.testing.assert_allclose(lin.bias.grad, ref.bias.grad.numpy(), **TIGHT)
    assert nn.Linear(5, 3, bias=False).bias is None


def test_linear_is_f_linear_and_loads_a_torch_state_dict():
    """A square layer would hide a transposed weight: check it against F.linear and torch."""
    ref = torch.nn.Linear(4, 4).double()
    lin = nn.Linear(4, 4).double()
    lin.load_state_dict({k: v.numpy() for k, v in ref.state_dict().items()})
    x = _rand(6, 4)
    want = ref(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(lin(tg.tensor(x)).data, want, **TIGHT)
    np.testing.assert_allclose(F.linear(tg.tensor(x), lin.weight, lin.bias).data, want, **TIGHT)
    nobias = nn.Linear(4, 4, bias=False).double()
    np.testing.assert_allclose(nobias(tg.tensor(x)).data, x @ nobias.weight.data.T, **TIGHT)


def test_linear_init_is_torchs_uniform():
    lin = nn.Linear(400, 300, generator=tg.Generator().manual_seed(1))
    bound = 1 / 20   # 1 / sqrt(in_features)
    for p in (lin.weight, lin.bias):
        assert p.is_leaf and p.requires_grad and p.dtype == np.float32
        assert np.abs(p.data).max() <= bound and np.abs(p.data).max() > 0.95 * bound
    assert abs(lin.weight.data.std() - bound / 3 ** 0.5) < 0.001        # U(-b, b) has std b / sqrt(3)
    again = nn.Linear(400, 300, generator=tg.Generator().manual_seed(1))
    assert np.array_equal(lin.weight.data, again.weight.data) and np.array_equal(lin.bias.data, again.bias.data)
    assert nn.Linear(3, 2, dtype=np.float64).weight.dtype == np.float64


def test_repr_of_every_layer():
    assert repr(nn.Embedding(27, 10)) == "Embedding(27, 10)"
    assert repr(nn.Linear(30, 200)) == "Linear(in_features=30, out_features=200, bias=True)"
    assert repr(nn.Linear(30, 200, bias=False)) == "Linear(in_features=30, out_features=200, bias=False)"
    assert repr(nn.BatchNorm1d(3)) == "BatchNorm1d(3, eps=1e-05, momentum=0.1, affine=True, unbiased=False)"
    assert repr(nn.BatchNorm1d(3, affine=False, unbiased=True)) == \
        "BatchNorm1d(3, eps=1e-05, momentum=0.1, affine=False, unbiased=True)"
    assert repr(nn.Tanh()) == "Tanh()"
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"
    assert repr(_mlp()).splitlines() == [
        "Sequential(", "  (0): Embedding(27, 10)", "  (1): Flatten(start_dim=1, end_dim=-1)",
        "  (2): Linear(in_features=30, out_features=16, bias=False)",
        "  (3): BatchNorm1d(16, eps=1e-05, momentum=0.1, affine=True, unbiased=False)", "  (4): Tanh()",
        "  (5): Linear(in_features=16, out_features=27, bias=True)", ")"]
    assert "(fc): Linear(in_features=4, out_features=3, bias=True)" in repr(Net())


def test_embedding_matches_torch():
    emb = nn.Embedding(10, 4).double()
    ref = torch.nn.Embedding(10, 4).double()
    with torch.no_grad():
        ref.weight.copy_(torch.tensor(emb.weight.numpy()))
    idx = np.array([[1, 2, 2], [9, 1, 1]])       # repeated indices add up in the gradient
    out, tout = emb(idx), ref(torch.tensor(idx))
    assert out.shape == (2, 3, 4)
    g = _rand(2, 3, 4)
    out.backward(g)
    tout.backward(torch.tensor(g))
    np.testing.assert_allclose(emb.weight.grad, ref.weight.grad.numpy(), **TIGHT)


def test_tanh_flatten_sequential_match_torch():
    seq = _mlp()
    ref = torch.nn.Sequential(torch.nn.Embedding(27, 10), torch.nn.Flatten(), torch.nn.Linear(30, 16, bias=False),
                              torch.nn.BatchNorm1d(16), torch.nn.Tanh(), torch.nn.Linear(16, 27)).double()
    with torch.no_grad():
        for name, p in seq.named_parameters():
            tp = ref.get_parameter(name)
            tp.copy_(torch.tensor(p.numpy()))   # the same layout as torch: no transposes
    x = np.random.default_rng(0).integers(0, 27, (32, 3))
    y = np.random.default_rng(1).integers(0, 27, 32)
    loss = F.cross_entropy(seq(x), y)
    tloss = torch.nn.functional.cross_entropy(ref(torch.tensor(x)), torch.tensor(y))
    np.testing.assert_allclose(loss.item(), tloss.item(), **TIGHT)
    loss.backward()
    tloss.backward()
    for name, p in seq.named_parameters():
        np.testing.assert_allclose(p.grad, ref.get_parameter(name).grad.numpy(), err_msg=name, **TIGHT)
    assert len(seq) == 6 and isinstance(seq[4], nn.Tanh) and len(list(seq)) == 6


# ----------------------------------------------------------------------------
# BatchNorm1d: both variance flavours, train and eval, running statistics

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
    w, b = _rand(6, seed=5).astype(dtype) + 1, _rand(6, seed=6).astype(dtype)
    bn.weight.data, bn.bias.data = w.copy(), b.copy()
    with torch.no_grad():
        ref.weight.copy_(torch.tensor(w))
        ref.bias.copy_(torch.tensor(b))
    for step in range(3):   # train mode: batch statistics, running statistics updated
        x = (_rand(10, 6, seed=step) * 3 + 2).astype(dtype)
        tx = torch.tensor(x, requires_grad=True)
        out = bn(tg.tensor(x, requires_grad=True))
        if unbiased:
            tw, tb = ref.weight.detach().requires_grad_(), ref.bias.detach().requires_grad_()
            tout = _torch_bn_unbiased(tx, tw, tb, eps=1e-3)
            with torch.no_grad():
                ref(tx)   # torch's module only for its running statistics (which do not depend on the flavour)
        else:
            tw, tb = ref.weight, ref.bias
            tout = ref(tx)
        np.testing.assert_allclose(out.data, tout.detach().numpy(), **tol)
        g = _rand(10, 6, seed=10 + step).astype(dtype)
        bn.zero_grad()
        tw.grad = tb.grad = None
        x_t = out._prev[0]
        out.backward(g)
        tout.backward(torch.tensor(g))
        np.testing.assert_allclose(x_t.grad, tx.grad.numpy(), **tol)
        np.testing.assert_allclose(bn.weight.grad, tw.grad.numpy(), **tol)
        np.testing.assert_allclose(bn.bias.grad, tb.grad.numpy(), **tol)
        np.testing.assert_allclose(bn.running_mean.data, ref.running_mean.numpy(), **tol)
        np.testing.assert_allclose(bn.running_var.data, ref.running_var.numpy(), **tol)
    bn.eval()
    ref.eval()
    x = _rand(4, 6, seed=99).astype(dtype)   # eval mode: running statistics, nothing updated
    rm = bn.running_mean.numpy().copy()
    np.testing.assert_allclose(bn(tg.tensor(x)).data, ref(torch.tensor(x)).detach().numpy(), **tol)
    assert np.array_equal(bn.running_mean.data, rm)


def test_batchnorm1d_without_affine_and_errors():
    bn = nn.BatchNorm1d(3, affine=False)
    assert bn.parameters() == [] and [n for n, _ in bn.named_buffers()] == ["running_mean", "running_var"]
    out = bn(tg.tensor(_rand(8, 3), dtype=np.float32))
    np.testing.assert_allclose(out.data.mean(0), 0, atol=1e-6)
    for unbiased in (False, True):   # torch: "Expected more than 1 value per channel when training"
        with pytest.raises(ValueError, match=r"BatchNorm1d\(3\): a batch of 1 is too small in training mode"):
            nn.BatchNorm1d(3, unbiased=unbiased)(tg.tensor(_rand(1, 3)))
    bn = nn.BatchNorm1d(3).eval()    # eval mode normalises single examples with the running statistics
    np.testing.assert_allclose(bn(tg.tensor(_rand(1, 3))).data, _rand(1, 3) / np.sqrt(1 + 1e-5), rtol=1e-6)
    with pytest.raises(ValueError, match=r"\(N, C\)"):
        nn.BatchNorm1d(3)(tg.tensor(_rand(2, 3, 4)))


# ----------------------------------------------------------------------------
# fused ops: against their composites (tensorgrad) and torch

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
        results.append([out.data] + [t.grad for t in xs])
    fused = F.batch_norm(tg.tensor(x, requires_grad=True), None, None, tg.tensor(w), tg.tensor(b), training=True)
    assert fused._op == "batch_norm"   # one node in the graph
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    if correction == 0:
        tout = torch.nn.functional.batch_norm(tx, None, None, tw[0], tb[0], training=True).reshape(16, 5)
    else:
        tout = _torch_bn_unbiased(tx, tw, tb)
    tout.backward(torch.tensor(g))
    want = [tout.detach().numpy(), tx.grad.numpy(), tw.grad.numpy(), tb.grad.numpy()]
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
        outs.append((out.data, x.grad))
    tx = torch.tensor(logits, requires_grad=True)
    tout = torch.nn.functional.cross_entropy(tx, torch.tensor(y), reduction=reduction)
    tout.backward(None if g is None else torch.tensor(g))
    for out, grad in outs:
        np.testing.assert_allclose(out, tout.detach().numpy(), **TIGHT)
        np.testing.assert_allclose(grad, tx.grad.numpy(), **TIGHT)


# ----------------------------------------------------------------------------
# optimizers: a few steps against torch.optim

def _run_optimizer(make_ours, make_torch, steps=5):
    shapes = [(4, 3), (3,)]
    ours = [tg.tensor(_rand(*s, seed=i), requires_grad=True) for i, s in enumerate(shapes)]
    theirs = [torch.tensor(_rand(*s, seed=i), requires_grad=True) for i, s in enumerate(shapes)]
    opt, topt = make_ours(ours), make_torch(theirs)
    x = _rand(6, 4, seed=9)
    for step in range(steps):
        loss = ((tg.tensor(x) @ ours[0] + ours[1]).tanh() ** 2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        tloss = ((torch.tensor(x) @ theirs[0] + theirs[1]).tanh() ** 2).sum()
        topt.zero_grad()
        tloss.backward()
        topt.step()
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.data, b.detach().numpy(), rtol=1e-10, atol=1e-12)
    return opt, ours


@pytest.mark.parametrize("kwargs", [dict(), dict(momentum=0.9), dict(momentum=0.9, nesterov=True),
                                    dict(momentum=0.5, dampening=0.1, weight_decay=0.01), dict(weight_decay=0.1)])
def test_sgd_matches_torch(kwargs):
    _run_optimizer(lambda p: nn.SGD(p, lr=0.1, **kwargs), lambda p: torch.optim.SGD(p, lr=0.1, **kwargs))


@pytest.mark.parametrize("name, kwargs", [("Adam", dict()), ("Adam", dict(weight_decay=0.1, betas=(0.8, 0.99))),
                                          ("AdamW", dict()), ("AdamW", dict(weight_decay=0.3, eps=1e-6))])
def test_adam_and_adamw_match_torch(name, kwargs):
    _run_optimizer(lambda p: getattr(nn, name)(p, lr=0.05, **kwargs),
                   lambda p: getattr(torch.optim, name)(p, lr=0.05, **kwargs))


def test_optimizer_state_dict_round_trip():
    opt, params = _run_optimizer(lambda p: nn.Adam(p, lr=0.05), lambda p: torch.optim.Adam(p, lr=0.05), steps=2)
    state = opt.state_dict()
    assert sorted(state) == ["0.exp_avg", "0.exp_avg_sq", "0.step", "1.exp_avg", "1.exp_avg_sq", "1.step"]
    assert int(state["0.step"]) == 2
    other = nn.Adam(params, lr=0.05)
    other.load_state_dict(state)
    assert all(np.array_equal(other.state_dict()[k], v) for k, v in state.items())
    with pytest.raises(ValueError, match="has shape"):
        other.load_state_dict(dict(state, **{"0.exp_avg": np.zeros(2)}))
    with pytest.raises(KeyError, match="unexpected key"):
        other.load_state_dict({"7.exp_avg": np.zeros(2)})
    assert nn.SGD(params).state_dict() == {}
    with pytest.raises(ValueError, match="empty parameter list"):
        nn.SGD([])


def test_a_parameter_without_grad_is_skipped():
    a, b = tg.ones(2, requires_grad=True), tg.ones(2, requires_grad=True)
    opt = nn.SGD([a, b], lr=1.0, momentum=0.9)
    (a * 3).sum().backward()
    opt.step()
    assert a.data.tolist() == [-2.0, -2.0] and b.data.tolist() == [1.0, 1.0]
