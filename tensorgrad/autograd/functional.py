"""torch.autograd.functional: derivatives of a whole function at a point.

vjp and jacobian walk the tape backwards once per output element; jvp uses the double-vjp
trick (the vjp is linear in its vector u, so differentiating it by u gives J v); hessian,
vhp and hvp differentiate a gradient taken with create_graph=True."""
import numpy as np

from ..engine import Tensor
from ..gradients import grad
from ..modes import enable_grad


def _inputs(inputs, create_graph):
    """A tuple of fresh leaves on the inputs' values (their graph kept under create_graph, as torch)."""
    single = isinstance(inputs, Tensor)
    xs = (inputs,) if single else tuple(inputs)
    for i, x in enumerate(xs):
        if not isinstance(x, Tensor):
            raise TypeError(f"The inputs given to the function must be either a Tensor or a tuple of Tensors but "
                            f"the value at index {i} has type {type(x).__name__}.")
    fresh = []
    for x in xs:
        if create_graph and x.requires_grad:
            fresh.append(x.view_as(x))              # the same values, still differentiable back to x
        else:
            fresh.append(x.detach().requires_grad_(x.dtype.kind == "f"))
    return single, tuple(fresh)


def _outputs(out, what):
    single = isinstance(out, Tensor)
    outs = (out,) if single else tuple(out)
    for i, o in enumerate(outs):
        if not isinstance(o, Tensor):
            raise TypeError(f"The outputs of the user-provided function given to {what} must be either a Tensor or "
                            f"a tuple of Tensors but the value at index {i} has type {type(o).__name__}.")
    return single, outs


def _vectors(v, like, what, of: str = "the input to"):
    """v as a tuple of tensors shaped like `like`; v=None means ones, allowed for one single-element tensor
    (`of`: what `like` is, for torch's message: "the input to" or "returns" of the user's function)."""
    if v is None:
        if len(like) != 1 or like[0].numel() != 1:
            what_is = ("the user-provided function returns a single Tensor" if of == "returns" else
                       "the input to the user-provided function is a single Tensor")
            raise RuntimeError(f"The vector v can only be None if {what_is} with a single element.")
        return (Tensor._wrap(np.ones(like[0].shape, like[0].dtype)),)
    vs = (v,) if isinstance(v, Tensor) else tuple(v)
    if len(vs) != len(like):
        raise RuntimeError(f"The vector v given to {what} has {len(vs)} tensors; the {what} needs {len(like)}")
    for i, (a, b) in enumerate(zip(vs, like)):
        if a.shape != b.shape:
            raise RuntimeError(f"Mismatch in shape: entry {i} in v has size {tuple(a.shape)} but the "
                               f"corresponding entry has size {tuple(b.shape)}")
    return vs


def _grads(outs, xs, gs, create_graph, strict, what):
    """grad of outs w.r.t. xs, with zeros for an input the outputs do not depend on."""
    used = [o for o in outs if o.requires_grad]
    gs = [g for o, g in zip(outs, gs) if o.requires_grad]
    wanted = [x for x in xs if x.requires_grad]
    got = iter(grad(used, wanted, gs, retain_graph=True, create_graph=create_graph, allow_unused=True)
               if used and wanted else [None] * len(wanted))
    got = [next(got) if x.requires_grad else None for x in xs]
    result = []
    for i, (g, x) in enumerate(zip(got, xs)):
        if g is None:
            if strict:
                raise RuntimeError(f"The output of the user-provided function is independent of input {i}. This "
                                   f"is not allowed in strict mode.")
            g = Tensor._wrap(np.zeros(x.shape, x.dtype))
        result.append(g if create_graph else g.detach())
    return tuple(result)


def _pack(single, values):
    return values[0] if single else tuple(values)


def vjp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """(func(inputs), v^T J): the vector-Jacobian product at inputs."""
    single_in, xs = _inputs(inputs, create_graph)
    with enable_grad():
        single_out, outs = _outputs(func(*xs), "vjp")
        vs = _vectors(v, outs, "vjp", of="returns")
        g = _grads(outs, xs, vs, create_graph, strict, "vjp")
    return _pack(single_out, [o if create_graph else o.detach() for o in outs]), _pack(single_in, g)


def jvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """(func(inputs), J v): the Jacobian-vector product, by the double-vjp trick."""
    single_in, xs = _inputs(inputs, create_graph)
    with enable_grad():
        single_out, outs = _outputs(func(*xs), "jvp")
        vs = _vectors(v, xs, "jvp")
        us = tuple(Tensor._wrap(np.zeros(o.shape, o.dtype)).requires_grad_() for o in outs)
        g = _grads(outs, xs, us, True, strict, "jvp")          # u^T J, linear in u
        jv = _grads(g, us, vs, create_graph, strict, "jvp")   # d(u^T J v)/du = J v
    return _pack(single_out, [o if create_graph else o.detach() for o in outs]), _pack(single_out, jv)


def jacobian(func, inputs, create_graph: bool = False, strict: bool = False, vectorize: bool = False,
             strategy: str = "reverse-mode"):
    """The Jacobian of func at inputs: for one input and one output a Tensor of shape
    output.shape + input.shape; a tuple per output (of a tuple per input) otherwise."""
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError('Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your function '
                         'has more outputs than inputs, "forward-mode" tends to be more performant. Otherwise, prefer '
                         'to use "reverse-mode".')
    single_in, xs = _inputs(inputs, create_graph)
    with enable_grad():
        single_out, outs = _outputs(func(*xs), "jacobian")
        blocks = []
        for o in outs:
            rows = [[] for _ in xs]
            for j in range(o.numel()):
                e = np.zeros(o.numel(), o.dtype)
                e[j] = 1
                vs = tuple(Tensor._wrap(e.reshape(o.shape)) if p is o else Tensor._wrap(np.zeros(p.shape, p.dtype))
                           for p in outs)
                for i, g in enumerate(_grads(outs, xs, vs, create_graph, strict, "jacobian")):
                    rows[i].append(g.reshape(-1))
            per_input = []
            for i, x in enumerate(xs):
                if rows[i]:
                    from ..functions import stack
                    block = stack(rows[i]).reshape(tuple(o.shape) + tuple(x.shape))
                else:
                    block = Tensor._wrap(np.zeros(tuple(o.shape) + tuple(x.shape), x.dtype))
                per_input.append(block)
            blocks.append(_pack(single_in, per_input))
    return _pack(single_out, blocks)


def _scalar(out, what):
    if not isinstance(out, Tensor):
        raise RuntimeError(f"The function given to {what} should return a single Tensor")
    if out.numel() != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {what} should contain a single element")
    return out


def hessian(func, inputs, create_graph: bool = False, strict: bool = False, vectorize: bool = False,
            outer_jacobian_strategy: str = "reverse-mode"):
    """The Hessian of a scalar func at inputs: for one input a Tensor of shape input.shape * 2;
    a tuple of tuples (one block per pair of inputs) otherwise."""
    single_in = isinstance(inputs, Tensor)

    def gradient(*xs):
        out = _scalar(func(*xs), "hessian")
        g = _grads((out.reshape(()),), xs, (Tensor._wrap(np.ones((), out.dtype)),), True, strict, "hessian")
        return g[0] if single_in else g

    return jacobian(gradient, inputs, create_graph=create_graph, strict=strict, strategy=outer_jacobian_strategy)


def vhp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """(func(inputs), v^T H): the vector-Hessian product of a scalar func."""
    single_in, xs = _inputs(inputs, create_graph)
    with enable_grad():
        out = _scalar(func(*xs), "vhp")
        vs = _vectors(v, xs, "vhp")
        g = _grads((out,), xs, (Tensor._wrap(np.ones(out.shape, out.dtype)),), True, strict, "vhp")
        h = _grads(g, xs, vs, create_graph, strict, "vhp")
    return (out if create_graph else out.detach()), _pack(single_in, h)


def hvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """(func(inputs), H v): the Hessian-vector product of a scalar func (H is symmetric, so H v = (v^T H)^T)."""
    return vhp(func, inputs, v, create_graph, strict)
