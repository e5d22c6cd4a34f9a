"""torch.backends: the switches scripts set for GPU kernels (TF32, cuDNN autotuning). They are
settable and read back, and change nothing: tensorgrad computes with NumPy on the CPU."""
from . import cuda, cudnn, mps

__all__ = ["cuda", "cudnn", "mps"]


from ..missing import module_getattr as _module_getattr  # noqa: E402

__getattr__ = _module_getattr("torch.backends")   # a missing name says which torch name it is
