"""tensorgrad: micrograd grown up to tensors. A NumPy-backed autograd engine you can read.

The package's layers, each importing only those before it: dtypes, dims, modes, device (no
tensorgrad imports) <- engine (Tensor, Node, apply, the walk) <- ops (the op table) <- functions
(torch.* composites) <- inplace <- nn.functional <- tensor_api (binds Tensor's methods) <- this
file, which only re-exports. nn, optim, compile, serialization, testing and value sit on top.
"""
# ruff: noqa: F401  (this file re-exports)
from numpy import bool_, float16, float32, float64, int8, int16, int32, int64, uint8
from numpy import bool_ as bool, float16 as half, float32 as float, float64 as double
from numpy import int16 as short, int32 as int, int64 as long

from . import tensor as _module_tensor  # loaded first: tg.tensor is the function below, not this module
from . import tensor_api  # binds torch's methods onto Tensor: first, so that everything below has them
from . import functions, ops
from .device import device, get_default_device, set_default_device
from .dtypes import get_default_dtype, result_type, set_default_dtype
from .engine import Tensor
from .gradients import grad
from .modes import detect_anomaly, enable_grad, is_grad_enabled, name_scope, no_grad, set_grad_enabled
from .recorder import record_walk
from .ops import (OPS, Op, op, abs, acos, acosh, asin, asinh, atan, atanh, ceil, cos, cosh, eq, erf, erfc, erfinv,
                  exp, exp2, expm1, floor, ge, gt, isfinite, isinf, isnan, le, log, log10, log1p, log2, lt, ne,
                  sigmoid, sign, sin, sinh, tan, tanh, trunc)
from .ops import acos as arccos, acosh as arccosh, asin as arcsin, asinh as arcsinh, atan as arctan
from .ops import atanh as arctanh, trunc as fix, mul as multiply, sub as subtract
from .ops import gt as greater, ge as greater_equal, lt as less, le as less_equal
from .functions import (Generator, round, addmm, as_tensor, from_dlpack, allclose, aminmax, arange, argsort, argwhere, atan2, atleast_1d,
                        atleast_2d, atleast_3d, bernoulli, bincount, block_diag, bmm, bucketize, cartesian_prod,
                        cat, cdist, chunk, clamp, clamp_max, clamp_min, column_stack, copysign, count_nonzero,
                        cross, cummax, cummin, cumprod, cumsum, default_generator, deg2rad, diag, diag_embed,
                        diagonal, diff, dist, dot, dstack, einsum, empty, empty_like, equal, eye, flip, fliplr,
                        flipud, float_power, floor_divide, fmax, fmin, fmod, frac, from_numpy, full, full_like,
                        gather, get_rng_state, heaviside, histc, histogram, hstack, hypot, index_add, index_copy,
                        index_fill, index_select, initial_seed, inner, isclose, isneginf, isposinf, isreal, kron,
                        lerp, linspace, log_softmax, logaddexp, logcumsumexp, logical_and, logical_not, logical_or,
                        logical_xor, logit, logspace, logsumexp, manual_seed, masked_select, matmul, maximum,
                        median, meshgrid, minimum, mm, moveaxis, movedim, msort, multinomial, mv, nan_to_num,
                        nanmean, nanmedian, nansum, narrow, negative, nonzero, norm, normal, ones, ones_like,
                        outer, positive, prod, rad2deg, rand, rand_like, randint, randint_like, randn, randn_like,
                        randperm, reciprocal, relu, remainder, repeat_interleave, roll, rot90, rsqrt, scatter,
                        scatter_add, searchsorted, seed, set_rng_state, sgn, signbit, sinc, softmax, sort, split,
                        sqrt, square, stack, std_mean, take_along_dim, tensor, tensor_split, tensordot, tile, topk,
                        trace, tril, tril_indices, triu, triu_indices, unbind, unique, var_mean, vstack, where,
                        xlogy, zeros, zeros_like)
from .functions import (addcmul, addcdiv, logaddexp2, ldexp, gcd, lcm, frexp, bitwise_and, bitwise_or,  # noqa: F401
                        bitwise_xor, bitwise_not, take, masked_scatter, cov, corrcoef, kthvalue, unique_consecutive,
                        addmv, addr, baddbmm, addbmm, vdot, ger)
from .ops import ne as not_equal  # noqa: F401
from .functions import atan2 as arctan2, cat as concat, cat as concatenate, clamp as clip
from .functions import div as divide, div as true_divide, vstack as row_stack
from .functions.creation import _number
from .nn.functional import one_hot
from .functions.dispatch import (t, swapaxes, swapdims, ravel, detach, fill, masked_fill, is_nonzero,  # noqa: F401
                                 is_same_size, is_signed, is_complex, is_conj, is_neg, is_inference, conj,
                                 resolve_conj, resolve_neg, real, rsub)
from .functions.dispatch import IN_PLACE as _IN_PLACE
from .nn.functional import (adaptive_avg_pool1d, avg_pool1d, batch_norm, bilinear, celu, conv1d, conv2d,  # noqa: F401
                            cosine_embedding_loss, cosine_similarity, dropout, embedding, embedding_bag, group_norm,
                            hardshrink, hinge_embedding_loss, kl_div, layer_norm, margin_ranking_loss, max_pool1d,
                            max_pool2d, pairwise_distance, pixel_shuffle, pixel_unshuffle, prelu, rms_norm, selu,
                            threshold, threshold_, triplet_margin_loss, binary_cross_entropy_with_logits)
from .nn.functional import celu_, selu_, relu_  # noqa: F401
from .functions.dispatch import (add, all, amax, amin, any, argmax, argmin, broadcast_to, clone, div, flatten, max,
                                 mean, min, mul, neg, numel, permute, pow, reshape, select, squeeze, std, sub, sum,
                                 transpose, unflatten, unsqueeze, var)
from .nn import functional                      # tg.functional: the same module as tg.nn.functional
from . import nn, optim, testing
from .value import Value
from .compile import compile
from .serialization import load, save
# torch's programs (issue 18): autograd, data loading, devices, mixed precision, small names, `import torch`
from . import accelerator, amp, autograd, backends, cuda, distributions, linalg, special, utils
from .functions import det, inverse, logdet, matrix_power, slogdet, quantile, nanquantile  # noqa: F401
from .functions import isin, unravel_index, combinations, trapezoid, trapz  # noqa: F401
from .linalg import pinv as pinverse, svd_legacy as svd  # noqa: F401
from .functions import (broadcast_shapes, broadcast_tensors, hsplit, vsplit, dsplit, split_with_sizes,  # noqa: F401
                        diagflat, narrow_copy)
from .printing import set_printoptions  # noqa: F401
from .amp import autocast
from .dtype_info import bfloat16, finfo, iinfo
from .runtime import (Size, get_float32_matmul_precision, get_num_interop_threads, get_num_threads,
                      inference_mode, is_floating_point, is_inference_mode_enabled, is_tensor,
                      set_float32_matmul_precision, set_num_interop_threads, set_num_threads, promote_types,
                      can_cast, scalar_tensor, asarray, use_deterministic_algorithms,
                      are_deterministic_algorithms_enabled)
from .torch_alias import install_as_torch
from .missing import module_getattr as _module_getattr

from numpy import dtype                          # torch.dtype: isinstance(x.dtype, tg.dtype) holds
__getattr__ = _module_getattr("torch")           # tg.not_there: "tensorgrad does not implement torch.not_there"

globals().update({k: v for k, v in _IN_PLACE.items() if k not in globals()})   # torch.exp_(x) is x.exp_()
