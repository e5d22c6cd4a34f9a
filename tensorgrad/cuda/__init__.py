"""torch.cuda, for code that asks about it: tensorgrad has no GPU. is_available() is False,
seeding and synchronize() are no-ops (there is nothing to seed or wait for), and anything that
needs a GPU (current_device, get_device_name, ...) says that tensorgrad does not implement it."""
from ..missing import not_implemented
from . import amp


def is_available() -> bool:
    return False


def device_count() -> int:
    return 0


def is_initialized() -> bool:
    return False


def is_bf16_supported(including_emulation: bool = True) -> bool:
    return False


def manual_seed(seed: int) -> None:
    """No-op: there is no GPU generator (seed the CPU one with tg.manual_seed)."""


def manual_seed_all(seed: int) -> None:
    """No-op: there is no GPU generator."""


def seed() -> None:
    """No-op."""


def seed_all() -> None:
    """No-op."""


def synchronize(device=None) -> None:
    """No-op: NumPy calls return when they are done."""


def empty_cache() -> None:
    """No-op: there is no GPU memory to release."""


def _no_gpu(name):
    def missing(*args, **kwargs):
        raise RuntimeError(f"tensorgrad does not implement torch.cuda.{name}: it has no GPU "
                           "(torch.cuda.is_available() is False)")
    missing.__name__ = name
    return missing


current_device = _no_gpu("current_device")
get_device_name = _no_gpu("get_device_name")
get_device_properties = _no_gpu("get_device_properties")
set_device = _no_gpu("set_device")
memory_allocated = _no_gpu("memory_allocated")
max_memory_allocated = _no_gpu("max_memory_allocated")
reset_peak_memory_stats = _no_gpu("reset_peak_memory_stats")


def __getattr__(name: str):
    if name.startswith("__"):
        raise AttributeError(name)
    raise not_implemented(f"torch.cuda.{name}")
