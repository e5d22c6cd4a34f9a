"""Issue 19's optimizers (NAdam, RAdam, Adamax, Adadelta, ASGD, LBFGS) and schedulers
(PolynomialLR, CosineAnnealingWarmRestarts, SequentialLR, ChainedScheduler, ReduceLROnPlateau,
CyclicLR) against torch.optim step for step, with test_optim.py's harness; state dicts in torch's
layout; add_param_group mid-run."""
import numpy as np
import pytest
import torch

import tensorgrad as tg
from tensorgrad import optim
from tensorgrad.optim import lr_scheduler
from test_optim import TIGHT, _loss, _params, _run

CASES = [
    ("NAdam", dict(lr=0.01)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, momentum_decay=0.01, betas=(0.8, 0.99))),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("RAdam", dict(lr=0.01)),
    ("RAdam", dict(lr=0.01, weight_decay=0.1, betas=(0.3, 0.9))),     # rho_t > 5 from step 6 on
    ("RAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("Adamax", dict(lr=0.01)),
    ("Adamax", dict(lr=0.01, weight_decay=0.1, betas=(0.3, 0.9), eps=1e-3)),
    ("Adamax", dict(lr=0.01, maximize=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-4, weight_decay=0.1)),
    ("Adadelta", dict(lr=0.1, maximize=True)),
    ("ASGD", dict(lr=0.01)),
    ("ASGD", dict(lr=0.01, t0=10, lambd=1e-2, alpha=0.5, weight_decay=0.1)),     # averaging from step 10 on
    ("ASGD", dict(lr=0.002, t0=0, maximize=True)),
]
IDS = [f"{n}-{sorted(k.items())}" for n, k in CASES]


@pytest.mark.parametrize("name, kwargs", CASES, ids=IDS)
def test_optimizer_follows_torch_for_50_steps(name, kwargs):
    opt, topt, _, _ = _run(name, kwargs)
    ours, theirs = opt.state_dict(), topt.state_dict()
    for i, entries in theirs["state"].items():                        # torch's names, order and values
        assert list(ours["state"][i]) == list(entries)
        for k, v in entries.items():
            got = np.asarray(ours["state"][i][k])
            np.testing.assert_allclose(got, v.numpy(), rtol=1e-10, atol=1e-12, err_msg=k)
            assert got.dtype == v.numpy().dtype, k
    for g, tgroup in zip(ours["param_groups"], theirs["param_groups"]):
        assert {k: v for k, v in g.items()} == {k: tgroup[k] for k in g}


@pytest.mark.parametrize("name, kwargs", CASES[::3], ids=IDS[::3])
def test_optimizer_follows_torch_in_float32(name, kwargs):
    _run(name, kwargs, dtype=np.float32, steps=20)


@pytest.mark.parametrize("name, kwargs, groups", [
    ("NAdam", dict(lr=0.01), [dict(), dict(lr=0.03, momentum_decay=0.01)]),
    ("RAdam", dict(lr=0.01), [dict(betas=(0.5, 0.9)), dict(weight_decay=0.1)]),
    ("Adadelta", dict(), [dict(rho=0.5), dict(lr=0.3)]),
    ("ASGD", dict(lr=0.01), [dict(t0=5), dict(lr=0.02)]),
], ids=["NAdam", "RAdam", "Adadelta", "ASGD"])
def test_param_groups_follow_torch(name, kwargs, groups):
    _run(name, kwargs, groups)


@pytest.mark.parametrize("name, kwargs", [("Adam", dict(lr=0.01)), ("NAdam", dict(lr=0.01)), ("SGD", dict(lr=0.05,
                                          momentum=0.9))])
def test_add_param_group_mid_run_follows_torch(name, kwargs):
    ours, theirs = _params(tg), _params(torch)
    opt = getattr(optim, name)(ours[:2], **kwargs)
    topt = getattr(torch.optim, name)(theirs[:2], **kwargs)
    for step in range(20):
        if step == 7:
            opt.add_param_group({"params": [ours[2]], "lr": 0.002})
            topt.add_param_group({"params": [theirs[2]], "lr": 0.002})
        for o, ps, lib in ((opt, ours, tg), (topt, theirs, torch)):
            o.zero_grad()
            _loss(lib, ps, step).backward()
            o.step()
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(a.numpy(), b.detach().numpy(), **TIGHT)
    assert all(topt.param_groups[1][k] == v for k, v in opt.param_groups[1].items() if k != "params")
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [ours[0]]})


# ----------------------------------------------------------------------------
# LBFGS

def _elementwise(lib, ps):
    total = 0
    for i, p in enumerate(ps):
        total = total + ((p - 0.3 * i) ** 2 * (1.5 + p.tanh()) + 0.1 * p ** 4).sum()
    return total


@pytest.mark.parametrize("kwargs", [dict(lr=0.1), dict(line_search_fn="strong_wolfe"),
                                    dict(lr=0.05, history_size=3, max_iter=5),
                                    dict(line_search_fn="strong_wolfe", history_size=4, max_iter=4, max_eval=6),
                                    dict(lr=0.1, tolerance_change=1e-3)],
                         ids=["lr", "strong-wolfe", "short-history", "strong-wolfe-few-evals", "tolerance"])
def test_lbfgs_follows_torch_for_50_steps(kwargs):
    """A smooth non-convex objective whose gradient is elementwise (so both libraries compute the very
    same gradients; a matmul's would differ in the last bits, which L-BFGS's curvature pairs amplify):
    every step's loss, evaluation count and weights."""
    ours, theirs = _params(tg), _params(torch)
    opt, topt = optim.LBFGS(ours, **kwargs), torch.optim.LBFGS(theirs, **kwargs)
    evals = [0, 0]

    def closure_of(o, ps, lib, i):
        def closure():
            evals[i] += 1
            o.zero_grad()
            loss = _elementwise(lib, ps)
            loss.backward()
            return loss
        return closure

    for step in range(50):
        loss = opt.step(closure_of(opt, ours, tg, 0))
        tloss = topt.step(closure_of(topt, theirs, torch, 1))
        assert evals[0] == evals[1], step
        np.testing.assert_allclose(float(loss), float(tloss.detach()), rtol=1e-10, atol=1e-12)
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-10, atol=1e-12, err_msg=f"step {step}")
    state, tstate = opt.state_dict()["state"][0], topt.state_dict()["state"][0]
    assert sorted(state) == sorted(tstate)
    for k in ("func_evals", "n_iter"):
        assert state[k] == tstate[k]
    np.testing.assert_allclose(state["d"], tstate["d"].numpy(), rtol=1e-8, atol=1e-12)
    assert len(state["old_dirs"]) == len(tstate["old_dirs"])


def test_lbfgs_trains_a_model_and_resumes_from_its_state_dict():
    ps = _params(tg)
    opt = optim.LBFGS(ps, line_search_fn="strong_wolfe", max_iter=5)

    def closure():
        opt.zero_grad()
        loss = _loss(tg, ps, 0)
        loss.backward()
        return loss

    first = float(opt.step(closure))
    for _ in range(5):
        opt.step(closure)
    assert float(closure()) < first
    other = optim.LBFGS([tg.tensor(p.numpy().copy(), requires_grad=True) for p in ps], line_search_fn="strong_wolfe",
                        max_iter=5)
    other.load_state_dict(opt.state_dict())
    assert other.state[other._params[0]]["n_iter"] == opt.state[ps[0]]["n_iter"]
    with pytest.raises(ValueError, match="parameter groups"):
        optim.LBFGS([{"params": ps[:1]}, {"params": ps[1:]}])
    with pytest.raises(RuntimeError, match="closure"):
        opt.step()


# ----------------------------------------------------------------------------
# schedulers

SCHEDULERS = {
    "PolynomialLR": lambda s, o: s.PolynomialLR(o, total_iters=30, power=2.0),
    "PolynomialLR-linear": lambda s, o: s.PolynomialLR(o),
    "CosineAnnealingWarmRestarts": lambda s, o: s.CosineAnnealingWarmRestarts(o, T_0=7, eta_min=0.001),
    "CosineAnnealingWarmRestarts-mult": lambda s, o: s.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2),
    "SequentialLR": lambda s, o: s.SequentialLR(o, [s.LinearLR(o, start_factor=0.1, total_iters=5),
                                                    s.ExponentialLR(o, gamma=0.9),
                                                    s.StepLR(o, step_size=4, gamma=0.5)], milestones=[5, 20]),
    "SequentialLR-cosine": lambda s, o: s.SequentialLR(o, [s.ConstantLR(o, factor=0.5, total_iters=3),
                                                           s.CosineAnnealingLR(o, T_max=15)], milestones=[10]),
    "ChainedScheduler": lambda s, o: s.ChainedScheduler([s.ConstantLR(o, factor=0.5, total_iters=4),
                                                         s.ExponentialLR(o, gamma=0.95)]),
    "CyclicLR": lambda s, o: s.CyclicLR(o, base_lr=0.001, max_lr=0.05, step_size_up=7),
    "CyclicLR-triangular2": lambda s, o: s.CyclicLR(o, base_lr=[0.001, 0.002], max_lr=0.05, step_size_up=4,
                                                    step_size_down=6, mode="triangular2"),
    "CyclicLR-exp-range": lambda s, o: s.CyclicLR(o, base_lr=0.001, max_lr=0.05, step_size_up=5, mode="exp_range",
                                                  gamma=0.97, cycle_momentum=False),
}


@pytest.mark.parametrize("sched", list(SCHEDULERS))
@pytest.mark.parametrize("name, kwargs", [("SGD", dict(lr=0.05, momentum=0.9)), ("Adam", dict(lr=0.01))])
def test_scheduler_follows_torch_for_50_steps(sched, name, kwargs):
    opt, topt, _, _ = _run(name, kwargs, [dict(), dict(lr=0.02)], scheduler=SCHEDULERS[sched])
    for g, tgroup in zip(opt.param_groups, topt.param_groups):
        for k in ("lr", "initial_lr", "momentum", "betas", "max_momentum", "base_momentum"):
            if k in tgroup:
                np.testing.assert_allclose(g[k], tgroup[k], rtol=1e-13, err_msg=k)


def test_reduce_lr_on_plateau_follows_torch():
    for kwargs in (dict(), dict(mode="max", factor=0.5, patience=2, threshold=0.1, threshold_mode="abs", cooldown=2,
                                min_lr=[0.001, 0.004])):
        ours, theirs = _params(tg), _params(torch)
        groups = lambda ps: [dict(params=ps[:2]), dict(params=ps[2:], lr=0.02)]          # noqa: E731
        opt, topt = optim.SGD(groups(ours), lr=0.05), torch.optim.SGD(groups(theirs), lr=0.05)
        sched = lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
        tsched = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kwargs)
        metrics = np.concatenate([np.linspace(1, 0.5, 10), np.full(15, 0.5), np.linspace(0.5, 0.8, 10),
                                  np.full(15, 0.79)])
        for step, m in enumerate(metrics):
            sched.step(m)
            tsched.step(m)
            assert sched.get_last_lr() == tsched.get_last_lr(), step
            assert (sched.num_bad_epochs, sched.cooldown_counter, sched.best) == (
                tsched.num_bad_epochs, tsched.cooldown_counter, tsched.best)
        assert sched.get_last_lr() != [0.05, 0.02]                                     # it did reduce
        state = sched.state_dict()
        assert set(state) == set(tsched.state_dict())


def test_warm_restarts_with_a_fractional_epoch_and_composite_state_dicts():
    opt, topt = optim.SGD(_params(tg), lr=0.1), torch.optim.SGD(_params(torch), lr=0.1)
    sched = lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=4, T_mult=2)
    tsched = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(topt, T_0=4, T_mult=2)
    for epoch in (0.5, 1.25, 5.5, 13.0, 30.2):
        sched.step(epoch)
        tsched.step(epoch)
        assert sched.get_last_lr() == pytest.approx(tsched.get_last_lr(), rel=1e-13)
    make = SCHEDULERS["SequentialLR"]
    one = make(lr_scheduler, optim.SGD(_params(tg), lr=0.1))
    for _ in range(8):
        one.optimizer.step()
        one.step()
    saved = one.state_dict()
    tsaved = make(torch.optim.lr_scheduler, torch.optim.SGD(_params(torch), lr=0.1)).state_dict()
    assert set(saved) == set(tsaved) and len(saved["_schedulers"]) == 3
    other = make(lr_scheduler, optim.SGD(_params(tg), lr=0.1))
    other.load_state_dict(saved)
    assert other.last_epoch == 8 and other._schedulers[1].last_epoch == one._schedulers[1].last_epoch


def test_scheduler_errors():
    opt = optim.SGD(_params(tg), lr=0.1)
    with pytest.raises(ValueError, match="ReduceLROnPlateau"):
        lr_scheduler.ChainedScheduler([lr_scheduler.ReduceLROnPlateau(opt)])
    with pytest.raises(ValueError, match="one more than the number of milestone"):
        lr_scheduler.SequentialLR(opt, [lr_scheduler.StepLR(opt, 2)], milestones=[3])
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        lr_scheduler.ReduceLROnPlateau(opt, factor=1.5)
    with pytest.raises(ValueError, match="T_0"):
        lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=0)
    with pytest.raises(ValueError, match="scale_fn"):
        lr_scheduler.CyclicLR(opt, 0.01, 0.1, mode="zigzag")
