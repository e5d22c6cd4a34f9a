"""tensorgrad.autograd against torch.autograd: Function, grad, backward, the functional API,
gradcheck, anomaly detection."""
import numpy as np
import pytest
import torch

import tensorgrad as tg
from tensorgrad import autograd


def pair(*shape, seed=0, positive=False):
    a = np.random.default_rng(seed).standard_normal(shape)
    if positive:
        a = np.abs(a) + 0.5
    return tg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


def close(a, b, tol=1e-10):
    if b is None:
        assert a is None
        return
    np.testing.assert_allclose(a.detach().numpy() if isinstance(a, tg.Tensor) else a, b.detach().numpy(),
                               rtol=tol, atol=tol)


def make_functions(mod):
    """The same custom Functions, written once for each library (`mod` is torch or tensorgrad)."""

    class MyReLU(mod.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.clamp(min=0)

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return g * (x > 0)

    class ScaledCube(mod.autograd.Function):       # a non-tensor argument; backward in tensor ops
        @staticmethod
        def forward(ctx, x, k):
            ctx.save_for_backward(x)
            ctx.k = k
            return x ** 3 * k

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return g * 3 * x ** 2 * ctx.k, None

    class MulAdd(mod.autograd.Function):           # two tensor inputs, two outputs
        @staticmethod
        def forward(ctx, x, y):
            ctx.save_for_backward(x, y)
            return x * y, x + y

        @staticmethod
        def backward(ctx, gp, gs):
            x, y = ctx.saved_tensors
            return gp * y + gs, gp * x + gs

    class SortWithIndex(mod.autograd.Function):    # an index output marked non-differentiable
        @staticmethod
        def forward(ctx, x):
            values, idx = x.sort()
            ctx.mark_non_differentiable(idx)
            ctx.save_for_backward(idx)
            return values, idx

        @staticmethod
        def backward(ctx, g, g_idx):
            idx, = ctx.saved_tensors
            out = mod.zeros_like(g)
            out[idx] = g
            return out

    class Needs(mod.autograd.Function):
        seen = []

        @staticmethod
        def forward(ctx, x, y, z):
            Needs.seen.append(ctx.needs_input_grad)
            return x * y

        @staticmethod
        def backward(ctx, g):
            return g, g, None

    class Lazy(mod.autograd.Function):             # set_materialize_grads(False): None for unused outputs
        seen = []

        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, g1, g2):
            Lazy.seen.append((g1 is None, g2 is None))
            total = 0
            if g1 is not None:
                total = total + g1 * 2
            if g2 is not None:
                total = total + g2 * 3
            return total

    return dict(MyReLU=MyReLU, ScaledCube=ScaledCube, MulAdd=MulAdd, SortWithIndex=SortWithIndex, Needs=Needs,
                Lazy=Lazy)


TG, TORCH = make_functions(tg), make_functions(torch)


def test_a_function_forward_and_backward_as_torch():
    x, tx = pair(5, 4)
    y, ty = TG["MyReLU"].apply(x), TORCH["MyReLU"].apply(tx)
    close(y, ty)
    assert type(y.grad_fn).__name__ == "Node" and y.grad_fn.name() == "MyReLU"
    (y * tg.tensor(np.arange(20.0).reshape(5, 4))).sum().backward()
    (ty * torch.arange(20.0, dtype=torch.float64).reshape(5, 4)).sum().backward()
    close(x.grad, tx.grad)


def test_non_tensor_arguments_get_none_and_double_backward_through_a_tensor_op_backward():
    x, tx = pair(6)
    y, ty = TG["ScaledCube"].apply(x, 2.5), TORCH["ScaledCube"].apply(tx, 2.5)
    close(y, ty)
    g, = autograd.grad(y.sum(), x, create_graph=True)
    tgx, = torch.autograd.grad(ty.sum(), tx, create_graph=True)
    close(g, tgx)
    g2, = autograd.grad((g * g).sum(), x)
    tg2, = torch.autograd.grad((tgx * tgx).sum(), tx)
    close(g2, tg2)


def test_several_outputs_and_non_differentiable_ones():
    x, tx = pair(4, seed=1)
    w, tw = pair(4, seed=2)
    p, s = TG["MulAdd"].apply(x, w)
    tp, ts = TORCH["MulAdd"].apply(tx, tw)
    close(p, tp), close(s, ts)
    ((p * 3).sum() + (s ** 2).sum()).backward()
    ((tp * 3).sum() + (ts ** 2).sum()).backward()
    close(x.grad, tx.grad), close(w.grad, tw.grad)
    v, idx = TG["SortWithIndex"].apply(x.detach().requires_grad_())
    tv, tidx = TORCH["SortWithIndex"].apply(tx.detach().requires_grad_())
    assert not idx.requires_grad and idx.tolist() == tidx.tolist() and v.requires_grad == tv.requires_grad


def test_only_one_of_two_outputs_used():
    x, tx = pair(3, seed=3)
    p, _ = TG["MulAdd"].apply(x, x.detach())
    tp, _ = TORCH["MulAdd"].apply(tx, tx.detach())
    p.sum().backward(), tp.sum().backward()
    close(x.grad, tx.grad)


def test_needs_input_grad_and_materialize_grads_as_torch():
    for lib, fns in ((tg, TG), (torch, TORCH)):
        x = lib.ones(2, dtype=lib.float64, requires_grad=True)
        fns["Needs"].apply(x, lib.ones(2, dtype=lib.float64), 3).sum().backward()
        a, _ = fns["Lazy"].apply(x)
        a.sum().backward()
        with lib.no_grad():
            fns["Needs"].apply(x, x, 3)
    assert TG["Needs"].seen == TORCH["Needs"].seen == [(True, False, False), (True, True, False)]
    assert TG["Lazy"].seen == TORCH["Lazy"].seen == [(False, True)]


def test_function_errors_as_torch():
    class TooFew(autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            return x * y

        @staticmethod
        def backward(ctx, g):
            return g

    class GradForANumber(autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            return x * k

        @staticmethod
        def backward(ctx, g):
            return g, g

    x = tg.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"function TooFewBackward returned an incorrect number of gradients "
                                           r"\(expected 2, got 1\)"):
        TooFew.apply(x, x).sum().backward()
    with pytest.raises(RuntimeError, match="returned a gradient different than None at position 2"):
        GradForANumber.apply(x, 2.0).sum().backward()
    with pytest.raises(RuntimeError, match="Legacy autograd function"):
        TooFew()(x, x)
    y = TG["MyReLU"].apply(x * 1)
    y.sum().backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.sum().backward()
    z = x * 1
    out = TG["MyReLU"].apply(z)
    with tg.no_grad():
        z.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


def test_once_differentiable_and_viz_name():
    class Square(autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        @autograd.once_differentiable
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return 2 * x * g

    x = tg.tensor([3.0], requires_grad=True)
    y = Square.apply(x)
    assert y._op == "Square"
    from viz import draw
    dot = draw(y)
    assert "Square" in (dot.source if hasattr(dot, "source") else str(dot))
    g, = autograd.grad(y.sum(), x, create_graph=True)
    assert g.tolist() == [6.0] and not g.requires_grad      # once_differentiable: no graph for the gradient


def test_new_style_setup_context():
    class Exp(autograd.Function):
        @staticmethod
        def forward(x):
            return x.exp()

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(output)

        @staticmethod
        def backward(ctx, g):
            out, = ctx.saved_tensors
            return g * out

    x, tx = pair(3)
    Exp.apply(x).sum().backward()
    tx.exp().sum().backward()
    close(x.grad, tx.grad)


# --- grad and backward ----------------------------------------------------------------------------

def test_grad_allow_unused_and_materialize_grads_as_torch():
    (x, tx), (u, tu) = pair(3), pair(3, seed=1)
    with pytest.raises(RuntimeError):
        autograd.grad((x * 2).sum(), (x, u))
    got = autograd.grad((x * 2).sum(), (x, u), allow_unused=True)
    want = torch.autograd.grad((tx * 2).sum(), (tx, tu), allow_unused=True)
    close(got[0], want[0]), close(got[1], want[1])
    got = autograd.grad((x * 2).sum(), (x, u), materialize_grads=True)
    want = torch.autograd.grad((tx * 2).sum(), (tx, tu), materialize_grads=True)
    close(got[1], want[1])


def test_backward_of_several_outputs_with_grad_tensors_and_inputs():
    (x, tx), (w, tw) = pair(3), pair(3, seed=1)
    v = np.array([1.0, -2.0, 0.5])
    autograd.backward([x * w, (x ** 2).sum()], [tg.tensor(v), None])
    torch.autograd.backward([tx * tw, (tx ** 2).sum()], [torch.tensor(v), None])
    close(x.grad, tx.grad), close(w.grad, tw.grad)
    autograd.backward((x * w).sum(), inputs=[w])
    torch.autograd.backward((tx * tw).sum(), inputs=[tw])
    close(x.grad, tx.grad), close(w.grad, tw.grad)


def test_anomaly_switches():
    x = tg.tensor([0.0], requires_grad=True)
    with autograd.set_detect_anomaly(True):
        assert autograd.is_anomaly_enabled()
        with pytest.raises(FloatingPointError, match="sqrt|pow"):
            x.sqrt().sum().backward()
    assert not autograd.is_anomaly_enabled()
    with autograd.detect_anomaly():
        assert autograd.is_anomaly_enabled()
    autograd.set_detect_anomaly(True)
    assert autograd.is_anomaly_enabled()
    autograd.set_detect_anomaly(False)
    assert not autograd.is_anomaly_enabled()


# --- autograd.functional ---------------------------------------------------------------------------

def f_one(lib):
    return lambda x: (x.exp() * x.sin()).sum(0) if lib else None


FUNCS = {
    "vector -> vector": (lambda x: x.exp() * x.sin(), [(4,)]),
    "matrix -> vector": (lambda x: (x ** 2).sum(1), [(3, 2)]),
    "two -> one": (lambda x, y: x * y.tanh() + y, [(3,), (3,)]),
    "two -> two": (lambda x, y: (x * y, (x + y).exp()), [(2,), (2,)]),
}
SCALAR = {
    "one": (lambda x: (x.exp() * x.sin()).sum(), [(4,)]),
    "two": (lambda x, y: (x * y.tanh() + y ** 3).sum(), [(3,), (3,)]),
    "matrix": (lambda x: (x @ x).trace() if hasattr(x, "trace") else None, [(3, 3)]),
}


def inputs_for(shapes, seed=0):
    pairs = [pair(*s, seed=seed + i) for i, s in enumerate(shapes)]
    xs, txs = [p[0].detach() for p in pairs], [p[1].detach() for p in pairs]
    return (xs[0], txs[0]) if len(xs) == 1 else (tuple(xs), tuple(txs))


def close_tree(a, b):
    if isinstance(b, torch.Tensor):
        close(a, b)
    else:
        assert len(a) == len(b)
        for x, y in zip(a, b):
            close_tree(x, y)


@pytest.mark.parametrize("name", FUNCS)
def test_jacobian_vjp_jvp_as_torch(name):
    fn, shapes = FUNCS[name]
    x, tx = inputs_for(shapes)
    close_tree(autograd.functional.jacobian(fn, x), torch.autograd.functional.jacobian(fn, tx))
    out = fn(*(x if isinstance(x, tuple) else (x,)))
    v = tuple(tg.ones(o.shape, dtype=tg.float64) * 0.5 for o in (out if isinstance(out, tuple) else (out,)))
    tv = tuple(torch.ones(o.shape, dtype=torch.float64) * 0.5 for o in (out if isinstance(out, tuple) else (out,)))
    v, tv = (v[0], tv[0]) if len(v) == 1 else (v, tv)
    close_tree(autograd.functional.vjp(fn, x, v), torch.autograd.functional.vjp(fn, tx, tv))
    u = tuple(tg.tensor(np.linspace(-1, 1, int(np.prod(s))).reshape(s)) for s in shapes)
    tu = tuple(torch.tensor(np.linspace(-1, 1, int(np.prod(s))).reshape(s)) for s in shapes)
    u, tu = (u[0], tu[0]) if len(u) == 1 else (u, tu)
    close_tree(autograd.functional.jvp(fn, x, u), torch.autograd.functional.jvp(fn, tx, tu))


@pytest.mark.parametrize("name", SCALAR)
def test_hessian_hvp_vhp_as_torch(name):
    fn, shapes = SCALAR[name]
    x, tx = inputs_for(shapes, seed=4)
    close_tree(autograd.functional.hessian(fn, x), torch.autograd.functional.hessian(fn, tx))
    u = tuple(tg.tensor(np.linspace(-1, 1, int(np.prod(s))).reshape(s)) for s in shapes)
    tu = tuple(torch.tensor(np.linspace(-1, 1, int(np.prod(s))).reshape(s)) for s in shapes)
    u, tu = (u[0], tu[0]) if len(u) == 1 else (u, tu)
    close_tree(autograd.functional.vhp(fn, x, u), torch.autograd.functional.vhp(fn, tx, tu))
    close_tree(autograd.functional.hvp(fn, x, u), torch.autograd.functional.hvp(fn, tx, tu))


def test_functional_errors_as_torch():
    x = tg.ones(3, dtype=tg.float64)
    with pytest.raises(RuntimeError, match="The vector v can only be None if the user-provided function returns a "
                                           "single Tensor with a single element"):
        autograd.functional.vjp(lambda x: x * 2, x)
    with pytest.raises(RuntimeError, match="should contain a single element"):
        autograd.functional.vhp(lambda x: x * 2, x, x)
    with pytest.raises(RuntimeError, match="independent of input 1"):
        autograd.functional.jacobian(lambda x, y: x * 2, (x, x), strict=True)


# --- gradcheck ----------------------------------------------------------------------------------

def test_gradcheck_and_gradgradcheck():
    x = tg.randn(4, dtype=tg.float64, requires_grad=True)
    assert autograd.gradcheck(TG["MyReLU"].apply, (x,))
    assert autograd.gradcheck(lambda a: TG["ScaledCube"].apply(a, 1.5), (x,))
    assert autograd.gradgradcheck(lambda a: TG["ScaledCube"].apply(a, 1.5), (x,))
    assert autograd.gradcheck(lambda a, b: TG["MulAdd"].apply(a, b), (x, x.detach().clone().requires_grad_()))

    class Wrong(autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, g):
            return g * 3

    with pytest.raises(autograd.GradcheckError, match="Jacobian mismatch for output 0 with respect to input 0"):
        autograd.gradcheck(Wrong.apply, (x,))
    assert autograd.gradcheck(Wrong.apply, (x,), raise_exception=False) is False
    with pytest.warns(UserWarning, match="not a double precision"):
        autograd.gradcheck(lambda a: a * 2, (tg.ones(2, requires_grad=True),), raise_exception=False)
    with pytest.raises(ValueError, match="at least one input tensor to require gradient"):
        autograd.gradcheck(lambda a: a * 2, (tg.ones(2),))
