"""One message for every torch name tensorgrad lacks: "tensorgrad does not implement torch.X".

Each public module of tensorgrad sets `__getattr__ = missing.module_getattr("torch.nn")` (the torch
module it stands for), so that a missing attribute fails with the torch name to look for, not with
a bare AttributeError deep inside a script."""

PREFIX = "tensorgrad does not implement"


class NotImplementedByTensorgrad(AttributeError):
    """A torch name tensorgrad does not have (an AttributeError, so hasattr() and getattr(x, n, default) work)."""


def not_implemented(torch_name: str) -> NotImplementedByTensorgrad:
    return NotImplementedByTensorgrad(f"{PREFIX} {torch_name}")


def module_getattr(torch_path: str):
    """A module-level __getattr__ for the module standing for `torch_path`."""
    def __getattr__(name: str):
        if name.startswith("__") and name.endswith("__"):     # Python's own probes (__path__, __wrapped__, ...)
            raise AttributeError(f"module {torch_path!r} has no attribute {name!r}")
        raise not_implemented(f"{torch_path}.{name}")
    return __getattr__
