"""Making tensors: torch.tensor's dtype rules and the factories (zeros, arange, linspace, ...)."""
import numpy as np

from ..dims import shape_arg
from ..dtypes import DEFAULT, as_dtype, foreign_array
from ..device import check as check_device
from ..engine import Tensor, _as_array


def _make(data, dtype, requires_grad, name=None) -> Tensor:
    t = Tensor._wrap(data.astype(dtype or DEFAULT.float, copy=False))
    if requires_grad:
        t.requires_grad = True
    t.name = name
    return t


def tensor(data, dtype=None, requires_grad: bool = False, name: str | None = None, *, device=None) -> Tensor:
    """A new tensor holding a copy of data. Arrays keep their dtype; Python floats get the
    default dtype (float32), ints int64, bools bool, as torch.tensor."""
    check_device(device, "tensor")
    arr = _as_array(data, dtype)
    if isinstance(data, (Tensor, np.ndarray, np.generic)) and np.may_share_memory(arr, np.asarray(data)):
        arr = arr.copy()
    return _make(arr, arr.dtype, requires_grad, name)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with the array."""
    return Tensor._wrap(np.asarray(array))


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """torch.as_tensor: a Tensor stays itself (cast if dtype says), a NumPy array or another library's
    tensor (torch's: DLPack) is shared without a copy when its dtype fits; anything else is copied."""
    check_device(device, "as_tensor")
    dtype = None if dtype is None else as_dtype(dtype)
    if isinstance(data, Tensor):
        return data if dtype is None or data.dtype == dtype else Tensor._wrap(data._data.astype(dtype))
    arr = data if isinstance(data, np.ndarray) else foreign_array(data)
    if arr is not None and arr.dtype.kind in "biuf":
        return Tensor._wrap(arr if dtype is None or arr.dtype == dtype else arr.astype(dtype))
    return tensor(data, dtype=dtype)


def from_dlpack(ext_tensor) -> Tensor:
    """torch.from_dlpack: a Tensor sharing the memory of any DLPack tensor (torch's, NumPy's, JAX's)."""
    if isinstance(ext_tensor, Tensor):
        return Tensor._wrap(ext_tensor._data, ext_tensor._vc)
    if str(getattr(ext_tensor, "dtype", "")).endswith("bfloat16"):
        raise TypeError("tensorgrad does not implement torch.bfloat16 tensors: NumPy has no bfloat16; convert "
                        "with .float() first")
    return Tensor._wrap(np.from_dlpack(ext_tensor))


def zeros(*size, dtype=None, requires_grad=False, device=None, name=None) -> Tensor:
    check_device(device, "zeros")
    return _make(np.zeros(shape_arg(size)), dtype, requires_grad, name)


def ones(*size, dtype=None, requires_grad=False, device=None, name=None) -> Tensor:
    check_device(device, "ones")
    return _make(np.ones(shape_arg(size)), dtype, requires_grad, name)


def zeros_like(x, dtype=None, requires_grad=False, device=None) -> Tensor:
    check_device(device, "zeros_like")
    return _make(np.zeros(x.shape), dtype or x.dtype, requires_grad)


def ones_like(x, dtype=None, requires_grad=False, device=None) -> Tensor:
    check_device(device, "ones_like")
    return _make(np.ones(x.shape), dtype or x.dtype, requires_grad)


def eye(n: int, m: int | None = None, dtype=None, requires_grad=False, device=None) -> Tensor:
    check_device(device, "eye")
    return _make(np.eye(n, m), dtype, requires_grad)


def _number(v):
    return v.item() if isinstance(v, (Tensor, np.ndarray, np.generic)) else v


def arange(start, end=None, step=1, dtype=None, requires_grad=False, device=None) -> Tensor:
    """arange(5) -> 0..4, arange(0, 1, 0.25) -> 0, 0.25, 0.5, 0.75: ceil((end - start) / step)
    values start + i * step, computed in float64 (int64 for integer arguments, the default float
    dtype when any is a float), as torch."""
    check_device(device, "arange")
    start, end, step = (_number(v) for v in (start, end, step))
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    if (end - start) * step < 0:
        raise ValueError(f"arange: upper bound and step sign are inconsistent (start {start}, end {end}, step {step})")
    is_float = any(isinstance(v, float) for v in (start, end, step))
    n = max(int(np.ceil((end - start) / step)), 0) if is_float else max(-((start - end) // step), 0)
    data = start + np.arange(n) * np.float64(step) if is_float else np.arange(start, end, step, dtype=np.int64)
    if dtype is None:
        dtype = DEFAULT.float if is_float else np.int64
    return _make(data, dtype, requires_grad)


def full(size, fill_value, dtype=None, requires_grad=False, device=None) -> Tensor:
    """A tensor of fill_value: bool, int64 or the default float dtype from the value, as torch."""
    check_device(device, "full")
    fill_value = _number(fill_value)
    if dtype is None:
        dtype = np.bool_ if isinstance(fill_value, bool) else np.int64 if isinstance(fill_value, int) else None
    return _make(np.full(shape_arg((size,) if isinstance(size, int) else size), fill_value), dtype, requires_grad)


def full_like(input, fill_value, dtype=None, requires_grad=False, device=None) -> Tensor:
    """A tensor of fill_value with input's shape (and dtype, unless given)."""
    check_device(device, "full_like")
    return _make(np.full(input.shape, _number(fill_value)), dtype or input.dtype, requires_grad)


def empty(*size, dtype=None, requires_grad=False, device=None) -> Tensor:
    """Uninitialised in torch; zeros here (NumPy's empty would hand out stale memory)."""
    check_device(device, "empty")
    return zeros(*size, dtype=dtype, requires_grad=requires_grad)


def empty_like(input, dtype=None, requires_grad=False, device=None) -> Tensor:
    """zeros of input's shape (torch leaves them uninitialised)."""
    check_device(device, "empty_like")
    return zeros_like(input, dtype, requires_grad)


def linspace(start, end, steps: int, dtype=None, requires_grad=False, device=None) -> Tensor:
    """steps values from start to end; as torch, the first half counts up from start and the
    second half down from end, so both ends are exact, computed in the result's dtype."""
    check_device(device, "linspace")
    if steps < 0:
        raise ValueError(f"linspace: number of steps must be non-negative, got {steps}")
    dtype = np.dtype(dtype or DEFAULT.float)
    work = dtype if dtype.kind == "f" else np.dtype(np.float64)
    start, end = work.type(_number(start)), work.type(_number(end))
    i = np.arange(steps)
    step = (end - start) / work.type(max(steps - 1, 1))
    data = np.where(i < steps // 2, start + step * i.astype(work), end - step * (steps - 1 - i).astype(work))
    if steps == 1:
        data = np.array([start], work)
    return _make(data, dtype, requires_grad)


def logspace(start, end, steps: int, base: float = 10.0, dtype=None, requires_grad=False, device=None) -> Tensor:
    """base ** linspace(start, end, steps), as torch."""
    check_device(device, "logspace")
    exponents = linspace(start, end, steps, dtype=np.float64).numpy()
    return _make(np.power(float(base), exponents), dtype, requires_grad)
