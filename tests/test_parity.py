"""torch semantics the op table's rows do not reach: aliasing of views and copies, in-place writes,
autograd.Function's mark_dirty, losses' weights and promotion, the integer and bool refusals. Each
case is a small program run with m = torch and m = tensorgrad; what it returns (values, and the
gradients it asks for) must agree, or both must refuse."""
import numpy as np
import pytest
import torch

import tensorgrad as tg

torch.set_num_threads(1)


def _values(out):
    if isinstance(out, (tuple, list)):
        return [v for o in out for v in _values(o)]
    if isinstance(out, (torch.Tensor, tg.Tensor)):
        return [(str(out.dtype).replace("torch.", ""), tuple(out.shape), out.detach().numpy())]
    return [(type(out).__name__, (), np.asarray(out))]


def _f64(m, values):
    return m.tensor(np.array(values, np.float64), requires_grad=True)


def _aliases(m):
    y = m.zeros(3, 3)
    y.diagonal().fill_(1)                      # diagonal is a view
    y.diagonal(1).add_(2)
    x = m.arange(4.0)
    x[0].fill_(9)                              # x[i] is a 0-d view
    f = x.flip(0)
    f[0] = -1                                  # flip is a copy
    r = m.ones(1, 3).repeat(2, 1)
    r[0] = 5                                   # repeat is a copy
    e = m.zeros(2)
    e.expand(3, 2).fill_(7)                    # a number may fill an expand()ed view
    return y, x, f, r, e


def _inplace_activations(m):
    x = _f64(m, [-1.0, 2.0, -3.0])
    h = x * 2
    out = m.nn.ReLU(inplace=True)(h)
    k = x * 1
    m.nn.functional.leaky_relu(k, 0.1, inplace=True)
    (h * k).sum().backward()
    return out is h, h, k, x.grad


def _floor_division(m):
    x = _f64(m, [1.5, -2.5, 3.0])
    y = m.div(x, 2, rounding_mode="floor")
    y.sum().backward()
    return y, y.requires_grad, x.grad, m.tensor([], dtype=m.long) % 0


def _softmax_args(m):
    x = m.tensor(np.arange(24.0).reshape(2, 3, 4) / 7)
    i = m.tensor([[1, 2], [3, 4]])
    with pytest.warns(UserWarning):
        implicit = m.nn.functional.softmax(x)            # dim 0 for a 3-d input, as torch's legacy rule
    return implicit, m.softmax(i, 1, dtype=m.float64), m.log_softmax(i, 0, dtype=m.float32)


def _erf_layouts(m):
    x = m.tensor(np.array([[1.5, 2.5], [-3.0, 0.2]], np.float32))
    return m.erf(x.T), m.erf(m.tensor(np.float32(-1.8453))), m.nn.functional.gelu(x.T)


def _gelu_half(m):
    x = m.tensor(np.array([-60.0, -2.0, 0.5, 3.0, 40.0], np.float16), requires_grad=True)
    y = m.nn.functional.gelu(x, approximate="tanh")
    y.sum().backward()
    return y, x.grad


def _casts_and_fills(m):
    b = m.tensor([True, False])
    b.zero_()
    b2 = m.tensor([True, False])
    b2.copy_(m.tensor([0.5, 0.0]))
    i = m.tensor([1, 2])
    i.fill_(2.7)
    z = m.zeros(3)
    z.expand(2, 3)[1] = m.ones(3)              # a tensor may go into elements the view holds once
    s = m.zeros(2, 3)
    s[0] = m.ones(1, 1, 3)                     # a value's extra leading 1s are dropped
    return b, b2, i, z, s


def _losses(m):
    F = m.nn.functional
    x, t = _f64(m, [0.5, 2.5, 1.0]), m.tensor([1.0, 5.0, 2.0], dtype=m.float64)
    w = m.tensor([1.0, 2.0, 3.0], dtype=m.float64)
    v = _f64(m, [1e-9, 2.0, 0.5])
    out = [F.mse_loss(x, t, weight=w), F.l1_loss(x, t, weight=w, reduction="sum"), F.huber_loss(x, t, weight=w),
           F.gaussian_nll_loss(x, t, v), F.gaussian_nll_loss(x, t, 0.5, full=True),
           F.hinge_embedding_loss(x, m.tensor([1.0, 0.0, -1.0], dtype=m.float64), margin=1.5),
           F.cosine_embedding_loss(m.zeros(2, 3, dtype=m.float64), x.reshape(1, 3).expand(2, 3),
                                   m.tensor([1.0, -1.0])),
           F.mse_loss(m.ones(2), m.tensor(2.0, dtype=m.float64)),      # a 0-d target's dtype counts in full
           F.l1_loss(m.tensor([1, 2]), m.tensor([3, 1]), reduction="sum")]
    sum(o.sum() for o in out[:7]).backward()
    return out, x.grad, v.grad


def _addmm_beta0(m):
    b = m.tensor([float("nan"), 1.0], requires_grad=True)
    x = m.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    out = m.addmm(b, x, x, beta=0, alpha=2)
    out.sum().backward()
    return out, b.grad, x.grad, m.addmm(m.tensor([1, 2]), m.tensor([[1, 2], [3, 4]]), m.tensor([[1, 0], [0, 1]]),
                                        beta=1.7, alpha=-1.5)


def _write_into_clamped(m):
    x = _f64(m, [-1.0, 0.5, 2.0])
    y = x.clamp(min=0)                         # clamp's backward reads x, not y: y may be written
    y.mul_(3)
    y.sum().backward()
    return y, x.grad


def _write_into_a_view_after_its_base(m):
    a = _f64(m, [1.0, 2.0, 3.0])
    b = a * 1
    v = b[0:2]
    b.mul_(2)                                  # the base is written after the view was made ...
    v.mul_(3)                                  # ... so the view's own write must start from that history
    (b * m.tensor([1.0, 10.0, 100.0], dtype=m.float64)).sum().backward()
    e = m.zeros(3)
    e.expand(2, 3).masked_fill_(m.tensor([True, False, True]), 4.0)
    return b, a.grad, e, m.zeros(0, 2).gather(1, m.tensor([], dtype=m.long)), m.zeros(2).scatter(0, m.tensor([1]), 0.5)


def _mark_dirty(m):
    class Double_(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.mul_(2)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 2

    a = _f64(m, [1.0, -2.0, 3.0])
    h = a * 3
    out = Double_.apply(h)
    c = a * 1
    Double_.apply(c[1:])                       # a view: its base's history is rewritten too
    (out * m.tensor([1.0, 2.0, 3.0], dtype=m.float64) + c).sum().backward()
    return out is h, out, c, a.grad


def _bool_and_integer_results(m):
    b, i = m.tensor([True, False, True]), m.tensor([3, -2, 0])
    kept = m.nan_to_num(i)
    return (m.square(b), m.nan_to_num(b), kept, kept is i, b ** True, b ** False, m.pow(b, True), b.pow(False),
            b ** 2, 2 ** b, True ** i, m.clamp(b, 0), m.clamp(b, m.tensor(True)), m.clamp(b, 0, True), m.sign(b),
            m.heaviside(i, m.tensor([5, 5, 7])), m.heaviside(b, m.tensor([False, True, True])))


def _numbers_in_xlogy_and_float_power(m):
    f = m.tensor(np.array([0.5, 3.0, 0.0], np.float32))
    i = m.tensor([1, -2, 0])
    x = _f64(m, [0.5, 0.0, 2.0])
    y = x.xlogy(2.5) + m.xlogy(1.5, x)
    y.sum().backward()
    return (m.xlogy(f, 2), m.xlogy(2, f), m.xlogy(i, f), m.xlogy(f, True), m.xlogy(i, 2), m.xlogy(0.5, i),
            m.xlogy(f, m.tensor([2.0, 3.0, 4.0], dtype=m.float64)), m.xlogy(f, m.tensor(2.0, dtype=m.float64)),
            m.float_power(2, f), m.float_power(2.5, i), m.float_power(True, i), m.float_power(i, True), y, x.grad)


def _copysign_and_heaviside_grad(m):
    x = _f64(m, [1.5, -2.0, 0.0, -0.0, 3.0])
    y = _f64(m, [-1.0, 2.0, -0.0, 1.0, 0.0])
    r = m.copysign(x, y)
    r.backward(m.ones(5, dtype=m.float64))
    s = m.copysign(m.tensor([1.0, -2.0], dtype=m.float64), y[:2])          # only the sign requires grad
    s.sum().backward()
    h = m.heaviside(x, y)
    return r, r.requires_grad, x.grad, s.requires_grad, y.grad, h, h.requires_grad, m.copysign(x, -1.0).requires_grad


def _lerp_dtypes(m):
    a = _f64(m, [0.0, 1.0, -2.0])
    end = m.tensor(np.array([1.0, 3.0, 0.5]), requires_grad=True)
    w = m.tensor(np.array([0.25, 0.5, 2.0]), requires_grad=True)
    out = m.lerp(a, end, w)
    out.sum().backward()
    f = m.tensor(np.array([0.5, 3.0], np.float32))
    return (out, a.grad, end.grad, w.grad, m.lerp(f, m.tensor(1.0), 0.5), m.lerp(f, f, True),
            m.lerp(f, f.flip(0), m.tensor(0.25, dtype=m.float64)))


def _add_sub_alpha(m):
    i, b, f = m.tensor([1, -2]), m.tensor([True, False]), m.tensor(np.array([0.5, 3.0], np.float32))
    d = m.tensor(2.0, dtype=m.float64)
    x = _f64(m, [1.0, 2.0])
    y = x.add(x, alpha=3.0) + m.sub(x, x * x, alpha=0.5)
    y.sum().backward()
    return (i.add(d, alpha=0.5), i.sub(d, alpha=0.5), m.add(i, d, alpha=0.5), i.add(f, alpha=0.5),
            i.add(2.0, alpha=0.5), i.add(i, alpha=2), b.add(b, alpha=2), b.add(b, alpha=False),
            b.add(True, alpha=True), b.add(i, alpha=2), b.add(f, alpha=0.5), f.sub(1, alpha=2),
            m.add(2, i, alpha=2), b.add(b), y, x.grad)


def _atan2_at_the_origin(m):
    y, x = _f64(m, [0.0, 1.0, 0.0]), _f64(m, [0.0, 0.0, -2.0])
    m.atan2(y, x).sum().backward()
    return y.grad, x.grad


PROGRAMS = [_aliases, _inplace_activations, _floor_division, _softmax_args, _erf_layouts, _gelu_half,
            _casts_and_fills, _losses, _addmm_beta0, _write_into_clamped, _write_into_a_view_after_its_base,
            _mark_dirty, _bool_and_integer_results, _numbers_in_xlogy_and_float_power, _copysign_and_heaviside_grad,
            _lerp_dtypes, _add_sub_alpha, _atan2_at_the_origin]


@pytest.mark.parametrize("program", PROGRAMS, ids=[p.__name__[1:] for p in PROGRAMS])
def test_program_as_torch(program):
    want, got = _values(program(torch)), _values(program(tg))
    assert len(got) == len(want)
    for i, ((wd, ws, w), (gd, gs, g)) in enumerate(zip(want, got)):
        assert (gd, gs) == (wd, ws), f"output {i}: {gd} {gs}, torch's {wd} {ws}"
        tol = dict(rtol=1e-2, atol=1e-2) if wd == "float16" else dict(rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(g.astype(np.float64), w.astype(np.float64), equal_nan=True, err_msg=str(i), **tol)


def _heaviside_backward(m):
    x = _f64(m, [1.0, 0.0])
    m.heaviside(x, m.tensor([0.5, 0.5], dtype=m.float64)).sum().backward()


_B, _I = (lambda m: m.tensor([True, False])), (lambda m: m.tensor([1, -2]))
REFUSED = {   # torch refuses these; so does tensorgrad, with the op's name (before any "/") in its message
    "kl_div": lambda m: m.nn.functional.kl_div(m.tensor([1, 2]), m.tensor([0.5, 0.5])),
    "allclose": lambda m: m.allclose(m.ones(2), m.ones(2, dtype=m.float64)),
    "matmul": lambda m: m.ones(2, 2) @ m.ones(2, 2, dtype=m.float64),
    "mm": lambda m: m.mm(m.ones(2, 2, dtype=m.bool), m.ones(2, 2, dtype=m.bool)),
    "floor_divide": lambda m: m.tensor([3, 4]) // m.tensor([1, 0]),
    "remainder": lambda m: m.tensor([3, 4]) % 0,
    "softmax": lambda m: m.softmax(m.tensor([1, 2]), 0),
    "leaky_relu": lambda m: m.nn.functional.leaky_relu(m.tensor([1, -2])),
    "relu": lambda m: m.nn.functional.relu(m.tensor([True])),
    "argmax": lambda m: m.tensor([True, False]).argmax(),
    "topk": lambda m: m.tensor([True, False]).topk(1),
    "layer_norm": lambda m: m.nn.functional.layer_norm(m.tensor([[1, 2]]), (2,)),
    "cross_entropy": lambda m: m.nn.functional.cross_entropy(m.tensor([[1, 2]]), m.tensor([0])),
    "mse_loss": lambda m: m.nn.functional.mse_loss(m.tensor([1, 2]), m.tensor([1, 3])),
    "add_": lambda m: m.zeros(4).add_(m.ones(1, 4)),
    "fill_": lambda m: m.zeros(2).fill_(m.ones(2)),
    "hardtanh": lambda m: m.nn.functional.hardtanh(m.tensor([1.0]), 2.0, 1.0),
    "adaptive_avg_pool2d": lambda m: m.nn.functional.adaptive_avg_pool2d(m.ones(1, 2, 2, dtype=m.long), 1),
    "gaussian_nll_loss": lambda m: m.nn.functional.gaussian_nll_loss(m.ones(2), m.ones(2), m.ones(3)),
    # bool and integer tensors torch has no kernel for
    "abs": lambda m: m.abs(_B(m)), "abs/operator": lambda m: abs(_B(m)),
    "round": lambda m: m.round(_B(m)), "floor": lambda m: _B(m).floor(), "ceil": lambda m: m.ceil(_B(m)),
    "trunc": lambda m: m.trunc(_B(m)), "frac": lambda m: m.frac(_B(m)), "frac/int": lambda m: _I(m).frac(),
    "neg": lambda m: -_B(m), "neg/method": lambda m: _B(m).neg(), "positive": lambda m: m.positive(_B(m)),
    "relu/torch": lambda m: m.relu(_B(m)), "relu/method": lambda m: _B(m).relu(),
    "clamp": lambda m: m.clamp(_B(m), min=True), "clamp/max": lambda m: _B(m).clamp(max=False),
    "logaddexp": lambda m: m.logaddexp(_B(m), _B(m)), "logaddexp/int": lambda m: m.logaddexp(_I(m), _I(m)),
    "hypot": lambda m: m.hypot(_I(m), _I(m)), "hypot/number": lambda m: m.hypot(m.ones(2), 2),
    "pow": lambda m: True ** _B(m), "pow/tensors": lambda m: _B(m) ** _B(m),
    "floor_divide/bool": lambda m: _B(m) // _B(m), "remainder/bool": lambda m: _B(m) % True,
    "fmod/bool": lambda m: m.fmod(_B(m), _B(m)), "div/bool": lambda m: m.div(_B(m), _B(m), rounding_mode="trunc"),
    "heaviside": lambda m: m.heaviside(m.ones(2), m.ones(2, dtype=m.float64)),
    "heaviside/0-d": lambda m: m.heaviside(_I(m), m.tensor(1, dtype=m.int32)),
    "heaviside/backward": _heaviside_backward,
    "lerp": lambda m: m.lerp(m.ones(2), m.ones(2, dtype=m.float64), 0.5),
    "lerp/int": lambda m: m.lerp(_I(m), _I(m), 1), "lerp/bool": lambda m: m.lerp(_B(m), _B(m), 0.5),
    "lerp/weight": lambda m: m.lerp(m.ones(2), m.ones(2), _I(m)),
    "copysign": lambda m: m.copysign(2, m.ones(2)),
    # add and sub's alpha: a float one needs a float result, a bool one a bool result; sub refuses bools
    "add": lambda m: _I(m).add(_I(m), alpha=0.5), "add/bool alpha": lambda m: _I(m).add(_I(m), alpha=True),
    "add/float": lambda m: m.ones(2).add(m.ones(2), alpha=True), "add/bool": lambda m: _B(m).add(_B(m), alpha=0.5),
    "sub": lambda m: _B(m).sub(_I(m), alpha=2), "sub/right": lambda m: m.sub(_I(m), _B(m)),
    "sub/number": lambda m: _B(m).sub(1), "sub/python bool": lambda m: m.ones(2).sub(True),
    "add/overflow": lambda m: m.ones(2).add(m.ones(2), alpha=1e40),
}


@pytest.mark.parametrize("op", REFUSED)
def test_refused_as_torch(op):
    with pytest.raises(Exception):
        REFUSED[op](torch)
    with pytest.raises(Exception, match=op.split("/")[0]):
        REFUSED[op](tg)
