"""Linear algebra. A contraction's adjoint is a contraction."""
import math

import numpy as np

from . import reduce
from ..dims import BLAS_DTYPES, ones
from .op import Op


def _einsum_backward(g, out, *xs, eq):
    """The adjoint of a contraction is a contraction: input i's gradient is the einsum of g with
    the other inputs into input i's subscripts. A letter only input i has (summed away) comes
    back through a ones vector; a repeated letter (a diagonal) through an identity matrix."""
    ins, target = eq.split("->")
    ins = ins.split(",")
    free = iter(sorted(set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") - set(eq)))
    grads = []
    for i, (x, sub) in enumerate(zip(xs, ins)):
        others = [(s, y) for j, (s, y) in enumerate(zip(ins, xs)) if j != i]
        subs, operands, want = [target] + [s for s, _ in others], [g] + [y for _, y in others], ""
        for letter, n in zip(sub, x.shape):
            if letter in want:                                   # a diagonal: g meets an identity
                fresh = next(free)
                subs.append(letter + fresh)
                operands.append(np.eye(n, dtype=g.dtype))
                letter = fresh
            elif letter not in "".join(subs):                    # summed away: g is replicated
                subs.append(letter)
                operands.append(np.ones(n, g.dtype))
            want += letter
        grads.append(einsum(*operands, eq=",".join(subs) + "->" + want))
    return tuple(grads)



def _rows(a):
    """a as a matrix of its last dim's vectors: (..., n) -> (rows, n)."""
    return a.reshape(math.prod(a.shape[:-1]), a.shape[-1])


def _by_rows(x, w):
    """x @ w for x of any rank and a matrix w, as one matrix product (NumPy's stacked matmul loops over x's
    leading dims, 1.3-1.5x slower)."""
    return x @ w if x.ndim <= 2 else (_rows(x) @ w).reshape(x.shape[:-1] + w.shape[1:])


def _matmul(x, y):
    return _by_rows(x, y) if y.ndim == 2 else np.matmul(x, y)


def _matmul_backward(g, out, x, y, needs=(True, True)):
    if y.ndim == 2 and x.ndim > 2:      # (..., k) @ (k, n): y's gradient is one product over all the leading dims
        return _by_rows(g, y.T) if needs[0] else None, _rows(x).T @ _rows(g) if needs[1] else None
    return g @ y.swapaxes(-1, -2) if needs[0] else None, x.swapaxes(-1, -2) @ g if needs[1] else None


def _linear(x, w, b=None):
    out = _by_rows(x, w.T)
    if b is not None:
        out += b                        # (a fresh array: added in place)
    return out


def _linear_backward(g, out, x, w, b=None, needs=(True, True, True)):
    """x's gradient is g @ w; w's is one product over every leading dim of x; b's is g summed over them,
    here by the sum op (on arrays a product with ones: 1.6x faster than the engine's np.sum at (32, n)).
    Only those needed: an input that is data (a first layer's) costs no g @ w."""
    gx = _by_rows(g, w) if needs[0] else None
    gw = _rows(g).T @ _rows(x) if needs[1] else None
    if b is None:
        return gx, gw
    if not needs[2] or g.ndim == 1:
        return gx, gw, g if needs[2] else None
    if type(g) is np.ndarray and g.dtype in BLAS_DTYPES:       # (the sum op's own product, without its checks)
        rows = _rows(g)
        return gx, gw, ones(len(rows), g.dtype) @ rows
    return gx, gw, reduce.sum(g, axis=tuple(range(g.ndim - 1)), keepdims=False)


# linear algebra (2-D and batched; functional.matmul handles 1-D). A contraction's adjoint is a contraction.
matmul = Op("matmul", _matmul, _matmul_backward, "matmul with transpose: g @ y.T, x.T @ g", saves="inputs",
            reads=((1,), (0,)), needs=True)
linear = Op("linear", _linear, _linear_backward, "g @ w, g.T @ x, g summed over rows (torch's F.linear: x @ w.T + b)",
            saves="inputs", reads=((1,), (0,), ()), needs=True)
einsum = Op("einsum", lambda *xs, eq: np.einsum(eq, *xs, optimize=len(xs) > 1), _einsum_backward,
            "einsum of g with the other inputs", saves="inputs")

