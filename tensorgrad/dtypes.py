"""torch's dtype rules on NumPy: the default float dtype, promotion by category, and how
Python numbers and lists become arrays. Imports nothing of tensorgrad: every layer above uses it."""
import math
import warnings

import numpy as np


class _Default:
    float = np.dtype(np.float32)      # what Python floats become, as in torch


DEFAULT = _Default()


def set_default_dtype(dtype) -> None:
    """The dtype of tensors made from Python floats (float32 unless changed, as in torch)."""
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"set_default_dtype: expected a floating dtype, got {dtype}")
    DEFAULT.float = dtype


def get_default_dtype() -> np.dtype:
    return DEFAULT.float


def as_dtype(dtype) -> np.dtype:
    """np.dtype(dtype), with a clear error for things like 'cpu' passed where a dtype goes."""
    try:
        return np.dtype(dtype)
    except TypeError as e:
        if str(e).startswith("tensorgrad does not implement"):       # torch.bfloat16's own message
            raise
        raise TypeError(f"expected a dtype (tg.float32, tg.int64, ...), got {dtype!r}") from None


def _category(dtype) -> int:
    return "biufc".index(dtype.kind) if dtype.kind != "u" else 1


def promote_types(a: np.dtype, b: np.dtype) -> np.dtype:
    """torch.promote_types: the higher category wins with its own width (int64 + float32 is
    float32, where NumPy says float64); within a category, the wider type."""
    ca, cb = _category(a), _category(b)
    return np.promote_types(a, b) if ca == cb else (a if ca > cb else b)


def result_type(*operands) -> np.dtype:
    """torch's rule: tensors with dims decide; 0-d tensors, then Python numbers, only raise the
    category (bool < int < float), not the width: float32 * float64 0-d tensor -> float32,
    int64 * 2.5 -> the default float, uint8 + 300 -> uint8. (A tensor is anything with a
    NumPy dtype and ndim: arrays and Tensors alike.)"""
    dims, zero, numbers = [], [], []
    for a in operands:
        if isinstance(a, (bool, np.bool_)):
            numbers.append(np.dtype(np.bool_))
        elif isinstance(a, (int, np.integer)):
            numbers.append(np.dtype(np.int64))
        elif isinstance(a, (float, np.floating)):
            numbers.append(DEFAULT.float)
        elif hasattr(a, "dtype") and hasattr(a, "ndim"):
            (dims if a.ndim else zero).append(a.dtype)
        else:
            raise TypeError(f"unsupported operand of type {type(a).__name__}")
    out = None
    for group in (dims, zero, numbers):
        if not group:
            continue
        t = group[0]
        for d in group[1:]:
            t = promote_types(t, d)
        if group is numbers and t.kind == "f":
            t = DEFAULT.float                       # a Python float is the default dtype's
        if out is None or _category(t) > _category(out):
            out = t
    return out


def float_result_type(*operands) -> np.dtype:
    """result_type for ops whose result is a float (x / y, atan2): integers give the default float."""
    dtype = result_type(*operands)
    return dtype if dtype.kind == "f" else DEFAULT.float


def cast_value(a, dtype) -> np.ndarray:
    """A number or an array as an array of dtype (uint8 + 300 wraps, as in torch)."""
    if isinstance(a, np.ndarray):
        return a if a.dtype == dtype else a.astype(dtype)
    try:
        return np.array(a, dtype=dtype)
    except OverflowError:
        return np.array(a).astype(dtype)


_FLOAT_MAX = {}                                    # float dtype -> its largest finite value, as a Python float


def checked_scalar(value, dtype, op: str):
    """A number as a scalar of dtype, converted as torch converts a fill value (masked_fill): a float
    truncates into an integer dtype; a finite value past dtype's range is refused (a negative one wraps
    into an unsigned dtype, -1 into uint8 is 255, as in torch)."""
    dtype = np.dtype(dtype)
    v = value.item() if isinstance(value, (np.generic, np.ndarray)) else value
    if dtype.kind == "b":
        return np.bool_(bool(v))
    if dtype.kind == "f":
        try:
            f = float(v)
        except OverflowError:                 # (an int past float64's range: Python's error, as torch)
            raise OverflowError(f"{op}: an integer of {len(str(abs(v)))} digits is too large to convert to float") from None
        top = _FLOAT_MAX.get(dtype) or _FLOAT_MAX.setdefault(dtype, float(np.finfo(dtype).max))
        if top < abs(f) < math.inf:
            raise RuntimeError(f"{op}: value {v} cannot be converted to type {dtype} without overflow")
        return dtype.type(f)
    if isinstance(v, float) and not math.isfinite(v):
        raise RuntimeError(f"{op}: value {v} cannot be converted to type {dtype} without overflow")
    v, info = int(v), np.iinfo(dtype)
    if not (-info.max if dtype.kind == "u" else info.min) <= v <= info.max:
        raise RuntimeError(f"{op}: value {v} cannot be converted to type {dtype} without overflow")
    return dtype.type(v % (info.max + 1) if v < 0 and dtype.kind == "u" else v)


def as_array(data, dtype=None) -> np.ndarray:
    """torch.tensor's dtype rules for data that is not a Tensor (the engine unwraps those):
    arrays keep their dtype, Python floats get the default one, ints int64, bools bool."""
    if dtype is not None:
        dtype = as_dtype(dtype)
    foreign = foreign_array(data)
    if foreign is not None:
        data = foreign.copy()
    keep = isinstance(data, (np.ndarray, np.generic))
    if isinstance(data, (list, tuple)):
        data = [as_array(getattr(d, "_data", d)) if isinstance(d, (list, tuple)) or hasattr(d, "_data") else d
                for d in data]
    arr = np.array(data, dtype=dtype)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"tensor: cannot make a tensor of dtype {arr.dtype} from {type(data).__name__}")
    if dtype is None and not keep and arr.dtype.kind == "f":
        arr = arr.astype(DEFAULT.float, copy=False)
    return arr


def foreign_array(data):
    """The NumPy array of another library's tensor (torch's, JAX's: anything with __dlpack__), sharing its
    memory where DLPack can; None for anything else. A torch tensor that requires grad is taken detached,
    with torch's warning."""
    if isinstance(data, (np.ndarray, np.generic, list, tuple, int, float)) or not hasattr(data, "__dlpack__") \
            or hasattr(data, "_data"):
        return None
    if getattr(data, "requires_grad", False):
        warnings.warn("To copy construct from a tensor, it is recommended to use sourceTensor.detach().clone() or "
                      "sourceTensor.detach().clone().requires_grad_(True), rather than tensor(sourceTensor).",
                      UserWarning, stacklevel=4)
        data = data.detach()
    if str(getattr(data, "dtype", "")).endswith("bfloat16"):
        raise TypeError("tensorgrad does not implement torch.bfloat16 tensors: NumPy has no bfloat16; convert "
                        "with .float() first")
    try:
        return np.from_dlpack(data)
    except (BufferError, RuntimeError, TypeError):
        return np.asarray(data)                      # e.g. a tensor on a GPU that can copy itself to NumPy


def float_of(a):
    """Integers become the default float dtype in ops whose result is a float (exp, div), as in torch."""
    if type(a) is np.ndarray and a.dtype.kind == "f":      # (the common case first: every float op's forward)
        return a
    return a.astype(DEFAULT.float) if getattr(a, "dtype", None) is not None and a.dtype.kind in "biu" else a

