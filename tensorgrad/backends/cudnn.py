"""torch.backends.cudnn: enabled, benchmark, deterministic, allow_tf32 are settable and read back;
tensorgrad has no cuDNN, so they change nothing."""
enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    return False


def version():
    return None
