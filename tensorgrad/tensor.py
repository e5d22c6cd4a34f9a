"""The Tensor, the tape it records, and the walk that backpropagates through it.

Every op result remembers micrograd's three things: `_prev` (its inputs, in order),
`_op` (the op's name) and `_backward` (the rule that turns the gradient of the result
into one gradient per input). `backward()` sorts the graph once and walks it from the
output to the leaves. The rules themselves live in ops.py, one table.
"""
import contextlib
import traceback

import numpy as np


# ----------------------------------------------------------------------------
# global modes: grad recording, anomaly detection, default dtype

class _Mode:
    grad = True                           # record ops on the tape?
    anomaly = False                       # check every gradient for NaN/Inf?
    scope = ""                            # name of the module whose forward is running (for drawing)
    writes = 0                            # how many x[key] = value writes there have been
    default_dtype = np.dtype(np.float32)  # what Python floats become, as in torch


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
    enclosing scopes (nn.Module uses this, so that a drawing can group a layer's ops).
    A class rather than a contextlib generator: entered several times per forward, it is
    3x cheaper this way."""

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


def _as_array(data, dtype=None) -> np.ndarray:
    """torch.tensor's dtype rules: arrays keep theirs, Python floats get the default."""
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        dtype = np.dtype(dtype)
    keep = isinstance(data, (np.ndarray, np.generic))
    if isinstance(data, (list, tuple)):
        data = [d.data if isinstance(d, Tensor) else d for d in data]
    arr = np.array(data, dtype=dtype)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"tensor: cannot make a tensor of dtype {arr.dtype} from {type(data).__name__}")
    if dtype is None and not keep and arr.dtype.kind == "f":
        arr = arr.astype(_mode.default_dtype, copy=False)
    return arr


# ----------------------------------------------------------------------------
# the Tensor

class Tensor:
    """A NumPy array with a gradient and a record of the op that made it."""

    __array_ufunc__ = None  # numpy hands `ndarray * tensor` to Tensor.__rmul__

    # micrograd's fields, as class defaults so that making a tensor costs little
    grad = None             # np.ndarray of self's shape once backward reaches it
    name = None
    _requires_grad = False
    _prev = ()              # the input tensors, in order
    _op = ""                # the op's name ("" for leaves)
    _fn = None              # the Op (forward and backward rule); None for leaves
    _attrs = None           # the op's non-tensor arguments; None again once backward freed the node
    _retains_grad = False
    _stack = None           # where the forward ran, kept under detect_anomaly()
    _scope = ""             # the module (name_scope) whose forward recorded this op
    _version = 0            # the write count (_mode.writes) of the last x[key] = value into this tensor
    _born = 0               # the write count when this op was recorded

    def __init__(self, data, dtype=None, requires_grad: bool = False, name: str | None = None):
        self.data = _as_array(data, dtype)
        if requires_grad:
            self.requires_grad = True
        if name is not None:
            self.name = name

    @classmethod
    def _wrap(cls, data) -> "Tensor":
        """Internal constructor: wraps an array as it is, no checks, no copy."""
        t = object.__new__(cls)
        t.data = data if type(data) is np.ndarray else np.asarray(data)
        return t

    # --- properties ---------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag: bool):
        if flag and self.data.dtype.kind != "f":
            raise TypeError(f"only floating-point tensors can require gradients (this one is {self.dtype})")
        if not flag and self._fn is not None:
            raise RuntimeError("requires_grad can only be turned off on a leaf; use .detach()")
        self._requires_grad = bool(flag)

    def requires_grad_(self, flag: bool = True) -> "Tensor":
        self.requires_grad = flag
        return self

    shape = property(lambda self: self.data.shape)
    ndim = property(lambda self: self.data.ndim)
    dtype = property(lambda self: self.data.dtype)
    is_leaf = property(lambda self: self._fn is None, doc="True unless an op recorded on the tape made it")
    grad_fn = property(lambda self: self._op or None, doc="the name of the op that made this tensor")
    T = property(lambda self: self.permute(*reversed(range(self.ndim))))
    mT = property(lambda self: self.swapaxes(-1, -2))

    def size(self, dim: int | None = None):
        return self.shape if dim is None else self.shape[dim]

    def dim(self) -> int:
        return self.ndim

    def numel(self) -> int:
        return self.data.size

    def item(self):
        if self.data.size != 1:
            raise ValueError(f"item: only a one-element tensor can be converted to a Python number, shape is {self.shape}")
        return self.data.item()

    def numpy(self) -> np.ndarray:
        return self.data

    def tolist(self):
        return self.data.tolist()

    def detach(self) -> "Tensor":
        """The same data, cut from the graph."""
        return Tensor._wrap(self.data)

    def retain_grad(self) -> None:
        """Keep .grad on this intermediate too (leaves always keep theirs)."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad: this tensor does not require grad")
        self._retains_grad = True

    def zero_grad(self) -> None:
        self.grad = None

    def __repr__(self):
        body = np.array2string(self.data, separator=", ", precision=4, prefix="tensor(")
        extra = [f"dtype={self.dtype}"] if self.dtype not in (_mode.default_dtype, np.int64, np.bool_) else []
        if self.name:
            extra.append(f"name={self.name!r}")
        if self._op:
            extra.append(f"op={self._op}")
        elif self.requires_grad:
            extra.append("requires_grad=True")
        return f"tensor({body}{''.join(', ' + e for e in extra)})"

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __bool__(self):
        if self.data.size != 1:
            raise RuntimeError(f"the truth value of a tensor of shape {self.shape} is ambiguous")
        return bool(self.data)

    def __array__(self, dtype=None, copy=None):
        return self.data if dtype is None else self.data.astype(dtype)

    __hash__ = object.__hash__   # tensors are keyed by identity; == is elementwise

    # --- arithmetic (Python scalars on either side; NumPy broadcasting) ------
    def __add__(self, other): return ops.add(*_promote(self, other))
    def __radd__(self, other): return ops.add(*_promote(other, self))
    def __sub__(self, other): return ops.sub(*_promote(self, other))
    def __rsub__(self, other): return ops.sub(*_promote(other, self))
    def __mul__(self, other): return ops.mul(*_promote(self, other))
    def __rmul__(self, other): return ops.mul(*_promote(other, self))
    def __truediv__(self, other): return ops.div(*_promote(self, other))
    def __rtruediv__(self, other): return ops.div(*_promote(other, self))
    def __neg__(self): return ops.neg(self)
    def __pow__(self, other): return F.pow(self, other)
    def __rpow__(self, other): return F.pow(other, self)
    def __matmul__(self, other): return F.matmul(self, other)
    def __rmatmul__(self, other): return F.matmul(other, self)
    # no __iadd__ & co: `x += y` makes a new node, as in micrograd, and never edits a graph

    # comparisons give bool tensors that carry no gradient
    def __lt__(self, other): return ops.lt(self, other)
    def __le__(self, other): return ops.le(self, other)
    def __gt__(self, other): return ops.gt(self, other)
    def __ge__(self, other): return ops.ge(self, other)
    def __eq__(self, other): return ops.eq(self, other)
    def __ne__(self, other): return ops.ne(self, other)

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
    def sum(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return ops.sum(self, **_reduction(self, dim, keepdim, axis, keepdims))

    def mean(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return F.mean(self, **_reduction(self, dim, keepdim, axis, keepdims))

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

    def softmax(self, dim=-1): return F.softmax(self, dim)
    def log_softmax(self, dim=-1): return F.log_softmax(self, dim)
    def logsumexp(self, dim=-1, keepdim=False): return F.logsumexp(self, dim, keepdim)

    # --- shapes ----------------------------------------------------------------
    def reshape(self, *shape): return ops.reshape(self, shape=_shape_arg(shape))
    view = reshape
    def flatten(self, start_dim=0, end_dim=-1): return F.flatten(self, start_dim, end_dim)
    def squeeze(self, dim=None): return F.squeeze(self, dim)
    def unsqueeze(self, dim): return F.unsqueeze(self, dim)
    def permute(self, *dims): return ops.permute(self, axes=tuple(F._dim(d, self.ndim, "permute") for d in _shape_arg(dims)))
    def transpose(self, dim0, dim1): return F.transpose(self, dim0, dim1)
    swapaxes = transpose
    def expand(self, *sizes): return F.expand(self, _shape_arg(sizes))
    def broadcast_to(self, shape): return F.expand(self, tuple(shape))
    def expand_as(self, other): return F.expand(self, other.shape)
    def contiguous(self): return self

    # --- dtypes ------------------------------------------------------------------
    def astype(self, dtype):
        dtype = np.dtype(dtype)
        return self if dtype == self.dtype else ops.cast(self, dtype=dtype)
    to = astype
    def type_as(self, other): return self.astype(other.dtype)
    def float(self): return self.astype(np.float32)
    def double(self): return self.astype(np.float64)
    def long(self): return self.astype(np.int64)
    def clone(self): return ops.cast(self, dtype=self.dtype)

    # --- indexing: a gather forward, a scatter-add backward ------------------------
    def __getitem__(self, key): return ops.getitem(self, key=_index_key(key))

    def __setitem__(self, key, value):
        if self._requires_grad or self._fn is not None:
            raise RuntimeError("in-place assignment into a tensor that is part of a graph would corrupt its "
                               "gradients; use x.index_put(key, values) (out of place) instead")
        self.data[_index_key(key)] = value.data if isinstance(value, Tensor) else value
        _mode.writes += 1
        self._version = _mode.writes

    def index_put(self, key, values, accumulate=False):
        return ops.index_put(self, values, key=_index_key(key), accumulate=accumulate)
    def index_add(self, dim, index, source): return F.index_add(self, dim, index, source)
    def scatter_add(self, dim, index, src): return F.scatter_add(self, dim, index, src)
    def gather(self, dim, index): return F.gather(self, dim, index)
    def masked_fill(self, mask, value): return F.where(mask, value, self)

    # --- backward -----------------------------------------------------------
    def _backward(self, g):
        """One gradient per input, given the gradient g of this result. The rule runs
        on arrays, or on tensors (then it is itself recorded) when g is a Tensor."""
        if self._attrs is None:
            raise RuntimeError(
                f"trying to backward through the graph a second time: the saved values of '{self._op}' "
                "were freed by an earlier backward(); pass retain_graph=True to that first call")
        if _mode.writes != self._born:          # something was written since: one of our inputs?
            for x in self._prev:
                if x._version > self._born:
                    raise RuntimeError(f"an input of '{self._op}' (shape {x.shape}) was modified in place "
                                       "(x[key] = ...) after the op used it, so its gradient would be wrong")
        if isinstance(g, Tensor):
            grads = self._fn.backward(g, self, *self._prev, **self._attrs)
        else:
            grads = self._fn.backward(g, self.data, *[x.data for x in self._prev], **self._attrs)
        return grads if type(grads) is tuple else (grads,)

    def backward(self, gradient=None, retain_graph: bool | None = None, create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's .grad (and retained intermediates').
        .grad holds arrays; for gradients that can be differentiated again, use tg.grad(...,
        create_graph=True), which returns them as tensors on the tape."""
        _backprop([self], [gradient], retain_graph, create_graph, inputs=None)


# ----------------------------------------------------------------------------
# recording an op

def _lift(a, args) -> Tensor:
    """A non-tensor operand becomes a constant; a Python number takes the dtype of the
    (floating) tensor it meets, as in torch: x * 2 stays float32."""
    if isinstance(a, np.ndarray):
        return Tensor._wrap(a)
    if isinstance(a, (int, float, np.number, np.bool_)):
        ref = [x.dtype for x in args if isinstance(x, Tensor)]
        ref = next((d for d in ref if d.kind == "f"), ref[0])
        if ref.kind != "f" and isinstance(a, (float, np.floating)):
            ref = _mode.default_dtype
        elif ref.kind == "b" and not isinstance(a, (bool, np.bool_)):
            ref = np.dtype(np.int64)
        return Tensor._wrap(np.array(a, dtype=ref))
    return Tensor(a)


def _with_message(e: Exception, msg: str) -> Exception:
    """The same kind of error, saying which op and shapes it came from."""
    try:
        return type(e)(msg)
    except Exception:
        return ValueError(msg)


def apply(fn, args, attrs) -> Tensor:
    """Run op `fn` on tensors, and record it on the tape if any input requires grad."""
    xs = tuple(a if isinstance(a, Tensor) else _lift(a, args) for a in args)
    try:
        data = fn.forward(*[x.data for x in xs], **attrs)
    except (ValueError, IndexError, TypeError) as e:
        shapes = " and ".join(str(x.shape) for x in xs)
        raise _with_message(e, f"{fn.name}: {e} (input shapes {shapes})") from e
    out = Tensor._wrap(data)
    if fn.backward is not None and _mode.grad and out.data.dtype.kind == "f":
        for x in xs:
            if x._requires_grad:
                out._requires_grad, out._prev, out._op, out._fn, out._attrs = True, xs, fn.name, fn, attrs
                out._born = _mode.writes
                if _mode.scope:
                    out._scope = _mode.scope
                if _mode.anomaly:
                    out._stack = "".join(traceback.format_stack(limit=8)[:-2])
                break
    return out


# ----------------------------------------------------------------------------
# the walk

def _toposort(roots) -> list:
    """Nodes that require grad, every input before the ops that use it (no recursion)."""
    order, seen = [], set()
    stack = [(r, False) for r in roots]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if node in seen:                # tensors hash by identity (== is elementwise)
            continue
        seen.add(node)
        stack.append((node, True))
        for x in node._prev:
            if x._requires_grad and x not in seen:
                stack.append((x, False))
    return order


def _fit(gx, x: Tensor, node: Tensor):
    """The one place where a gradient meets its input's shape: the adjoint of
    broadcasting is summation, so sum over the dims that were broadcast."""
    shape = x.data.shape
    if not hasattr(gx, "shape"):
        raise TypeError(f"backward of '{node._op}' returned a {type(gx).__name__}, not an array, for an input "
                        f"of shape {shape}")
    if gx.shape != shape:
        lead = gx.ndim - len(shape)
        axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and gx.shape[lead + i] != 1)
        if lead < 0 or any(n != 1 and gx.shape[lead + i] != n for i, n in enumerate(shape)):
            raise RuntimeError(f"backward of '{node._op}' returned a gradient of shape {gx.shape} "
                               f"for an input of shape {shape}")
        gx = gx.sum(axis=axes, keepdims=True).reshape(shape)
    if gx.dtype != x.data.dtype:
        gx = gx.astype(x.data.dtype)
    return gx


def _check_finite(gx, node, i):
    if not np.isfinite(gx.data if isinstance(gx, Tensor) else gx).all():
        where = f"\nits forward was called at:\n{node._stack}" if node._stack else ""
        raise FloatingPointError(f"backward of '{node._op}' produced a non-finite gradient for input {i} "
                                 f"(shape {node._prev[i].shape}){where}")


def _seed(root: Tensor, gradient, create_graph):
    if gradient is None:
        if root.data.size != 1:
            raise RuntimeError(f"backward: gradient can be implicitly created only for a scalar output, "
                               f"this one has shape {root.shape}; pass gradient=")
        g = np.ones(root.shape, root.dtype)
    elif create_graph and isinstance(gradient, Tensor):
        g = gradient                    # may itself require grad (double-backward tricks)
    else:
        g = np.array(gradient.data if isinstance(gradient, Tensor) else gradient, dtype=root.dtype)
    if g.shape != root.shape:
        raise RuntimeError(f"backward: gradient has shape {g.shape}, but the output has shape {root.shape}")
    return Tensor._wrap(g) if create_graph and not isinstance(g, Tensor) else g


def _store(node: Tensor, g, handed: set):
    """Put g into node.grad, copying it if the engine does not own it outright."""
    if isinstance(g, Tensor):
        g = g.data
    if type(g) is not np.ndarray or g.base is not None or not g.flags.writeable or id(g) in handed:
        g = np.array(g)
    handed.add(id(g))
    node.grad = g if node.grad is None else node.grad + g


def _backprop(roots, gradients, retain_graph, create_graph, inputs):
    """Backpropagate from roots. With inputs=None accumulate into .grad; otherwise
    return the gradients of `inputs` (tg.grad) and leave .grad alone."""
    if retain_graph is None:
        retain_graph = create_graph
    for r in roots:
        if not r._requires_grad:
            raise RuntimeError("backward: this tensor does not require grad: no tensor it was computed "
                               "from has requires_grad=True (or it was computed under no_grad)")
    # grads: node -> its gradient so far. A rule may hand the same array to several inputs
    # (add's (g, g)), so the engine only adds in place into arrays it made itself (`owned`),
    # and copies an array into .grad if it is a view or was already stored elsewhere (`handed`).
    grads, owned, handed = {}, set(), set()
    for r, gr in zip(roots, gradients):
        g = _seed(r, gr, create_graph)
        grads[r] = grads[r] + g if r in grads else g
    wanted = dict.fromkeys(inputs) if inputs is not None else None
    with set_grad_enabled(create_graph):
        for node in reversed(_toposort(roots)):
            g = grads.pop(node, None)
            if g is None:
                continue
            if wanted is not None:
                if node in wanted:
                    wanted[node] = g
            elif node._fn is None or node._retains_grad:
                _store(node, g, handed)
            if node._fn is None:
                continue
            in_grads = node._backward(g)
            if len(in_grads) != len(node._prev):
                raise RuntimeError(f"backward of '{node._op}' returned {len(in_grads)} gradients "
                                   f"for {len(node._prev)} inputs")
            for i, (x, gx) in enumerate(zip(node._prev, in_grads)):
                if gx is None or not x._requires_grad:
                    continue
                gx = _fit(gx, x, node)
                if _mode.anomaly:
                    _check_finite(gx, node, i)
                if x not in grads:
                    grads[x] = gx
                elif x in owned:      # an array the engine made itself: add in place
                    grads[x] += gx
                else:
                    grads[x] = grads[x] + gx
                    owned.add(x)
            if not retain_graph:
                node._attrs = None
    return wanted


def grad(outputs, inputs, grad_outputs=None, retain_graph: bool | None = None,
         create_graph: bool = False, allow_unused: bool = False) -> tuple:
    """d(outputs)/d(inputs) as a tuple of Tensors, without touching any .grad.
    With create_graph=True the results are on the tape, so they can be differentiated again."""
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    single = isinstance(inputs, Tensor)
    inputs = [inputs] if single else list(inputs)
    if grad_outputs is None or isinstance(grad_outputs, (Tensor, np.ndarray)):
        grad_outputs = [grad_outputs] * len(outputs)
    got = _backprop(outputs, list(grad_outputs), retain_graph, create_graph, inputs)
    result = []
    for i, t in enumerate(inputs):
        g = got[t]
        if g is None and not allow_unused:
            raise RuntimeError(f"grad: input {i} (shape {t.shape}) was not used to compute the outputs; "
                               "pass allow_unused=True to get None for it")
        result.append(g if g is None or isinstance(g, Tensor) else Tensor._wrap(np.array(g)))
    return tuple(result)



# ----------------------------------------------------------------------------
# argument helpers for the methods above

def _promote(x, y):
    """Mixed int/float operands compute in the float dtype, as in torch (NumPy would go to
    float64): the integer side is cast to the float tensor's dtype, or to the default one."""
    fx, fy = _is_float(x), _is_float(y)
    if fx == fy:
        return x, y
    f, i = (x, y) if fx else (y, x)
    if isinstance(i, (Tensor, np.ndarray)):
        i = i.astype(f.dtype if isinstance(f, (Tensor, np.ndarray)) else _mode.default_dtype)
    return (f, i) if fx else (i, f)


def _is_float(v) -> bool:
    return v.dtype.kind == "f" if isinstance(v, (Tensor, np.ndarray, np.generic)) else isinstance(v, float)


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
    n = max(x.ndim, 1)
    if any(isinstance(a, bool) or not isinstance(a, (int, np.integer)) for a in ds):
        error = TypeError(f"dim must be an int or a tuple of ints, got {d!r}")
    elif single and len(ds) != 1:
        error = TypeError(f"expected one dim, got {d!r}")
    elif not all(-n <= a < n for a in ds):
        error = IndexError(f"dim {d!r} is out of range for a tensor of shape {x.shape}")
    else:
        ds = tuple(int(a) % n for a in ds)
        if single:
            return dict(axis=ds[0], keepdims=k)
        return dict(axis=ds if x.ndim else (), keepdims=k)                # a 0-d tensor: nothing to reduce
    import sys
    raise type(error)(f"{sys._getframe(1).f_code.co_name}: {error}")     # the method's name: sum, max, ...


def _index_key(key):
    """Tensors inside an index become their arrays."""
    if isinstance(key, tuple):
        return tuple(_index_key(k) for k in key)
    if isinstance(key, Tensor):
        return key.data
    if isinstance(key, list) and any(isinstance(k, Tensor) for k in key):
        return np.array([k.data if isinstance(k, Tensor) else k for k in key])
    return key


from . import ops, functional as F  # noqa: E402  (the methods above call into these)
