"""The engine's fast paths give what the general ones give: promotion through the cached
dtype-pair table (which must see a change of the default dtype), Python ints as weak scalars."""
import numpy as np
import pytest
import torch

import tensorgrad as tg

CASES = [  # (dtype of x, the other operand): tensors, 0-d tensors, Python numbers
    (np.int64, 2.5), (np.int32, 3), (np.uint8, 300), (np.float16, 3), (np.float32, True), (np.int64, True),
    (np.float32, ("t", np.float64, ())), (np.int32, ("t", np.float16, (3,))), (np.bool_, ("t", np.int8, (3,))),
    (np.float64, ("t", np.float32, (3,))), (np.int16, ("t", np.uint8, ())),
]


def _operands(m, dtype, other):
    x = m.tensor(np.array([1, 2, 3]).astype(dtype))
    if isinstance(other, tuple):
        _, odt, shape = other
        other = m.tensor(np.full(shape, 2).astype(odt))
    return x, other


@pytest.mark.parametrize("default", [torch.float32, torch.float64])
@pytest.mark.parametrize("dtype,other", CASES)
def test_promotion_matches_torch_twice(dtype, other, default):
    """Twice: the second call reads the table the first one filled."""
    old_tg, old_torch = tg.get_default_dtype(), torch.get_default_dtype()
    tg.set_default_dtype(np.float32 if default == torch.float32 else np.float64)
    torch.set_default_dtype(default)
    try:
        for _ in range(2):
            for swap in (False, True):
                x, y = _operands(tg, dtype, other)
                xt, yt = _operands(torch, dtype, other)
                got = (y + x) if swap else (x + y)
                want = (yt + xt) if swap else (xt + yt)
                assert str(got.dtype) == str(want.dtype).replace("torch.", ""), (dtype, other, swap)
                np.testing.assert_allclose(got.numpy().astype(np.float64), want.numpy().astype(np.float64))
    finally:
        tg.set_default_dtype(old_tg)
        torch.set_default_dtype(old_torch)


def test_int_scalar_keeps_a_float_tensor_dtype_and_its_gradient():
    x = tg.tensor([1.0, 2.0], dtype=tg.float16, requires_grad=True)
    y = (x * 3 + 1 - 2 * x).sum()
    assert (x * 3).dtype == np.float16
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1, 1])


def _sliced_loss(m, a):
    """One base read through many slices (an RNN's x[:, t, :], attention's q, k, v split), overlapping ones,
    an advanced index with repeats and a slice of a slice."""
    x = m.tensor(a, requires_grad=True)
    y = x * 1.5
    parts = [y[:, t, :].tanh() * (t + 1) for t in range(y.shape[1])]
    q, k, v = y.split(2, dim=2)
    loss = sum(p.sum() for p in parts) + (q * k - v).sum() + (y[:, 1:4] ** 2).sum() + y[[0, 0, 2]].sum() \
        + y[1][2:].exp().sum()
    loss.backward()
    return x.grad


def test_slices_add_their_gradients_into_the_base_in_place_as_torch():
    """engine.backprop: the second and later slices of a base send their gradient straight into the
    base's (getitem's `into`), instead of a full-size zeros array each and a full-size add; the same
    gradient as torch's, and the replay (which does the same) the dynamic one's bit for bit."""
    from tensorgrad.ops import index
    a = np.random.default_rng(0).standard_normal((3, 6, 6)).astype(np.float32)
    calls, rule = [], index.getitem.backward
    index.getitem.backward = lambda *args, **kw: calls.append(1) or rule(*args, **kw)
    try:
        got = _sliced_loss(tg, a)
    finally:
        index.getitem.backward = rule
    np.testing.assert_allclose(got.numpy(), _sliced_loss(torch, a).numpy(), rtol=1e-5, atol=1e-6)
    assert len(calls) < 6                      # of 14 slices: the rule ran once per chain of slices
    step = tg.compile(lambda x: _replayed(x))
    for _ in range(3):                         # record, check, replay
        x = tg.tensor(a, requires_grad=True)
        step(x).backward()
        np.testing.assert_array_equal(x.grad.numpy(), _sliced_grad_dynamic(a))
    assert [getattr(op, "checked", None) for op in step.recordings.values()] == [True]     # it replayed


def _replayed(x):
    y = x * 1.5
    return sum(y[:, t, :].tanh().sum() * (t + 1) for t in range(y.shape[1])) + (y[:, 1:4] ** 2).sum()


def _sliced_grad_dynamic(a):
    x = tg.tensor(a, requires_grad=True)
    _replayed(x).backward()
    return x.grad.numpy()


def test_an_op_with_into_marks_only_input_0_and_must_read_nothing():
    """Op(into=): the engine adds in place only into input 0's gradient (the rule's fresh array); an
    op whose rule reads saved values cannot take the shortcut (it skips the node's checks)."""
    with pytest.raises(ValueError, match="into= is for an op whose rule reads nothing"):
        tg.Op("add_into_saving", lambda x, y: x + y, lambda g, out, x, y: (g.copy(), g), into=lambda b, g: None)
    op = tg.Op("add_into", lambda x, y: x + y, lambda g, out, x, y: (g.copy(), g), saves="",
               into=lambda buf, g: np.add(buf, g, out=buf))
    x, y = tg.tensor(np.ones(3), requires_grad=True), tg.tensor(np.ones(3), requires_grad=True)
    a, b = x * 1, y * 1
    c = b * 3                                  # an older use of b: its gradient is added to b's later
    z = op(a, b)
    z.retain_grad()
    ((z * tg.tensor([1.0, 2.0, 3.0])).sum() + c.sum()).backward()
    np.testing.assert_array_equal(z.grad.numpy(), [1, 2, 3])      # not written through b's gradient
    np.testing.assert_array_equal(y.grad.numpy(), [4, 5, 6])
    np.testing.assert_array_equal(x.grad.numpy(), [1, 2, 3])


@pytest.mark.parametrize("shape", [(5, 3), (5, 2, 3)])
def test_linear_bias_gradient_summed_in_its_rule_also_under_create_graph(shape):
    """ops.linear sums b's gradient in its rule (the sum op): second derivatives through it as torch's."""
    rng = np.random.default_rng(0)
    X, W, B = rng.standard_normal(shape), rng.standard_normal((4, 3)), rng.standard_normal(4)
    got = []
    for m in (tg, torch):
        x, w, b = (m.tensor(a, requires_grad=True) for a in (X, W, B))
        gx, gw, gb = m.autograd.grad((m.nn.functional.linear(x, w, b) ** 2).sum(), (x, w, b), create_graph=True)
        (gb.sum() * gw.sum() + (gx ** 2).sum()).backward()
        got.append([t.grad.numpy() for t in (x, w, b)])
    for a, b in zip(*got):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rows", ["near", "far", "masked", "nan", "inf"])
def test_short_rows_shifted_by_one_max_match_torch(dtype, rows):
    """Many short rows (attention's) shift by the max of all: rows far below it, rows of only -inf, NaN and +inf
    fall back to each row's own max; values, gradients and the cross-entropy as torch's."""
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal((8, 4, 16, 16)) * 3
    if rows == "far":
        x0[0] += 200.0                                      # every other row is far below the max of all
    elif rows == "masked":
        x0 = np.where(np.tril(np.ones((16, 16), bool)), x0, -np.inf)
        x0[1, 2, 3] = -np.inf                               # a row of only -inf: NaN, as torch
    elif rows == "nan":
        x0[2, 1, 5, 7] = np.nan
    elif rows == "inf":
        x0[3, 0, 2, 9] = np.inf
    x0 = x0.astype(dtype)
    g0 = rng.standard_normal(x0.shape).astype(dtype)
    out = []
    for m in (tg, torch):
        x = m.tensor(x0, requires_grad=True)
        y = x.softmax(-1)
        y.backward(m.tensor(g0))
        ce = m.nn.functional.cross_entropy(m.tensor(x0.reshape(-1, 16)), m.tensor(np.arange(x0.size // 16) % 16))
        out.append([np.asarray(t.detach().numpy()) for t in (y, x.grad, ce)])
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for a, b in zip(*out):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


@pytest.mark.parametrize("key", ["arange-first", "arange-second", "max-gather", "repeats"])
def test_a_scatter_that_picks_each_place_once_adds_as_torch(key):
    """The gradient of x[arange(n), y] (and of max along a dim) is a plain add where no place is picked
    twice; a key that repeats places still sums every repeat."""
    rng = np.random.default_rng(1)
    n = 3000                                              # past SCATTER_MIN: not np.add.at
    x0, y = rng.standard_normal((n, 27)), rng.integers(0, 27, n)
    g0 = rng.standard_normal(n)
    grads = []
    for m in (tg, torch):
        x = m.tensor(x0, requires_grad=True)
        if key == "arange-first":
            out = x[m.arange(n), m.tensor(y)]
        elif key == "arange-second":
            out = x.T[m.tensor(y), m.arange(n)]
        elif key == "max-gather":
            out = x.max(1).values
        else:
            out = x[m.tensor(y % 5), m.tensor(y % 7)]
        out.backward(m.tensor(g0))
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape", [(32, 27), (32, 200), (4, 8, 27)])
def test_a_hand_written_sum_equals_the_engines_unbroadcast(shape):
    """Backprop Ninja's check: db = dlogits.sum(0) written with tensorgrad's sum equals b.grad bit for bit
    (below 16,384 values both are NumPy's sum, in one order)."""
    rng = np.random.default_rng(3)
    x = tg.tensor(rng.standard_normal(shape).astype(np.float32))
    b = tg.tensor(rng.standard_normal(shape[-1:]).astype(np.float32), requires_grad=True)
    g = tg.tensor(rng.standard_normal(shape).astype(np.float32))
    ((x + b) * g).sum().backward()
    hand = g.sum(tuple(range(len(shape) - 1)))
    assert np.array_equal(b.grad.numpy(), hand.numpy())


def test_a_slice_of_a_0d_tensor_adds_into_a_sum_of_0d_gradients():
    """A sum of two 0-d gradients is a NumPy scalar, not an array to add into: the slice's rule runs."""
    for replay in (False, True):
        x = tg.tensor(2.0, requires_grad=True)

        def f(x):
            b = x * 1
            return b[...] + b * 3 + b * 5
        g = tg.compile(f) if replay else f
        for _ in range(3 if replay else 1):
            x.grad = None
            g(x).backward()
            assert x.grad.item() == 9.0


def test_a_rule_with_needs_gets_which_inputs_need_a_gradient_dynamic_and_replayed():
    """Op(..., needs=True): the rule gets needs=, a bool per input (torch's ctx.needs_input_grad), from
    the engine's walk and from tg.compile's replay alike, and may return None for the others."""
    seen = []

    def rule(g, out, x, y, needs):
        seen.append(needs)
        return (g * y if needs[0] else None), (g * x if needs[1] else None)

    probe = tg.op("probe_needs", backward=rule, needs=True)(lambda x, y: x * y)
    a, b = tg.tensor([1.0, 2.0], requires_grad=True), tg.tensor([3.0, 4.0])
    probe(a, b).sum().backward()
    probe(b, a).sum().backward()
    assert seen == [(True, False), (False, True)]
    np.testing.assert_array_equal(a.grad.numpy(), [6.0, 8.0])
    f = tg.compile(lambda x: probe(b, x).sum())
    for _ in range(3):                                  # record, check, replay
        f(a).backward()
    assert seen[2:] == [(False, True)] * 3
    np.testing.assert_array_equal(a.grad.numpy(), [15.0, 20.0])


@pytest.mark.parametrize("compiled", [False, True])
def test_a_first_layer_on_data_computes_no_input_gradient(compiled):
    """linear and matmul skip x's gradient when x is data (torch does too): the weights' gradients are
    torch's, and the rule is handed needs=(False, True, True)."""
    import torch
    rng = np.random.default_rng(0)
    x, w, bias = rng.standard_normal((6, 5)), rng.standard_normal((3, 5)), rng.standard_normal(3)
    wt, bt = torch.tensor(w, requires_grad=True), torch.tensor(bias, requires_grad=True)
    (torch.nn.functional.linear(torch.tensor(x), wt, bt) @ torch.tensor(w)).square().sum().backward()
    W, B = tg.tensor(w, requires_grad=True), tg.tensor(bias, requires_grad=True)
    loss = lambda X: (tg.nn.functional.linear(X, W, B) @ tg.tensor(w)).square().sum()
    step = tg.compile(loss) if compiled else loss
    calls = []
    real = tg.ops.linear.backward
    tg.ops.linear.backward = lambda *a, **kw: calls.append(kw["needs"]) or real(*a, **kw)
    try:
        for _ in range(3 if compiled else 1):
            W.grad = B.grad = None
            step(tg.tensor(x)).backward()
    finally:
        tg.ops.linear.backward = real
    assert calls and set(calls) == {(False, True, True)}
    np.testing.assert_allclose(W.grad.numpy(), wt.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(B.grad.numpy(), bt.grad.numpy(), rtol=1e-12)
