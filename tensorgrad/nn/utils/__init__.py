"""torch.nn.utils: clip gradients in place before an optimizer step; parameters as one vector."""
import math

import numpy as np

from ...functions import cat, tensor
from ...engine import Tensor
from ...modes import no_grad


def _grads(parameters) -> list:
    """The gradient tensors (the parameters without one are skipped)."""
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    return [p.grad for p in params if p.grad is not None]


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                    foreach: bool | None = None) -> Tensor:
    """Scale all the gradients by max_norm / (total_norm + 1e-6) when that is below 1, total_norm
    being the norm of all of them as one vector (norm_type inf: the largest |g|). Returns total_norm.
    (foreach, torch's choice of kernel, changes nothing here.)"""
    tensors = _grads(parameters)
    grads = [g.numpy() for g in tensors]
    if not grads:
        return tensor(0.0)
    norm_type = float(norm_type)
    if norm_type == math.inf:
        norms = [np.abs(g).max(initial=0) for g in grads]
        total = np.max(norms)
    else:
        norms = [np.linalg.norm(g.ravel(), ord=norm_type) for g in grads]
        total = np.linalg.norm(np.array(norms), ord=norm_type)
    total = np.asarray(total, dtype=np.result_type(*grads))
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it "
                           "cannot be clipped. To disable this error and scale the gradients by the non-finite norm "
                           "anyway, set `error_if_nonfinite=False`")
    coef = np.minimum(max_norm / (total + 1e-6), 1)      # never scales up; a NaN norm makes NaN grads, as torch
    with no_grad():                                      # as torch: the scaling is not recorded
        for g in tensors:
            g.mul_(coef.astype(g.dtype))
    return tensor(total)


def clip_grad_value_(parameters, clip_value: float, foreach: bool | None = None) -> None:
    """Clamp every gradient to [-clip_value, clip_value], in place."""
    with no_grad():
        for g in _grads(parameters):
            g.clamp_(-clip_value, clip_value)


def parameters_to_vector(parameters) -> Tensor:
    """All the parameters, flattened and concatenated, as one vector (with their graph: a view
    of each, then a cat)."""
    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec: Tensor, parameters) -> None:
    """Set the parameters' values from consecutive slices of vec (the inverse of parameters_to_vector)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    params = list(parameters)
    total = sum(p.numel() for p in params)
    if vec.numel() != total:
        raise RuntimeError(f"vector_to_parameters: the vector has {vec.numel()} elements, the parameters {total}")
    start = 0
    for p in params:
        n = p.numel()
        p.data = vec.detach().numpy()[start:start + n].reshape(p.shape).astype(p.dtype)
        start += n


from . import rnn  # noqa: E402,F401  (torch.nn.utils.rnn)
from ...missing import module_getattr as _module_getattr  # noqa: E402

__getattr__ = _module_getattr("torch.nn.utils")   # a missing name says which torch name it is
