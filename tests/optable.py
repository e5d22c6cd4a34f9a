"""The op sample table (like PyTorch's OpInfo): one row per op and variant.

Each Sample runs the same function on tensorgrad and on torch: `fn(m, *inputs)` gets the
module (`tensorgrad` or `torch`) as `m`, so one lambda serves both; `tfn` is torch's
spelling where the two differ. Inputs are described by:
    R(*shape)  random floats that require grad (uniform in [low, high])
    V(values)  given floats that require grad (hand-built ties)
    K(values)  a constant: indices, masks, targets (no grad)
"""
from dataclasses import dataclass, field

import numpy as np


@dataclass
class R:
    shape: tuple
    low: float = -2.0
    high: float = 2.0

    def __init__(self, *shape, low=-2.0, high=2.0):
        self.shape, self.low, self.high = shape, low, high


@dataclass
class V:
    values: list


@dataclass
class K:
    values: object


@dataclass
class Sample:
    op: str                       # the public op this row exercises (primitives must all appear)
    fn: object                    # fn(m, *inputs) with m = tensorgrad or torch
    args: list
    tfn: object = None            # torch's spelling, when it differs
    grad: bool = True             # differentiable: compare gradients too
    smooth: bool = True           # no ties/kinks at the sample: finite differences and 2nd order apply
    note: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def id(self):
        return f"{self.op}-{self.note}" if self.note else self.op


def _idx(*a):
    return K(np.array(a, dtype=np.int64))


TIES = [[1.0, 3.0, 3.0, -1.0], [2.0, 2.0, 2.0, 2.0], [0.5, -4.0, 0.5, 0.25]]
S = Sample
SAMPLES = [
    # --- elementwise binary, broadcasting both ways, scalars on either side -----------------
    S("add", lambda m, x, y: x + y, [R(3, 4), R(3, 4)]),
    S("add", lambda m, x, y: x + y, [R(3, 1), R(1, 4)], note="broadcast-both"),
    S("add", lambda m, x, y: x + y, [R(2, 3, 4), R(4)], note="broadcast-lead"),
    S("add", lambda m, x, y: x + y, [R(), R(3)], note="0d"),
    S("add", lambda m, x, y: x + y, [R(0, 3), R(3)], note="empty"),
    S("add", lambda m, x: 2.5 + x, [R(3)], note="radd-scalar"),
    S("sub", lambda m, x, y: x - y, [R(4, 1), R(3)]),
    S("sub", lambda m, x: 1 - x, [R(2, 3)], note="rsub-scalar"),
    S("mul", lambda m, x, y: x * y, [R(2, 3, 1), R(1, 3, 4)]),
    S("mul", lambda m, x: x * 3, [R(5)], note="scalar"),
    S("mul", lambda m, x: x * x, [R(5)], note="reuse"),
    S("div", lambda m, x, y: x / y, [R(3, 4), R(4, low=0.5, high=2)]),
    S("div", lambda m, x: 1 / x, [R(3, low=0.5, high=2)], note="rdiv-scalar"),
    S("maximum", lambda m, x, y: m.maximum(x, y), [R(3, 4), R(4)]),
    S("maximum", lambda m, x, y: m.maximum(x, y), [V(TIES), V([1.0, 3.0, 0.5, 0.0])], smooth=False, note="ties"),
    S("minimum", lambda m, x, y: m.minimum(x, y), [V(TIES), V([1.0, 3.0, 0.5, 0.0])], smooth=False, note="ties"),
    S("minimum", lambda m, x, y: m.minimum(x, y), [R(2, 3), R(2, 1)]),
    S("where", lambda m, c, x, y: m.where(c, x, y), [K(np.array([[True, False, True]])), R(2, 3), R(3)]),
    S("where", lambda m, c, x: m.where(c, x, 0.0), [K(np.array([True, False, False, True])), R(4)],
      note="scalar"),
    S("pow", lambda m, x: x ** 2, [R(3, 4)]),
    S("pow", lambda m, x: x ** 3, [R(5)], note="cube"),
    S("pow", lambda m, x: x ** -0.5, [R(3, 2, low=0.2, high=2)], note="rsqrt"),
    S("pow", lambda m, x: x ** 0, [R(4)], note="zero"),
    S("pow_tensor", lambda m, x, y: x ** y, [R(3, low=0.5, high=2), R(3)]),
    S("pow_tensor", lambda m, x, y: x ** y, [V([-2.0, 0.0, 2.0, -1.5, 0.0]), V([2.0, 2.0, 3.0, 3.0, -1.0])],
      smooth=False, note="negative-and-zero-base"),
    S("pow_tensor", lambda m, x: 2 ** x, [R(3)], note="rpow"),

    # --- elementwise unary --------------------------------------------------------------------
    S("neg", lambda m, x: -x, [R(2, 3)]),
    S("exp", lambda m, x: x.exp(), [R(3, 4)]),
    S("log", lambda m, x: x.log(), [R(3, 4, low=0.1, high=3)]),
    S("tanh", lambda m, x: x.tanh(), [R(3, 4)]),
    S("sigmoid", lambda m, x: x.sigmoid(), [R(3, 4, low=-6, high=6)]),
    S("abs", lambda m, x: x.abs(), [V([-2.0, -0.5, 0.5, 3.0])]),
    S("abs", lambda m, x: x.abs(), [V([0.0, -1.0])], smooth=False, note="at-zero"),
    S("relu", lambda m, x: x.relu(), [V([-2.0, -0.5, 0.5, 3.0])]),
    S("relu", lambda m, x: x.relu(), [V([0.0, -1.0, 2.0])], smooth=False, note="at-zero"),
    S("sqrt", lambda m, x: x.sqrt(), [R(4, low=0.1, high=4)]),
    S("clamp", lambda m, x: x.clamp(-0.5, 0.5), [V([-2.0, -0.3, 0.1, 0.7, 1.5])]),
    S("clamp", lambda m, x: x.clamp(min=-0.5), [V([-0.5, 0.5, -1.0])], smooth=False, note="at-bound"),
    S("cast", lambda m, x: x.double() * 2, [R(3)]),
    S("cast", lambda m, x: x.clone(), [R(2, 2)], note="clone"),
    S("cast", lambda m, x: x.long() * x, [R(4, low=-3, high=3)], note="int-carries-no-grad"),

    # --- integer inputs: float results in the default dtype, as torch ----------------------------
    S("div", lambda m, i, j: i / j, [_idx(1, 2, 3), _idx(2, 2, 2)], grad=False, note="int-int"),
    S("div", lambda m, i: i / 2, [_idx(1, 2, 3)], grad=False, note="int-scalar"),
    S("mul", lambda m, i: i * 1.5, [_idx(1, 2, 3)], grad=False, note="int-float-scalar"),
    S("mul", lambda m, i, x: i * x, [_idx(1, 2, 3), R(3)], note="int-tensor"),
    S("exp", lambda m, i: i.exp(), [_idx(0, 1, 2)], grad=False, note="int"),
    S("pow", lambda m, i: i ** 0.5, [_idx(1, 4, 9)], grad=False, note="int-sqrt"),
    S("pow", lambda m, i: i ** 2, [_idx(1, 4, 9)], grad=False, note="int-square"),
    S("sign", lambda m, x: x.sign(), [V([-2.0, 0.0, 3.0])], grad=False),
    S("lt", lambda m, x, y: x < y, [R(3, 4), R(4)], grad=False),
    S("le", lambda m, x, y: x <= y, [V([1.0, 2.0]), V([1.0, 1.0])], grad=False),
    S("gt", lambda m, x: x > 0, [R(5)], grad=False),
    S("ge", lambda m, x, y: x >= y, [V([1.0, 2.0]), V([1.0, 3.0])], grad=False),
    S("eq", lambda m, x, y: x == y, [V([1.0, 2.0]), V([1.0, 3.0])], grad=False),
    S("ne", lambda m, x, y: x != y, [V([1.0, 2.0]), V([1.0, 3.0])], grad=False),

    # --- reductions: all, dim, keepdim, negative and tuple dims --------------------------------
    S("sum", lambda m, x: x.sum(), [R(3, 4)]),
    S("sum", lambda m, x: x.sum(0), [R(3, 4)], note="dim"),
    S("sum", lambda m, x: x.sum(-1, keepdim=True), [R(2, 3, 4)], note="keepdim-neg"),
    S("sum", lambda m, x: x.sum((0, 2)), [R(2, 3, 4)], note="tuple"),
    S("sum", lambda m, x: x.sum(axis=1, keepdims=True), [R(3, 1, 2)], note="numpy-spelling",
      tfn=lambda m, x: x.sum(dim=1, keepdim=True)),
    S("sum", lambda m, x: x.sum(0), [R(0, 3)], note="empty"),
    S("mean", lambda m, x: x.mean(), [R(3, 4)]),
    S("mean", lambda m, x: x.mean(1, keepdim=True), [R(3, 4)], note="dim"),
    S("var", lambda m, x: x.var(), [R(5, 4)]),
    S("var", lambda m, x: x.var(0, keepdim=True), [R(5, 4)], note="dim-bessel"),
    S("var", lambda m, x: x.var(1, unbiased=False), [R(3, 4)], note="biased"),
    S("var", lambda m, x: x.var(0, correction=0), [R(3, 4)], note="correction"),
    S("std", lambda m, x: x.std(1), [R(3, 5)]),
    S("std", lambda m, x: x.std(), [V([1.0, 1.0, 1.0])], smooth=False, note="constant"),
    S("var", lambda m, x: x.var(False), [R(3, 4)], note="positional-unbiased"),
    S("sum", lambda m, x: x.sum(dim=()), [R(2, 3)], note="empty-dims"),
    S("amax", lambda m, x: x.amax(1), [R(3, 4)]),
    S("amax", lambda m, x: x.amax(1), [V(TIES)], smooth=False, note="ties"),
    S("amax", lambda m, x: x.amax((0, 1)), [V(TIES)], smooth=False, note="ties-all"),
    S("amin", lambda m, x: x.amin(0, keepdim=True), [V(TIES)], smooth=False, note="ties"),
    S("max", lambda m, x: x.max(), [V(TIES)], smooth=False, note="all-ties"),
    S("max", lambda m, x: x.max(1).values, [R(3, 4)], note="dim"),
    S("max", lambda m, x: x.max(1, keepdim=True).values, [V(TIES)], smooth=False, note="dim-ties"),
    S("max", lambda m, x: x.max(0).indices, [V(TIES)], grad=False, note="indices"),
    S("min", lambda m, x: x.min(), [V(TIES)], smooth=False, note="all-ties"),
    S("min", lambda m, x: x.min(-1).values, [V(TIES)], smooth=False, note="dim-ties"),
    S("argmax", lambda m, x: x.argmax(1), [V(TIES)], grad=False),
    S("argmax", lambda m, x: x.argmax(), [R(3, 4)], grad=False, note="flat"),
    S("argmin", lambda m, x: x.argmin(0), [V(TIES)], grad=False),
    S("softmax", lambda m, x: m.softmax(x, 1), [R(3, 5)]),
    S("log_softmax", lambda m, x: m.log_softmax(x, -1), [R(3, 5)]),
    S("logsumexp", lambda m, x: m.logsumexp(x, 1), [R(3, 5)]),
    S("logsumexp", lambda m, x: m.logsumexp(x, 1), [V([[-np.inf, -np.inf], [0.0, 1.0], [np.inf, 0.0]])],
      smooth=False, note="non-finite"),

    # --- shapes ------------------------------------------------------------------------------
    S("expand", lambda m, x: x.expand(2, 3, 4), [R(3, 1)]),
    S("expand", lambda m, x: x.expand(-1, 5), [R(3, 1)], note="minus-one"),
    S("broadcast_to", lambda m, x: m.broadcast_to(x, (2, 4)), [R(4)]),
    S("reshape", lambda m, x: x.reshape(6, -1), [R(3, 4)]),
    S("reshape", lambda m, x: x.view(-1), [R(2, 3)], note="view"),
    S("flatten", lambda m, x: x.flatten(1), [R(2, 3, 4)]),
    S("squeeze", lambda m, x: x.squeeze(1), [R(3, 1, 2)]),
    S("unsqueeze", lambda m, x: x.unsqueeze(-1), [R(3, 2)]),
    S("permute", lambda m, x: x.permute(2, 0, 1), [R(2, 3, 4)]),
    S("permute", lambda m, x: x.transpose(0, 2), [R(2, 3, 4)], note="transpose"),
    S("permute", lambda m, x: x.T, [R(2, 3)], note="T"),
    S("cat", lambda m, x, y: m.cat([x, y], 1), [R(2, 3), R(2, 2)]),
    S("cat", lambda m, x, y, z: m.cat([x, y, z]), [R(1, 3), R(2, 3), R(1, 3)], note="three"),
    S("stack", lambda m, x, y: m.stack([x, y], 1), [R(2, 3), R(2, 3)]),

    # --- linear algebra ------------------------------------------------------------------------
    S("matmul", lambda m, x, y: x @ y, [R(3, 4), R(4, 5)]),
    S("matmul", lambda m, x, y: x @ y, [R(2, 3, 4), R(4, 5)], note="batched-broadcast"),
    S("matmul", lambda m, x, y: x @ y, [R(2, 3, 4), R(2, 4, 5)], note="batched"),
    S("matmul", lambda m, x, y: x @ y, [R(2, 1, 3, 4), R(3, 4, 2)], note="batch-broadcast-both"),
    S("matmul", lambda m, x, y: x @ y, [R(4), R(4, 3)], note="vec-mat"),
    S("matmul", lambda m, x, y: x @ y, [R(3, 4), R(4)], note="mat-vec"),
    S("matmul", lambda m, x, y: x @ y, [R(4), R(4)], note="dot"),
    S("linear", lambda m, x, w, b: m.nn.functional.linear(x, w, b), [R(5, 3), R(4, 3), R(4)]),

    # --- indexing: gathers forward, scatter-adds backward (repeated indices add up) ------------
    S("getitem", lambda m, x: x[1], [R(3, 4)], note="int"),
    S("getitem", lambda m, x: x[1:3, ::2], [R(4, 5)], note="slices"),
    S("getitem", lambda m, x: x[None, :, -1], [R(3, 4)], note="none-neg"),
    S("getitem", lambda m, x: x[..., 0], [R(2, 3, 4)], note="ellipsis"),
    S("getitem", lambda m, x, k: x[k], [R(3, 4), K(np.array([[True, False, True, True]] * 3))], note="mask"),
    S("getitem", lambda m, x, k: x[k], [R(4, 3), _idx(0, 2, 0, 3, 0)], note="repeated"),
    S("getitem", lambda m, C, X: C[X], [R(5, 3), K(np.array([[0, 1, 1], [4, 0, 0], [1, 1, 1], [3, 3, 2]]))],
      note="embedding"),
    S("getitem", lambda m, x, y: x[range(4), y], [R(4, 5), _idx(1, 1, 4, 0)], note="range-pick"),
    S("getitem", lambda m, x, i, j: x[i, j], [R(4, 5), _idx(0, 0, 3), _idx(1, 1, -1)], note="pairs-repeated"),
    S("index_put", lambda m, x, i, v: x.index_put((i,), v, accumulate=True), [R(4, 3), _idx(0, 2, 0), R(3, 3)],
      note="accumulate"),
    S("index_put", lambda m, x, i, v: x.index_put((i,), v), [R(4, 3), _idx(3, 1), R(1, 3)], note="assign"),
    S("index_add", lambda m, x, i, s: x.index_add(0, i, s), [R(4, 3), _idx(0, 2, 0, 0), R(4, 3)]),
    S("index_add", lambda m, x, i, s: x.index_add(1, i, s), [R(2, 4), _idx(3, 3), R(2, 2)], note="dim1"),
    S("scatter_add", lambda m, x, i, s: x.scatter_add(0, i, s),
      [R(3, 4), K(np.array([[0, 1, 2, 0], [0, 0, 0, 2]])), R(2, 4)]),
    S("gather", lambda m, x, i: x.gather(1, i), [R(3, 4), K(np.array([[0, 0], [3, 1], [2, 2]]))]),
    S("embedding", lambda m, i, w: m.nn.functional.embedding(i, w), [K(np.array([[1, 0], [1, 1]])), R(3, 2)]),
    S("one_hot", lambda m, i: m.nn.functional.one_hot(i, 5), [_idx(0, 4, 2, 2)], grad=False),

    # --- losses and fused ops ----------------------------------------------------------------------
    S("cross_entropy", lambda m, x, y: m.nn.functional.cross_entropy(x, y), [R(6, 5), _idx(0, 4, 4, 1, 2, 0)]),
    S("cross_entropy", lambda m, x, y: m.nn.functional.cross_entropy(x, y, ignore_index=4),
      [R(6, 5), _idx(0, 4, 4, 1, 2, 0)], note="ignore_index"),
    S("cross_entropy", lambda m, x, y: m.nn.functional.cross_entropy(x, y, reduction="sum"),
      [R(3, 4), _idx(0, 3, 3)], note="sum"),
    S("cross_entropy", lambda m, x, y: m.nn.functional.cross_entropy(x, y, reduction="none"),
      [R(3, 4), _idx(0, 3, 3)], note="none"),
    S("batch_norm", lambda m, x, w, b: m.nn.functional.batch_norm(x, None, None, w, b, training=True),
      [R(8, 5), R(5), R(5)]),
    S("mse_loss", lambda m, x, y: m.nn.functional.mse_loss(x, y), [R(3, 4), R(3, 4)]),

    # --- not differentiable: logic -------------------------------------------------------------------
    S("all", lambda m, x: (x > 0).all(), [R(3, 4)], grad=False),
    S("all", lambda m, x: m.all(x > -1.5, 1), [R(3, 4)], grad=False, note="dim"),
    S("any", lambda m, x: (x > 1.5).any(0), [R(3, 4)], grad=False),
    S("any", lambda m, x: m.any(x > 1.5), [R(3, 4)], grad=False, note="function"),
    S("bitwise_not", lambda m, x: ~(x > 0), [R(3, 4)], grad=False),
    S("bitwise_and", lambda m, x, y: (x > 0) & (y > 0), [R(3, 4), R(4)], grad=False),
    S("bitwise_or", lambda m, x, y: (x > 0) | (y > 0), [R(3, 4), R(4)], grad=False),
    S("bitwise_xor", lambda m, x, y: (x > 0) ^ (y < 0), [R(3, 4), R(3, 4)], grad=False),
    S("bitwise_and", lambda m, i, j: i & j, [_idx(5, 6, 7), _idx(3, 3, 3)], grad=False, note="int"),

    # --- in place: the same values and gradients as torch (the tensor gets a new history) -----------
    S("add", lambda m, x, y: _inplace(x, lambda h: h.__iadd__(y)), [R(3, 4), R(4)], note="iadd"),
    S("sub", lambda m, x, y: _inplace(x, lambda h: h.sub_(y, alpha=2)), [R(3, 4), R(3, 4)], note="sub_"),
    S("mul", lambda m, x, y: _inplace(x, lambda h: h.mul_(y)), [R(3, 4), R(3, 1)], note="mul_"),
    S("div", lambda m, x, y: _inplace(x, lambda h: h.div_(y)), [R(3, 4), R(4, low=0.5, high=2)], note="div_"),
    S("pow", lambda m, x: _inplace(x, lambda h: h.pow_(2)), [R(3, 4)], note="pow_"),
    S("exp", lambda m, x: _inplace(x, lambda h: h.exp_()), [R(3, 4)], note="exp_"),
    S("tanh", lambda m, x: _inplace(x, lambda h: h.tanh_()), [R(3, 4)], note="tanh_"),
    S("sigmoid", lambda m, x: _inplace(x, lambda h: h.sigmoid_()), [R(3, 4)], note="sigmoid_"),
    S("log", lambda m, x: _inplace(x, lambda h: h.log_()), [R(3, 4, low=0.5, high=2)], note="log_"),
    S("neg", lambda m, x: _inplace(x, lambda h: h.neg_()), [R(3, 4)], note="neg_"),
    S("where", lambda m, x: _inplace(x, lambda h: h.clamp_(-1, 1)), [R(3, 4)], smooth=False, note="clamp_"),
    S("where", lambda m, x: _inplace(x, lambda h: h.relu_()), [R(3, 4)], smooth=False, note="relu_"),
    S("where", lambda m, x, k: _inplace(x, lambda h: h.masked_fill_(k, 0.5)),
      [R(3, 4), K(np.array([True, False, True, False]))], note="masked_fill_"),
    S("where", lambda m, x, y: _inplace(x, lambda h: h.copy_(y)), [R(3, 4), R(4)], note="copy_"),
    S("index_put", lambda m, x, y: _inplace(x, lambda h: h.__setitem__((slice(None), 1), y)),
      [R(3, 4), R(3)], note="setitem-slice"),
    S("index_put", lambda m, x, v: _setitem_into_zeros(m, x, v), [R(3), R(2)], note="setitem-into-zeros"),
    S("index_put", lambda m, x, y: _pick_sub(m, x, y), [R(4, 5), _idx(1, 1, 4, 0)], note="exercise2"),
    S("index_put", lambda m, x, i: _inplace(x, lambda h: _iadd_at(h, i)), [R(4, 3), _idx(0, 2)], note="key-iadd"),
    S("index_put", lambda m, x, y: _view_write(x, y), [R(3, 4), R(2)], note="write-through-view"),
    S("index_add", lambda m, x, i, s: _inplace(x, lambda h: h.index_add_(0, i, s)), [R(4, 3), _idx(0, 2, 0), R(3, 3)],
      note="index_add_"),
    S("scatter_add", lambda m, x, i, s: _inplace(x, lambda h: h.scatter_add_(0, i, s)),
      [R(3, 4), K(np.array([[0, 1, 2, 0], [0, 0, 0, 2]])), R(2, 4)], note="scatter_add_"),
]


def _inplace(x, edit):
    """h = x * 1 (a tensor in the graph), edited in place, then used."""
    h = x * 1
    out = edit(h)
    assert out is None or out is h
    return h * 2


def _setitem_into_zeros(m, x, v):
    buf = m.zeros(3, 3, dtype=x.dtype)
    buf[0] = x * 3          # buf joins the graph
    buf[1:, 1] = v
    return buf


def _pick_sub(m, x, y):
    """The lecture's exercise 2: dlogits = softmax(logits); dlogits[range(n), Yb] -= 1; dlogits /= n."""
    d = m.softmax(x, 1) * 1    # (torch's softmax saves its output, so it refuses the edit itself)
    d[range(4), y] -= 1
    d /= 4
    return d


def _iadd_at(h, i):
    h[i] += 1.5


def _view_write(x, y):
    h = x * 1
    v = h[1]                # a view: writing it writes h
    v[1:3] *= y
    return h.exp()
