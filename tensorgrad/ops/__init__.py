"""THE op table: every primitive with a backward rule (and the few without one), one file per
family, forward and backward side by side. Everything else is a composite of these (functions/,
nn/functional/), with no rule of its own. Import order is the order of dependence: a family's
rules may use the ops of the families above it."""
# ruff: noqa: F401  (this file re-exports the table)
from .op import NO_ATTRS, OPS, Op, op
from .compare import (all, any, argmax, argmin, argsort, bitwise_and, bitwise_not, bitwise_or, bitwise_xor,
                      eq, floor_divide, ge, gt, isfinite, isinf, isnan, le, lt, ne)
from .elementwise import (abs, acos, acosh, add, asin, asinh, atan, atan2, atanh, ceil, clamp, cos, cosh, div,
                          exp, exp2, expm1, floor, fmod, heaviside, log, log10, log1p, log2, logaddexp, masked_fill, maximum,
                          minimum, mul, neg, pow, pow_tensor, reciprocal, relu, remainder, round, sigmoid, sign, sin,
                          sinh, sub, tan, tanh, trunc, where)
from .cast import (cast, cast_to, minus, promote, promote_float)
from .shape import (cat, expand, permute, reshape)
from .reduce import (amax, amin, cumprod, cumsum, logsumexp, max, mean, min, rowmax, sum, var)
from .index import (TwoStep, diagonal, diagonal_put, getitem, index_array, index_key, index_put, put, take)
from .linalg import (einsum, linear, matmul)
from . import decomp
from .conv import (col2im, im2col)
from .fused import (batch_norm, cross_entropy, layer_norm, softmax)
from .special import (erf, erfc, erfinv)
from .activation import (gelu)
from .attention import (scaled_dot_product_attention)
from .recurrent import (gru_cell, lstm_cell)
from .random import (bernoulli, dropout_mask, multinomial, normal, rand, randint, randn, randperm)

for _op in OPS.values():      # the built-in table: a user's op may not take these names
    _op.builtin = True
