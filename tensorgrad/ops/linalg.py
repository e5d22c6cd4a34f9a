"""Linear algebra. A contraction's adjoint is a contraction."""
import math

import numpy as np

from ..engine import Tensor
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



def _rows(a) -> np.ndarray:
    """A stack of matrices (..., n, k) as one matrix of all their rows (prod(...) * n, k)."""
    return a.reshape(math.prod(a.shape[:-1]), a.shape[-1])


def _matmul(x, y):
    """x @ y. A stack of matrices times one matrix (a linear layer on (B, T, C)) is one product of all
    the stack's rows: NumPy would call BLAS once per matrix of the stack, 1.5-2x slower."""
    if y.ndim == 2 and x.ndim > 2 and x.flags.c_contiguous:
        return (_rows(x) @ y).reshape(x.shape[:-1] + y.shape[-1:])
    return np.matmul(x, y)


def _matmul_backward(g, out, x, y):
    """g @ y.T and x.T @ g; for a stack times one matrix, x's gradient as one product of all rows too.
    y's stays one product per matrix of the stack, which the engine sums (its un-broadcast, drawn by viz)."""
    if y.ndim == 2 and x.ndim > 2 and not isinstance(g, Tensor):
        return (_rows(g) @ y.T).reshape(x.shape), x.swapaxes(-1, -2) @ g
    return g @ y.swapaxes(-1, -2), x.swapaxes(-1, -2) @ g


# linear algebra (2-D and batched; functional.matmul handles 1-D). A contraction's adjoint is a contraction.
matmul = Op("matmul", _matmul, _matmul_backward, "matmul with transpose: g @ y.T, x.T @ g", saves="inputs")
einsum = Op("einsum", lambda *xs, eq: np.einsum(eq, *xs, optimize=len(xs) > 1), _einsum_backward,
            "einsum of g with the other inputs", saves="inputs")

