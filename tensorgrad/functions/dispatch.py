"""torch.sum(x, dim), torch.reshape(x, shape), ...: the function forms of Tensor's methods. Each
turns a non-tensor into one and calls the method (bound in tensor_api.py)."""
from ..engine import Tensor
from .creation import tensor


def _t(x) -> Tensor:
    return x if isinstance(x, Tensor) else tensor(x)


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
def t(x): return _t(x).t()
def swapaxes(x, axis0, axis1): return _t(x).transpose(axis0, axis1)
def swapdims(x, dim0, dim1): return _t(x).transpose(dim0, dim1)
def ravel(x): return _t(x).reshape(-1)
def detach(x): return _t(x).detach()
def fill(x, value): return _t(x).clone().fill_(value)
def masked_fill(x, mask, value): return _t(x).masked_fill(mask, value)
def is_nonzero(x): return _t(x).is_nonzero()
def is_same_size(x, other): return _t(x).is_same_size(other)
def is_signed(x): return _t(x).is_signed()
def is_complex(x): return False
def is_conj(x): return False
def is_neg(x): return False
def is_inference(x): return False
def conj(x): return _t(x)
def resolve_conj(x): return _t(x)
def resolve_neg(x): return _t(x)
def real(x): return _t(x)                    # (real tensors: their own real part, as torch)
def rsub(x, other, alpha=1): return (other - x * alpha) if alpha != 1 else other - x


def _in_place(name: str):
    """torch.exp_(x) and friends: x.exp_()."""
    def f(x, *args, **kwargs):
        return getattr(x, name)(*args, **kwargs)
    f.__name__ = name
    return f


IN_PLACE = {name: _in_place(name) for name in (
    "abs_", "acos_", "acosh_", "arccos_", "arccosh_", "arcsin_", "arcsinh_", "arctan_", "arctanh_", "asin_", "asinh_",
    "atan_", "atanh_", "ceil_", "clamp_", "clamp_max_", "clamp_min_", "clip_", "cos_", "cosh_", "deg2rad_", "erf_",
    "erfc_", "exp2_", "exp_", "expm1_", "fix_", "floor_", "frac_", "log10_", "log1p_", "log2_", "log_", "logit_",
    "nan_to_num_", "neg_", "negative_", "rad2deg_", "reciprocal_", "relu_", "round_", "rsqrt_", "sigmoid_", "sin_",
    "sinc_", "sinh_", "sqrt_", "square_", "tan_", "tanh_", "trunc_", "fill_", "zero_", "detach_", "gcd_", "lcm_")}
