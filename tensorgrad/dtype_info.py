"""torch.finfo, torch.iinfo, and torch.bfloat16 as a name.

NumPy has no bfloat16, so tensorgrad cannot make a tensor of it; but scripts list it in dtype tables
(`{'float32': torch.float32, 'bfloat16': torch.bfloat16}`), so the name exists, prints as torch's,
and any attempt to make a tensor with it (through any NumPy call) fails saying so."""
import numpy as np

from .missing import PREFIX


class _BFloat16:
    """torch.bfloat16: a name only. NumPy asks any dtype-like object for its `.dtype`; this one answers
    with the error."""

    is_floating_point, is_signed, itemsize = True, True, 2

    @property
    def dtype(self):
        raise TypeError(f"{PREFIX} torch.bfloat16 tensors: NumPy has no bfloat16; use tg.float32 (or tg.float16)")

    def __repr__(self):
        return "torch.bfloat16"

    __str__ = __repr__

    def __reduce__(self):
        return "bfloat16"


bfloat16 = _BFloat16()


def _dtype_arg(type, what: str) -> np.dtype:
    if type is None:
        from .dtypes import get_default_dtype
        return np.dtype(get_default_dtype())
    if type is bfloat16:
        raise TypeError(f"{PREFIX} torch.{what}(torch.bfloat16): NumPy has no bfloat16")
    return np.dtype(type)


class finfo:
    """torch.finfo(dtype): the limits of a floating dtype (default: the default dtype)."""

    def __init__(self, type=None):
        dt = _dtype_arg(type, "finfo")
        if dt.kind != "f":
            raise TypeError("torch.finfo() requires a floating point input type. Use torch.iinfo to handle "
                            "'torch.finfo'")
        info = np.finfo(dt)
        self.bits, self.dtype = info.bits, dt.name
        self.eps, self.max, self.min = float(info.eps), float(info.max), float(info.min)
        self.tiny = self.smallest_normal = float(info.smallest_normal)
        self.resolution = 10.0 ** -info.precision          # torch: a float64 power of ten, not the dtype's

    def __repr__(self):
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, eps={self.eps:g}, "
                f"smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:
    """torch.iinfo(dtype): the limits of an integer (or bool) dtype."""

    def __init__(self, type):
        dt = _dtype_arg(type, "iinfo")
        if dt.kind not in "iub":
            raise TypeError("torch.iinfo() requires an integer input type. Use torch.finfo to handle "
                            "'torch.iinfo'")
        if dt.kind == "b":
            self.bits, self.min, self.max = 8, 0, 1
        else:
            info = np.iinfo(dt)
            self.bits, self.min, self.max = info.bits, int(info.min), int(info.max)
        self.dtype = dt.name

    def __repr__(self):
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"
