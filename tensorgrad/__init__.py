"""tensorgrad: micrograd grown up to tensors. A NumPy-backed autograd engine you can read."""
import numpy as np

from . import functional, methods, ops, testing  # methods binds the torch-style methods onto Tensor
from . import creation
from .conventions import result_type
from .creation import _number
from .creation import (Generator, arange, bernoulli, default_generator, empty, empty_like, eye, from_numpy, full,
                       full_like, get_rng_state, initial_seed, linspace, logspace, manual_seed, multinomial, normal,
                       ones, ones_like, rand, rand_like, randint, randint_like, randn, randn_like, randperm, seed,
                       set_rng_state, tensor, zeros, zeros_like)
from .functional import (addmm, allclose, aminmax, argsort, argwhere, atan2, atleast_1d, atleast_2d, atleast_3d,
                         bincount, block_diag, bmm, bucketize, cartesian_prod, cat, cdist, chunk, clamp, clamp_max,
                         clamp_min, column_stack, copysign, count_nonzero, cross, cummax, cummin, cumprod, cumsum,
                         deg2rad, diag, diag_embed, diagonal, diff, dist, dot, dstack, einsum, equal, flip, fliplr,
                         flipud, float_power, floor_divide, fmax, fmin, fmod, frac, gather, heaviside, histc, histogram,
                         hstack, hypot, index_add, index_copy, index_fill, index_select, inner, isclose, isneginf,
                         isposinf, isreal, kron, lerp, log_softmax, logaddexp, logcumsumexp, logical_and, logical_not,
                         logical_or, logical_xor, logit, logsumexp, masked_select, matmul, maximum, median, meshgrid,
                         minimum, mm, moveaxis, movedim, msort, mv, nan_to_num, nanmean, nanmedian, nansum, narrow,
                         negative, nonzero, norm, one_hot, outer, positive, prod, rad2deg, reciprocal, relu, remainder,
                         repeat_interleave, roll, rot90, round_ as round, rsqrt, scatter, scatter_add, searchsorted,
                         sgn, signbit, sinc, softmax, sort, split, sqrt, square, stack, std_mean, take_along_dim,
                         tensor_split, tensordot, tile, topk, trace, tril, tril_indices, triu, triu_indices, unbind,
                         unique, var_mean, vstack, where, xlogy)
from .methods import device
from .ops import (OPS, Op, abs, acos, acosh, asin, asinh, atan, atanh, ceil, cos, cosh, erf, exp, exp2, expm1,
                  floor, isfinite, isinf, isnan, log, log1p, log2, log10, op, sigmoid, sign, sin, sinh, tan, tanh,
                  trunc)
from .serialization import load, save
from .tensor import (Tensor, _shape_arg, detect_anomaly, enable_grad, get_default_dtype, grad, is_grad_enabled,
                     name_scope, no_grad, record_walk, set_default_dtype, set_grad_enabled)

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


clip = clamp
multiply, subtract, divide, true_divide = ops.mul, ops.sub, functional.div, functional.div
eq, ne, gt, ge, lt, le = ops.eq, ops.ne, ops.gt, ops.ge, ops.lt, ops.le
greater, greater_equal, less, less_equal = gt, ge, lt, le
concat = concatenate = cat
row_stack = vstack


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
def add(x, y, *, alpha=1): return _t(x).add(y, alpha=alpha)
def sub(x, y, *, alpha=1): return _t(x).sub(y, alpha=alpha)
def mul(x, y): return _t(x) * y
def div(x, y, *, rounding_mode=None): return _t(x).div(y, rounding_mode=rounding_mode)
def pow(x, y): return _t(x) ** y if isinstance(x, Tensor) or not isinstance(y, Tensor) else x ** y
def neg(x): return -_t(x)
def numel(x): return _t(x).numel()
def select(x, dim, index): return _t(x).select(dim, index)
def unflatten(x, dim, sizes): return _t(x).unflatten(dim, sizes)


# ----------------------------------------------------------------------------
# Tensor methods for issue 10's ops and composites (methods.py binds the core ones; a method it
# defines is never replaced here)

def _method(fn):
    return lambda self, *args, **kwargs: fn(self, *args, **kwargs)


_METHODS = {name: getattr(functional, name, None) or getattr(ops, name) for name in (
    "sin cos tan asin acos atan atan2 sinh cosh asinh acosh atanh floor ceil trunc frac log2 log10 log1p "
    "expm1 exp2 erf rsqrt reciprocal square lerp logaddexp remainder fmod floor_divide float_power isnan isinf "
    "isfinite nan_to_num prod cumsum cumprod norm count_nonzero sort argsort msort topk median nanmedian "
    "split chunk tensor_split unbind roll repeat_interleave tril triu diag diag_embed diagonal trace movedim "
    "moveaxis narrow outer isclose allclose equal histc bincount mm bmm mv dot addmm index_select masked_select "
    "take_along_dim scatter cross diff cummax cummin logcumsumexp xlogy hypot copysign deg2rad rad2deg logit sinc "
    "dist nonzero argwhere unique nansum nanmean logical_and logical_or logical_xor logical_not fmax fmin "
    "heaviside signbit isposinf isneginf isreal sgn positive negative clamp_min clamp_max aminmax rot90 inner kron "
    "index_fill index_copy").split()}
_METHODS.update(round=round, arcsin=asin, arccos=acos, arctan=atan, arctan2=atan2, arcsinh=asinh,
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
    "unfold": lambda self, dimension, size, step: functional._sliding_windows(self, dimension, size, step),
    "where": lambda self, condition, other: where(condition, self, other),
    "ravel": lambda self: self.reshape(-1),
    "swapdims": lambda self, dim0, dim1: self.transpose(dim0, dim1),
    "new_tensor": lambda self, data, dtype=None, requires_grad=False: tensor(
        data, dtype=dtype or self.dtype, requires_grad=requires_grad),
    "new_full": lambda self, size, fill_value, dtype=None, requires_grad=False: full(
        size, fill_value, dtype=dtype or self.dtype, requires_grad=requires_grad),
    "new_zeros": lambda self, *size, dtype=None, requires_grad=False: zeros(
        *size, dtype=dtype or self.dtype, requires_grad=requires_grad),
    "new_ones": lambda self, *size, dtype=None, requires_grad=False: ones(
        *size, dtype=dtype or self.dtype, requires_grad=requires_grad),
    "new_empty": lambda self, *size, dtype=None, requires_grad=False: zeros(
        *size, dtype=dtype or self.dtype, requires_grad=requires_grad),
    "bernoulli_": lambda self, p=0.5, *, generator=None: self._random_(
        "bernoulli_", creation._rng(generator).random(self.shape) < _number(p)),
    "exponential_": lambda self, lambd=1.0, *, generator=None: self._random_(
        "exponential_", creation._rng(generator).exponential(1 / lambd, self.shape)),
    "random_": lambda self, low=0, high=None, *, generator=None: self._random_(
        "random_", creation._rng(generator).integers(0 if high is None else low, low if high is None else high,
                                                     self.shape)),
}
for _name, _fn in _EXTRA.items():
    if not hasattr(Tensor, _name):
        setattr(Tensor, _name, _fn)


def _inplace_method(name: str):
    """x.sin_() and friends: x <- x.sin(), written into x's storage (tensor.py's _inplace keeps
    views and gradients right)."""
    return lambda self, *args, **kwargs: self._inplace(
        name + "_", lambda x, *a: getattr(Tensor, name)(x, *a, **kwargs), *args)


for _name in ("sin cos tan asin acos atan sinh cosh asinh acosh atanh sign floor ceil trunc frac round log2 log10 "
              "log1p expm1 exp2 erf rsqrt reciprocal square nan_to_num atan2 lerp logaddexp fmod remainder "
              "floor_divide float_power cumsum cumprod tril triu arcsin arccos arctan arcsinh arccosh arctanh fix"
              ).split():
    if not hasattr(Tensor, _name + "_"):
        setattr(Tensor, _name + "_", _inplace_method(_name))


from . import nn  # noqa: E402  (after the above: nn builds on them)
from .value import Value  # noqa: E402  (micrograd's scalar API)
from .compile import compile  # noqa: E402,A001  (tg.compile: record a function's ops once, replay them)

ops.BUILTIN.update(OPS)  # user ops may not take these names
