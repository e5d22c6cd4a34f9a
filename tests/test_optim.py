"""tensorgrad.optim against torch.optim: every optimizer and scheduler step for step over 50 steps
from the same weights (float64 tight, float32 close), param groups, state dicts (torch's layout,
resuming exactly, loading torch's), and torch's errors."""
import math

import numpy as np
import pytest
import torch

import tensorgrad as tg
from tensorgrad import nn, optim
from tensorgrad.optim import lr_scheduler

TIGHT = dict(rtol=1e-10, atol=1e-12)
CLOSE = dict(rtol=2e-4, atol=2e-5)
SHAPES = [(4, 3), (3,), (3, 2)]
STEPS = 50


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def _params(lib, dtype=np.float64):
    if lib is tg:
        return [tg.tensor(_rand(*s, seed=i).astype(dtype), requires_grad=True) for i, s in enumerate(SHAPES)]
    return [torch.tensor(_rand(*s, seed=i).astype(dtype), requires_grad=True) for i, s in enumerate(SHAPES)]


def _loss(lib, ps, step):
    """A small two-layer net on a batch that changes every step (so the gradients keep changing)."""
    w1, b1, w2 = ps
    x = _rand(6, 4, seed=100 + step).astype(np.float32 if "float32" in str(w1.dtype) else np.float64)
    h = ((lib.tensor(x) @ w1) + b1).tanh()
    return ((h @ w2) ** 2).sum() + (w1 * w1).sum() * 0.01


def _groups(ps, group_options):
    """All the parameters in one group, or split into two groups with their own options."""
    if group_options is None:
        return ps
    return [dict(params=ps[:2], **group_options[0]), dict(params=ps[2:], **group_options[1])]


def _run(name, kwargs, group_options=None, dtype=np.float64, steps=STEPS, scheduler=None):
    """Train the same weights with tensorgrad and torch; compare every parameter after every step."""
    ours, theirs = _params(tg, dtype), _params(torch, dtype)
    opt = getattr(optim, name)(_groups(ours, group_options), **kwargs)
    topt = getattr(torch.optim, name)(_groups(theirs, group_options), **kwargs)
    sched = tsched = None
    if scheduler is not None:
        sched, tsched = scheduler(lr_scheduler, opt), scheduler(torch.optim.lr_scheduler, topt)
    tol = TIGHT if dtype == np.float64 else CLOSE
    for step in range(steps):
        for o, ps, lib in ((opt, ours, tg), (topt, theirs, torch)):
            o.zero_grad()
            _loss(lib, ps, step).backward()
            o.step()
        if sched is not None:
            sched.step()
            tsched.step()
            np.testing.assert_allclose(sched.get_last_lr(), tsched.get_last_lr(), rtol=1e-13, atol=0)
        for i, (a, b) in enumerate(zip(ours, theirs)):
            np.testing.assert_allclose(a.numpy(), b.detach().numpy(), **tol, err_msg=f"{name} step {step} param {i}")
    return opt, topt, ours, theirs


CASES = [
    ("SGD", dict(lr=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.05, momentum=0.5, dampening=0.1, weight_decay=0.01)),
    ("SGD", dict(lr=0.002, weight_decay=0.1, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, betas=(0.8, 0.99))),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.01, betas=(0.3, 0.9), maximize=True)),         # beta1 < 0.5: lerp's other form
    ("Adam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.3, eps=1e-6, amsgrad=True)),
    ("RMSprop", dict(lr=0.005)),
    ("RMSprop", dict(lr=0.005, momentum=0.9, weight_decay=0.01)),
    ("RMSprop", dict(lr=0.005, centered=True, alpha=0.9)),
    ("RMSprop", dict(lr=0.005, centered=True, momentum=0.5, maximize=True)),
    ("Adagrad", dict(lr=0.05)),
    ("Adagrad", dict(lr=0.05, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.1)),
    ("Adagrad", dict(lr=0.05, eps=1e-3, maximize=True)),
]


@pytest.mark.parametrize("name, kwargs", CASES, ids=[f"{n}-{sorted(k.items())}" for n, k in CASES])
def test_optimizer_follows_torch_for_50_steps(name, kwargs):
    _run(name, kwargs)


@pytest.mark.parametrize("name, kwargs", CASES[::3], ids=[f"{n}-{sorted(k.items())}" for n, k in CASES[::3]])
def test_optimizer_follows_torch_in_float32(name, kwargs):
    _run(name, kwargs, dtype=np.float32, steps=20)


GROUPS = [
    ("SGD", dict(lr=0.05, momentum=0.9), [dict(), dict(lr=0.01, momentum=0.5, nesterov=True, weight_decay=0.1)]),
    ("Adam", dict(lr=0.01), [dict(betas=(0.5, 0.9)), dict(lr=0.03, amsgrad=True, weight_decay=0.05)]),
    ("AdamW", dict(lr=0.01), [dict(weight_decay=0.0), dict(lr=0.002, eps=1e-5)]),
    ("RMSprop", dict(lr=0.005), [dict(centered=True), dict(momentum=0.8)]),
    ("Adagrad", dict(lr=0.05), [dict(lr_decay=0.1), dict(lr=0.1, initial_accumulator_value=1.0)]),
]


@pytest.mark.parametrize("name, kwargs, groups", GROUPS, ids=[g[0] for g in GROUPS])
def test_param_groups_with_their_own_options_follow_torch(name, kwargs, groups):
    opt, topt, _, _ = _run(name, kwargs, groups)
    assert len(opt.param_groups) == 2
    for ours, theirs in zip(opt.param_groups, topt.param_groups):
        for k, v in ours.items():
            if k != "params":
                assert theirs[k] == v, k          # every option as torch fills it in from the defaults


def test_parameters_without_grad_are_skipped_and_zero_grad():
    a, b = tg.ones(2, requires_grad=True), tg.ones(2, requires_grad=True)
    ta, tb = torch.ones(2, dtype=torch.float64, requires_grad=True), torch.ones(2, dtype=torch.float64,
                                                                               requires_grad=True)
    opt, topt = optim.Adam([a, b], lr=0.1), torch.optim.Adam([ta, tb], lr=0.1)
    for step in range(3):
        (a * 3).sum().backward()
        (ta * 3).sum().backward()
        opt.step()
        topt.step()
        opt.zero_grad(set_to_none=False)            # zeroed in place, still there
        topt.zero_grad(set_to_none=False)
        assert a.grad is not None and not np.asarray(a.grad).any()
    np.testing.assert_allclose(a.numpy(), ta.detach().numpy(), rtol=1e-6)
    assert b.numpy().tolist() == [1.0, 1.0] and list(opt.state) == [a]        # b never had a gradient
    assert len(opt.state_dict()["state"]) == len(topt.state_dict()["state"]) == 1
    assert opt.state[b] == topt.state[tb] == {}                                # state: a defaultdict, as torch's
    opt.zero_grad()
    assert a.grad is None


def test_step_takes_a_closure_and_marks_the_parameters_written():
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.5)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    assert opt.step(closure).item() == 5.0 and w.numpy().tolist() == [0.0, 0.0]
    y = w * w                                   # a graph that used w's values
    opt.step(closure)                           # ... then w changes in place
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):   # torch's words
        y.sum().backward()


def test_state_dict_is_torchs_layout():
    opt, topt, _, _ = _run("Adam", dict(lr=0.01, amsgrad=True), GROUPS[1][2], steps=3)
    ours, theirs = opt.state_dict(), topt.state_dict()
    assert list(ours) == list(theirs) == ["state", "param_groups"]
    assert list(ours["state"]) == list(theirs["state"]) == [0, 1, 2]
    for i, entries in theirs["state"].items():
        assert list(ours["state"][i]) == list(entries)
        for k, v in entries.items():
            np.testing.assert_allclose(np.asarray(ours["state"][i][k]), v.numpy(), **TIGHT)
            assert np.asarray(ours["state"][i][k]).dtype == v.numpy().dtype, k     # step: a float32 scalar
    for g, tgroup in zip(ours["param_groups"], theirs["param_groups"]):
        assert g["params"] == tgroup["params"] and list(g)[-1] == "params"
        assert {k: v for k, v in g.items()} == {k: tgroup[k] for k in g}
    sgd = optim.SGD(_params(tg), lr=0.1)
    assert sgd.state_dict()["state"] == {} and sgd.state_dict()["param_groups"][0]["params"] == [0, 1, 2]


@pytest.mark.parametrize("name, kwargs", [("SGD", dict(lr=0.05, momentum=0.9)), ("Adam", dict(lr=0.01, amsgrad=True)),
                                          ("AdamW", dict(lr=0.01)), ("RMSprop", dict(lr=0.005, centered=True,
                                                                                     momentum=0.5)),
                                          ("Adagrad", dict(lr=0.05, lr_decay=0.01))])
def test_resuming_from_a_state_dict_is_exact(name, kwargs):
    """10 steps, state_dict, a new optimizer (on a copy of the weights) loads it, 10 more steps:
    the same weights as 20 uninterrupted steps."""
    ps = _params(tg)
    opt = getattr(optim, name)(ps, **kwargs)
    for step in range(20):
        if step == 10:
            saved = {"state": {i: {k: np.asarray(v).copy() for k, v in s.items()}
                               for i, s in opt.state_dict()["state"].items()},
                     "param_groups": opt.state_dict()["param_groups"]}
            copies = [tg.tensor(p.numpy().copy(), requires_grad=True) for p in ps]
        opt.zero_grad()
        _loss(tg, ps, step).backward()
        opt.step()
    other = getattr(optim, name)(copies, lr=123.0)        # options come from the state dict
    other.load_state_dict(saved)
    assert other.param_groups[0]["lr"] == kwargs["lr"] and other.param_groups[0]["params"][0] is copies[0]
    for step in range(10, 20):
        other.zero_grad()
        _loss(tg, copies, step).backward()
        other.step()
    for a, b in zip(ps, copies):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_a_torch_optimizer_state_loads_and_continues_as_torch():
    _, topt, _, theirs = _run("Adam", dict(lr=0.01, weight_decay=0.01), steps=5)
    ours = [tg.tensor(t.detach().numpy().copy(), requires_grad=True) for t in theirs]
    opt = optim.Adam(ours)
    tstate = topt.state_dict()
    opt.load_state_dict({"state": {i: {k: v.numpy() for k, v in s.items()} for i, s in tstate["state"].items()},
                         "param_groups": tstate["param_groups"]})
    for step in range(5, 15):
        for o, ps, lib in ((opt, ours, tg), (topt, theirs, torch)):
            o.zero_grad()
            _loss(lib, ps, step).backward()
            o.step()
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), **TIGHT)


def test_load_state_dict_errors():
    opt = optim.Adam(_params(tg), lr=0.1)
    _loss(tg, opt.param_groups[0]["params"], 0).backward()
    opt.step()
    state = opt.state_dict()
    two = optim.Adam(_groups(_params(tg), [{}, {}]))
    with pytest.raises(ValueError, match="different number of parameter groups"):
        two.load_state_dict(state)
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        optim.Adam(_params(tg)[:2]).load_state_dict(state)
    bad = {"state": {0: dict(state["state"][0], exp_avg=np.zeros(2))}, "param_groups": state["param_groups"]}
    with pytest.raises(ValueError, match="has shape"):
        optim.Adam(_params(tg)).load_state_dict(bad)
    with pytest.raises(KeyError):
        optim.Adam(_params(tg)).load_state_dict({"state": {7: {}}, "param_groups": state["param_groups"]})
    f32 = optim.Adam([tg.tensor(_rand(*s).astype(np.float32), requires_grad=True) for s in SHAPES])
    f32.load_state_dict(state)                                   # float64 state is cast to the parameters' dtype
    assert f32.state[f32.param_groups[0]["params"][0]]["exp_avg"].dtype == np.float32


@pytest.mark.parametrize("make", [
    lambda o, ps: o.SGD(ps, lr=-0.1), lambda o, ps: o.SGD(ps, momentum=-1), lambda o, ps: o.SGD(ps, weight_decay=-1),
    lambda o, ps: o.SGD(ps, lr=0.1, nesterov=True), lambda o, ps: o.SGD(ps, momentum=0.9, dampening=0.1, nesterov=True),
    lambda o, ps: o.Adam(ps, betas=(1.0, 0.9)), lambda o, ps: o.Adam(ps, betas=(0.9, -0.1)),
    lambda o, ps: o.Adam(ps, eps=-1), lambda o, ps: o.AdamW(ps, weight_decay=-0.1),
    lambda o, ps: o.RMSprop(ps, alpha=-0.5), lambda o, ps: o.RMSprop(ps, momentum=-0.5),
    lambda o, ps: o.Adagrad(ps, lr_decay=-1), lambda o, ps: o.Adagrad(ps, initial_accumulator_value=-1),
    lambda o, ps: o.SGD([], lr=0.1), lambda o, ps: o.SGD([ps[0], ps[0] * 2]),
    lambda o, ps: o.SGD([dict(params=ps[:1]), dict(params=ps[:2])]),
    lambda o, ps: o.SGD(ps[0]), lambda o, ps: o.SGD([dict(params=set(ps))]), lambda o, ps: o.SGD([ps[0], 3.0]),
])
def test_constructor_errors_are_torchs(make):
    with pytest.raises(Exception) as theirs:
        make(torch.optim, _params(torch))
    with pytest.raises(type(theirs.value)) as ours:
        make(optim, _params(tg))
    if isinstance(theirs.value, ValueError):          # TypeErrors name torch's classes; ValueErrors say the same
        assert str(ours.value) == str(theirs.value)


def test_aliases_and_the_lr_shorthand():
    assert nn.SGD is optim.SGD and nn.Adam is optim.Adam and nn.AdamW is optim.AdamW and nn.Optimizer is optim.Optimizer
    assert tg.optim is optim
    opt = optim.SGD(_groups(_params(tg), [dict(lr=0.1), dict(lr=0.2)]), lr=0.3)
    assert opt.lr == 0.1
    opt.lr = 0.01                                     # sets every group's
    assert [g["lr"] for g in opt.param_groups] == [0.01, 0.01]
    assert repr(opt).startswith("SGD (\nParameter Group 0\n    dampening: 0\n")


# ----------------------------------------------------------------------------
# schedulers: the same lrs as torch's, step for step (and the same weights when training)

SCHEDULERS = {
    "StepLR": lambda s, o: s.StepLR(o, step_size=7, gamma=0.5),
    "MultiStepLR": lambda s, o: s.MultiStepLR(o, milestones=[5, 12, 12, 30], gamma=0.3),
    "LambdaLR": lambda s, o: s.LambdaLR(o, lambda e: 0.95 ** e),
    "LambdaLR-per-group": lambda s, o: s.LambdaLR(o, [lambda e: 1 / (1 + e), lambda e: 0.9 ** e]),
    "ExponentialLR": lambda s, o: s.ExponentialLR(o, gamma=0.95),
    "ConstantLR": lambda s, o: s.ConstantLR(o, factor=0.5, total_iters=8),
    "CosineAnnealingLR": lambda s, o: s.CosineAnnealingLR(o, T_max=20, eta_min=0.001),   # 50 steps: past T_max twice
    "LinearLR": lambda s, o: s.LinearLR(o, start_factor=0.25, total_iters=10),
    "LinearLR-down": lambda s, o: s.LinearLR(o, start_factor=1.0, end_factor=0.1, total_iters=30),
    "OneCycleLR": lambda s, o: s.OneCycleLR(o, max_lr=0.02, total_steps=60),
    "OneCycleLR-linear-3phase": lambda s, o: s.OneCycleLR(o, max_lr=[0.02, 0.01], epochs=5, steps_per_epoch=12,
                                                          anneal_strategy="linear", three_phase=True, pct_start=0.25),
    "OneCycleLR-no-momentum": lambda s, o: s.OneCycleLR(o, max_lr=0.05, total_steps=51, cycle_momentum=False,
                                                        div_factor=10.0, final_div_factor=100.0),
}


@pytest.mark.parametrize("sched", list(SCHEDULERS))
@pytest.mark.parametrize("name, kwargs", [("SGD", dict(lr=0.05, momentum=0.9)), ("Adam", dict(lr=0.01))])
def test_scheduler_follows_torch_for_50_steps(sched, name, kwargs):
    opt, topt, _, _ = _run(name, kwargs, [dict(), dict(lr=0.02)], scheduler=SCHEDULERS[sched])
    for g, tgroup in zip(opt.param_groups, topt.param_groups):
        for k in ("lr", "initial_lr", "momentum", "betas", "max_lr", "min_lr", "max_momentum", "base_momentum"):
            if k in tgroup:
                np.testing.assert_allclose(g[k], tgroup[k], rtol=1e-13, err_msg=k)


def test_scheduler_state_dict_resumes_exactly():
    def make(ps):
        opt = optim.SGD(ps, lr=0.1, momentum=0.9)
        return opt, lr_scheduler.OneCycleLR(opt, max_lr=0.2, total_steps=40)

    ps = _params(tg)
    opt, sched = make(ps)
    lrs = []
    for step in range(30):
        if step == 15:
            saved = sched.state_dict(), opt.state_dict()
        lrs.append(sched.get_last_lr())
        sched.step()
    tsched = torch.optim.lr_scheduler.OneCycleLR(torch.optim.SGD(_params(torch), lr=0.1, momentum=0.9),
                                                 max_lr=0.2, total_steps=40)
    assert set(saved[0]) >= {"total_steps", "last_epoch", "base_lrs", "_last_lr", "_step_count"}
    assert set(saved[0]) <= set(tsched.state_dict())
    opt2, sched2 = make(_params(tg))
    opt2.load_state_dict(saved[1])
    sched2.load_state_dict(saved[0])
    for step in range(15, 30):
        assert sched2.get_last_lr() == lrs[step]
        sched2.step()
    lam = lr_scheduler.LambdaLR(optim.SGD(_params(tg), lr=0.1), lambda e: 0.5 ** e)
    lam.step()
    state = lam.state_dict()
    assert state["lr_lambdas"] == [None] and "optimizer" not in state
    again = lr_scheduler.LambdaLR(optim.SGD(_params(tg), lr=0.1), lambda e: 0.5 ** e)
    again.load_state_dict(state)
    assert again.last_epoch == 1 and again.get_last_lr() == lam.get_last_lr()


def test_scheduler_errors_are_torchs():
    for o, s, ps in ((optim, lr_scheduler, _params(tg)), (torch.optim, torch.optim.lr_scheduler, _params(torch))):
        opt = o.SGD(ps, lr=0.1)
        for bad, error in ((lambda: s.StepLR("not an optimizer", 3), TypeError),
                           (lambda: s.LinearLR(opt, start_factor=0), ValueError),
                           (lambda: s.LinearLR(opt, end_factor=1.5), ValueError),
                           (lambda: s.ConstantLR(opt, factor=1.5), ValueError),
                           (lambda: s.LambdaLR(opt, [lambda e: 1, lambda e: 2]), ValueError),
                           (lambda: s.OneCycleLR(opt, max_lr=0.1), ValueError),
                           (lambda: s.OneCycleLR(opt, max_lr=0.1, total_steps=10, anneal_strategy="exp"), ValueError),
                           (lambda: s.OneCycleLR(opt, max_lr=0.1, total_steps=10, pct_start=2.0), ValueError),
                           (lambda: s.OneCycleLR(o.Adagrad(ps), max_lr=0.1, total_steps=10), ValueError),
                           (lambda: s.StepLR(o.SGD(ps, lr=0.1), 3, last_epoch=4), KeyError)):
            with pytest.raises(error):
                bad()
        one = s.OneCycleLR(o.SGD(ps, lr=0.1, momentum=0.9), max_lr=0.1, total_steps=3)
        for _ in range(3):
            one.optimizer.step()             # (no grads: nothing moves; torch warns if the scheduler steps first)
            one.step()
        with pytest.raises(ValueError, match="Tried to step 4 times"):
            one.step()


def test_cosine_annealing_closed_form():
    """The recursive formula torch uses agrees with the closed form it stands for, within T_max."""
    opt = optim.SGD(_params(tg), lr=0.1)
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=25, eta_min=0.01)
    for epoch in range(1, 26):
        sched.step()
        want = 0.01 + (0.1 - 0.01) * (1 + math.cos(math.pi * epoch / 25)) / 2
        assert abs(sched.get_last_lr()[0] - want) < 1e-12
