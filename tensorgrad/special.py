"""torch.special: the special functions under their torch.special names (the table's erf, erfc and erfinv,
and composites of the table)."""
import math

from . import functions as fn
from .engine import Tensor
from .missing import module_getattr as _module_getattr
from .ops import erf, erfc, erfinv, exp2, expm1, log1p, sigmoid as expit  # noqa: F401
from .functions import log_softmax, logit, logsumexp, round, sinc, softmax, xlogy  # noqa: F401


def ndtr(x) -> Tensor:
    """The standard normal's CDF."""
    return (erf(x * (1 / math.sqrt(2))) + 1) * 0.5


def ndtri(p) -> Tensor:
    """The standard normal's inverse CDF."""
    return erfinv(p * 2 - 1) * math.sqrt(2)


def log_ndtr(x) -> Tensor:
    return ndtr(x).log()


def entr(x) -> Tensor:
    """-x log x (0 at 0, -inf below 0)."""
    return fn.where(x > 0, -fn.xlogy(x, x), fn.where(x == 0, 0.0, float("-inf")))


def xlog1py(x, y) -> Tensor:
    """x * log1p(y), 0 where x is 0."""
    return fn.where(x == 0, 0.0, x * log1p(y))


__getattr__ = _module_getattr("torch.special")   # (gammaln, digamma, i0, ...: "tensorgrad does not implement ...")
