"""torch.backends.mps: Apple's GPU, which tensorgrad does not use."""


def is_available() -> bool:
    return False


def is_built() -> bool:
    return False
