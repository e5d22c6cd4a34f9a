"""Engine behaviour: the tape, accumulation, reuse, freeing, modes, dtypes and errors."""
import gc
import subprocess
import sys
import weakref

import numpy as np
import pytest

import tensorgrad as tg


def leaf(*values, dtype=np.float64):
    return tg.tensor(np.array(values, dtype=dtype), requires_grad=True)


# --- the tape ---------------------------------------------------------------------------------

def test_results_carry_micrograd_fields():
    a, b = leaf(1.0, 2.0), leaf(3.0, 4.0)
    c = a * b
    assert c._prev == (a, b) and c._op == "mul" and callable(c._backward)
    assert not c.is_leaf and a.is_leaf and c.grad_fn.name() == "mul"
    ga, gb = c._backward(np.ones(2))
    assert ga.tolist() == [3.0, 4.0] and gb.tolist() == [1.0, 2.0]


def test_reuse_of_a_node_accumulates():
    x = leaf(3.0)
    (x * x).sum().backward()        # d(x^2)/dx = 2x: both uses of x count
    assert x.grad.tolist() == [6.0]
    b = leaf(2.0)
    a = b + b
    (a * a).sum().backward()        # a = 2b, a^2 = 4b^2 -> 8b
    assert b.grad.tolist() == [16.0]


def test_gradients_accumulate_across_backward_calls():
    x = leaf(1.0, 2.0)
    (x * 3).sum().backward()
    (x * 3).sum().backward()
    assert x.grad.tolist() == [6.0, 6.0]
    x.zero_grad()
    assert x.grad is None


def test_leaf_grads_do_not_alias():
    x, y = leaf(1.0), leaf(2.0)
    (x + y).sum().backward()
    x.grad += 1.0                   # a user editing one .grad in place must not touch another
    assert y.grad.tolist() == [1.0]


def test_retain_grad_keeps_intermediate_gradients():
    x = leaf(1.0, -2.0)
    h = x * 2
    h.retain_grad()
    y = x * 5
    (h * y).sum().backward()
    assert h.grad.tolist() == (y.data).tolist()
    assert y.grad is None           # not retained, as in torch


def test_deep_chain_needs_no_recursion():
    x = leaf(1.0)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.sum().backward()
    assert x.grad.tolist() == [1.0]


def test_backward_frees_the_graph_and_a_second_backward_raises():
    x = leaf(1.0, 2.0)
    y = (x.tanh() * 2).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()
    z = (x.tanh() * 2).sum()
    z.backward(retain_graph=True)
    z.backward()                    # allowed once retained
    assert np.allclose(x.grad, 6 * (1 - np.tanh([1.0, 2.0]) ** 2))


def test_graph_is_released_when_the_output_goes():
    gc.disable()                    # refcounting alone must free it: the tape has no cycles
    try:
        x = tg.tensor(np.linspace(-1, 1, 100), requires_grad=True)   # more than a drawing keeps (KEEP_VALUES)
        h = x.exp()
        ref, node = weakref.ref(h), weakref.ref(h._node)
        loss = (h * 3).sum()
        del h
        loss.backward()
        assert ref() is None        # backward freed what nothing else holds, as torch does
        seen = loss._prev[0]._prev[0]
        assert (seen._op, seen.shape, seen.dtype) == ("exp", (100,), x.dtype)   # drawing still sees the structure
        del loss, seen
        assert node() is None
    finally:
        gc.enable()


def test_backward_drops_the_indices_it_saved():
    C = leaf(1.0, 2.0, 3.0)
    e = C[np.array([0, 2, 2])]
    loss = e.sum()
    w = leaf(1.0, 2.0, 3.0)
    p = (e * w).sum()
    p.backward()
    assert p._prev[0]._attrs is None            # mul saved its inputs: freed, as torch frees them
    assert e._attrs is not None                  # getitem saved nothing it needs: a second backward works
    loss.backward()
    assert C.grad.tolist() == [2.0, 0.0, 7.0]


# --- modes ------------------------------------------------------------------------------------

def test_no_grad_records_nothing():
    x = leaf(1.0)
    with tg.no_grad():
        y = x * 2
    assert not y.requires_grad and y._prev == () and y.is_leaf

    @tg.no_grad()
    def f(t):
        return t * 2
    assert not f(x).requires_grad
    assert tg.is_grad_enabled()
    with tg.no_grad():
        with tg.enable_grad():
            assert (x * 2).requires_grad


def test_detach_cuts_the_graph():
    x = leaf(2.0)
    y = (x * x).detach()
    assert not y.requires_grad and y.is_leaf and y.data is not None
    (x * y).sum().backward()
    assert x.grad.tolist() == [4.0]


def test_augmented_assignment_is_in_place_with_a_new_history():
    x = leaf(1.0, 2.0)
    y = x * 2
    alias = y
    y += 1                                       # torch: y is the same tensor, written in place
    assert y is alias and y._op == "add" and y._prev[0]._op == "mul"
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0] and y.tolist() == [3.0, 5.0]


def test_grad_returns_gradients_without_touching_dot_grad():
    x = leaf(1.0, 2.0)
    (gx,) = tg.grad((x ** 3).sum(), [x])
    assert np.allclose(gx.data, 3 * np.array([1.0, 4.0])) and x.grad is None


def test_second_derivative_and_hessian_vector_product():
    x = leaf(1.0, 2.0)
    (gx,) = tg.grad((x ** 3).sum(), x, create_graph=True)
    assert gx.requires_grad
    (ggx,) = tg.grad(gx.sum(), x)
    assert np.allclose(ggx.numpy(), 6 * x.numpy())
    # Hessian-vector product of f(x) = sum(tanh(x) * x^2)
    v = np.array([0.5, -1.0])
    (g,) = tg.grad((x.tanh() * x * x).sum(), x, create_graph=True)
    (hv,) = tg.grad((g * v).sum(), x)
    a = x.numpy()
    t, s = np.tanh(a), 1 - np.tanh(a) ** 2
    diag = -2 * t * s * a ** 2 + 4 * a * s + 2 * t   # f is separable: the Hessian is diagonal
    assert np.allclose(hv.numpy(), diag * v)


def test_grad_of_an_unused_input():
    x, y = leaf(1.0), leaf(2.0)
    with pytest.raises(RuntimeError, match="not used"):
        tg.grad((x * 2).sum(), [x, y])
    gx, gy = tg.grad((x * 2).sum(), [x, y], allow_unused=True)
    assert gy is None and gx.tolist() == [2.0]


def test_a_user_op_works_everywhere():
    softplus = tg.op("softplus_test", backward=lambda g, out, x: g * tg.sigmoid(x))(
        lambda x: np.logaddexp(0, x))
    x = leaf(-1.0, 0.5)
    y = softplus(x)
    assert y._op == "softplus_test" and "softplus_test" in tg.OPS
    y.sum().backward()
    assert np.allclose(x.grad, 1 / (1 + np.exp(-x.numpy())))
    with tg.no_grad():
        assert not softplus(x).requires_grad
    (g,) = tg.grad(softplus(x).sum(), x, create_graph=True)
    (gg,) = tg.grad(g.sum(), x)
    s = 1 / (1 + np.exp(-x.numpy()))
    assert np.allclose(gg.numpy(), s * (1 - s))
    assert np.allclose(softplus(x.numpy()), np.logaddexp(0, x.numpy()))   # on arrays: just the forward


# --- dtypes and construction --------------------------------------------------------------------

def test_dtypes_follow_torch_tensor():
    assert tg.tensor([1.0, 2.0]).dtype == np.float32
    assert tg.tensor(1.5).dtype == np.float32
    assert tg.tensor([1, 2]).dtype == np.int64
    assert tg.tensor([True]).dtype == np.bool_
    assert tg.tensor(np.zeros(2, np.float64)).dtype == np.float64
    assert tg.tensor([1, 2], dtype=np.float64).dtype == np.float64
    x = tg.tensor([1.0, 2.0])
    assert (x * 2).dtype == np.float32 and (2.5 * x).dtype == np.float32
    assert (tg.tensor([1, 2]) * 0.5).dtype == np.float32
    assert (tg.tensor([1, 2]) + x).dtype == np.float32
    tg.set_default_dtype(np.float64)
    try:
        assert tg.tensor([1.0]).dtype == np.float64 and tg.randn(2).dtype == np.float64
    finally:
        tg.set_default_dtype(np.float32)


def test_tensor_copies_and_from_numpy_shares():
    a = np.zeros(3)
    t, s = tg.tensor(a), tg.from_numpy(a)
    a[0] = 1
    assert t.data[0] == 0 and s.data[0] == 1


def test_factories_and_seeded_generators():
    g1, g2 = tg.Generator().manual_seed(42), tg.Generator().manual_seed(42)
    assert np.array_equal(tg.randn(3, 4, generator=g1), tg.randn((3, 4), generator=g2))
    assert tg.randn(2, 3).shape == (2, 3) and tg.rand(4).min() >= 0
    r = tg.randint(0, 27, (5, 3), generator=g1)
    assert r.dtype == np.int64 and r.shape == (5, 3) and r.max() < 27
    assert tg.zeros(2, 3).dtype == np.float32 and tg.ones(2).tolist() == [1.0, 1.0]
    assert tg.arange(5).tolist() == [0, 1, 2, 3, 4] and tg.arange(5).dtype == np.int64
    assert tg.eye(3).numpy().trace() == 3
    x = tg.randn(2, 2, dtype=np.float64)
    assert tg.zeros_like(x).dtype == np.float64 and tg.ones_like(x).shape == (2, 2)
    w = tg.randn(3, requires_grad=True, name="w")
    assert w.requires_grad and w.name == "w" and "w" in repr(w)


def test_properties():
    x = tg.tensor([[1.0, 2.0, 3.0]], requires_grad=True, name="x")
    assert x.shape == (1, 3) and x.ndim == 2 and x.size(1) == 3 and x.numel() == 3 and len(x) == 1
    assert x.sum().item() == 6.0 and x.data.numpy() is x.numpy() and x.tolist() == [[1.0, 2.0, 3.0]]
    assert "requires_grad=True" in repr(x) and "grad_fn=<sumBackward>" in repr(x.sum())
    assert [r.shape for r in tg.tensor(np.zeros((2, 3)))] == [(3,), (3,)]


def test_setitem_on_data_and_refusal_on_graph_tensors():
    x = tg.zeros(3)
    x[1] = 5.0
    assert x.tolist() == [0.0, 5.0, 0.0]
    w = leaf(1.0, 2.0)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w[0] = 3.0
    with tg.no_grad():
        w[0] = 3.0                               # an update, as an optimizer makes it
    assert w.tolist() == [3.0, 2.0] and w.is_leaf


def test_tensorgrad_never_imports_torch():
    code = "import tensorgrad, tensorgrad.testing, sys; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


# --- errors -------------------------------------------------------------------------------------

def test_broadcast_mismatch_names_op_and_shapes():
    with pytest.raises(ValueError, match=r"add.*\[3, 4\].*\[5\]"):
        tg.ones(3, 4) + tg.ones(5)


def test_matmul_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"matmul.*\[3, 4\].*\[5, 6\]"):
        tg.ones(3, 4) @ tg.ones(5, 6)


def test_reshape_and_index_errors_name_the_op():
    with pytest.raises(ValueError, match="reshape"):
        tg.ones(2, 3).reshape(4, 2)
    with pytest.raises(IndexError, match="getitem"):
        tg.ones(2, 3)[np.array([5])]
    with pytest.raises(IndexError, match="out of range"):
        tg.ones(2, 3).sum(2)


def test_backward_on_non_scalar_needs_gradient():
    x = leaf(1.0, 2.0)
    with pytest.raises(RuntimeError, match="scalar"):
        (x * 2).backward()
    (x * 2).backward(np.array([1.0, 10.0]))
    assert x.grad.tolist() == [2.0, 20.0]
    with pytest.raises(RuntimeError, match="shape"):
        (x * 2).backward(np.ones(3))


def test_backward_without_grad_is_an_error():
    with pytest.raises(RuntimeError, match="does not require grad"):
        tg.ones(2).sum().backward()


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(RuntimeError, match="floating"):
        tg.tensor([1, 2], requires_grad=True)
    t = tg.tensor([1, 2])
    with pytest.raises(RuntimeError, match="int64"):
        t.requires_grad = True


def test_a_rule_returning_the_wrong_shape_is_named():
    bad = tg.op("bad_rule", backward=lambda g, out, x: np.ones(7))(lambda x: x * 2)
    with pytest.raises(RuntimeError, match=r"'bad_rule'.*\(7,\).*\(3,\)"):
        bad(leaf(1.0, 2.0, 3.0)).sum().backward()


def test_detect_anomaly_names_the_op():
    x = leaf(0.0, 1.0)
    with tg.detect_anomaly():
        y = x.sqrt().sum()          # d sqrt(x)/dx = inf at 0
        with pytest.raises(FloatingPointError, match="(?s)'pow'.*test_engine"):
            y.backward()
    y = x.sqrt().sum()
    y.backward()                    # outside the mode: inf goes through silently, as in torch
    assert np.isinf(x.grad[0].item())


def test_bad_data_is_a_clear_error():
    with pytest.raises(TypeError, match="tensor"):
        tg.tensor(["a", "b"])


# --- found in review ----------------------------------------------------------------------------

def test_set_grad_enabled_as_a_plain_call():
    x = leaf(1.0)
    tg.set_grad_enabled(False)
    try:
        assert not (x * 2).requires_grad
    finally:
        tg.set_grad_enabled(True)
    assert (x * 2).requires_grad


def test_a_differentiable_grad_output_stays_on_the_tape():
    """The double-backward trick for a Jacobian-vector product needs d(vjp)/d(v)."""
    x = leaf(0.5, -1.0, 2.0)
    v = tg.tensor(np.zeros(3), requires_grad=True)
    y = x.tanh()
    (vjp,) = tg.grad(y, x, grad_outputs=v, create_graph=True)
    u = np.array([1.0, 0.0, 0.0])
    (jvp,) = tg.grad(vjp, v, grad_outputs=u)
    assert np.allclose(jvp.numpy(), (1 - np.tanh(x.numpy()) ** 2) * u)


def test_integer_results_carry_no_gradient():
    x = leaf(1.5, 2.7)
    assert not x.long().requires_grad and not x.argmax().requires_grad


def test_dims_are_checked_everywhere():
    x = tg.randn(2, 3)
    with pytest.raises(IndexError, match="permute"):
        x.permute(1, 2)
    with pytest.raises(TypeError, match="dim"):
        x.sum(True)
    with pytest.raises(IndexError, match="softmax"):
        tg.softmax(x, 2)
    with pytest.raises(IndexError, match="cat"):
        tg.cat([x, x], 5)
    with pytest.raises(ValueError, match="stack"):
        tg.stack([x, tg.randn(3, 2)])


def test_gather_and_index_add_check_their_index():
    x = tg.randn(3, 4)
    with pytest.raises(IndexError, match="gather"):
        x.gather(1, np.array([0, 1]))
    with pytest.raises(ValueError, match="index_add"):
        x.index_add(0, np.array([0, 1]), tg.ones(1, 4))


def test_tensor_from_a_list_of_tensors():
    assert tg.tensor([tg.tensor(1.0), tg.tensor(2.0)]).tolist() == [1.0, 2.0]


def test_a_rule_returning_a_number_is_named():
    bad = tg.op("bad_number_rule", backward=lambda g, out, x: 1.0)(lambda x: x * 2)
    with pytest.raises(TypeError, match="'bad_number_rule'"):
        bad(leaf(1.0, 2.0)).sum().backward()


def test_batch_norm_needs_more_than_one_value_in_training():
    with pytest.raises(ValueError, match="batch_norm"):
        tg.functional.batch_norm(tg.randn(1, 3), None, None, training=True)


def test_writing_into_a_used_tensor_is_caught():
    w, c = leaf(1.0, 2.0), tg.ones(2, dtype=np.float64)
    y = (w * c).sum()
    c[0] = 5.0
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_a_user_op_cannot_replace_a_builtin():
    with pytest.raises(ValueError, match="'tanh' is built into"):
        tg.op("tanh")(lambda x: x)
