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

    # --- edge values: NaN and inf as torch (issue 11; more in tests/test_edge.py) ------------------
    S("max", lambda m, x: x.max(), [V([1.0, np.nan, 3.0, np.nan])], smooth=False, note="nan"),
    S("amax", lambda m, x: x.amax(1), [V([[1.0, np.nan, 3.0], [1.0, 2.0, 2.0]])], smooth=False, note="nan"),
    S("maximum", lambda m, x, y: m.maximum(x, y), [V([np.nan, 1.0, 2.0]), V([1.0, np.nan, 2.0])], smooth=False,
      note="nan"),
    S("clamp", lambda m, x: x.clamp(-1, 1), [V([np.nan, 0.5, 1.0, 2.0])], smooth=False, note="nan"),
    S("relu", lambda m, x: x.relu(), [V([np.nan, -np.inf, np.inf, 1.0])], smooth=False, note="non-finite"),
    S("abs", lambda m, x: x.abs(), [V([np.nan, -1.0])], smooth=False, note="nan"),
    S("var", lambda m, x: x.var(), [V([np.inf, 0.7, -0.3])], smooth=False, note="inf"),
    S("var", lambda m, x: x.var(correction=3), [V([1.0, 2.5])], smooth=False, note="correction-above-n"),
    S("std", lambda m, x: x.std(1), [V([[1.5], [2.0]])], smooth=False, note="one-element"),
    S("std", lambda m, x: x.std(1), [V([[1.0, 1.0, 1.0], [1.0, 2.0, 4.0]])], smooth=False, note="constant-row"),
    S("softmax", lambda m, x: m.softmax(x, 1), [V([[np.inf, 0.0, 1.0], [0.0, 1.0, 2.0]])], smooth=False, note="inf"),
    S("logsumexp", lambda m, x: m.logsumexp(x, 0), [R(0, 3)], smooth=False, note="size-0-dim"),
]
