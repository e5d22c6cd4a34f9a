"""The error functions as ops: erf, erfc and erfinv, vectorized and accurate to float64 (NumPy has none).

As the C libraries do, each function is split into pieces where a smooth function has a short
polynomial expansion: here Chebyshev expansions fitted by scripts/fit_erf.py (which prints the
tables below; see its docstring), evaluated with Clenshaw's recurrence.

  erf(x)  = x * S(x**2)                         |x| < 1
  erfc(x) = exp(-x**2) * erfcx(x)               x >= 1/2, erfcx on [1/2, 1], [1, 2], [2, 4], [4, 8]
                                                and erfcx(x) = T(1 / x**2) / x beyond 8
  erf = 1 - erfc and erfc = 1 - erf where the subtraction loses no accuracy; odd and
  reflected (erfc(-x) = 2 - erfc(x)) for negative x.
exp(-x**2) is exp(-h*h) * exp(-(x - h) * (x + h)), h being x with its low 27 bits cleared, so
that h*h is exact: x**2 rounded would cost erfc's far tail 1e-13 of relative accuracy.
erfinv starts from a 3-digit closed form and takes three Halley steps on erf (or erfc near +-1).
Float32 erf (GELU's) has its own degree-6 small piece in float32 and the rest in float64.
"""
import math

import numpy as np

from ..dtypes import float_of
from .elementwise import exp
from .op import Op

# small: degree 11, max relative error 8.1e-18
_SMALL = (
    0.9754769393826541, -0.14226120510371365, 0.010035582187599796, -0.0005768764699767485, 2.741993125219606e-05,
    -1.1043175507344507e-06, 3.8488755420345036e-08, -1.1808582533875466e-09, 3.2334215826050435e-11,
    -7.991015946679151e-13, 1.7990723022320763e-14, -3.717374242306777e-16)
# half_1: degree 13, max relative error 4.6e-18
_HALF_1 = (
    0.5142540300448141, -0.09353436157631646, 0.007349543567965961, -0.0005170287683170955, 3.327489181039832e-05,
    -1.9877609419315706e-06, 1.1137198399251981e-07, -5.898649609389129e-09, 2.9712990142852805e-10,
    -1.430488185776242e-11, 6.608616284222898e-13, -2.939555278237893e-14, 1.2624996910923745e-15,
    -5.240060859272093e-17)
# 1_2: degree 16, max relative error 1.4e-18
_1_2 = (
    0.331427281639452, -0.0850021377067432, 0.009951127341466115, -0.0010810888102208325, 0.0001102324363119495,
    -1.0636830518218601e-05, 9.775012680479055e-07, -8.597922867888315e-08, 7.2677084117248425e-09,
    -5.923543840592542e-10, 4.6683928572294154e-11, -3.5661277015677288e-12, 2.645877951906767e-13,
    -1.9101658667347927e-14, 1.3439764866689656e-15, -9.22862586358592e-17, 6.166538925305747e-18)
# 2_4: degree 18, max relative error 7.7e-18
_2_4 = (
    0.1874295690262241, -0.05794652883669097, 0.008595247387396534, -0.0012284613640242594, 0.00016974366686180488,
    -2.2738329337044562e-05, 2.959844378804878e-06, -3.7513575581379714e-07, 4.6372828761738244e-08,
    -5.599455392564088e-09, 6.613160896679916e-10, -7.648271522199816e-11, 8.6709043258765e-12,
    -9.645456274371989e-13, 1.0536827958274151e-13, -1.1312630791525853e-14, 1.1945168599792162e-15,
    -1.2411859700371542e-16, 1.2575168967414823e-17)
# 4_8: degree 20, max relative error 9.0e-18
_4_8 = (
    0.09799557556862198, -0.03261716242283879, 0.005354444513048941, -0.0008675085617618387, 0.0001387834577332989,
    -2.1933248302183236e-05, 3.425716824410705e-06, -5.289955530513349e-07, 8.079076527537946e-08,
    -1.2207511691612988e-08, 1.8255151508559988e-09, -2.7024969193563974e-10, 3.9617523035370546e-11,
    -5.7526190432001634e-12, 8.275752891376922e-13, -1.1798167744005172e-13, 1.6671816834115386e-14,
    -2.3356284858639493e-15, 3.2446002710824344e-16, -4.468901482994143e-17, 5.998323769100549e-18)
# tail: degree 9, max relative error 5.0e-19
_TAIL = (
    0.5620232535497205, -0.002154013397999809, 1.2201568452414311e-05, -1.1354857606087159e-07,
    1.4587616832425226e-09, -2.3767849239084605e-11, 4.670311262343325e-13, -1.0705011190578531e-14,
    2.7953626725767493e-16, -8.160890983679291e-18)
# float32 small: degree 6, max relative error 1.3e-09
_F32_SMALL = (
    0.9754769393826541, -0.14226120510371365, 0.010035582187599788, -0.0005768764699763766, 2.7419931234205335e-05,
    -1.104316751632856e-06, 3.8456421204518986e-08)
# float32 erfc on [1, 4]: degree 14, max absolute error 1.1e-08
_F32_ERFC_1_4 = (
    0.03030252053999481, -0.05425132389646088, 0.03876375643903421, -0.021797487803849585, 0.00931417479288551,
    -0.0027481118327107963, 0.00035767517389730135, 0.00012686221078338594, -8.896524138768324e-05,
    2.2288474262551354e-05, -7.039486362659267e-08, -1.8081751183494695e-06, 5.516491350972609e-07,
    -2.318661706860551e-08, -3.149488510750512e-08)

_SQRT_PI_2 = 0.886226925452758       # sqrt(pi) / 2


def _clenshaw(coef, y):
    """sum_k coef[k] * T_k(y), y in [-1, 1], in y's dtype."""
    b1, b2, y2 = np.zeros_like(y), np.zeros_like(y), 2 * y
    for c in coef[:0:-1]:
        b1, b2 = y2 * b1 - b2 + c, b1
    return y * b1 - b2 + coef[0]


def _exp_minus_square(a):
    """exp(-a**2) without the rounding of a**2 (see the module docstring); float64."""
    a = np.minimum(a, 40.0)                      # exp(-1600) is 0 already; inf would give inf - inf
    h = (a.view(np.int64) & np.int64(-(1 << 27))).view(np.float64)
    return np.exp(-h * h) * np.exp((h - a) * (a + h))


def _erf_small(x):
    """erf(x) for |x| <= 1."""
    return x * _clenshaw(_SMALL, 2 * x * x - 1)


def _erfcx(a):
    """exp(a**2) * erfc(a) for a >= 1/2 (inf: 0; NaN: NaN), a 1-d float64 array."""
    out = np.full_like(a, np.nan)
    for lo, hi, coef in ((0.5, 1, _HALF_1), (1, 2, _1_2), (2, 4, _2_4), (4, 8, _4_8)):
        at = np.flatnonzero((a >= lo) & (a < hi))
        out[at] = _clenshaw(coef, (2 * a[at] - (lo + hi)) / (hi - lo))
    at = np.flatnonzero(a >= 8)
    v = a[at]
    with np.errstate(over="ignore"):                 # 1 / (v * v) is 0 for v past 1e154: the limit
        out[at] = _clenshaw(_TAIL, 128 / (v * v) - 1) / v
    return out


def _erfc_far(a):
    """erfc(a) for a >= 1/2, a 1-d float64 array."""
    with np.errstate(under="ignore", invalid="ignore"):
        return _exp_minus_square(a) * _erfcx(a)


def _by_pieces(x, pieces):
    """A new array (of x's shape) whose elements where cond(x) holds are f(x there), for each
    (cond, f): each piece is computed only on its own elements (flat indices: fast to gather)."""
    flat = x.ravel()
    out = np.empty_like(flat)
    for cond, f in pieces:
        at = np.flatnonzero(cond(flat))
        if at.size:
            out[at] = f(flat[at])
    return out.reshape(x.shape)


def _erf64(x):
    return _by_pieces(x, [(lambda v: np.abs(v) < 1, _erf_small),
                          (lambda v: ~(np.abs(v) < 1), lambda v: np.copysign(1 - _erfc_far(np.abs(v)), v))])


def _erf32(x):
    """float32 erf: x * S(x**2) over the whole array (most of GELU's inputs), then 1 - erfc(|x|)
    on [1, 4] where |x| >= 1 (beyond 4 the polynomial's 1.5e-8 rounds to 0: erf is +-1). Works on a
    flat contiguous copy: the writes through ravel() below must land (not in a 0-d's or a strided copy)."""
    shape, x = x.shape, np.ascontiguousarray(x).reshape(-1)
    y = x * x
    big = np.flatnonzero(~(y < 1))
    y += y
    y -= 1
    with np.errstate(over="ignore", invalid="ignore"):
        out = y * x.dtype.type(_F32_SMALL_POLY[0])                       # Horner, in place: c0 y + c1, ...
        out += x.dtype.type(_F32_SMALL_POLY[1])
        for c in _F32_SMALL_POLY[2:]:
            out *= y
            out += x.dtype.type(c)
    out *= x
    if big.size:
        v = x[big]
        a = np.minimum(np.abs(v), np.float32(4))
        erfc = _clenshaw(_F32_ERFC_1_4_32, (2 * a - 5) / np.float32(3))
        out[big] = np.copysign(1 - erfc, v)          # NaN stays NaN
    return out.reshape(shape)


_F32_SMALL_POLY = np.polynomial.chebyshev.cheb2poly(_F32_SMALL)[::-1]   # monomials in 2 x**2 - 1, highest first
_F32_ERFC_1_4_32 = tuple(np.float32(c) for c in _F32_ERFC_1_4)


# GELU's float32 erf on [-4, 4]: x P(x**2) / Q(x**2), max relative error 6.6e-08 (in float64)
_F32_GELU_P = (1.1283790940844138, 0.20707862856005024, 0.05151862796222586, 0.003988660701401308,
               0.00014724719250012574, -1.942321087425314e-06, 1.9114730909208788e-08)
_F32_GELU_Q = (1.0, 0.5168499075834437, 0.117951416135809, 0.014954094026018603, 0.0010206718862658727)


def erf_gelu32(x: np.ndarray) -> np.ndarray:
    """float32 erf as one rational function of x**2 on [-4, 4] (erf rounds to +-1 beyond): no pieces,
    no gathers, 1.5-2.5x faster than erf_values where some |x| >= 1, within 6 units in the last place
    (4e-7) where that is within 1-2 units; where every |x| < 1, erf_values' one polynomial. GELU's
    (x * Phi(x): the difference is far below float32 GELU's rounding against torch's); torch.erf
    itself keeps erf_values. scripts/fit_erf.py fits P and Q."""
    one = np.float32
    if x.size and -1 < x.min() and x.max() < 1:      # all in erf_values' small piece (a model at its
        return _erf32(x)                               # initialisation): one polynomial, cheaper still
    x = np.clip(x, one(-4), one(4))                    # NaN stays NaN
    t = x * x
    p = t * one(_F32_GELU_P[-1])
    for c in _F32_GELU_P[-2:0:-1]:                     # Horner, in place
        p += one(c)
        p *= t
    p += one(_F32_GELU_P[0])
    q = t * one(_F32_GELU_Q[-1])
    for c in _F32_GELU_Q[-2:0:-1]:
        q += one(c)
        q *= t
    q += one(1)
    p *= x
    p /= q
    return np.clip(p, one(-1), one(1), out=p)       # (its rounding can pass 1 by an ulp near the ends)


def erf_values(x: np.ndarray) -> np.ndarray:
    """The error function, elementwise, in x's float dtype (float64 for integers)."""
    x = np.asarray(x)
    if x.dtype == np.float32:
        return _erf32(x)
    if x.dtype == np.float16:
        return _erf32(x.astype(np.float32)).astype(np.float16)
    return _erf64(x.astype(np.float64, copy=False))


def erfc_values(x: np.ndarray) -> np.ndarray:
    """1 - erf(x), elementwise, accurate where it is tiny (until it underflows past x = 27.2)."""
    x = np.asarray(x)
    out = _by_pieces(x.astype(np.float64), [
        (lambda v: (v > -1) & (v < 0.5), lambda v: 1 - _erf_small(v)),
        (lambda v: v >= 0.5, _erfc_far),
        (lambda v: v <= -1, lambda v: 2 - _erfc_far(-v)),
        (np.isnan, lambda v: v)])
    return out.astype(x.dtype) if x.dtype.kind == "f" else out


def erfinv_values(y: np.ndarray) -> np.ndarray:
    """The inverse of erf on [-1, 1]: +-inf at +-1, NaN outside."""
    y = np.asarray(y)
    a = np.abs(y.astype(np.float64))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        # a start good to about 2e-3: the series near 0, Winitzki's closed form (a = 0.147) elsewhere
        log1m = np.log((1 - a) * (1 + a))                          # log(1 - y**2)
        k = 2 / (np.pi * 0.147) + log1m / 2
        far = np.sqrt(np.sqrt(k * k - log1m / 0.147) - k)
        near = _SQRT_PI_2 * a * (1 + np.pi / 12 * a * a + 7 * np.pi ** 2 / 480 * a ** 4)
        x = np.where(a < 0.5, near, far)
        tail = a > 0.5
        for _ in range(3):     # cubic convergence (the far tail starts further off)
            # Halley on f(x) = erf(x) - a (erfc(x) - (1 - a) near 1, where erf(x) - a cancels):
            # d = f / f', x -= d / (1 + x * d), with f' = 2 / sqrt(pi) exp(-x**2) and f'' = -2 x f'
            f = np.where(tail, (1 - a) - erfc_values(np.where(tail, x, 1)), _erf64(np.where(tail, 0, x)) - a)
            d = f / (np.exp(-x * x) / _SQRT_PI_2)
            x = np.where(np.isfinite(d), x - d / (1 + x * d), x)
        x = np.where(a == 1, np.inf, np.where(a > 1, np.nan, x))
    out = np.copysign(x, y)
    return out.astype(y.dtype) if y.dtype.kind == "f" else out


# ----------------------------------------------------------------------------
# the ops: erf's rule is 2/sqrt(pi) exp(-x**2), erfc's its negative, erfinv's the inverse's reciprocal

def _float_op(f):
    """A float-valued forward: integers become the default float dtype first."""
    return lambda x: f(float_of(x))


erf = Op("erf", _float_op(erf_values), lambda g, out, x: g * (2 / math.sqrt(math.pi)) * exp(-x * x),
         "g * 2/sqrt(pi) * exp(-x**2)", saves="inputs")
erfc = Op("erfc", _float_op(erfc_values), lambda g, out, x: g * (-2 / math.sqrt(math.pi)) * exp(-x * x),
          "-g * 2/sqrt(pi) * exp(-x**2)", saves="inputs")
erfinv = Op("erfinv", _float_op(erfinv_values), lambda g, out, x: g * (math.sqrt(math.pi) / 2) * exp(out * out),
            "g * sqrt(pi)/2 * exp(out**2)", saves="out")
