"""Fit the Chebyshev expansions behind tensorgrad's erf, erfc and erfinv (tensorgrad/ops/special.py).

Each piece is a function smooth on its interval, sampled at Chebyshev nodes with mpmath at 50
digits; its Chebyshev coefficients (a discrete cosine transform of the samples) are rounded to
float64. The degree is the smallest whose expansion is within 1e-17 (relative) of the function
on a dense grid. Run `python scripts/fit_erf.py` to print the table pasted into ops/special.py.

  small:  erf(x) / x as a function of t = x**2 on [0, 1]          (|x| < 1)
  [a, b]: erfcx(x) = exp(x**2) * erfc(x) on [1/2, 1], [1, 2], [2, 4], [4, 8]
  tail:   x * erfcx(x) as a function of u = 1 / x**2 on (0, 1/64]  (x >= 8)
Float32's erf has lower-degree pieces for its 24 bits: the small one, and erfc itself on [1, 4]
(absolute error, 1 - erfc being the result).
GELU's float32 erf is one rational function over the whole of [-4, 4] (erf is 1 in float32
beyond): erf(x) = x * P(x**2) / Q(x**2), P of degree 6 and Q of degree 4, fitted in relative error
by least squares reweighted towards the minimax fit (Lawson's iteration), in float64 on 20,000
points; evaluated in float32 by Horner its error is about 6 units in the last place.
"""
import mpmath as mp
import numpy as np

mp.mp.dps = 50


def erfcx(x):
    return mp.exp(x * x) * mp.erfc(x)


PIECES = {
    "small": (lambda t: mp.erf(mp.sqrt(t)) / mp.sqrt(t) if t else 2 / mp.sqrt(mp.pi), 0, 1),
    "half_1": (erfcx, mp.mpf(1) / 2, 1),
    "1_2": (erfcx, 1, 2),
    "2_4": (erfcx, 2, 4),
    "4_8": (erfcx, 4, 8),
    "tail": (lambda u: erfcx(1 / mp.sqrt(u)) / mp.sqrt(u) if u else 1 / mp.sqrt(mp.pi), 0, mp.mpf(1) / 64),
}


def chebyshev(f, a, b, n):
    """The n coefficients of f's interpolant at the n Chebyshev nodes of [a, b]."""
    nodes = [mp.cos(mp.pi * (k + mp.mpf(1) / 2) / n) for k in range(n)]
    values = [f((b - a) / 2 * y + (b + a) / 2) for y in nodes]
    coef = [2 * mp.fsum(v * mp.cos(mp.pi * j * (k + mp.mpf(1) / 2) / n) for k, v in enumerate(values)) / n
            for j in range(n)]
    coef[0] /= 2
    return coef


def clenshaw(coef, y):
    b1 = b2 = 0
    for c in reversed(coef[1:]):
        b1, b2 = 2 * y * b1 - b2 + c, b1
    return y * b1 - b2 + coef[0]


def fit(f, a, b, tol, relative=True):
    grid = [a + (b - a) * mp.mpf(i) / 400 for i in range(401)]
    for n in range(4, 60):
        coef = chebyshev(f, a, b, n)
        err = max(abs(clenshaw(coef, (2 * x - a - b) / (b - a)) - f(x)) / (abs(f(x)) if relative else 1) for x in grid)
        if err < tol:   # the truncation error; rounding the coefficients to float64 adds about 1e-17
            return [float(c) for c in coef], err
    raise RuntimeError("no degree below 60 fits")


def fit_rational(m=6, n=4, top=4.0, rounds=30):
    """erf(x) / x ~ P(t) / Q(t), t = x**2, x in (0, top], Q(0) = 1: coefficients lowest first."""
    x = np.linspace(top / 20000, top, 20000)
    t, f = x * x, np.array([float(mp.erf(v) / v) for v in x])
    weight, q = np.ones_like(t), np.ones_like(t)
    for _ in range(rounds):              # f Q - P = 0, linear in the coefficients, scaled to relative error
        a = np.hstack([np.vander(t, m + 1, increasing=True), -f[:, None] * np.vander(t, n + 1, increasing=True)[:, 1:]])
        w = weight / (q * f)
        sol = np.linalg.lstsq(a * w[:, None], f * w, rcond=None)[0]
        p, qc = sol[: m + 1], np.concatenate([[1.0], sol[m + 1:]])
        q = np.polynomial.polynomial.polyval(t, qc)
        err = np.abs(np.polynomial.polynomial.polyval(t, p) / q - f) / f
        weight *= 1 + err / err.max()
    return [float(c) for c in p], [float(c) for c in qc], float(err.max())


if __name__ == "__main__":
    for name, (f, a, b) in PIECES.items():
        coef, err = fit(f, a, b, 1e-17)
        print(f"# {name}: degree {len(coef) - 1}, max relative error {float(err):.1e}")
        print(f"_{name.upper()} = (" + ", ".join(repr(c) for c in coef) + ")")
    f, a, b = PIECES["small"]          # float32's erf(x): x * S(x**2) for |x| < 1, 1 - erfc(x) on [1, 4]
    coef, err = fit(f, a, b, 3e-8)
    print(f"# float32 small: degree {len(coef) - 1}, max relative error {float(err):.1e}")
    print("_F32_SMALL = (" + ", ".join(repr(c) for c in coef) + ")")
    coef, err = fit(mp.erfc, 1, 4, 2e-8, relative=False)
    print(f"# float32 erfc on [1, 4]: degree {len(coef) - 1}, max absolute error {float(err):.1e}")
    print("_F32_ERFC_1_4 = (" + ", ".join(repr(c) for c in coef) + ")")
    p, q, err = fit_rational()
    print(f"# GELU's float32 erf on [-4, 4]: x P(x**2) / Q(x**2), max relative error {err:.1e} (in float64)")
    print("_F32_GELU_P = (" + ", ".join(repr(c) for c in p) + ")")
    print("_F32_GELU_Q = (" + ", ".join(repr(c) for c in q) + ")")
