"""The vectorized erf, erfc and erfinv (tensorgrad/ops/special.py) against the C library's math.erf and
math.erfc over the whole float64 range (tails, subnormals, inf, NaN), against torch, and the fused
GELU against its composite."""
import math

import mpmath
import numpy as np
import pytest
import torch

import tensorgrad as tg
import tensorgrad.nn.functional as F
from tensorgrad.ops import special

ULP = np.finfo(np.float64).eps


def _grid():
    """Uniform over [-6, 6] (erf's whole range before it rounds to +-1), over [-30, 30] (erfc's,
    which underflows past 27.2), log-uniform from the smallest subnormal to 30, and the edges."""
    rng = np.random.default_rng(0)
    logs = 10.0 ** rng.uniform(-323.5, 1.5, 40000) * rng.choice([-1, 1], 40000)
    edges = [0.0, -0.0, 5e-324, -5e-324, 1e-310, 2.2250738585072014e-308, 0.5, 1.0, 2.0, 4.0, 8.0, -0.5, -1.0,
             5.9, 6.0, 26.5, 27.2, 27.3, 1e300, -1e300]
    return np.concatenate([rng.uniform(-6, 6, 40000), rng.uniform(-30, 30, 20000), logs, edges])


def _ulps(got, want):
    scale = np.spacing(np.abs(want))                    # the spacing at want: subnormals included
    return np.abs(got - want) / scale


def test_erf_and_erfc_match_the_c_library_over_the_whole_range():
    x = _grid()
    erf, erfc = special.erf_values(x), special.erfc_values(x)
    want_erf = np.array([math.erf(v) for v in x])
    want_erfc = np.array([math.erfc(v) for v in x])
    assert _ulps(erf, want_erf).max() <= 2, x[np.argmax(_ulps(erf, want_erf))]
    assert _ulps(erfc, want_erfc).max() <= 4, x[np.argmax(_ulps(erfc, want_erfc))]
    assert erf.dtype == erfc.dtype == np.float64
    tiny = np.abs(x) < 1e-300                            # erf(x) ~ 2x / sqrt(pi), subnormals too
    assert tiny.sum() > 1000 and _ulps(erf[tiny], want_erf[tiny]).max() <= 1


def test_special_values():
    x = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0])
    np.testing.assert_array_equal(special.erf_values(x), [1.0, -1.0, np.nan, 0.0, -0.0])
    assert np.signbit(special.erf_values(x)[-1])
    np.testing.assert_array_equal(special.erfc_values(x), [0.0, 2.0, np.nan, 1.0, 1.0])
    y = np.array([1.0, -1.0, 0.0, -0.0, 1.5, -2.0, np.nan])
    np.testing.assert_array_equal(special.erfinv_values(y), [np.inf, -np.inf, 0.0, -0.0, np.nan, np.nan, np.nan])


def test_erfinv_is_accurate_to_a_few_ulps():
    mpmath.mp.dps = 40
    rng = np.random.default_rng(1)
    y = np.concatenate([rng.uniform(-1, 1, 300), 1 - 10 ** rng.uniform(-16, 0, 200), -(10 ** rng.uniform(-310, 0, 100)),
                        [1 - 2 ** -53, -1 + 2 ** -53, 5e-324]])
    want = np.array([float(mpmath.erfinv(mpmath.mpf(v))) for v in y])
    assert _ulps(special.erfinv_values(y), want).max() <= 2


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
def test_against_torch_in_each_dtype(dtype):
    rng = np.random.default_rng(2)
    x = np.concatenate([rng.standard_normal(5000) * 3, [0.0, 3.9, 4.0, 4.5, np.inf, -np.inf, np.nan]]).astype(dtype)
    y = np.concatenate([rng.uniform(-1, 1, 5000), [1.0, -1.0, 0.0]]).astype(dtype)
    tol = dict(rtol=1e-14, atol=1e-300) if dtype == np.float64 else dict(rtol=2e-7 if dtype == np.float32 else 1e-3,
                                                                          atol=1e-7 if dtype == np.float32 else 1e-3)
    for ours, theirs, arg in ((tg.erf, torch.erf, x), (tg.erfc, torch.erfc, x), (tg.erfinv, torch.erfinv, y)):
        got = ours(tg.tensor(arg))
        assert got.dtype == dtype
        want = theirs(torch.tensor(arg)).numpy()
        if dtype == np.float16:      # torch computes half in float32 and rounds; compare to that
            want = theirs(torch.tensor(arg.astype(np.float32))).numpy().astype(np.float16)
        np.testing.assert_allclose(got.numpy(), want, **tol, err_msg=ours.__name__ if hasattr(ours, "__name__") else "")


def test_float32_erf_is_within_one_float32_rounding_of_the_true_value():
    x = np.random.default_rng(3).standard_normal(200000).astype(np.float32) * 3
    exact = special.erf_values(x.astype(np.float64))
    err = np.abs(special.erf_values(x).astype(np.float64) - exact)
    assert err.max() <= 1.5 * np.spacing(np.float32(1)) / 2 + 1e-9


def _gelu_composite(x, approximate):
    if approximate == "tanh":
        return 0.5 * x * (1 + tg.tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)))
    return x * 0.5 * (1 + tg.erf(x * 0.7071067811865476))


@pytest.mark.parametrize("approximate", ["none", "tanh"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fused_gelu_matches_its_composite_and_torch(approximate, dtype):
    rng = np.random.default_rng(4)
    a = np.concatenate([rng.standard_normal(2000) * 3, [0.0, -10.0, 10.0, -40.0, 40.0]]).astype(dtype)
    g = rng.standard_normal(a.shape).astype(dtype)
    x, xc, xt = tg.tensor(a, requires_grad=True), tg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    out, ref, tref = F.gelu(x, approximate=approximate), _gelu_composite(xc, approximate), \
        torch.nn.functional.gelu(xt, approximate=approximate)
    assert out.grad_fn.name() == "gelu"                # one node
    out.backward(g)
    ref.backward(g)
    tref.backward(torch.tensor(g))
    # the tails of the tanh form cancel (1 + tanh near -1): absolute tolerances there (and torch's
    # float32 tanh(-4.3) is -1 exactly, NumPy's a float32 ulp above)
    tol = dict(rtol=1e-12, atol=1e-12) if dtype == np.float64 else dict(rtol=1e-5, atol=1e-5)
    for got, want in ((out.numpy(), ref.numpy()), (x.grad.numpy(), xc.grad.numpy()),
                      (out.numpy(), tref.detach().numpy()), (x.grad.numpy(), xt.grad.numpy())):
        np.testing.assert_allclose(got, want, **tol)
    assert x.grad.dtype == dtype


def test_gelu_refuses_an_unknown_approximation_and_integers():
    with pytest.raises(ValueError, match="approximate"):
        F.gelu(tg.ones(3), approximate="fast")
    with pytest.raises(TypeError, match="floating-point"):
        F.gelu(tg.tensor([1, 2]))
    half = F.gelu(tg.tensor([-1.0, 0.5, 3.0], dtype=tg.float16))
    assert half.dtype == np.float16
    np.testing.assert_allclose(half.numpy(), torch.nn.functional.gelu(torch.tensor([-1.0, 0.5, 3.0])).numpy(),
                               rtol=2e-3)
