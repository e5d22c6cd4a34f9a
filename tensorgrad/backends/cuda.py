"""torch.backends.cuda: matmul.allow_tf32 and friends, settable, with no effect (no GPU)."""


class _Matmul:
    """torch.backends.cuda.matmul: the flags GPU matmuls read (never read here)."""

    def __init__(self):
        self.allow_tf32 = False
        self.allow_fp16_reduced_precision_reduction = True
        self.allow_bf16_reduced_precision_reduction = True
        self.fp32_precision = "ieee"


matmul = _Matmul()


def is_built() -> bool:
    return False


def flash_sdp_enabled() -> bool:
    return False


def mem_efficient_sdp_enabled() -> bool:
    return False


def math_sdp_enabled() -> bool:
    return True


def enable_flash_sdp(enabled: bool) -> None:
    """No-op: attention is computed by its math definition here."""


def enable_mem_efficient_sdp(enabled: bool) -> None:
    """No-op."""


def enable_math_sdp(enabled: bool) -> None:
    """No-op."""
