"""Every row of the op table, again on the inputs that catch whole classes of bugs: 0-d, size-0,
non-contiguous views, broadcasting pairs (either side), float16 and integers. The variants are generated from each row, so no row can omit
them. Where torch refuses an input, tensorgrad must refuse it too (with an error); where torch
computes, tensorgrad must compute the same values and gradients."""
import numpy as np
import pytest
import torch

import tensorgrad as tg
from optable import SAMPLES, R, V

torch.set_num_threads(1)
TOL = {np.float64: dict(rtol=1e-9, atol=1e-12), np.float32: dict(rtol=1e-4, atol=1e-5),
       np.float16: dict(rtol=1e-2, atol=1e-2)}


def _floats_only(sample) -> bool:
    return all(isinstance(a, (R, V)) for a in sample.args)


def _zero_d(a):
    return a.reshape(-1)[:1].reshape(()) if a.size else None


def _empty(a):
    return a[:0] if a.ndim else None


def _strided(a):
    """A view of the same values whose memory is not contiguous (a transposed or stepped base)."""
    if a.ndim >= 2:
        return np.ascontiguousarray(np.swapaxes(a, -1, -2)), lambda m, t: t.transpose(-1, -2)
    if a.ndim == 1:
        base = np.zeros(2 * a.shape[0], a.dtype)
        base[::2] = a
        return base, lambda m, t: t[::2]
    return None


# Ids where tensorgrad still differs from torch, listed so that each stays seen; strict, so a fix
# must take its id off this list.
KNOWN = set()

# Where torch itself fails on a generated input by a fault of its own (an error from inside its
# kernel or its backward, not a refusal of the input), there is nothing to compare with.
TORCH_FAULTS = {
    "kron-ranks-strided": "torch's kron calls view() on a non-contiguous operand",
    "pixel_shuffle-empty": "torch's backward of pixel_shuffle returns a gradient of the wrong shape on an empty batch",
    "pixel_unshuffle-empty": "torch's pixel_unshuffle runs pixel_shuffle's channel check on an empty batch",
}

# Where tensorgrad is more permissive than torch on purpose: view() of a layout torch cannot view
# copies instead of refusing, because NumPy lays out results (of einsum, matmul, broadcasting)
# differently from torch, so a refusal would stop programs that run on torch.
PERMISSIVE = {"reshape-view-strided": "view() copies where torch's layout would refuse"}
# Rows whose torch side is a composite of torch ops standing in for a fused kernel: on integers
# the composite computes, while torch's own kernel (nn.LSTMCell, nn.GRUCell) refuses, as ours does.
PERMISSIVE.update({f"{op}-int": "torch's own cell refuses integers; the row's composite does not"
                   for op in ("lstm_cell", "gru_cell")})

def _broadcast(arrays, which):
    """Two inputs of one shape become a broadcasting pair: input `which` keeps one row of dim 0."""
    if len(arrays) != 2 or arrays[0].shape != arrays[1].shape or arrays[0].ndim == 0 or arrays[0].shape[0] < 2:
        return None
    arrays = list(arrays)
    arrays[which] = arrays[which][:1]
    return arrays


VARIANTS = {"0d": _zero_d, "empty": _empty, "strided": _strided, "f16": None, "bcast-left": 0, "bcast-right": 1,
            "int": None}
CASES = [(s, v) for s in SAMPLES if _floats_only(s) for v in VARIANTS]


def _inputs(sample, variant, rng):
    dtype = {"f16": np.float16, "int": np.int64}.get(variant, np.float64)
    arrays = [rng.uniform(a.low, a.high, a.shape) if isinstance(a, R) else np.array(a.values, np.float64)
              for a in sample.args]
    views = [None] * len(arrays)
    if variant in ("0d", "empty"):
        arrays = [VARIANTS[variant](a) for a in arrays]
        if any(a is None for a in arrays):
            return None
    elif variant.startswith("bcast"):
        arrays = _broadcast(arrays, VARIANTS[variant])
        if arrays is None:
            return None
    elif variant == "int":
        if not all(np.isfinite(a).all() for a in arrays):
            return None                                   # NaN and inf have no integer
        arrays = [np.round(a * 3) for a in arrays]
    elif variant == "strided":
        made = [_strided(a) for a in arrays]
        if any(m is None for m in made):
            return None
        arrays, views = [m[0] for m in made], [m[1] for m in made]
    return [a.astype(dtype) for a in arrays], views


def _run(m, sample, arrays, views, grad):
    leaves = [m.tensor(a, requires_grad=grad) for a in arrays]
    xs = [v(m, t) if v else t for t, v in zip(leaves, views)]
    out = (sample.tfn if m is torch and sample.tfn else sample.fn)(m, *xs)
    if grad and out.requires_grad:
        out.backward(m.ones_like(out) if m is torch else tg.ones(*out.shape, dtype=out.dtype))
    return out, leaves


@pytest.mark.parametrize("sample,variant", [
    pytest.param(s, v, marks=pytest.mark.xfail(strict=True, reason="differs from torch on integers: see KNOWN"))
    if f"{s.id}-{v}" in KNOWN else (s, v) for s, v in CASES], ids=[f"{s.id}-{v}" for s, v in CASES])
def test_edge_inputs_as_torch(sample, variant):
    if f"{sample.id}-{variant}" in TORCH_FAULTS:
        pytest.skip(TORCH_FAULTS[f"{sample.id}-{variant}"])
    if f"{sample.id}-{variant}" in PERMISSIVE:
        pytest.skip(PERMISSIVE[f"{sample.id}-{variant}"])
    made = _inputs(sample, variant, np.random.default_rng(0))
    if made is None:
        pytest.skip("the variant does not apply to these inputs")
    arrays, views = made
    grad = sample.grad and variant not in ("f16", "int")
    try:
        ref, theirs = _run(torch, sample, arrays, views, grad)
    except NotImplementedError as e:                     # torch has no kernel for this dtype
        pytest.skip(f"torch: {e}")
    except Exception:                                    # torch refuses: so must tensorgrad
        with pytest.raises(Exception):
            _run(tg, sample, arrays, views, grad)
        return
    out, ours = _run(tg, sample, arrays, views, grad)
    want = ref.detach().numpy()
    assert out.shape == tuple(ref.shape), f"shape {out.shape} vs torch's {tuple(ref.shape)}"
    if "tie_dim" in sample.extra:       # torch.topk's docs: "the indices of tied elements are not guaranteed
        x = theirs[0] if views[0] is None else views[0](torch, theirs[0])           # to be stable"
        d = sample.extra["tie_dim"]
        x = x.detach().numpy()
        np.testing.assert_array_equal(np.take_along_axis(x, out.numpy(), d), np.take_along_axis(x, want, d))
        assert all(len(set(line)) == len(line) for line in np.moveaxis(out.numpy(), d, -1).reshape(-1, out.shape[d]))
        return
    if want.dtype.kind in "biu":
        np.testing.assert_array_equal(out.numpy(), want)
        return
    assert out.dtype == want.dtype, f"dtype {out.dtype} vs torch's {want.dtype}"
    tol = dict(TOL[want.dtype.type], **(sample.extra.get("tol", {}) if want.dtype == np.float64 else {}))
    np.testing.assert_allclose(out.numpy(), want, **tol, err_msg="forward")
    for i, (a, b) in enumerate(zip(ours, theirs)):
        if grad and b.grad is not None:
            assert a.grad is not None, f"input {i} got no gradient"
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), **tol, err_msg=f"grad of input {i}")
