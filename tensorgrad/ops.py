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

from .tensor import Tensor, _mode, apply

OPS: dict = {}     # name -> Op: every op, built in or added by a user
BUILTIN: set = set()  # the names of tensorgrad's own ops (filled once the package is imported)


class Op:
    """A primitive: a name, a forward on arrays, and a backward rule (None: not differentiable)."""

    def __init__(self, name: str, forward, backward=None):
        if name in BUILTIN:
            raise ValueError(f"op '{name}' is built into tensorgrad; give the new op another name")
        self.name, self.forward, self.backward = name, forward, backward
        OPS[name] = self

    def __call__(self, *args, **attrs):
        for a in args:
            if isinstance(a, Tensor):
                return apply(self, args, attrs)
        return self.forward(*args, **attrs)  # plain arrays: no tape

    def __repr__(self):
        return f"Op({self.name})"


def op(name: str, backward=None):
    """Decorator that adds a new op to the table from outside the package:

        @tg.op("softplus", backward=lambda g, out, x: g * tg.sigmoid(x))
        def softplus(x):
            return np.logaddexp(0, x)

    Written with tensorgrad functions, the rule also works under create_graph."""
    return lambda forward: Op(name, forward, backward)


def _kept(shape, axis) -> tuple:
    """The shape a reduction over `axis` has with keepdims=True."""
    if axis is None:
        return (1,) * len(shape)
    return tuple(1 if i in axis else n for i, n in enumerate(shape))


def _index_put(x, v, key, accumulate):
    if v.ndim and v.shape[0] == 1 and v.ndim > x[key].ndim:   # NumPy would drop v's leading 1s; torch refuses
        raise ValueError(f"values of shape {v.shape} cannot be broadcast to the indexed shape {x[key].shape}")
    out = x.copy()
    if accumulate:
        # repeated indices add up (out[key] += v would keep one). np.add.at adds one index at a
        # time in out's dtype, in index order: the sums torch and the lecture's loop make, bit for bit
        np.add.at(out, key, v)
    else:
        out[key] = v
    return out


@np.errstate(divide="ignore", invalid="ignore")
def _amax_backward(g, out, x, axis, keepdims):
    """amax's and amin's rule (torch's): tied extremes share g evenly; a NaN result, which no x
    equals, makes the gradient of its whole slice NaN (g / 0 * 0)."""
    out, g = out.reshape(_kept(x.shape, axis)), g.reshape(_kept(x.shape, axis))
    mask = x == out
    return g / mask.sum(axis=axis, keepdims=True).astype(g.dtype) * mask


def _max_backward(g, out, x):
    """max()'s and min()'s rule over all elements (torch's): ties share g evenly, and a NaN
    result sends it to the NaNs."""
    mask = np.isnan(np.asarray(x)) if np.isnan(np.asarray(out)) else x == out
    return where(mask, g / mask.sum().astype(g.dtype), 0)


def _maximum_backward(g, out, x, y):
    g = where(x == y, g / 2, g)        # a tie sends half each way; a NaN on either side, all of g to both
    return where(x < y, 0, g), where(y < x, 0, g)


def _minimum_backward(g, out, x, y):
    g = where(x == y, g / 2, g)
    return where(x > y, 0, g), where(y > x, 0, g)


def _where(c, x, y):
    if np.asarray(c).dtype != np.bool_:
        raise TypeError(f"the condition (mask) must be a bool tensor, got {np.asarray(c).dtype}")
    return np.where(c, x, y)


def _sign(x):
    """torch's sign: sign(nan) is 0 (NumPy's is nan), and a bool stays a bool."""
    if x.dtype.kind == "b":
        return x.copy()
    out = np.sign(x)
    if x.dtype.kind == "f":
        np.copyto(out, 0, where=np.isnan(out))     # (np.where would cost 3x more)
    return out


def _clamp_backward(g, out, x, min, max):
    """The gradient passes where min <= x <= max: not at NaN (out != x there), as torch, nor
    anywhere when min > max (torch then sets everything to max)."""
    return where(out == x if min is None or max is None or min <= max else np.array(False), g, 0)


def _cat_backward(g, out, *xs, axis):
    ends = np.cumsum([x.shape[axis] for x in xs])
    return tuple(g[(slice(None),) * axis + (slice(e - x.shape[axis], e),)] for x, e in zip(xs, ends))


def _float(a):
    """Integers become the default float dtype in ops whose result is a float (exp, div), as in torch."""
    return a.astype(_mode.default_dtype) if getattr(a, "dtype", None) is not None and a.dtype.kind in "biu" else a


@np.errstate(divide="ignore", invalid="ignore")       # 0 ** -0.5 is inf, as torch
def _pow_backward(g, out, x, c):
    return g * 0 if c == 0 else g * (c * x ** (c - 1))


@np.errstate(divide="ignore", invalid="ignore")       # 0 ** -1 is inf and (-2) ** 0.5 NaN, as torch
def _power(x, y):
    return np.power(x, y)


@np.errstate(divide="ignore", invalid="ignore")
def _pow_tensor_backward(g, out, x, y):
    """torch's rules: no gradient to x where y == 0; none to y where x == 0 and y >= 0."""
    return (where(y == 0, 0, g * (y * x ** (y - 1))),
            g * where(x == 0, where(y >= 0, 0, out * log(x)), out * log(x)))


# ----------------------------------------------------------------------------
# the table. forward on the left, d(out)/d(input) * g on the right

# elementwise, binary (the engine sums the gradient of a broadcast input)
add = Op("add", lambda x, y: x + y, lambda g, out, x, y: (g, g))
sub = Op("sub", lambda x, y: x - y, lambda g, out, x, y: (g, -g))
mul = Op("mul", lambda x, y: x * y, lambda g, out, x, y: (g * y, g * x))
div = Op("div", lambda x, y: _float(x) / _float(y), lambda g, out, x, y: (g / y, -g * (x / y / y)))
maximum = Op("maximum", np.maximum, _maximum_backward)
minimum = Op("minimum", np.minimum, _minimum_backward)
where = Op("where", _where, lambda g, out, c, x, y: (None, where(c, g, 0), where(c, 0, g)))

# elementwise, unary
neg = Op("neg", lambda x: -x, lambda g, out, x: -g)
pow = Op("pow", lambda x, c: x ** c, _pow_backward)  # c is a Python number
pow_tensor = Op("pow_tensor", _power, _pow_tensor_backward)  # y is a tensor
exp = Op("exp", lambda x: np.exp(_float(x)), lambda g, out, x: g * out)
log = Op("log", lambda x: np.log(_float(x)), lambda g, out, x: g / x)
tanh = Op("tanh", lambda x: np.tanh(_float(x)), lambda g, out, x: g * (1 - out * out))
sigmoid = Op("sigmoid", lambda x: np.exp(-np.logaddexp(0, -_float(x))), lambda g, out, x: g * (1 - out) * out)
abs = Op("abs", np.abs, lambda g, out, x: g * sign(x))
relu = Op("relu", lambda x: np.maximum(x, 0), lambda g, out, x: where(out <= 0, 0, g))  # torch: 0 at 0, g at NaN
clamp = Op("clamp", lambda x, min, max: np.clip(x, min, max), _clamp_backward)
cast = Op("cast", lambda x, dtype: x.astype(dtype), lambda g, out, x, dtype: cast(g, dtype=x.dtype))

# reductions: the adjoint of summing is replicating (expand)
sum = Op("sum", lambda x, axis, keepdims: np.sum(x, axis=axis, keepdims=keepdims),
         lambda g, out, x, axis, keepdims: expand(g.reshape(_kept(x.shape, axis)), shape=x.shape))
amax = Op("amax", lambda x, axis, keepdims: np.amax(x, axis=axis, keepdims=keepdims), _amax_backward)
amin = Op("amin", lambda x, axis, keepdims: np.amin(x, axis=axis, keepdims=keepdims), _amax_backward)
max = Op("max", np.max, _max_backward)            # of all elements; along a dim, functional.max gathers
min = Op("min", np.min, _max_backward)

# shapes: the adjoint of expanding is summing, done by the engine
expand = Op("expand", lambda x, shape: np.broadcast_to(x, shape), lambda g, out, x, shape: g)
reshape = Op("reshape", lambda x, shape: np.reshape(x, shape), lambda g, out, x, shape: g.reshape(x.shape))
permute = Op("permute", lambda x, axes: np.transpose(x, axes),
             lambda g, out, x, axes: permute(g, axes=tuple(np.argsort(axes))))
cat = Op("cat", lambda *xs, axis: np.concatenate(xs, axis), _cat_backward)

# linear algebra (2-D and batched; functional.matmul handles 1-D)
matmul = Op("matmul", np.matmul, lambda g, out, x, y: (g @ y.swapaxes(-1, -2), x.swapaxes(-1, -2) @ g))

# indexing: a gather's adjoint is a scatter-add, and a scatter-add's is a gather
getitem = Op("getitem", lambda x, key: x[key],
             lambda g, out, x, key: index_put(np.zeros(x.shape, g.dtype), g, key=key, accumulate=True))
index_put = Op("index_put", _index_put,
               lambda g, out, x, v, key, accumulate: (
                   g if accumulate else index_put(g, np.zeros((), g.dtype), key=key, accumulate=False),
                   g[key]))

# not differentiable: no backward, results never require grad
sign = Op("sign", _sign)
lt = Op("lt", np.less)
le = Op("le", np.less_equal)
gt = Op("gt", np.greater)
ge = Op("ge", np.greater_equal)
eq = Op("eq", np.equal)
ne = Op("ne", np.not_equal)
# a 0-d tensor's one dim is the whole tensor
argmax = Op("argmax", lambda x, axis, keepdims: np.argmax(x, axis=axis if x.ndim else None, keepdims=keepdims))
argmin = Op("argmin", lambda x, axis, keepdims: np.argmin(x, axis=axis if x.ndim else None, keepdims=keepdims))
