"""Products and contractions (matmul, mm, einsum, tensordot, ...) on the matmul and einsum ops."""
import builtins
import collections
import math

import numpy as np

from .. import ops
from ..dims import return_type, wrap_dim
from ..engine import Tensor
from .math import where
from .reduce import norm
from .shape import _along_dim, cat, diagonal, squeeze, unsqueeze


def _one_dtype(op: str, *xs):
    """torch's products take operands of one dtype (no promotion) and have no bool kernel (not checked
    when an operand is empty, no kernel running, except for two vectors: dot)."""
    dtypes = [x.dtype for x in xs]
    if builtins.any(d != dtypes[0] for d in dtypes):
        raise RuntimeError(f"{op}: expected operands of one dtype, got {', '.join(map(str, dtypes))} (as torch, "
                           "which does not promote them: cast one with .to())")
    empty = builtins.any(x._data.size == 0 for x in xs)
    if dtypes[0] == np.bool_ and (not empty or builtins.all(x.ndim == 1 for x in xs)):
        raise NotImplementedError(f"{op}: not implemented for bool (as torch)")


def _bmm_of_nothing(x, y) -> bool:
    """Does torch's matmul take its batched path (not folding into mm) to an empty result, or over an
    empty contraction? It then checks no dtypes, and the result has y's. (It folds a >= 3-d x times a
    matrix into one mm, which checks, and checks a matrix x that requires grad times a >= 3-d y.)"""
    if x.ndim < 2 or y.ndim < 2 or builtins.max(x.ndim, y.ndim) < 3 or x.ndim >= 3 and y.ndim == 2:
        return False
    if x.ndim == 2 and x.requires_grad:               # (a matrix that needs a gradient times a >= 3-d y: checked)
        return False
    shape = np.broadcast_shapes(x.shape[:-2], y.shape[:-2]) + (x.shape[-2], y.shape[-1])
    return math.prod(shape) == 0 or x.shape[-1] == 0


def matmul(x, y):
    """1-D, 2-D and batched, as torch.matmul: 1-D operands get a dim added, then removed."""
    a, b = getattr(x, "_data", None), getattr(y, "_data", None)
    if (a is not None and b is not None and a.ndim == b.ndim == 2 and a.dtype == b.dtype and a.dtype.kind == "f"
            and a.shape[1] == b.shape[0]):
        return ops.matmul(x, y)                       # (the common call, checked at once)
    if not _bmm_of_nothing(x, y):
        _one_dtype("matmul", x, y)
    elif x.dtype != y.dtype:
        x = x.to(y.dtype)                             # (torch's empty batched product has y's dtype)
    if x.ndim == 0 or y.ndim == 0:
        raise ValueError(f"matmul: both operands need at least one dim, got shapes {x.shape} and {y.shape}")
    k1, k2 = x.shape[-1], y.shape[-2] if y.ndim > 1 else y.shape[0]
    if k1 != k2:
        raise ValueError(f"matmul: shapes {x.shape} and {y.shape} cannot be multiplied ({k1} != {k2})")
    if x.ndim > 1 and y.ndim > 1:
        return ops.matmul(x, y)
    out = ops.matmul(unsqueeze(x, 0) if x.ndim == 1 else x, unsqueeze(y, 1) if y.ndim == 1 else y)
    return squeeze(out, tuple(d for d, one in ((-1, y.ndim == 1), (-2, x.ndim == 1)) if one))


def trace(x):
    """The sum of a matrix's diagonal."""
    if x.ndim != 2:
        raise ValueError(f"trace: expected a matrix, got shape {x.shape}")
    return ops.sum(diagonal(x), axis=None, keepdims=False)


def outer(x, y):
    """The outer product x[i] * y[j] of two 1-D tensors."""
    for name, t in (("self", x), ("vec2", y)):
        if t.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {t.ndim}-D")
    return ops.reshape(x, shape=(-1, 1)) * ops.reshape(y, shape=(1, -1))


def _einsum_letters(equation: str, shapes: list) -> tuple:
    """'...ij,jk' with shapes -> explicit subscripts per operand and for the output; '...' becomes
    letters, and an ellipsis dim of size 1 that broadcasts against a bigger one is dropped from
    that operand (returned as the dims to squeeze)."""
    equation = equation.replace(" ", "")
    ins, _, out = equation.partition("->")
    ins = ins.split(",")
    if len(ins) != len(shapes):
        raise ValueError(f"einsum: the equation has {len(ins)} operands, {len(shapes)} were given")
    spare = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" if c not in equation]
    ell = builtins.max([len(s) - len(sub.replace("...", "")) for sub, s in zip(ins, shapes) if "..." in sub],
                       default=0)
    batch, subs, squeezes = spare[:ell], [], []
    for sub, shape in zip(ins, shapes):
        if "..." in sub:
            k = len(shape) - len(sub.replace("...", ""))
            sub = sub.replace("...", "".join(batch[ell - k:]))
        if len(sub) != len(shape):
            raise ValueError(f"einsum: subscripts '{sub}' do not match an operand of shape {shape}")
        subs.append(sub)
    sizes = {}
    for sub, shape in zip(subs, shapes):
        for c, n in zip(sub, shape):
            sizes[c] = builtins.max(sizes.get(c, 1), n)
    for i, (sub, shape) in enumerate(zip(subs, shapes)):
        drop = [j for j, (c, n) in enumerate(zip(sub, shape)) if n == 1 and sizes[c] != 1]
        squeezes.append(tuple(drop))
        subs[i] = "".join(c for j, c in enumerate(sub) if j not in drop)
    if "->" not in equation:            # implicit output: the letters used once, in order (ellipsis first)
        counts = collections.Counter("".join(subs))
        out = "".join(batch) + "".join(sorted(c for c in counts if counts[c] == 1 and c not in batch))
    else:
        out = out.replace("...", "".join(batch))
    return subs, out, squeezes


def einsum(equation: str, *operands):
    """torch.einsum: explicit or implicit output, '...', broadcasting. Its backward is an einsum too
    (ops.einsum): the adjoint of a contraction is a contraction."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    subs, out, squeezes = _einsum_letters(equation, [o.shape for o in operands])
    xs = [ops.reshape(o, shape=tuple(n for j, n in enumerate(o.shape) if j not in drop)) if drop else o
          for o, drop in zip(operands, squeezes)]
    return ops.einsum(*xs, eq=",".join(subs) + "->" + out)


def tensordot(a, b, dims=2):
    """Contract the last `dims` dims of a with the first of b, or the listed pairs: an einsum."""
    if isinstance(dims, (int, np.integer)):
        da, db = list(range(a.ndim - dims, a.ndim)), list(range(int(dims)))
    else:
        da, db = ([d] if isinstance(d, int) else list(d) for d in dims)
    da, db = [wrap_dim(d, a.ndim, "tensordot") for d in da], [wrap_dim(d, b.ndim, "tensordot") for d in db]
    letters = iter("abcdefghijklmnopqrstuvwxyz")
    sa = [next(letters) for _ in range(a.ndim)]
    sb = [next(letters) for _ in range(b.ndim)]
    for i, j in zip(da, db):
        sb[j] = sa[i]
    out = [c for i, c in enumerate(sa) if i not in da] + [c for j, c in enumerate(sb) if j not in db]
    _one_dtype("tensordot", a, b)
    return ops.einsum(a, b, eq="".join(sa) + "," + "".join(sb) + "->" + "".join(out))


def mm(input, mat2):
    """The product of two matrices."""
    if input.ndim != 2 or mat2.ndim != 2:
        raise ValueError(f"mm: expected two matrices, got shapes {input.shape} and {mat2.shape}")
    _one_dtype("mm", input, mat2)
    return matmul(input, mat2)


def bmm(input, mat2):
    """Batched matrix products: (B, n, m) @ (B, m, p)."""
    if input.ndim != 3 or mat2.ndim != 3 or input.shape[0] != mat2.shape[0]:
        raise ValueError(f"bmm: expected (B, n, m) and (B, m, p), got shapes {input.shape} and {mat2.shape}")
    _one_dtype("bmm", input, mat2)
    return matmul(input, mat2)


def mv(input, vec):
    """A matrix times a vector."""
    if input.ndim != 2 or vec.ndim != 1:
        raise ValueError(f"mv: expected a matrix and a vector, got shapes {input.shape} and {vec.shape}")
    _one_dtype("mv", input, vec)
    return matmul(input, vec)


def dot(input, other):
    """The dot product of two vectors."""
    if input.ndim != 1 or other.ndim != 1:
        raise ValueError(f"dot: expected two vectors, got shapes {input.shape} and {other.shape}")
    _one_dtype("dot", input, other)
    return matmul(input, other)


def addmm(input, mat1, mat2, beta: float = 1, alpha: float = 1):
    """beta * input + alpha * (mat1 @ mat2); input is ignored when beta is 0 (its NaNs too), and on
    integers beta and alpha are truncated to integers, as torch."""
    return _scaled_sum("addmm", input, (mat1, mat2), mm, beta, alpha)


def _scaled_sum(name, input, operands, product_of, beta, alpha):
    """beta * input + alpha * product_of(*operands), torch's addmm family (the checks above)."""
    _one_dtype(name, input, *operands)
    if input.dtype.kind in "iu":
        beta, alpha = int(beta), int(alpha)
    product = product_of(*operands)
    if np.broadcast_shapes(input.shape, product.shape) != product.shape:
        raise RuntimeError(f"{name}: input of shape {tuple(input.shape)} does not broadcast to the product's shape "
                           f"{tuple(product.shape)}")
    product = product if alpha == 1 else product * alpha
    if beta == 0:                   # input's gradient is 0, and its NaNs do not reach the result
        return where(np.zeros(input.shape, bool), input, 0) + product
    return (input if beta == 1 else input * beta) + product


def addmv(input, mat, vec, *, beta: float = 1, alpha: float = 1):
    """beta * input + alpha * (mat @ vec)."""
    return _scaled_sum("addmv", input, (mat, vec), mv, beta, alpha)


def addr(input, vec1, vec2, *, beta: float = 1, alpha: float = 1):
    """beta * input + alpha * outer(vec1, vec2)."""
    return _scaled_sum("addr", input, (vec1, vec2), outer, beta, alpha)


def baddbmm(input, batch1, batch2, *, beta: float = 1, alpha: float = 1):
    """beta * input + alpha * bmm(batch1, batch2)."""
    return _scaled_sum("baddbmm", input, (batch1, batch2), bmm, beta, alpha)


def addbmm(input, batch1, batch2, *, beta: float = 1, alpha: float = 1):
    """beta * input + alpha * the sum over the batch of bmm(batch1, batch2)."""
    return _scaled_sum("addbmm", input, (batch1, batch2), lambda a, b: ops.sum(bmm(a, b), axis=(0,), keepdims=False),
                       beta, alpha)


def vdot(input, other):
    """The dot product of two vectors (real tensors: no conjugate to take)."""
    return dot(input, other)


def ger(input, vec2):
    """The outer product (torch's old name for outer)."""
    return outer(input, vec2)


def cross(input, other, dim: int | None = None):
    """The cross product of 3-vectors along dim (torch.linalg.cross's default, -1, when not given)."""
    shape = np.broadcast_shapes(input.shape, other.shape)
    d = wrap_dim(-1 if dim is None else dim, len(shape), "cross")
    if shape[d] != 3:
        raise ValueError(f"cross: dim {d} must have size 3, got shape {shape}")
    x, y = ops.expand(input, shape=shape), ops.expand(other, shape=shape)
    a = [_along_dim(x, d, slice(i, i + 1)) for i in range(3)]
    b = [_along_dim(y, d, slice(i, i + 1)) for i in range(3)]
    return cat([a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]], d)


def diff(input, n: int = 1, dim: int = -1, prepend=None, append=None):
    """The n-th forward difference along dim (with prepend / append joined first)."""
    d = wrap_dim(dim, input.ndim, "diff")
    parts = [t for t in (prepend, input, append) if t is not None]
    x = cat(parts, d) if len(parts) > 1 else input
    for _ in range(n):
        x = _along_dim(x, d, slice(1, None)) - _along_dim(x, d, slice(None, -1))
    return x


def cdist(x1, x2, p: float = 2.0):
    """(..., P, M) and (..., R, M) -> the (..., P, R) p-norm distances between their rows."""
    return norm(unsqueeze(x1, -2) - unsqueeze(x2, -3), p, dim=-1)


def kron(input, other):
    """The Kronecker product: every element of input times all of other, as blocks."""
    n = builtins.max(input.ndim, other.ndim)
    a = ops.reshape(input, shape=(1,) * (n - input.ndim) + input.shape)
    b = ops.reshape(other, shape=(1,) * (n - other.ndim) + other.shape)
    spread_a = ops.reshape(a, shape=tuple(v for s in a.shape for v in (s, 1)))          # (a0, 1, a1, 1, ...)
    spread_b = ops.reshape(b, shape=tuple(v for s in b.shape for v in (1, s)))          # (1, b0, 1, b1, ...)
    return ops.reshape(spread_a * spread_b, shape=tuple(p * q for p, q in zip(a.shape, b.shape)))


def inner(input, other):
    """The sum of products over the last dims (input * other for a 0-d operand)."""
    if input.ndim == 0 or other.ndim == 0:
        return input * other
    return tensordot(input, other, dims=([-1], [-1]))


# matrix functions (ops/decomp.py): torch.det and friends, also torch.linalg's
SlogdetResult = return_type("slogdet", ["sign", "logabsdet"])


def det(A):
    """The determinant of each square matrix; its gradient is the adjugate's transpose (also where A is singular)."""
    return ops.decomp.det(A)


def inverse(A):
    """The inverse of each square matrix (a RuntimeError for a singular one, as torch)."""
    return ops.decomp.inv(A)


def slogdet(A):
    """(sign, log |det|) of each square matrix: the log without det's overflow; the gradient flows through logabsdet."""
    logabsdet = ops.decomp.logabsdet(A)                          # (first: its checks name the op)
    return SlogdetResult(Tensor._wrap(np.asarray(np.linalg.slogdet(A._data)[0])), logabsdet)


def logdet(A):
    """log det(A): NaN for a negative determinant, -inf for a singular matrix, as torch."""
    sign, logabs = slogdet(A)
    return where(sign < 0, float("nan"), logabs)


def matrix_power(A, n: int):
    """A @ A @ ... (n times), the identity for n = 0, powers of the inverse for n < 0 (by squaring)."""
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"matrix_power: expected square matrices, got shape {A.shape}")
    if n == 0:
        return Tensor._wrap(np.broadcast_to(np.eye(A.shape[-1], dtype=A.dtype), A.shape).copy())
    base, n, result = (inverse(A) if n < 0 else A), builtins.abs(n), None
    while n:
        if n & 1:
            result = base if result is None else matmul(result, base)
        n >>= 1
        if n:
            base = matmul(base, base)
    return result
