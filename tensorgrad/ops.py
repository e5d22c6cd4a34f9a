"""The op table: every primitive once, its forward and its backward rule side by side.

A forward takes NumPy arrays (and keyword attributes such as axis) and returns an array.
A backward takes (g, out, *inputs, **attrs) and returns one gradient per input, None
where there is none. Rules never un-broadcast: the engine sums a gradient down to its
input's shape (tensor.py, _fit), which is the adjoint of broadcasting.

Calling an op on plain arrays just runs its forward; on tensors it is recorded. So the
same rule runs on arrays in a normal backward and on tensors under create_graph=True,
where its own ops are recorded and can be differentiated again.
"""
import math

import numpy as np

from .conventions import TwoStep
from .tensor import Tensor, _mode, apply

OPS: dict = {}     # name -> Op: every op, built in or added by a user
BUILTIN: set = set()  # the names of tensorgrad's own ops (filled once the package is imported)


class Op:
    """A primitive: a name, a forward on arrays, a backward rule (None: not differentiable), and
    `adjoint`, the rule in a few words, which drawings and docs/ops.md show.

    saves: what the rule reads, so what an in-place write may not change before backward, and
    whether backward frees the node: "inputs", "out", "all" (the default) or "" (add's rule
    reads nothing: a second backward through it works, as in torch). save=True: the forward
    returns (out, saved) and the rule gets saved= (values the forward computed anyway).
    view=True: the result may share the input's storage (reshape, permute, basic slicing)."""

    def __init__(self, name: str, forward, backward=None, adjoint: str = "", saves: str = "all",
                 save: bool = False, view: bool = False):
        if name in BUILTIN:
            raise ValueError(f"op '{name}' is built into tensorgrad; give the new op another name")
        if saves not in ("", "inputs", "out", "all"):
            raise ValueError(f"op '{name}': saves must be '', 'inputs', 'out' or 'all', got {saves!r}")
        self.name, self.forward, self.backward, self.adjoint = name, forward, backward, adjoint
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


def op(name: str, backward=None, adjoint: str = "", saves: str = "all"):
    """Decorator that adds a new op to the table from outside the package:

        @tg.op("softplus", backward=lambda g, out, x: g * tg.sigmoid(x), adjoint="g * sigmoid(x)")
        def softplus(x):
            return np.logaddexp(0, x)

    Written with tensorgrad functions, the rule also works under create_graph."""
    return lambda forward: Op(name, forward, backward, adjoint, saves=saves)


def _kept(shape, axis) -> tuple:
    """The shape a reduction over `axis` has with keepdims=True."""
    if axis is None:
        return (1,) * len(shape)
    return tuple(1 if i in axis else n for i, n in enumerate(shape))


def take(x, key):
    """x[key], for NumPy keys and for torch's two-step ones (conventions.TwoStep: ints first)."""
    return x[key.first][key.then] if isinstance(key, TwoStep) else x[key]


def put(out, key, v, accumulate=False):
    """out[key] = v, or += with repeated indices adding up, in place."""
    if isinstance(key, TwoStep):
        out, key = out[key.first], key.then            # a view: writing it writes out
    if accumulate and _basic(key):
        out[key] += v                                   # slices and ints repeat nothing: a plain add
    elif accumulate:
        # out[key] += v would keep one of repeated indices. np.add.at adds one index at a time in
        # out's dtype, in index order: the sums torch and the lecture's loop make, bit for bit
        np.add.at(out, key, v)
    else:
        out[key] = v


def _basic(key) -> bool:
    """A key of slices, ints, None and ... only (NumPy's basic indexing: a view, no repeats)."""
    return all([isinstance(k, (slice, int, type(None), type(Ellipsis))) and not isinstance(k, bool)
                for k in (key if isinstance(key, tuple) else (key,))])


def _index_put(x, v, key, accumulate):
    if v.ndim and v.shape[0] == 1 and v.ndim > take(x, key).ndim:   # NumPy drops v's leading 1s; torch refuses
        raise ValueError(f"values of shape {v.shape} cannot be broadcast to the indexed shape {take(x, key).shape}")
    out = x.copy()
    put(out, key, v, accumulate)
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
    dtype = c.dtype if type(c) is np.ndarray else np.asarray(c).dtype
    if dtype != np.bool_:
        raise TypeError(f"the condition (mask) must be a bool tensor, got {dtype}")
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


def _erf(x):
    """NumPy has no erf: the C library's (math.erf), element by element."""
    return np.asarray(np.frompyfunc(math.erf, 1, 1)(x)).astype(x.dtype)


@np.errstate(divide="ignore", invalid="ignore")
def _pow_tensor_backward(g, out, x, y):
    """torch's rules: no gradient to x where y == 0; none to y where x == 0 and y >= 0."""
    return (where(y == 0, 0, g * (y * x ** (y - 1))),
            g * where(x == 0, where(y >= 0, 0, out * log(x)), out * log(x)))


def _quiet(f):
    """An elementwise forward whose inf or NaN results (log2(0), asin(2), expm1(800), x % 0) are
    the answers torch gives, not warnings."""
    return np.errstate(divide="ignore", invalid="ignore", over="ignore")(f)


def _math(f):
    """A float-valued elementwise forward: integers become the default float dtype first."""
    return _quiet(lambda *xs: f(*[_float(x) for x in xs]))


def _rounded(f):
    """floor, ceil, round, trunc: integers pass through unchanged, as in torch."""
    return lambda x, **kw: f(x, **kw) if x.dtype.kind == "f" else x.copy()


def _zero(g, out, x, **attrs):
    return np.zeros(np.shape(g), g.dtype)          # torch's zeros_like(grad): even where g is inf


def _flip(a, axis):
    return a[(slice(None),) * axis + (slice(None, None, -1),)]


def _cumprod_backward(g, out, x, axis):
    """dx_i = sum over k >= i of g_k * prod_{j <= k, j != i} x_j. Without zeros that is a reversed
    cumsum of g * out, divided by x_i; with zeros, the products come from n cumprods of x, the
    i-th with x_i set to 1 (O(n^2) along the axis, exact)."""
    if not (np.asarray(x) == 0).any():
        return _flip(cumsum(_flip(g * out, axis), axis=axis), axis) / x
    n, last = x.shape[axis], x.ndim
    order = tuple(d for d in range(x.ndim) if d != axis) + (axis,)
    xs, gs = permute(x, axes=order), permute(g, axes=order)       # the axis last: (..., n)
    eye = np.eye(n, dtype=bool)
    prods = cumprod(where(eye, 1, expand(xs[..., None, :], shape=xs.shape[:-1] + (n, n))), axis=last)
    dx = sum(where(np.triu(np.ones((n, n), bool)), prods, 0) * gs[..., None, :], axis=(last,), keepdims=False)
    return permute(dx, axes=tuple(np.argsort(order)))


def _einsum_backward(g, out, *xs, eq):
    """The adjoint of a contraction is a contraction: input i's gradient is the einsum of g with
    the other inputs into input i's subscripts. A letter only input i has (summed away) comes
    back through a ones vector; a repeated letter (a diagonal) through an identity matrix."""
    ins, target = eq.split("->")
    ins = ins.split(",")
    free = iter(sorted(set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") - set(eq)))
    grads = []
    for i, (x, sub) in enumerate(zip(xs, ins)):
        others = [(s, y) for j, (s, y) in enumerate(zip(ins, xs)) if j != i]
        subs, operands, want = [target] + [s for s, _ in others], [g] + [y for _, y in others], ""
        for letter, n in zip(sub, x.shape):
            if letter in want:                                   # a diagonal: g meets an identity
                fresh = next(free)
                subs.append(letter + fresh)
                operands.append(np.eye(n, dtype=g.dtype))
                letter = fresh
            elif letter not in "".join(subs):                    # summed away: g is replicated
                subs.append(letter)
                operands.append(np.ones(n, g.dtype))
            want += letter
        grads.append(einsum(*operands, eq=",".join(subs) + "->" + want))
    return tuple(grads)


# ----------------------------------------------------------------------------
# the table: forward, backward (one gradient per input, d(out)/d(input) * g), and the adjoint in words

# elementwise, binary (the engine sums the gradient of a broadcast input)
add = Op("add", lambda x, y: x + y, lambda g, out, x, y: (g, g), "g, g", saves="")
sub = Op("sub", lambda x, y: x - y, lambda g, out, x, y: (g, -g), "g, -g", saves="")
mul = Op("mul", lambda x, y: x * y, lambda g, out, x, y: (g * y, g * x), "g * y, g * x", saves="inputs")
div = Op("div", lambda x, y: _float(x) / _float(y), lambda g, out, x, y: (g / y, -g * (x / y / y)),
         "g / y, -g * x / y**2", saves="inputs")
maximum = Op("maximum", np.maximum, _maximum_backward, "g to the larger input (a tie: half each)", saves="inputs")
minimum = Op("minimum", np.minimum, _minimum_backward, "g to the smaller input (a tie: half each)", saves="inputs")
where = Op("where", _where, lambda g, out, c, x, y: (None, where(c, g, 0), where(c, 0, g)), "g where c, 0 elsewhere",
           saves="inputs")
atan2 = Op("atan2", _math(np.arctan2),
           lambda g, out, y, x: (g * x / (x * x + y * y), -g * y / (x * x + y * y)),
           "g * x / r**2, -g * y / r**2", saves="inputs")
logaddexp = Op("logaddexp", _math(np.logaddexp),
               lambda g, out, x, y: (g / (1 + exp(y - x)), g / (1 + exp(x - y))),
               "g * softmax of (x, y)", saves="inputs")
remainder = Op("remainder", _quiet(np.remainder), lambda g, out, x, y: (g, -g * floor_divide(x, y)),
                "g, -g * floor(x / y)", saves="inputs")
fmod = Op("fmod", _quiet(np.fmod), lambda g, out, x, y: (g, -g * trunc(x / y)), "g, -g * trunc(x / y)",
           saves="inputs")

# elementwise, unary
neg = Op("neg", lambda x: -x, lambda g, out, x: -g, "-g", saves="")
pow = Op("pow", lambda x, c: x ** c, _pow_backward, "g * c * x**(c-1)", saves="inputs")  # c is a Python number
pow_tensor = Op("pow_tensor", _quiet(np.power), _pow_tensor_backward,  # y is a tensor
                "g * y * x**(y-1), g * out * log(x)")
exp = Op("exp", lambda x: np.exp(_float(x)), lambda g, out, x: g * out, "g * out", saves="out")
exp2 = Op("exp2", _math(np.exp2), lambda g, out, x: g * out * math.log(2), "g * out * ln 2", saves="out")
expm1 = Op("expm1", _math(np.expm1), lambda g, out, x: g * (out + 1), "g * (out + 1)", saves="out")
log = Op("log", lambda x: np.log(_float(x)), lambda g, out, x: g / x, "g / x", saves="inputs")
log2 = Op("log2", _math(np.log2), lambda g, out, x: g / (x * math.log(2)), "g / (x ln 2)", saves="inputs")
log10 = Op("log10", _math(np.log10), lambda g, out, x: g / (x * math.log(10)), "g / (x ln 10)", saves="inputs")
log1p = Op("log1p", _math(np.log1p), lambda g, out, x: g / (x + 1), "g / (1 + x)", saves="inputs")
sin = Op("sin", _math(np.sin), lambda g, out, x: g * cos(x), "g * cos(x)", saves="inputs")
cos = Op("cos", _math(np.cos), lambda g, out, x: -g * sin(x), "-g * sin(x)", saves="inputs")
tan = Op("tan", _math(np.tan), lambda g, out, x: g * (1 + out * out), "g * (1 + out**2)", saves="out")
asin = Op("asin", _math(np.arcsin), lambda g, out, x: g * (1 - x * x) ** -0.5, "g / sqrt(1 - x**2)",
           saves="inputs")
acos = Op("acos", _math(np.arccos), lambda g, out, x: -g * (1 - x * x) ** -0.5, "-g / sqrt(1 - x**2)",
           saves="inputs")
atan = Op("atan", _math(np.arctan), lambda g, out, x: g / (1 + x * x), "g / (1 + x**2)", saves="inputs")
sinh = Op("sinh", _math(np.sinh), lambda g, out, x: g * cosh(x), "g * cosh(x)", saves="inputs")
cosh = Op("cosh", _math(np.cosh), lambda g, out, x: g * sinh(x), "g * sinh(x)", saves="inputs")
tanh = Op("tanh", lambda x: np.tanh(_float(x)), lambda g, out, x: g * (1 - out * out), "g * (1 - out**2)",
           saves="out")
asinh = Op("asinh", _math(np.arcsinh), lambda g, out, x: g * (x * x + 1) ** -0.5, "g / sqrt(x**2 + 1)",
            saves="inputs")
acosh = Op("acosh", _math(np.arccosh), lambda g, out, x: g * (x * x - 1) ** -0.5, "g / sqrt(x**2 - 1)",
            saves="inputs")
atanh = Op("atanh", _math(np.arctanh), lambda g, out, x: g / (1 - x * x), "g / (1 - x**2)", saves="inputs")
erf = Op("erf", _math(_erf), lambda g, out, x: g * (2 / math.sqrt(math.pi)) * exp(-x * x),
         "g * 2/sqrt(pi) * exp(-x**2)", saves="inputs")
sigmoid = Op("sigmoid", lambda x: np.exp(-np.logaddexp(0, -_float(x))), lambda g, out, x: g * (1 - out) * out,
             "g * out * (1 - out)", saves="out")
abs = Op("abs", np.abs, lambda g, out, x: g * sign(x), "g * sign(x)", saves="inputs")
relu = Op("relu", lambda x: np.maximum(x, 0), lambda g, out, x: where(out <= 0, 0, g),   # torch: 0 at 0, g at NaN
          "g where out > 0", saves="out")
clamp = Op("clamp", lambda x, min, max: np.clip(x, min, max), _clamp_backward, "g where min <= x <= max")
cast = Op("cast", lambda x, dtype: x.astype(dtype), lambda g, out, x, dtype: cast(g, dtype=x.dtype), "cast g back",
           saves="")
# piecewise constant: the gradient is 0 (not an error), as in torch
sign = Op("sign", _sign, _zero, "0", saves="")
floor = Op("floor", _rounded(np.floor), _zero, "0", saves="")
ceil = Op("ceil", _rounded(np.ceil), _zero, "0", saves="")
round = Op("round", _rounded(np.round), _zero, "0", saves="")     # half to even, as torch; attr decimals
trunc = Op("trunc", _rounded(np.trunc), _zero, "0", saves="")

# reductions and scans: the adjoint of summing is replicating (expand)
sum = Op("sum", lambda x, axis, keepdims: np.sum(x, axis=axis, keepdims=keepdims),
         lambda g, out, x, axis, keepdims: expand(g.reshape(_kept(x.shape, axis)), shape=x.shape),
         "replicate (expand) g", saves="")
amax = Op("amax", lambda x, axis, keepdims: np.amax(x, axis=axis, keepdims=keepdims), _amax_backward,
          "g to the max (ties share)")
amin = Op("amin", lambda x, axis, keepdims: np.amin(x, axis=axis, keepdims=keepdims), _amax_backward,
          "g to the min (ties share)")
max = Op("max", np.max, _max_backward, "g to the max (ties share)")    # of all elements; along a dim,
min = Op("min", np.min, _max_backward, "g to the min (ties share)")    # functional.max gathers
cumsum = Op("cumsum", lambda x, axis: np.cumsum(x, axis=axis),
            lambda g, out, x, axis: _flip(cumsum(_flip(g, axis), axis=axis), axis), "reversed cumsum of g",
            saves="")
cumprod = Op("cumprod", lambda x, axis: np.cumprod(x, axis=axis), _cumprod_backward,
             "reversed cumsum of g * out, / x")

# shapes: the adjoint of expanding is summing, done by the engine
expand = Op("expand", lambda x, shape: np.broadcast_to(x, shape), lambda g, out, x, shape: g, "sum (un-broadcast) g",
             saves="", view=True)
reshape = Op("reshape", lambda x, shape: np.reshape(x, shape), lambda g, out, x, shape: g.reshape(x.shape),
             "reshape g back", saves="", view=True)
permute = Op("permute", lambda x, axes: np.transpose(x, axes),
             lambda g, out, x, axes: permute(g, axes=tuple(np.argsort(axes))), "inverse permute of g",
             saves="", view=True)
cat = Op("cat", lambda *xs, axis: np.concatenate(xs, axis), _cat_backward, "split g", saves="")

# linear algebra (2-D and batched; functional.matmul handles 1-D). A contraction's adjoint is a contraction.
matmul = Op("matmul", np.matmul, lambda g, out, x, y: (g @ y.swapaxes(-1, -2), x.swapaxes(-1, -2) @ g),
            "matmul with transpose: g @ y.T, x.T @ g", saves="inputs")
einsum = Op("einsum", lambda *xs, eq: np.einsum(eq, *xs, optimize=len(xs) > 1), _einsum_backward,
            "einsum of g with the other inputs", saves="inputs")

# indexing: a gather's adjoint is a scatter-add, and a scatter-add's is a gather
getitem = Op("getitem", take,
             lambda g, out, x, key: index_put(np.zeros(x.shape, g.dtype), g, key=key, accumulate=True),
             "scatter-add g", saves="", view=True)
index_put = Op("index_put", _index_put,
               lambda g, out, x, v, key, accumulate: (
                   g if accumulate else index_put(g, np.zeros((), g.dtype), key=key, accumulate=False),
                   take(g, key)), "g, gather g[key]", saves="")

# not differentiable: no backward, results never require grad
lt = Op("lt", np.less)
le = Op("le", np.less_equal)
gt = Op("gt", np.greater)
ge = Op("ge", np.greater_equal)
eq = Op("eq", np.equal)
ne = Op("ne", np.not_equal)
isnan = Op("isnan", np.isnan)
isinf = Op("isinf", np.isinf)
isfinite = Op("isfinite", np.isfinite)
floor_divide = Op("floor_divide", _quiet(np.floor_divide))
# a 0-d tensor's one dim is the whole tensor
argmax = Op("argmax", lambda x, axis, keepdims: np.argmax(x, axis=axis if x.ndim else None, keepdims=keepdims))
argmin = Op("argmin", lambda x, axis, keepdims: np.argmin(x, axis=axis if x.ndim else None, keepdims=keepdims))
all_ = Op("all", lambda x, axis, keepdims: np.all(x, axis=axis, keepdims=keepdims))
any_ = Op("any", lambda x, axis, keepdims: np.any(x, axis=axis, keepdims=keepdims))
argsort = Op("argsort", lambda x, axis: np.argsort(x, axis=axis, kind="stable"))
bitwise_not = Op("bitwise_not", np.invert)           # ~mask: logical not on bools
bitwise_and = Op("bitwise_and", np.bitwise_and)
bitwise_or = Op("bitwise_or", np.bitwise_or)
bitwise_xor = Op("bitwise_xor", np.bitwise_xor)
