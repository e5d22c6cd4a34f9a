"""tensorgrad: micrograd grown up to tensors. A NumPy-backed autograd engine you can read."""
import numpy as np

from . import functional, methods, ops, testing  # methods binds the torch-style methods onto Tensor
from .creation import (Generator, arange, eye, from_numpy, manual_seed, ones, ones_like, rand, randint, randn,
                       tensor, zeros, zeros_like)
from .functional import (cat, clamp, gather, index_add, log_softmax, logsumexp, matmul, maximum, minimum, one_hot,
                         relu, scatter_add, softmax, sqrt, stack, where)
from .methods import device
from .ops import OPS, Op, abs, exp, log, op, sigmoid, sign, tanh
from .conventions import result_type
from .tensor import (Tensor, record_walk, detect_anomaly, enable_grad, get_default_dtype, grad, is_grad_enabled, name_scope, no_grad,
                     set_default_dtype, set_grad_enabled)

# torch's dtype names: tg.float32 works wherever a dtype goes, and x.dtype == tg.float32 holds
float16, float32, float64 = np.float16, np.float32, np.float64
int8, int16, int32, int64, uint8, bool_ = np.int8, np.int16, np.int32, np.int64, np.uint8, np.bool_
half, float, double, short, int, long, bool = float16, float32, float64, int16, int32, int64, bool_


class cuda:
    """torch.cuda, for code that asks: tensorgrad has no GPU backend."""
    is_available = staticmethod(lambda: False)
    device_count = staticmethod(lambda: 0)
    manual_seed = manual_seed_all = staticmethod(lambda seed: None)


def _t(x) -> Tensor:
    return x if isinstance(x, Tensor) else tensor(x)


# torch-style function forms of the Tensor methods that take dims. (exp, tanh, relu, ... above
# work on tensors and, inside backward rules, on plain arrays too.)
def sum(x, *args, **kwargs): return _t(x).sum(*args, **kwargs)
def mean(x, *args, **kwargs): return _t(x).mean(*args, **kwargs)
def var(x, *args, **kwargs): return _t(x).var(*args, **kwargs)
def std(x, *args, **kwargs): return _t(x).std(*args, **kwargs)
def max(x, *args, **kwargs): return _t(x).max(*args, **kwargs)
def min(x, *args, **kwargs): return _t(x).min(*args, **kwargs)
def amax(x, *args, **kwargs): return _t(x).amax(*args, **kwargs)
def amin(x, *args, **kwargs): return _t(x).amin(*args, **kwargs)
def argmax(x, *args, **kwargs): return _t(x).argmax(*args, **kwargs)
def argmin(x, *args, **kwargs): return _t(x).argmin(*args, **kwargs)
def all(x, *args, **kwargs): return _t(x).all(*args, **kwargs)
def any(x, *args, **kwargs): return _t(x).any(*args, **kwargs)
def reshape(x, *shape): return _t(x).reshape(*shape)
def flatten(x, start_dim=0, end_dim=-1): return _t(x).flatten(start_dim, end_dim)
def squeeze(x, dim=None): return _t(x).squeeze(dim)
def unsqueeze(x, dim): return _t(x).unsqueeze(dim)
def permute(x, *dims): return _t(x).permute(*dims)
def transpose(x, dim0, dim1): return _t(x).transpose(dim0, dim1)
def broadcast_to(x, shape): return _t(x).broadcast_to(shape)
def clone(x): return _t(x).clone()


from . import nn  # noqa: E402  (after the above: nn builds on them)
from .value import Value  # noqa: E402  (micrograd's scalar API)
from .compile import compile  # noqa: E402,A001  (tg.compile: record a function's ops once, replay them)

ops.BUILTIN.update(OPS)  # user ops may not take these names
