"""torch.utils for tensorgrad: `data` (datasets, samplers and the DataLoader) and `checkpoint`."""
from . import checkpoint, data

__all__ = ["checkpoint", "data"]


from ..missing import module_getattr as _module_getattr  # noqa: E402

__getattr__ = _module_getattr("torch.utils")   # a missing name says which torch name it is
