"""Edge cases as torch (issue 11): NaN and inf, degenerate sizes, 0-d tensors, extreme integers,
and the bad input torch refuses. Two tables drive the tests: CASES run the same lambda on
tensorgrad and torch and compare the forward and every gradient (NaN equal to NaN); BAD are
programs torch refuses, where tensorgrad must raise a clear error that names the op."""
from dataclasses import dataclass

import numpy as np
import pytest
import torch

import tensorgrad as tg

torch.set_num_threads(1)

NAN, INF = np.nan, np.inf
INT64_MIN = np.iinfo(np.int64).min


@dataclass
class Case:
    id: str
    fn: object                 # fn(m, *inputs), m = tensorgrad or torch: a tensor or a (values, indices) pair
    inputs: list               # floats require grad (when grad=True); ints and bools are constants
    grad: bool = True


def F(*values):
    return np.array(values, dtype=np.float64)


def I(*values, dtype=np.int64):
    return np.array(values, dtype=dtype)


C = Case
CASES = [
    # --- gradients at NaN and inf (item 2) ------------------------------------------------------
    C("max-all-nan", lambda m, x: x.max(), [F(1, NAN, 3, NAN)]),
    C("min-all-nan", lambda m, x: x.min(), [F(1, NAN, -3)]),
    C("max-all-ties", lambda m, x: x.max(), [F(3, 1, 3)]),
    C("amax-nan", lambda m, x: x.amax(1), [F([1, NAN, 3], [1, 2, 2])]),
    C("amax-all-nan", lambda m, x: x.amax(), [F(1, NAN, 3)]),
    C("amin-nan", lambda m, x: x.amin(1), [F([1, NAN, 3], [1, 2, 1])]),
    C("max-dim-nan", lambda m, x: x.max(1), [F([1, NAN, 3, NAN], [1, 2, 2, 0])]),
    C("min-dim-nan", lambda m, x: x.min(1), [F([1, NAN, -3, NAN], [1, 0, 2, 0])]),
    C("maximum-nan", lambda m, x, y: m.maximum(x, y), [F(NAN, 1, 2, NAN, 0), F(1, NAN, 2, NAN, 3)]),
    C("minimum-nan", lambda m, x, y: m.minimum(x, y), [F(NAN, 1, 2, NAN, 0), F(1, NAN, 2, NAN, 3)]),
    C("minimum-broadcast", lambda m, x, y: m.minimum(x, y), [F([1, 5], [3, -1]), F(2, 2)]),
    C("clamp-nan", lambda m, x: x.clamp(-1, 1), [F(NAN, 0.5, 1, -1, 2, -INF)]),
    C("clamp-min-nan", lambda m, x: x.clamp(min=-1), [F(NAN, 0.5, -1, -2)]),
    C("clamp-max-nan", lambda m, x: x.clamp(max=1), [F(NAN, 0.5, 1, 2)]),
    C("clamp-min-above-max", lambda m, x: x.clamp(1, -1), [F(NAN, 0.5, 1, -1, 2)]),
    C("abs-nan", lambda m, x: x.abs(), [F(NAN, 0, -1, INF)]),
    C("var-inf", lambda m, x: x.var(), [F(INF, 0.7, -0.3)]),
    C("var-inf-dim", lambda m, x: x.var(0), [F(INF, 0.7, -0.3)]),

    # --- var and std at degenerate sizes: divide by max(0, n - correction) (items 2, 3) ----------
    C("var-correction-above-n", lambda m, x: x.var(correction=3), [F(1, 2.5)]),
    C("var-correction-above-n-dim", lambda m, x: x.var(0, correction=3), [F(1, 2.5)]),
    C("var-correction-n", lambda m, x: x.var(correction=2), [F(1, 2.5)]),
    C("var-correction-n-dim", lambda m, x: x.var(0, correction=2), [F(1, 2.5)]),
    C("var-correction-n-constant", lambda m, x: x.var(correction=2), [F(1, 1)]),
    C("var-one-element", lambda m, x: x.var(), [F(1.5)]),
    C("var-one-element-dim", lambda m, x: x.var(0), [F(1.5)]),
    C("var-one-element-correction-2", lambda m, x: x.var(correction=2), [F(1.5)]),
    C("var-size-0-dim", lambda m, x: x.var(0), [np.zeros((0, 3))]),
    C("var-size-0-all", lambda m, x: x.var(), [np.zeros((0, 3))]),
    C("mean-size-0-dim", lambda m, x: x.mean(0), [np.zeros((0, 3))]),
    C("mean-size-0-all", lambda m, x: x.mean(), [np.zeros((2, 0))]),
    C("var-size-1-dim", lambda m, x: x.var(1, keepdim=True), [F([1.5], [2.0])]),
    C("var-0d", lambda m, x: x.var(), [F(2.0).reshape(())]),
    C("var-0d-dim", lambda m, x: x.var(0), [F(2.0).reshape(())]),
    C("std-one-element", lambda m, x: x.std(), [F(1.5)]),
    C("std-size-1-dim", lambda m, x: x.std(1), [F([1.5], [2.0])]),
    C("std-size-0-dim", lambda m, x: x.std(0), [np.zeros((0, 3))]),
    C("std-nan", lambda m, x: x.std(), [F(NAN, 1, 2)]),
    C("std-inf", lambda m, x: x.std(), [F(INF, 1, 2)]),
    C("std-constant", lambda m, x: x.std(), [F(1, 1, 1)]),
    C("std-constant-rows", lambda m, x: x.std(1), [F([1, 1, 1], [1, 2, 4])]),
    C("std-correction-above-n", lambda m, x: x.std(correction=3), [F(1, 2.5)]),
    C("std-correction-above-n-dim", lambda m, x: x.std(0, correction=3), [F(1, 2.5)]),
    C("std-0d-dim", lambda m, x: x.std(0), [F(2.0).reshape(())]),

    # --- relu, sign, softmax at NaN and inf (item 4) --------------------------------------------
    C("relu-nan", lambda m, x: x.relu(), [F(NAN, -INF, INF, 0, 1, -1)]),
    C("sign-nan", lambda m, x: x.sign(), [F(NAN, 0, -1, INF, -INF)], grad=False),
    C("sign-bool", lambda m, x: x.sign(), [np.array([True, False])], grad=False),
    C("sign-int", lambda m, x: x.sign(), [I(3, 0, -2)], grad=False),
    C("relu-int", lambda m, x: x.relu(), [I(3, 0, -2)], grad=False),
    C("softmax-inf", lambda m, x: m.softmax(x, 0), [F(INF, 0, 1)]),
    C("log_softmax-inf", lambda m, x: m.log_softmax(x, 0), [F(INF, 0, 1)]),
    C("softmax-row-of-minus-inf", lambda m, x: m.softmax(x, 1), [F([-INF, -INF], [0, 1])]),
    C("log_softmax-row-of-minus-inf", lambda m, x: m.log_softmax(x, 1), [F([-INF, -INF], [0, 1])]),
    C("softmax-some-minus-inf", lambda m, x: m.softmax(x, 1), [F([-INF, 0, 1], [2, -INF, 1])]),
    C("log_softmax-some-minus-inf", lambda m, x: m.log_softmax(x, 1), [F([-INF, 0, 1], [2, -INF, 1])]),
    C("softmax-nan", lambda m, x: m.softmax(x, 0), [F(NAN, 1)]),
    C("logsumexp-inf", lambda m, x: m.logsumexp(x, 0), [F(INF, 0, 1)]),
    C("logsumexp-two-inf", lambda m, x: m.logsumexp(x, 0), [F(INF, INF)]),
    C("logsumexp-row-of-minus-inf", lambda m, x: m.logsumexp(x, 1), [F([-INF, -INF], [0, 1])]),
    C("logsumexp-nan", lambda m, x: m.logsumexp(x, 0), [F(NAN, 1)]),
    C("logsumexp-keepdim", lambda m, x: m.logsumexp(x, 0, keepdim=True), [F([1, 2], [3, -1])]),

    # --- min and friends with their own forward: unsigned, extreme and bool (item 5) -------------
    C("min-uint8", lambda m, x: x.min(), [I(7, 0, 5, dtype=np.uint8)]),
    C("amin-uint8", lambda m, x: x.amin(0), [I(7, 0, 5, dtype=np.uint8)]),
    C("min-dim-uint8", lambda m, x: x.min(1), [I([7, 0, 5], [1, 9, 9], dtype=np.uint8)]),
    C("minimum-uint8", lambda m, x, y: m.minimum(x, y), [I(0, 5, dtype=np.uint8), I(3, 3, dtype=np.uint8)]),
    C("min-int64-extreme", lambda m, x: x.min(), [I(INT64_MIN, 0)]),
    C("amin-int64-extreme", lambda m, x: x.amin(), [I(INT64_MIN, 0)]),
    C("min-dim-int64-extreme", lambda m, x: x.min(1), [I([0, INT64_MIN])]),
    C("minimum-int64-extreme", lambda m, x, y: m.minimum(x, y), [I(INT64_MIN, 0), I(0, 0)]),
    C("min-bool", lambda m, x: x.min(), [np.array([True, False])]),
    C("amin-bool", lambda m, x: x.amin(0), [np.array([True, False])]),
    C("min-dim-bool", lambda m, x: x.min(1), [np.array([[True, False]])]),
    C("max-dim-bool", lambda m, x: x.max(1), [np.array([[False, True]])]),
    C("minimum-bool", lambda m, x, y: m.minimum(x, y), [np.array([True, False]), np.array([True, True])]),
    C("clamp-int", lambda m, x: x.clamp(0, 2), [I(1, 5, -3)], grad=False),
    C("clamp-int-float-bound", lambda m, x: x.clamp(0.5, 2), [I(1, 5, -3)], grad=False),

    # --- size-0 dims and 0-d tensors (item 7) -----------------------------------------------------
    C("softmax-size-0-dim", lambda m, x: m.softmax(x, 1), [np.zeros((3, 0))]),
    C("log_softmax-size-0-dim", lambda m, x: m.log_softmax(x, 1), [np.zeros((3, 0))]),
    C("logsumexp-size-0-dim", lambda m, x: m.logsumexp(x, 1), [np.zeros((3, 0))]),
    C("softmax-size-0-other-dim", lambda m, x: m.softmax(x, 1), [np.zeros((0, 3))]),
    C("logsumexp-size-0-other-dim", lambda m, x: m.logsumexp(x, 1), [np.zeros((0, 3))]),
    C("max-0d-dim", lambda m, x: x.max(0), [F(2.0).reshape(())]),
    C("max-0d-dim-keepdim", lambda m, x: x.max(0, keepdim=True), [F(2.0).reshape(())]),
    C("min-0d-neg-dim", lambda m, x: x.min(-1), [F(2.0).reshape(())]),
    C("argmax-0d-dim", lambda m, x: x.argmax(0), [F(2.0).reshape(())], grad=False),
    C("amax-0d-dim", lambda m, x: x.amax(0), [F(2.0).reshape(())]),
    C("sum-0d-dim", lambda m, x: x.sum(0), [F(2.0).reshape(())]),
    C("squeeze-0d", lambda m, x: x.squeeze(0), [F(2.0).reshape(())]),
    C("squeeze-0d-neg", lambda m, x: x.squeeze(-1), [F(2.0).reshape(())]),
    C("transpose-0d", lambda m, x: x.transpose(0, -1), [F(2.0).reshape(())]),
    C("logsumexp-0d", lambda m, x: m.logsumexp(x, 0), [F(2.0).reshape(())]),
    C("softmax-0d", lambda m, x: m.softmax(x, 0), [F(2.0).reshape(())]),
    C("log_softmax-0d", lambda m, x: m.log_softmax(x, -1), [F(2.0).reshape(())]),
    C("flatten-0d", lambda m, x: x.flatten(0, -1), [F(2.0).reshape(())]),
    C("flatten-size-0-dim", lambda m, x: x.flatten(1), [np.zeros((2, 0, 3))]),
    C("flatten-size-0-all", lambda m, x: x.flatten(), [np.zeros((2, 0, 3))]),
    C("flatten-size-0-lead", lambda m, x: x.flatten(0, 1), [np.zeros((0, 2, 3))]),
    C("flatten-one-dim", lambda m, x: x.flatten(1, 1), [F([1, 2], [3, 4])]),
    C("sum-numpy-int-dim", lambda m, x: x.sum(np.int64(1)), [F([1, 2], [3, 4])]),
    C("sum-numpy-int-dims", lambda m, x: x.sum((np.int64(1),), keepdim=True), [F([1, 2], [3, 4])]),
    C("max-numpy-int-dim", lambda m, x: x.max(np.int64(0)), [F([1, 2], [3, -4])]),
    # --- a number's operand rules (torch's: number / x is reciprocal(x) * number; x ** False has no
    # zero-power shortcut, so its gradient is 0 * x**-1, NaN at 0) ------------------------------
    C("number-over-x", lambda m, x: -1.5 / x, [F(2, -3, 0, INF)]),
    C("pow-false", lambda m, x: x ** False, [F(0, 2, -1)]),
    C("pow-zero", lambda m, x: m.pow(x, 0), [F(0, 2, -1)]),
]
BY_ID = {c.id: c for c in CASES}
assert len(BY_ID) == len(CASES), "case ids must be unique"


def _inputs(case, m, dtype):
    """The case's inputs as m's tensors; floats (in dtype) require grad in differentiable cases."""
    out = []
    for a in case.inputs:
        if a.dtype.kind == "f":
            out.append(m.tensor(a.astype(dtype), requires_grad=case.grad))
        else:
            out.append(m.tensor(a))
    return out


def _results(r):
    """A case's outputs as a list of tensors (max(dim) gives values and indices)."""
    return list(r) if isinstance(r, tuple) else [r]


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("cid", list(BY_ID))
def test_edge_case_against_torch(cid, dtype):
    case = BY_ID[cid]
    ours, theirs = _inputs(case, tg, dtype), _inputs(case, torch, dtype)
    outs, refs = _results(case.fn(tg, *ours)), _results(case.fn(torch, *theirs))
    assert len(outs) == len(refs)
    tol = dict(rtol=1e-10, atol=1e-12) if dtype == np.float64 else dict(rtol=1e-5, atol=1e-6)
    for i, (out, ref) in enumerate(zip(outs, refs)):
        want = ref.detach().numpy()
        got = np.asarray(out)
        assert got.shape == want.shape, f"{cid}: output {i} has shape {got.shape}, torch {want.shape}"
        assert got.dtype == want.dtype, f"{cid}: output {i} has dtype {got.dtype}, torch {want.dtype}"
        np.testing.assert_allclose(got, want, **tol, err_msg=f"{cid}: forward {i}")
    if not case.grad or not refs[0].requires_grad:        # integer and bool results carry no gradient
        return
    g = np.random.default_rng(0).standard_normal(refs[0].shape).astype(dtype)
    outs[0].backward(g)
    refs[0].backward(torch.tensor(g))
    for i, (a, b) in enumerate(zip(ours, theirs)):
        if b.requires_grad:
            assert a.grad is not None, f"{cid}: input {i} got no gradient"
            np.testing.assert_allclose(np.asarray(a.grad), b.grad.numpy(), **tol, err_msg=f"{cid}: grad of input {i}")


# ----------------------------------------------------------------------------
# bad input that torch refuses (item 6, and item 7's dims): a clear error naming the op

@dataclass
class Bad:
    id: str
    fn: object                 # fn(m) -> anything; must raise in torch and in tensorgrad
    error: type                # what tensorgrad raises
    match: str                 # in tensorgrad's message: the op (and what is wrong)


def _x(m):
    return m.tensor(np.arange(12.0).reshape(3, 4))


def _i(m, *rows):
    return m.tensor(np.array(rows, dtype=np.int64))


def _ones(m, *shape):
    return m.ones(*shape, dtype=m.float64)


SCATTER = ([0, 1, 2, 0], [0, 0, 0, 2])     # a (2, 4) index into a (3, 4) input along dim 0
BAD = [
    Bad("gather-negative-index", lambda m: _x(m).gather(1, _i(m, [0, -1], [0, 0], [1, 1])), IndexError, "gather.*-1"),
    Bad("gather-index-too-large", lambda m: _x(m).gather(1, _i(m, [0, 4], [0, 0], [1, 1])), IndexError, "gather.*4"),
    Bad("gather-index-wider-than-input", lambda m: _x(m).gather(0, _i(m, [0] * 5)), ValueError, "gather"),
    Bad("scatter_add-negative-index", lambda m: _x(m).scatter_add(0, _i(m, [0, -1, 0, 0]), _ones(m, 1, 4)),
        IndexError, "scatter_add.*-1"),
    Bad("scatter_add-src-fewer-rows", lambda m: _x(m).scatter_add(0, _i(m, *SCATTER), _ones(m, 1, 4)),
        ValueError, "scatter_add.*src"),
    Bad("scatter_add-src-fewer-columns", lambda m: _x(m).scatter_add(0, _i(m, *SCATTER), _ones(m, 2, 3)),
        ValueError, "scatter_add.*src"),
    Bad("index_add-negative-index", lambda m: _x(m).index_add(0, _i(m, 0, -1), _ones(m, 2, 4)),
        IndexError, "index_add.*-1"),
    Bad("embedding-negative-index", lambda m: m.nn.functional.embedding(_i(m, 0, -1), _x(m)),
        IndexError, "embedding.*-1"),
    Bad("index_put-values-with-extra-dims", lambda m: m.zeros(4, 3).index_put((_i(m, 0, 2),), m.ones(1, 1, 3)),
        ValueError, r"index_put.*\(1, 1, 3\).*\(2, 3\)"),
    Bad("index_put-accumulate-values-with-extra-dims",
        lambda m: m.zeros(4, 3).index_put((_i(m, 0, 2),), m.ones(1, 1, 3), accumulate=True),
        ValueError, r"index_put.*\(1, 1, 3\)"),
    Bad("masked_fill-float-mask", lambda m: _x(m).masked_fill(m.ones(3, 4), 0.0), TypeError, "masked_fill.*bool.*float32"),
    Bad("masked_fill-int-mask", lambda m: _x(m).masked_fill(m.ones(3, 4, dtype=m.int64), 0.0),
        TypeError, "masked_fill.*int64"),
    Bad("where-float-condition", lambda m: m.where(m.ones(3, 4), _x(m), 0.0), TypeError, "where.*bool"),
    Bad("where-int-condition", lambda m: m.where(m.ones(3, 4, dtype=m.int64), _x(m), 0.0), TypeError, "where.*bool"),
    Bad("flatten-start-after-end", lambda m: _x(m).flatten(1, 0), ValueError, "flatten.*start_dim"),
    Bad("flatten-0d-dim-1", lambda m: m.tensor(1.0).flatten(1), IndexError, "flatten"),
    Bad("max-0d-dim-1", lambda m: m.tensor(1.0).max(1), IndexError, "max"),
    Bad("squeeze-0d-dim-1", lambda m: m.tensor(1.0).squeeze(1), IndexError, "squeeze"),
    Bad("sum-float-dim", lambda m: _x(m).sum(1.0), TypeError, "sum.*1.0"),
    Bad("sum-numpy-float-dim", lambda m: _x(m).sum(np.float64(1.0)), TypeError, "sum"),
    Bad("sum-float-in-dims", lambda m: _x(m).sum((0, 1.0)), TypeError, "sum"),
    Bad("mean-float-dim", lambda m: _x(m).mean(1.0), TypeError, "mean"),
    Bad("max-float-dim", lambda m: _x(m).max(1.0), TypeError, "max"),
    Bad("amax-float-dim", lambda m: _x(m).amax(1.0), TypeError, "amax"),
    Bad("argmax-float-dim", lambda m: _x(m).argmax(1.0), TypeError, "argmax"),
    Bad("var-float-dim", lambda m: _x(m).var(1.0), TypeError, "var"),
    Bad("softmax-float-dim", lambda m: m.softmax(_x(m), 1.0), TypeError, "softmax"),
    Bad("sum-repeated-dim", lambda m: _x(m).sum((1, -1)), ValueError, "sum"),
    Bad("clamp-no-bounds", lambda m: _x(m).clamp(), RuntimeError, "clamp"),
    Bad("setitem-number-into-shared-elements", lambda m: m.zeros(3, 1).expand(3, 2).__setitem__(-1, 0.5),
        RuntimeError, "setitem.*more than one element"),
    Bad("setitem-number-into-expanded-rows", lambda m: m.zeros(2).expand(3, 2).__setitem__(slice(None), 0.5),
        RuntimeError, "setitem.*more than one element"),
    Bad("matmul-mixed-dtypes-batched", lambda m: m.ones(2, 2, 3).matmul(m.ones(2, 3, 4, dtype=m.int64)),
        RuntimeError, "matmul.*dtype"),
]
BAD_BY_ID = {b.id: b for b in BAD}
assert len(BAD_BY_ID) == len(BAD), "bad-input ids must be unique"


@pytest.mark.parametrize("bid", list(BAD_BY_ID))
def test_bad_input_is_refused_as_torch_does(bid):
    bad = BAD_BY_ID[bid]
    with pytest.raises(Exception):
        bad.fn(torch)
    with pytest.raises(bad.error, match=bad.match):
        bad.fn(tg)


# ----------------------------------------------------------------------------
# fused and composite agree; rules stay quiet where the inf or NaN is intended

def test_fused_logsumexp_matches_its_composite():
    """logsumexp is one node with torch's rule; the composite it replaces gives the same
    forward, gradient and second derivative on ordinary input."""
    rng = np.random.default_rng(3)
    a = rng.standard_normal((4, 5))
    g = rng.standard_normal(4)
    x, y = tg.tensor(a, requires_grad=True), tg.tensor(a, requires_grad=True)
    fused = tg.logsumexp(x, 1)
    m = a.max(axis=1, keepdims=True)
    composite = ((y - m).exp().sum(1, keepdim=True).log() + m).squeeze(1)
    np.testing.assert_allclose(fused.numpy(), composite.numpy(), rtol=1e-12)
    (gx,) = tg.grad(fused, x, grad_outputs=g, create_graph=True)
    (gy,) = tg.grad(composite, y, grad_outputs=g, create_graph=True)
    np.testing.assert_allclose(gx.numpy(), gy.numpy(), rtol=1e-12)
    v = rng.standard_normal(a.shape)
    (hx,) = tg.grad((gx * v).sum(), x)
    (hy,) = tg.grad((gy * v).sum(), y)
    np.testing.assert_allclose(hx.numpy(), hy.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dim", [None, 0, 1], ids=["all", "dim0", "dim1"])
def test_fused_var_matches_its_composite(dim):
    """var is one node with torch's rule; on ordinary input it agrees with sum((x - mean)^2) / (n - 1)
    in the forward, the gradient and the second derivative."""
    rng = np.random.default_rng(4)
    a = rng.standard_normal((5, 3))
    x, y = tg.tensor(a, requires_grad=True), tg.tensor(a, requires_grad=True)
    fused = x.var() if dim is None else x.var(dim)
    diff = y - (y.mean() if dim is None else y.mean(dim, keepdim=True))
    composite = (diff * diff).sum() / (a.size - 1) if dim is None else (diff * diff).sum(dim) / (a.shape[dim] - 1)
    np.testing.assert_allclose(fused.numpy(), composite.numpy(), rtol=1e-12)
    g = rng.standard_normal(fused.shape)
    (gx,) = tg.grad(fused, x, grad_outputs=g, create_graph=True)
    (gy,) = tg.grad(composite, y, grad_outputs=g, create_graph=True)
    np.testing.assert_allclose(gx.numpy(), gy.numpy(), rtol=1e-12)
    v = rng.standard_normal(a.shape)
    (hx,) = tg.grad((gx * v).sum(), x)
    (hy,) = tg.grad((gy * v).sum(), y)
    np.testing.assert_allclose(hx.numpy(), hy.numpy(), rtol=1e-10, atol=1e-12)


def test_intended_infinities_raise_no_warning():
    """sqrt'(0) = inf and var of one element = NaN are the answers (torch's); NumPy must not warn."""
    x = tg.tensor(np.array([0.0, 4.0]), requires_grad=True)
    x.sqrt().sum().backward()
    assert np.isinf(np.asarray(x.grad)[0])
    assert np.isnan(tg.tensor([1.5]).var().item())
    assert tg.logsumexp(tg.tensor([-np.inf, -np.inf]), 0).item() == -np.inf


@pytest.mark.parametrize("values", [[1.0, 3.0, 3.0], [1.0, np.nan, 2.0]], ids=["ties", "nan"])
@pytest.mark.parametrize("name", ["max", "min", "amax", "amin"])
def test_second_derivatives_of_the_extremes(name, values):
    """d/dx <v, d/dx (x.max() * x.sum())> with create_graph, as torch (the rules are tensor code)."""
    if values[1] != values[1] and name.startswith("a"):
        pytest.skip("amax's NaN gradient is NaN: nothing to differentiate again")
    v = np.array([1.0, 2.0, 3.0])
    x = tg.tensor(np.array(values), requires_grad=True)
    t = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    (g,) = tg.grad(getattr(x, name)() * x.sum(), x, create_graph=True)
    (h,) = tg.grad((g * v).sum(), x)
    (gt,) = torch.autograd.grad(getattr(t, name)() * t.sum(), t, create_graph=True)
    (ht,) = torch.autograd.grad((gt * torch.tensor(v)).sum(), t)
    np.testing.assert_allclose(g.numpy(), gt.detach().numpy())
    np.testing.assert_allclose(h.numpy(), ht.numpy())


def test_index_select_refuses_a_negative_index_as_torch():
    x = tg.arange(6.0).reshape(2, 3)
    with pytest.raises(IndexError, match="index_select: index -1 is out of range"):
        x.index_select(0, tg.tensor([-1]))
    with pytest.raises(IndexError):
        torch.arange(6.0).reshape(2, 3).index_select(0, torch.tensor([-1]))
    assert x.index_select(1, tg.tensor([2, 0])).tolist() == [[2.0, 0.0], [5.0, 3.0]]


def test_a_view_made_under_no_grad_of_a_leaf_cannot_be_written_with_grad_on():
    """torch raises rather than changing the leaf behind autograd's back."""
    x = tg.ones(3, requires_grad=True)
    with tg.no_grad():
        y = x[0:1]
    for write in (lambda: y.__setitem__(0, 42.0), lambda: y.add_(1.0), lambda: y.copy_(tg.zeros(1))):
        with pytest.raises(RuntimeError, match="view of a leaf Variable that requires grad"):
            write()
    assert x.tolist() == [1.0, 1.0, 1.0]
    with tg.no_grad():
        y[0] = 42.0                              # under no_grad it is a plain write, as in torch
    assert x.tolist() == [42.0, 1.0, 1.0]
    tx = torch.ones(3, requires_grad=True)
    with torch.no_grad():
        ty = tx[0:1]
    with pytest.raises(RuntimeError):
        ty[0] = 42.0


def test_half_precision_reductions_accumulate_in_float32_as_torch():
    n = 70000
    ours, theirs = tg.ones(n, dtype=tg.float16), torch.ones(n, dtype=torch.float16)
    for f in (lambda t: t.mean(), lambda t: t.var(), lambda t: t.sum(), lambda t: t.cumsum(0)[4999]):
        a, b = f(ours), f(theirs)
        assert a.dtype == np.float16
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    x = np.random.default_rng(0).standard_normal((n, 3)).astype(np.float16)
    got = tg.nn.functional.batch_norm(tg.tensor(x), None, None, training=True).numpy()
    want = torch.nn.functional.batch_norm(torch.tensor(x), None, None, training=True).numpy()
    assert np.isfinite(got).all() and np.abs(got).max() > 1
    np.testing.assert_allclose(got.astype(np.float32), want.astype(np.float32), atol=2e-2)


def test_a_number_over_x_reads_its_result_not_x():
    """torch computes 1.5 / x as reciprocal(x) * 1.5, whose rule reads the result: writing into x
    afterwards does not spoil the backward (the div rule would have read x)."""
    for m in (torch, tg):
        x = m.tensor([2.0, 4.0], requires_grad=True)
        y = x * 1
        z = 1.5 / y
        y[0] = 3.0
        z.sum().backward()
        np.testing.assert_allclose(np.asarray(x.grad), [-0.375, -0.09375])


@pytest.mark.parametrize("shapes", [((2, 2, 0), (2, 0, 3)), ((2, 0), (2, 0, 4)), ((2, 2, 3), (2, 3, 0)),
                                    ((0, 2, 3), (0, 3, 4)), ((2, 3), (0, 3, 4))])
def test_an_empty_batched_matmul_takes_the_second_dtype_as_torch(shapes):
    """torch's batched product over an empty contraction, or to an empty result, checks no dtypes:
    the result has the second operand's dtype."""
    for d1, d2 in ((np.float64, np.int64), (np.int64, np.float64)):
        a, b = np.zeros(shapes[0], d1), np.zeros(shapes[1], d2)
        want = torch.matmul(torch.tensor(a), torch.tensor(b))
        got = tg.matmul(tg.tensor(a), tg.tensor(b))
        assert got.shape == tuple(want.shape) and str(got.dtype) == str(want.dtype)[6:]


def test_cat_stack_and_softmax_lay_out_rows_as_torch_so_a_flatten_is_a_view():
    """torch's cat, stack, softmax and log_softmax give row-major results whatever their inputs' layout, so
    writing through a later flatten() reaches them (fuzzer seed 41211 of 40-step programs)."""
    for m in (tg, torch):
        x = m.tensor(np.arange(12.0).reshape(3, 4))
        for out in (m.cat([x.T, x.T], 1), m.stack([x.T, x.T]), m.softmax(x.T, -1), m.log_softmax(x.T, -1)):
            assert out.is_contiguous()
            out.flatten()[0] = 7.0
            assert out.reshape(-1)[0].item() == 7.0
