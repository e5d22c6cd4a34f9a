"""torch.nn.parameter: where torch keeps Parameter (`from torch.nn.parameter import Parameter`)."""
from .modules import Parameter  # noqa: F401
