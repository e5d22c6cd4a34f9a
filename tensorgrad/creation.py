"""Making tensors: torch.tensor's dtype rules, factories, and seeded random numbers."""
import numpy as np

from .tensor import Tensor, _as_array, _mode, _shape_arg


class Generator:
    """A seeded source of random numbers, as torch.Generator: g = tg.Generator().manual_seed(42).
    (Same seed, same numbers, run after run; not the same numbers as torch.)"""

    def __init__(self, seed: int | None = None):
        self.manual_seed(seed)

    def manual_seed(self, seed: int | None) -> "Generator":
        self.rng = np.random.default_rng(seed)
        return self


_default = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed the generator used when no generator= is passed."""
    return _default.manual_seed(seed)


def _make(data, dtype, requires_grad, name=None) -> Tensor:
    t = Tensor._wrap(data.astype(dtype or _mode.default_dtype, copy=False))
    if requires_grad:
        t.requires_grad = True
    t.name = name
    return t


def tensor(data, dtype=None, requires_grad: bool = False, name: str | None = None) -> Tensor:
    """A new tensor holding a copy of data. Arrays keep their dtype; Python floats get the
    default dtype (float32), ints int64, bools bool, as torch.tensor."""
    arr = _as_array(data, dtype)
    if isinstance(data, (Tensor, np.ndarray, np.generic)) and np.may_share_memory(arr, np.asarray(data)):
        arr = arr.copy()
    return _make(arr, arr.dtype, requires_grad, name)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with the array."""
    return Tensor._wrap(np.asarray(array))


def zeros(*size, dtype=None, requires_grad=False, name=None) -> Tensor:
    return _make(np.zeros(_shape_arg(size)), dtype, requires_grad, name)


def ones(*size, dtype=None, requires_grad=False, name=None) -> Tensor:
    return _make(np.ones(_shape_arg(size)), dtype, requires_grad, name)


def zeros_like(x, dtype=None, requires_grad=False) -> Tensor:
    return _make(np.zeros(x.shape), dtype or x.dtype, requires_grad)


def ones_like(x, dtype=None, requires_grad=False) -> Tensor:
    return _make(np.ones(x.shape), dtype or x.dtype, requires_grad)


def eye(n: int, m: int | None = None, dtype=None, requires_grad=False) -> Tensor:
    return _make(np.eye(n, m), dtype, requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad=False) -> Tensor:
    """arange(5) -> 0..4 (int64 for integer arguments, the default float dtype otherwise)."""
    data = np.arange(start, end, step) if end is not None else np.arange(start)
    if dtype is None and data.dtype.kind == "f":
        dtype = _mode.default_dtype
    return _make(data, dtype or np.int64, requires_grad)


def randn(*size, generator: Generator | None = None, dtype=None, requires_grad=False, name=None) -> Tensor:
    """Standard normal samples."""
    return _make((generator or _default).rng.standard_normal(_shape_arg(size)), dtype, requires_grad, name)


def rand(*size, generator: Generator | None = None, dtype=None, requires_grad=False, name=None) -> Tensor:
    """Uniform samples in [0, 1)."""
    return _make((generator or _default).rng.random(_shape_arg(size)), dtype, requires_grad, name)


def randint(low: int, high: int | None = None, size=(), generator: Generator | None = None,
            dtype=np.int64) -> Tensor:
    """Integers in [low, high), as torch.randint(low, high, size) or randint(high, size)."""
    if high is None:
        low, high = 0, low
    return _make((generator or _default).rng.integers(low, high, size=tuple(size)), dtype, False)
