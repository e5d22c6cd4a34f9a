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
import weakref

import numpy as np

from .engine import Tensor


def _as_value(t: Tensor) -> "Value":
    """The Tensor an op returned, as a Value: the same storage and the same node (a Value
    combined with a bigger tensor stays a Tensor)."""
    if t.ndim:
        return t
    v = object.__new__(Value)
    Tensor._init(v, t._data, t._vc)
    v._node, v._requires_grad = t._node, t._requires_grad
    if v._node is not None:
        v._node.retained = weakref.ref(v)       # micrograd keeps the gradient of every node
    return v


def _v(x) -> "Value":
    return x if isinstance(x, Tensor) else Value(x)   # constants are Values too, as in micrograd


class Value(Tensor):
    """A scalar that requires grad, with micrograd's API (data, grad, relu, tanh, exp, **, backward)."""

    def __init__(self, data, _children=(), _op: str = "", label: str = ""):
        # _children and _op are accepted for micrograd's signature; the tape records its own
        Tensor._init(self, np.array(float(data.item() if isinstance(data, Tensor) else data), dtype=np.float64))
        self._requires_grad, self.name = True, label or None

    # .data and .grad as floats
    @property
    def data(self) -> float:
        return float(self._data)

    @data.setter
    def data(self, value):
        self._data = np.array(float(value), dtype=np.float64)

    @property
    def grad(self) -> float:
        return 0.0 if self._grad is None else float(self._grad._data)

    @grad.setter
    def grad(self, value):
        self._grad = None if value is None else Tensor._wrap(np.array(float(value), dtype=np.float64))

    @property
    def label(self) -> str:
        return self.name or ""

    @label.setter
    def label(self, value: str):
        self.name = value

    def __repr__(self):
        return f"Value(data={self.data}, grad={self.grad})"

    # every op on Values gives a Value (Tensor's operators, results re-labelled)
    def __add__(self, other): return _as_value(Tensor.__add__(self, _v(other)))
    def __radd__(self, other): return _as_value(Tensor.__add__(_v(other), self))
    def __sub__(self, other): return _as_value(Tensor.__sub__(self, _v(other)))
    def __rsub__(self, other): return _as_value(Tensor.__sub__(_v(other), self))
    def __mul__(self, other): return _as_value(Tensor.__mul__(self, _v(other)))
    def __rmul__(self, other): return _as_value(Tensor.__mul__(_v(other), self))
    def __truediv__(self, other): return _as_value(Tensor.__truediv__(self, _v(other)))
    def __rtruediv__(self, other): return _as_value(Tensor.__truediv__(_v(other), self))
    __iadd__, __isub__, __imul__, __itruediv__ = __add__, __sub__, __mul__, __truediv__   # a new node, as micrograd
    def __neg__(self): return _as_value(super().__neg__())
    def __pow__(self, other): return _as_value(super().__pow__(other))
    def __rpow__(self, other): return _as_value(super().__rpow__(other))
    def relu(self): return _as_value(super().relu())
    def tanh(self): return _as_value(super().tanh())
    def exp(self): return _as_value(super().exp())
    def log(self): return _as_value(super().log())
    def sigmoid(self): return _as_value(super().sigmoid())

    def _backward(self) -> None:
        """micrograd's one-node step: add this node's grad times each local derivative into its
        children's .grad (the lecture's manual backprop: o.grad = 1.0; o._backward(); ...)."""
        if self._node is None:
            return
        for x, gx in zip(self._node.inputs, self._node.run(np.array(self.grad))):
            if gx is not None and isinstance(x, Value):
                x.grad = x.grad + float(np.sum(gx))

    def backward(self, gradient=None, retain_graph: bool | None = True, create_graph: bool = False) -> None:
        """Backpropagate from this Value. The graph is kept (micrograd never frees it), so
        calling backward twice adds the gradients again, as micrograd does."""
        super().backward(gradient, retain_graph=retain_graph, create_graph=create_graph)
