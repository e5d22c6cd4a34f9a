"""torch.autograd for tensorgrad: grad and backward, Function (new ops as classes), the functional
higher-order API (jacobian, hessian, vjp, jvp, hvp, vhp), gradcheck, and anomaly detection."""
from ..engine import Tensor, _accumulate, backprop as _backprop, vertex as _vertex
from ..gradients import grad as _grad
from ..modes import _mode, _Switch, enable_grad, no_grad, set_grad_enabled
from . import function, functional
from .function import Function, FunctionCtx, once_differentiable
from .gradcheck import GradcheckError, gradcheck, gradgradcheck


def grad(outputs, inputs, grad_outputs=None, retain_graph: bool | None = None, create_graph: bool = False,
         only_inputs: bool = True, allow_unused: bool | None = None, is_grads_batched: bool = False,
         materialize_grads: bool = False) -> tuple:
    """d(outputs)/d(inputs) as a tuple of Tensors, leaving every .grad alone (torch.autograd.grad).
    materialize_grads=True gives zeros, not None, for an input the outputs do not use."""
    if is_grads_batched:
        raise NotImplementedError("tensorgrad does not implement torch.autograd.grad(is_grads_batched=True)")
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when materialize_grads=True, "
                         "but got: allow_unused=False.")
    got = _grad(outputs, inputs, grad_outputs, retain_graph, create_graph,
                allow_unused=bool(allow_unused or materialize_grads))
    if materialize_grads:
        xs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
        got = tuple(Tensor._wrap(x._data * 0) if g is None else g for g, x in zip(got, xs))
    return got


def backward(tensors, grad_tensors=None, retain_graph: bool | None = None, create_graph: bool = False,
             inputs=None) -> None:
    """Accumulate into .grad the gradients of several outputs at once (torch.autograd.backward);
    grad_tensors gives one gradient per output (None for a scalar)."""
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    if grad_tensors is None or isinstance(grad_tensors, Tensor):
        grad_tensors = [grad_tensors] * len(tensors)
    grad_tensors = list(grad_tensors)
    if len(grad_tensors) != len(tensors):
        raise RuntimeError(f"grad can be implicitly created only for scalar outputs: got {len(grad_tensors)} "
                           f"gradients for {len(tensors)} tensors")
    if inputs is None:
        _backprop(tensors, grad_tensors, retain_graph, create_graph, inputs=None)
        return
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    got = _backprop(tensors, grad_tensors, retain_graph, create_graph, inputs)
    for t in inputs:
        if got[_vertex(t)] is not None:
            _accumulate(t, got[_vertex(t)])


class detect_anomaly(_Switch):
    """Within this block (or decorated call) every gradient is checked for NaN/Inf, and the error
    names the op and shows where its forward ran."""

    def __init__(self, check_nan: bool = True):
        super().__init__("anomaly", bool(check_nan))


class set_detect_anomaly(_Switch):
    """set_detect_anomaly(True) turns anomaly detection on from now on; as a with-block, until its end."""

    def __init__(self, mode: bool, check_nan: bool = True):
        super().__init__("anomaly", bool(mode) and bool(check_nan))
        super().__enter__()

    def __enter__(self):
        pass


def is_anomaly_enabled() -> bool:
    return bool(_mode.anomaly)


Variable = Tensor      # torch's old name: Variable(t) is the tensor itself nowadays

__all__ = ["Function", "FunctionCtx", "GradcheckError", "Variable", "backward", "detect_anomaly", "enable_grad",
           "function", "functional", "grad", "gradcheck", "gradgradcheck", "is_anomaly_enabled", "no_grad",
           "once_differentiable", "set_detect_anomaly", "set_grad_enabled"]


from ..missing import module_getattr as _module_getattr  # noqa: E402

__getattr__ = _module_getattr("torch.autograd")   # a missing name says which torch name it is
