"""Every op against torch (forward and gradients, float64 tight and float32 allclose),
against finite differences, and its second derivatives against torch's: all driven by
the one table in optable.py."""
import importlib
import inspect
import pkgutil

import numpy as np
import pytest
import torch

import tensorgrad as tg
from tensorgrad import ops
from tensorgrad.testing import gradcheck
from optable import SAMPLES, K, R, V

torch.set_num_threads(1)
TOL = {np.float64: dict(rtol=1e-10, atol=1e-12), np.float32: dict(rtol=1e-4, atol=1e-5)}
BY_ID = {s.id: s for s in SAMPLES}
assert len(BY_ID) == len(SAMPLES), "sample ids must be unique"
SMOOTH = [s.id for s in SAMPLES if s.grad and s.smooth]
SECOND = [s.id for s in SAMPLES if s.grad and s.smooth and s.extra.get("second", True)]


def make_inputs(sample, dtype, seed=0):
    """NumPy arrays for the sample's inputs, and which of them require grad."""
    rng = np.random.default_rng(seed)
    arrays, req = [], []
    for a in sample.args:
        if isinstance(a, R):
            arrays.append(rng.uniform(a.low, a.high, a.shape).astype(dtype))
        elif isinstance(a, V):
            arrays.append(np.array(a.values, dtype=dtype))
        else:
            arrays.append(np.asarray(a.values))
        req.append(isinstance(a, (R, V)) and sample.grad)
    return arrays, req


def run_both(sample, dtype, seed=0):
    """Forward and (for differentiable samples) backward of a random upstream gradient on both sides."""
    arrays, req = make_inputs(sample, dtype, seed)
    ours = [tg.tensor(a, requires_grad=r) for a, r in zip(arrays, req)]
    theirs = [torch.tensor(a, requires_grad=r) for a, r in zip(arrays, req)]
    out = sample.fn(tg, *ours)
    ref = (sample.tfn or sample.fn)(torch, *theirs)
    if sample.grad:
        g = np.random.default_rng(seed + 1).standard_normal(out.shape).astype(out.dtype)
        out.backward(g)
        ref.backward(torch.tensor(g))
    return out, ref, ours, theirs, req


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("sid", list(BY_ID))
def test_against_torch(sid, dtype):
    sample = BY_ID[sid]
    out, ref, ours, theirs, req = run_both(sample, dtype)
    want = ref.detach().numpy()
    assert out.shape == tuple(ref.shape), f"{sid}: shape {out.shape} vs torch {tuple(ref.shape)}"
    if want.dtype.kind in "biu":
        np.testing.assert_array_equal(out.data, want)
        return
    assert out.dtype == want.dtype, f"{sid}: dtype {out.dtype} vs torch {want.dtype}"
    tol = TOL[np.float32] if np.float32 in (dtype, out.dtype) else dict(TOL[np.float64], **sample.extra.get("tol", {}))
    np.testing.assert_allclose(out.data, want, **tol, err_msg=f"{sid}: forward")
    for i, (a, b, r) in enumerate(zip(ours, theirs, req)):
        if not r:
            continue
        assert a.grad is not None, f"{sid}: input {i} got no gradient"
        assert a.grad.shape == a.shape and a.grad.dtype == a.dtype
        np.testing.assert_allclose(a.grad, b.grad.numpy(), **tol, err_msg=f"{sid}: grad of input {i}")


@pytest.mark.parametrize("sid", SMOOTH)
def test_finite_differences(sid):
    sample = BY_ID[sid]
    arrays, req = make_inputs(sample, np.float64)
    xs = [tg.tensor(a, requires_grad=r) if r else a for a, r in zip(arrays, req)]
    assert gradcheck(lambda *xs: sample.fn(tg, *xs), xs)


def _torch_second(sample, theirs, req, g, v):
    diff = [t for t, r in zip(theirs, req) if r]
    out = (sample.tfn or sample.fn)(torch, *theirs)
    first = torch.autograd.grad(out, diff, torch.tensor(g), create_graph=True, allow_unused=True)
    total = sum(((f * torch.tensor(w)).sum() for f, w in zip(first, v) if f is not None and f.requires_grad),
                torch.tensor(0.0, dtype=torch.float64))
    if not total.requires_grad:
        return [np.zeros(t.shape) for t in diff]
    second = torch.autograd.grad(total, diff, allow_unused=True)
    return [np.zeros(t.shape) if s is None else s.numpy(force=True) for s, t in zip(second, diff)]


@pytest.mark.parametrize("sid", SECOND)
def test_second_derivatives(sid):
    """d/dx <v, d/dx <g, f(x)>> with create_graph, against torch.autograd.grad(create_graph=True)."""
    sample = BY_ID[sid]
    arrays, req = make_inputs(sample, np.float64)
    rng = np.random.default_rng(7)
    ours = [tg.tensor(a, requires_grad=r) for a, r in zip(arrays, req)]
    theirs = [torch.tensor(a, requires_grad=r) for a, r in zip(arrays, req)]
    diff = [t for t, r in zip(ours, req) if r]
    out = sample.fn(tg, *ours)
    g = rng.standard_normal(out.shape)
    v = [rng.standard_normal(t.shape) for t in diff]
    first = tg.grad(out, diff, grad_outputs=g, create_graph=True)
    total = sum(((f * w).sum() for f, w in zip(first, v) if f.requires_grad), tg.tensor(0.0, dtype=np.float64))
    if total.requires_grad:
        second = [np.zeros(t.shape) if s is None else s.data
                  for s, t in zip(tg.grad(total, diff, allow_unused=True), diff)]
    else:
        second = [np.zeros(t.shape) for t in diff]
    want = _torch_second(sample, theirs, req, g, v)
    for i, (a, b) in enumerate(zip(second, want)):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-10, err_msg=f"{sid}: second derivative, input {i}")


# random factories are checked for their distributions and seeding in test_random.py, not here
RANDOM = {"rand", "randn", "randint", "rand_like", "randn_like", "randint_like", "randperm", "normal", "bernoulli",
          "multinomial", "dropout_mask", "manual_seed", "seed", "initial_seed", "get_rng_state", "set_rng_state",
          "default_rng"}


def test_every_op_has_a_sample():
    """Adding an op to the table (ops/), a public composite to functions/ or nn/functional/, or a
    factory, without a row here fails."""
    builtin = {o.name for o in ops.OPS.values() if o.builtin}
    modules = [importlib.import_module(f"{pkg.__name__}.{m.name}") for pkg in (tg.functions, tg.nn.functional)
               for m in pkgutil.iter_modules(pkg.__path__)
               if m.name != "dispatch"]        # torch.sum(x) and the like: the methods' rows test them
    public = {name for mod in modules
              for name, f in vars(mod).items()
              if inspect.isfunction(f) and f.__module__ == mod.__name__ and not name.startswith("_")}
    missing = (builtin | public) - RANDOM - {s.op for s in SAMPLES}
    assert not missing, f"ops without a sample in tests/optable.py: {sorted(missing)}"


def test_max_dim_gives_the_gradient_to_the_returned_index():
    x = tg.tensor([[1.0, 3.0, 3.0]], requires_grad=True)
    values, indices = x.max(1)
    values.sum().backward()
    assert indices.tolist() == [1]
    assert x.grad.tolist() == [[0.0, 1.0, 0.0]]


def test_full_max_splits_ties_evenly():
    x = tg.tensor([1.0, 3.0, 3.0, 3.0], requires_grad=True)
    x.max().backward()
    np.testing.assert_allclose(x.grad, [0, 1 / 3, 1 / 3, 1 / 3])


def test_embedding_gradient_accumulates_repeated_rows():
    C = tg.tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    X = np.array([[0, 0, 2], [0, 1, 2]])
    C[X].sum().backward()
    assert C.grad.tolist() == [[3.0, 3.0], [1.0, 1.0], [2.0, 2.0]]
