"""Matrix functions on the last two dims (batched over the others): inverse, determinant, solve,
Cholesky factor, singular values, symmetric eigenvalues. Forwards are NumPy's LAPACK calls; each rule is
the matrix calculus identity beside it (real matrices)."""
import numpy as np

from ..engine import Tensor
from .linalg import matmul
from .op import Op
from .shape import permute


def _T(a):
    """The transpose of the last two dims (of an array, or of a tensor under create_graph)."""
    if isinstance(a, np.ndarray):
        return np.swapaxes(a, -1, -2)
    return permute(a, axes=tuple(range(a.ndim - 2)) + (a.ndim - 1, a.ndim - 2))


def _square(name, a):
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ValueError(f"{name}: expected square matrices (..., n, n), got shape {a.shape}")
    if a.dtype.kind != "f":
        raise TypeError(f"{name}: expected a floating point tensor, got {a.dtype}")


def _inv_forward(a):
    _square("inv", a)
    try:
        return np.linalg.inv(a)
    except np.linalg.LinAlgError:
        raise RuntimeError("linalg.inv: the matrix is singular (not invertible)") from None


def _adjugate_T(a):
    """The transposed adjugate, det(a) inv(a)^T, also where a is singular: from the SVD a = U S V^T,
    adj(a) = det(U) det(V) V adj(S) U^T with adj(S) the products of the other singular values."""
    u, s, vt = np.linalg.svd(a)
    others = np.stack([np.prod(np.delete(s, i, axis=-1), axis=-1) for i in range(s.shape[-1])], axis=-1)
    sign = np.linalg.det(u) * np.linalg.det(vt)
    adj = np.swapaxes(vt, -1, -2) @ (others[..., :, None] * np.swapaxes(u, -1, -2))
    return np.swapaxes(adj, -1, -2) * sign[..., None, None]


def _det_forward(a):
    _square("det", a)
    return np.asarray(np.linalg.det(a))


def _det_backward(g, out, a):
    """d det(A) / dA = adj(A)^T (det(A) inv(A)^T where A is invertible)."""
    if isinstance(g, Tensor):                   # create_graph: through recorded ops (invertible A)
        return (g * out)[..., None, None] * _T(inv(a))
    return np.asarray(g)[..., None, None] * _adjugate_T(a)


def _logabsdet_forward(a):
    _square("slogdet", a)
    return np.asarray(np.linalg.slogdet(a)[1])


def _solve_forward(a, b):
    _square("solve", a)
    vector = b.ndim == a.ndim - 1
    try:
        x = np.linalg.solve(a, b[..., None] if vector else b)
    except np.linalg.LinAlgError:
        raise RuntimeError("linalg.solve: the matrix A is singular") from None
    return x[..., 0] if vector else x


def _solve_backward(g, out, a, b):
    """X = A^-1 B: dB = A^-T g (a solve with A^T), dA = -dB X^T."""
    vector = b.ndim == a.ndim - 1
    gb = solve(_T(a), g)
    gx, x = (gb[..., None], out[..., None]) if vector else (gb, out)
    return -matmul(gx, _T(x)), gb


def _cholesky_forward(a):
    _square("cholesky", a)
    try:
        return np.linalg.cholesky(a)
    except np.linalg.LinAlgError:
        raise RuntimeError("linalg.cholesky: the input is not positive-definite") from None


def _cholesky_backward(g, out, a):
    """A = L L^T: with P = the lower triangle of L^T g, its diagonal halved, dA = L^-T P L^-1, made
    symmetric (A's two triangles are one variable), as torch."""
    L = out
    p = np.tril(_T(L) @ g)
    idx = np.arange(L.shape[-1])
    p[..., idx, idx] *= 0.5
    linv = np.linalg.inv(L)
    ga = _T(linv) @ p @ linv
    return (ga + _T(ga)) * 0.5


def _svdvals_forward(a):
    if a.ndim < 2 or a.dtype.kind != "f":
        raise ValueError(f"svdvals: expected floating point matrices (..., m, n), got {a.dtype} of shape {a.shape}")
    return np.linalg.svd(a, compute_uv=False)


def _svdvals_backward(g, out, a):
    """A = U S V^T: dA = U diag(g) V^T (distinct singular values)."""
    u, _, vt = np.linalg.svd(a, full_matrices=False)
    return (u * g[..., None, :]) @ vt


def _eigvalsh_forward(a, upper):
    _square("eigvalsh", a)
    return np.linalg.eigvalsh(a, UPLO="U" if upper else "L")


def _eigvalsh_backward(g, out, a, upper):
    """A = V diag(w) V^T, symmetric: dA = V diag(g) V^T (distinct eigenvalues)."""
    _, v = np.linalg.eigh(a, UPLO="U" if upper else "L")
    return (v * g[..., None, :]) @ _T(v)


inv = Op("inv", _inv_forward, lambda g, out, a: -matmul(matmul(_T(out), g), _T(out)), "-inv^T g inv^T", saves="out")
det = Op("det", _det_forward, _det_backward, "g * adj(A)^T (g det inv(A)^T)", saves="all")
logabsdet = Op("logabsdet", _logabsdet_forward, lambda g, out, a: g[..., None, None] * _T(inv(a)), "g * inv(A)^T",
               saves="inputs")
solve = Op("solve", _solve_forward, _solve_backward, "dB = solve(A^T, g), dA = -dB X^T", saves="all")
cholesky = Op("cholesky", _cholesky_forward, _cholesky_backward, "L^-T tril(L^T g) L^-1, symmetrised", saves="out")
svdvals = Op("svdvals", _svdvals_forward, _svdvals_backward, "U diag(g) V^T", saves="inputs")
eigvalsh = Op("eigvalsh", _eigvalsh_forward, _eigvalsh_backward, "V diag(g) V^T", saves="inputs")


# The SVD and the symmetric eigendecomposition, one op per output (the rule is linear in the outputs'
# gradients, so each output's part is its own rule; each forward recomputes the decomposition). The rules
# assume distinct singular values (eigenvalues), as torch's; the vectors' signs are LAPACK's.

def _svd(a, full: bool):
    if a.ndim < 2 or a.dtype.kind != "f":
        raise ValueError(f"svd: expected floating point matrices (..., m, n), got {a.dtype} of shape {a.shape}")
    return np.linalg.svd(a, full_matrices=full)


def _inverse_gaps(v):
    """F_ij = 1 / (v_j - v_i) off the diagonal, 0 on it: the rules' weights between distinct values."""
    eye = np.eye(v.shape[-1], dtype=bool)
    return np.where(eye, 0, 1 / np.where(eye, 1, v[..., None, :] - v[..., :, None]))


def _svd_u_backward(g, out, a, full):
    """dA from U's gradient (its first k columns): U (F o (U^T gU - gU^T U)) S V^T + (I - U U^T) gU S^-1 V^T."""
    u, s, vt = np.linalg.svd(a, full_matrices=False)
    k = s.shape[-1]
    gu = g[..., :k]
    inner = _inverse_gaps(s * s) * (_T(u) @ gu - _T(gu) @ u)
    left = gu - u @ (_T(u) @ gu)                                     # (I - U U^T) gU
    return u @ (inner * s[..., None, :]) @ vt + (left / s[..., None, :]) @ vt


def _svd_vh_backward(g, out, a, full):
    """dA from Vh's gradient (its first k rows), gV = gVh^T: U S (F o (V^T gV - gV^T V)) V^T + U S^-1 gV^T (I - V V^T)."""
    u, s, vt = np.linalg.svd(a, full_matrices=False)
    k = s.shape[-1]
    gv = _T(g[..., :k, :])
    v = _T(vt)
    inner = _inverse_gaps(s * s) * (vt @ gv - _T(gv) @ v)
    right = _T(gv) - (_T(gv) @ v) @ vt                               # gV^T (I - V V^T)
    return u @ (s[..., :, None] * inner) @ vt + u @ (right / s[..., :, None])


def _eigh_vectors_backward(g, out, a, upper):
    """A = V diag(w) V^T: dA = V (F o (V^T gV - gV^T V) / 2) V^T, F_ij = 1 / (w_j - w_i) (distinct eigenvalues)."""
    w, v = np.linalg.eigh(a, UPLO="U" if upper else "L")
    y = _T(v) @ g
    return v @ (_inverse_gaps(w) * (y - _T(y)) * 0.5) @ _T(v)


svd_u = Op("svd_u", lambda a, full: _svd(a, full)[0], _svd_u_backward, "U's part of the SVD's rule",
           saves="inputs")
svd_vh = Op("svd_vh", lambda a, full: _svd(a, full)[2], _svd_vh_backward, "Vh's part of the SVD's rule",
            saves="inputs")
def _eigh_vectors_forward(a, upper):
    _square("eigh", a)
    return np.linalg.eigh(a, UPLO="U" if upper else "L")[1]


eigh_vectors = Op("eigh_vectors", _eigh_vectors_forward, _eigh_vectors_backward, "V (F o skew(V^T gV)) V^T",
                  saves="inputs")
