"""torch.utils.tensorboard: SummaryWriter is tensorboardX's, which writes the event files TensorBoard
reads, when it is installed (pip install 'tensorgrad-ninja[tensorboard]'); without it, importing
this module says which extra to install, as torch's does when tensorboard is missing."""
try:
    from tensorboardX import SummaryWriter
except ImportError:
    raise ImportError("torch.utils.tensorboard on tensorgrad needs tensorboardX: pip install "
                      "'tensorgrad-ninja[tensorboard]' (or pip install tensorboardX)") from None

__all__ = ["SummaryWriter"]
