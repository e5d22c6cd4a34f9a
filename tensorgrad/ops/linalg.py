"""Linear algebra. A contraction's adjoint is a contraction."""
import numpy as np

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



# linear algebra (2-D and batched; functional.matmul handles 1-D). A contraction's adjoint is a contraction.
matmul = Op("matmul", np.matmul, lambda g, out, x, y: (g @ y.swapaxes(-1, -2), x.swapaxes(-1, -2) @ g),
            "matmul with transpose: g @ y.T, x.T @ g", saves="inputs")
einsum = Op("einsum", lambda *xs, eq: np.einsum(eq, *xs, optimize=len(xs) > 1), _einsum_backward,
            "einsum of g with the other inputs", saves="inputs")

