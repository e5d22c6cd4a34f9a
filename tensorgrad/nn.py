"""Layers built on tensorgrad (torch.nn-like)."""
import sys

from . import functional

# `import tensorgrad.nn.functional as F`, as torch users write it
sys.modules[__name__ + ".functional"] = functional
