"""tg.compile replays random draws as draws: dropout (F.dropout, nn.Dropout, SDPA's dropout_p) and the
random factories get fresh numbers from the generator at every replay, so a seeded replayed run
equals the dynamic one bit for bit (losses, every .grad, the weights) and leaves the generator in
the same state."""
import warnings

import numpy as np
import pytest

import tensorgrad as tg

nn, F = tg.nn, tg.nn.functional
VOCAB, BLOCK, EMBD, HEADS, LAYERS, DROP = 13, 8, 16, 2, 2, 0.2


# ----------------------------------------------------------------------------
# the GPT lecture's model (ng-video-lecture gpt.py), small: dropout after the attention weights of
# every head, after the projection, and at the end of the feed-forward net

class Head(nn.Module):
    """One head of causal self-attention, written out as in the lecture."""

    def __init__(self, head_size):
        super().__init__()
        self.key = nn.Linear(EMBD, head_size, bias=False)
        self.query = nn.Linear(EMBD, head_size, bias=False)
        self.value = nn.Linear(EMBD, head_size, bias=False)
        self.register_buffer("tril", tg.tril(tg.ones(BLOCK, BLOCK)))
        self.dropout = nn.Dropout(DROP)

    def forward(self, x):
        B, T, C = x.shape
        k, q = self.key(x), self.query(x)                                   # (B, T, hs)
        wei = q @ k.transpose(-2, -1) * k.shape[-1] ** -0.5                 # (B, T, T)
        wei = wei.masked_fill(self.tril[:T, :T] == 0, float("-inf"))
        wei = self.dropout(F.softmax(wei, dim=-1))
        return wei @ self.value(x)                                          # (B, T, hs)


class FusedHeads(nn.Module):
    """All heads at once through scaled_dot_product_attention, its dropout_p in training (nanoGPT's way)."""

    def __init__(self):
        super().__init__()
        self.c_attn = nn.Linear(EMBD, 3 * EMBD, bias=False)

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(EMBD, dim=2)                         # 3 x (B, T, C)
        q, k, v = [t.view(B, T, HEADS, C // HEADS).transpose(1, 2) for t in (q, k, v)]   # (B, H, T, hs)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=DROP if self.training else 0.0)
        return y.transpose(1, 2).contiguous().view(B, T, C)


class MultiHeadAttention(nn.Module):
    def __init__(self, fused):
        super().__init__()
        self.heads = FusedHeads() if fused else nn.ModuleList([Head(EMBD // HEADS) for _ in range(HEADS)])
        self.proj = nn.Linear(EMBD, EMBD)
        self.dropout = nn.Dropout(DROP)

    def forward(self, x):
        out = self.heads(x) if isinstance(self.heads, FusedHeads) else tg.cat([h(x) for h in self.heads], dim=-1)
        return self.dropout(self.proj(out))


class Block(nn.Module):
    def __init__(self, fused):
        super().__init__()
        self.sa = MultiHeadAttention(fused)
        self.ffwd = nn.Sequential(nn.Linear(EMBD, 4 * EMBD), nn.ReLU(), nn.Linear(4 * EMBD, EMBD), nn.Dropout(DROP))
        self.ln1, self.ln2 = nn.LayerNorm(EMBD), nn.LayerNorm(EMBD)

    def forward(self, x):
        x = x + self.sa(self.ln1(x))
        return x + self.ffwd(self.ln2(x))


class GPT(nn.Module):
    def __init__(self, fused=False):
        super().__init__()
        self.token_embedding_table = nn.Embedding(VOCAB, EMBD)
        self.position_embedding_table = nn.Embedding(BLOCK, EMBD)
        self.blocks = nn.Sequential(*[Block(fused) for _ in range(LAYERS)])
        self.ln_f = nn.LayerNorm(EMBD)
        self.lm_head = nn.Linear(EMBD, VOCAB)

    def forward(self, idx, targets):
        B, T = idx.shape
        x = self.token_embedding_table(idx) + self.position_embedding_table(tg.arange(T))   # (B, T, C)
        logits = self.lm_head(self.ln_f(self.blocks(x)))                                      # (B, T, VOCAB)
        return logits, F.cross_entropy(logits.view(B * T, VOCAB), targets.view(B * T))


def _train(compiled, fused, steps=8, seed=1337):
    """Train the small GPT from seed: (losses, each step's gradients, the weights, generator state, step fn)."""
    tg.manual_seed(seed)
    model = GPT(fused)
    optimizer = tg.optim.AdamW(model.parameters(), lr=1e-2)
    step = (lambda X, Y: model(X, Y)[1])
    if compiled:
        step = tg.compile(step)
    rng = np.random.default_rng(0)
    losses, grads = [], []
    model.train()
    for i in range(steps):
        B = 4 if i < steps - 2 else 3                     # the last batches are smaller: recorded again
        X = tg.tensor(rng.integers(0, VOCAB, (B, BLOCK)))
        Y = tg.tensor(rng.integers(0, VOCAB, (B, BLOCK)))
        loss = step(X, Y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        grads.append([p.grad.numpy().copy() for p in model.parameters()])
    return losses, grads, [p.numpy().copy() for p in model.parameters()], tg.get_rng_state(), step


@pytest.mark.parametrize("fused", [False, True], ids=["heads", "sdpa"])
def test_the_gpt_lectures_model_with_dropout_replays_bit_for_bit(fused):
    with warnings.catch_warnings():
        warnings.simplefilter("error")                    # no "runs uncompiled" warning
        dynamic = _train(False, fused)
        replayed = _train(True, fused)
    assert replayed[0] == dynamic[0]
    for step, (a, b) in enumerate(zip(dynamic[1], replayed[1])):
        for k, (ga, gb) in enumerate(zip(a, b)):
            assert np.array_equal(ga, gb), (step, k)
    for a, b in zip(dynamic[2], replayed[2]):
        assert np.array_equal(a, b)
    assert replayed[3] == dynamic[3]                      # the generator drew as much, in the same order
    step = replayed[4]
    assert [type(r).__name__ for r in step.recordings.values()] == ["_ReplayOp", "_ReplayOp"]
    assert all(r.checked for r in step.recordings.values())    # 4 replays of the first batch shape


def test_each_replay_draws_a_fresh_mask_and_follows_the_seed():
    x = tg.ones(6, 5, requires_grad=True)
    drop = nn.Dropout(0.5)
    f = tg.compile(lambda x: drop(x) * 1.0)
    masks = [f(x).numpy() for _ in range(5)]              # record, record again (check), 3 replays
    assert all(not np.array_equal(masks[i], masks[i + 1]) for i in range(4))
    tg.manual_seed(7)
    a = f(x).numpy()
    tg.manual_seed(7)
    assert np.array_equal(f(x).numpy(), a)                # a replay reads the generator's current state
    tg.manual_seed(7)
    assert np.array_equal(drop(x).numpy(), a)             # the dynamic draw


def test_a_generator_of_its_own_is_followed_and_reseeding_it_is_seen():
    g = tg.Generator().manual_seed(3)
    x = tg.randn(4, 6, dtype=np.float64, requires_grad=True)

    def fn(x):
        return F.dropout(x, 0.3, generator=g).tanh().sum()
    f = tg.compile(fn)
    got = []
    for _ in range(4):
        g.manual_seed(3)                                 # Generator.manual_seed makes a new NumPy generator
        out = f(x)
        x.grad = None
        out.backward()
        got.append((out.item(), x.grad.numpy().copy()))
    g.manual_seed(3)
    want = fn(x)
    x.grad = None
    want.backward()
    for value, grad in got:
        assert value == want.item() and np.array_equal(grad, x.grad.numpy())
    state = tg.get_rng_state()
    f(x)
    assert tg.get_rng_state() == state                   # the global generator is not touched


def _draws(x, w):
    """Every random factory, some on values computed inside (normal's mean, bernoulli's probabilities)."""
    mean = x.sum(1)                                                    # (4,)
    probs = x.sigmoid().detach()
    y = (x * tg.rand(4, 3) + tg.randn(4, 3, dtype=np.float64) * tg.rand_like(x) + tg.randn_like(x)
         + tg.normal(mean.detach().unsqueeze(1), 0.5, size=(4, 3)) + tg.bernoulli(probs) + probs.bernoulli(0.5))
    picks = tg.multinomial(w.softmax(-1).detach(), 2) + tg.randint(0, 3, (4, 2)) + tg.randperm(2)   # (4, 2)
    return (y.gather(1, picks % 3) * tg.randint_like(picks, 1, 4)).sum()


def test_the_random_factories_are_replayed_as_draws():
    x = tg.tensor(np.random.default_rng(0).standard_normal((4, 3)), requires_grad=True)
    w = tg.tensor(np.random.default_rng(1).standard_normal((4, 5)))
    runs = []
    for fn in (_draws, tg.compile(_draws)):
        tg.manual_seed(11)
        outs = []
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            for _ in range(5):
                x.grad = None
                out = fn(x, w)
                out.backward()
                outs.append((out.item(), x.grad.numpy().copy()))
        runs.append((outs, tg.get_rng_state()))
    (dynamic, state_d), (replayed, state_r) = runs
    assert state_d == state_r
    for (a, ga), (b, gb) in zip(dynamic, replayed):
        assert a == b and np.array_equal(ga, gb)
    assert len({a for a, _ in replayed}) == 5             # fresh numbers each call


def test_the_draw_ops_are_the_factories_numbers():
    """A draw is an op: the same numbers as drawing from the generator's NumPy stream directly."""
    g = tg.Generator().manual_seed(4)
    rng = np.random.default_rng(4)
    assert np.array_equal(tg.rand(2, 3, generator=g).numpy(), rng.random((2, 3)).astype(np.float32))
    assert np.array_equal(tg.randint(0, 9, (5,), generator=g).numpy(), rng.integers(0, 9, 5))
    mask = F.dropout(tg.ones(3, 4, dtype=np.float64), 0.25, generator=g).numpy()
    bits = rng.bit_generator.random_raw(6).view(np.uint32).reshape(3, 4)      # dropout: raw 32-bit draws
    assert np.array_equal(mask, (bits < 0.75 * 2 ** 32) / 0.75)
    assert tg.rand(2).grad_fn is None and tg.rand(2)._op == ""          # no gradient, no node
    assert not F.dropout(tg.ones(3), 1.0).numpy().any()


def test_a_leaf_made_inside_is_not_replayed():
    f = tg.compile(lambda x: (x * tg.rand(3, requires_grad=True)).sum())
    x = tg.ones(3)
    with pytest.warns(UserWarning, match="leaf tensor that requires grad"):
        f(x)
    f(x).backward()                                       # dynamic from then on


@pytest.mark.parametrize("layer", ["mha", "mha-weights", "gru"])
def test_layers_with_dropout_replay_bit_for_bit(layer):
    """nn.MultiheadAttention's dropout (through SDPA, or F.dropout on the returned weights) and the GRU's
    dropout between layers, each with a generator of its own."""
    runs = []
    for compiled in (False, True):
        tg.manual_seed(0)
        g = tg.Generator().manual_seed(9)
        if layer == "gru":
            net = nn.GRU(4, 6, num_layers=2, dropout=0.4, batch_first=True, generator=g).double()
            fn = lambda x: net(x)[0].square().mean()                                    # noqa: E731
        else:
            net = nn.MultiheadAttention(4, 2, dropout=0.4, batch_first=True, generator=g).double()
            weights = layer == "mha-weights"
            fn = lambda x: net(x, x, x, need_weights=weights)[0].square().mean()        # noqa: E731
        step = tg.compile(fn) if compiled else fn
        rng = np.random.default_rng(2)
        seen = []
        for _ in range(5):
            x = tg.tensor(rng.standard_normal((3, 5, 4)))
            loss = step(x)
            net.zero_grad()
            loss.backward()
            seen += [loss.item()] + [p.grad.numpy().copy() for p in net.parameters()]
        runs.append((seen, g.get_state()))
        if compiled:
            assert all(type(r).__name__ == "_ReplayOp" and r.checked for r in step.recordings.values())
    assert runs[0][1] == runs[1][1]
    for a, b in zip(runs[0][0], runs[1][0]):
        assert np.array_equal(a, b)
