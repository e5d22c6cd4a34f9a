"""Module hooks against torch.nn.Module's: forward pre-hooks, forward hooks, full backward hooks
(and backward pre-hooks), their order, their return values, and removable handles."""
import numpy as np
import pytest
import torch

import tensorgrad as tg


def twins(seed=0):
    """The same Linear -> Tanh -> Linear model in both libraries, float64."""
    rng = np.random.default_rng(seed)
    w1, b1, w2, b2 = rng.standard_normal((4, 3)), rng.standard_normal(4), rng.standard_normal((2, 4)), rng.standard_normal(2)
    models = []
    for lib in (tg, torch):
        m = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Tanh(), lib.nn.Linear(4, 2)).double()
        with lib.no_grad():
            for p, v in zip(m.parameters(), (w1, b1, w2, b2)):
                p.copy_(lib.tensor(v))
        models.append(m)
    x = rng.standard_normal((5, 3))
    return models, (tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True))


def arrays(t):
    if t is None:
        return None
    return t.detach().numpy() if hasattr(t, "detach") else t


def check_same_log(got, want):
    assert [e[0] for e in got] == [e[0] for e in want]
    for a, b in zip(got, want):
        for x, y in zip(a[1:], b[1:]):
            if isinstance(y, tuple):
                assert len(x) == len(y)
                for u, v in zip(x, y):
                    if v is None:
                        assert u is None
                    else:
                        np.testing.assert_allclose(arrays(u), arrays(v), rtol=1e-10, atol=1e-12)
            else:
                np.testing.assert_allclose(arrays(x), arrays(y), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("input_requires_grad", [True, False])
@pytest.mark.filterwarnings("ignore:Full backward hook is firing")
def test_hooks_see_and_replace_what_torch_hooks_do(input_requires_grad):
    (m, tm), (x, tx) = twins()
    x.requires_grad_(input_requires_grad), tx.requires_grad_(input_requires_grad)
    logs = []
    for model in (m, tm):
        log = []
        first, act, last = model[0], model[1], model[2]
        first.register_forward_pre_hook(lambda mod, args, log=log: log.append(("pre", args[0])))
        first.register_forward_pre_hook(lambda mod, args: (args[0] * 2,))            # replaces the input
        act.register_forward_hook(lambda mod, args, out, log=log: log.append(("fwd", args[0], out)))
        act.register_forward_hook(lambda mod, args, out: out + 1)                     # replaces the output
        last.register_full_backward_hook(lambda mod, gi, go, log=log: log.append(("bw last", gi, go)))
        first.register_full_backward_hook(lambda mod, gi, go, log=log: log.append(("bw first", gi, go)))
        act.register_full_backward_hook(lambda mod, gi, go: (gi[0] * 10,))            # replaces grad_input
        act.register_full_backward_pre_hook(lambda mod, go, log=log: log.append(("bw pre act", go)))
        out = model(x if model is m else tx)
        (out * out).sum().backward()
        log.append(("out", out))
        if input_requires_grad:
            log.append(("x.grad", (x if model is m else tx).grad))
        log.append(("w.grad", model[0].weight.grad))
        logs.append(log)
    check_same_log(*logs)


def test_with_kwargs_prepend_and_always_call():
    for lib in (tg, torch):
        order = []

        class Scale(lib.nn.Module):
            def forward(self, x, *, k=1.0):
                if k == 0:
                    raise ValueError("k = 0")
                return x * k

        m = Scale()
        m.register_forward_pre_hook(lambda mod, a, kw: (a, {"k": kw.get("k", 1.0) * 3}), with_kwargs=True)
        m.register_forward_hook(lambda mod, a, kw, out: order.append(("second", kw["k"])), with_kwargs=True)
        m.register_forward_hook(lambda mod, a, out: order.append("first"), prepend=True)
        m.register_forward_hook(lambda mod, a, out: order.append("always"), always_call=True)
        y = m(lib.ones(2), k=2.0)
        assert y.tolist() == [6.0, 6.0]
        m._forward_pre_hooks.clear()
        with pytest.raises(ValueError):
            m(lib.ones(2), k=0)
        if lib is tg:
            got = order
        else:
            assert got == order == ["first", ("second", 6.0), "always", "always"]


def test_handles_remove_and_work_as_with_blocks():
    m = tg.nn.Linear(2, 2)
    seen = []
    h = m.register_forward_hook(lambda mod, a, out: seen.append(1))
    with m.register_forward_pre_hook(lambda mod, a: seen.append(0)):
        m(tg.ones(2))
    m(tg.ones(2))
    h.remove()
    h.remove()                               # twice is harmless, as torch
    m(tg.ones(2))
    assert seen == [0, 1, 1] and not m._forward_hooks and not m._forward_pre_hooks
    hb = m.register_full_backward_hook(lambda mod, gi, go: seen.append("bw"))
    hb.remove()
    m(tg.ones(2, requires_grad=True)).sum().backward()
    assert seen == [0, 1, 1]


def test_pre_hook_error_and_backward_hook_count_error_as_torch():
    for lib in (tg, torch):
        m = lib.nn.Linear(2, 2)
        h = m.register_forward_pre_hook(lambda mod, a, kw: 5, with_kwargs=True)
        with pytest.raises(RuntimeError, match="forward pre-hook must return None or a tuple of"):
            m(lib.ones(2))
        h.remove()
        m.register_full_backward_hook(lambda mod, gi, go: (gi[0], gi[0]))
        with pytest.raises(RuntimeError, match="returned an invalid number of grad_input, got 2, but expected 1"):
            m(lib.ones(2, requires_grad=True)).sum().backward()
