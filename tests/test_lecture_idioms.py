"""The idioms of the Zero to Hero lectures, in our own words, run on tensorgrad and on torch with
the same code: `m` is the module (tensorgrad or torch), as a learner's `import ... as torch`."""
import numpy as np
import pytest
import torch

import tensorgrad as tg

BOTH = pytest.mark.parametrize("m", [tg, torch], ids=["tensorgrad", "torch"])


def _F(m):
    return m.nn.functional


def cmp(m, dt, t):
    """The lecture's checker: exact with all(), approximate with allclose(), the max difference."""
    exact = m.all(dt == t.grad).item()
    approx = m.allclose(dt, t.grad)
    maxdiff = (dt - t.grad).abs().max().item()
    return exact, approx, maxdiff


@BOTH
def test_cmp_helper(m):
    x = m.tensor([[1.0, -2.0], [0.5, 3.0]], dtype=m.float64, requires_grad=True)
    (x * x).sum().backward()
    assert cmp(m, 2 * x.detach(), x) == (True, True, 0.0)
    exact, approx, maxdiff = cmp(m, 2 * x.detach() + 1e-9, x)
    assert not exact and approx and 0 < maxdiff < 1e-6


@BOTH
def test_parameter_count_and_formatting(m):
    g = m.Generator().manual_seed(2147483647)
    C = m.randn((27, 10), generator=g)
    W1 = m.randn((30, 200), generator=g) * (5 / 3) / 30 ** 0.5
    b1 = m.randn(200, generator=g) * 0.01
    parameters = [C, W1, b1]
    assert sum(p.nelement() for p in parameters) == 27 * 10 + 30 * 200 + 200
    for p in parameters:
        p.requires_grad = True
    loss = (C.sum() + W1.sum() + b1.sum()) * 0 + m.tensor(2.3456)
    assert "%.2f" % loss == "2.35" and f"{loss.item():.4f}" == "2.3456" and f"{loss:.3f}" == "2.346"
    assert f"{W1.shape}" == "torch.Size([30, 200])"                  # (tensorgrad's Size prints as torch's)


@BOTH
def test_bigram_counts_and_sampling_loop(m):
    words = ["emma", "olivia", "ava", "isabella", "sophia", "mia", "amelia", "ella"]
    chars = sorted(set("".join(words)))
    stoi = {s: i + 1 for i, s in enumerate(chars)}
    stoi["."] = 0
    itos = {i: s for s, i in stoi.items()}
    V = len(stoi)
    N = m.zeros((V, V), dtype=m.int32)
    for w in words:
        cs = ["."] + list(w) + ["."]
        for ch1, ch2 in zip(cs, cs[1:]):
            N[stoi[ch1], stoi[ch2]] += 1
    assert N.sum().item() == sum(len(w) + 1 for w in words) and N.dtype == m.int32
    P = (N + 1).float()
    P /= P.sum(1, keepdims=True)
    assert m.allclose(P.sum(1), m.ones(V))
    g = m.Generator().manual_seed(2147483647)
    names = []
    for _ in range(5):
        out, ix = [], 0
        while True:
            ix = m.multinomial(P[ix], num_samples=1, replacement=True, generator=g).item()
            out.append(itos[ix])
            if ix == 0:
                break
        names.append("".join(out))
    assert all(n.endswith(".") for n in names)
    # the loss of the counts model: the same number on both, the data being the same
    log_likelihood, n = 0.0, 0
    for w in words:
        cs = ["."] + list(w) + ["."]
        for ch1, ch2 in zip(cs, cs[1:]):
            log_likelihood += m.log(P[stoi[ch1], stoi[ch2]])
            n += 1
    nll = -log_likelihood / n
    assert abs(nll.item() - _bigram_nll(words)) < 1e-5


def _bigram_nll(words):
    chars = sorted(set("".join(words)))
    stoi = {s: i + 1 for i, s in enumerate(chars)}
    stoi["."] = 0
    N = np.zeros((len(stoi),) * 2)
    pairs = [(stoi[a], stoi[b]) for w in words for a, b in zip("." + w, w + ".")]
    for a, b in pairs:
        N[a, b] += 1
    P = (N + 1) / (N + 1).sum(1, keepdims=True)
    return -np.mean([np.log(np.float32(P[a, b])) for a, b in pairs])


@BOTH
def test_neural_bigram_training_loop(m):
    """makemore part 1's one-layer net: one_hot, logits.exp(), probs[arange, ys], W.data += -lr * W.grad."""
    F = _F(m)
    xs, ys = m.tensor([0, 5, 13, 13, 1]), m.tensor([5, 13, 13, 1, 0])
    W = m.tensor(np.random.default_rng(0).standard_normal((27, 27)).astype(np.float32), requires_grad=True)
    losses = []
    for _ in range(20):
        xenc = F.one_hot(xs, num_classes=27).float()
        logits = xenc @ W
        counts = logits.exp()
        probs = counts / counts.sum(1, keepdims=True)
        loss = -probs[m.arange(5), ys].log().mean() + 0.01 * (W ** 2).mean()
        W.grad = None
        loss.backward()
        W.data += -50 * W.grad
        losses.append(loss.item())
    assert losses[-1] < losses[0]
    test_neural_bigram_training_loop.results[m.__name__] = losses


test_neural_bigram_training_loop.results = {}


def test_neural_bigram_losses_agree():
    r = test_neural_bigram_training_loop.results
    if len(r) < 2:
        pytest.skip("runs after the two parametrized loops")
    np.testing.assert_allclose(r["tensorgrad"], r["torch"], rtol=1e-5)


@BOTH
def test_mlp_learning_rate_search_and_update_ratios(m):
    F = _F(m)
    lre = m.linspace(-3, 0, 1000)
    lrs = 10 ** lre
    assert lrs.shape == (1000,) and abs(lrs[0].item() - 1e-3) < 1e-9 and abs(lrs[-1].item() - 1) < 1e-6
    g = m.Generator().manual_seed(42)
    X = m.randint(0, 27, (32, 3), generator=g)
    Y = m.randint(0, 27, (32,), generator=g)
    C = m.randn((27, 10), generator=g)
    W1 = m.randn((30, 64), generator=g) * 0.2
    b1 = m.randn(64, generator=g) * 0.01
    W2 = m.randn((64, 27), generator=g) * 0.01
    b2 = m.randn(27, generator=g) * 0
    parameters = [C, W1, b1, W2, b2]
    for p in parameters:
        p.requires_grad = True
    ud, lossi = [], []
    for i in range(5):
        emb = C[X]
        h = m.tanh(emb.view(-1, 30) @ W1 + b1)
        logits = h @ W2 + b2
        loss = F.cross_entropy(logits, Y)
        for p in parameters:
            p.grad = None
        loss.backward()
        lr = lrs[900].item()
        for p in parameters:
            p.data += -lr * p.grad
        with m.no_grad():
            ud.append([((lr * p.grad).std() / p.data.std()).log10().item() for p in parameters])
        lossi.append(loss.log10().item())
    assert len(ud) == 5 and all(np.isfinite(v) for r in ud for v in r)
    assert lossi[-1] < lossi[0]
    assert (h.abs() > 0.99).float().mean().item() >= 0       # the saturation statistic of part 3


@BOTH
def test_part3_batchnorm_layer_idioms(m):
    """The lecture's own BatchNorm1d: running buffers updated under no_grad, .out kept for plots."""
    g = m.Generator().manual_seed(1)
    x = m.randn(32, 5, generator=g)
    gamma, beta = m.ones(5, requires_grad=True), m.zeros(5, requires_grad=True)
    running_mean, running_var = m.zeros(5), m.ones(5)
    xmean = x.mean(0, keepdim=True)
    xvar = x.var(0, keepdim=True)
    out = gamma * (x - xmean) / m.sqrt(xvar + 1e-5) + beta
    with m.no_grad():
        running_mean = 0.9 * running_mean + 0.1 * xmean
        running_var = 0.9 * running_var + 0.1 * xvar
    out.sum().backward()
    assert running_mean.shape == (1, 5) and not running_mean.requires_grad
    hy, hx = m.histogram(out.detach(), bins=10)
    assert hy.sum().item() == 160 and hx.shape == (11,)
    with m.no_grad():
        gamma *= 0.1                                           # the lecture scales the last layer
    assert abs(gamma[0].item() - 0.1) < 1e-7


@BOTH
def test_backprop_ninja_exercise_two_in_place(m):
    F = _F(m)
    rng = np.random.default_rng(3)
    logits = m.tensor(rng.standard_normal((8, 27)).astype(np.float32), requires_grad=True)
    Yb = m.tensor(rng.integers(0, 27, 8))
    loss = F.cross_entropy(logits, Yb)
    loss.backward()
    n = 8
    dlogits = F.softmax(logits, 1)
    if m is torch:
        dlogits = dlogits.clone()        # (torch's softmax saves its output and refuses the edit)
    dlogits[range(n), Yb] -= 1
    dlogits /= n
    exact, approx, maxdiff = cmp(m, dlogits, logits)
    assert approx and maxdiff < 1e-7
