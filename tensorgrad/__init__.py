"""tensorgrad: micrograd grown up to tensors. A NumPy-backed autograd engine you can read."""
import numpy as np

from . import functional, methods, ops, testing  # methods binds the torch-style methods onto Tensor
from .conventions import result_type
from .creation import (Generator, arange, bernoulli, default_generator, empty, empty_like, eye, from_numpy, full,
                       full_like, get_rng_state, initial_seed, linspace, logspace, manual_seed, multinomial, normal,
                       ones, ones_like, rand, rand_like, randint, randint_like, randn, randn_like, randperm, seed,
                       set_rng_state, tensor, zeros, zeros_like)
from .functional import (all_ as all, allclose, any_ as any, argsort, atan2, atleast_1d, atleast_2d, bincount, cat,
                         chunk, clamp, column_stack, count_nonzero, cumprod, cumsum, diag, diag_embed, diagonal, einsum,
                         equal, flip, fliplr, flipud, float_power, floor_divide, fmod, frac, gather, histc, histogram,
                         hstack, index_add, isclose, lerp, log_softmax, logaddexp, logsumexp, matmul, maximum, median,
                         minimum, moveaxis, movedim, msort, nan_to_num, nanmedian, narrow, norm, one_hot, outer, prod,
                         reciprocal, relu, remainder, repeat_interleave, roll, round_ as round, rsqrt, scatter_add,
                         softmax, sort, split, sqrt, square, stack, tensor_split, tensordot, tile, topk, trace, tril,
                         triu, unbind, vstack, where)
from .ops import (OPS, Op, abs, acos, acosh, asin, asinh, atan, atanh, ceil, cos, cosh, erf, exp, exp2, expm1,
                  floor, isfinite, isinf, isnan, log, log1p, log2, log10, op, sigmoid, sign, sin, sinh, tan, tanh,
                  trunc)
from .methods import device
from .tensor import (Tensor, record_walk, detect_anomaly, enable_grad, get_default_dtype, grad, is_grad_enabled, name_scope, no_grad,
                     set_default_dtype, set_grad_enabled)
from .tensor import _shape_arg

# torch's dtype names: tg.float32 works wherever a dtype goes, and x.dtype == tg.float32 holds
float16, float32, float64 = np.float16, np.float32, np.float64
int8, int16, int32, int64, uint8, bool_ = np.int8, np.int16, np.int32, np.int64, np.uint8, np.bool_
half, float, double, short, int, long, bool = float16, float32, float64, int16, int32, int64, bool_
arcsin, arccos, arctan, arctan2, arcsinh, arccosh, arctanh, fix = asin, acos, atan, atan2, asinh, acosh, atanh, trunc


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
def reshape(x, *shape): return _t(x).reshape(*shape)
def flatten(x, start_dim=0, end_dim=-1): return _t(x).flatten(start_dim, end_dim)
def squeeze(x, dim=None): return _t(x).squeeze(dim)
def unsqueeze(x, dim): return _t(x).unsqueeze(dim)
def permute(x, *dims): return _t(x).permute(*dims)
def transpose(x, dim0, dim1): return _t(x).transpose(dim0, dim1)
def broadcast_to(x, shape): return _t(x).broadcast_to(shape)
def clone(x): return _t(x).clone()


# ----------------------------------------------------------------------------
# Tensor methods for the ops and composites above, bound in this one place (tensor.py defines
# the core ones; a method it defines is never replaced)

def _method(fn):
    return lambda self, *args, **kwargs: fn(self, *args, **kwargs)


_METHODS = {name: getattr(functional, name, None) or getattr(ops, name) for name in (
    "sin cos tan asin acos atan atan2 sinh cosh asinh acosh atanh floor ceil trunc frac log2 log10 log1p "
    "expm1 exp2 erf rsqrt reciprocal square lerp logaddexp remainder fmod floor_divide float_power isnan isinf "
    "isfinite nan_to_num prod cumsum cumprod norm count_nonzero sort argsort msort topk median nanmedian "
    "split chunk tensor_split unbind roll repeat_interleave tril triu diag diag_embed diagonal trace movedim "
    "moveaxis narrow outer isclose allclose equal histc bincount").split()}
_METHODS.update(all=all, any=any, round=round, arcsin=asin, arccos=acos, arctan=atan, arctan2=atan2, arcsinh=asinh,
                arccosh=acosh, arctanh=atanh, fix=trunc, fliplr=fliplr, flipud=flipud)
for _name, _fn in _METHODS.items():
    if not hasattr(Tensor, _name):
        setattr(Tensor, _name, _method(_fn))
_EXTRA = {
    "flip": lambda self, *dims: flip(self, _shape_arg(dims)),
    "tile": lambda self, *dims: tile(self, _shape_arg(dims)),
    "repeat": lambda self, *sizes: functional.repeat(self, *sizes),
    "multinomial": lambda self, num_samples, replacement=False, *, generator=None:
        multinomial(self, num_samples, replacement, generator=generator),
    "bernoulli": lambda self, p=None, *, generator=None: bernoulli(self, p, generator=generator),
    "__mod__": lambda self, other: remainder(self, other),
    "__rmod__": lambda self, other: remainder(other, self),
    "__floordiv__": lambda self, other: floor_divide(self, other),
    "__rfloordiv__": lambda self, other: floor_divide(other, self),
}
for _name, _fn in _EXTRA.items():
    if not hasattr(Tensor, _name):
        setattr(Tensor, _name, _fn)


from . import nn  # noqa: E402  (after the above: nn builds on them)
from .value import Value  # noqa: E402  (micrograd's scalar API)
from .compile import compile  # noqa: E402,A001  (tg.compile: record a function's ops once, replay them)

ops.BUILTIN.update(OPS)  # user ops may not take these names
