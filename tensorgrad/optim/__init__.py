"""tensorgrad.optim, as torch.optim: optimizers with param groups and state dicts, and lr schedulers."""
from . import lr_scheduler
from .adaptive import ASGD, Adadelta, Adamax, NAdam, RAdam
from .lbfgs import LBFGS
from .optimizer import SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "NAdam", "RAdam", "Adamax", "Adadelta", "ASGD",
           "LBFGS", "lr_scheduler"]
