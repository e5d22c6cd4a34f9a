"""The op table: every primitive once, its forward and its backward rule side by side.

A forward takes NumPy arrays (and keyword attributes such as axis) and returns an array.
A backward takes (g, out, *inputs, **attrs) and returns one gradient per input, None
where there is none. Rules never un-broadcast: the engine sums a gradient down to its
input's shape (tensor.py, _fit), which is the adjoint of broadcasting.

Calling an op on plain arrays just runs its forward; on tensors it is recorded. So the
same rule runs on arrays in a normal backward and on tensors under create_graph=True,
where its own ops are recorded and can be differentiated again.
"""
import numpy as np

from .conventions import TwoStep
from .tensor import Tensor, _mode, apply

OPS: dict = {}     # name -> Op: every op, built in or added by a user
BUILTIN: set = set()  # the names of tensorgrad's own ops (filled once the package is imported)


class Op:
    """A primitive: a name, a forward on arrays, and a backward rule (None: not differentiable).

    saves: what the rule reads, so what an in-place write may not change before backward, and
    whether backward frees the node: "inputs", "out", "all" (the default) or "" (add's rule
    reads nothing: a second backward through it works, as in torch). save=True: the forward
    returns (out, saved) and the rule gets saved= (values the forward computed anyway).
    view=True: the result may share the input's storage (reshape, permute, basic slicing)."""

    def __init__(self, name: str, forward, backward=None, saves: str = "all", save: bool = False,
                 view: bool = False):
        if name in BUILTIN:
            raise ValueError(f"op '{name}' is built into tensorgrad; give the new op another name")
        if saves not in ("", "inputs", "out", "all"):
            raise ValueError(f"op '{name}': saves must be '', 'inputs', 'out' or 'all', got {saves!r}")
        self.name, self.forward, self.backward = name, forward, backward
        self.saves, self.save, self.view = saves if backward is not None else "", save, view
        OPS[name] = self

    def __call__(self, *args, **attrs):
        for a in args:
            if isinstance(a, Tensor):
                return apply(self, args, attrs)
        out = self.forward(*args, **attrs)  # plain arrays: no tape
        return out[0] if self.save else out

    def __repr__(self):
        return f"Op({self.name})"


def op(name: str, backward=None, saves: str = "all"):
    """Decorator that adds a new op to the table from outside the package:

        @tg.op("softplus", backward=lambda g, out, x: g * tg.sigmoid(x))
        def softplus(x):
            return np.logaddexp(0, x)

    Written with tensorgrad functions, the rule also works under create_graph."""
    return lambda forward: Op(name, forward, backward, saves=saves)


def _kept(shape, axis) -> tuple:
    """The shape a reduction over `axis` has with keepdims=True."""
    if axis is None:
        return (1,) * len(shape)
    return tuple(1 if i in axis else n for i, n in enumerate(shape))


def take(x, key):
    """x[key], for NumPy keys and for torch's two-step ones (tensor.TwoStep: ints first)."""
    return x[key.first][key.then] if isinstance(key, TwoStep) else x[key]


def put(out, key, v, accumulate=False):
    """out[key] = v, or += with repeated indices adding up, in place."""
    if isinstance(key, TwoStep):
        out, key = out[key.first], key.then            # a view: writing it writes out
    if accumulate:
        # out[key] += v would keep one of repeated indices. np.add.at adds one index at a time in
        # out's dtype, in index order: the sums torch and the lecture's loop make, bit for bit
        np.add.at(out, key, v)
    else:
        out[key] = v


def _index_put(x, v, key, accumulate):
    out = x.copy()
    put(out, key, v, accumulate)
    return out


def _amax_backward(g, out, x, axis, keepdims):
    out, g = out.reshape(_kept(x.shape, axis)), g.reshape(_kept(x.shape, axis))
    mask = x == out
    count = mask.sum(axis=axis, keepdims=True).astype(g.dtype)
    return where(mask, g / count, 0)                # tied maxima share the gradient evenly


def _cat_backward(g, out, *xs, axis):
    ends = np.cumsum([x.shape[axis] for x in xs])
    return tuple(g[(slice(None),) * axis + (slice(e - x.shape[axis], e),)] for x, e in zip(xs, ends))


def _float(a):
    """Integers become the default float dtype in ops whose result is a float (exp, div), as in torch."""
    return a.astype(_mode.default_dtype) if getattr(a, "dtype", None) is not None and a.dtype.kind in "biu" else a


def _pow_backward(g, out, x, c):
    return g * 0 if c == 0 else g * (c * x ** (c - 1))


def _pow_tensor_backward(g, out, x, y):
    """torch's rules: no gradient to x where y == 0; none to y where x == 0 and y >= 0."""
    return (where(y == 0, 0, g * (y * x ** (y - 1))),
            g * where(x == 0, where(y >= 0, 0, out * log(x)), out * log(x)))


# ----------------------------------------------------------------------------
# the table. forward on the left, d(out)/d(input) * g on the right

# elementwise, binary (the engine sums the gradient of a broadcast input)
add = Op("add", lambda x, y: x + y, lambda g, out, x, y: (g, g), saves="")
sub = Op("sub", lambda x, y: x - y, lambda g, out, x, y: (g, -g), saves="")
mul = Op("mul", lambda x, y: x * y, lambda g, out, x, y: (g * y, g * x), saves="inputs")
div = Op("div", lambda x, y: _float(x) / _float(y), lambda g, out, x, y: (g / y, -g * (x / y / y)), saves="inputs")
maximum = Op("maximum", np.maximum,                   # a tie sends half the gradient each way, as torch
             lambda g, out, x, y: (where(x > y, g, where(x == y, g / 2, 0)),
                                   where(y > x, g, where(x == y, g / 2, 0))), saves="inputs")
where = Op("where", np.where, lambda g, out, c, x, y: (None, where(c, g, 0), where(c, 0, g)), saves="inputs")

# elementwise, unary
neg = Op("neg", lambda x: -x, lambda g, out, x: -g, saves="")
pow = Op("pow", lambda x, c: x ** c, _pow_backward, saves="inputs")  # c is a Python number
pow_tensor = Op("pow_tensor", lambda x, y: np.power(x, y), _pow_tensor_backward)  # y is a tensor
exp = Op("exp", lambda x: np.exp(_float(x)), lambda g, out, x: g * out, saves="out")
log = Op("log", lambda x: np.log(_float(x)), lambda g, out, x: g / x, saves="inputs")
tanh = Op("tanh", lambda x: np.tanh(_float(x)), lambda g, out, x: g * (1 - out * out), saves="out")
sigmoid = Op("sigmoid", lambda x: np.exp(-np.logaddexp(0, -_float(x))), lambda g, out, x: g * (1 - out) * out, saves="out")
abs = Op("abs", np.abs, lambda g, out, x: g * sign(x), saves="inputs")
cast = Op("cast", lambda x, dtype: x.astype(dtype), lambda g, out, x, dtype: cast(g, dtype=x.dtype), saves="")

# reductions: the adjoint of summing is replicating (expand)
sum = Op("sum", lambda x, axis, keepdims: np.sum(x, axis=axis, keepdims=keepdims),
         lambda g, out, x, axis, keepdims: expand(g.reshape(_kept(x.shape, axis)), shape=x.shape), saves="")
amax = Op("amax", lambda x, axis, keepdims: np.amax(x, axis=axis, keepdims=keepdims), _amax_backward)

# shapes: the adjoint of expanding is summing, done by the engine
expand = Op("expand", lambda x, shape: np.broadcast_to(x, shape), lambda g, out, x, shape: g, saves="", view=True)
reshape = Op("reshape", lambda x, shape: np.reshape(x, shape), lambda g, out, x, shape: g.reshape(x.shape),
             saves="", view=True)
permute = Op("permute", lambda x, axes: np.transpose(x, axes),
             lambda g, out, x, axes: permute(g, axes=tuple(np.argsort(axes))), saves="", view=True)
cat = Op("cat", lambda *xs, axis: np.concatenate(xs, axis), _cat_backward, saves="")

# linear algebra (2-D and batched; functional.matmul handles 1-D)
matmul = Op("matmul", np.matmul, lambda g, out, x, y: (g @ y.swapaxes(-1, -2), x.swapaxes(-1, -2) @ g),
            saves="inputs")

# indexing: a gather's adjoint is a scatter-add, and a scatter-add's is a gather
getitem = Op("getitem", take,
             lambda g, out, x, key: index_put(np.zeros(x.shape, g.dtype), g, key=key, accumulate=True),
             saves="", view=True)
index_put = Op("index_put", _index_put,
               lambda g, out, x, v, key, accumulate: (
                   g if accumulate else index_put(g, np.zeros((), g.dtype), key=key, accumulate=False),
                   take(g, key)), saves="")

# not differentiable: no backward, results never require grad
sign = Op("sign", np.sign)
lt = Op("lt", np.less)
le = Op("le", np.less_equal)
gt = Op("gt", np.greater)
ge = Op("ge", np.greater_equal)
eq = Op("eq", np.equal)
ne = Op("ne", np.not_equal)
argmax = Op("argmax", lambda x, axis, keepdims: np.argmax(x, axis=axis, keepdims=keepdims))
argmin = Op("argmin", lambda x, axis, keepdims: np.argmin(x, axis=axis, keepdims=keepdims))
all = Op("all", lambda x, axis, keepdims: np.all(x, axis=axis, keepdims=keepdims))
any = Op("any", lambda x, axis, keepdims: np.any(x, axis=axis, keepdims=keepdims))
bitwise_not = Op("bitwise_not", np.invert)           # ~mask: logical not on bools
bitwise_and = Op("bitwise_and", np.bitwise_and)
bitwise_or = Op("bitwise_or", np.bitwise_or)
bitwise_xor = Op("bitwise_xor", np.bitwise_xor)
