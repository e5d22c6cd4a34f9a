"""micrograd's Value on tensorgrad: a 0-d float64 tensor that requires grad.

`from tensorgrad import Value` runs micrograd code with only the import changed:

    a = Value(-4.0); b = Value(2.0)
    c = (a * b + b**3).relu()
    c.backward()
    print(a.data, a.grad)        # Python floats, as in micrograd

A Value is a Tensor (same tape, same rules, same backward walk). Two things differ
for micrograd's sake: `.data` and `.grad` read as floats (NumPy float64 scalars, which
are Python floats and still have the .shape and .dtype the engine reads), and every
result of an op on Values is again a Value that keeps its .grad after backward.
"""
import numpy as np

from .tensor import Tensor


def _as_value(t: Tensor) -> "Value":
    """The Tensor an op returned, as a Value: the same node, with the same inputs and rule."""
    v = object.__new__(Value)
    state = dict(vars(t))
    v._array = state.pop("data")
    v.__dict__.update(state)
    v._retains_grad = True          # micrograd keeps the gradient of every node
    return v


class Value(Tensor):
    """A scalar that requires grad, with micrograd's API (data, grad, relu, tanh, exp, **, backward)."""

    def __init__(self, data, _children=(), _op: str = "", label: str = ""):
        # _children and _op are accepted for micrograd's signature; the tape records its own
        super().__init__(float(data.item() if isinstance(data, Tensor) else data), dtype=np.float64,
                         requires_grad=True, name=label or None)

    # .data and .grad as floats; the array behind .data stays 0-d for the engine
    @property
    def data(self) -> float:
        return self._array[()]

    @data.setter
    def data(self, value):
        self._array = np.array(value, dtype=np.float64)

    @property
    def grad(self) -> float:
        return np.float64(0.0) if self._grad is None else self._grad[()]

    @grad.setter
    def grad(self, value):
        self._grad = None if value is None else np.array(value, dtype=np.float64)

    _grad = None

    @property
    def label(self) -> str:
        return self.name or ""

    @label.setter
    def label(self, value: str):
        self.name = value

    def __array__(self, dtype=None, copy=None):
        return self._array if dtype is None else self._array.astype(dtype)

    def __repr__(self):
        return f"Value(data={self.data}, grad={self.grad})"

    # every op on Values gives a Value (Tensor's operators, results re-labelled)
    def __add__(self, other): return _as_value(super().__add__(other))
    def __radd__(self, other): return _as_value(super().__radd__(other))
    def __sub__(self, other): return _as_value(super().__sub__(other))
    def __rsub__(self, other): return _as_value(super().__rsub__(other))
    def __mul__(self, other): return _as_value(super().__mul__(other))
    def __rmul__(self, other): return _as_value(super().__rmul__(other))
    def __truediv__(self, other): return _as_value(super().__truediv__(other))
    def __rtruediv__(self, other): return _as_value(super().__rtruediv__(other))
    def __neg__(self): return _as_value(super().__neg__())
    def __pow__(self, other): return _as_value(super().__pow__(other))
    def __rpow__(self, other): return _as_value(super().__rpow__(other))
    def relu(self): return _as_value(super().relu())
    def tanh(self): return _as_value(super().tanh())
    def exp(self): return _as_value(super().exp())
    def log(self): return _as_value(super().log())
    def sigmoid(self): return _as_value(super().sigmoid())

    def backward(self, gradient=None, retain_graph: bool | None = True, create_graph: bool = False) -> None:
        """Backpropagate from this Value. The graph is kept (micrograd never frees it), so
        calling backward twice adds the gradients again, as micrograd does."""
        super().backward(gradient, retain_graph=retain_graph, create_graph=create_graph)
