"""tg.grad (torch.autograd.grad): the gradients of outputs with respect to chosen inputs, from the
engine's walk, without touching any .grad."""
from __future__ import annotations

import numpy as np

from .engine import Tensor, backprop, vertex


def grad(outputs, inputs, grad_outputs=None, retain_graph: bool | None = None,
         create_graph: bool = False, allow_unused: bool = False) -> tuple:
    """d(outputs)/d(inputs) as a tuple of Tensors, without touching any .grad.
    With create_graph=True the results are on the tape, so they can be differentiated again."""
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor) or not t._requires_grad:
            raise RuntimeError(f"grad: input {i} does not require grad (one of the differentiated Tensors "
                               "does not require grad)")
    if grad_outputs is None or isinstance(grad_outputs, (Tensor, np.ndarray)):
        grad_outputs = [grad_outputs] * len(outputs)
    got = backprop(outputs, list(grad_outputs), retain_graph, create_graph, inputs)
    result = []
    for i, t in enumerate(inputs):
        g = got[vertex(t)]
        if g is None and not allow_unused:
            raise RuntimeError(f"grad: input {i} (shape {t.shape}) was not used to compute the outputs; "
                               "pass allow_unused=True to get None for it")
        result.append(g if g is None or isinstance(g, Tensor) else Tensor._wrap(np.array(g)))
    return tuple(result)
