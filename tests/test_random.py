"""Random numbers: the global generator (tg.manual_seed) and generator=, reproducibility under a
seed, and the distributions (moments; chi-square for the discrete ones, multinomial above all)."""
import math

import numpy as np
import pytest

import tensorgrad as tg

N = 200_000


def chi2_critical(dof: int, z: float = 3.719) -> float:
    """The chi-square quantile at p = 1e-4 (z its normal quantile), by Wilson and Hilferty's cube."""
    return dof * (1 - 2 / (9 * dof) + z * math.sqrt(2 / (9 * dof))) ** 3


def chi2(counts, probs) -> float:
    counts, expected = np.asarray(counts, float), np.asarray(probs, float) * np.sum(counts)
    return float(((counts - expected) ** 2 / expected).sum())


def draws():
    """One of everything random, from the global generator."""
    return [tg.rand(3), tg.randn(2, 2), tg.randint(0, 10, (5,)), tg.randperm(6),
            tg.multinomial(tg.tensor([0.2, 0.3, 0.5]), 4, replacement=True), tg.multinomial(tg.ones(5), 3),
            tg.normal(0.0, 2.0, size=(3,)), tg.bernoulli(tg.full((4,), 0.5)), tg.rand_like(tg.zeros(2)),
            tg.randn_like(tg.zeros(2)), tg.randint_like(tg.zeros(3), 5)]


# ----------------------------------------------------------------------------
# seeding

def test_manual_seed_makes_every_random_function_reproducible():
    tg.manual_seed(1234)
    first = [t.numpy().copy() for t in draws()]
    tg.manual_seed(1234)
    again = [t.numpy() for t in draws()]
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    tg.manual_seed(1235)                                   # another seed: another stream
    assert not np.array_equal(draws()[1].numpy(), first[1])


def test_manual_seed_returns_the_global_generator_and_generators_are_independent():
    g = tg.manual_seed(7)
    assert g is tg.default_generator and g.initial_seed() == 7 == tg.initial_seed()
    mine = tg.Generator().manual_seed(7)
    a = tg.randn(5, generator=mine).numpy()
    tg.randn(100)                                          # the global stream moves on ...
    b = tg.randn(5, generator=tg.Generator().manual_seed(7)).numpy()
    np.testing.assert_array_equal(a, b)                    # ... and does not touch a generator's
    tg.manual_seed(7)
    np.testing.assert_array_equal(tg.randn(5).numpy(), a)  # the same seed, the same numbers, global or not


def test_rng_state_round_trips():
    tg.manual_seed(3)
    state = tg.get_rng_state()
    a = tg.rand(4).numpy()
    tg.set_rng_state(state)
    np.testing.assert_array_equal(tg.rand(4).numpy(), a)
    g = tg.Generator(5)
    s = g.get_state()
    x = tg.multinomial(tg.ones(10), 10, generator=g).numpy()
    g.set_state(s)
    np.testing.assert_array_equal(tg.multinomial(tg.ones(10), 10, generator=g).numpy(), x)


def test_layers_draw_their_init_from_the_global_generator():
    tg.manual_seed(0)
    w1 = tg.nn.Linear(3, 4).weight.numpy().copy()
    tg.manual_seed(0)
    np.testing.assert_array_equal(tg.nn.Linear(3, 4).weight.numpy(), w1)


def test_generator_takes_torchs_device_argument():
    a = tg.rand(2, generator=tg.Generator(device="cpu").manual_seed(3)).numpy()
    np.testing.assert_array_equal(a, tg.rand(2, generator=tg.Generator("cpu").manual_seed(3)).numpy())


def test_seed_reseeds_from_the_os():
    s1, s2 = tg.seed(), tg.seed()
    assert s1 != s2 and tg.initial_seed() == s2


# ----------------------------------------------------------------------------
# continuous distributions: moments

def test_rand_and_randn_moments_and_dtypes():
    g = tg.Generator(0)
    u, z = tg.rand(N, generator=g).numpy(), tg.randn(N, generator=g, dtype=tg.float64).numpy()
    assert u.dtype == np.float32 and z.dtype == np.float64
    assert u.min() >= 0 and u.max() < 1
    assert abs(u.mean() - 0.5) < 5 * math.sqrt(1 / 12 / N) and abs(u.var() - 1 / 12) < 0.002
    assert abs(z.mean()) < 5 / math.sqrt(N) and abs(z.var() - 1) < 0.02
    assert abs(((z - z.mean()) ** 3).mean()) < 0.05 and abs((z ** 4).mean() - 3) < 0.1     # skew 0, kurtosis 3


def test_normal_with_tensor_mean_and_std_broadcasts():
    g = tg.Generator(1)
    mean, std = tg.tensor([[-3.0], [0.0], [5.0]]), tg.tensor([0.5, 1.0, 2.0, 4.0])
    x = np.stack([tg.normal(mean, std, generator=g).numpy() for _ in range(20_000)])
    assert x.shape[1:] == (3, 4) and x.dtype == np.float32
    np.testing.assert_allclose(x.mean(0), np.broadcast_to(mean.numpy(), (3, 4)), atol=0.1)
    np.testing.assert_allclose(x.std(0), np.broadcast_to(std.numpy(), (3, 4)), rtol=0.03)
    with pytest.raises(ValueError, match="std"):
        tg.normal(0.0, -1.0, size=(2,))


def test_like_functions_keep_shape_and_dtype():
    x = tg.zeros(2, 3, dtype=tg.float64)
    assert tg.rand_like(x).shape == (2, 3) and tg.randn_like(x).dtype == np.float64
    i = tg.randint_like(x, 3, 7, generator=tg.Generator(0))
    assert i.dtype == np.float64 and set(np.unique(i.numpy())) <= {3, 4, 5, 6}


# ----------------------------------------------------------------------------
# discrete distributions: chi-square

def test_randint_is_uniform():
    x = tg.randint(-2, 5, (N,), generator=tg.Generator(2)).numpy()
    assert x.dtype == np.int64
    counts = np.bincount(x + 2, minlength=7)
    assert chi2(counts, np.full(7, 1 / 7)) < chi2_critical(6)
    assert tg.randint(3, (2, 2)).numpy().max() < 3                     # randint(high, size)


def test_randperm_is_a_uniform_permutation():
    g = tg.Generator(3)
    perms = np.stack([tg.randperm(4, generator=g).numpy() for _ in range(24_000)])
    assert perms.dtype == np.int64 and (np.sort(perms, 1) == np.arange(4)).all()
    codes = perms @ (4 ** np.arange(4))
    _, counts = np.unique(codes, return_counts=True)
    assert len(counts) == 24 and chi2(counts, np.full(24, 1 / 24)) < chi2_critical(23)


def test_bernoulli_means():
    p = tg.tensor([0.0, 0.1, 0.5, 0.9, 1.0], dtype=tg.float64)
    x = np.stack([tg.bernoulli(p, generator=tg.Generator(i)).numpy() for i in range(4000)])
    assert x.dtype == np.float64 and set(np.unique(x)) <= {0.0, 1.0}
    np.testing.assert_allclose(x.mean(0), p.numpy(), atol=0.03)
    assert x[:, 0].sum() == 0 and x[:, 4].sum() == 4000
    assert abs(tg.bernoulli(tg.zeros(N), p=0.25, generator=tg.Generator(0)).numpy().mean() - 0.25) < 0.01


def test_multinomial_with_replacement_follows_the_weights():
    w = tg.tensor([1.0, 0.0, 3.0, 6.0, 10.0])               # unnormalised, with a zero
    x = tg.multinomial(w, N, replacement=True, generator=tg.Generator(4)).numpy()
    assert x.shape == (N,) and x.dtype == np.int64
    counts = np.bincount(x, minlength=5)
    assert counts[1] == 0
    keep = [0, 2, 3, 4]
    assert chi2(counts[keep], w.numpy()[keep] / 20) < chi2_critical(3)


def test_multinomial_rows_and_sampling_like_makemore():
    """(B, C) probabilities, one sample per row, as makemore samples its next characters."""
    probs = tg.tensor([[0.7, 0.2, 0.1], [0.0, 0.0, 1.0]])
    g = tg.Generator(5)
    x = np.concatenate([tg.multinomial(probs, 1, generator=g).numpy() for _ in range(20_000)], axis=1)
    assert x.shape == (2, 20_000) and (x[1] == 2).all()
    assert chi2(np.bincount(x[0], minlength=3), [0.7, 0.2, 0.1]) < chi2_critical(2)


def test_multinomial_without_replacement_is_successive_draws_without_putting_back():
    """P(first = i) = p_i and P(second = j) = sum_i p_i p_j / (1 - p_i): the sequential process."""
    p = np.array([0.5, 0.25, 0.15, 0.1])
    x = tg.multinomial(tg.tensor(np.tile(p, (40_000, 1))), 2, generator=tg.Generator(6)).numpy()
    assert (x[:, 0] != x[:, 1]).all()
    assert chi2(np.bincount(x[:, 0], minlength=4), p) < chi2_critical(3)
    second = np.array([sum(p[i] * p[j] / (1 - p[i]) for i in range(4) if i != j) for j in range(4)])
    assert chi2(np.bincount(x[:, 1], minlength=4), second) < chi2_critical(3)
    pairs = x[:, 0] * 4 + x[:, 1]
    joint = np.array([p[i] * p[j] / (1 - p[i]) if i != j else 0 for i in range(4) for j in range(4)])
    seen = joint > 0
    assert chi2(np.bincount(pairs, minlength=16)[seen], joint[seen]) < chi2_critical(11)


def test_multinomial_without_replacement_takes_every_category_once_and_never_a_zero():
    g = tg.Generator(7)
    full = tg.multinomial(tg.tensor([3.0, 1.0, 2.0]), 3, generator=g).numpy()
    assert sorted(full.tolist()) == [0, 1, 2]
    for _ in range(200):
        assert 1 not in tg.multinomial(tg.tensor([1.0, 0.0, 1.0, 1.0]), 3, generator=g).numpy()


@pytest.mark.parametrize("weights, n, replacement, match", [
    ([0.5, 0.5], 3, False, "cannot sample"),
    ([1.0, 0.0, 0.0], 2, False, "not enough"),
    ([1.0, -0.5], 1, True, "element < 0"),
    ([1.0, float("nan")], 1, True, "nan"),
    ([0.0, 0.0], 1, True, "sum"),
    ([[[1.0]]], 1, True, "1 or 2 dim"),
])
def test_multinomial_refuses_what_torch_refuses(weights, n, replacement, match):
    with pytest.raises(ValueError, match=match):
        tg.multinomial(tg.tensor(weights), n, replacement)


def test_tensor_methods_sample_too():
    g = tg.Generator(8)
    assert tg.ones(2, 4).multinomial(2, generator=g).shape == (2, 2)
    assert tg.full((3,), 0.5).bernoulli(generator=g).shape == (3,)


def test_in_place_random_fills_follow_their_distributions_and_seeds():
    g = tg.Generator(9)
    b = tg.zeros(N, dtype=tg.float64).bernoulli_(0.3, generator=g).numpy()
    assert set(np.unique(b)) <= {0.0, 1.0} and abs(b.mean() - 0.3) < 0.01
    e = tg.zeros(N).exponential_(2.0, generator=g).numpy()
    assert e.dtype == np.float32 and e.min() >= 0 and abs(e.mean() - 0.5) < 0.01 and abs(e.var() - 0.25) < 0.01
    r = tg.zeros(N, dtype=tg.int64).random_(3, 7, generator=g).numpy()
    assert chi2(np.bincount(r - 3, minlength=4), np.full(4, 0.25)) < chi2_critical(3)
    tg.manual_seed(11)
    first = tg.zeros(5).exponential_().numpy().copy()
    tg.manual_seed(11)
    np.testing.assert_array_equal(tg.zeros(5).exponential_().numpy(), first)
