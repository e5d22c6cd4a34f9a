"""torch.*'s functions that carry no backward rule of their own: composites of the op table,
by concern. Import order is the order of dependence (math <- shape <- index <- reduce <- sort <- linalg)."""
# ruff: noqa: F401  (this file re-exports)
from .creation import (arange, as_tensor, empty, empty_like, eye, from_dlpack, from_numpy, full, full_like, linspace,
                       logspace, ones, ones_like, tensor, zeros, zeros_like)
from .random import (Generator, bernoulli, default_generator, default_rng, get_rng_state, initial_seed,
                     manual_seed, multinomial, normal, rand, rand_like, randint, randint_like, randn, randn_like,
                     randperm, seed, set_rng_state)
from .math import (atan2, clamp, clamp_max, clamp_min, copysign, deg2rad, div, float_power, floor_divide, fmax,
                   fmin, fmod, frac, heaviside, hypot, isneginf, isposinf, isreal, lerp, logaddexp, logical_and,
                   logical_not, logical_or, logical_xor, logit, masked_fill, maximum, minimum, nan_to_num,
                   negative, positive, pow, rad2deg, reciprocal, relu, remainder, round, rsqrt, sgn, sigmoid,
                   signbit, sinc, sqrt, square, tanh, where, xlogy, addcmul, addcdiv, logaddexp2, ldexp, gcd, lcm,
                   frexp, FrexpResult, bitwise_and, bitwise_or, bitwise_xor, bitwise_not)
from .shape import (atleast_1d, atleast_2d, atleast_3d, block_diag, cartesian_prod, cat, chunk, column_stack, diag,
                    diag_embed, diagonal, dstack, expand, flatten, flip, fliplr, flipud, hstack, meshgrid,
                    moveaxis, movedim, narrow, pad, repeat, repeat_interleave, roll, rot90, split, squeeze, stack,
                    tensor_split, tile, transpose, tril, tril_indices, triu, triu_indices, unbind, unsqueeze,
                    vstack, broadcast_shapes, broadcast_tensors, hsplit, vsplit, dsplit, split_with_sizes, diagflat,
                    narrow_copy, combinations)
from .index import (argwhere, gather, index_add, index_copy, index_fill, index_select, masked_select, nonzero,
                    scatter, scatter_add, take_along_dim, take, masked_scatter, unravel_index)
from .reduce import (AminmaxResult, MaxResult, SortResult, amin, aminmax, count_nonzero, cummax, cummin, cumprod,
                     cumsum, dist, log_softmax, logcumsumexp, logsumexp, max, mean, min, nanmean, nansum, norm,
                     prod, softmax, std, std_mean, var, var_mean, cov, corrcoef, trapezoid, trapz)
from .sort import (HistogramResult, argsort, bincount, bucketize, histc, histogram, median, msort, nanmedian,
                   searchsorted, sort, topk, unique, kthvalue, unique_consecutive, quantile, nanquantile)
from .linalg import (addmm, bmm, cdist, cross, diff, dot, einsum, inner, kron, matmul, mm, mv, outer, tensordot,
                     trace, addmv, addr, baddbmm, addbmm, vdot, ger, det, inverse, logdet, matrix_power, slogdet,
                     SlogdetResult)
from .compare import (allclose, equal, isclose, isin)
