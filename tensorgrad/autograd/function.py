"""torch.autograd.Function: a new op written as a class, forward and backward side by side.

    class MyReLU(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.clamp(min=0)

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return g * (x > 0)

    y = MyReLU.apply(x)

apply() runs forward on the Tensors as given (with recording off), and records one node on the
tape, named after the class (the name drawings show). The engine calls the node's rule with the
gradient of the result; the rule calls the class's backward with Tensors. Under
create_graph=True backward runs with recording on, so a backward written with tensor ops can be
differentiated again. tg.op is the short way to the same thing when forward and backward are
NumPy functions (docs/adding_an_op.md shows both).
"""
import numpy as np

from ..engine import Node, Tensor
from ..inplace import _rebase as rebase, check_leaf
from ..modes import _mode, no_grad


class FunctionCtx:
    """The `ctx` handed to forward and backward: what forward keeps for backward."""

    def __init__(self):
        self.needs_input_grad = ()
        self.materialize_grads = True
        self._saved = None                # (tensor, version at save) for each saved value
        self._non_differentiable = set()
        self._dirty = ()

    def save_for_backward(self, *tensors) -> None:
        """Keep tensors (or None) for backward; ctx.saved_tensors gives them back, checked unchanged."""
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_backward can only save variables, but argument {i} is of type "
                                f"{type(t).__name__}")
        self._saved = tuple((t, None if t is None else t._vc[0]) for t in tensors)

    @property
    def saved_tensors(self) -> tuple:
        if self._saved is None:
            return ()
        for i, (t, version) in enumerate(self._saved):
            if t is not None and t._vc[0] != version:
                raise RuntimeError(
                    f"one of the variables needed for gradient computation has been modified by an inplace "
                    f"operation: saved tensor {i} (shape {tuple(t.shape)}, dtype {t.dtype}) is at version "
                    f"{t._vc[0]}; expected version {version} instead")
        return tuple(t for t, _ in self._saved)

    saved_variables = saved_tensors

    def mark_non_differentiable(self, *tensors) -> None:
        """These outputs get no gradient (indices, masks): they come out with requires_grad=False."""
        self._non_differentiable.update(id(t) for t in tensors)

    def set_materialize_grads(self, value: bool) -> None:
        """False: backward gets None (not zeros) for an output that received no gradient."""
        self.materialize_grads = bool(value)

    def mark_dirty(self, *tensors) -> None:
        """These inputs were written in place by forward (and must be returned): as torch, the output is
        the input tensor itself, and its history becomes this Function's node."""
        self._dirty = tensors


class _Rule:
    """The op a Function's node records: its name (the class's), and the rule the engine calls."""

    view = returns_saved = builtin = needs = False
    into = reads = None

    def __init__(self, name, backward, saves):
        self.name, self.backward, self.saves = name, backward, saves
        self.adjoint = f"{name}.backward"
        self.forward = None


class Function:
    """Subclass with staticmethods forward(ctx, *args) and backward(ctx, *grads), then call
    MyFn.apply(*args). backward returns one gradient per forward argument (None for an argument
    that is not a tensor, or needs none)."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for your custom "
                                  "autograd.Function to use it with backward mode AD.")

    @staticmethod
    def vjp(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for your custom "
                                  "autograd.Function to use it with backward mode AD.")

    def __init__(self, *args, **kwargs):
        pass

    def __call__(self, *args, **kwargs):
        raise RuntimeError("Legacy autograd function with non-static forward method is deprecated. Please use new-"
                           "style autograd function with static forward method. (Example: "
                           "https://pytorch.org/docs/stable/autograd.html#torch.autograd.Function)")

    @classmethod
    def apply(cls, *args, **kwargs):
        if _mode.trace is not None:
            raise TypeError(f"tg.compile cannot record the autograd.Function {cls.__name__}: call it outside "
                            "the compiled function, or write it as a tg.op")
        ctx = FunctionCtx()
        records = _mode.grad and any(isinstance(a, Tensor) and a._requires_grad for a in args)
        # as torch: what requires grad, even under no_grad
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a._requires_grad for a in args)
        new_style = cls.setup_context is not Function.setup_context
        with no_grad():
            if new_style:
                output = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, output)
            else:
                output = cls.forward(ctx, *args, **kwargs)
        single = not isinstance(output, tuple)
        outs = (output,) if single else output
        inputs = [a for a in args if isinstance(a, Tensor)]
        dirty = _check_dirty(cls.__name__, ctx._dirty, inputs, outs, records)
        # fresh result tensors (an input returned as it is becomes a new tensor on its storage, as torch),
        # but a dirty input is returned itself
        outs = tuple(Tensor._wrap(o._data, o._vc) if isinstance(o, Tensor) and any(o is a for a in inputs)
                     and not any(o is d for d in dirty) else o for o in outs)
        if records and dirty:           # the node's inputs are the dirty ones as they were (their old history)
            inputs = [_before(a) if any(a is d for d in dirty) else a for a in inputs]
        if records:
            diff = [k for k, o in enumerate(outs) if isinstance(o, Tensor) and o.dtype.kind == "f"
                    and id(output if single else output[k]) not in ctx._non_differentiable]
            if diff:
                _record(cls, ctx, args, inputs, outs, diff)
            for d in dirty:
                if d._base is not None:         # a view written in place: its base's history is rewritten too
                    d._view_key = d._view_key[:2] + (d._vc[1],)
                    rebase(d, cls.__name__)
        return outs[0] if single else outs


def _check_dirty(name, dirty, inputs, outs, records) -> tuple:
    """torch's rules for ctx.mark_dirty: inputs only, each returned, none a leaf that requires grad."""
    for t in dirty:
        if not any(t is a for a in inputs):
            raise RuntimeError(f"{name}: mark_dirty() takes input tensors only")
        if not any(t is o for o in outs):
            raise RuntimeError(f"{name}: Some elements marked as dirty during the forward method were not returned "
                               "as output. The inputs that are modified inplace must all be outputs of the Function.")
        if records:
            check_leaf(t, name)
    return tuple(dirty)


def _before(t: Tensor) -> Tensor:
    """A stand-in for t as it was before forward wrote into it: its history (its values are gone)."""
    old = Tensor._wrap(t._data)
    old._node, old._requires_grad = t._node, t._requires_grad
    return old


def once_differentiable(backward):
    """Decorator for a backward that cannot itself be differentiated: it runs with recording off."""
    def wrapper(ctx, *grads):
        with no_grad():
            return backward(ctx, *grads)
    wrapper.__name__, wrapper.__doc__ = backward.__name__, backward.__doc__
    return wrapper


# ----------------------------------------------------------------------------
# recording: one node for the Function; with several differentiable outputs, the node's result is
# their values packed into one flat array, and each output is a slice of it (a node of its own
# whose rule puts its gradient into the packed one, and notes that it got one)

def _record(cls, ctx, args, inputs, outs, diff):
    name = cls.__name__
    saves = "inputs" if ctx._saved else ""
    tensor_at = [k for k, a in enumerate(args) if isinstance(a, Tensor)]
    got = set()
    outs_meta = [(o.shape, o.dtype) if isinstance(o, Tensor) else None for o in outs]

    def rule(g, out, *saved, **attrs):
        """The engine's call: g is the gradient of the node's result (one output's, or the packed ones)."""
        if len(diff) == 1:
            grads = {diff[0]: g}
        else:
            grads, start = {}, 0
            for k in diff:
                n = int(np.prod(outs_meta[k][0]))
                grads[k] = g[start:start + n].reshape(outs_meta[k][0]) if k in got or ctx.materialize_grads else None
                start += n
            got.clear()
        as_tensors = isinstance(g, Tensor)
        grad_outputs = []
        for k, o in enumerate(outs_meta):
            gk = grads.get(k)
            if gk is None and ctx.materialize_grads and o is not None:
                gk = np.zeros(o[0], o[1])               # a non-differentiable output: zeros, as torch
            if gk is not None and not isinstance(gk, Tensor):
                gk = Tensor._wrap(gk)
            grad_outputs.append(gk)
        backward = cls.vjp if cls.backward is Function.backward else cls.backward     # either name, as torch
        result = backward(ctx, *grad_outputs)
        result = result if isinstance(result, tuple) else (result,)
        if len(result) < len(args) or any(r is not None for r in result[len(args):]):
            raise RuntimeError(f"function {name}Backward returned an incorrect number of gradients "
                               f"(expected {len(args)}, got {len(result)})")
        for k, (a, r) in enumerate(zip(args, result)):
            if r is not None and not isinstance(a, Tensor):
                raise RuntimeError(f"function {name}Backward returned a gradient different than None at position "
                                   f"{k + 1}, but the corresponding forward input was not a Variable")
            if r is not None and not isinstance(r, Tensor):
                raise TypeError(f"function {name}Backward returned a {type(r).__name__} as the gradient of "
                                f"input {k}: expected a Tensor or None")
        picked = [result[k] for k in tensor_at]
        return tuple(r if r is None or as_tensors else r._data for r in picked)

    fn = _Rule(name, rule, saves)
    if len(diff) == 1:
        _attach(outs[diff[0]], fn, inputs)
        return
    packed_data = np.concatenate([outs[k]._data.reshape(-1).astype(outs[diff[0]].dtype) for k in diff])
    packed = Tensor._wrap(packed_data)
    _attach(packed, fn, inputs)
    start = 0
    for k in diff:
        n = outs[k]._data.size
        _attach(outs[k], _Rule(f"{name}[{k}]", _unpack_rule(k, start, n, len(packed_data), got), ""), [packed])
        start += n


def _unpack_rule(k, start, n, total, got):
    def rule(g, out, packed):
        got.add(k)
        if isinstance(g, Tensor):                       # under create_graph: with tensor ops
            from ..functions import cat, zeros
            return cat([zeros(start, dtype=g.dtype), g.reshape(-1), zeros(total - start - n, dtype=g.dtype)])
        full = np.zeros(total, g.dtype)
        full[start:start + n] = g.reshape(-1)
        return full
    return rule


def _attach(out: Tensor, fn, inputs) -> None:
    node = Node(fn, {}, tuple(inputs))
    node.out, node.out_vc = out._data, out._vc
    out._node, out._requires_grad = node, True
