"""torch.distributions' common distributions against torch: log_prob, entropy, moments, KL, and
their gradients; draws by their statistics (tensorgrad's generator is not torch's stream)."""
import numpy as np
import pytest
import torch

import tensorgrad as tg

TIGHT = dict(rtol=1e-10, atol=1e-12)


def both(build):
    """build(m, D, leaf) on tensorgrad and torch (float64 leaves that require grad): the values, and the
    gradients of their sum."""
    out = []
    for m, D in ((tg, tg.distributions), (torch, torch.distributions)):
        leaves = []

        def leaf(values):
            t = m.tensor(np.asarray(values, np.float64), requires_grad=True)
            leaves.append(t)
            return t
        value = build(m, D, leaf)
        value.sum().backward()
        out.append((value.detach().numpy(), [None if t.grad is None else t.grad.numpy() for t in leaves]))
    (a, ga), (b, gb) = out
    assert a.dtype == b.dtype
    np.testing.assert_allclose(a, b, **TIGHT)
    for x, y in zip(ga, gb):
        assert (x is None) == (y is None)
        if x is not None:
            np.testing.assert_allclose(x, y, **TIGHT)


LOGITS = [[0.3, -1.0, 2.0, 0.0], [1.0, 1.0, -3.0, 0.5]]
CASES = {
    "categorical-logits-log_prob": lambda m, D, p: D.Categorical(logits=p(LOGITS)).log_prob(m.tensor([[0, 3], [2, 1]])),
    "categorical-probs-log_prob": lambda m, D, p: D.Categorical(probs=p([0.2, 0.3, 0.5])).log_prob(m.tensor([2, 0])),
    "categorical-entropy": lambda m, D, p: D.Categorical(logits=p(LOGITS)).entropy(),
    "categorical-zero-prob-entropy": lambda m, D, p: D.Categorical(probs=p([0.0, 0.4, 0.6])).entropy(),
    "categorical-kl": lambda m, D, p: D.kl_divergence(D.Categorical(logits=p(LOGITS)),
                                                      D.Categorical(logits=p(LOGITS[::-1]))),
    "bernoulli-log_prob": lambda m, D, p: D.Bernoulli(logits=p([0.3, -1.0, 4.0])).log_prob(
        m.tensor([1.0, 0.0, 0.0], dtype=m.float64)),
    "bernoulli-probs-entropy": lambda m, D, p: D.Bernoulli(probs=p([0.3, 0.9])).entropy(),
    "bernoulli-kl": lambda m, D, p: D.kl_divergence(D.Bernoulli(logits=p([0.3, -1.0])), D.Bernoulli(probs=p([0.3, 0.9]))),
    "normal-log_prob": lambda m, D, p: D.Normal(p([0.0, 1.0]), p([1.0, 2.0])).log_prob(
        m.tensor([[0.5, -0.5]], dtype=m.float64)),
    "normal-entropy": lambda m, D, p: D.Normal(p([0.0, 1.0]), p([1.0, 2.0])).entropy(),
    "normal-cdf": lambda m, D, p: D.Normal(p([0.0, 1.0]), p([1.0, 2.0])).cdf(m.tensor([0.3, 3.0], dtype=m.float64)),
    "normal-kl": lambda m, D, p: D.kl_divergence(D.Normal(p([0.0, 1.0]), p([1.0, 2.0])), D.Normal(p([1.0]), p([0.5]))),
    "normal-moments": lambda m, D, p: m.stack([D.Normal(p([0.0, 1.0]), p([1.0, 2.0])).variance,
                                               D.Normal(p([0.0, 1.0]), p([1.0, 2.0])).stddev]),
    "uniform-log_prob": lambda m, D, p: D.Uniform(p([0.0, -1.0]), p([2.0, 1.0])).log_prob(m.tensor([1.0, 0.5], dtype=m.float64)),
    "uniform-entropy-moments": lambda m, D, p: m.stack([D.Uniform(p([0.0]), p([2.0])).entropy(),
                                                        D.Uniform(p([0.0]), p([2.0])).mean,
                                                        D.Uniform(p([0.0]), p([2.0])).variance]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_distribution_against_torch(case):
    both(CASES[case])


def test_rsample_carries_the_gradient_and_samples_have_the_right_statistics():
    tg.manual_seed(0)
    loc, scale = tg.tensor([1.0, -2.0], requires_grad=True), tg.tensor([0.5, 2.0], requires_grad=True)
    n = tg.distributions.Normal(loc, scale)
    x = n.rsample((20000,))
    assert x.shape == (20000, 2) and n.batch_shape == torch.Size([2])
    np.testing.assert_allclose(x.mean(0).detach().numpy(), [1.0, -2.0], atol=0.05)
    np.testing.assert_allclose(x.std(0).detach().numpy(), [0.5, 2.0], rtol=0.03)
    x.mean().backward()
    np.testing.assert_allclose(loc.grad.numpy(), [0.5, 0.5], rtol=1e-4)      # d mean / d loc
    assert not n.sample((3,)).requires_grad
    c = tg.distributions.Categorical(probs=tg.tensor([[0.1, 0.6, 0.3], [1.0, 0.0, 0.0]]))
    draws = c.sample((6000,))
    assert draws.shape == (6000, 2) and draws.dtype == np.int64
    np.testing.assert_allclose(np.bincount(draws[:, 0].numpy(), minlength=3) / 6000, [0.1, 0.6, 0.3], atol=0.03)
    assert (draws[:, 1].numpy() == 0).all()
    b = tg.distributions.Bernoulli(probs=tg.tensor([0.2, 0.9]))
    np.testing.assert_allclose(b.sample((6000,)).mean(0).numpy(), [0.2, 0.9], atol=0.03)
    u = tg.distributions.Uniform(tg.tensor([-1.0]), tg.tensor([3.0])).sample((6000,))
    assert u.min().item() >= -1.0 and u.max().item() < 3.0


def test_a_reinforce_step_as_torch():
    """The policy-gradient idiom: -log_prob(action) * reward, backpropagated into the logits' layer."""
    grads = []
    for m in (tg, torch):
        w = m.tensor(np.array([[0.2, -0.1, 0.4], [0.0, 0.3, -0.2]]), requires_grad=True)
        dist = m.distributions.Categorical(logits=m.tensor(np.array([[1.0, 2.0]])) @ w)
        loss = -(dist.log_prob(m.tensor([2])) * 1.5).mean() - 0.01 * dist.entropy().mean()
        loss.backward()
        grads.append(w.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], **TIGHT)


def test_a_missing_distribution_names_itself():
    with pytest.raises(AttributeError, match="torch.distributions.Dirichlet"):
        tg.distributions.Dirichlet


@pytest.mark.parametrize("make", [
    lambda D, m: D.Normal(0.0, -1.0), lambda D, m: D.Uniform(2.0, 1.0),
    lambda D, m: D.Categorical(probs=m.tensor([0.5, -0.1])), lambda D, m: D.Bernoulli(probs=m.tensor([1.5])),
    lambda D, m: D.Categorical(logits=m.tensor([0.5, 1.0])).log_prob(m.tensor(5)),
    lambda D, m: D.Bernoulli(probs=m.tensor([0.5])).log_prob(m.tensor([0.5])),
    lambda D, m: D.Uniform(m.tensor([0.0]), m.tensor([2.0])).log_prob(m.tensor([3.0])),
], ids=["normal-scale", "uniform-bounds", "categorical-probs", "bernoulli-probs", "categorical-value",
        "bernoulli-value", "uniform-value"])
def test_arguments_are_validated_as_torch(make):
    """Parameters outside their constraint, and log_prob values outside the support, are a ValueError (torch's
    validate_args, on by default); validate_args=False turns it off."""
    with pytest.raises(ValueError):
        make(torch.distributions, torch)
    with pytest.raises(ValueError, match="Expected"):
        make(tg.distributions, tg)


def test_validation_can_be_turned_off_as_torch():
    for m in (tg, torch):
        u = m.distributions.Uniform(m.tensor([0.0]), m.tensor([2.0]), validate_args=False)
        assert u.log_prob(m.tensor([3.0])).item() == float("-inf")
