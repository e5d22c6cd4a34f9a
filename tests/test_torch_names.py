"""More of torch's names for programs brought over: nn.init's other initialisers, torch.testing.assert_close,
torch.utils.checkpoint, torch.special, torch.nn.parameter, use_deterministic_algorithms; each against torch."""
import numpy as np
import pytest
import torch

import tensorgrad as tg


def test_trunc_normal_keeps_to_its_bounds_with_torchs_moments():
    w, t = tg.empty(400, 300), torch.empty(400, 300)
    tg.nn.init.trunc_normal_(w, mean=0.1, std=0.5, a=-0.6, b=1.0)
    torch.nn.init.trunc_normal_(t, mean=0.1, std=0.5, a=-0.6, b=1.0)
    a = w.numpy()
    assert a.min() >= -0.6 and a.max() <= 1.0
    np.testing.assert_allclose([a.mean(), a.std()], [t.mean().item(), t.std().item()], atol=0.01)


@pytest.mark.parametrize("shape", [(4, 6), (6, 4), (3, 2, 2)])
def test_orthogonal_gives_orthonormal_rows_or_columns(shape):
    q = tg.nn.init.orthogonal_(tg.empty(*shape), gain=2.0).numpy().reshape(shape[0], -1).astype(np.float64)
    gram = q @ q.T if q.shape[0] <= q.shape[1] else q.T @ q
    np.testing.assert_allclose(gram / 4, np.eye(len(gram)), atol=1e-5)
    with pytest.raises(ValueError, match="2 or more"):
        tg.nn.init.orthogonal_(tg.empty(3))


def test_eye_dirac_and_sparse_as_torch():
    for m in (tg, torch):
        e, d = m.nn.init.eye_(m.empty(2, 3)), m.nn.init.dirac_(m.empty(4, 2, 3, 3), groups=2)
        out = (e.tolist(), d.numpy().nonzero()) if m is tg else None
        if m is torch:
            assert ours[0] == e.tolist()
            for a, b in zip(ours[1], d.numpy().nonzero()):
                np.testing.assert_array_equal(a, b)
        ours = out
    s = tg.nn.init.sparse_(tg.empty(10, 4), 0.3).numpy()
    assert ((s == 0).sum(0) == 3).all()


def test_assert_close_as_torchs():
    tg.testing.assert_close(tg.tensor([1.0, 2.0]), tg.tensor([1.0, 2.000001]))
    tg.testing.assert_close(tg.tensor([1.0, 2.0]), torch.tensor([1.0, 2.0]))
    tg.testing.assert_close({"a": [tg.tensor(1.0)]}, {"a": [tg.tensor(1.0)]})
    with pytest.raises(AssertionError, match="(?s)Mismatched elements: 1 / 3.*index \\(1,\\)"):
        tg.testing.assert_close(tg.tensor([1.0, 2.0, 3.0]), tg.tensor([1.0, 2.5, 3.0]))
    with pytest.raises(AssertionError, match="dtype"):
        tg.testing.assert_close(tg.tensor([1.0]), tg.tensor([1.0], dtype=tg.float64))
    tg.testing.assert_close(tg.tensor([1.0]), tg.tensor([1.1]), rtol=0.2, atol=0.0)
    tg.testing.assert_close(tg.tensor([float("nan")]), tg.tensor([float("nan")]), equal_nan=True)


def test_checkpoint_special_parameter_and_determinism_as_torch():
    import tensorgrad.utils.checkpoint as tcp
    import torch.utils.checkpoint as ccp
    grads = []
    for m, cp in ((tg, tcp), (torch, ccp)):
        x = m.tensor([1.0, -2.0, 3.0], requires_grad=True)
        lin = m.nn.Sequential(m.nn.Tanh(), m.nn.Tanh())
        (cp.checkpoint(lambda a: (a * 2).sin(), x, use_reentrant=False).sum()
         + cp.checkpoint_sequential(lin, 1, x, use_reentrant=False).sum()).backward()
        y = m.tensor([-1.0, 0.0, 0.5, 2.0])
        grads.append([x.grad.numpy()] + [f(y).numpy() for f in (m.special.ndtr, m.special.entr, m.special.expit)]
                     + [m.special.ndtri(m.tensor([0.1, 0.5])).numpy(), m.special.xlog1py(y, y).numpy()])
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    from tensorgrad.nn.parameter import Parameter
    assert Parameter is tg.nn.Parameter
    tg.use_deterministic_algorithms(True)
    assert tg.are_deterministic_algorithms_enabled()
    tg.use_deterministic_algorithms(False)
