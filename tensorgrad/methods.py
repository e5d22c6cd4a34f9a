"""Tensor's torch-style surface: Python's number protocols, the operators, torch's method
spellings (x.sum(dim), x.view(...), x.add_(y), x.float(), ...). Each is a line or two calling
an op of ops.py, a composite of functional.py, or the in-place machinery of tensor.py.

They are written as the class below and bound onto Tensor in one place (the loop at the
end), so that tensor.py, the engine, stays small and needs nothing above it.
"""
from __future__ import annotations

import numpy as np

from . import functional as F, ops
from .conventions import _as_array, _cast_to, _dtype, _index_key, _promote, _promote_float
from .tensor import Tensor, _mode, _reduction, _shape_arg


_REFLECTED = {name: (f"__{op}__", f"__r{op}__") for name, op in
              [("add", "add"), ("subtract", "sub"), ("multiply", "mul"), ("true_divide", "truediv"), ("divide", "truediv"),
               ("power", "pow"), ("matmul", "matmul"), ("floor_divide", "floordiv"), ("remainder", "mod"),
               ("bitwise_and", "and"), ("bitwise_or", "or"), ("bitwise_xor", "xor")]}
_REFLECTED.update({"less": ("__lt__", "__gt__"), "less_equal": ("__le__", "__ge__"), "greater": ("__gt__", "__lt__"),
                   "greater_equal": ("__ge__", "__le__"), "equal": ("__eq__", "__eq__"), "not_equal": ("__ne__", "__ne__")})


def _same(x, y) -> bool:
    """A float tensor and a Python float or a tensor of its dtype: the promotion's fast path."""
    return x._data.dtype.kind == "f" and (type(y) is float or type(y) is Tensor and x._data.dtype == y._data.dtype)


class TensorMethods:
    """Methods of Tensor (see Tensor for the data model, in-place ops and backward)."""

    is_cuda = False
    T = property(lambda self: self.permute(*reversed(range(self.ndim))))
    mT = property(lambda self: self.transpose(-1, -2))

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        """NumPy functions see tensors as their arrays (np.tanh(t) is an array, no history), except
        `ndarray * tensor` and the like, which are the tensor's operators, so they are recorded."""
        if method == "__call__" and not kwargs and len(inputs) == 2 and ufunc.__name__ in _REFLECTED:
            x, y = inputs
            forward, reflected = _REFLECTED[ufunc.__name__]
            return getattr(Tensor, forward)(x, y) if isinstance(x, Tensor) else getattr(Tensor, reflected)(y, x)
        if any([isinstance(a, Tensor) and a._requires_grad for a in inputs]):
            raise TypeError(f"np.{ufunc.__name__} on a Tensor that requires grad would drop its history (torch: "
                            "\"Can't call numpy() on Tensor that requires grad\"): use the tensorgrad op, or .detach()")
        return getattr(ufunc, method)(*[a._data if isinstance(a, Tensor) else a for a in inputs], **kwargs)

    device = property(lambda self: device("cpu"))

    def cpu(self) -> "Tensor":
        return self

    def cuda(self, *args, **kwargs):
        raise RuntimeError("tensorgrad runs on NumPy, on the CPU: there is no CUDA device")

    def to(self, *args, **kwargs) -> "Tensor":
        """to(dtype), to('cpu'), to(device=, dtype=), to(other): a cast, or self when nothing changes."""
        dtype = kwargs.pop("dtype", None)
        dev = kwargs.pop("device", None)
        kwargs.pop("non_blocking", None), kwargs.pop("copy", None)
        if kwargs:
            raise TypeError(f"to() got unexpected arguments {sorted(kwargs)}")
        for a in args:
            if isinstance(a, Tensor):
                dtype = a.dtype
            elif isinstance(a, (str, device)):
                dev = a
            else:
                dtype = a
        if dev is not None and str(device(dev)) != "cpu":
            raise RuntimeError(f"to({str(dev)!r}): tensorgrad runs on NumPy, on the CPU only")
        return self if dtype is None else self.astype(dtype)

    def size(self, dim: int | None = None):
        return self.shape if dim is None else self.shape[dim]

    def dim(self) -> int:
        return self.ndim

    def numel(self) -> int:
        return self._data.size

    nelement = numel

    def element_size(self) -> int:
        return self._data.itemsize




    # --- Python's number protocols ------------------------------------------------
    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self)))

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with more than one value is ambiguous (shape {self.shape})")
        return bool(self._data)

    def __float__(self): return float(self.item())
    def __int__(self): return int(self.item())
    def __complex__(self): return complex(self.item())

    def __index__(self):
        if self._data.dtype.kind not in "iu" or self._data.size != 1:
            raise TypeError(f"only integer tensors of a single element can be converted to an index "
                            f"(this one is {self.dtype}, shape {self.shape})")
        return int(self._data.item())

    def __format__(self, spec):
        if self._data.size == 1 and self.ndim == 0 or (spec and self._data.size == 1):
            return format(self.item(), spec)
        if spec:
            raise TypeError(f"unsupported format string passed to Tensor.__format__ (shape {self.shape})")
        return repr(self)


    # --- arithmetic (Python numbers on either side; torch's promotion) ------------
    def __add__(self, other): return ops.add(*_promote(self, other))
    def __radd__(self, other): return ops.add(*_promote(other, self))
    def __sub__(self, other): return ops.sub(*_promote(self, other))
    def __rsub__(self, other): return ops.sub(*_promote(other, self))
    def __mul__(self, other): return ops.mul(*_promote(self, other))
    def __rmul__(self, other): return ops.mul(*_promote(other, self))
    def __truediv__(self, other): return ops.div(*_promote(self, other)) if _same(self, other) else \
        ops.div(*_promote_float(self, other))
    def __rtruediv__(self, other): return ops.div(*_promote_float(other, self))
    def __floordiv__(self, other): return F.floor_divide(self, other)
    def __rfloordiv__(self, other): return F.floor_divide(other, self)
    def __mod__(self, other): return F.remainder(self, other)
    def __rmod__(self, other): return F.remainder(other, self)
    def __neg__(self): return ops.neg(self)
    def __pos__(self): return self
    def __abs__(self): return ops.abs(self)
    def __pow__(self, other): return F.pow(self, other)
    def __rpow__(self, other): return F.pow(other, self)
    def __matmul__(self, other): return F.matmul(self, other)
    def __rmatmul__(self, other): return F.matmul(other, self)
    def __invert__(self): return ops.bitwise_not(self)
    def __and__(self, other): return ops.bitwise_and(*_promote(self, other))
    def __rand__(self, other): return ops.bitwise_and(*_promote(other, self))
    def __or__(self, other): return ops.bitwise_or(*_promote(self, other))
    def __ror__(self, other): return ops.bitwise_or(*_promote(other, self))
    def __xor__(self, other): return ops.bitwise_xor(*_promote(self, other))
    def __rxor__(self, other): return ops.bitwise_xor(*_promote(other, self))

    # comparisons give bool tensors that carry no gradient
    def __lt__(self, other): return ops.lt(*_promote(self, other))
    def __le__(self, other): return ops.le(*_promote(self, other))
    def __gt__(self, other): return ops.gt(*_promote(self, other))
    def __ge__(self, other): return ops.ge(*_promote(self, other))
    def __eq__(self, other): return ops.eq(*_promote(self, other))
    def __ne__(self, other): return ops.ne(*_promote(self, other))

    # torch's method spellings
    def add(self, other, alpha=1): return self + (other if alpha == 1 else other * alpha)
    def sub(self, other, alpha=1): return self - (other if alpha == 1 else other * alpha)
    def mul(self, other): return self * other
    def div(self, other, rounding_mode=None): return F.div(self, other, rounding_mode=rounding_mode)
    def matmul(self, other): return F.matmul(self, other)
    subtract, multiply, divide, true_divide = sub, mul, div, __truediv__


    def __iadd__(self, other): return self._inplace("add_", Tensor.__add__, other, ufunc=np.add)
    def __isub__(self, other): return self._inplace("sub_", Tensor.__sub__, other, ufunc=np.subtract)
    def __imul__(self, other): return self._inplace("mul_", Tensor.__mul__, other, ufunc=np.multiply)
    def __itruediv__(self, other): return self._inplace("div_", Tensor.__truediv__, other, ufunc=np.true_divide)
    def __ipow__(self, other): return self._inplace("pow_", Tensor.__pow__, other)
    def __ifloordiv__(self, other): return self._inplace("floor_divide_", Tensor.__floordiv__, other)
    def __imod__(self, other): return self._inplace("remainder_", Tensor.__mod__, other)
    def __iand__(self, other): return self._inplace("bitwise_and_", Tensor.__and__, other)
    def __ior__(self, other): return self._inplace("bitwise_or_", Tensor.__or__, other)
    def __ixor__(self, other): return self._inplace("bitwise_xor_", Tensor.__xor__, other)
    def __imatmul__(self, other): return self._inplace("matmul_", Tensor.__matmul__, other)

    def add_(self, other, alpha=1): return self.__iadd__(other if alpha == 1 else other * alpha)
    def sub_(self, other, alpha=1): return self.__isub__(other if alpha == 1 else other * alpha)
    def mul_(self, other): return self.__imul__(other)
    def div_(self, other, rounding_mode=None):
        if rounding_mode is None:
            return self.__itruediv__(other)
        return self._inplace("div_", lambda x, y: F.div(x, y, rounding_mode=rounding_mode), other)
    def pow_(self, exponent): return self.__ipow__(exponent)
    def neg_(self): return self._inplace("neg_", Tensor.__neg__)
    def exp_(self): return self._inplace("exp_", Tensor.exp)
    def log_(self): return self._inplace("log_", Tensor.log)
    def tanh_(self): return self._inplace("tanh_", Tensor.tanh)
    def sigmoid_(self): return self._inplace("sigmoid_", Tensor.sigmoid)
    def relu_(self): return self._inplace("relu_", Tensor.relu)
    def sqrt_(self): return self._inplace("sqrt_", Tensor.sqrt)
    def abs_(self): return self._inplace("abs_", Tensor.abs)
    def clamp_(self, min=None, max=None): return self._inplace("clamp_", lambda x: x.clamp(min, max))
    clip_ = clamp_
    def zero_(self): return self.fill_(0)
    def fill_(self, value): return self.copy_(value)

    def copy_(self, src):
        """Write src (broadcast, cast to self's dtype) into self; recorded when src requires grad."""
        if not self._records(src):
            return self._write(src._data if isinstance(src, Tensor) else np.asarray(src), "copy_")
        return self._inplace("copy_", lambda x, s: ops.where(np.array(True), _cast_to(s, x.dtype), x), src)

    def masked_fill_(self, mask, value):
        return self._inplace("masked_fill_", lambda x, v: x.masked_fill(mask, v), value)
    def index_add_(self, dim, index, source, alpha=1):
        return self._inplace("index_add_", lambda x, s: x.index_add(dim, index, s if alpha == 1 else s * alpha), source)
    def scatter_add_(self, dim, index, src):
        return self._inplace("scatter_add_", lambda x, s: x.scatter_add(dim, index, s), src)
    def index_put_(self, indices, values, accumulate=False):
        return self._inplace("index_put_", lambda x, v: x.index_put(indices, v, accumulate), values)

    def _random_(self, name, sample):
        if _mode.grad and self._requires_grad:
            self._check_leaf(name)
        return self._write(sample.astype(self.dtype, copy=False), name)

    def normal_(self, mean=0.0, std=1.0, generator=None):
        return self._random_("normal_", _rng(generator).normal(mean, std, self.shape))

    def uniform_(self, a=0.0, b=1.0, generator=None):
        return self._random_("uniform_", _rng(generator).uniform(a, b, self.shape))


    def __setitem__(self, key, value):
        """x[key] = value writes into x's storage (value cast to x's dtype, as torch); a value that
        requires grad, or an x in a graph, is recorded as index_put, so gradients flow to the value."""
        key = _index_key(key)
        v = value.astype(self.dtype) if isinstance(value, Tensor) else np.asarray(_as_array(value), self.dtype)
        if not self._records(v):
            if not self._data.flags.writeable:
                self._write(self._data, "setitem")                   # the clear error for expanded views
            ops.put(self._data, key, v._data if isinstance(v, Tensor) else v)
            self._bump()
            return
        if v.ndim and v.shape[0] == 1:                 # torch's x[key] = v drops v's extra leading 1s
            n = v.ndim - ops.take(self._data, key).ndim
            while n > 0 and v.shape[0] == 1:
                v, n = v.reshape(v.shape[1:]), n - 1
        self._inplace("setitem", lambda x, v: ops.index_put(x, v, key=key, accumulate=False), v)

    # --- elementwise math ----------------------------------------------------
    def exp(self): return ops.exp(self)
    def log(self): return ops.log(self)
    def tanh(self): return ops.tanh(self)
    def sigmoid(self): return ops.sigmoid(self)
    def abs(self): return ops.abs(self)
    def sign(self): return ops.sign(self)
    def relu(self): return F.relu(self)
    def sqrt(self): return F.sqrt(self)
    def pow(self, exponent): return F.pow(self, exponent)
    def maximum(self, other): return F.maximum(self, other)
    def minimum(self, other): return F.minimum(self, other)
    def clamp(self, min=None, max=None): return F.clamp(self, min, max)
    clip = clamp

    # --- reductions: torch's dim/keepdim or NumPy's axis/keepdims --------------
    def sum(self, dim=None, keepdim=False, *, axis=None, keepdims=None, dtype=None):
        x = self if dtype is None else self.astype(dtype)
        if dtype is None and x.dtype.kind in "bi" and x.dtype != np.int64:   # torch sums ints as int64
            x = x.astype(np.int64)
        return ops.sum(x, **_reduction(self, dim, keepdim, axis, keepdims))

    def mean(self, dim=None, keepdim=False, *, axis=None, keepdims=None, dtype=None):
        x = self if dtype is None else self.astype(dtype)
        if x.dtype.kind != "f":
            raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be either a floating "
                               f"point or complex dtype. Got: {x.dtype}")
        return F.mean(x, **_reduction(self, dim, keepdim, axis, keepdims))

    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None, keepdims=None):
        """Unbiased (Bessel's n-1) by default, like torch; unbiased=False or correction=0 for 1/n."""
        if isinstance(dim, bool):               # x.var(False): torch's var(unbiased)
            dim, unbiased = None, dim
        correction = (1 if unbiased is None or unbiased else 0) if correction is None else correction
        return F.var(self, correction=correction, **_reduction(self, dim, keepdim, axis, keepdims))

    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None, keepdims=None):
        """sqrt(var): unbiased by default; where the variance is 0 the gradient is 0, as torch."""
        if isinstance(dim, bool):
            dim, unbiased = None, dim
        correction = (1 if unbiased is None or unbiased else 0) if correction is None else correction
        return F.std(self, correction=correction, **_reduction(self, dim, keepdim, axis, keepdims))

    def amax(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        """Max over dim; tied maxima share the gradient evenly."""
        return ops.amax(self, **_reduction(self, dim, keepdim, axis, keepdims))

    def amin(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return F.amin(self, **_reduction(self, dim, keepdim, axis, keepdims))

    def max(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        """max() over everything (ties share the gradient), max(dim) -> (values, indices)
        (the gradient goes to the returned index only), or max(other) elementwise, as torch."""
        if isinstance(dim, Tensor):
            return F.maximum(self, dim)
        return F.max(self, **_reduction(self, dim, keepdim, axis, keepdims, single=True))

    def min(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        if isinstance(dim, Tensor):
            return F.minimum(self, dim)
        return F.min(self, **_reduction(self, dim, keepdim, axis, keepdims, single=True))

    def argmax(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return ops.argmax(self, **_reduction(self, dim, keepdim, axis, keepdims, single=True))

    def argmin(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return ops.argmin(self, **_reduction(self, dim, keepdim, axis, keepdims, single=True))

    def all(self, dim=None, keepdim=False):
        return ops.all_(self.astype(np.bool_), **_reduction(self, dim, keepdim, None, None))

    def any(self, dim=None, keepdim=False):
        return ops.any_(self.astype(np.bool_), **_reduction(self, dim, keepdim, None, None))

    def softmax(self, dim=-1): return F.softmax(self, dim)
    def log_softmax(self, dim=-1): return F.log_softmax(self, dim)
    def logsumexp(self, dim=-1, keepdim=False): return F.logsumexp(self, dim, keepdim)

    # --- shapes (views of the same storage where NumPy gives one) ----------------
    def reshape(self, *shape, **kw): return ops.reshape(self, shape=_shape_arg(shape or (kw.pop("shape"),)))
    def view(self, *shape, **kw):
        if len(shape) == 1 and not isinstance(shape[0], (int, tuple, list)) or "dtype" in kw:
            raise TypeError("view(dtype) is not supported by tensorgrad; use .to(dtype)")
        return self.reshape(*shape, **kw)
    def view_as(self, other): return self.reshape(other.shape)
    def select(self, dim, index): return self[(slice(None),) * F._dim(dim, self.ndim, "select") + (index,)]
    neg = negative = __neg__
    def unflatten(self, dim, sizes):
        d = F._dim(dim, self.ndim, "unflatten")
        return self.reshape(self.shape[:d] + tuple(sizes) + self.shape[d + 1:])
    def reshape_as(self, other): return self.reshape(other.shape)
    def flatten(self, start_dim=0, end_dim=-1): return F.flatten(self, start_dim, end_dim)
    def squeeze(self, dim=None): return F.squeeze(self, dim)
    def unsqueeze(self, dim): return F.unsqueeze(self, dim)
    def permute(self, *dims, **kw):
        dims = _shape_arg(dims or (kw.pop("dims"),))
        return ops.permute(self, axes=tuple(F._dim(d, self.ndim, "permute") for d in dims))
    def transpose(self, dim0, dim1): return F.transpose(self, dim0, dim1)
    swapaxes = swapdims = transpose
    def t(self):
        if self.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {self.ndim}D")
        return self.T
    def expand(self, *sizes, **kw): return F.expand(self, _shape_arg(sizes or (kw.pop("size"),)))
    def broadcast_to(self, shape): return F.expand(self, tuple(shape))
    def expand_as(self, other): return F.expand(self, other.shape)
    def contiguous(self): return self
    def is_contiguous(self): return bool(self._data.flags.c_contiguous)

    # --- dtypes ------------------------------------------------------------------
    def astype(self, dtype):
        dtype = _dtype(dtype)
        return self if dtype == self.dtype else ops.cast(self, dtype=dtype)
    def type(self, dtype=None): return str(self.dtype) if dtype is None else self.astype(dtype)
    def type_as(self, other): return self.astype(other.dtype)
    def float(self): return self.astype(np.float32)
    def double(self): return self.astype(np.float64)
    def half(self): return self.astype(np.float16)
    def long(self): return self.astype(np.int64)
    def int(self): return self.astype(np.int32)
    def short(self): return self.astype(np.int16)
    def char(self): return self.astype(np.int8)
    def byte(self): return self.astype(np.uint8)
    def bool(self): return self.astype(np.bool_)
    def is_floating_point(self): return self._data.dtype.kind == "f"
    def clone(self): return ops.cast(self, dtype=self.dtype)

    # --- indexing: a gather forward, a scatter-add backward ------------------------
    def __getitem__(self, key): return ops.getitem(self, key=_index_key(key))

    def index_put(self, key, values, accumulate=False):
        return ops.index_put(self, values, key=_index_key(key), accumulate=accumulate)
    def index_add(self, dim, index, source, alpha=1):
        return F.index_add(self, dim, index, source if alpha == 1 else source * alpha)
    def scatter_add(self, dim, index, src): return F.scatter_add(self, dim, index, src)
    def gather(self, dim, index): return F.gather(self, dim, index)
    def masked_fill(self, mask, value): return F.masked_fill(self, mask, value)


class device:
    """torch.device, for code that names one: tensorgrad has only 'cpu'."""

    def __init__(self, kind="cpu", index=None):
        self.type = str(kind.type if isinstance(kind, device) else kind).split(":")[0]

    def __eq__(self, other): return str(self) == str(other)
    def __hash__(self): return hash(self.type)
    def __str__(self): return self.type
    def __repr__(self): return f"device(type={self.type!r})"


def _rng(generator):
    from .creation import _default
    return (generator or _default).rng


for _name, _member in vars(TensorMethods).items():
    if _name not in ("__module__", "__qualname__", "__doc__", "__dict__", "__weakref__", "__firstlineno__",
                     "__static_attributes__"):
        setattr(Tensor, _name, _member)
Tensor.__hash__ = object.__hash__    # tensors are keyed by identity; == is elementwise
