"""torch.utils for tensorgrad: `data` (datasets, samplers and the DataLoader)."""
from . import data

__all__ = ["data"]


from ..missing import module_getattr as _module_getattr  # noqa: E402

__getattr__ = _module_getattr("torch.utils")   # a missing name says which torch name it is
