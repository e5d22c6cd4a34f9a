"""torch's in-place ops and views: x op= y, x.add_(y), x[key] = v, x.sin_() and friends.

A write goes into the tensor's storage, so every alias (views, .data, detach()) sees it, and
bumps the shared version counter, so backward can refuse values that changed under it. Under
no_grad, or when nothing involved requires grad, a write is just a write (the optimizer's
`p -= lr * p.grad` is one NumPy call). On a tensor in a graph the op is recorded and the tensor
gets a new history; a write through a view rewrites its base's history too (torch's CopySlices).
These functions become Tensor's methods in tensor_api.py.
"""
from __future__ import annotations

import numpy as np

from . import ops
from .dtypes import as_array, checked_scalar
from .engine import Tensor, _mode, refresh
from .functions.math import div
from .functions.random import default_rng


def records(self, *args) -> bool:
    """Does an in-place op on self go on the tape (self in a graph, or a value that requires grad)?"""
    return _mode.grad and (self._requires_grad or any(isinstance(a, Tensor) and a._requires_grad for a in args))


def inplace(self, name: str, fn, *args, ufunc=None):
    """self <- fn(self, *args), written into self's storage, so that every view sees it, and
    the version counter moves. On a tensor in a graph (or given values that require grad)
    the op is recorded too, so that gradients stay right: self gets a new history."""
    if not _mode.grad or not (self._requires_grad or any([isinstance(a, Tensor) and a._requires_grad for a in args])):
        if _mode.grad and self._base is not None:
            check_leaf(self, name)              # a view made under no_grad of a leaf that requires grad
        if ufunc is not None and self._data.dtype.kind == "f" and self._data.flags.writeable:
            y = args[0]._data if isinstance(args[0], Tensor) else args[0]
            if isinstance(y, (int, float)) or isinstance(y, np.ndarray) and y.dtype == self._data.dtype and (
                    y.shape == self._data.shape or  # the optimizer's case: no broadcasting to check
                    y.ndim <= self.ndim and np.broadcast_shapes(y.shape, self.shape) == self.shape):
                with np.errstate(all="ignore"):           # x /= 0 is inf or NaN, as torch, not a warning
                    ufunc(self._data, y, out=self._data)      # the optimizer's p -= lr * g: no copy
                if _mode.trace is not None:                   # tg.compile replays the write
                    _mode.trace.append(("effect", "ufunc", self, (ufunc, y)))
                return _bump(self)
        return write(self, fn(self, *args)._data, name)
    check_leaf(self, name)
    if self._base is not None and self._vc[1] > self._view_key[2]:
        refresh(self)                   # its base was written since the view was made: its history first
    out = fn(_old(self), *args)
    write(self, out._data, name)
    self._node, self._requires_grad = out._node, out._requires_grad
    if self._base is not None:
        self._view_key = self._view_key[:2] + (self._vc[1],)
        _rebase(self, name)
    return self


def check_leaf(self, name):
    t = self
    while t._base is not None:
        t = t._base
    if t._node is None and t._requires_grad:
        which = "a leaf Variable" if t is self else "a view of a leaf Variable"
        raise RuntimeError(f"{name}: {which} that requires grad is being used in an in-place operation.")


def _old(self) -> Tensor:
    """A tensor holding self's current value (a copy: self is about to be overwritten) and history."""
    old = Tensor._wrap(self._data.copy())
    old._node, old._requires_grad = self._node, self._requires_grad
    return old


def write(self, values: np.ndarray, name: str) -> Tensor:
    if np.ndim(values) > self.ndim or np.shape(values) != self.shape and np.broadcast_shapes(
            np.shape(values), self.shape) != self.shape:          # NumPy would drop leading 1s; torch refuses
        raise RuntimeError(f"{name}: output with shape {list(self.shape)} doesn't match the broadcast shape "
                           f"{list(np.broadcast_shapes(np.shape(values), self.shape))}")
    if self._data.size == 0 and np.can_cast(np.asarray(values).dtype, self.dtype, "same_kind"):
        return _bump(self)                  # nothing to write (into an expand()ed empty view too, as torch)
    if not self._data.flags.writeable:
        raise RuntimeError(f"{name}: unsupported operation: more than one element of the written-to tensor "
                           "refers to a single memory location (it is an expand()ed view); .clone() it first")
    try:
        np.copyto(self._data, values, casting="same_kind")
    except TypeError:
        raise RuntimeError(f"{name}: result type {values.dtype} can't be cast to the desired output type "
                           f"{self.dtype}") from None
    except ValueError:
        shape = np.broadcast_shapes(values.shape, self.shape) if values.ndim <= self.ndim else values.shape
        raise RuntimeError(f"{name}: output with shape {self.shape} doesn't match the broadcast shape {shape}") from None
    if _mode.trace is not None:                            # tg.compile replays the write (or refuses to)
        _mode.trace.append(("effect", "copy", self, values))
    return _bump(self)


def bump(self) -> Tensor:
    """The version bump of a write the caller made into the storage itself (a running statistic
    updated by an op's forward); tg.compile replays it."""
    if _mode.trace is not None:
        _mode.trace.append(("effect", "bump", self, None))
    return _bump(self)


def _bump(self) -> Tensor:
    _mode.writes += 1
    self._vc[0] += 1
    self._vc[1] = _mode.writes
    return self


def _rebase(self, name):
    """self is a view of _base and was written with history: the base's history becomes the
    new view mapped back (for a slice: the old base with the slice replaced, torch's
    CopySlices); its storage already holds the values."""
    base, (fn, attrs, _) = self._base, self._view_key
    kind = fn.name
    old = Tensor._wrap(base._data)
    old._node, old._requires_grad = base._node, base._requires_grad
    if kind == "getitem":
        out = ops.index_put(old, self, key=attrs["key"], accumulate=False)
    elif kind in ("reshape", "expand"):           # (an expand that is a view to write into adds leading 1s only)
        out = ops.reshape(self, shape=base.shape)
    elif kind == "permute":
        out = ops.permute(self, axes=tuple(np.argsort(attrs["axes"])))
    elif kind == "diagonal":
        out = ops.diagonal_put(old, self, **attrs)
    else:
        raise RuntimeError(f"{name}: an in-place op on a {kind} view of a tensor in a graph is not supported; "
                           ".clone() the view first")
    base._node, base._requires_grad = out._node, out._requires_grad
    if base._base is not None:
        base._view_key = base._view_key[:2] + (base._vc[1],)
        _rebase(base, name)


# ----------------------------------------------------------------------------
# the methods (bound onto Tensor in tensor_api.py)

def iadd(self, other): return inplace(self, "add_", Tensor.__add__, other, ufunc=np.add)
def isub(self, other):
    ops.minus("sub_", self, other)                     # (refuses bools, as torch)
    return inplace(self, "sub_", Tensor.__sub__, other, ufunc=np.subtract)



def imul(self, other): return inplace(self, "mul_", Tensor.__mul__, other, ufunc=np.multiply)
def itruediv(self, other): return inplace(self, "div_", Tensor.__truediv__, other, ufunc=np.true_divide)
def ipow(self, other): return inplace(self, "pow_", Tensor.__pow__, other)
def ifloordiv(self, other): return inplace(self, "floor_divide_", Tensor.__floordiv__, other)
def imod(self, other): return inplace(self, "remainder_", Tensor.__mod__, other)
def iand(self, other): return inplace(self, "bitwise_and_", Tensor.__and__, other)
def ior(self, other): return inplace(self, "bitwise_or_", Tensor.__or__, other)
def ixor(self, other): return inplace(self, "bitwise_xor_", Tensor.__xor__, other)
def imatmul(self, other): return inplace(self, "matmul_", Tensor.__matmul__, other)


def add_(self, other, alpha=1): return iadd(self, other if alpha == 1 else other * alpha)
def sub_(self, other, alpha=1):
    ops.minus("sub_", self, other)                     # (a bool other is refused before alpha scales it, as torch)
    return isub(self, other if alpha == 1 else other * alpha)
def mul_(self, other): return imul(self, other)
def pow_(self, exponent): return ipow(self, exponent)


def div_(self, other, rounding_mode=None):
    if rounding_mode is None:
        return itruediv(self, other)
    return inplace(self, "div_", lambda x, y: div(x, y, rounding_mode=rounding_mode), other)


def clamp_(self, min=None, max=None): return inplace(self, "clamp_", lambda x: x.clamp(min, max))
def zero_(self): return fill_(self, 0)


def fill_(self, value):
    """Every element <- value (a number or a 0-d tensor), cast to self's dtype; as torch, this works on
    an expand()ed view too (each shared element gets the same value)."""
    if isinstance(value, Tensor) and value.ndim:
        raise RuntimeError(f"fill_: only supports 0-dimension value tensor but got tensor with {value.ndim} dimensions.")
    if not self._data.flags.writeable and not records(self, value) and _mode.trace is None:
        alias = _alias(self._data)
        if alias is not None:
            if _mode.grad and self._base is not None:
                check_leaf(self, "fill_")
            alias[...] = _cast(value._data if isinstance(value, Tensor) else value, self.dtype)
            return _bump(self)
    return copy_(self, value)


def _alias(a: np.ndarray):
    """A writeable array on the memory of a read-only broadcast view a (its stride-0 dims repeat
    elements of the array it views), or None when that memory is not a writeable array's."""
    owner = a
    while isinstance(owner.base, np.ndarray):
        owner = owner.base
    if not (owner.flags.writeable and owner.flags.c_contiguous):
        return None
    offset = a.__array_interface__["data"][0] - owner.__array_interface__["data"][0]
    return np.ndarray(a.shape, a.dtype, buffer=owner, offset=offset, strides=a.strides)


def _overlaps(a) -> bool:
    """Does a view hold some element twice (a stride of 0 along a dim of more than one)?"""
    return isinstance(a, np.ndarray) and any(st == 0 and n > 1 for st, n in zip(a.strides, a.shape))


def _cast(values, dtype) -> np.ndarray:
    """values in dtype as torch's copy_ casts them: any dtype to any (float to int truncates)."""
    with np.errstate(invalid="ignore", over="ignore"):
        return np.asarray(values).astype(dtype, copy=False)


def copy_(self, src):
    """Write src (broadcast, cast to self's dtype, whatever the two dtypes) into self; recorded when src
    requires grad."""
    if not records(self, src):
        if _mode.grad and self._base is not None:
            check_leaf(self, "copy_")
        return write(self, _cast(src._data if isinstance(src, Tensor) else src, self.dtype), "copy_")
    return inplace(self, "copy_", lambda x, s: ops.where(np.array(True), ops.cast_to(s, x.dtype), x), src)


def masked_fill_(self, mask, value):
    """value where mask holds; as torch, also into an expand()ed view (a number is the same in every copy)."""
    if not self._data.flags.writeable and not records(self, value) and _mode.trace is None:
        alias = _alias(self._data)
        if alias is not None and not isinstance(value, Tensor):
            m = np.asarray(mask._data if isinstance(mask, Tensor) else mask)
            if np.broadcast_shapes(m.shape, self.shape) == self.shape:
                np.copyto(alias, checked_scalar(value, self.dtype, "masked_fill_"), where=np.broadcast_to(m, self.shape))
                return _bump(self)
    return inplace(self, "masked_fill_", lambda x, v: x.masked_fill(mask, v), value)


def index_add_(self, dim, index, source, alpha=1):
    return inplace(self, "index_add_", lambda x, s: x.index_add(dim, index, s if alpha == 1 else s * alpha), source)


def scatter_add_(self, dim, index, src):
    return inplace(self, "scatter_add_", lambda x, s: x.scatter_add(dim, index, s), src)


def index_put_(self, indices, values, accumulate=False):
    return inplace(self, "index_put_", lambda x, v: x.index_put(indices, v, accumulate), values)


def variant(name: str):
    """x.sin_() and friends: x <- x.sin(), written into x's storage."""
    def method(self, *args, **kwargs):
        return inplace(self, name + "_", lambda x, *a: getattr(Tensor, name)(x, *a, **kwargs), *args)
    method.__name__ = name + "_"
    return method


def fill_random(self, name, sample):
    """Write random numbers into self (normal_, uniform_, ...): a plain write, never recorded."""
    if _mode.grad and self._requires_grad:
        check_leaf(self, name)
    return write(self, sample.astype(self.dtype, copy=False), name)


def normal_(self, mean=0.0, std=1.0, generator=None):
    return fill_random(self, "normal_", default_rng(generator).normal(mean, std, self.shape))


def uniform_(self, a=0.0, b=1.0, generator=None):
    return fill_random(self, "uniform_", default_rng(generator).uniform(a, b, self.shape))


def bernoulli_(self, p=0.5, *, generator=None):
    p = p.item() if isinstance(p, Tensor) else p
    return fill_random(self, "bernoulli_", default_rng(generator).random(self.shape) < p)


def exponential_(self, lambd=1.0, *, generator=None):
    return fill_random(self, "exponential_", default_rng(generator).exponential(1 / lambd, self.shape))


def random_(self, low=0, high=None, *, generator=None):
    lo, hi = (0, low) if high is None else (low, high)
    return fill_random(self, "random_", default_rng(generator).integers(lo, hi, self.shape))


def setitem(self, key, value):
    """x[key] = value writes into x's storage (value cast to x's dtype, as torch); a value that
    requires grad, or an x in a graph, is recorded as index_put, so gradients flow to the value."""
    key = ops.index_key(key)
    v = value.astype(self.dtype) if isinstance(value, Tensor) else np.asarray(as_array(value), self.dtype)
    if v.ndim and v.shape[0] == 1:                 # torch's x[key] = v drops v's extra leading 1s
        n = v.ndim - np.ndim(ops.take(self._data, key))
        while n > 0 and v.shape[0] == 1:
            v, n = v.reshape(v.shape[1:]), n - 1
    if not records(self, v):
        if _mode.grad and self._base is not None:
            check_leaf(self, "setitem")         # a view made under no_grad of a leaf that requires grad
        target = self._data
        if not target.flags.writeable:              # an expand()ed view: as torch, a write through basic indexing
            alias = _alias(target) if _mode.trace is None else None       # may not reach an element twice
            if alias is None or _overlaps(ops.take(alias, key)):
                write(self, self._data, "setitem")               # the clear error
            target = alias
        ops.put(target, key, v._data if isinstance(v, Tensor) else v)
        _bump(self)                                 # (not replayable: tg.compile runs such a function dynamically)
        return
    inplace(self, "setitem", lambda x, v: ops.index_put(x, v, key=key, accumulate=False), v)
