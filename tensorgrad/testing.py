"""Checking gradients: finite differences, the lecture's cmp, and a side-by-side with torch."""
import collections

import numpy as np

from .engine import Tensor
from .gradients import grad
from .functions.creation import tensor
from .modes import set_grad_enabled

CmpResult = collections.namedtuple("CmpResult", ["name", "exact", "approximate", "maxdiff"])


def _np(a) -> np.ndarray:
    """An ndarray from a tensorgrad or torch tensor or anything array-like."""
    if isinstance(a, Tensor):
        return a.numpy()
    if hasattr(a, "detach"):                       # a torch tensor
        return a.detach().cpu().numpy()
    return np.asarray(a)


def cmp(name: str, manual_grad, t, rtol: float = 1e-5, atol: float = 1e-8, verbose: bool = True) -> CmpResult:
    """The lecture's check: compare a gradient computed by hand with t.grad (t a tensorgrad or
    torch tensor, or the gradient itself) and print `name | exact | approximate | maxdiff`."""
    dt = _np(manual_grad)
    ref = t.grad if hasattr(t, "grad") and not isinstance(t, np.ndarray) else t
    if ref is None:
        raise ValueError(f"cmp({name!r}): the tensor has no .grad (did backward reach it? call retain_grad() "
                         "on intermediates before backward)")
    ref = _np(ref)
    if dt.shape != ref.shape:
        raise ValueError(f"cmp({name!r}): the manual gradient has shape {dt.shape}, the tensor's {ref.shape}")
    exact = bool(np.all(dt == ref))
    approximate = bool(np.allclose(dt, ref, rtol=rtol, atol=atol))
    maxdiff = float(np.max(np.abs(dt.astype(np.float64) - ref))) if dt.size else 0.0
    if verbose:
        print(f"{name:15s} | exact: {str(exact):5s} | approximate: {str(approximate):5s} | maxdiff: {maxdiff}")
    return CmpResult(name, exact, approximate, maxdiff)


class GradcheckError(AssertionError):
    pass


def _loss(fn, inputs, weights):
    out = fn(*inputs)
    outs = out if isinstance(out, (tuple, list)) else (out,)
    total = 0.0
    for o, w in zip(outs, weights):
        total = total + (o * w).sum()
    return total


def gradcheck(fn, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-4,
              max_elements: int = 2000, n_directions: int = 16, seed: int = 0,
              raise_exception: bool = True) -> bool:
    """Compare autograd's gradients of fn(*inputs) with central differences, in float64.

    The outputs are contracted with fixed random weights (a non-uniform upstream gradient).
    Inputs with at most max_elements entries are checked entry by entry; bigger ones along
    n_directions random directions. Inputs that do not require grad are held constant."""
    rng = np.random.default_rng(seed)
    xs = [tensor(np.asarray(_np(x), dtype=np.float64), requires_grad=getattr(x, "requires_grad", True))
          if np.asarray(_np(x)).dtype.kind == "f" else x for x in inputs]
    with set_grad_enabled(False):
        out = fn(*xs)
    outs = out if isinstance(out, (tuple, list)) else (out,)
    weights = [rng.standard_normal(o.shape) for o in outs]
    diff = [x for x in xs if isinstance(x, Tensor) and x.requires_grad]
    analytic = grad(_loss(fn, xs, weights), diff, allow_unused=True)

    def f(x, value):  # the contracted loss with x's data set to value
        saved, x.data = x.numpy(), value
        try:
            with set_grad_enabled(False):
                return float(_loss(fn, xs, weights).item())
        finally:
            x.data = saved

    for i, (x, a) in enumerate(zip(diff, analytic)):
        a = np.zeros(x.shape) if a is None else a.numpy()
        base = x.numpy()
        if base.size <= max_elements:
            num = np.zeros(x.shape)
            for j in range(base.size):
                step = np.zeros(base.size)
                step[j] = eps
                step = step.reshape(x.shape)
                num.flat[j] = (f(x, base + step) - f(x, base - step)) / (2 * eps)
            got, want = a, num
        else:
            d = rng.standard_normal((n_directions,) + x.shape)
            want = np.array([(f(x, base + eps * di) - f(x, base - eps * di)) / (2 * eps) for di in d])
            got = np.array([np.sum(a * di) for di in d])
        if not np.allclose(got, want, atol=atol, rtol=rtol):
            if raise_exception:
                k = np.argmax(np.abs(got - want))
                raise GradcheckError(f"gradcheck: input {i} (shape {x.shape}): autograd and finite differences "
                                     f"disagree by up to {np.max(np.abs(got - want)):.3g} "
                                     f"(autograd {np.ravel(got)[k]:.6g}, numeric {np.ravel(want)[k]:.6g})")
            return False
    return True


def compare_with_torch(tg_fn, torch_fn, *arrays, requires_grad=None, rtol: float = 1e-7, atol: float = 1e-9,
                       seed: int = 0) -> dict:
    """Run tg_fn and torch_fn on the same data (NumPy arrays; floating ones require grad
    unless requires_grad says otherwise), backpropagate the same random upstream gradient,
    and assert that the outputs and every input's gradient agree. Returns the max differences.
    torch is imported here, when called, never by tensorgrad itself."""
    import torch
    rng = np.random.default_rng(seed)
    arrays = [np.asarray(a) for a in arrays]
    if requires_grad is None:
        requires_grad = [a.dtype.kind == "f" for a in arrays]
    ours = [tensor(a, requires_grad=r) for a, r in zip(arrays, requires_grad)]
    theirs = [torch.tensor(a, requires_grad=bool(r)) for a, r in zip(arrays, requires_grad)]
    out, ref = tg_fn(*ours), torch_fn(*theirs)
    report = {"out": _maxdiff(out.numpy(), _np(ref), "output", rtol, atol)}
    if out.requires_grad:
        g = rng.standard_normal(out.shape).astype(out.dtype)
        out.backward(g)
        ref.backward(torch.tensor(g))
        for i, (a, b) in enumerate(zip(ours, theirs)):
            if a.requires_grad:
                report[f"grad{i}"] = _maxdiff(_np(a.grad) if a.grad is not None else np.zeros(a.shape),
                                              _np(b.grad) if b.grad is not None else np.zeros(a.shape),
                                              f"gradient of input {i}", rtol, atol)
    return report


def _maxdiff(a, b, what, rtol, atol) -> float:
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        raise AssertionError(f"{what}: tensorgrad has shape {a.shape}, torch {b.shape}")
    if a.dtype.kind == "b" or b.dtype.kind == "b":
        a, b = a.astype(np.int64), b.astype(np.int64)
    if not np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True):
        raise AssertionError(f"{what}: tensorgrad and torch differ by up to {np.nanmax(np.abs(a - b)):.3g}")
    return float(np.nanmax(np.abs(a - b.astype(a.dtype)))) if a.size else 0.0


# torch.testing.assert_close's default tolerances, by dtype: (rtol, atol)
_CLOSE = {"float16": (1e-3, 1e-5), "float32": (1.3e-6, 1e-5), "float64": (1e-7, 1e-7)}


def assert_close(actual, expected, *, rtol=None, atol=None, equal_nan: bool = False, check_dtype: bool = True,
                 msg=None, **_ignored) -> None:
    """torch.testing.assert_close: tensors (tensorgrad's, torch's, arrays, numbers; or sequences and mappings
    of them) equal in shape and dtype and close elementwise, |a - e| <= atol + rtol |e|, with torch's default
    tolerances for the dtype; otherwise an AssertionError saying where and by how much."""
    if isinstance(actual, (list, tuple)) and isinstance(expected, (list, tuple)):
        if len(actual) != len(expected):
            raise AssertionError(f"The length of the sequences mismatch: {len(actual)} != {len(expected)}")
        for a, e in zip(actual, expected):
            assert_close(a, e, rtol=rtol, atol=atol, equal_nan=equal_nan, check_dtype=check_dtype, msg=msg)
        return
    if isinstance(actual, dict) and isinstance(expected, dict):
        if set(actual) != set(expected):
            raise AssertionError(f"The keys of the mappings do not match: {sorted(actual)} != {sorted(expected)}")
        for k in actual:
            assert_close(actual[k], expected[k], rtol=rtol, atol=atol, equal_nan=equal_nan, check_dtype=check_dtype,
                         msg=msg)
        return
    a, e = _np(actual), _np(expected)
    if a.shape != e.shape:
        raise AssertionError(msg or f"The values for attribute 'shape' do not match: {a.shape} != {e.shape}.")
    if check_dtype and a.dtype != e.dtype and not (np.ndim(actual) == 0 and not hasattr(actual, "dtype")):
        raise AssertionError(msg or f"The values for attribute 'dtype' do not match: {a.dtype} != {e.dtype}.")
    if (rtol is None) != (atol is None):
        raise ValueError("Both 'rtol' and 'atol' must be either specified or omitted")
    if rtol is None:
        rtol, atol = _CLOSE.get(np.promote_types(a.dtype, e.dtype).name, (0.0, 0.0))
    a64, e64 = a.astype(np.float64), e.astype(np.float64)
    close = np.isclose(a64, e64, rtol=rtol, atol=atol, equal_nan=equal_nan)
    if close.all():
        return
    bad = ~close
    diff = np.abs(a64 - e64)
    diff_bad = np.where(bad, np.nan_to_num(diff, nan=np.inf), -1)
    where = tuple(int(i) for i in np.unravel_index(np.argmax(diff_bad), a.shape)) if a.ndim else ()
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(bad, diff / np.abs(e64), -1)
    rel_at = tuple(int(i) for i in np.unravel_index(np.nanargmax(rel), a.shape)) if a.ndim else ()
    raise AssertionError(msg or (
        f"Tensor-likes are not close!\n\nMismatched elements: {int(bad.sum())} / {a.size} "
        f"({100 * bad.sum() / a.size:.1f}%)\nGreatest absolute difference: {diff[where]} at index {where} "
        f"(up to {atol} allowed)\nGreatest relative difference: {rel[rel_at]} at index {rel_at} "
        f"(up to {rtol} allowed)"))
