"""The two fused rules (cross-entropy, batch norm) at their edges, against torch (issue 11,
items 1, 2, 6 and 7): all targets ignored, non-finite logits, per-channel arguments that
would broadcast, evaluation mode without running statistics."""
import warnings

import numpy as np
import pytest

import tensorgrad as tg

torch = pytest.importorskip("torch")
F = tg.nn.functional
TF = torch.nn.functional
INF, NAN = float("inf"), float("nan")


def _ce_both(x, t, **kw):
    """(tensorgrad loss, grad), (torch loss, grad) of cross_entropy(x, t, **kw); the gradient of
    reduction='none' is taken with an uneven upstream gradient."""
    x = np.asarray(x, np.float32)
    out = []
    for m, make in ((tg, lambda a: tg.tensor(a, requires_grad=True)),
                    (torch, lambda a: torch.tensor(a, requires_grad=True))):
        xt = make(x)
        fn = F.cross_entropy if m is tg else TF.cross_entropy
        loss = fn(xt, m.tensor(np.asarray(t)), **kw)
        if kw.get("reduction") == "none":
            g = np.arange(1, len(t) + 1, dtype=np.float32)
            loss.backward(m.tensor(g))
        else:
            loss.backward()
        out.append((loss.detach().numpy(), np.asarray(xt.grad)))
    return out


CE_CASES = [
    ("every target ignored", [[1, 2, 3], [0, 1, 2]], [-100, -100]),
    ("+inf logit", [[INF, 0, 1], [0, 1, 2]], [1, 2]),
    ("+inf logit is the target", [[INF, 0, 1], [0, 1, 2]], [0, 2]),
    ("-inf logit", [[-INF, 0, 1], [0, 1, 2]], [1, 2]),
    ("-inf logit is the target", [[-INF, 0, 1], [0, 1, 2]], [0, 2]),
    ("row of -inf", [[-INF, -INF, -INF], [0, 1, 2]], [0, 2]),
    ("NaN logit", [[NAN, 0, 1], [0, 1, 2]], [1, 2]),
    ("+inf row ignored", [[INF, 0, 1], [0, 1, 2]], [-100, 2]),
    ("+inf row, the other ignored", [[INF, 0, 1], [0, 1, 2]], [1, -100]),
]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("case", CE_CASES, ids=[c[0] for c in CE_CASES])
def test_cross_entropy_edges_as_torch(case, reduction):
    _, x, t = case
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # the intended NaN/inf raise no RuntimeWarning
        (loss, grad), (tloss, tgrad) = _ce_both(x, t, reduction=reduction)
    np.testing.assert_allclose(loss, tloss, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(grad, tgrad, rtol=1e-6, atol=1e-7)


def test_cross_entropy_all_ignored_gives_zero_gradient_not_nan():
    x = tg.tensor(np.random.default_rng(0).standard_normal((4, 5)).astype(np.float32), requires_grad=True)
    loss = F.cross_entropy(x, tg.tensor([7, 7, 7, 7]), ignore_index=7)
    assert np.isnan(loss.item())                # 0 / 0, as torch
    loss.backward()
    assert np.array_equal(np.asarray(x.grad), np.zeros((4, 5), np.float32))


@pytest.mark.parametrize("what", ["weight", "bias", "running_mean", "running_var"])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_refuses_a_size_one_per_channel_argument(what, training):
    x = np.random.default_rng(1).standard_normal((4, 3)).astype(np.float32)
    args = dict(running_mean=np.zeros(3, np.float32), running_var=np.ones(3, np.float32),
                weight=np.ones(3, np.float32), bias=np.zeros(3, np.float32))
    args[what] = np.ones(1, np.float32)
    with pytest.raises(RuntimeError, match=f"{what} should contain 3 elements"):
        TF.batch_norm(torch.tensor(x), training=training, **{k: torch.tensor(v) for k, v in args.items()})
    with pytest.raises(RuntimeError, match=f"batch_norm: {what} should contain 3 elements"):
        F.batch_norm(tg.tensor(x), training=training, **{k: tg.tensor(v) for k, v in args.items()})


@pytest.mark.parametrize("shape", [(3,), (1, 3), (3, 1)])
def test_batch_norm_takes_one_value_per_channel_in_any_layout(shape):
    """torch's forward accepts a weight of 3 elements in any shape (its backward fails on (1, 3));
    tensorgrad takes them all, gradients in the shape given (the lecture's bngain is (1, C))."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((5, 3)).astype(np.float32)
    w, b = (rng.standard_normal(3).astype(np.float32) for _ in range(2))
    xs, ws, bs = (tg.tensor(a, requires_grad=True) for a in (x, w.reshape(shape), b.reshape(shape)))
    out = F.batch_norm(xs, None, None, ws, bs, training=True)
    g = rng.standard_normal((5, 3)).astype(np.float32)
    out.backward(g)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    tout = TF.batch_norm(tx, None, None, tw, tb, training=True)
    tout.backward(torch.tensor(g))
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-5, atol=1e-6)
    for a, ta in ((xs, tx), (ws, tw), (bs, tb)):
        assert np.asarray(a.grad).shape == a.shape
        np.testing.assert_allclose(np.asarray(a.grad).reshape(ta.shape), ta.grad.numpy(), rtol=1e-4, atol=1e-5)


def test_batch_norm_in_eval_mode_needs_running_statistics():
    x = tg.randn(4, 3)
    with pytest.raises(RuntimeError, match="running_mean must be defined in evaluation mode"):
        TF.batch_norm(torch.randn(4, 3), None, None, training=False)
    with pytest.raises(RuntimeError, match="batch_norm: running_mean and running_var must be given in evaluation"):
        F.batch_norm(x, None, None, training=False)
    with pytest.raises(ValueError, match="both be None or neither"):
        F.batch_norm(x, tg.zeros(3), None, training=True)


def test_batch_norm_eval_mode_as_torch():
    rng = np.random.default_rng(3)
    x, rm, w, b = (rng.standard_normal(s).astype(np.float32) for s in ((6, 4), 4, 4, 4))
    rv = rng.uniform(0.5, 2, 4).astype(np.float32)
    out = F.batch_norm(tg.tensor(x), tg.tensor(rm), tg.tensor(rv), tg.tensor(w), tg.tensor(b), training=False)
    want = TF.batch_norm(*(torch.tensor(a) for a in (x, rm, rv, w, b)), training=False)
    np.testing.assert_allclose(out.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)
