"""Property-based: random compositions of ops on random broadcastable shapes, against torch."""
import numpy as np
import torch
from hypothesis import given, settings, strategies as st

import tensorgrad as tg

# each step takes (m, a, b) -> new value; `a` is the running value, `b` a fresh input
UNARY = {
    "tanh": lambda m, a: a.tanh(),
    "exp": lambda m, a: a.clamp(-3, 3).exp(),
    "sigmoid": lambda m, a: a.sigmoid(),
    "square": lambda m, a: a * a,
    "relu": lambda m, a: a.relu(),
    "log1p_abs": lambda m, a: (a.abs() + 1).log(),
    "sqrt": lambda m, a: (a * a + 0.5).sqrt(),
    "softmax_last": lambda m, a: m.softmax(a, -1),
    "sum_last_keep": lambda m, a: a.sum(-1, keepdim=True),
    "mean_first_keep": lambda m, a: a.mean(0, keepdim=True),
    "amax_last_keep": lambda m, a: a.amax(-1, keepdim=True),
    "var_last_keep": lambda m, a: a.var(-1, keepdim=True, unbiased=False),
}
BINARY = {
    "add": lambda m, a, b: a + b,
    "sub": lambda m, a, b: a - b,
    "mul": lambda m, a, b: a * b,
    "div": lambda m, a, b: a / (b * b + 1),
    "maximum": lambda m, a, b: m.maximum(a, b),
    "where": lambda m, a, b: m.where(a > b, a, b * 2),
}


@st.composite
def programs(draw):
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=ndim, max_size=ndim)))

    def broadcastable():  # drop leading dims, set some to 1
        k = draw(st.integers(0, ndim))
        return tuple(1 if draw(st.booleans()) else n for n in shape[k:])

    steps = draw(st.lists(st.one_of(st.sampled_from(sorted(UNARY)),
                                    st.tuples(st.sampled_from(sorted(BINARY)), st.just(None))),
                          min_size=1, max_size=6))
    shapes = [broadcastable() if isinstance(s, tuple) else None for s in steps]
    seed = draw(st.integers(0, 2**31 - 1))
    return shape, steps, shapes, seed


def run(m, x, inputs, steps):
    a, k = x, 0
    for s in steps:
        if isinstance(s, tuple):
            a, k = BINARY[s[0]](m, a, inputs[k]), k + 1
        else:
            a = UNARY[s](m, a)
    return a


@settings(max_examples=60, deadline=None)
@given(programs())
def test_random_compositions_match_torch(program):
    shape, steps, shapes, seed = program
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    extra = [rng.standard_normal(s) for s in shapes if s is not None]
    ours = [tg.tensor(a, requires_grad=True) for a in [x] + extra]
    theirs = [torch.tensor(a, requires_grad=True) for a in [x] + extra]
    out, ref = run(tg, ours[0], ours[1:], steps), run(torch, theirs[0], theirs[1:], steps)
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-9, atol=1e-11)
    g = rng.standard_normal(out.shape)
    out.backward(g)
    ref.backward(torch.tensor(g))
    for a, b in zip(ours, theirs):
        want = np.zeros(a.shape) if b.grad is None else b.grad.numpy()
        got = np.zeros(a.shape) if a.grad is None else a.grad
        np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-10)
