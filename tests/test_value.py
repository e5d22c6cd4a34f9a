"""micrograd compatibility: tensorgrad.Value runs micrograd's README example and the
expressions of micrograd's test_engine.py with only the import changed."""
import numpy as np
import pytest

import tensorgrad as tg
from tensorgrad import Value


def readme_example():
    """micrograd's README, word for word."""
    a = Value(-4.0)
    b = Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    return a, b, g


def sanity_check():
    """micrograd's test_sanity_check, our half."""
    x = Value(-4.0)
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    y.backward()
    return x, y


def test_readme_numbers():
    a, b, g = readme_example()
    assert f"{g.data:.4f}" == "24.7041"       # the numbers micrograd's README prints
    assert f"{a.grad:.4f}" == "138.8338"
    assert f"{b.grad:.4f}" == "645.5773"


def test_data_and_grad_are_floats():
    a, b, g = readme_example()
    for v in (a.data, a.grad, g.data, g.grad):
        assert isinstance(v, float)
    assert g.grad == 1.0
    assert repr(Value(2.0)) == "Value(data=2.0, grad=0.0)"
    assert isinstance(a + b, Value) and isinstance(2 * a, Value) and isinstance(a.tanh(), Value)
    assert a.dtype == np.float64 and a.shape == () and a.requires_grad


def test_sanity_check_hardcoded():
    x, y = sanity_check()
    assert y.data == -20.0 and x.grad == 46.0  # micrograd's (and torch's) numbers


def test_more_ops_against_torch():
    torch = pytest.importorskip("torch")
    amg, bmg, gmg = readme_example()
    # micrograd's test_more_ops, torch half
    a = torch.Tensor([-4.0]).double()
    b = torch.Tensor([2.0]).double()
    a.requires_grad = True
    b.requires_grad = True
    c = a + b
    d = a * b + b**3
    c = c + c + 1
    c = c + 1 + c + (-a)
    d = d + d * 2 + (b + a).relu()
    d = d + 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g = g + 10.0 / f
    g.backward()
    tol = 1e-6
    assert abs(gmg.data - g.data.item()) < tol
    assert abs(amg.grad - a.grad.item()) < tol
    assert abs(bmg.grad - b.grad.item()) < tol


def test_sanity_check_against_torch():
    torch = pytest.importorskip("torch")
    xmg, ymg = sanity_check()
    x = torch.Tensor([-4.0]).double()
    x.requires_grad = True
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    y.backward()
    assert ymg.data == y.data.item()     # exact, as micrograd's test asserts
    assert xmg.grad == x.grad.item()


def test_tanh_exp_and_reversed_ops():
    x = Value(0.5)
    y = (2 ** x) + (1 - x) + (3 / x) + x.tanh() * x.exp()
    y.backward()
    want = (np.log(2) * 2 ** 0.5 - 1 - 3 / 0.25
            + (1 - np.tanh(0.5) ** 2) * np.exp(0.5) + np.tanh(0.5) * np.exp(0.5))
    assert abs(x.grad - want) < 1e-12
    assert abs(y.data - (2 ** 0.5 + 0.5 + 6 + np.tanh(0.5) * np.exp(0.5))) < 1e-12


def test_micrograd_training_idioms():
    """zero_grad by `p.grad = 0`, update by `p.data -= lr * p.grad`, sum() of Values,
    and gradients kept on every node, as micrograd's demo does."""
    w = [Value(0.5), Value(-1.5)]
    loss = sum((wi * wi for wi in w), Value(0.0))
    loss.backward()
    assert [wi.grad for wi in w] == [1.0, -3.0]
    assert loss.grad == 1.0
    for p in w:
        p.data -= 0.1 * p.grad
        p.grad = 0
    assert w[0].data == pytest.approx(0.4) and w[1].data == pytest.approx(-1.2)
    assert w[0].grad == 0.0
    loss2 = (w[0] * w[1]).relu() + (w[0] - w[1]).relu()
    loss2.backward()
    assert w[0].grad == 1.0 and w[1].grad == -1.0


def test_backward_twice_accumulates_like_micrograd():
    a = Value(3.0)
    b = a * a
    b.backward()
    b.backward()
    assert a.grad == 12.0


def test_value_mixes_with_tensors():
    a = Value(2.0)
    t = tg.tensor([1.0, 2.0], dtype=np.float64, requires_grad=True)
    (a * t).sum().backward()
    assert a.grad == 3.0 and t.grad.tolist() == [2.0, 2.0]
