"""torch's small process-wide names: Size, is_tensor, is_floating_point, threads, inference_mode,
float32 matmul precision, promote_types and can_cast, scalar_tensor and asarray; and how the process's
allocator keeps freed memory (keep_freed_memory)."""
import contextlib
import ctypes
import functools
import os

import numpy as np

from . import dtypes
from .dims import Size  # noqa: F401  (torch.Size)
from .engine import Tensor
from .functions.creation import as_tensor, tensor
from .modes import _mode

_threads = {"intra": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1,
            "inter": 1}
_matmul_precision = ["highest"]


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def is_floating_point(input: Tensor) -> bool:
    if not isinstance(input, Tensor):
        raise TypeError(f"is_floating_point(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    return input.dtype.kind == "f"


def set_num_threads(n: int) -> None:
    """Recorded for get_num_threads; NumPy's BLAS takes its thread count from OMP_NUM_THREADS at start."""
    if not isinstance(n, int) or n <= 0:
        raise RuntimeError("set_num_threads expects a positive integer")
    _threads["intra"] = n


def get_num_threads() -> int:
    return _threads["intra"]


def set_num_interop_threads(n: int) -> None:
    if not isinstance(n, int) or n <= 0:
        raise RuntimeError("Expected positive number of threads")
    _threads["inter"] = n


def get_num_interop_threads() -> int:
    return _threads["inter"]


def set_float32_matmul_precision(precision: str) -> None:
    """Accepted ('highest', 'high', 'medium'), no effect: NumPy's float32 matmul is full precision."""
    if precision not in ("highest", "high", "medium"):
        raise RuntimeError(f"Invalid mode: {precision}; expected one of highest, high, medium")
    _matmul_precision[0] = precision


def get_float32_matmul_precision() -> str:
    return _matmul_precision[0]


class inference_mode(contextlib.ContextDecorator):
    """torch.inference_mode(mode=True): no_grad for a with-block or a decorated function
    (`@torch.inference_mode()` and `@torch.inference_mode` alike). Tensors made inside are ordinary
    tensors (torch's 'inference tensors' refuse autograd later; these do not)."""

    def __new__(cls, mode=True):
        if mode is None or isinstance(mode, bool):
            return super().__new__(cls)
        return cls()(mode)                      # used bare, as @inference_mode

    def __init__(self, mode: bool = True):
        self.mode, self.saved = bool(mode), []

    def __enter__(self):
        self.saved.append((_mode.grad, _mode.__dict__.get("inference", False)))
        if self.mode:
            _mode.grad, _mode.inference = False, True
        return self

    def __exit__(self, *exc):
        _mode.grad, _mode.inference = self.saved.pop()
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def wrapped(*args, **kwargs):
            with self.__class__(self.mode):
                return func(*args, **kwargs)
        return wrapped


def is_inference_mode_enabled() -> bool:
    return bool(getattr(_mode, "inference", False))


def keep_freed_memory() -> bool:
    """Let glibc's malloc keep freed memory for the next step instead of handing it back to the system.

    Every NumPy temporary is a fresh allocation, and an op on a (16, 32, 256) float32 tensor makes
    512 KB ones. glibc returns memory freed at the top of its heap to the system once more than about
    twice its largest recent block is free there; the next step's allocations then fault every 4 KB
    page back in. The GPT lecture's model with GELU met 800 such faults a step, 10% of its time
    (benchmarks/gpt_lecture.py; the zoo's types none). So tensorgrad sets, at import, arrays below
    32 MB to come from the heap and up to 64 MB of free heap to be kept (mallopt's M_MMAP_THRESHOLD,
    whose own limit in glibc is 32 MB, and M_TRIM_THRESHOLD). A process's peak memory stays what it
    was; memory it frees stays with it, up to those 64 MB per malloc arena (glibc gives threads that
    allocate at once arenas of their own: a program whose 4 threads each free 60 MB keeps 240 MB).
    TENSORGRAD_KEEP_FREED_MEMORY=0 in the environment leaves glibc's defaults. Returns whether the
    setting was made (False on other C libraries: macOS, Windows, musl)."""
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION"):   # glibc only (ValueError or OSError elsewhere)
            return False
        mallopt = ctypes.CDLL(None).mallopt
    except (AttributeError, OSError, TypeError, ValueError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
    return bool(mallopt(M_MMAP_THRESHOLD, 32 << 20)) and bool(mallopt(M_TRIM_THRESHOLD, 64 << 20))


if os.environ.get("TENSORGRAD_KEEP_FREED_MEMORY", "1") != "0":
    keep_freed_memory()


def promote_types(type1, type2) -> np.dtype:
    """The dtype torch's arithmetic gives two dtypes (an int with a float is the float)."""
    return dtypes.promote_types(dtypes.as_dtype(type1), dtypes.as_dtype(type2))


def can_cast(from_, to) -> bool:
    """Whether torch's casting rules allow from_ -> to implicitly: never down a category (float -> int, int or
    float -> bool), any width within one."""
    rank = lambda d: 0 if d.kind == "b" else 1 if d.kind in "iu" else 2        # noqa: E731
    return rank(dtypes.as_dtype(from_)) <= rank(dtypes.as_dtype(to))


def scalar_tensor(s, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A 0-d tensor holding s, in the default float dtype unless dtype says."""
    return tensor(float(s), dtype=dtype or dtypes.get_default_dtype(), device=device, requires_grad=requires_grad)


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad: bool = False) -> Tensor:
    """torch.asarray: shares memory with a tensor or an array when it can (copy=True: never)."""
    out = tensor(obj, dtype=dtype, device=device) if copy else as_tensor(obj, dtype=dtype, device=device)
    if requires_grad:
        out = out.detach().requires_grad_() if out._node is not None or out is obj else out.requires_grad_()
    return out


_deterministic = [False, False]


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Accepted and remembered: tensorgrad's NumPy kernels are deterministic already (a run repeats bit for bit)."""
    _deterministic[:] = [bool(mode), bool(warn_only)]


def are_deterministic_algorithms_enabled() -> bool:
    return _deterministic[0]
