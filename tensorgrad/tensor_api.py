"""The one place where Tensor gets torch's methods: Python's operators and number protocols, torch's
method spellings (x.sum(dim), x.view(...), x.float(), x.softmax(-1)), and the in-place variants
(x.add_(y), x[key] = v, x.sin_()).

Methods with a body of their own are the class below; methods that are a function of the op
table or of functions/ with the tensor as first argument are the table METHODS; the in-place
ones, INPLACE. All three are bound onto Tensor at the end of this file, which is why the engine
(engine.py) needs nothing above it.
"""
from __future__ import annotations

import weakref

import numpy as np

from . import functions as fn, inplace, ops
from .device import CPU, device
from .device import check as device_check
from .dims import Size, reduction, shape_arg, wrap_dim
from .dtypes import DEFAULT, as_dtype
from .engine import Tensor, apply
from .printing import PRINT_OPTIONS, bool_formatter, float_formatter, shown
from .missing import TORCH_TENSOR_NAMES, Missing
from .modes import RemovableHandle, _mode
from .functions.random import bernoulli, multinomial
from .functions.shape import _sliding_windows
from .ops import promote, promote_float


_REFLECTED = {name: (f"__{op}__", f"__r{op}__") for name, op in
              [("add", "add"), ("subtract", "sub"), ("multiply", "mul"), ("true_divide", "truediv"), ("divide", "truediv"),
               ("power", "pow"), ("matmul", "matmul"), ("floor_divide", "floordiv"), ("remainder", "mod"),
               ("bitwise_and", "and"), ("bitwise_or", "or"), ("bitwise_xor", "xor")]}
_REFLECTED.update({"less": ("__lt__", "__gt__"), "less_equal": ("__le__", "__ge__"), "greater": ("__gt__", "__lt__"),
                   "greater_equal": ("__ge__", "__le__"), "equal": ("__eq__", "__eq__"), "not_equal": ("__ne__", "__ne__")})


_TYPE_NAMES = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor", "int64": "LongTensor",
               "int32": "IntTensor", "int16": "ShortTensor", "int8": "CharTensor", "uint8": "ByteTensor",
               "bool": "BoolTensor"}


def _scaled(name: str, x, other, alpha):
    """x.add(other, alpha=alpha) (or sub) as torch: promoted first, then other scaled by alpha; a float
    alpha needs a float result, a bool alpha a bool one (where adding is or)."""
    x, y = promote(x, other)
    kind = x.dtype.kind
    if isinstance(alpha, (bool, np.bool_)) and kind != "b":
        raise RuntimeError(f"{name}: a Boolean alpha is only supported for Boolean results (as torch), got {x.dtype}")
    if isinstance(alpha, (float, np.floating)) and kind in "biu":
        raise RuntimeError(f"{name}: for integral input tensors ({x.dtype}), argument alpha must not be a floating "
                           f"point number (as torch), got {alpha}")
    if kind == "f" and np.isfinite(alpha) and abs(alpha) > float(np.finfo(x.dtype).max):
        raise RuntimeError(f"{name}: alpha {alpha} cannot be converted to {x.dtype} without overflow (as torch)")
    if kind == "b":
        return x | (y & bool(alpha))
    return x + y * alpha if name == "add" else x - y * alpha


def _same(x, y) -> bool:
    """A float tensor and a Python float or a tensor of its dtype: the promotion's fast path."""
    return x._data.dtype.kind == "f" and (type(y) is float or type(y) is Tensor and x._data.dtype == y._data.dtype)


class TensorMethods:
    """Tensor's methods that have a body of their own: the operators (torch's promotion first), the
    reductions (torch's dim/keepdim or NumPy's axis/keepdims), shapes, dtypes and indexing."""

    is_cuda = False
    T = property(lambda self: ops.permute(self, axes=tuple(range(self.ndim - 1, -1, -1))))
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

    device = property(lambda self: CPU, doc="device(type='cpu'): tensorgrad's one device")

    def cpu(self) -> "Tensor":
        return self

    def cuda(self, device=None, non_blocking: bool = False, memory_format=None):
        device_check("cuda" if device is None else device if isinstance(device, str) else f"cuda:{device}",
                     "Tensor.cuda")

    def to(self, *args, **kwargs) -> "Tensor":
        """to(dtype), to(device), to(device, dtype), to(other), to(device=, dtype=, copy=): a cast, a
        copy when copy=True, or self when nothing changes, as torch. The device must be the CPU."""
        dtype, dev, copy = kwargs.pop("dtype", None), kwargs.pop("device", None), kwargs.pop("copy", False)
        kwargs.pop("non_blocking", None), kwargs.pop("memory_format", None)
        if kwargs:
            raise TypeError(f"to() got unexpected arguments {sorted(kwargs)}")
        for a in args:
            if isinstance(a, Tensor):
                dtype = a.dtype
            elif isinstance(a, (str, device, int)) and not isinstance(a, bool):
                dev = a
            elif not isinstance(a, bool):
                dtype = a
        device_check(dev, "Tensor.to")
        if dtype is None or as_dtype(dtype) == self.dtype:
            return self.clone() if copy else self
        return self.astype(dtype)

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        """DLPack export of the storage: torch.from_dlpack(t) and torch.as_tensor(t) share it, torch.tensor(t) copies."""
        if stream is not None and stream != -1:
            raise BufferError("tensorgrad tensors live on the CPU: __dlpack__ takes no stream")
        kwargs = {k: v for k, v in (("max_version", max_version), ("dl_device", dl_device), ("copy", copy))
                  if v is not None}
        return self._data.__dlpack__(**kwargs)

    def __dlpack_device__(self):
        return self._data.__dlpack_device__()

    def size(self, dim: int | None = None):
        return Size(self._data.shape) if dim is None else self._data.shape[dim]

    shape = property(lambda self: Size(self._data.shape), doc="torch.Size: a tuple of the dims")

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
    # (the four operators call the engine's apply straight away: they are most of a program's ops)
    def __add__(self, other): return apply(ops.add, promote(self, other), ops.NO_ATTRS)
    def __radd__(self, other): return apply(ops.add, promote(other, self), ops.NO_ATTRS)
    def __sub__(self, other): return apply(ops.sub, ops.minus("sub", self, other), ops.NO_ATTRS)
    def __rsub__(self, other): return apply(ops.sub, ops.minus("sub", other, self), ops.NO_ATTRS)
    def __mul__(self, other): return apply(ops.mul, promote(self, other), ops.NO_ATTRS)
    def __rmul__(self, other): return apply(ops.mul, promote(other, self), ops.NO_ATTRS)
    def __truediv__(self, other): return apply(ops.div, promote(self, other) if _same(self, other) else \
        promote_float(self, other), ops.NO_ATTRS)
    def __rtruediv__(self, other):   # a number / x is reciprocal(x) * number, as torch: its rule reads the result, not x
        if isinstance(other, (int, float)):
            return apply(ops.mul, promote(ops.reciprocal(self), other), ops.NO_ATTRS)
        return apply(ops.div, promote_float(other, self), ops.NO_ATTRS)
    def __floordiv__(self, other): return fn.floor_divide(self, other)
    def __rfloordiv__(self, other): return fn.floor_divide(other, self)
    def __mod__(self, other): return fn.remainder(self, other)
    def __rmod__(self, other): return fn.remainder(other, self)
    def __neg__(self): return ops.neg(self)
    def __pos__(self): return self
    def __abs__(self): return ops.abs(self)
    def __pow__(self, other): return fn.pow(self, other)
    def __rpow__(self, other): return fn.pow(other, self)
    def __matmul__(self, other): return fn.matmul(self, other)
    def __rmatmul__(self, other): return fn.matmul(other, self)
    def __invert__(self): return ops.bitwise_not(self)
    def __and__(self, other): return ops.bitwise_and(*promote(self, other))
    def __rand__(self, other): return ops.bitwise_and(*promote(other, self))
    def __or__(self, other): return ops.bitwise_or(*promote(self, other))
    def __ror__(self, other): return ops.bitwise_or(*promote(other, self))
    def __xor__(self, other): return ops.bitwise_xor(*promote(self, other))
    def __rxor__(self, other): return ops.bitwise_xor(*promote(other, self))

    # comparisons give bool tensors that carry no gradient
    def __lt__(self, other): return ops.lt(*promote(self, other))
    def __le__(self, other): return ops.le(*promote(self, other))
    def __gt__(self, other): return ops.gt(*promote(self, other))
    def __ge__(self, other): return ops.ge(*promote(self, other))
    def __eq__(self, other): return ops.eq(*promote(self, other))
    def __ne__(self, other): return ops.ne(*promote(self, other))

    # torch's method spellings
    def add(self, other, alpha=1):
        return self + other if type(alpha) is int and alpha == 1 else _scaled("add", self, other, alpha)

    def sub(self, other, alpha=1):
        ops.minus("sub", self, other)                                # (refuses bools)
        return self - other if type(alpha) is int and alpha == 1 else _scaled("sub", self, other, alpha)

    def mul(self, other): return self * other
    def div(self, other, rounding_mode=None): return fn.div(self, other, rounding_mode=rounding_mode)
    def matmul(self, other): return fn.matmul(self, other)
    subtract, multiply, divide, true_divide = sub, mul, div, __truediv__


    # --- elementwise math ----------------------------------------------------

    # --- reductions: torch's dim/keepdim or NumPy's axis/keepdims --------------
    def sum(self, dim=None, keepdim=False, *, axis=None, keepdims=None, dtype=None):
        x = self if dtype is None else self.astype(dtype)
        if dtype is None and x.dtype.kind in "bi" and x.dtype != np.int64:   # torch sums ints as int64
            x = x.astype(np.int64)
        return ops.sum(x, **reduction(self, dim, keepdim, axis, keepdims))

    def mean(self, dim=None, keepdim=False, *, axis=None, keepdims=None, dtype=None):
        x = self if dtype is None else self.astype(dtype)
        return fn.mean(x, **reduction(self, dim, keepdim, axis, keepdims))

    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None, keepdims=None):
        """Unbiased (Bessel's n-1) by default, like torch; unbiased=False or correction=0 for 1/n."""
        if isinstance(dim, bool):               # x.var(False): torch's var(unbiased)
            dim, unbiased = None, dim
        correction = (1 if unbiased is None or unbiased else 0) if correction is None else correction
        return fn.var(self, correction=correction, **reduction(self, dim, keepdim, axis, keepdims))

    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None, keepdims=None):
        """sqrt(var): unbiased by default; where the variance is 0 the gradient is 0, as torch."""
        if isinstance(dim, bool):
            dim, unbiased = None, dim
        correction = (1 if unbiased is None or unbiased else 0) if correction is None else correction
        return fn.std(self, correction=correction, **reduction(self, dim, keepdim, axis, keepdims))

    def amax(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        """Max over dim; tied maxima share the gradient evenly."""
        return ops.amax(self, **reduction(self, dim, keepdim, axis, keepdims))

    def amin(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return fn.amin(self, **reduction(self, dim, keepdim, axis, keepdims))

    def max(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        """max() over everything (ties share the gradient), max(dim) -> (values, indices)
        (the gradient goes to the returned index only), or max(other) elementwise, as torch."""
        if isinstance(dim, Tensor):
            return fn.maximum(self, dim)
        return fn.max(self, **reduction(self, dim, keepdim, axis, keepdims, single=True))

    def min(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        if isinstance(dim, Tensor):
            return fn.minimum(self, dim)
        return fn.min(self, **reduction(self, dim, keepdim, axis, keepdims, single=True))

    def argmax(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return ops.argmax(self, **reduction(self, dim, keepdim, axis, keepdims, single=True))

    def argmin(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return ops.argmin(self, **reduction(self, dim, keepdim, axis, keepdims, single=True))

    def all(self, dim=None, keepdim=False):
        return ops.all(self.astype(np.bool_), **reduction(self, dim, keepdim, None, None))

    def any(self, dim=None, keepdim=False):
        return ops.any(self.astype(np.bool_), **reduction(self, dim, keepdim, None, None))


    # --- shapes (views of the same storage where NumPy gives one) ----------------
    def reshape(self, *shape, **kw): return ops.reshape(self, shape=shape_arg(shape or (kw.pop("shape"),)))
    def view(self, *shape, **kw):
        if len(shape) == 1 and not isinstance(shape[0], (int, tuple, list)) or "dtype" in kw:
            raise TypeError("view(dtype) is not supported by tensorgrad; use .to(dtype)")
        return self.reshape(*shape, **kw)      # NumPy's layouts are not torch's: a view where one is possible, else a copy
    def view_as(self, other): return self.reshape(other.shape)
    def select(self, dim, index): return self[(slice(None),) * wrap_dim(dim, self.ndim, "select") + (index,)]
    neg = negative = __neg__
    def unflatten(self, dim, sizes):
        d = wrap_dim(dim, self.ndim, "unflatten")
        return self.reshape(self.shape[:d] + tuple(sizes) + self.shape[d + 1:])
    def reshape_as(self, other): return self.reshape(other.shape)
    def flatten(self, start_dim=0, end_dim=-1): return fn.flatten(self, start_dim, end_dim)
    def squeeze(self, dim=None): return fn.squeeze(self, dim)
    def unsqueeze(self, dim): return fn.unsqueeze(self, dim)
    def permute(self, *dims, **kw):
        dims = shape_arg(dims or (kw.pop("dims", ()),))
        return ops.permute(self, axes=tuple(wrap_dim(d, self.ndim, "permute") for d in dims))
    def transpose(self, dim0, dim1): return fn.transpose(self, dim0, dim1)
    swapaxes = swapdims = transpose
    def t(self):
        if self.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {self.ndim}D")
        return self.T
    def expand(self, *sizes, **kw): return fn.expand(self, shape_arg(sizes or (kw.pop("size"),)))
    def broadcast_to(self, shape): return fn.expand(self, tuple(shape))
    def expand_as(self, other): return fn.expand(self, other.shape)
    def contiguous(self): return self if self._data.flags.c_contiguous else ops.cast(self, dtype=self.dtype, order="C")
    def is_contiguous(self): return bool(self._data.flags.c_contiguous)

    # --- dtypes ------------------------------------------------------------------
    def astype(self, dtype):
        dtype = as_dtype(dtype)
        return self if dtype == self.dtype else ops.cast(self, dtype=dtype)
    def type(self, dtype=None):
        """torch's type name ('torch.FloatTensor'), or the tensor cast to dtype (a dtype or such a name)."""
        if dtype is None:
            return "torch." + _TYPE_NAMES.get(self.dtype.name, self.dtype.name)
        if isinstance(dtype, str) and dtype.startswith("torch.") and dtype.endswith("Tensor"):
            names = {v: k for k, v in _TYPE_NAMES.items()}
            if dtype[6:] not in names:
                raise ValueError(f"type: invalid type {dtype!r}")
            dtype = names[dtype[6:]]
        return self.astype(dtype)
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
    def __getitem__(self, key): return ops.getitem(self, key=ops.index_key(key))

    def index_put(self, key, values, accumulate=False):
        return ops.index_put(self, values, key=ops.index_key(key), accumulate=accumulate)
    def index_add(self, dim, index, source, alpha=1):
        return fn.index_add(self, dim, index, source if alpha == 1 else source * alpha)

    # --- the value as Python and NumPy see it; leaves, gradients, printing and hooks
    def item(self):
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to Scalar "
                               f"(item() needs one element, shape is {self.shape})")
        return self._data.item()

    def numpy(self) -> np.ndarray:
        """The array itself: it shares memory with the tensor."""
        return self._data

    def detach(self) -> "Tensor":
        """The same storage and version counter, cut from the graph."""
        return Tensor._wrap(self._data, self._vc)

    def __array__(self, dtype=None, copy=None):
        """np.asarray(t) is the array itself; np.array(t) (copy=True) a copy, as NumPy asks."""
        a = self._data if dtype is None else self._data.astype(dtype, copy=False)
        return a.copy() if copy and a is self._data else a

    def requires_grad_(self, flag: bool = True) -> "Tensor":
        self.requires_grad = flag
        return self

    def tolist(self):
        return self._data.tolist()

    def detach_(self) -> "Tensor":
        self._node, self._requires_grad = None, False
        return self

    def retain_grad(self) -> None:
        """Keep .grad on this intermediate too (leaves always keep theirs)."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self._node is not None:
            self._node.retained = weakref.ref(self)

    @property
    def retains_grad(self) -> bool:
        return self._node is not None and self._node.retained is not None

    def zero_grad(self) -> None:
        self._grad = None

    def __repr__(self):
        a = self._data
        if a.size == 0:
            body = "[]"
        else:
            opts = PRINT_OPTIONS
            summarize = a.size > opts["threshold"]
            seen = shown(a) if summarize else a                # (what the print shows picks the format)
            body = np.array2string(a, separator=", ", prefix="tensor(", max_line_width=opts["linewidth"],
                                   threshold=0 if summarize else a.size + 1, edgeitems=opts["edgeitems"],
                                   formatter={"float_kind": float_formatter(seen), "bool": bool_formatter(seen)})
            body = body.replace(", ..., ", ",  ..., ")          # (torch's ellipsis in a row)
        extra = [f"size={tuple(a.shape)}"] if a.size == 0 and a.ndim != 1 else []
        extra += [f"dtype=torch.{self.dtype}"] if self.dtype not in (DEFAULT.float, np.int64, np.bool_) else []
        if self.name:
            extra.append(f"name={self.name!r}")
        if self._node is not None:
            extra.append(f"grad_fn=<{self._op}Backward>")
        elif self._requires_grad:
            extra.append("requires_grad=True")
        return f"tensor({body}{''.join(', ' + e for e in extra)})"

    def register_hook(self, hook) -> RemovableHandle:
        """hook(grad) runs when this tensor's gradient has been computed, before it flows on (or,
        on a leaf, into .grad); a Tensor it returns replaces the gradient, as in torch."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._node is not None:
            self._node.hooks = hooks = self._node.hooks or []
        else:
            self._hooks = self._hooks or {"grad": [], "post": []}
            hooks = self._hooks["grad"]
        hooks.append(hook)
        return RemovableHandle(hooks, hook)

    def register_post_accumulate_grad_hook(self, hook) -> RemovableHandle:
        """hook(tensor) runs after backward has accumulated into this leaf's .grad."""
        if self._node is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        self._hooks = self._hooks or {"grad": [], "post": []}
        self._hooks["post"].append(hook)
        return RemovableHandle(self._hooks["post"], hook)

    # --- a few more of torch's method spellings
    def flip(self, *dims): return fn.flip(self, shape_arg(dims))
    def tile(self, *dims): return fn.tile(self, shape_arg(dims))
    def where(self, condition, other): return fn.where(condition, self, other)
    def ravel(self): return self.reshape(-1)
    def unfold(self, dimension, size, step): return _sliding_windows(self, dimension, size, step)

    def multinomial(self, num_samples, replacement=False, *, generator=None):
        return multinomial(self, num_samples, replacement, generator=generator)

    def bernoulli(self, p=None, *, generator=None): return bernoulli(self, p, generator=generator)

    def new_tensor(self, data, dtype=None, requires_grad=False):
        return fn.tensor(data, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def new_full(self, size, fill_value, dtype=None, requires_grad=False):
        return fn.full(size, fill_value, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def new_zeros(self, *size, dtype=None, requires_grad=False):
        return fn.zeros(*size, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, requires_grad=False):
        return fn.ones(*size, dtype=dtype or self.dtype, requires_grad=requires_grad)

    new_empty = new_zeros

    # --- comparisons as methods (x.eq(y) is x == y)
    def eq(self, other): return self == other
    def ne(self, other): return self != other
    def gt(self, other): return self > other
    def ge(self, other): return self >= other
    def lt(self, other): return self < other
    def le(self, other): return self <= other
    greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne

    # --- where the values live: torch's strides and storage, in elements, of the NumPy array
    def stride(self, dim: int | None = None):
        """Elements to step along each dim (NumPy's byte strides over the item size)."""
        steps = tuple(s // self._data.itemsize for s in self._data.strides)
        return steps if dim is None else steps[wrap_dim(dim, self.ndim, "stride")]

    def storage_offset(self) -> int:
        """Where the tensor starts in its storage, in elements (a slice of a larger array starts inside it)."""
        owner = self._data
        while isinstance(owner.base, np.ndarray):
            owner = owner.base
        return (self.data_ptr() - owner.__array_interface__["data"][0]) // self._data.itemsize

    def data_ptr(self) -> int: return self._data.__array_interface__["data"][0]
    nbytes = property(lambda self: self._data.nbytes)
    itemsize = property(lambda self: self._data.itemsize)
    is_cpu = True

    def ndimension(self) -> int: return self.ndim
    def get_device(self) -> int: return -1                # (torch's number for the CPU)
    def is_pinned(self) -> bool: return False
    def pin_memory(self):
        raise RuntimeError("pin_memory: Cannot access accelerator device when none is available (as torch on a CPU)")
    def share_memory_(self): return self
    def is_signed(self) -> bool: return self._data.dtype.kind in "if"
    def is_complex(self) -> bool: return False
    def is_inference(self) -> bool: return False
    def is_neg(self) -> bool: return False
    def is_conj(self) -> bool: return False
    def conj(self): return self                           # (real tensors: their own conjugate, as torch)
    resolve_conj = resolve_neg = conj
    def is_same_size(self, other) -> bool: return self.shape == other.shape

    def is_nonzero(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(f"is_nonzero: a Tensor with {self._data.size} elements cannot be converted to Scalar")
        return bool(self._data.reshape(()))

    # --- in-place changes of shape: x.unsqueeze_(0) is x = x.unsqueeze(0), the same storage
    def _reshape_in_place(self, name: str, view):
        if _mode.grad and self._node is None and self._requires_grad:
            raise RuntimeError(f"{name}: a leaf Variable that requires grad is being used in an in-place operation.")
        if self._base is not None and (self._requires_grad or self._base._requires_grad):
            raise RuntimeError(f"{name}: changing the shape of a view of a tensor in a graph in place is not "
                               f"supported; write x = x.{name[:-1]}(...) instead")
        out = view(self)
        self._data, self._node, self._requires_grad = out._data, out._node, out._requires_grad
        self._base = self._view_key = None        # (its values stay the storage's: a NumPy view of it)
        return self

    def unsqueeze_(self, dim): return self._reshape_in_place("unsqueeze_", lambda x: x.unsqueeze(dim))
    def squeeze_(self, dim=None): return self._reshape_in_place("squeeze_", lambda x: x.squeeze(dim))
    def t_(self): return self._reshape_in_place("t_", lambda x: x.t())
    def transpose_(self, dim0, dim1): return self._reshape_in_place("transpose_", lambda x: x.transpose(dim0, dim1))
    swapaxes_ = swapdims_ = transpose_

    def sum_to_size(self, *size):
        """Summed down to size, a shape self broadcasts from (the adjoint of expand)."""
        shape, lead = shape_arg(size), self.ndim - len(shape_arg(size))
        if lead < 0 or any(n != 1 and self.shape[lead + i] != n for i, n in enumerate(shape)):
            raise RuntimeError(f"sum_to_size: size {list(shape)} is not expandable to size {list(self.shape)}")
        axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and self.shape[lead + i] != 1)
        return ops.reshape(ops.sum(self, axis=axes, keepdims=True) if axes else self, shape=shape)



_CLASS_MACHINERY = {"__module__", "__qualname__", "__doc__", "__dict__", "__weakref__", "__firstlineno__",
                    "__static_attributes__"}


METHODS = {
    # elementwise math: rows of the op table
    "exp": ops.exp, "log": ops.log, "tanh": ops.tanh, "sigmoid": ops.sigmoid, "abs": ops.abs, "sign": ops.sign,
    "sin": ops.sin, "cos": ops.cos, "tan": ops.tan, "asin": ops.asin, "acos": ops.acos, "atan": ops.atan,
    "sinh": ops.sinh, "cosh": ops.cosh, "asinh": ops.asinh, "acosh": ops.acosh, "atanh": ops.atanh,
    "arcsin": ops.asin, "arccos": ops.acos, "arctan": ops.atan, "arcsinh": ops.asinh, "arccosh": ops.acosh,
    "arctanh": ops.atanh, "floor": ops.floor, "ceil": ops.ceil, "trunc": ops.trunc, "fix": ops.trunc,
    "log2": ops.log2, "log10": ops.log10, "log1p": ops.log1p, "expm1": ops.expm1, "exp2": ops.exp2, "erf": ops.erf,
    "erfc": ops.erfc, "erfinv": ops.erfinv,
    "isnan": ops.isnan, "isinf": ops.isinf, "isfinite": ops.isfinite,
    # elementwise composites (functions/math.py)
    "relu": fn.relu, "sqrt": fn.sqrt, "pow": fn.pow, "maximum": fn.maximum, "minimum": fn.minimum,
    "clamp": fn.clamp, "clip": fn.clamp, "clamp_min": fn.clamp_min, "clamp_max": fn.clamp_max, "round": fn.round,
    "atan2": fn.atan2, "arctan2": fn.atan2, "frac": fn.frac, "rsqrt": fn.rsqrt, "reciprocal": fn.reciprocal,
    "square": fn.square, "lerp": fn.lerp, "logaddexp": fn.logaddexp, "remainder": fn.remainder, "fmod": fn.fmod,
    "floor_divide": fn.floor_divide, "float_power": fn.float_power, "nan_to_num": fn.nan_to_num, "xlogy": fn.xlogy,
    "hypot": fn.hypot, "copysign": fn.copysign, "deg2rad": fn.deg2rad, "rad2deg": fn.rad2deg, "logit": fn.logit,
    "sinc": fn.sinc, "logical_and": fn.logical_and, "logical_or": fn.logical_or, "logical_xor": fn.logical_xor,
    "logical_not": fn.logical_not, "fmax": fn.fmax, "fmin": fn.fmin, "heaviside": fn.heaviside,
    "signbit": fn.signbit, "isposinf": fn.isposinf, "isneginf": fn.isneginf, "isreal": fn.isreal, "sgn": fn.sgn,
    "positive": fn.positive, "masked_fill": fn.masked_fill,
    # reductions, scans, softmax (functions/reduce.py)
    "softmax": fn.softmax, "log_softmax": fn.log_softmax, "logsumexp": fn.logsumexp, "prod": fn.prod,
    "cumsum": fn.cumsum, "cumprod": fn.cumprod, "cummax": fn.cummax, "cummin": fn.cummin,
    "logcumsumexp": fn.logcumsumexp, "norm": fn.norm, "dist": fn.dist, "count_nonzero": fn.count_nonzero,
    "nansum": fn.nansum, "nanmean": fn.nanmean, "aminmax": fn.aminmax,
    # sorting and counting (functions/sort.py)
    "sort": fn.sort, "argsort": fn.argsort, "msort": fn.msort, "topk": fn.topk, "median": fn.median,
    "nanmedian": fn.nanmedian, "unique": fn.unique, "histc": fn.histc, "bincount": fn.bincount,
    # shapes (functions/shape.py)
    "split": fn.split, "chunk": fn.chunk, "tensor_split": fn.tensor_split, "unbind": fn.unbind, "roll": fn.roll,
    "repeat": fn.repeat, "repeat_interleave": fn.repeat_interleave, "tril": fn.tril, "triu": fn.triu,
    "diag": fn.diag, "diag_embed": fn.diag_embed, "diagonal": fn.diagonal, "movedim": fn.movedim,
    "moveaxis": fn.moveaxis, "narrow": fn.narrow, "rot90": fn.rot90, "fliplr": fn.fliplr, "flipud": fn.flipud,
    # gathers and scatter-adds (functions/index.py)
    "gather": fn.gather, "scatter_add": fn.scatter_add, "scatter": fn.scatter, "index_select": fn.index_select,
    "masked_select": fn.masked_select, "take_along_dim": fn.take_along_dim, "nonzero": fn.nonzero,
    "argwhere": fn.argwhere, "index_fill": fn.index_fill, "index_copy": fn.index_copy,
    # products (functions/linalg.py)
    "mm": fn.mm, "bmm": fn.bmm, "mv": fn.mv, "dot": fn.dot, "addmm": fn.addmm, "outer": fn.outer,
    "inner": fn.inner, "kron": fn.kron, "cross": fn.cross, "diff": fn.diff, "trace": fn.trace,
    # comparing (functions/compare.py)
    "isclose": fn.isclose, "allclose": fn.allclose, "equal": fn.equal,
    # more of torch's methods (functions/)
    "bitwise_and": fn.bitwise_and, "bitwise_or": fn.bitwise_or, "bitwise_xor": fn.bitwise_xor,
    "bitwise_not": fn.bitwise_not, "addcmul": fn.addcmul, "addcdiv": fn.addcdiv, "logaddexp2": fn.logaddexp2, "ldexp": fn.ldexp, "gcd": fn.gcd,
    "lcm": fn.lcm, "frexp": fn.frexp, "take": fn.take, "masked_scatter": fn.masked_scatter, "cov": fn.cov,
    "corrcoef": fn.corrcoef, "kthvalue": fn.kthvalue, "unique_consecutive": fn.unique_consecutive,
    "addmv": fn.addmv, "addr": fn.addr, "baddbmm": fn.baddbmm, "addbmm": fn.addbmm, "vdot": fn.vdot, "ger": fn.ger,
    "quantile": fn.quantile, "nanquantile": fn.nanquantile, "hsplit": fn.hsplit, "vsplit": fn.vsplit, "dsplit": fn.dsplit, "split_with_sizes": fn.split_with_sizes,
    "diagflat": fn.diagflat, "narrow_copy": fn.narrow_copy,
    "det": fn.det, "inverse": fn.inverse, "logdet": fn.logdet, "slogdet": fn.slogdet, "matrix_power": fn.matrix_power,
}

INPLACE = {
    "__iadd__": inplace.iadd, "__isub__": inplace.isub, "__imul__": inplace.imul, "__itruediv__": inplace.itruediv,
    "__ipow__": inplace.ipow, "__ifloordiv__": inplace.ifloordiv, "__imod__": inplace.imod,
    "__iand__": inplace.iand, "__ior__": inplace.ior, "__ixor__": inplace.ixor, "__imatmul__": inplace.imatmul,
    "__setitem__": inplace.setitem,
    "add_": inplace.add_, "sub_": inplace.sub_, "mul_": inplace.mul_, "div_": inplace.div_, "pow_": inplace.pow_,
    "clamp_": inplace.clamp_, "clip_": inplace.clamp_, "zero_": inplace.zero_, "fill_": inplace.fill_,
    "copy_": inplace.copy_, "masked_fill_": inplace.masked_fill_, "index_add_": inplace.index_add_,
    "scatter_add_": inplace.scatter_add_, "index_put_": inplace.index_put_,
    "normal_": inplace.normal_, "uniform_": inplace.uniform_, "bernoulli_": inplace.bernoulli_,
    "exponential_": inplace.exponential_, "random_": inplace.random_,
    # x.f_() as x <- x.f(), for these f
    **{name + "_": inplace.variant(name) for name in (
        "neg", "exp", "log", "tanh", "sigmoid", "relu", "sqrt", "abs", "sin", "cos", "tan", "asin", "acos", "atan",
        "sinh", "cosh", "asinh", "acosh", "atanh", "sign", "floor", "ceil", "trunc", "frac", "round", "log2",
        "log10", "log1p", "expm1", "exp2", "erf", "rsqrt", "reciprocal", "square", "nan_to_num", "atan2", "lerp",
        "logaddexp", "fmod", "remainder", "floor_divide", "float_power", "cumsum", "cumprod", "tril", "triu",
        "arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh", "fix", "erfc", "erfinv",
        "eq", "ne", "gt", "ge", "lt", "le", "greater", "greater_equal", "less", "less_equal", "not_equal",
        "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "logical_and", "logical_or", "logical_xor",
        "logical_not", "clamp_min", "clamp_max", "copysign", "hypot", "xlogy", "sgn", "deg2rad", "rad2deg", "sinc",
        "logit", "heaviside", "arctan2", "multiply", "subtract", "divide", "true_divide", "negative",
        "index_fill", "index_copy", "scatter", "addcmul", "addcdiv", "addmm", "addmv", "addr", "baddbmm", "addbmm",
        "masked_scatter")},
}

for _name, _member in vars(TensorMethods).items():
    if _name not in _CLASS_MACHINERY:
        setattr(Tensor, _name, _member)


def _method(op):
    """A row of the op table as a Tensor method: x.exp() is apply(exp, (x,), {}), one call (an Op stored on
    the class works too, through Op.__get__, at two more calls per use)."""
    def method(self, *args, **attrs):
        return apply(op, (self, *args), attrs)
    method.__name__ = method.__qualname__ = op.name
    return method


for _name, _member in {**METHODS, **INPLACE}.items():
    setattr(Tensor, _name, _method(_member) if isinstance(_member, ops.Op) else _member)
Tensor.__hash__ = object.__hash__    # tensors are keyed by identity; == is elementwise
for _name in TORCH_TENSOR_NAMES:        # a torch member tensorgrad lacks says so when it is read
    if not hasattr(Tensor, _name):
        setattr(Tensor, _name, Missing(f"torch.Tensor.{_name}"))
