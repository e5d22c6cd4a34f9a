"""The Tensor, the tape it records, and the walk that backpropagates through it.

A Tensor is a value: a NumPy array (its storage, shared with its views), a version counter
(shared too), and, once an op that needs a gradient made it, a Node: torch's grad_fn, the
record of that op. A Node keeps micrograd's three things: the inputs (`_prev` on the
tensor), the op (`_op`), and the rule that turns the gradient of the result into one
gradient per input (`_backward`). Value and history are apart so that an in-place op can
give a tensor a new history while the ops that used its old value keep theirs.
`backward()` sorts the nodes once and walks them from the output to the leaves. The
rules themselves live in ops.py, one table.
"""
from __future__ import annotations

import contextlib
import traceback
import weakref
from typing import NamedTuple

import numpy as np


# ----------------------------------------------------------------------------
# global modes: grad recording, anomaly detection, default dtype

class _Mode:
    grad = True                           # record ops on the tape?
    anomaly = False                       # check every gradient for NaN/Inf?
    scope = ""                            # name of the module whose forward is running (for drawing)
    writes = 0                            # how many in-place writes there have been (a clock for versions)
    default_dtype = np.dtype(np.float32)  # what Python floats become, as in torch
    walks = None                          # record_walk(): the list the walk appends its steps to
    trace = None                          # tg.compile's recording: the list apply appends its ops to


_mode = _Mode()


class _Switch(contextlib.ContextDecorator):
    """Set one field of the mode for the length of a with-block (or of a decorated call)."""

    def __init__(self, field: str, value):
        self.field, self.value, self.saved = field, value, []

    def __enter__(self):
        self.saved.append(getattr(_mode, self.field))
        setattr(_mode, self.field, self.value)

    def __exit__(self, *exc):
        setattr(_mode, self.field, self.saved.pop())


def no_grad() -> _Switch:
    """`with tg.no_grad():` records nothing on the tape; also usable as a decorator."""
    return _Switch("grad", False)


def enable_grad() -> _Switch:
    """Turn recording back on inside a no_grad block."""
    return _Switch("grad", True)


class set_grad_enabled(_Switch):
    """tg.set_grad_enabled(False) turns recording off from now on; as a with-block, until its end."""

    def __init__(self, mode: bool):
        super().__init__("grad", bool(mode))
        super().__enter__()

    def __enter__(self):
        pass


def is_grad_enabled() -> bool:
    return _mode.grad


def detect_anomaly() -> _Switch:
    """Within this block every backward rule's output is checked for NaN/Inf, and the
    error names the op and shows where its forward was called."""
    return _Switch("anomaly", True)


class name_scope:
    """`with tg.name_scope(name):` ops recorded inside get `_scope` = the dotted names of the
    enclosing scopes (nn.Module uses this, so that a drawing can group a layer's ops)."""

    def __init__(self, name: str):
        self.name = name

    def __enter__(self):
        self.prev = _mode.scope
        _mode.scope = f"{self.prev}.{self.name}" if self.prev else self.name

    def __exit__(self, *exc):
        _mode.scope = self.prev


def set_default_dtype(dtype) -> None:
    """The dtype of tensors made from Python floats (float32 unless changed, as in torch)."""
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"set_default_dtype: expected a floating dtype, got {dtype}")
    _mode.default_dtype = dtype


def get_default_dtype() -> np.dtype:
    return _mode.default_dtype


class WalkStep(NamedTuple):
    """One vertex of a backward walk, as record_walk() sees it."""
    tensor: "Tensor"       # the tensor visited (a leaf, or the result of the op whose rule ran)
    op: str                # its op's name; "" for a leaf
    grad: np.ndarray       # its complete gradient
    sends: tuple           # a Send per input that received a gradient


class Send(NamedTuple):
    index: int             # which input of the op
    input: "Tensor"
    raw_shape: tuple       # the shape the rule returned
    grad: np.ndarray       # after un-broadcasting: the input's shape
    summed: bool           # the engine summed a broadcast gradient down
    accumulated: bool      # the input already had a gradient from an earlier step


@contextlib.contextmanager
def record_walk():
    """`with record_walk() as steps: loss.backward()`: the walk appends a WalkStep per visited
    tensor, in the engine's own order (viz.walk replays it)."""
    saved, _mode.walks = _mode.walks, []
    try:
        yield _mode.walks
    finally:
        _mode.walks = saved


def _as_array(data, dtype=None) -> np.ndarray:
    """torch.tensor's dtype rules: arrays keep theirs, Python floats get the default."""
    if isinstance(data, Tensor):
        data = data._data
    if dtype is not None:
        dtype = _dtype(dtype)
    keep = isinstance(data, (np.ndarray, np.generic))
    if isinstance(data, (list, tuple)):
        data = [_as_array(d) if isinstance(d, (Tensor, list, tuple)) else d for d in data]
    arr = np.array(data, dtype=dtype)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"tensor: cannot make a tensor of dtype {arr.dtype} from {type(data).__name__}")
    if dtype is None and not keep and arr.dtype.kind == "f":
        arr = arr.astype(_mode.default_dtype, copy=False)
    return arr


def _dtype(dtype) -> np.dtype:
    """np.dtype(dtype), with a clear error for things like 'cpu' passed where a dtype goes."""
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"expected a dtype (tg.float32, tg.int64, ...), got {dtype!r}") from None


# ----------------------------------------------------------------------------
# the Node: one recorded op (torch's grad_fn)

class Node:
    """What backward needs of one op: its rule, the arrays the rule reads, and where each
    input's gradient goes next (the input's own Node, the leaf tensor itself, or None)."""

    __slots__ = ("fn", "attrs", "inputs", "nexts", "saved", "out", "extra", "out_vc", "born", "scope",
                 "stack", "retained", "__weakref__")

    def __init__(self, fn, attrs, inputs, extra=None):
        self.fn, self.attrs, self.inputs, self.extra = fn, attrs, inputs, extra
        self.nexts = tuple([x._node or (x if x._requires_grad else None) for x in inputs])
        self.saved = tuple([x._data for x in inputs])
        self.born, self.scope, self.retained = _mode.writes, _mode.scope, None
        self.stack = "".join(traceback.format_stack(limit=9)[:-3]) if _mode.anomaly else None

    def name(self) -> str:
        return self.fn.name

    next_functions = property(lambda self: tuple((n, 0) for n in self.nexts))

    def __repr__(self):
        return f"<{self.fn.name}Backward>"

    def _check(self):
        """Raise as torch does if backward needs values that are gone or were overwritten."""
        if self.attrs is None:
            raise RuntimeError(
                f"trying to backward through the graph a second time: the saved values of '{self.fn.name}' "
                "were freed by an earlier backward(); pass retain_graph=True to that first call")
        if _mode.writes == self.born or not self.fn.saves:
            return
        watched = [(f"input {i}", x._vc, x.shape) for i, x in enumerate(self.inputs)] if self.fn.saves != "out" else []
        if self.fn.saves in ("out", "all"):
            watched.append(("the output", self.out_vc, self.out.shape))
        for what, vc, shape in watched:
            if vc[1] > self.born:
                raise RuntimeError(
                    f"one of the variables needed for gradient computation has been modified by an inplace "
                    f"operation: {what} of '{self.fn.name}' (shape {shape}) is at version {vc[0]} and was written "
                    "after the op used it. Use the out-of-place form (x = x + y rather than x += y), or .clone() "
                    "the tensor before writing into it")

    def run(self, g):
        """One gradient per input, given the gradient g of the result: on arrays, or on
        tensors (then the rule's own ops are recorded) when g is a Tensor."""
        if self.attrs is None or _mode.writes != self.born:
            self._check()
        fn, kw = self.fn, self.attrs
        if fn.save:
            kw = dict(kw, saved=self.extra)
        try:
            if isinstance(g, Tensor):           # create_graph: the rule sees tensors that carry history
                xs = [Tensor._handle(a, n) for a, n in zip(self.saved, self.nexts)]
                grads = fn.backward(g, Tensor._handle(self.out, self), *xs, **kw)
            else:
                grads = fn.backward(g, self.out, *self.saved, **kw)
        except Exception as e:
            hint = (" (under create_graph=True a rule gets Tensors: write it with tensorgrad ops, not NumPy)"
                    if isinstance(g, Tensor) and isinstance(e, TypeError) else "")
            raise _with_message(e, f"backward of '{fn.name}': {e}{hint}") from e
        grads = grads if type(grads) is tuple else (grads,)
        if len(grads) != len(self.inputs):
            raise RuntimeError(f"backward of '{fn.name}' returned {len(grads)} gradients "
                               f"for {len(self.inputs)} inputs")
        return grads


# ----------------------------------------------------------------------------
# the Tensor

class Tensor:
    """A NumPy array with a gradient and, if an op made it, the record of that op."""

    __slots__ = ("_data", "_grad", "_node", "_vc", "_requires_grad", "_base", "_view_key", "name",
                 "__weakref__")

    def __init__(self, data=None, dtype=None, requires_grad: bool = False, name: str | None = None):
        """tg.Tensor(data) as torch.Tensor: a copy, in the default float dtype unless dtype= says."""
        arr = _as_array([] if data is None else data, dtype)
        if dtype is None and arr.dtype.kind != "f" and not isinstance(data, Tensor):
            arr = arr.astype(_mode.default_dtype)
        Tensor._init(self, arr.copy() if isinstance(data, (Tensor, np.ndarray)) else arr)
        if requires_grad:
            self.requires_grad = True
        self.name = name

    def _init(self, data, vc=None):
        self._data, self._grad, self._node, self._requires_grad = data, None, None, False
        self._vc, self._base, self._view_key, self.name = vc or [0, 0], None, None, None

    @classmethod
    def _wrap(cls, data, vc=None) -> "Tensor":
        """Internal constructor: wraps an array as it is, no checks, no copy."""
        t = object.__new__(cls)
        t._data = data if type(data) is np.ndarray else np.asarray(data)
        t._grad = t._node = t._base = t._view_key = t.name = None
        t._requires_grad, t._vc = False, vc or [0, 0]
        return t

    @classmethod
    def _handle(cls, data, node) -> "Tensor":
        """A tensor standing for what `node` points at: a node's result, a leaf, or a constant."""
        if isinstance(node, Tensor):
            return node
        t = cls._wrap(data)
        if node is not None:
            t._node, t._requires_grad = node, True
        return t

    # --- data, grad, requires_grad ------------------------------------------
    @property
    def data(self) -> "Tensor":
        """The same storage and version counter, cut from the graph (writes to it are seen)."""
        return Tensor._wrap(self._data, self._vc)

    @data.setter
    def data(self, value):
        if isinstance(value, Tensor):
            self._data, self._vc = value._data, value._vc
        else:
            self._data = _as_array(value)

    @property
    def grad(self):
        """None until backward reaches this tensor, then a Tensor of its shape and dtype."""
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got {type(value).__name__}")
            if value.shape != self.shape or value.dtype != self.dtype:
                raise RuntimeError(f"assigned grad has shape {value.shape} and dtype {value.dtype}, but the "
                                   f"tensor has shape {self.shape} and dtype {self.dtype}")
        self._grad = value

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag: bool):
        if flag and self._data.dtype.kind != "f":
            raise RuntimeError(f"only Tensors of floating point dtype can require gradients (this one is {self.dtype})")
        if not flag and self._node is not None:
            raise RuntimeError("you can only change requires_grad flags of leaf variables; use .detach()")
        self._requires_grad = bool(flag)

    def requires_grad_(self, flag: bool = True) -> "Tensor":
        self.requires_grad = flag
        return self

    # micrograd's fields, read from the node
    _prev = property(lambda self: self._node.inputs if self._node else (), doc="the input tensors, in order")
    _op = property(lambda self: self._node.fn.name if self._node else "", doc="the op's name ('' for leaves)")
    _fn = property(lambda self: self._node.fn if self._node else None)
    _attrs = property(lambda self: self._node.attrs if self._node else None, doc="None once backward freed it")
    _scope = property(lambda self: self._node.scope if self._node else "", doc="the module that recorded it")
    _version = property(lambda self: self._vc[0], doc="how many in-place writes its storage has seen")
    grad_fn = property(lambda self: self._node, doc="the Node of the op that made this tensor (None for leaves)")
    is_leaf = property(lambda self: self._node is None)

    def _backward(self, g):
        """The gradients this tensor's op sends to its inputs, given g (micrograd's step, as arrays)."""
        return self._node.run(g)

    # --- shape, dtype, device ----------------------------------------------------
    shape = property(lambda self: self._data.shape)
    ndim = property(lambda self: self._data.ndim)
    dtype = property(lambda self: self._data.dtype)
    def item(self):
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to Scalar "
                               f"(item() needs one element, shape is {self.shape})")
        return self._data.item()

    def numpy(self) -> np.ndarray:
        """The array itself: it shares memory with the tensor."""
        return self._data

    def tolist(self):
        return self._data.tolist()

    def detach(self) -> "Tensor":
        """The same storage and version counter, cut from the graph."""
        return Tensor._wrap(self._data, self._vc)

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
        body = np.array2string(self._data, separator=", ", precision=4, prefix="tensor(")
        extra = [f"dtype={self.dtype}"] if self.dtype not in (_mode.default_dtype, np.int64, np.bool_) else []
        if self.name:
            extra.append(f"name={self.name!r}")
        if self._node is not None:
            extra.append(f"grad_fn=<{self._op}Backward>")
        elif self._requires_grad:
            extra.append("requires_grad=True")
        return f"tensor({body}{''.join(', ' + e for e in extra)})"

    def __array__(self, dtype=None, copy=None):
        """np.asarray(t) is the array itself; np.array(t) (copy=True) a copy, as NumPy asks."""
        a = self._data if dtype is None else self._data.astype(dtype, copy=False)
        return a.copy() if copy and a is self._data else a

    __hash__ = object.__hash__   # tensors are keyed by identity; == is elementwise

    # --- in place: x op= y, x.add_(y), x[key] = v -----------------------------------
    def _records(self, *args) -> bool:
        """Does an in-place op on self go on the tape (self in a graph, or a value that requires grad)?"""
        return _mode.grad and (self._requires_grad or any(isinstance(a, Tensor) and a._requires_grad for a in args))

    def _inplace(self, name: str, fn, *args, ufunc=None):
        """self <- fn(self, *args), written into self's storage, so that every view sees it, and
        the version counter moves. On a tensor in a graph (or given values that require grad)
        the op is recorded too, so that gradients stay right: self gets a new history."""
        if not _mode.grad or not (self._requires_grad or any([isinstance(a, Tensor) and a._requires_grad for a in args])):
            if ufunc is not None and self._data.dtype.kind == "f" and self._data.flags.writeable:
                y = args[0]._data if isinstance(args[0], Tensor) else args[0]
                if isinstance(y, (int, float)) or isinstance(y, np.ndarray) and y.dtype == self._data.dtype and (
                        y.shape == self._data.shape or  # the optimizer's case: no broadcasting to check
                        y.ndim <= self.ndim and np.broadcast_shapes(y.shape, self.shape) == self.shape):
                    ufunc(self._data, y, out=self._data)          # the optimizer's p -= lr * g: no copy
                    return self._bump()
            return self._write(fn(self, *args)._data, name)
        self._check_leaf(name)
        out = fn(self._old(), *args)
        self._write(out._data, name)
        self._node, self._requires_grad = out._node, out._requires_grad
        if self._base is not None:
            self._view_key = self._view_key[:2] + (self._vc[1],)
            self._rebase(name)
        return self

    def _check_leaf(self, name):
        t = self
        while t._base is not None:
            t = t._base
        if t._node is None and t._requires_grad:
            which = "a leaf Variable" if t is self else "a view of a leaf Variable"
            raise RuntimeError(f"{name}: {which} that requires grad is being used in an in-place operation.")

    def _old(self) -> "Tensor":
        """A tensor holding self's current value (a copy: self is about to be overwritten) and history."""
        old = Tensor._wrap(self._data.copy())
        old._node, old._requires_grad = self._node, self._requires_grad
        return old

    def _write(self, values: np.ndarray, name: str) -> "Tensor":
        if not self._data.flags.writeable:
            raise RuntimeError(f"{name}: unsupported operation: more than one element of the written-to tensor "
                               "refers to a single memory location (it is an expand()ed view); .clone() it first")
        try:
            np.copyto(self._data, values, casting="same_kind")
        except TypeError:
            raise RuntimeError(f"{name}: result type {values.dtype} can't be cast to the desired output type "
                               f"{self.dtype}") from None
        except ValueError:
            raise RuntimeError(f"{name}: output with shape {self.shape} doesn't match the broadcast shape "
                               f"{np.broadcast_shapes(values.shape, self.shape) if values.ndim <= self.ndim else values.shape}") from None
        return self._bump()

    def _bump(self) -> "Tensor":
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
        elif kind == "reshape":
            out = ops.reshape(self, shape=base.shape)
        elif kind == "permute":
            out = ops.permute(self, axes=tuple(np.argsort(attrs["axes"])))
        else:
            raise RuntimeError(f"{name}: an in-place op on a {kind} view of a tensor in a graph is not supported; "
                               ".clone() the view first")
        base._node, base._requires_grad = out._node, True
        if base._base is not None:
            base._view_key = base._view_key[:2] + (base._vc[1],)
            base._rebase(name)

    # --- backward -----------------------------------------------------------
    def backward(self, gradient=None, retain_graph: bool | None = None, create_graph: bool = False,
                 inputs=None) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's .grad (and retained intermediates').
        With create_graph=True the gradients are themselves on the tape."""
        if inputs is not None:
            inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
            got = _backprop([self], [gradient], retain_graph, create_graph, inputs)
            for t in inputs:
                if got[_vertex(t)] is not None:
                    _accumulate(t, got[_vertex(t)])
            return
        _backprop([self], [gradient], retain_graph, create_graph, inputs=None)


# ----------------------------------------------------------------------------
# recording an op

def _lift(a, args) -> Tensor:
    """A non-tensor operand becomes a constant; a Python number takes the dtype of the tensors
    it meets (torch's weak scalars: x * 2 stays float32)."""
    if isinstance(a, Tensor):
        return a
    if isinstance(a, np.ndarray):
        return Tensor._wrap(a)
    if isinstance(a, (int, float, bool, np.number, np.bool_)):
        return Tensor._wrap(conventions._cast_to(a, conventions.result_type(*args)))
    return Tensor._wrap(_as_array(a))


def _with_message(e: Exception, msg: str) -> Exception:
    """The same kind of error, saying which op and shapes it came from."""
    try:
        return type(e)(msg)
    except Exception:
        return RuntimeError(msg)


def apply(fn, args, attrs) -> Tensor:
    """Run op `fn` on tensors, and record it on the tape if any input requires grad."""
    xs = args if all([isinstance(a, Tensor) for a in args]) else tuple([_lift(a, args) for a in args])
    try:
        data = fn.forward(*[x._data for x in xs], **attrs)
    except (ValueError, IndexError, TypeError) as e:
        shapes = " and ".join(str(x.shape) for x in xs)
        raise _with_message(e, f"{fn.name}: {e} (input shapes {shapes})") from e
    extra = None
    if fn.save:
        data, extra = data
    if type(data) is not np.ndarray:
        data = _checked(fn, data)
    out = Tensor._wrap(data)
    if fn.view:                                   # a view shares storage and version counter
        x = xs[0]._data
        if data.base is not None and (data.base is x or data.base is x.base):
            out._vc, out._base = xs[0]._vc, xs[0]
            out._view_key = (fn, attrs, out._vc[1])       # how to make it again, and from which version
    if fn.backward is not None and _mode.grad:
        for x in xs:
            if x._base is not None and x._vc[1] > x._view_key[2]:
                _refresh(x)
        for x in xs:
            if x._requires_grad:
                if data.dtype.kind != "f":
                    if fn.name in ops.BUILTIN:
                        break                          # argmax, int casts: results carry no gradient
                    raise TypeError(f"op '{fn.name}': its forward returned {data.dtype} for inputs that require "
                                    "grad; a differentiable op must return floats")
                node = out._node = Node(fn, attrs, xs, extra)
                node.out, node.out_vc = data, out._vc
                out._requires_grad = True
                break
    if _mode.trace is not None:
        _mode.trace.append((fn, xs, attrs, out))
    return out


def _refresh(view: Tensor) -> None:
    """A view whose storage was written (through its base or another view) since its history was
    made: its history becomes the view op applied to the base's current history, as torch
    regenerates a view's grad_fn. Its values are right already: they are the storage."""
    fn, attrs, _ = view._view_key
    fresh = fn(view._base, **attrs)
    view._node, view._requires_grad = fresh._node, fresh._requires_grad
    view._view_key = (fn, attrs, view._vc[1])


def _checked(fn, data) -> np.ndarray:
    if data is None or not isinstance(data, (np.ndarray, np.generic, int, float, bool)):
        raise TypeError(f"op '{fn.name}': its forward returned {type(data).__name__}, not a NumPy array")
    data = np.asarray(data)
    if data.dtype.kind not in "biuf":
        raise TypeError(f"op '{fn.name}': its forward returned an array of dtype {data.dtype}")
    return data


# ----------------------------------------------------------------------------
# the walk. Its vertices are Nodes and the leaf tensors that require grad.

def _vertex(t: Tensor):
    return t._node if t._node is not None else t


def _toposort(roots) -> list:
    """Every vertex after all that it sends gradients to have been... reversed: inputs first (no recursion)."""
    order, seen = [], set()
    stack = [(r, False) for r in roots]
    while stack:
        v, expanded = stack.pop()
        if expanded:
            order.append(v)
            continue
        if v in seen:                   # tensors hash by identity (== is elementwise)
            continue
        seen.add(v)
        stack.append((v, True))
        if type(v) is Node:
            for n in v.nexts:
                if n is not None and n not in seen:
                    stack.append((n, False))
    return order


_FIT_AXES = {}   # (gradient shape, input shape) -> the axes _fit sums over: a training run meets a few pairs


def _fit(gx, shape, dtype, node: Node, i: int):
    """The one place where a gradient meets its input's shape: the adjoint of
    broadcasting is summation, so sum over the dims that were broadcast."""
    if not hasattr(gx, "shape") or (not isinstance(gx, Tensor) and gx.dtype.kind not in "biuf"):
        what = type(gx).__name__ if not hasattr(gx, "dtype") else f"an array of dtype {gx.dtype}"
        raise TypeError(f"backward of '{node.fn.name}' returned {what} for input {i} (shape {shape}); "
                        "a rule returns one real NumPy array (or None) per input")
    if gx.shape != shape:
        axes = _FIT_AXES.get((gx.shape, shape))
        if axes is None:
            lead = len(gx.shape) - len(shape)
            if lead < 0 or any(n != 1 and gx.shape[lead + k] != n for k, n in enumerate(shape)):
                raise RuntimeError(f"backward of '{node.fn.name}' returned a gradient of shape {tuple(gx.shape)} "
                                   f"for input {i} of shape {shape}")
            axes = _FIT_AXES[gx.shape, shape] = tuple(range(lead)) + tuple(
                lead + k for k, n in enumerate(shape) if n == 1 and gx.shape[lead + k] != 1)
        gx = gx.sum(axis=axes, keepdims=True).reshape(shape)
    if gx.dtype != dtype:
        gx = gx.astype(dtype)
    return gx


def _check_finite(gx, node, i):
    if not np.isfinite(gx._data if isinstance(gx, Tensor) else gx).all():
        where = f"\nits forward was called at:\n{node.stack}" if node.stack else ""
        raise FloatingPointError(f"backward of '{node.fn.name}' produced a non-finite gradient for input {i} "
                                 f"(shape {node.saved[i].shape}){where}")


def _seed(root: Tensor, gradient, create_graph):
    if gradient is None:
        if root._data.size != 1:
            raise RuntimeError(f"grad can be implicitly created only for scalar outputs (this one has shape "
                               f"{root.shape}); pass gradient=")
        g = np.ones(root.shape, root.dtype)
    elif create_graph and isinstance(gradient, Tensor):
        g = gradient                    # may itself require grad (double-backward tricks)
    else:
        g = np.array(gradient._data if isinstance(gradient, Tensor) else gradient, dtype=root.dtype)
    if g.shape != root.shape:
        raise RuntimeError(f"backward: gradient has shape {g.shape}, but the output has shape {root.shape}")
    return Tensor._wrap(g) if create_graph and not isinstance(g, Tensor) else g


def _accumulate(t: Tensor, g):
    """.grad += g: a fresh Tensor the first time, then added in place (as torch), or on the
    tape under create_graph."""
    if isinstance(g, Tensor):
        t._grad = g if t._grad is None else t._grad + g
    elif t._grad is None:
        t._grad = Tensor._wrap(g)
    elif t._grad._data.flags.writeable and t._grad.shape == g.shape and t._grad._node is None:
        np.add(t._grad._data, g, out=t._grad._data, casting="unsafe")
    else:
        t._grad = Tensor._wrap(t._grad._data + g)


def _backprop(roots, gradients, retain_graph, create_graph, inputs):
    """Backpropagate from roots. With inputs=None accumulate into .grad; otherwise
    return the gradients of `inputs` (tg.grad) and leave .grad alone."""
    if retain_graph is None:
        retain_graph = create_graph
    for r in roots:
        if r._base is not None and r._vc[1] > r._view_key[2]:
            _refresh(r)
        if not r._requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn: no "
                               "tensor it was computed from has requires_grad=True (or it ran under no_grad)")
    # grads: vertex -> its gradient so far. A rule may hand one array to several inputs (add's
    # (g, g)), so the engine adds in place only into arrays it made itself (`owned`), and stores
    # in .grad only arrays that nothing else holds (copying views and arrays handed out twice).
    grads, owned = {}, set()
    for r, gr in zip(roots, gradients):
        v, g = _vertex(r), _seed(r, gr, create_graph)
        grads[v] = grads[v] + g if v in grads else g
    wanted = dict.fromkeys(map(_vertex, inputs)) if inputs is not None else None
    walks, handed = _mode.walks, set()
    owners = _owners(roots) if walks is not None else None
    slow = walks is not None or _mode.anomaly
    with set_grad_enabled(create_graph):
        for v in reversed(_toposort([_vertex(r) for r in roots])):
            g = grads.pop(v, None)
            if g is None:
                continue
            if wanted is not None:
                if v in wanted:
                    wanted[v] = g
                    if type(v) is not Node:
                        if walks is not None:
                            walks.append(WalkStep(v, "", _array(g), ()))
                        continue
            elif type(v) is not Node or v.retained is not None:
                t = v if type(v) is not Node else v.retained()
                if t is not None:
                    if not isinstance(g, Tensor) and (g.base is not None or not g.flags.writeable or id(g) in handed):
                        g = np.array(g)
                    handed.add(id(g))
                    _accumulate(t, g)
            if type(v) is not Node:
                if walks is not None:
                    walks.append(WalkStep(v, "", _array(g), ()))
                continue
            sends, i = [], -1
            for n, x, gx in zip(v.nexts, v.saved, v.run(g)):
                i += 1
                if gx is None or n is None:
                    continue
                raw = getattr(gx, "shape", None)
                if type(gx) is not np.ndarray or raw != x.shape or gx.dtype != x.dtype:
                    gx = _fit(gx, x.shape, x.dtype, v, i)
                if slow:
                    if _mode.anomaly:
                        _check_finite(gx, v, i)
                    if walks is not None:
                        sends.append(Send(i, v.inputs[i], raw, _array(gx), raw != x.shape, n in grads))
                if n not in grads:
                    grads[n] = gx
                elif n in owned and not create_graph:   # an array the engine made itself: add in place
                    grads[n] += gx
                else:
                    grads[n] = grads[n] + gx
                    owned.add(n)
            if walks is not None:
                owner = owners.get(v)           # (not `or`: a tensor has no truth value)
                walks.append(WalkStep(Tensor._handle(v.out, v) if owner is None else owner, v.fn.name,
                                      _array(g), tuple(sends)))
            if not retain_graph and v.fn.saves:
                v.attrs = None
    return wanted


def _array(g):
    return g._data if isinstance(g, Tensor) else g


def _owners(roots) -> dict:
    """Node -> the tensor that is its result (a root, or some node's input), for record_walk."""
    owners, stack = {}, []
    for r in roots:
        if r._node is not None:
            owners[r._node] = r
            stack.append(r._node)
    seen = set()
    while stack:
        m = stack.pop()
        if m in seen:
            continue
        seen.add(m)
        for n, x in zip(m.nexts, m.inputs):
            if type(n) is Node:
                owners.setdefault(n, x)
                stack.append(n)
    return owners


def grad(outputs, inputs, grad_outputs=None, retain_graph: bool | None = None,
         create_graph: bool = False, allow_unused: bool = False) -> tuple:
    """d(outputs)/d(inputs) as a tuple of Tensors, without touching any .grad.
    With create_graph=True the results are on the tape, so they can be differentiated again."""
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    single = isinstance(inputs, Tensor)
    inputs = [inputs] if single else list(inputs)
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor) or not t._requires_grad:
            raise RuntimeError(f"grad: input {i} does not require grad (one of the differentiated Tensors "
                               "does not require grad)")
    if grad_outputs is None or isinstance(grad_outputs, (Tensor, np.ndarray)):
        grad_outputs = [grad_outputs] * len(outputs)
    got = _backprop(outputs, list(grad_outputs), retain_graph, create_graph, inputs)
    result = []
    for i, t in enumerate(inputs):
        g = got[_vertex(t)]
        if g is None and not allow_unused:
            raise RuntimeError(f"grad: input {i} (shape {t.shape}) was not used to compute the outputs; "
                               "pass allow_unused=True to get None for it")
        result.append(g if g is None or isinstance(g, Tensor) else Tensor._wrap(np.array(g)))
    return tuple(result)


# ----------------------------------------------------------------------------
# argument helpers for the methods above

def _shape_arg(shape) -> tuple:
    """Accept f(2, 3) and f((2, 3)) alike."""
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else tuple(shape)


def _reduction(x, dim, keepdim, axis, keepdims, single=False) -> dict:
    """torch's (dim, keepdim) or NumPy's (axis, keepdims) -> dict(axis=, keepdims=), dims made
    non-negative (a 0-d tensor takes dim 0 or -1, as torch). Errors name the calling method."""
    d = dim if axis is None else axis
    k = bool(keepdim if keepdims is None else keepdims)
    if d is None or (isinstance(d, (tuple, list)) and len(d) == 0):    # dim=() reduces everything, as torch
        return dict(axis=None, keepdims=k)
    ds = tuple(d) if isinstance(d, (tuple, list)) else (d,)
    n, error = max(x.ndim, 1), None
    for a in ds:
        if isinstance(a, bool) or not isinstance(a, (int, np.integer)):
            error = TypeError(f"dim must be an int or a tuple of ints, got {d!r}")
        elif not -n <= a < n:
            error = IndexError(f"dim {d!r} is out of range for a tensor of shape {x.shape}")
    if single and len(ds) != 1:
        error = TypeError(f"expected one dim, got {d!r}")
    if error is not None:
        import sys
        raise type(error)(f"{sys._getframe(1).f_code.co_name}: {error}")    # the calling method: sum, max, ...
    ds = tuple([int(a) % n for a in ds])
    if single:
        return dict(axis=ds[0], keepdims=k)
    return dict(axis=ds if x.ndim else (), keepdims=k)                 # a 0-d tensor: nothing to reduce


from . import conventions  # noqa: E402  (torch's dtype promotion, for _lift)
from . import ops, functional as F  # noqa: E402  (the methods above call into these)
