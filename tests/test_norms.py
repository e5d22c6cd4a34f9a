"""Normalization layers against torch.nn: forward, input and parameter gradients, running
statistics over several training steps, eval mode and state dicts (float64 tight, float32 close);
F.group_norm, F.rms_norm and F.normalize."""
import numpy as np
import pytest
import torch

import tensorgrad as tg
import tensorgrad.nn.functional as F
from tensorgrad import nn

torch.set_num_threads(1)
TIGHT = dict(rtol=1e-10, atol=1e-12)
CLOSE = dict(rtol=1e-4, atol=1e-5)

MODULES = {   # name: (constructor args and kwargs, input shape)
    "BatchNorm2d": (("BatchNorm2d", (3,), {}), (4, 3, 5, 2)),
    "BatchNorm2d-no-affine-cma": (("BatchNorm2d", (3,), dict(affine=False, momentum=None)), (4, 3, 2, 2)),
    "BatchNorm2d-untracked": (("BatchNorm2d", (3,), dict(track_running_stats=False)), (2, 3, 3, 3)),
    "BatchNorm3d": (("BatchNorm3d", (2,), dict(eps=1e-3, momentum=0.3)), (3, 2, 2, 3, 2)),
    "GroupNorm": (("GroupNorm", (2, 6), {}), (3, 6, 4)),
    "GroupNorm-2d-no-affine": (("GroupNorm", (3, 6), dict(affine=False, eps=1e-3)), (2, 6, 3, 2)),
    "GroupNorm-one-group": (("GroupNorm", (1, 4), {}), (2, 4, 5)),
    "GroupNorm-instance": (("GroupNorm", (4, 4), {}), (2, 4, 5)),
    "RMSNorm": (("RMSNorm", (5,), {}), (3, 4, 5)),
    "RMSNorm-2d-eps": (("RMSNorm", ((4, 5),), dict(eps=1e-3)), (3, 4, 5)),
    "RMSNorm-no-affine": (("RMSNorm", (5,), dict(elementwise_affine=False)), (2, 5)),
    "InstanceNorm1d": (("InstanceNorm1d", (3,), {}), (2, 3, 6)),
    "InstanceNorm1d-unbatched": (("InstanceNorm1d", (3,), dict(affine=True)), (3, 6)),
    "InstanceNorm1d-tracked": (("InstanceNorm1d", (3,), dict(affine=True, track_running_stats=True)), (4, 3, 5)),
    "InstanceNorm2d": (("InstanceNorm2d", (2,), dict(affine=True)), (3, 2, 4, 3)),
    "InstanceNorm2d-tracked-cma": (("InstanceNorm2d", (2,), dict(track_running_stats=True, momentum=None)),
                                   (3, 2, 3, 3)),
    "LayerNorm-no-bias": (("LayerNorm", (5,), dict(bias=False)), (3, 4, 5)),
    "LayerNorm-2d-no-bias": (("LayerNorm", ((4, 5),), dict(bias=False, eps=1e-3)), (3, 4, 5)),
}


def _pair(spec, dtype):
    name, args, kwargs = spec
    torch.manual_seed(0)
    theirs = getattr(torch.nn, name)(*args, **kwargs, dtype=torch.float64 if dtype == np.float64 else torch.float32)
    ours = getattr(nn, name)(*args, **kwargs, dtype=dtype)
    state = theirs.state_dict()
    assert list(ours.state_dict()) == list(state), name
    rng = np.random.default_rng(1)
    for k, v in state.items():        # non-trivial affine parameters
        if v.dtype.is_floating_point and k in ("weight", "bias"):
            v.copy_(torch.tensor(rng.uniform(0.5, 1.5, v.shape)))
    ours.load_state_dict({k: v.numpy() for k, v in state.items()})
    return ours, theirs


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("case", list(MODULES))
def test_module_matches_torch_in_training_and_eval(case, dtype):
    spec, shape = MODULES[case]
    ours, theirs = _pair(spec, dtype)
    tol = TIGHT if dtype == np.float64 else CLOSE
    for step in range(3):
        a = np.random.default_rng(step).standard_normal(shape).astype(dtype) * 2 + 0.5
        x, tx = tg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        out, tout = ours(x), theirs(tx)
        g = np.random.default_rng(10 + step).standard_normal(out.shape).astype(dtype)
        out.backward(g)
        tout.backward(torch.tensor(g))
        np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), **tol, err_msg="forward")
        assert out.dtype == dtype
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), **tol, err_msg="input grad")
        for (name, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
            np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), **tol, err_msg=name)
        for k, v in theirs.state_dict().items():
            np.testing.assert_allclose(ours.state_dict()[k].numpy(), v.numpy(), **tol, err_msg=k)
    ours.eval()
    theirs.eval()
    a = np.random.default_rng(5).standard_normal(shape).astype(dtype)
    np.testing.assert_allclose(ours(tg.tensor(a)).numpy(), theirs(torch.tensor(a)).detach().numpy(), **tol,
                               err_msg="eval")


FUNCTIONS = [
    ("group_norm", lambda m, x, w, b: m.nn.functional.group_norm(x, 2, w, b), [(3, 4, 5), (4,), (4,)]),
    ("group_norm-no-affine", lambda m, x: m.nn.functional.group_norm(x, 4, eps=1e-3), [(2, 4, 3, 2)]),
    ("rms_norm", lambda m, x, w: m.nn.functional.rms_norm(x, (5,), w), [(3, 5), (5,)]),
    ("rms_norm-eps", lambda m, x: m.nn.functional.rms_norm(x, [3, 5], eps=1e-2), [(2, 3, 5)]),
    ("normalize", lambda m, x: m.nn.functional.normalize(x, dim=-1), [(3, 5)]),
    ("normalize-p1-tiny", lambda m, x: m.nn.functional.normalize(x * 1e-13, p=1, dim=0), [(3, 5)]),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("name, fn, shapes", FUNCTIONS, ids=[f[0] for f in FUNCTIONS])
def test_functions_match_torch(name, fn, shapes, dtype):
    arrays = [np.random.default_rng(i).standard_normal(s).astype(dtype) for i, s in enumerate(shapes)]
    ours = [tg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, tout = fn(tg, *ours), fn(torch, *theirs)
    g = np.random.default_rng(9).standard_normal(out.shape).astype(dtype)
    out.backward(g)
    tout.backward(torch.tensor(g))
    tol = TIGHT if dtype == np.float64 else CLOSE
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), **tol)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), **tol)


def test_errors():
    with pytest.raises(ValueError, match="divisible"):
        nn.GroupNorm(4, 6)
    with pytest.raises(RuntimeError, match="divisible by num_groups"):
        F.group_norm(tg.ones(2, 6, 3), 4)
    with pytest.raises(ValueError, match="4D input"):
        nn.BatchNorm2d(3)(tg.ones(2, 3, 4))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm2d(3)(tg.ones(1, 3, 1, 1))
    with pytest.raises(RuntimeError, match="normalized_shape"):
        F.rms_norm(tg.ones(2, 3), (4,))
    with pytest.raises(ValueError, match="more than 1 spatial element"):
        nn.InstanceNorm1d(3)(tg.ones(2, 3, 1))


def test_layernorm_without_bias_has_torchs_keys_and_repr():
    assert list(nn.LayerNorm(4, bias=False).state_dict()) == list(torch.nn.LayerNorm(4, bias=False).state_dict())
    assert nn.LayerNorm(4, bias=False).bias is None
    assert list(nn.BatchNorm2d(3).state_dict()) == list(torch.nn.BatchNorm2d(3).state_dict())
    assert list(nn.InstanceNorm2d(3, affine=True, track_running_stats=True).state_dict()) == list(
        torch.nn.InstanceNorm2d(3, affine=True, track_running_stats=True).state_dict())
