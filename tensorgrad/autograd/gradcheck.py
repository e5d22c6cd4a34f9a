"""gradcheck and gradgradcheck: a function's gradients against central finite differences, as torch's."""
import warnings

import numpy as np

from ..engine import Tensor
from ..gradients import grad
from ..modes import no_grad


class GradcheckError(RuntimeError):
    """Raised by gradcheck when the analytical and numerical gradients disagree."""


def _flat_outputs(out):
    outs = (out,) if isinstance(out, Tensor) else tuple(out)
    return [o for o in outs if isinstance(o, Tensor)]


def _numerical(func, inputs, k, eps):
    """d(outputs)/d(inputs[k]) by central differences: one (n_out, n_in) matrix per output."""
    x = inputs[k]._data
    flat = x.reshape(-1)                      # a view when x is contiguous; otherwise written back below
    columns = []
    for j in range(x.size):
        orig = flat[j].item()
        with no_grad():
            flat[j] = orig + eps
            x[...] = flat.reshape(x.shape)
            plus = [o._data.astype(np.float64).reshape(-1).copy() for o in _flat_outputs(func(*inputs))]
            flat[j] = orig - eps
            x[...] = flat.reshape(x.shape)
            minus = [o._data.astype(np.float64).reshape(-1).copy() for o in _flat_outputs(func(*inputs))]
            flat[j] = orig
            x[...] = flat.reshape(x.shape)
        columns.append([(p - m) / (2 * eps) for p, m in zip(plus, minus)])
    n_out = len(columns[0]) if columns else len(_flat_outputs(func(*inputs)))
    return [np.stack([c[i] for c in columns], axis=1) if columns else None for i in range(n_out)]


def _analytical(outs, inputs, k):
    """d(outputs)/d(inputs[k]) by backward passes, one per output element."""
    x = inputs[k]
    result = []
    for o in outs:
        jac = np.zeros((o.numel(), x.numel()))
        if o.requires_grad and o.dtype.kind == "f":
            for i in range(o.numel()):
                e = np.zeros(o.numel(), o.dtype)
                e[i] = 1
                g, = grad(o, x, Tensor._wrap(e.reshape(o.shape)), retain_graph=True, allow_unused=True)
                if g is not None:
                    jac[i] = g._data.reshape(-1)
        result.append(jac)
    return result


def gradcheck(func, inputs, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, nondet_tol: float = 0.0, check_undefined_grad: bool = True,
              check_grad_dtypes: bool = False, check_batched_grad: bool = False,
              check_batched_forward_grad: bool = False, check_forward_ad: bool = False,
              check_backward_ad: bool = True, fast_mode: bool = False, masked: bool | None = None) -> bool:
    """True if func's backward agrees with finite differences for every input that requires grad
    (|analytical - numerical| <= atol + rtol * |numerical|); else GradcheckError (or False when
    raise_exception=False). Use float64 inputs: float32 is too coarse for eps=1e-6."""
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    diff = [k for k, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not diff:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but none of the them "
                         "have requires_grad=True.")
    for k in diff:
        if inputs[k].dtype != np.float64:
            warnings.warn(f"Input #{k} requires gradient and is not a double precision floating point or complex. "
                          "This check will likely fail if all the inputs are not of double precision floating point "
                          "or complex. ")
    outs = _flat_outputs(func(*inputs))
    try:
        for k in diff:
            numerical = _numerical(func, inputs, k, eps)
            analytical = _analytical(outs, inputs, k)
            for i, (a, n) in enumerate(zip(analytical, numerical)):
                if n is not None and not np.allclose(a, n, rtol=rtol, atol=atol):
                    raise GradcheckError(f"Jacobian mismatch for output {i} with respect to input {k},\n"
                                         f"numerical:{n}\nanalytical:{a}\n")
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
                  gen_non_contig_grad_outputs: bool = False, raise_exception: bool = True, nondet_tol: float = 0.0,
                  check_undefined_grad: bool = True, check_grad_dtypes: bool = False,
                  check_batched_grad: bool = False, check_fwd_over_rev: bool = False, check_rev_over_rev: bool = True,
                  fast_mode: bool = False, masked: bool = False) -> bool:
    """gradcheck of the gradient itself: the second derivatives of func (through create_graph=True)
    against finite differences of its first. grad_outputs default to random ones that require grad."""
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    diff = [k for k, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    outs = _flat_outputs(func(*inputs))
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = tuple(Tensor._wrap(rng.standard_normal(o.shape).astype(o.dtype)).requires_grad_()
                             for o in outs if o.requires_grad)
    else:
        grad_outputs = (grad_outputs,) if isinstance(grad_outputs, Tensor) else tuple(grad_outputs)
    n = len(inputs)

    def first_derivatives(*args):
        xs, gs = args[:n], args[n:]
        ys = [o for o in _flat_outputs(func(*xs)) if o.requires_grad]
        got = grad(ys, [xs[k] for k in diff], list(gs), create_graph=True, allow_unused=True)
        return tuple(g for g in got if g is not None)

    return gradcheck(first_derivatives, inputs + tuple(grad_outputs), eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
