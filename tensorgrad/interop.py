"""Handing tensors between tensorgrad and torch (or any DLPack library), both ways.

tensorgrad -> torch: a Tensor speaks NumPy's array interface (`__array__`) and DLPack
(`__dlpack__`, `__dlpack_device__`), so torch.tensor(t) copies it, torch.as_tensor(t) and
torch.from_dlpack(t) share its memory, np.asarray(t) is its array.
torch -> tensorgrad: tg.tensor(x) copies a torch tensor keeping its dtype (float64 stays float64),
tg.as_tensor(x) and tg.from_dlpack(x) share its memory. A torch tensor that requires grad is
copied detached, with torch's warning."""
import warnings

import numpy as np

_COPY_WARNING = ("To copy construct from a tensor, it is recommended to use sourceTensor.detach().clone() or "
                 "sourceTensor.detach().clone().requires_grad_(True), rather than tensor(sourceTensor).")


def foreign_array(data):
    """The NumPy array of a tensor of another library (torch, JAX, ...: anything with __dlpack__),
    sharing its memory where it can; None for anything else (lists, numbers, NumPy arrays, Tensors)."""
    if isinstance(data, (np.ndarray, np.generic, list, tuple, int, float, bool)) or not hasattr(data, "__dlpack__"):
        return None
    if getattr(data, "requires_grad", False):
        warnings.warn(_COPY_WARNING, UserWarning, stacklevel=4)
        data = data.detach()
    if str(getattr(data, "dtype", "")).endswith("bfloat16"):
        raise TypeError("tensorgrad has no bfloat16 (NumPy has no such dtype): convert the tensor with .float() "
                        "first")
    try:
        return np.from_dlpack(data)
    except (BufferError, RuntimeError, TypeError):
        return np.asarray(data)          # e.g. a tensor on another device that can copy itself to NumPy


def dlpack(self, *, stream=None, max_version=None, dl_device=None, copy=None):
    """Tensor.__dlpack__: the storage as a DLPack capsule (torch.from_dlpack(t) shares it)."""
    if stream is not None and stream != -1:
        raise BufferError("tensorgrad tensors live on the CPU: __dlpack__ takes no stream")
    kwargs = {} if max_version is None else {"max_version": max_version}
    if dl_device is not None:
        kwargs["dl_device"] = dl_device
    if copy is not None:
        kwargs["copy"] = copy
    return self._data.__dlpack__(**kwargs)


def dlpack_device(self):
    """Tensor.__dlpack_device__: (1, 0), DLPack's CPU."""
    return self._data.__dlpack_device__()


def as_tensor(data, dtype=None, device=None):
    """torch.as_tensor: a Tensor stays itself (cast if dtype says), a NumPy array or another library's
    tensor is shared without a copy when its dtype fits, anything else is copied (tg.tensor)."""
    from .creation import tensor
    from .devices import _check
    from .tensor import Tensor, _dtype
    _check(device, "as_tensor")
    dtype = None if dtype is None else _dtype(dtype)
    if isinstance(data, Tensor):
        return data if dtype is None or data.dtype == dtype else data.to(dtype)
    arr = foreign_array(data)
    if arr is None and isinstance(data, np.ndarray):
        arr = data
    if arr is not None and arr.dtype.kind in "biuf":
        return Tensor._wrap(arr if dtype is None or arr.dtype == dtype else arr.astype(dtype))
    return tensor(data, dtype=dtype)


def from_dlpack(ext_tensor):
    """torch.from_dlpack: a Tensor sharing the memory of any DLPack tensor (torch's, NumPy's, JAX's)."""
    from .tensor import Tensor
    if isinstance(ext_tensor, Tensor):
        return Tensor._wrap(ext_tensor._data, ext_tensor._vc)
    if str(getattr(ext_tensor, "dtype", "")).endswith("bfloat16"):
        raise TypeError("tensorgrad has no bfloat16 (NumPy has no such dtype): convert the tensor with .float() "
                        "first")
    return Tensor._wrap(np.from_dlpack(ext_tensor))
