"""torch's tensor semantics (issue 9): each case is written as the torch idiom a user writes,
run on tensorgrad and on torch, and compared: values, gradients, dtypes, and torch's errors."""
import numpy as np
import pytest
import torch

import tensorgrad as tg


def run_both(program, *arrays):
    """program(m, *tensors) on tensorgrad and on torch; returns both results."""
    return program(tg, *[tg.tensor(a) for a in arrays]), program(torch, *[torch.tensor(a) for a in arrays])


def same(a, b, tol=1e-6):
    b = b.detach().numpy() if isinstance(b, torch.Tensor) else np.asarray(b)
    np.testing.assert_allclose(np.asarray(a), b, rtol=tol, atol=tol)


# --- .grad and .data are Tensors ------------------------------------------------------------

def test_grad_and_data_are_tensors():
    w = tg.randn(3, requires_grad=True)
    assert w.grad is None
    (w * w).sum().backward()
    assert isinstance(w.grad, tg.Tensor) and w.grad.shape == w.shape and w.grad.dtype == w.dtype
    assert not w.grad.requires_grad and isinstance(w.data, tg.Tensor) and not w.data.requires_grad
    assert np.shares_memory(w.data.numpy(), w.numpy())
    w.grad.zero_()
    assert w.grad.tolist() == [0.0, 0.0, 0.0]
    w.grad = None
    assert w.grad is None
    with pytest.raises(TypeError, match="Tensor or None"):
        w.grad = np.zeros(3)


@pytest.mark.parametrize("update", ["data", "no_grad"])
def test_sgd_updates_change_the_weights_as_torch(update):
    rng = np.random.default_rng(0)
    w0, x = rng.standard_normal((4, 3)), rng.standard_normal((5, 4))
    results = []
    for m in (tg, torch):
        w = m.tensor(w0, requires_grad=True)
        for _ in range(3):
            loss = (m.tensor(x) @ w).tanh().sum()
            w.grad = None
            loss.backward()
            if update == "data":
                w.data += -0.1 * w.grad
            else:
                with m.no_grad():
                    w -= 0.1 * w.grad
        assert w.is_leaf and w.requires_grad
        results.append(w.detach().numpy().copy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12)


def test_data_std_is_unbiased_as_torch():
    a = np.array([1.0, 2.0, 4.0])
    assert tg.tensor(a, requires_grad=True).data.std().item() == pytest.approx(torch.tensor(a).std().item())


def test_assigning_data_replaces_the_storage():
    w = tg.zeros(2, requires_grad=True)
    w.data = tg.ones(3)
    assert w.tolist() == [1.0, 1.0, 1.0] and w.requires_grad and w.is_leaf


def test_numpy_shares_memory():
    t = tg.zeros(3)
    t.numpy()[0] = 5
    assert t[0].item() == 5


# --- in-place ops -----------------------------------------------------------------------------

def test_in_place_ops_are_seen_by_every_alias():
    x = tg.ones(3)
    y = x
    x += 1
    assert y.tolist() == [2.0, 2.0, 2.0] and y is x
    v = x[1:]                     # a view
    v *= 10
    assert x.tolist() == [2.0, 20.0, 20.0]
    x.view(3, 1)[0, 0] = -1
    assert x[0].item() == -1 and x._version == 3


def test_in_place_on_a_leaf_that_requires_grad_is_refused():
    w = tg.randn(3, requires_grad=True)
    for edit in (lambda: w.__iadd__(1), lambda: w.add_(1), lambda: w.__setitem__(0, 1.0), lambda: w.zero_()):
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
            edit()
    with pytest.raises(RuntimeError, match="view of a leaf Variable"):
        w[:2].mul_(2)
    with tg.no_grad():
        w.mul_(2)                 # an update: allowed
    assert w.is_leaf


def test_exercise_two_edits_softmax_in_place():
    """The lecture's dlogits = softmax(logits); dlogits[range(n), Yb] -= 1; dlogits /= n."""
    rng = np.random.default_rng(1)
    logits0, Yb = rng.standard_normal((6, 5)), np.array([0, 4, 4, 1, 2, 3])
    out = []
    for m in (tg, torch):
        logits = m.tensor(logits0, requires_grad=True)
        dlogits = m.softmax(logits, 1)
        dlogits = dlogits if m is tg else dlogits.clone()    # (torch's softmax refuses edits to its output)
        dlogits[range(6), Yb] -= 1
        dlogits /= 6
        out.append(dlogits)
    same(out[0], out[1], 1e-12)
    logits = torch.tensor(logits0, requires_grad=True)
    torch.nn.functional.cross_entropy(logits, torch.tensor(Yb)).backward()
    same(out[0], logits.grad, 1e-12)          # the lecture's point: that is dloss/dlogits


def test_a_value_written_into_a_buffer_carries_its_gradient():
    rng = np.random.default_rng(2)
    w0 = rng.standard_normal(3)
    grads = []
    for m in (tg, torch):
        w = m.tensor(w0, requires_grad=True)
        buf = m.zeros(3, dtype=m.float64)
        buf[0] = (w * 3)[0]
        assert buf.requires_grad
        (buf * m.tensor([2.0, 5.0, 7.0], dtype=m.float64)).sum().backward()
        grads.append(w.grad)
    same(grads[0], grads[1], 0)


def test_in_place_ops_match_torch_values_and_gradients():
    rng = np.random.default_rng(3)
    x0, y0 = rng.standard_normal((3, 4)), rng.standard_normal(4)

    def program(m, x, y):
        h = x * 1.5
        h += y
        h[0] *= 2
        h[:, 1:3] -= y[:2]
        h.clamp_(-1.5, 1.5)
        h.masked_fill_(h > 1.2, 0.25)
        h /= 2
        h.pow_(2)
        h.sub_(y, alpha=0.5)
        h.index_add_(0, m.tensor([0, 2, 0]), x)
        return (h * h).sum()

    grads = []
    for m in (tg, torch):
        x, y = m.tensor(x0, requires_grad=True), m.tensor(y0, requires_grad=True)
        loss = program(m, x, y)
        loss.backward()
        grads.append((loss, x.grad, y.grad))
    for a, b in zip(*grads):
        same(a, b, 1e-12)


def test_writes_through_an_alias_are_caught_as_torch():
    cases = {
        "detach": lambda m, x: x.detach().__setitem__(0, 10.0),
        "data": lambda m, x: x.data.__setitem__(0, 10.0),
        "slice": lambda m, x: x[1:].mul_(2),
        "view": lambda m, x: x.view(2, 2).add_(1),
    }
    for name, write in cases.items():
        x = tg.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
        h = x * 1
        y = (h * h).sum()             # mul saved h
        write(tg, h)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.backward()


def test_a_write_after_an_op_that_saved_nothing_is_fine():
    for m in (tg, torch):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        h = x * 1
        y = (h + 1).sum()             # add saves nothing
        h.add_(5)
        y.backward()
        assert x.grad.tolist() == [1.0, 1.0]


def test_second_backward_through_ops_that_saved_nothing():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = x + 1
    y.sum().backward()
    y.sum().backward()                # add's rule reads nothing, as torch
    assert x.grad.tolist() == [2.0, 2.0]
    z = x * 2
    z.sum().backward()
    with pytest.raises(RuntimeError, match="second time"):
        z.sum().backward()            # mul saved its inputs, and they were freed: torch raises too


def test_in_place_result_dtype_rules():
    i = tg.tensor([1, 2, 3])
    with pytest.raises(RuntimeError, match="can't be cast"):
        i /= 2                        # torch: result type Float can't be cast to Long
    i += 2
    f = tg.zeros(2, dtype=tg.float32)
    f += tg.tensor([1.0, 2.0], dtype=tg.float64)
    assert f.dtype == tg.float32 and f.tolist() == [1.0, 2.0]
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        f += tg.ones(2, 2)
    e = tg.ones(3).expand(2, 3)
    with pytest.raises(RuntimeError, match="single memory location"):
        e.add_(1)


def test_random_fills_take_a_generator():
    a, b = tg.zeros(1000), tg.zeros(1000)
    a.normal_(2.0, 0.5, generator=tg.Generator().manual_seed(1))
    b.normal_(2.0, 0.5, generator=tg.Generator().manual_seed(1))
    assert a.tolist() == b.tolist() and abs(a.mean().item() - 2) < 0.1 and abs(a.std().item() - 0.5) < 0.05
    u = tg.empty(500) if hasattr(tg, "empty") else tg.zeros(500)
    u.uniform_(-1, 1)
    assert -1 <= u.min().item() and u.max().item() < 1


# --- Python protocols and spellings ----------------------------------------------------------------

def test_python_number_protocols():
    t, i = tg.tensor(2.5), tg.tensor(3)
    assert float(t) == 2.5 and int(t) == 2 and bool(t) and f"{t:.3f}" == "2.500" and "%.2f" % t == "2.50"
    assert [10, 20, 30, 40][i] == 40 and list(range(5))[tg.tensor(1):i] == [1, 2]
    assert f"{tg.tensor([1.5]):.1f}" == "1.5"
    with pytest.raises(TypeError):
        [1, 2][tg.tensor(1.0)]


def test_operators_as_torch():
    a = np.array([-3.5, -1.0, 0.5, 2.0, 7.25])
    progs = [lambda m, x: abs(x), lambda m, x: x // 2, lambda m, x: x % 2, lambda m, x: -x % 3,
             lambda m, x: ~(x > 0), lambda m, x: (x > 0) & (x < 3), lambda m, x: (x > 0) | (x < -2),
             lambda m, x: (x > 0) ^ (x > 1), lambda m, x: x.all(), lambda m, x: (x > -5).all(),
             lambda m, x: x.any(), lambda m, x: m.all(x > 0), lambda m, x: m.any(x > 7)]
    for p in progs:
        ours, theirs = run_both(p, a)
        same(ours, theirs, 0)
        assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "").replace("bool", "bool")


def test_torch_spellings():
    x = tg.randn(2, 3)
    assert x.t().shape == (3, 2) and x.T.shape == (3, 2) and x.int().dtype == tg.int32
    assert x.bool().dtype == tg.bool and x.half().dtype == tg.float16 and x.long().dtype == tg.long
    assert x.nelement() == 6 and x.element_size() == 4 and x.cpu() is x and x.to("cpu") is x
    assert x.to(device="cpu", dtype=tg.float64).dtype == tg.float64 and x.to(tg.float64).dtype == tg.float64
    assert str(x.device) == "cpu" and x.device == tg.device("cpu") and x.dtype == tg.float32
    assert x.add(1).tolist() == (x + 1).tolist() and x.mul(2).tolist() == (x * 2).tolist()
    assert x.sub(x).abs().sum().item() == 0 and x.div(2).tolist() == (x / 2).tolist()
    assert x.matmul(x.t()).shape == (2, 2) and x.pow(2).tolist() == (x ** 2).tolist()
    assert x.reshape(shape=(3, 2)).shape == (3, 2) and x.permute(dims=(1, 0)).shape == (3, 2)
    assert x[0].expand(size=(4, 3)).shape == (4, 3)
    for bad in (lambda: x.cuda(), lambda: x.to("cuda")):
        with pytest.raises(RuntimeError, match="CPU"):
            bad()
    assert not tg.cuda.is_available()


def test_dtypes_are_accepted_everywhere():
    for dt in (tg.float32, tg.float64, tg.float16, tg.int64, tg.long, tg.int32, tg.int8, tg.uint8, tg.bool):
        assert tg.zeros(2, dtype=dt).dtype == dt and tg.tensor([1, 0], dtype=dt).dtype == dt
        assert tg.ones(2).to(dt).dtype == dt
    with pytest.raises(TypeError, match="expected a dtype"):
        tg.ones(2).astype("cpu")


# --- indexing as torch ----------------------------------------------------------------------------------

@pytest.mark.parametrize("key", [
    lambda m: (0, slice(None), [0, 2]), lambda m: (slice(None), 0, [0, 2]), lambda m: ([0, 1], slice(None), 0),
    lambda m: (Ellipsis, [1, 0]), lambda m: (1, Ellipsis, [0, 3]), lambda m: (m.tensor(1), slice(None), m.tensor([0, 2])),
    lambda m: ([0, 2], [1, 1]), lambda m: (None, 0, slice(1, 3), [4, 0]), lambda m: (slice(None), [1], [2, 3]),
])
def test_advanced_index_dims_go_where_torch_puts_them(key):
    a = np.arange(60.0).reshape(3, 4, 5)
    ours = tg.tensor(a, requires_grad=True)
    theirs = torch.tensor(a, requires_grad=True)
    o, t = ours[key(tg)], theirs[key(torch)]
    assert o.shape == tuple(t.shape)
    same(o, t, 0)
    g = np.random.default_rng(0).standard_normal(o.shape)
    o.backward(g)
    t.backward(torch.tensor(g))
    same(ours.grad, theirs.grad, 0)
    z, zt = tg.zeros(3, 4, 5), torch.zeros(3, 4, 5, dtype=torch.float64)
    z[key(tg)] = 1.0
    zt[key(torch)] = 1.0
    same(z, zt, 0)


def test_uint8_and_bool_tensors_are_masks():
    a = np.arange(6.0)
    mask = np.array([1, 0, 1, 1, 0, 0], np.uint8)
    assert tg.tensor(a)[tg.tensor(mask)].tolist() == [0.0, 2.0, 3.0]
    assert tg.tensor(a)[tg.tensor(mask.astype(bool))].tolist() == [0.0, 2.0, 3.0]
    z = tg.tensor(a)
    z[tg.tensor(mask.astype(bool))] = -1
    assert z.tolist() == [-1.0, 1.0, -1.0, -1.0, 4.0, 5.0]


# --- dtype promotion as torch --------------------------------------------------------------------------

@pytest.mark.parametrize("program", [
    lambda m, f, d, i: f * d.sum(), lambda m, f, d, i: f / d.sum(), lambda m, f, d, i: f ** np.float64(2),
    lambda m, f, d, i: i.sqrt(), lambda m, f, d, i: m.maximum(i, f), lambda m, f, d, i: m.minimum(f, i),
    lambda m, f, d, i: m.where(f > 0, i, f), lambda m, f, d, i: i.clamp(0.5, 2.5), lambda m, f, d, i: m.cat([i, f]),
    lambda m, f, d, i: m.stack([f, i]), lambda m, f, d, i: i ** f, lambda m, f, d, i: f ** i, lambda m, f, d, i: i * 2.5,
    lambda m, f, d, i: i + True, lambda m, f, d, i: (i > 1) + (i > 2), lambda m, f, d, i: f + d,
    lambda m, f, d, i: i / i, lambda m, f, d, i: i // 2, lambda m, f, d, i: f * np.int64(3),
])
def test_dtype_promotion_as_torch(program):
    f = np.array([0.5, -1.5, 2.0], np.float32)
    d = np.array([1.0, 2.0, 3.0])
    i = np.array([1, 2, 3])
    ours, theirs = program(tg, tg.tensor(f), tg.tensor(d), tg.tensor(i)), \
        program(torch, torch.tensor(f), torch.tensor(d), torch.tensor(i))
    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
    same(ours, theirs)


def test_uint8_wraps_as_torch():
    ours, theirs = tg.tensor([1, 250], dtype=tg.uint8) + 300, torch.tensor([1, 250], dtype=torch.uint8) + 300
    assert ours.dtype == tg.uint8 and ours.tolist() == theirs.tolist()


# --- micrograd's Value ----------------------------------------------------------------------------------

def test_value_manual_backward_as_in_the_lecture():
    from tensorgrad import Value
    a, b, c = Value(2.0, label="a"), Value(-3.0, label="b"), Value(10.0, label="c")
    e = a * b
    d = e + c
    f = Value(-2.0, label="f")
    L = d * f
    L.grad = 1.0
    L._backward()
    d._backward()
    e._backward()
    assert (d.grad, f.grad, c.grad, e.grad, a.grad, b.grad) == (-2.0, 4.0, -2.0, -2.0, 6.0, -4.0)


# --- NumPy meets tensors ----------------------------------------------------------------------------------

def test_numpy_functions_on_tensors():
    t = tg.tensor([0.5, 1.0])
    assert isinstance(np.tanh(t), np.ndarray) and np.allclose(np.tanh(t), np.tanh([0.5, 1.0]))
    w = tg.tensor([0.5, 1.0], requires_grad=True)
    y = np.ones(2) * w                          # an ndarray on the left: the tensor's operator, recorded
    assert isinstance(y, tg.Tensor) and y.requires_grad
    with pytest.raises(TypeError, match="requires grad"):
        np.exp(w)                               # would silently drop the history (torch refuses too)


def test_user_op_errors_name_the_op():
    x = tg.randn(3, requires_grad=True)
    none_op = tg.op("returns_none", backward=lambda g, out, x: g)(lambda x: None)
    with pytest.raises(TypeError, match="'returns_none'"):
        none_op(x)
    int_op = tg.op("returns_int", backward=lambda g, out, x: g)(lambda x: np.zeros(x.shape, np.int64))
    with pytest.raises(TypeError, match="'returns_int'"):
        int_op(x)
    np_rule = tg.op("numpy_rule", backward=lambda g, out, x: g / (1 + np.exp(-x)))(lambda x: np.logaddexp(0, x))
    np_rule(x).sum().backward()                 # on arrays: fine
    with pytest.raises(TypeError, match="'numpy_rule'.*create_graph"):
        tg.grad(np_rule(x).sum(), x, create_graph=True)
    boom = tg.op("raises_inside", backward=lambda g, out, x: 1 / 0)(lambda x: x * 2)
    with pytest.raises(ZeroDivisionError, match="'raises_inside'"):
        boom(x).sum().backward()
    cplx = tg.op("complex_rule", backward=lambda g, out, x: g * 1j)(lambda x: x * 2)
    with pytest.raises(TypeError, match="'complex_rule'.*complex"):
        cplx(x).sum().backward()
    with pytest.raises(RuntimeError, match="does not require grad"):
        tg.grad((x * 2).sum(), [x, tg.ones(3)])


def test_setitem_drops_the_values_leading_ones_as_torch():
    """WaveNet's lecture: logits[i] = model(Xtr[[7 + i]]) writes a (1, 27) row into a (27,) slot."""
    grads = []
    for m in (tg, torch):
        x, w = m.zeros(3, 4), m.ones(1, 4, requires_grad=True)
        x[0] = w * 2
        x[[1, 2]] = (w * 3).expand(1, 2, 4) if m is tg else (w * 3).expand(1, 2, 4)
        x.sum().backward()
        grads.append(w.grad)
    same(grads[0], grads[1], 0)


# --- found by a random-program review ----------------------------------------------------------------

@pytest.mark.parametrize("program", [
    lambda m, a: _view_then_base(m, a),
    lambda m, a: _sibling_views(m, a),
    lambda m, a: _view_then_view_then_base(m, a),
    lambda m, a: _reshape_view_then_base(m, a),
])
def test_a_view_made_before_a_write_sees_the_new_history(program):
    """torch regenerates a view's history when its base was written since: so does tensorgrad."""
    grads = []
    for m in (tg, torch):
        a = m.tensor(np.arange(12.0).reshape(3, 4) + 1, dtype=m.float64, requires_grad=True)
        program(m, a).sum().backward()
        grads.append(a.grad)
    same(grads[0], grads[1], 0)


def _view_then_base(m, a):
    h = a * 1
    v = h[0]
    h.mul_(3)
    return v


def _sibling_views(m, a):
    h = a * 1
    v, w = h[0], h[:, 0]
    v.mul_(3)
    return w * w


def _view_then_view_then_base(m, a):
    h = a * 1
    v = h[0]
    v.mul_(3)
    h.mul_(2)
    return v


def _reshape_view_then_base(m, a):
    h = a * 1
    s = h.reshape(12)
    h.abs_()
    h[0] *= 3
    return s * s


@pytest.mark.parametrize("program", [
    lambda m: 300 / m.tensor([2, 4], dtype=m.int8), lambda m: m.tensor([100], dtype=m.int8) / m.tensor(200),
    lambda m: m.atan2(m.tensor(242, dtype=m.uint8), m.tensor([-3], dtype=m.int8)),
    lambda m: m.hypot(m.tensor(3.164, dtype=m.float64), m.tensor(48, dtype=m.uint8)),
    lambda m: m.tensor([True]) ** 2, lambda m: np.int64(2) / m.tensor([5], dtype=m.int8),
    lambda m: m.tensor([1.0, np.nan, 2.0]).norm(),
])
def test_integers_convert_straight_to_the_float_result(program):
    ours, theirs = program(tg), program(torch)
    assert isinstance(ours, tg.Tensor) and str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, equal_nan=True)


def test_an_in_place_relu_after_batch_norm_or_layer_norm_backpropagates():
    """batch_norm's and layer_norm's rules read their input, not their output: writing into the output
    (ReLU(inplace=True), the ResNet block) is allowed, as in torch."""
    for norm in (tg.nn.BatchNorm1d(4), tg.nn.LayerNorm(4)):
        tg.manual_seed(0)
        m = tg.nn.Sequential(tg.nn.Linear(3, 4), norm, tg.nn.ReLU(inplace=True))
        m(tg.randn(5, 3)).sum().backward()
        assert m[0].weight.grad is not None


def test_contiguous_of_a_transposed_view_is_a_contiguous_copy():
    x = tg.arange(24.0).reshape(2, 3, 4)
    y = x.transpose(1, 2).contiguous()
    assert y.is_contiguous() and y.shape == (2, 4, 3)
    y[0, 0, 0] = 100.0
    assert x[0, 0, 0].item() == 0.0                       # a copy: writing it leaves x alone
    assert x.contiguous() is x


def test_float16_sigmoid_is_computed_in_float32_as_torch():
    import torch
    v = np.array([-12.0, -10.0, 0.0, 12.0], np.float16)
    x, xt = tg.tensor(v, requires_grad=True), torch.tensor(v, requires_grad=True)
    x.sigmoid().sum().backward()
    xt.sigmoid().sum().backward()
    np.testing.assert_allclose(x.sigmoid().numpy(), xt.sigmoid().detach().numpy(), rtol=1e-3)
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-3)


def test_randint_and_randperm_default_to_int64():
    assert tg.randint(0, 5, (2,), dtype=None).dtype == np.int64 and tg.randperm(3, dtype=None).dtype == np.int64


@pytest.mark.parametrize("dtype, value", [
    ("int8", 300), ("int8", -129), ("int8", -128), ("uint8", -1), ("uint8", -256), ("int64", 1.7), ("int64", -1.7),
    ("bool", 2), ("bool", 0.5), ("int32", float("inf")), ("float32", 1e39), ("float32", float("nan")),
    ("float32", float("-inf")), ("float16", 1e6), ("float16", 65504.0), ("float16", 65510.0), ("float64", 10 ** 310), ("int64", 2 ** 63), ("float32", True)], ids=str)
@pytest.mark.parametrize("inplace", [False, True])
def test_masked_fill_converts_its_value_as_torch(dtype, value, inplace):
    """The fill value becomes the tensor's dtype as torch converts it: truncated into integers, wrapped
    into uint8 from below, and refused where it overflows (also in place, and into an expanded view)."""
    def program(m):
        x = m.zeros(3, dtype=getattr(m, dtype))
        mask = m.tensor([True, False, True])
        return x.masked_fill_(mask, value) if inplace else x.masked_fill(mask, value)
    try:
        want = program(torch)
    except (RuntimeError, OverflowError) as e:
        with pytest.raises(type(e), match="without overflow|too large"):
            program(tg)
        return
    got = program(tg)
    assert str(got.dtype) == str(want.dtype).replace("torch.", "")
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_masked_fill_sends_no_gradient_through_the_filled_places():
    x0 = np.random.default_rng(0).standard_normal((2, 3, 4))
    mask = np.tril(np.ones((4, 4), bool))[1:]
    for m in (tg, torch):
        x = m.tensor(x0, requires_grad=True)
        y = x.masked_fill(m.tensor(mask) == 0, float("-inf")).softmax(-1)
        (y * m.tensor(np.arange(24.0).reshape(2, 3, 4))).sum().backward()
        if m is tg:
            got = x.grad.numpy()
    np.testing.assert_allclose(got, x.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("op", ["getitem", "gather", "index_select", "embedding", "cross_entropy", "nll_loss",
                                "mask", "setitem", "scatter_add", "index_add", "take_along_dim"])
def test_an_index_written_after_use_does_not_move_the_gradient(op):
    """torch refuses the backward once an index (or target) tensor an op kept is written in place; tensorgrad
    keeps its own copy, so the gradient is the one of the forward that ran, never of the edited index."""
    x0 = np.array([[1.0, 2.0, 3.0], [0.5, 0.1, 0.2]])

    def program(m, edit: bool):
        x = m.tensor(x0, requires_grad=True)
        F = m.nn.functional
        idx = m.tensor([[0, 0, 1], [2, 2, 2]])
        row = m.tensor([0, 0, 2])
        if op == "getitem":
            y, key = x[:, row], row
        elif op == "gather":
            y, key = x.gather(1, idx), idx
        elif op == "index_select":
            y, key = x.index_select(1, row), row
        elif op == "embedding":
            y, key = F.embedding(m.tensor([1, 1, 0]), x), None
        elif op in ("cross_entropy", "nll_loss"):
            key = m.tensor([0, 2])
            y = F.cross_entropy(x, key) if op == "cross_entropy" else F.nll_loss(x, key)
        elif op == "mask":
            key = m.tensor([[True, False, True], [False, True, True]])
            y = x[key]
        elif op == "setitem":
            y = x * 1
            y[0, row] = m.tensor([5.0, 6.0, 7.0], dtype=x.dtype)
            key = row
        elif op == "scatter_add":
            y, key = m.zeros(2, 3, dtype=x.dtype).scatter_add(1, idx, x), idx
        elif op == "index_add":
            y, key = m.zeros(2, 3, dtype=x.dtype).index_add(1, row, x), row
        else:
            y, key = m.take_along_dim(x, idx, 1), idx
        if key is None:
            key = m.tensor([1, 1, 0])
        if edit:
            with m.no_grad():
                key.view(-1)[0] = False if key.dtype == m.bool else 1
        (y * m.arange(1, y.numel() + 1).reshape(y.shape).to(y.dtype)).sum().backward()
        return x.grad.numpy()

    np.testing.assert_allclose(program(tg, edit=True), program(torch, edit=False), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("op", ["mul", "rmul", "div", "where", "matmul", "linear", "masked_fill"])
@pytest.mark.parametrize("written", ["constant", "the input that needs grad"])
def test_a_write_is_refused_only_where_a_needed_gradient_reads_it(op, written):
    """As torch saves only what the needed gradients read: x * c with c constant keeps c, not x, so writing
    x afterwards is fine and writing c is refused (where and masked_fill keep only the condition)."""
    def program(m):
        x = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
        a, c = x * 2, m.tensor([3.0, 4.0, 5.0])
        y = {"mul": lambda: a * c, "rmul": lambda: c * a, "div": lambda: a / c,
             "where": lambda: m.where(c > 3.5, a, c), "matmul": lambda: a.reshape(1, 3) @ c.reshape(3, 1),
             "linear": lambda: m.nn.functional.linear(a.reshape(1, 3), c.reshape(1, 3)),
             "masked_fill": lambda: a.masked_fill(c > 3.5, 0.0)}[op]()
        (c if written == "constant" else a).add_(1)
        try:
            y.sum().backward()
        except RuntimeError as e:
            assert "modified by an inplace operation" in str(e)
            return "refused"
        return x.grad.numpy()
    got, want = program(tg), program(torch)
    if isinstance(want, str):
        assert got == want
    else:
        np.testing.assert_array_equal(got, want)


def test_a_compiled_functions_index_argument_written_after_the_call_is_refused():
    """The replay computes with its arguments' arrays; its node checks their versions, as torch's do."""
    x = tg.tensor([[1.0, 2.0, 3.0], [0.5, 0.1, 0.2]], requires_grad=True)
    f = tg.compile(lambda x, i: (x[:, i].sum(1) ** 2).sum())
    for _ in range(2):                       # recorded, then replayed
        i = tg.tensor([0, 0, 1])
        f(x, i).backward()
    y = f(x, i)
    i[0] = 2
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_ops_warn_of_no_inf_or_nan_and_leave_numpys_error_state_as_it_was():
    """torch's arithmetic gives inf and NaN without a word; tensorgrad's ops too (under -W error), dynamic and
    replayed, while the caller's own NumPy keeps its error state, also after an op raised."""
    import warnings
    from tensorgrad import modes
    x = tg.tensor([np.inf, -np.inf, 1.0, 0.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = [(x * 0).tolist(), (x + x.flip(0)).tolist(), (1 / x).tolist(), x.log().tolist(), x.sum().item()]
        f = tg.compile(lambda a: (a * 0 + 1 / a).log())
        replayed = [f(x).tolist() for _ in range(3)]
    t = torch.tensor([np.inf, -np.inf, 1.0, 0.0])
    want = [(t * 0).tolist(), (t + t.flip(0)).tolist(), (1 / t).tolist(), t.log().tolist(), t.sum().item()]
    np.testing.assert_array_equal(np.array(got[:4]), np.array(want[:4]))
    assert np.isnan(got[4]) and np.isnan(want[4])
    np.testing.assert_array_equal(np.array(replayed[-1]), (t * 0 + 1 / t).log().numpy())
    with np.errstate(divide="raise"):
        with pytest.raises(FloatingPointError):
            np.array([1.0]) / 0                      # the caller's state, around tensorgrad's ops
        with pytest.raises(ValueError, match="cat"):
            tg.cat([tg.ones(2, 3), tg.ones(2, 4)], 0)  # an op whose forward raises restores it too
        with pytest.raises(FloatingPointError):
            np.array([1.0]) / 0
    fallback = modes._Errstate()                     # a NumPy without the context variable
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        state = fallback.set(None)
        np.array([1.0]) / 0
        fallback.reset(state)
        with pytest.raises(RuntimeWarning):
            np.array([1.0]) / 0
