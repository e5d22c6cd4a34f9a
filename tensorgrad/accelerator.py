"""torch.accelerator: tensorgrad has none (it runs on the CPU)."""


def is_available() -> bool:
    return False


def current_accelerator(check_available: bool = False):
    return None


def device_count() -> int:
    return 0


def synchronize(device=None) -> None:
    """No-op."""
