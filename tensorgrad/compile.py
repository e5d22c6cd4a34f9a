"""tg.compile(fn): record the ops of a function once, replay them with new data.

    loss_fn = tg.compile(lambda X, Y: F.cross_entropy(model(X), Y))
    loss = loss_fn(Xb, Yb)            # the first call with these shapes runs fn and records it
    loss.backward()                   # as usual: .grad, optimizers, no_grad keep their meaning

The first call for a given set of argument shapes, dtypes and Python values runs `fn` as
usual, while the engine lists every op it applies. That list is the recording: later calls
with the same shapes run the same forwards on the new arrays, with no Python dispatch and
no tape building, and the whole recording is one node of the graph (an op whose forward is
the recorded forwards and whose backward walks their rules in the order the engine's own
walk would). The same functions run on the same arrays in the same order, so the results
are the dynamic path's, bit for bit. A new shape, dtype, Python argument or grad mode
records again.

What a recording sees: tensors from the arguments (or their arrays), tensors that exist
outside the function (parameters and buffers: their current values are read at every call,
so optimizer updates are seen), and results of tensorgrad ops. Random draws (tg.rand, randn,
dropout's masks, ...) are ops too (ops/random.py): a replay draws afresh from the generator, so a
seeded replayed run equals the dynamic one, generator state included. Writes into the storage of
tensors from outside (a BatchNorm's running statistics and step count) are replayed at their place.
Python state that changes which ops run is part of the key: grad mode, and `training` of every
nn.Module the function can reach (its closure, its self, the globals it names, its arguments), so
model.eval() records its own program. What a recording would bake in as constants: Python
numbers and anything computed outside tensorgrad ops inside the function (NumPy arithmetic on the
arguments, NumPy's own random numbers, `.item()` values, control flow on data); the second call
records again and compares, and a function whose program changed runs uncompiled from then on,
with one warning saying why. In a replay the function's intermediate tensors do not exist, so
retain_grad() and hooks on them see nothing; create_graph=True through a replay raises.
"""
import functools
import types

import numpy as np

from .engine import Tensor, apply, fit, toposort
from .inplace import _bump
from .modes import NUMPY_ERRORS, QUIET_NUMPY, _mode
from .nn.modules import Module

__all__ = ["compile"]


class _Slot:
    """A place in the recording's table of arrays (an argument, an outside tensor or an op's result)."""
    __slots__ = ("i",)

    def __init__(self, i):
        self.i = i


def _has_slot(v) -> bool:
    return isinstance(v, _Slot) or (isinstance(v, (tuple, list)) and any(_has_slot(a) for a in v))


def _fill(v, slots):
    """v with every _Slot replaced by its array (tuples and NamedTuples keep their type)."""
    if isinstance(v, _Slot):
        return slots[v.i]
    if not _has_slot(v):
        return v
    parts = [_fill(a, slots) for a in v]
    return type(v)(*parts) if hasattr(v, "_fields") else type(v)(parts)


class _Step:
    """One recorded op: which slots it reads, its attributes, where its result goes."""
    __slots__ = ("fn", "ins", "attrs", "dyn", "out", "grad_ins")

    def __init__(self, fn, ins, attrs, dyn, out):
        self.fn, self.ins, self.attrs, self.dyn, self.out = fn, ins, attrs, dyn, out
        self.grad_ins = ()     # (input position, destination slot, shape, dtype) of the inputs that get gradients

    def kwargs(self, slots) -> dict:
        """The op's attributes for this call: the recorded ones, with arrays from the arguments filled in."""
        if not self.dyn:
            return self.attrs
        kw = dict(self.attrs)
        for name, v in self.dyn:
            kw[name] = _fill(v, slots)
        return kw


def _replay_write(effect, slots) -> None:
    kind, target, arg = effect
    if kind == "copy":
        np.copyto(target._data, slots[arg], casting="same_kind")
    elif kind == "ufunc":
        arg[0](target._data, arg[1], out=target._data)
    _bump(target)


def _is_effect(entry) -> bool:
    """A write into an outside tensor's storage (inplace.py lists them in the trace beside the ops)."""
    return isinstance(entry[0], str)


class Recording:
    """The ops of one call of a function, as a forward program and a backward schedule over slots."""

    def __init__(self, fn, args):
        self.name = f"compiled {getattr(fn, '__name__', 'function')}"
        trace = []
        writes = _mode.writes
        saved_trace, _mode.trace = _mode.trace, trace
        try:
            out = fn(*args)
        finally:
            _mode.trace = saved_trace
            if saved_trace is not None:       # recorded inside another recording: that one ran these ops too
                saved_trace.extend(trace)
        if _mode.writes - writes != sum(1 for entry in trace if _is_effect(entry)):
            raise _Unreplayable("it writes into a tensor in place in a way a recording cannot replay (an indexed "
                                "write, x[i] = v, outside the graph)", out)
        if not isinstance(out, Tensor):
            raise TypeError(f"tg.compile: the function must return one Tensor, got {type(out).__name__}")
        self.result = out
        self._build(args, trace, out)

    def _build(self, args, trace, out):
        ops_trace, writes = [], []
        for entry in trace:
            if _is_effect(entry):
                writes.append((len(ops_trace), entry))      # its place: after that many ops
            else:
                ops_trace.append(entry)
        by_array = self._build_ops(args, ops_trace, out)
        self._build_effects(writes, {id(entry[3]) for entry in ops_trace}, by_array)
        self._programs()

    def _build_effects(self, writes, produced, by_array):
        """Writes into outside tensors (a BatchNorm's running statistics and its step count): each runs
        again at its place among the ops. A write into a tensor made inside, or in a graph, or of a value
        computed outside tensorgrad ops, cannot be replayed."""
        self.effects = {}
        for place, (_, kind, target, arg) in writes:
            if id(target) in produced or target._requires_grad:
                raise _Unreplayable("it writes into a tensor in place that it made itself or that is in a graph, which "
                                    "a recording cannot replay", self.result)
            if kind == "copy":
                if id(arg) not in by_array:
                    raise _Unreplayable(f"it writes a value computed outside tensorgrad ops (NumPy, or a random "
                                        f"fill such as x.normal_()) into a tensor of shape {target.shape}", self.result)
                arg = by_array[id(arg)]
            elif kind == "ufunc":
                arg = (arg[0], arg[1].copy() if isinstance(arg[1], np.ndarray) else arg[1])
            self.effects.setdefault(place, []).append((kind, target, arg))

    def _build_ops(self, args, trace, out):
        # the inputs of the recording (the node's inputs): the tensor and array arguments, then the
        # tensors from outside that require grad (parameters); the other outside tensors (buffers,
        # constants) are read at every call too, but are no inputs of the node
        self.inputs = [(k, None) for k, a in enumerate(args) if isinstance(a, (Tensor, np.ndarray))]
        self.constants = []
        at_record = [args[k] if isinstance(args[k], Tensor) else None for k, _ in self.inputs]
        known = {id(a) for a in args if isinstance(a, Tensor)}
        known |= {id(a._data if isinstance(a, Tensor) else a) for a in args if isinstance(a, (Tensor, np.ndarray))}
        for _, xs, _, result in trace:
            for x in xs:
                if id(x) not in known and id(x._data) not in known:
                    known.add(id(x))
                    if x._requires_grad:
                        self.inputs.append((None, x))
                        at_record.append(x)
                    else:
                        self.constants.append(x)
            known |= {id(result), id(result._data)}
        # slots: the inputs first (so that the backward's first len(inputs) gradients are theirs), the
        # constants, then each op's result
        by_tensor, by_array = {}, {}
        for s, (k, x) in enumerate(self.inputs):
            if x is None:
                a = args[k]
                by_array[id(a._data if isinstance(a, Tensor) else a)] = s
                if isinstance(a, Tensor):
                    by_tensor[id(a)] = s
            else:
                by_tensor[id(x)] = s
        for s, x in enumerate(self.constants, len(self.inputs)):
            by_tensor[id(x)] = s
        n = len(self.inputs) + len(self.constants)
        steps = []
        for fn, xs, attrs, result in trace:
            ins = tuple(by_tensor[id(x)] if id(x) in by_tensor else by_array[id(x._data)] for x in xs)
            static, dyn = {}, []
            for name, v in attrs.items():
                v = self._slotted(v, by_array)
                if _has_slot(v):
                    dyn.append((name, v))
                else:
                    static[name] = v
            if result._requires_grad and result._node is None:
                raise _Unreplayable(f"it makes a leaf tensor that requires grad ({fn.name}(..., requires_grad=True)) "
                                    "inside: a new parameter each call", self.result)
            by_tensor[id(result)] = by_array[id(result._data)] = n
            steps.append((_Step(fn, ins, static, tuple(dyn), n), result))
            n += 1
        self.n = n
        self.steps = [s for s, _ in steps]
        self.where = [f"op {k} ({s.fn.name}{' in ' + r._node.scope if r._node is not None and r._node.scope else ''})"
                      for k, (s, r) in enumerate(steps)]          # for the warning when a replay is refused
        self.out = by_tensor.get(id(out))
        if self.out is None or self.out < len(self.inputs) + len(self.constants):
            raise TypeError("tg.compile: the function must return a tensor made by an op inside it")
        self._schedule(steps, out, by_tensor, at_record)
        return by_array

    @staticmethod
    def _slotted(v, by_array):
        if isinstance(v, np.ndarray) and id(v) in by_array:
            return _Slot(by_array[id(v)])
        if isinstance(v, (tuple, list)):
            parts = [Recording._slotted(a, by_array) for a in v]
            if any(_has_slot(a) for a in parts):
                return type(v)(*parts) if hasattr(v, "_fields") else type(v)(parts)
        return v

    def _schedule(self, steps, out, by_tensor, at_record):
        """The backward: the recorded nodes in the order the engine's walk visits them (newest first,
        engine.newest_first), each sending gradients to slots."""
        self.backward_steps = ()
        if out._node is None:
            return
        node_slot = {id(r._node): by_tensor[id(r)] for _, r in steps if r._node is not None}
        step_of = {s.out: s for s, _ in steps}
        # outside vertices (leaves that require grad, or nodes made before the call) -> their input slot
        outside = {}
        for s, t in enumerate(at_record):
            if t is not None and t._requires_grad:
                outside[id(t._node if t._node is not None else t)] = s
        order = toposort([out._node], within={r._node for _, r in steps if r._node is not None})
        schedule = []
        for v in reversed(order):
            if id(v) not in node_slot:
                continue
            step = step_of[node_slot[id(v)]]
            step.grad_ins = tuple((i, node_slot[id(m)] if id(m) in node_slot else outside[id(m)], x.shape, x.dtype)
                                  for i, (m, x) in enumerate(zip(v.nexts, v.arrays)) if m is not None)
            schedule.append(step)
        self.backward_steps = tuple(schedule)

    # --- replay -------------------------------------------------------------------
    def arrays(self, args) -> list:
        """The recording's input tensors for this call: the arguments, then the outside tensors."""
        return [(args[k] if isinstance(args[k], Tensor) else Tensor._wrap(args[k])) if x is None else x
                for k, x in self.inputs]

    def _programs(self):
        """The replay loops' flat programs: per step the fields its loop reads, so
        that a step costs a tuple unpacking rather than attribute reads (a GRU replays ~500 steps). The op
        itself, not its forward: profile_step --ops wraps an op's functions after the replay began."""
        self._fwd = [(s.fn, s.ins, s, s.out, s.fn.returns_saved, self.effects.get(place, ()))
                     for place, s in enumerate(self.steps)]
        self._bwd = [(s.out, s.fn, s.ins, s, s.fn.returns_saved,
                      s.fn.into if s.grad_ins and s.grad_ins[0][0] == 0 else None, s.grad_ins,
                      tuple([any(i == k for k, *_ in s.grad_ins) for i in range(len(s.ins))]) if s.fn.needs else None)
                     for s in self.backward_steps]

    def forward(self, *inputs):
        slots = [*inputs, *[c._data for c in self.constants]]
        slots += [None] * (self.n - len(slots))
        extras, quiet = {}, NUMPY_ERRORS.set(QUIET_NUMPY)       # (as apply: an op's inf or NaN is no warning)
        try:
            for fn, ins, s, out, returns_saved, effects in self._fwd:
                for effect in effects:
                    _replay_write(effect, slots)
                r = fn.forward(*[slots[i] for i in ins], **s.kwargs(slots))
                if returns_saved:
                    r, extras[out] = r
                slots[out] = r if type(r) is np.ndarray else np.asarray(r)
        finally:
            NUMPY_ERRORS.reset(quiet)
        for effect in self.effects.get(len(self.steps), ()):
            _replay_write(effect, slots)
        return slots[self.out], (slots, extras, _mode.writes)

    def backward(self, g, out, *inputs, saved):
        if isinstance(g, Tensor):
            raise RuntimeError(f"{self.name}: create_graph=True through a compiled function is not supported; "
                               "call the function uncompiled for higher-order gradients")
        slots, extras, born = saved
        if _mode.writes != born:          # the inputs are the node's to check; the constants are ours
            for c in self.constants:
                if c._vc[1] > born:
                    raise RuntimeError(f"one of the variables needed for gradient computation has been modified by "
                                       f"an inplace operation: a tensor of shape {c.shape} that {self.name} read")
        # the engine's walk (engine.backprop's loop) on a fixed schedule: a step's gradient is complete
        # when its turn comes, fit() meets each input's shape, sums go in the walk's order. It is its own
        # loop because the engine's visits vertices kept in a dict and checks hooks, retained and wanted
        # tensors and freeing at each: on these numbered slots ~1 us a step more (2.3 against 3.2 us measured)
        grads = [None] * self.n
        grads[self.out] = g
        owned = set()                       # slots whose gradient is an array made here: added to in place
        release = _mode.releasing           # no retain_graph: a step's result is let go once its rule has run
        for out, fn, ins, s, returns_saved, into, grad_ins, needs in self._bwd:
            gout = grads[out]
            if gout is None:
                continue
            grads[out] = None
            kw = s.kwargs(slots)
            if into is not None and grad_ins[0][1] in owned and type(grads[grad_ins[0][1]]) is np.ndarray:
                into(grads[grad_ins[0][1]], gout, **kw)      # a slice's gradient into its base's, as the
                if release:                                    # engine's walk does
                    slots[out] = None
                continue
            if returns_saved:
                kw = dict(kw, saved=extras[out])
            if needs is not None:
                kw = dict(kw, needs=needs)
            rgrads = fn.backward(gout, slots[out], *[slots[i] for i in ins], **kw)
            if release:                     # (nothing older reads it: as the engine frees a node's values)
                slots[out] = None
            if type(rgrads) is not tuple:
                rgrads = (rgrads,)
            for i, d, shape, dtype in grad_ins:
                gx = rgrads[i]
                if gx is None:
                    continue
                if gx.shape != shape or gx.dtype != dtype:
                    gx = fit(gx, shape, dtype, s, i)
                if grads[d] is None:
                    grads[d] = gx
                    if i == 0 and into is not None:
                        owned.add(d)
                elif d in owned:
                    grads[d] += gx
                else:
                    grads[d] = grads[d] + gx
                    owned.add(d)
        return tuple(grads[: len(inputs)])


class _ReplayOp:
    """What the engine needs of an op (apply and Node read these fields) for one recording."""

    saves, returns_saved, view, builtin, into, reads, needs = "all", True, False, False, None, None, False

    def __init__(self, rec: Recording):
        self.name, self.forward, self.backward, self.rec = rec.name, rec.forward, rec.backward, rec
        self.checked = False


def _key(args) -> tuple:
    key = [_mode.grad]
    for a in args:
        if isinstance(a, Tensor):
            key.append(("t", a.shape, a.dtype, a._requires_grad))
        elif isinstance(a, np.ndarray):
            key.append(("a", a.shape, a.dtype))
        elif isinstance(a, Module):                 # this module, in this mode (see compile.__call__)
            key.append(("m", id(a), tuple([m.training for m in a.modules()])))
        else:
            try:
                hash(a)
                key.append(("v", type(a), a))
            except TypeError:                       # a list, a dict: this very object
                key.append(("id", id(a)))
    return tuple(key)


def _roots(fn, args) -> tuple:
    """The nn.Modules fn can reach: fn itself, its self, its closure (and the closures of functions
    in it), the Modules among the globals its code names, a partial's arguments, and its arguments;
    one level into lists, tuples, dicts and the attributes of plain objects (a trainer's self.model)."""
    found, seen, funcs = [], set(), []

    def visit(v, deep=True):
        if v is None or isinstance(v, (Tensor, np.ndarray)) or id(v) in seen:
            return
        seen.add(id(v))
        if isinstance(v, Module):
            found.append(v)
        elif hasattr(v, "__code__"):                      # a function or a bound method
            funcs.append(v)
        elif isinstance(v, functools.partial):
            for x in (v.func, *v.args, *v.keywords.values()):
                visit(x)
        elif deep and isinstance(v, (list, tuple, dict)):
            for x in (v.values() if isinstance(v, dict) else v):
                visit(x, False)
        elif deep and hasattr(v, "__dict__") and not isinstance(v, (type, types.ModuleType)):
            for x in vars(v).values():
                visit(x, False)

    visit(fn)
    for a in args:
        visit(a)
    while funcs:
        f = funcs.pop()
        visit(getattr(f, "__self__", None))
        for cell in f.__closure__ or ():
            try:
                visit(cell.cell_contents)
            except ValueError:                            # an empty cell
                pass
        for name in f.__code__.co_names:
            v = f.__globals__.get(name)
            if isinstance(v, Module):
                visit(v)
    return tuple(found)


class compile:
    """tg.compile(fn): the first call per argument shapes/dtypes records fn's ops; later calls replay them."""

    def __init__(self, fn):
        self.fn = fn
        self.recordings = {}
        self.__wrapped__ = fn
        self.__doc__ = getattr(fn, "__doc__", None)
        self._modules, self._warned = None, False

    def __call__(self, *args):
        if self._modules is None:
            # module.training decides which ops run (dropout, BatchNorm) and the ops do not show it: it
            # keys the recordings, for every module fn reaches (found once, at the first call)
            self._modules = tuple({id(m): m for r in _roots(self.fn, args) for m in r.modules()}.values())
        key = (_key(args), tuple([m.training for m in self._modules]))
        op = self.recordings.get(key)
        if op is _DYNAMIC:
            return self.fn(*args)
        if op is None:
            try:
                rec = Recording(self.fn, args)
            except _Unreplayable as e:              # fn ran (dynamically) but cannot be replayed
                return self._give_up(key, str(e), e.out)
            self.recordings[key] = _ReplayOp(rec)
            out, rec.result = rec.result, None
            return out                                  # the recording call's own, dynamic result
        if not op.checked:
            # the second call records again (its own dynamic run is this call's result) and compares:
            # a function that computes outside tensorgrad ops (NumPy on its arguments, tensors made
            # from data, NumPy's random numbers) gives another program, and would replay stale constants
            try:
                rec = Recording(self.fn, args)
            except _Unreplayable as e:
                return self._give_up(key, str(e), e.out)
            out, rec.result = rec.result, None
            why = _difference(op.rec, rec)
            if why is not None:
                return self._give_up(key, f"its second call recorded another program than its first: {why}", out)
            op.checked = True
            return out
        return apply(op, op.rec.arrays(args), {})

    def _give_up(self, key, why, out):
        """Run fn dynamically from now on for these shapes (never a silently different result), saying
        why the first time (a training loop that meets a new batch shape or eval mode is told once)."""
        self.recordings[key] = _DYNAMIC
        if not self._warned:
            self._warned = True
            import warnings
            warnings.warn(f"tg.compile: {getattr(self.fn, '__name__', 'the function')} runs uncompiled: {why}",
                          stacklevel=3)
        return out


def _same(a, b) -> bool:
    """Equal attributes: arrays by value, tuples, lists and dicts part by part, the rest by ==."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.dtype == b.dtype and \
            np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
    if isinstance(a, (tuple, list)) or isinstance(b, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) or isinstance(b, dict):
        return type(a) is type(b) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, _Slot) or isinstance(b, _Slot):
        return isinstance(a, _Slot) and isinstance(b, _Slot) and a.i == b.i
    try:
        return bool(a == b)
    except Exception:
        return a is b


_OUTSIDE = ("(it computes with something outside tensorgrad ops: NumPy on its arguments, a tensor made from "
            "them, .item(), NumPy's random numbers, or Python state that changed)")


def _difference(r1: Recording, r2: Recording) -> str | None:
    """What differs between two recordings of one function (None: they would replay alike): the ops,
    the slots they read, their attributes, the outside tensors, and the values of constants made inside."""
    if len(r1.steps) != len(r2.steps) or r1.out != r2.out:
        return f"{len(r1.steps)} ops, then {len(r2.steps)} {_OUTSIDE}"
    for where, s, t in zip(r1.where, r1.steps, r2.steps):
        if s.fn is not t.fn or s.ins != t.ins or s.out != t.out:
            return f"{where} became {t.fn.name} on other inputs {_OUTSIDE}"
        if not _same(s.attrs, t.attrs) or [n for n, _ in s.dyn] != [n for n, _ in t.dyn] or \
                not _same([v for _, v in s.dyn], [v for _, v in t.dyn]):
            changed = sorted(k for k in {*s.attrs, *t.attrs} if not _same(s.attrs.get(k), t.attrs.get(k)))
            return f"{where} got other attributes ({', '.join(changed) or 'arrays'}) {_OUTSIDE}"
    if [(k, id(x)) for k, x in r1.inputs] != [(k, id(x)) for k, x in r2.inputs]:
        return f"it read other tensors that require grad {_OUTSIDE}"
    if len(r1.constants) != len(r2.constants):
        return f"it read {len(r1.constants)} constant tensors, then {len(r2.constants)} {_OUTSIDE}"
    for j, (a, b) in enumerate(zip(r1.constants, r2.constants), len(r1.inputs)):
        if a is not b and not _same(a._data, b._data):
            where = next((w for w, s in zip(r1.where, r1.steps) if j in s.ins), "an op")
            return f"{where} read a constant tensor of shape {a.shape} that had other values {_OUTSIDE}"
    if r1.effects.keys() != r2.effects.keys() or any(
            len(r1.effects[p]) != len(r2.effects[p]) or
            any(a[0] != b[0] or a[1] is not b[1] or not _same(a[2], b[2]) for a, b in zip(r1.effects[p], r2.effects[p]))
            for p in r1.effects):
        return f"it wrote into other tensors, or other values {_OUTSIDE}"
    return None


_DYNAMIC = object()          # a key whose function cannot be replayed: it just runs


class _Unreplayable(RuntimeError):
    def __init__(self, msg, out):
        super().__init__(msg)
        self.out = out
