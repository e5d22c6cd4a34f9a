"""torch.accelerator: tensorgrad has none (it runs on the CPU)."""


def is_available() -> bool:
    return False


def current_accelerator(check_available: bool = False):
    return None


def device_count() -> int:
    return 0


def synchronize(device=None) -> None:
    """No-op."""


from .missing import module_getattr as _module_getattr  # noqa: E402

__getattr__ = _module_getattr("torch.accelerator")   # a missing name says which torch name it is
