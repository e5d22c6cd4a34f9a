"""torch.linalg: norms, inverse, determinant, solve, Cholesky, singular values and symmetric
eigenvalues, matrix powers and products. Batched over leading dims; the matrix functions are the ops of
ops/decomp.py (LAPACK forwards, matrix calculus rules), the rest composites of the op table."""
import builtins

import numpy as np

from .. import ops
from ..dims import return_type, wrap_dim
from ..engine import Tensor
from ..functions import cross as _cross
from ..functions import diagonal as _diagonal
from ..functions.linalg import SlogdetResult, det, matrix_power, slogdet  # noqa: F401  (torch.det is torch.linalg.det)
from ..functions.reduce import norm as _norm
from ..missing import module_getattr as _module_getattr
from ..ops import decomp

def inv(A) -> Tensor:
    """The inverse of each square matrix (a RuntimeError for a singular one, as torch)."""
    return decomp.inv(A)


def solve(A, B, *, left: bool = True) -> Tensor:
    """X with A X = B (B a vector or matrices, batched like A); left=False: X A = B."""
    if not left:
        return decomp.solve(A.mT, B.mT).mT
    return decomp.solve(A, B)


def cholesky(A, *, upper: bool = False) -> Tensor:
    """L lower triangular with L L^T = A (A symmetric positive-definite); upper=True: L^T."""
    L = decomp.cholesky(A)
    return L.mT if upper else L


def svdvals(A) -> Tensor:
    """The singular values of each matrix, in descending order."""
    return decomp.svdvals(A)


def eigvalsh(A, UPLO: str = "L") -> Tensor:
    """The eigenvalues of each symmetric matrix (read from its lower, or upper, triangle), ascending."""
    if UPLO not in ("L", "U"):
        raise ValueError(f"eigvalsh: UPLO must be 'L' or 'U', got {UPLO!r}")
    return decomp.eigvalsh(A, upper=UPLO == "U")


SVDResult = return_type("linalg_svd", ["U", "S", "Vh"])
EighResult = return_type("linalg_eigh", ["eigenvalues", "eigenvectors"])


def svd(A, full_matrices: bool = True, *, driver=None) -> SVDResult:
    """U, S, Vh with A = U diag(S) Vh (singular values descending). Gradients flow through all three (through
    the first min(m, n) columns of U and rows of Vh, for distinct singular values), as torch's."""
    return SVDResult(decomp.svd_u(A, full=full_matrices), decomp.svdvals(A), decomp.svd_vh(A, full=full_matrices))


SVDLegacyResult = return_type("svd", ["U", "S", "V"])


def svd_legacy(A, some: bool = True, compute_uv: bool = True) -> SVDLegacyResult:
    """torch.svd (before torch.linalg): U, S and V itself (not Vh); some=False gives the full U and V."""
    U, S, Vh = svd(A, full_matrices=not some)
    if not compute_uv:
        U, Vh = U.detach() * 0, Vh.detach() * 0
    return SVDLegacyResult(U, S, Vh.mT)


def eigh(A, UPLO: str = "L") -> EighResult:
    """The eigenvalues (ascending) and eigenvectors (columns, each up to its sign) of symmetric matrices."""
    if UPLO not in ("L", "U"):
        raise ValueError(f"eigh: UPLO must be 'L' or 'U', got {UPLO!r}")
    return EighResult(decomp.eigvalsh(A, upper=UPLO == "U"), decomp.eigh_vectors(A, upper=UPLO == "U"))


def pinv(A, *, atol=None, rtol=None, hermitian: bool = False) -> Tensor:
    """The pseudo-inverse V diag(1/s) U^T, singular values below max(atol, rtol * the largest) dropped
    (rtol defaults to max(m, n) * eps); differentiable through the SVD."""
    U, S, Vh = svd(A, full_matrices=False)
    eps = np.finfo(A.dtype).eps if A.dtype.kind == "f" else np.finfo(np.float32).eps
    rel = builtins.max(A.shape[-2:]) * eps if rtol is None and atol is None else (rtol or 0.0)
    top = S.detach().numpy().max(axis=-1, keepdims=True) if S.numel() else np.zeros(S.shape[:-1] + (1,))
    keep = S.detach().numpy() > np.maximum(atol or 0.0, rel * top)
    inv = ops.where(keep, 1 / ops.where(keep, S, 1.0), 0.0)
    return ops.matmul(Vh.mT * ops.reshape(inv, shape=inv.shape[:-1] + (1, inv.shape[-1])), U.mT)


def vector_norm(x, ord=2, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """The ord-norm of x taken as vectors over dim (all of x by default): any number, inf or -inf."""
    if isinstance(ord, str):
        raise RuntimeError(f"linalg.vector_norm: ord must be a number, got {ord!r}")
    _floating("vector_norm", x if dtype is None else x.astype(dtype))
    return _norm(x, ord, dim, keepdim, dtype)


def _floating(name, x):
    if x.dtype.kind != "f":
        raise RuntimeError(f"linalg.{name}: Expected a floating point or complex tensor as input. Got {x.dtype}")


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim: bool = False, *, dtype=None) -> Tensor:
    """'fro', 'nuc', inf / -inf (max / min row sum of |A|), 1 / -1 (columns), 2 / -2 (largest / smallest
    singular value), over the two dims."""
    if dtype is not None:
        A = A.astype(dtype)
    if A.ndim < 2:
        raise RuntimeError(f"linalg.matrix_norm: expected a tensor with 2 or more dims, got shape {A.shape}")
    _floating("matrix_norm", A)
    d0, d1 = (wrap_dim(d, A.ndim, "matrix_norm") for d in dim)
    if A.numel() == 0 and ord in ("fro", np.inf, 1):      # (0 for an empty matrix, as torch; its minimum
        return ops.sum(A, axis=(d0, d1), keepdims=keepdim)   # norms refuse an empty reduction, as torch's)
    if ord == "fro":
        return _norm(A, 2, (d0, d1), keepdim)
    if ord in (np.inf, -np.inf, 1, -1):
        rows, cols = (d1, d0) if ord in (np.inf, -np.inf) else (d0, d1)   # inf: sum along each row
        s = ops.sum(ops.abs(A), axis=(rows,), keepdims=True)
        out = (ops.amax if ord > 0 else ops.amin)(s, axis=(cols,), keepdims=True)
    elif ord in ("nuc", 2, -2):
        m = ops.permute(A, axes=tuple(i for i in range(A.ndim) if i not in (d0, d1)) + (d0, d1))
        s = decomp.svdvals(m)
        v = ops.sum(s, axis=(s.ndim - 1,), keepdims=False) if ord == "nuc" else (
            ops.amax if ord == 2 else ops.amin)(s, axis=(s.ndim - 1,), keepdims=False)
        return ops.reshape(v, shape=_kept(A.shape, (d0, d1))) if keepdim else v
    else:
        raise RuntimeError(f"linalg.matrix_norm: order {ord!r} not supported")
    return out if keepdim else ops.reshape(out, shape=tuple(n for i, n in enumerate(A.shape) if i not in (d0, d1)))


def norm(A, ord=None, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """vector_norm or matrix_norm, as torch decides: a matrix norm for ord given on a 2-d A (or a 2-tuple
    dim), else the vector 2-norm (of all of A when dim is None)."""
    two = (dim is not None and not isinstance(dim, int) and len(dim) == 2) or (dim is None and ord is not None
                                                                             and A.ndim == 2)
    if isinstance(ord, str) or (two and ord is not None):
        return matrix_norm(A, ord if ord is not None else "fro", dim if dim is not None else (-2, -1), keepdim,
                           dtype=dtype)
    if dim is None and ord is not None and A.ndim not in (1, 2):
        raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. "
                           f"Got {A.ndim}D.")
    return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)


def multi_dot(tensors) -> Tensor:
    """The product of a chain of matrices (the first and last may be vectors), left to right."""
    tensors = list(tensors)
    if len(tensors) < 2:
        raise RuntimeError("linalg.multi_dot: expected at least 2 tensors")
    first, last = tensors[0].ndim == 1, tensors[-1].ndim == 1
    ts = [ops.reshape(tensors[0], shape=(1, -1)) if first else tensors[0], *tensors[1:-1],
          ops.reshape(tensors[-1], shape=(-1, 1)) if last else tensors[-1]]
    out = ts[0]
    for t in ts[1:]:
        out = ops.matmul(out, t)
    if first and last:
        return ops.reshape(out, shape=())
    return ops.reshape(out, shape=out.shape[1:] if first else out.shape[:-1]) if first or last else out


def matrix_rank(A, *, tol=None, hermitian: bool = False) -> Tensor:
    """How many singular values exceed the tolerance (max(m, n) * eps * the largest, by default); int64."""
    if A._data.size == 0:
        return Tensor._wrap(np.zeros(A.shape[:-2], np.int64))
    s = np.linalg.svd(A._data, compute_uv=False)
    cut = tol if tol is not None else s.max(axis=-1, keepdims=True) * builtins.max(A.shape[-2:]) * np.finfo(
        A.dtype).eps
    return Tensor._wrap(np.asarray((s > cut).sum(axis=-1), np.int64))


def vecdot(x, y, *, dim: int = -1) -> Tensor:
    """The dot products of x and y along dim (broadcast together)."""
    for t in (x, y):
        _floating("vecdot", t)
    product = x * y
    if product.ndim == 0:                                   # (two 0-d tensors: their product)
        return product
    return ops.sum(product, axis=(wrap_dim(dim, product.ndim, "vecdot"),), keepdims=False)


def cross(input, other, *, dim: int = -1) -> Tensor:
    return _cross(input, other, dim=dim)


def diagonal(A, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    return _diagonal(A, offset, dim1, dim2)


def _kept(shape, dims):
    return tuple(1 if i in dims else n for i, n in enumerate(shape))


__all__ = ["inv", "det", "slogdet", "solve", "cholesky", "svd", "svdvals", "eigh", "eigvalsh", "pinv", "vector_norm", "matrix_norm",
           "norm", "matrix_power", "multi_dot", "matrix_rank", "vecdot", "cross", "diagonal"]
__getattr__ = _module_getattr("torch.linalg")   # (qr, lstsq, eig, ...: "tensorgrad does not implement ...")
