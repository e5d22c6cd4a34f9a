"""The engine: a Tensor, the tape of Nodes it records, and the walk that backpropagates through it.

A Tensor is a value: a NumPy array (its storage, shared with its views), a version counter
(shared too), and, once an op that needs a gradient made it, a Node: torch's grad_fn, the
record of that op. A Node keeps micrograd's three things: the inputs (`_prev` on the
tensor), the op (`_op`), and the rule that turns the gradient of the result into one
gradient per input (`_backward`). Value and history are apart so that an in-place op can
give a tensor a new history while the ops that used its old value keep theirs.
`backward()` walks the nodes from the output to the leaves, newest first.

The op table (ops/) holds the rules; inplace.py the torch machinery of in-place writes and
views; tensor_api.py binds torch's methods onto Tensor. This file needs none of them.
"""
from __future__ import annotations

import itertools
from heapq import heappop, heappush
import traceback
import weakref
from operator import attrgetter, is_not

import numpy as np

from . import dims, dtypes
from .modes import NUMPY_ERRORS, QUIET_NUMPY, _mode, quiet_numpy, releasing, set_grad_enabled

_DATA = attrgetter("_data")      # map(_DATA, tensors): their arrays, without a comprehension's frame
_SEQ = itertools.count()         # numbers the Nodes in the order they are made

# ----------------------------------------------------------------------------
# the Node: one recorded op (torch's grad_fn)

class Node:
    """What backward needs of one op: its rule (`fn`, `attrs`), the input arrays the rule reads
    (`arrays`), what the forward saved for it (`saved`), and where each input's gradient goes
    next (`nexts`: the input's own Node, the leaf tensor itself, or None)."""

    __slots__ = ("fn", "attrs", "_inputs", "nexts", "arrays", "saved", "out", "out_vc", "out_meta", "ghost", "born",
                 "seq", "scope", "stack", "retained", "hooks", "__weakref__")

    def __init__(self, fn, attrs, inputs, saved=None, arrays=None, nexts=None):
        self.fn, self.attrs, self._inputs, self.saved = fn, attrs, inputs, saved
        self.nexts = nexts or tuple([x._node or (x if x._requires_grad else None) for x in inputs])
        self.arrays = arrays or tuple(map(_DATA, inputs))
        self.seq = next(_SEQ)                   # creation order: a node's inputs are always older
        self.born, self.scope = _mode.writes, _mode.scope
        self.retained = self.hooks = self.ghost = None
        self.stack = "".join(traceback.format_stack(limit=9)[:-3]) if _mode.anomaly else None

    def name(self) -> str: return self.fn.name

    @property
    def inputs(self) -> tuple:
        """The input tensors, in order. After a backward freed the node, an input nothing else
        holds any more is a stand-in of its shape and dtype (its values are gone, as in torch)."""
        if self.out is None:
            self._inputs = tuple([_held(x, n) for x, n in zip(self._inputs, self.nexts)])
        return self._inputs

    def free(self):
        """What torch frees after a backward without retain_graph: the arrays the rule read, the
        result and the saved values; inputs other than leaves and small tensors are held weakly from
        now on. The op, its attrs and the shapes stay for drawing, and a rule that reads nothing (add,
        reshape, getitem: saves="") can run again. A freed node that saved values refuses a second backward."""
        out, self.arrays, self.saved = self.out, None, None
        if out is None:                             # freed before (a rule that reads nothing ran again)
            return
        self.out_meta, self.out = (out.shape, out.dtype), None
        for x in self._inputs:
            if x._data.size > KEEP_VALUES:
                self._inputs = tuple([x if x._data.size <= KEEP_VALUES or x._node is None and x._requires_grad
                                      else (weakref.ref(x), x._data.shape, x._data.dtype) for x in self._inputs])
                break
        if self.fn.saves:
            self.attrs = None

    def result(self) -> "Tensor":
        """A tensor standing for this node's result once the real one is gone (one per node)."""
        t = self.ghost and self.ghost()             # held weakly: the tape keeps no cycles
        if t is None:
            t = Tensor._handle(self.out if self.out is not None else _stub(*self.out_meta), self)
            self.ghost = weakref.ref(t)
        return t

    next_functions = property(lambda self: tuple((n, 0) for n in self.nexts))

    def __repr__(self): return f"<{self.fn.name}Backward>"

    def _check(self):
        """Raise as torch does if backward needs values that are gone or were overwritten."""
        if self.attrs is None:
            raise RuntimeError(
                f"trying to backward through the graph a second time: the saved values of '{self.fn.name}' "
                "were freed by an earlier backward(); pass retain_graph=True to that first call")
        if _mode.writes == self.born or not self.fn.saves:
            return
        reads = self.fn.reads                       # the inputs each input's gradient reads (None: all of them)
        read = {j for i, n in enumerate(self.nexts) if n is not None for j in reads[i]} if reads else None
        watched = [(f"input {i}", x._vc, x.shape) for i, x in enumerate(self.inputs) if read is None or i in read
                   ] if self.fn.saves != "out" else []
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
        fn, kw, out = self.fn, self.attrs, self.out
        if out is None:                         # freed: a rule that reads nothing runs on stand-ins
            self.arrays = tuple([x._data for x in self.inputs])
            out = self.result()._data
        if fn.returns_saved:
            kw = dict(kw, saved=self.saved)
        if fn.needs:                            # (which inputs need a gradient: the rule makes only theirs)
            kw = {**kw, "needs": tuple(map(is_not, self.nexts, itertools.repeat(None)))}
        try:
            if type(g) is not Tensor:
                grads = fn.backward(g, out, *self.arrays, **kw) if kw else fn.backward(g, out, *self.arrays)
            else:                               # create_graph: the rule sees tensors that carry history
                xs = [Tensor._handle(a, n) for a, n in zip(self.arrays, self.nexts)]
                grads = fn.backward(g, Tensor._handle(out, self), *xs, **kw)
        except Exception as e:
            hint = (" (under create_graph=True a rule gets Tensors: write it with tensorgrad ops, not NumPy)"
                    if isinstance(g, Tensor) and isinstance(e, TypeError) else "")
            raise _with_message(e, f"backward of '{fn.name}': {e}{hint}") from e
        grads = grads if type(grads) is tuple else (grads,)
        if len(grads) != len(self.nexts):
            raise RuntimeError(f"backward of '{fn.name}' returned {len(grads)} gradients "
                               f"for {len(self.nexts)} inputs")
        return grads


# Inputs of up to KEEP_VALUES elements stay held after a backward (torch frees them too): they cost
# little, and a drawing after backward shows their values (micrograd's draw_dot of a scalar expression)
KEEP_VALUES = 64


def _held(x, n):
    """An input that free() held weakly: the tensor while it lives, else a stand-in of its shape and dtype."""
    t = x[0]() if type(x) is tuple else x
    return t if t is not None else n.result() if type(n) is Node else Tensor._wrap(_stub(x[1], x[2]))


_FREED: dict = {}    # dtype -> the 0-d zero that every freed value of that dtype is a view of


def _stub(shape, dtype) -> np.ndarray:
    """A freed value: a read-only array of zeros of this shape and dtype that takes no memory."""
    return np.broadcast_to(_FREED.setdefault(dtype, np.zeros((), dtype)), shape)


def is_freed(t) -> bool:
    """Whether t stands for a value that backward freed: its shape and dtype are real, its zeros are not
    (a drawing after backward should say so rather than show them)."""
    return t._data.base is _FREED.get(t._data.dtype, False)


# ----------------------------------------------------------------------------
# the Tensor

def _as_array(data, dtype=None) -> np.ndarray:
    return dtypes.as_array(data._data if isinstance(data, Tensor) else data, dtype)


class Tensor:
    """A NumPy array with a gradient and, if an op made it, the record of that op."""

    __slots__ = ("_data", "_grad", "_node", "_vc", "_requires_grad", "_base", "_view_key", "_hooks", "name",
                 "__weakref__")

    def __init__(self, data=None, dtype=None, requires_grad: bool = False, name: str | None = None):
        """tg.Tensor(data) as torch.Tensor: a copy, in the default float dtype unless dtype= says."""
        arr = _as_array([] if data is None else data, dtype)
        if dtype is None and arr.dtype.kind != "f" and not isinstance(data, Tensor):
            arr = arr.astype(dtypes.DEFAULT.float)
        Tensor._init(self, arr.copy() if isinstance(data, (Tensor, np.ndarray)) else arr)
        if requires_grad:
            self.requires_grad = True
        self.name = name

    def _init(self, data, vc=None):
        self._data, self._grad, self._node, self._requires_grad = data, None, None, False
        self._vc, self._base, self._view_key, self._hooks, self.name = vc or [0, 0], None, None, None, None

    @classmethod
    def _wrap(cls, data, vc=None) -> "Tensor":
        """Internal constructor: wraps an array as it is, no checks, no copy."""
        t = object.__new__(cls)
        t._data = data if type(data) is np.ndarray else np.asarray(data)
        t._grad = t._node = t._base = t._view_key = t._hooks = t.name = None
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
        self._data, self._vc = (value._data, value._vc) if isinstance(value, Tensor) else (_as_array(value), self._vc)

    @property
    def grad(self):
        """None until backward reaches this tensor, then a Tensor of its shape and dtype."""
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None and not isinstance(value, Tensor):
            raise TypeError(f"assigned grad expected to be a Tensor or None but got {type(value).__name__}")
        if value is not None and (value.shape != self.shape or value.dtype != self.dtype):
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

    # micrograd's fields, read from the node
    _prev = property(lambda self: self._node.inputs if self._node else (), doc="the input tensors, in order")
    _op = property(lambda self: self._node.fn.name if self._node else "", doc="the op's name ('' for leaves)")
    _fn = property(lambda self: self._node.fn if self._node else None)
    _attrs = property(lambda self: self._node.attrs if self._node else None, doc="None once backward freed it")
    _scope = property(lambda self: self._node.scope if self._node else "", doc="the module that recorded it")
    _version = property(lambda self: self._vc[0], doc="how many in-place writes its storage has seen")
    grad_fn = property(lambda self: self._node, doc="the Node of the op that made this tensor (None for leaves)")
    is_leaf = property(lambda self: self._node is None)

    def _backward(self, g): return self._node.run(g)    # micrograd's step: the gradients of the inputs, given g

    # --- the value ---------------------------------------------------------------
    shape = property(lambda self: self._data.shape)
    ndim = property(lambda self: self._data.ndim)
    dtype = property(lambda self: self._data.dtype)

    __hash__ = object.__hash__   # tensors are keyed by identity; == is elementwise
    seq = -1                     # a leaf comes before every node in the walk's order (toposort)

    def backward(self, gradient=None, retain_graph: bool | None = None, create_graph: bool = False,
                 inputs=None) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's .grad (and retained intermediates').
        With create_graph=True the gradients are themselves on the tape."""
        inputs = [inputs] if isinstance(inputs, Tensor) else None if inputs is None else list(inputs)
        got = backprop([self], [gradient], retain_graph, create_graph, inputs)
        for t in inputs or ():
            if got[vertex(t)] is not None:
                _accumulate(t, got[vertex(t)])


# ----------------------------------------------------------------------------
# recording an op

_new = Tensor._wrap    # (bound once: apply makes a tensor per op)


def _lift(a, args) -> Tensor:
    """A non-tensor operand becomes a constant; a Python number takes the dtype of the tensors
    it meets (torch's weak scalars: x * 2 stays float32)."""
    if isinstance(a, Tensor):
        return a
    if isinstance(a, np.ndarray):
        return Tensor._wrap(a)
    if isinstance(a, (int, float, bool, np.number, np.bool_)):
        return Tensor._wrap(dtypes.cast_value(a, dtypes.result_type(*args)))
    return Tensor._wrap(_as_array(a))


def _with_message(e: Exception, msg: str) -> Exception:
    """The same kind of error, saying which op and shapes it came from."""
    try:
        return type(e)(msg)
    except Exception:
        return RuntimeError(msg)


def apply(fn, args, attrs) -> Tensor:
    """Run op `fn` on tensors, and record it on the tape if any input requires grad."""
    xs = args
    for a in args:
        if not isinstance(a, Tensor):
            xs = tuple([_lift(a, args) for a in args])
            break
    n = len(xs)
    arrays = (xs[0]._data, xs[1]._data) if n == 2 else (xs[0]._data,) if n == 1 else tuple(map(_DATA, xs))
    quiet = NUMPY_ERRORS.set(QUIET_NUMPY)         # (torch's arithmetic warns of no inf or NaN)
    try:
        data = fn.forward(*arrays, **attrs) if attrs else fn.forward(*arrays)
    except (ValueError, IndexError, TypeError) as e:
        raise _with_message(e, f"{fn.name}: {e} (input shapes {' and '.join(str(x.shape) for x in xs)})") from e
    finally:
        NUMPY_ERRORS.reset(quiet)
    saved = None
    if fn.returns_saved:
        data, saved = data
    if type(data) is not np.ndarray:
        data = _checked(fn, data)
    out = _new(data)
    if fn.view:                                   # a view shares storage and version counter
        x = arrays[0]
        if data.base is not None and (data.base is x or data.base is x.base):
            out._vc, out._base, out._view_key = xs[0]._vc, xs[0], (fn, attrs, xs[0]._vc[1])   # (how to make
            # it again, and from which version)
    if fn.backward is not None and _mode.grad:
        nexts, record = [], False
        for x in xs:
            if x._base is not None and x._vc[1] > x._view_key[2]:
                refresh(x)                        # (its storage was written through another view)
            if x._requires_grad:
                record = True
            nexts.append(x._node or (x if x._requires_grad else None))
        if record and data.dtype.kind == "f":
            node = out._node = Node(fn, attrs, xs, saved, arrays, tuple(nexts))
            node.out, node.out_vc = data, out._vc
            out._requires_grad = True
        elif record and not fn.builtin:           # (argmax, int casts: a built-in op's results carry no gradient)
            raise TypeError(f"op '{fn.name}': its forward returned {data.dtype} for inputs that require grad; "
                            "a differentiable op must return floats")
    if _mode.trace is not None:
        _mode.trace.append((fn, xs, attrs, out))
    return out


def refresh(view: Tensor) -> None:
    """A view whose storage was written (through its base or another view) since its history was
    made: its history becomes the view op applied to the base's current history, as torch
    regenerates a view's grad_fn. Its values are right already: they are the storage."""
    fn, attrs, _ = view._view_key
    trace, _mode.trace = _mode.trace, None      # (history, not a value: no step of a tg.compile recording)
    try:
        fresh = fn(view._base, **attrs)
    finally:
        _mode.trace = trace
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

def vertex(t: Tensor): return t._node if t._node is not None else t


def newest_first(roots, within=None):
    """The vertices the roots reach, each after all the vertices it gets gradients from: the nodes newest
    first, then the leaves. An op's inputs exist before it does, so a node is made after every node it
    sends a gradient to: the newest node reached is always complete, and a heap on the creation number
    finds it without a separate sorting pass. `within`: a set of Nodes beyond which the walk does not
    go (tg.compile's recording)."""
    reached, leaves, ready = dict.fromkeys(roots), [], []
    for v in reached:
        heappush(ready, (-v.seq, v)) if type(v) is Node else leaves.append(v)
    while ready:
        v = heappop(ready)[1]
        yield v
        if within is None or v in within:
            for n in v.nexts:
                if n is not None and n not in reached:    # tensors hash by identity (== is elementwise)
                    reached[n] = None
                    heappush(ready, (-n.seq, n)) if type(n) is Node else leaves.append(n)
    yield from reversed(leaves)


def toposort(roots, within=None) -> list:
    """Inputs first: the reverse of the walk's order. Backward walks newest_first; viz and tg.compile read this."""
    return list(newest_first(roots, within))[::-1]


_FIT_AXES = {}   # (gradient shape, input shape) -> the axes fit sums over: a training run meets a few pairs


def fit(gx, shape, dtype, node: Node, i: int):
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
        gx = dims.sum_kept(gx, axes).reshape(shape)
    return gx if gx.dtype == dtype else gx.astype(dtype)


def _check_finite(gx, node, i):
    if not np.isfinite(gx._data if isinstance(gx, Tensor) else gx).all():
        where = f"\nits forward was called at:\n{node.stack}" if node.stack else ""
        raise FloatingPointError(f"backward of '{node.fn.name}' produced a non-finite gradient for input {i} "
                                 f"(shape {node.arrays[i].shape}){where}")


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
    if t._hooks is not None:
        for hook in list(t._hooks["post"]):
            hook(t)


def _run_hooks(hooks, g):
    """Tensor hooks (register_hook) see the gradient as a Tensor; one they return replaces it."""
    for hook in list(hooks):
        new = hook(g if isinstance(g, Tensor) else Tensor._wrap(g))
        if new is not None:
            g = new if isinstance(g, Tensor) else np.asarray(new._data if isinstance(new, Tensor) else new, g.dtype)
    return g


def backprop(roots, gradients, retain_graph, create_graph, inputs):
    """Backpropagate from roots, newest node first. With inputs=None accumulate into .grad;
    otherwise return the gradients of `inputs` (tg.grad) and leave .grad alone."""
    retain_graph = create_graph if retain_graph is None else retain_graph
    for r in roots:
        if r._base is not None and r._vc[1] > r._view_key[2]:
            refresh(r)
        if not r._requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn: no "
                               "tensor it was computed from has requires_grad=True (or it ran under no_grad)")
    # grads: vertex -> its gradient so far. A rule may hand one array to several inputs (add's
    # (g, g)), so the engine adds in place only into arrays it made itself (`owned`), and stores
    # in .grad only arrays that nothing else holds (copying views and arrays handed out twice).
    grads, owned = {}, set()
    for r, gr in zip(roots, gradients):
        v, g = vertex(r), _seed(r, gr, create_graph)
        grads[v] = grads[v] + g if v in grads else g
    wanted = dict.fromkeys(map(vertex, inputs)) if inputs is not None else None
    observer, handed = _mode.observer, set()
    if observer is not None:
        observer.start(roots)
    slow = observer is not None or _mode.anomaly
    with set_grad_enabled(create_graph), releasing(not retain_graph), quiet_numpy():   # (inf - inf is NaN, no warning)
        for v in newest_first([vertex(r) for r in roots]):
            g = grads.pop(v, None)
            if g is None:
                continue
            is_node = type(v) is Node
            hooks = v.hooks if is_node else (v._hooks and v._hooks["grad"])
            if hooks:
                g = _run_hooks(hooks, g)
            if wanted is not None:
                if v in wanted:
                    wanted[v] = g
            elif not is_node or v.retained is not None:
                t = v if not is_node else v.retained()
                if t is not None:
                    _accumulate(t, _own(g, handed))
            if not is_node:
                if observer is not None:
                    observer.leaf(v, g)
                continue
            if (v.fn.into is not None and v.nexts[0] in owned and not slow and not create_graph
                    and type(grads[v.nexts[0]]) is np.ndarray):    # (a sum of 0-d arrays is a NumPy scalar)
                v.fn.into(grads[v.nexts[0]], g, **v.attrs)     # a slice's gradient into its base's sum so far
                if not retain_graph:
                    v.free()
                continue
            i, grads_in = -1, v.run(g)        # (after a free, run restores what fit reads below)
            for n, x, gx in zip(v.nexts, v.arrays, grads_in):
                i += 1
                if gx is None or n is None:
                    continue
                raw = getattr(gx, "shape", None)
                if type(gx) is not np.ndarray or raw != x.shape or (gx.dtype is not x.dtype and gx.dtype != x.dtype):
                    gx = fit(gx, x.shape, x.dtype, v, i)
                if slow:
                    if _mode.anomaly:
                        _check_finite(gx, v, i)
                    if observer is not None:
                        observer.send(v, i, raw, gx, n in grads)
                if n not in grads:
                    grads[n] = gx
                    if i == 0 and v.fn.into is not None:    # (its rule's: a fresh array, the base's shape)
                        owned.add(n)
                elif n in owned and not create_graph:   # an array the engine made itself: add in place
                    grads[n] += gx
                else:
                    grads[n] = grads[n] + gx
                    owned.add(n)
            if observer is not None:
                observer.node(v, g)
            if not retain_graph:
                v.free()
    return wanted


def _own(g, handed: set):
    """g as an array .grad may keep: a copy if it is a view, read-only, or already handed out."""
    if not isinstance(g, Tensor) and (g.base is not None or not g.flags.writeable or id(g) in handed):
        g = np.array(g)
    handed.add(id(g))
    return g


def data_of(x): return x._data if isinstance(x, Tensor) else x    # (rules and composites take both)
