"""Module hooks, as torch.nn.Module's: forward pre-hooks (may replace the inputs), forward hooks
(may replace the output), and full backward hooks (see the gradients of the module's inputs and
outputs, and may replace the inputs' gradients), each removable through the handle it returns.

Backward hooks work as torch's do: the module's tensor inputs and outputs pass through identity
Functions; the outputs' one notes grad_output on its way back, the inputs' one calls the hooks
with grad_input (or the outputs' one does, with Nones, when no input requires grad)."""
import warnings

from ..autograd.function import Function
from ..engine import Tensor
from ..modes import _mode
from ..utils.hooks import RemovableHandle

HOOK_STORES = ("_forward_pre_hooks", "_forward_hooks", "_backward_hooks", "_backward_pre_hooks")


def register(module, store: str, hook, prepend: bool = False, **flags) -> RemovableHandle:
    """Add hook to module's store (its flags, e.g. with_kwargs, in a dict of their own); return its handle."""
    hooks = getattr(module, store)
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    if prepend:                                     # first in line: the dicts keep insertion order
        items = list(hooks.items())
        hooks.clear()
        hooks.update([items[-1]] + items[:-1])
    for flag, on in flags.items():
        if on:
            d = module.__dict__.setdefault(f"{store}_{flag}", {})
            d[handle.id] = True
            handle.hooks_dicts.append(d)
    return handle


def _flag(module, store, flag, key) -> bool:
    return key in module.__dict__.get(f"{store}_{flag}", ())


def call(module, args, kwargs):
    """Module.__call__ with hooks: pre-hooks, the backward hooks' input side, forward, forward hooks,
    the backward hooks' output side."""
    for key, hook in list(module._forward_pre_hooks.items()):
        if _flag(module, "_forward_pre_hooks", "with_kwargs", key):
            res = hook(module, args, kwargs)
            if res is not None:
                if not (isinstance(res, tuple) and len(res) == 2):
                    raise RuntimeError(f"forward pre-hook must return None or a tuple of (new_args, new_kwargs), "
                                       f"but got {res}.")
                args, kwargs = res
        else:
            res = hook(module, args)
            if res is not None:
                args = res if isinstance(res, tuple) else (res,)
    backward = (module._backward_hooks or module._backward_pre_hooks) and _mode.grad
    state = {"grad_output": None, "n_inputs": 0}
    if backward:
        args = _wrap_inputs(module, state, args)
    try:
        result = module.forward(*args, **kwargs)
    except Exception:
        for key, hook in list(module._forward_hooks.items()):
            if _flag(module, "_forward_hooks", "always_call", key):
                try:
                    hook(module, args, kwargs, None) if _flag(module, "_forward_hooks", "with_kwargs", key) \
                        else hook(module, args, None)
                except Exception:
                    pass
        raise
    for key, hook in list(module._forward_hooks.items()):
        res = hook(module, args, kwargs, result) if _flag(module, "_forward_hooks", "with_kwargs", key) \
            else hook(module, args, result)
        if res is not None:
            result = res
    if backward:
        result = _wrap_outputs(module, state, result)
    return result


def _call_backward_hooks(module, grad_input, grad_output):
    for hook in list(module._backward_hooks.values()):
        res = hook(module, grad_input, grad_output)
        if res is not None:
            res = tuple(res) if isinstance(res, (tuple, list)) else (res,)
            if len(res) != len(grad_input):
                raise RuntimeError(f"Backward hook returned an invalid number of grad_input, got {len(res)}, but "
                                   f"expected {len(grad_input)}")
            grad_input = res
    return grad_input


class _InputsHook(Function):
    """Identity on the module's tensor inputs; on the way back, calls the full backward hooks."""

    @staticmethod
    def forward(ctx, module, state, *xs):
        ctx.module, ctx.state = module, state
        ctx.set_materialize_grads(False)
        return xs

    @staticmethod
    def backward(ctx, *grads):
        grad_input = _call_backward_hooks(ctx.module, grads, ctx.state["grad_output"])
        return (None, None) + tuple(grad_input)


class _OutputsHook(Function):
    """Identity on the module's tensor outputs; on the way back, notes (and lets pre-hooks replace) grad_output."""

    @staticmethod
    def forward(ctx, module, state, *outs):
        ctx.module, ctx.state = module, state
        return outs

    @staticmethod
    def backward(ctx, *grads):
        for hook in list(ctx.module._backward_pre_hooks.values()):
            res = hook(ctx.module, grads)
            if res is not None:
                grads = tuple(res) if isinstance(res, (tuple, list)) else (res,)
        ctx.state["grad_output"] = grads
        if not ctx.state["inputs_tracked"] and ctx.module._backward_hooks:   # no input requires grad: Nones
            warnings.warn("Full backward hook is firing when gradients are computed with respect to module outputs "
                          "since no inputs require gradients. See https://docs.pytorch.org/docs/main/generated/"
                          "torch.nn.Module.html#torch.nn.Module.register_full_backward_hook for more details.",
                          stacklevel=2)
            _call_backward_hooks(ctx.module, (None,) * ctx.state["n_inputs"], grads)
        return (None, None) + tuple(grads)


def _wrap_inputs(module, state, args):
    at = [k for k, a in enumerate(args) if isinstance(a, Tensor)]
    state["n_inputs"] = len(at)
    state["inputs_tracked"] = any(args[k].requires_grad for k in at)
    if not state["inputs_tracked"]:
        return args
    wrapped = _InputsHook.apply(module, state, *[args[k] for k in at])
    wrapped = wrapped if isinstance(wrapped, tuple) else (wrapped,)
    args = list(args)
    for k, w in zip(at, wrapped):
        args[k] = w
    return tuple(args)


def _wrap_outputs(module, state, result):
    single = isinstance(result, Tensor)
    outs = (result,) if single else result
    if not isinstance(outs, (tuple, list)) or not any(isinstance(o, Tensor) and o.requires_grad for o in outs):
        return result
    at = [k for k, o in enumerate(outs) if isinstance(o, Tensor)]
    wrapped = _OutputsHook.apply(module, state, *[outs[k] for k in at])
    wrapped = wrapped if isinstance(wrapped, tuple) else (wrapped,)
    if single:
        return wrapped[0]
    outs = list(outs)
    for k, w in zip(at, wrapped):
        outs[k] = w
    return type(result)(outs)
