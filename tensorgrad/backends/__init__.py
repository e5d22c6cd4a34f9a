"""torch.backends: the switches scripts set for GPU kernels (TF32, cuDNN autotuning). They are
settable and read back, and change nothing: tensorgrad computes with NumPy on the CPU."""
from . import cuda, cudnn, mps

__all__ = ["cuda", "cudnn", "mps"]
