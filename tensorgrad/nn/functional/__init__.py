"""torch.nn.functional: activations, losses, convolution and pooling, norms, dropout, linear and
embedding, and (as in torch, where F.softmax is torch.softmax) the functions of tensorgrad.functions."""
# ruff: noqa: F401  (this file re-exports)
from ...functions.math import (atan2, clamp, clamp_max, clamp_min, copysign, deg2rad, div, float_power,
                               floor_divide, fmax, fmin, fmod, frac, heaviside, hypot, isneginf, isposinf, isreal,
                               lerp, logaddexp, logical_and, logical_not, logical_or, logical_xor, logit,
                               masked_fill, maximum, minimum, nan_to_num, negative, positive, pow, rad2deg,
                               reciprocal, remainder, round, rsqrt, sgn, sigmoid, signbit, sinc, sqrt,
                               square, tanh, where, xlogy)
from ...functions.shape import (atleast_1d, atleast_2d, atleast_3d, block_diag, cartesian_prod, cat, chunk,
                                column_stack, diag, diag_embed, diagonal, dstack, expand, flatten, flip, fliplr,
                                flipud, hstack, meshgrid, moveaxis, movedim, narrow, pad, repeat,
                                repeat_interleave, roll, rot90, split, squeeze, stack, tensor_split, tile,
                                transpose, tril, tril_indices, triu, triu_indices, unbind, unsqueeze, vstack)
from ...functions.index import (argwhere, gather, index_add, index_copy, index_fill, index_select, masked_select,
                                nonzero, scatter, scatter_add, take_along_dim)
from ...functions.reduce import (AminmaxResult, MaxResult, SortResult, amin, aminmax, count_nonzero, cummax,
                                 cummin, cumprod, cumsum, dist, log_softmax, logcumsumexp, logsumexp, max, mean,
                                 min, nanmean, nansum, norm, prod, softmax, std, std_mean, var, var_mean)
from ...functions.sort import (HistogramResult, argsort, bincount, bucketize, histc, histogram, median, msort,
                               nanmedian, searchsorted, sort, topk, unique)
from ...functions.linalg import (addmm, bmm, cdist, cross, diff, dot, einsum, inner, kron, matmul, mm, mv, outer,
                                 tensordot, trace)
from ...functions.compare import (allclose, equal, isclose)
from ...functions.random import Generator
from .activation import (celu, celu_, elu, elu_, gelu, glu, hardshrink, hardsigmoid, hardswish, hardtanh,
                         hardtanh_, leaky_relu, leaky_relu_, logsigmoid, mish, prelu, relu, relu_, relu6, selu, selu_,
                         silu, softmin, softplus, softshrink, softsign, tanhshrink, threshold, threshold_)
from .linear import (bilinear, cosine_similarity, embedding, embedding_bag, linear, one_hot, pairwise_distance,
                     pixel_shuffle, pixel_unshuffle)
from .loss import (binary_cross_entropy, binary_cross_entropy_with_logits, cosine_embedding_loss, cross_entropy,
                   gaussian_nll_loss, hinge_embedding_loss, huber_loss, kl_div, l1_loss, margin_ranking_loss,
                   mse_loss, nll_loss, smooth_l1_loss, soft_margin_loss, triplet_margin_loss)
from .conv import (adaptive_avg_pool1d, adaptive_avg_pool2d, avg_pool1d, avg_pool2d, conv1d, conv2d, fold,
                   max_pool1d, max_pool2d, unfold)
from .norm import (batch_norm, group_norm, layer_norm, normalize, rms_norm)
from .dropout import (dropout, dropout1d, dropout2d, dropout3d)
from .resize import (interpolate, upsample, upsample_bilinear, upsample_nearest)
from .attention import (scaled_dot_product_attention)


from ...missing import module_getattr as _module_getattr  # noqa: E402

__getattr__ = _module_getattr("torch.nn.functional")   # a missing name says which torch name it is
