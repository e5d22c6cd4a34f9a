"""Layers, activations and losses, as torch.nn: each holds its state and calls torch.nn.functional's API.

Layers follow torch.nn: `Linear.weight` has shape (out_features, in_features) and the layer
computes F.linear(x, W, b) = x @ W.T + b, so torch state dicts load as they are.
(models/makemore.py keeps the lecture's raw parameters, W1 of shape (in, out) and x @ W1.)
"""
import math
import warnings

import numpy as np

from . import functional as F
from ..functions import Generator, ones, tensor, zeros
from ..engine import Tensor
from ..inplace import bump
from . import init
from .modules import Module, Parameter, _write


def _empty(*shape, dtype=None) -> Parameter:
    """A parameter for reset_parameters() to fill (torch makes it with torch.empty)."""
    return Parameter(zeros(*shape, dtype=dtype))


# ----------------------------------------------------------------------------
# layers with parameters

class Linear(Module):
    """y = x @ W.T + b, as torch.nn.Linear: W of shape (out_features, in_features), b (out_features,),
    both initialised U(-1/sqrt(in_features), 1/sqrt(in_features)) as torch's default."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 generator: Generator | None = None, dtype=None):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = _empty(out_features, in_features, dtype=dtype)         # (out, in)
        self.register_parameter("bias", _empty(out_features, dtype=dtype) if bias else None)
        self.reset_parameters(generator)

    def reset_parameters(self, generator: Generator | None = None) -> None:
        """torch's init: kaiming_uniform_(a=sqrt(5)) for W, i.e. U(-b, b) with b = 1/sqrt(fan_in), and b too."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), generator=generator)
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0
            init.uniform_(self.bias, -bound, bound, generator)

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)   # (N, out_features)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Bilinear(Module):
    """y = x1^T A x2 + b, as torch.nn.Bilinear: weight (out_features, in1_features, in2_features),
    bias (out_features,), both U(-1/sqrt(in1_features), 1/sqrt(in1_features))."""

    def __init__(self, in1_features: int, in2_features: int, out_features: int, bias: bool = True,
                 generator: Generator | None = None, dtype=None):
        super().__init__()
        self.in1_features, self.in2_features, self.out_features = in1_features, in2_features, out_features
        self.weight = _empty(out_features, in1_features, in2_features, dtype=dtype)
        self.register_parameter("bias", _empty(out_features, dtype=dtype) if bias else None)
        bound = 1 / math.sqrt(in1_features)
        init.uniform_(self.weight, -bound, bound, generator)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound, generator)

    def forward(self, input1, input2):
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self):
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")


class Embedding(Module):
    """A table of num_embeddings vectors of size embedding_dim, looked up by index (N(0, 1) init).
    padding_idx: that row starts at zero and gets no gradient (its lookups are constant)."""

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 generator: Generator | None = None, dtype=None):
        super().__init__()
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise AssertionError("Padding_idx must be within num_embeddings")
            padding_idx %= num_embeddings
        self.num_embeddings, self.embedding_dim, self.padding_idx = num_embeddings, embedding_dim, padding_idx
        self.weight = _empty(num_embeddings, embedding_dim, dtype=dtype)
        self.reset_parameters(generator)

    def reset_parameters(self, generator: Generator | None = None) -> None:
        init.normal_(self.weight, generator=generator)
        if self.padding_idx is not None:
            _write(self.weight, 0, self.padding_idx)

    @classmethod
    def from_pretrained(cls, embeddings, freeze: bool = True, padding_idx: int | None = None, max_norm=None,
                        norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False) -> "Embedding":
        """An Embedding holding (a copy of) the 2-D embeddings; freeze: its weight does not require grad.
        (max_norm, scale_grad_by_freq and sparse are torch's options tensorgrad does not have.)"""
        if len(embeddings.shape) != 2:
            raise ValueError("Embeddings parameter is expected to be 2-dimensional")
        if max_norm is not None or scale_grad_by_freq or sparse:
            raise NotImplementedError("Embedding.from_pretrained: max_norm, scale_grad_by_freq and sparse are not "
                                      "supported by tensorgrad")
        rows, dim = embeddings.shape
        emb = cls(rows, dim, padding_idx=padding_idx, dtype=np.asarray(embeddings).dtype)
        emb.weight = Parameter(tensor(np.array(embeddings)), requires_grad=not freeze)
        return emb

    def forward(self, idx):
        out = F.embedding(idx, self.weight)                       # (*idx.shape, embedding_dim)
        if self.padding_idx is None:
            return out
        pad = np.asarray(idx) == self.padding_idx
        if not pad.any():
            return out
        # the padding rows' lookups as constants: the same values, no gradient into that row
        return F.where(pad[..., None], F.embedding(idx, self.weight.detach()), out)

    def extra_repr(self):
        pad = f", padding_idx={self.padding_idx}" if self.padding_idx is not None else ""
        return f"{self.num_embeddings}, {self.embedding_dim}{pad}"


class BatchNorm1d(Module):
    """Batch normalization (Ioffe & Szegedy 2015) over (N, C) or (N, C, L) inputs, as torch.nn.BatchNorm1d.

    Training: normalise with the batch statistics and update running_mean/running_var
    (running = (1 - momentum) * running + momentum * batch, the running variance unbiased;
    momentum=None: the cumulative average, momentum = 1 / num_batches_tracked). Eval: normalise
    with the running statistics (or the batch's, with track_running_stats=False).
    unbiased=True (tensorgrad's addition) normalises with the Bessel-corrected batch variance,
    1/(n-1), as the lecture does; the default is torch's 1/n."""

    _optional_state = ("num_batches_tracked",)   # as torch, older state dicts may lack it

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, *, bias: bool = True, unbiased: bool = False, dtype=None):
        super().__init__()
        self.num_features, self.eps, self.momentum, self.unbiased = num_features, eps, momentum, unbiased
        self.affine, self.track_running_stats = affine, track_running_stats
        self.register_parameter("weight", Parameter(ones(num_features, dtype=dtype)) if affine else None)
        self.register_parameter("bias", Parameter(zeros(num_features, dtype=dtype)) if affine and bias else None)
        tracked = track_running_stats
        self.register_buffer("running_mean", zeros(num_features, dtype=dtype) if tracked else None)
        self.register_buffer("running_var", ones(num_features, dtype=dtype) if tracked else None)
        self.register_buffer("num_batches_tracked", tensor(0) if tracked else None)

    def forward(self, x):
        if x.ndim not in (2, 3):
            raise ValueError(f"BatchNorm1d: expected 2D or 3D input, (N, C) or (N, C, L), got shape {x.shape}")
        if x.shape[1] != self.num_features:
            raise ValueError(f"BatchNorm1d({self.num_features}): the input has {x.shape[1]} channels")
        n = x.shape[0] * (x.shape[2] if x.ndim == 3 else 1)
        use_batch = self.training or self.running_mean is None
        if use_batch and n < 2:   # torch: "Expected more than 1 value per channel when training"
            raise ValueError(f"BatchNorm1d({self.num_features}): a batch of {n} values per channel is too small in "
                             "training mode (the batch variance needs more than 1); call eval() to normalise "
                             "single examples with the running statistics")
        momentum = self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.add_(1)
            if momentum is None:     # the cumulative moving average
                momentum = 1.0 / int(self.num_batches_tracked.item())
        rows = x if x.ndim == 2 else x.transpose(1, 2).reshape(-1, self.num_features)   # (N*L, C)
        # batch statistics: updating the running ones when tracked; else the running ones
        out = F.batch_norm(rows, self.running_mean, self.running_var, self.weight, self.bias, training=use_batch,
                           momentum=momentum, eps=self.eps, correction=1 if self.unbiased else 0)  # (N*L, C)
        if self.training and self.track_running_stats:   # F.batch_norm updated them in place
            bump(self.running_mean)
            bump(self.running_var)
        return out if x.ndim == 2 else out.reshape(x.shape[0], x.shape[2], -1).transpose(1, 2)  # (N, C, L)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}"
                + (", unbiased=True" if self.unbiased else ""))


class LayerNorm(Module):
    """Layer normalization (Ba et al. 2016) over the last dims, as torch.nn.LayerNorm: one fused op."""

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True, bias: bool = True,
                 dtype=None):
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else tuple(normalized_shape)
        self.normalized_shape, self.eps, self.elementwise_affine = tuple(int(n) for n in shape), eps, elementwise_affine
        affine = elementwise_affine
        self.register_parameter("weight", Parameter(ones(*self.normalized_shape, dtype=dtype)) if affine else None)
        self.register_parameter("bias", Parameter(zeros(*self.normalized_shape, dtype=dtype)) if affine and bias
                                else None)

    def forward(self, x):
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


class Dropout(Module):
    """In training, zero each element with probability p and scale the rest by 1/(1-p); the
    identity in eval mode. generator= (tensorgrad's addition) makes the masks reproducible."""

    def __init__(self, p: float = 0.5, inplace: bool = False, generator: Generator | None = None):
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace, self.generator = p, inplace, generator

    def forward(self, x):
        return F.dropout(x, self.p, self.training, generator=self.generator)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Identity(Module):
    """Returns its input; takes (and ignores) any arguments, as torch.nn.Identity."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, x):
        return x


class Unflatten(Module):
    """Split dim into unflattened_size (a tuple of sizes, one may be -1), as torch.nn.Unflatten."""

    def __init__(self, dim: int, unflattened_size):
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, x):
        return x.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class Flatten(Module):
    """Flatten dims start_dim..end_dim into one (by default all but the batch dim)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


# ----------------------------------------------------------------------------
# activations: each calls its torch.nn.functional namesake with its options

class _Activation(Module):
    """`_fn` names the F function; `_options` are its keyword options with torch's defaults,
    taken positionally or by name and kept as attributes (inplace=True writes the result into the
    input, as torch)."""

    _fn, _options = "", {}

    def __init__(self, *args, **kwargs):
        super().__init__()
        names = list(self._options)
        if len(args) > len(names):
            raise TypeError(f"{type(self).__name__}() takes at most {len(names)} arguments ({len(args)} given)")
        unknown = set(kwargs) - set(names)
        if unknown:
            raise TypeError(f"{type(self).__name__}() got an unexpected keyword argument '{sorted(unknown)[0]}'")
        for k, v in dict(self._options, **dict(zip(names, args)), **kwargs).items():
            setattr(self, k, v)

    def forward(self, x):
        return getattr(F, self._fn)(x, **{k: getattr(self, k) for k in self._options})

    def extra_repr(self):
        shown = [(k, getattr(self, k)) for k in self._options if k != "inplace" or self.inplace]
        return ", ".join(f"{k}={v!r}" for k, v in shown)


class ReLU(_Activation):
    """max(0, x)."""
    _fn, _options = "relu", dict(inplace=False)


class Tanh(_Activation):
    """tanh, elementwise."""
    _fn = "tanh"


class Sigmoid(_Activation):
    """1 / (1 + exp(-x))."""
    _fn = "sigmoid"


class GELU(_Activation):
    """x * Phi(x), Phi the normal CDF (approximate='tanh': its tanh approximation)."""
    _fn, _options = "gelu", dict(approximate="none")


class SiLU(_Activation):
    """x * sigmoid(x)."""
    _fn, _options = "silu", dict(inplace=False)


class LeakyReLU(_Activation):
    """x, or negative_slope * x below 0."""
    _fn, _options = "leaky_relu", dict(negative_slope=0.01, inplace=False)


class ELU(_Activation):
    """x, or alpha * (exp(x) - 1) below 0."""
    _fn, _options = "elu", dict(alpha=1.0, inplace=False)


class SELU(_Activation):
    """scale * elu(x, alpha) with the self-normalizing constants (Klambauer et al. 2017)."""
    _fn, _options = "selu", dict(inplace=False)


class CELU(_Activation):
    """x, or alpha * (exp(x / alpha) - 1) below 0."""
    _fn, _options = "celu", dict(alpha=1.0, inplace=False)


class Mish(_Activation):
    """x * tanh(softplus(x))."""
    _fn, _options = "mish", dict(inplace=False)


class Softplus(_Activation):
    """log(1 + exp(beta * x)) / beta, linear where beta * x > threshold."""
    _fn, _options = "softplus", dict(beta=1.0, threshold=20.0)


class Softsign(_Activation):
    """x / (1 + |x|)."""
    _fn = "softsign"


class Hardtanh(_Activation):
    """x clamped to [min_val, max_val]."""
    _fn, _options = "hardtanh", dict(min_val=-1.0, max_val=1.0, inplace=False)


class ReLU6(_Activation):
    """x clamped to [0, 6]."""
    _fn, _options = "relu6", dict(inplace=False)


class Hardsigmoid(_Activation):
    """relu6(x + 3) / 6."""
    _fn, _options = "hardsigmoid", dict(inplace=False)


class Hardswish(_Activation):
    """x * relu6(x + 3) / 6."""
    _fn, _options = "hardswish", dict(inplace=False)


class LogSigmoid(_Activation):
    """log(sigmoid(x))."""
    _fn = "logsigmoid"


def _softmax_dim(x, dim):
    if dim is None:   # torch's legacy choice, with its warning
        warnings.warn("Implicit dimension choice for softmax has been deprecated. Change the call to include dim=X "
                      "as an argument.", stacklevel=3)
        dim = 0 if x.ndim in (0, 1, 3) else 1
    return dim


class Softmax(_Activation):
    """exp(x) / sum(exp(x)) over dim."""
    _options = dict(dim=None)

    def forward(self, x):
        return F.softmax(x, _softmax_dim(x, self.dim))


class LogSoftmax(_Activation):
    """log softmax over dim."""
    _options = dict(dim=None)

    def forward(self, x):
        return F.log_softmax(x, _softmax_dim(x, self.dim))


# ----------------------------------------------------------------------------
# losses: modules holding the options of their F function (weights as buffers, as torch)

class _Loss(Module):
    def __init__(self, reduction: str = "mean"):
        super().__init__()
        if reduction not in ("mean", "sum", "none"):
            raise ValueError(f"{reduction} is not a valid value for reduction")
        self.reduction = reduction



def _as_tensor(x):
    return x if x is None or isinstance(x, Tensor) else tensor(x)


class _WeightedLoss(_Loss):
    def __init__(self, weight=None, reduction: str = "mean"):
        super().__init__(reduction)
        self.register_buffer("weight", _as_tensor(weight))


class CrossEntropyLoss(_WeightedLoss):
    """F.cross_entropy: -log softmax(input)[target], averaged over the targets not ignored."""

    def __init__(self, weight=None, ignore_index: int = -100, reduction: str = "mean", label_smoothing: float = 0.0):
        super().__init__(weight, reduction)
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """F.nll_loss: -input[target] (input holds log-probabilities)."""

    def __init__(self, weight=None, ignore_index: int = -100, reduction: str = "mean"):
        super().__init__(weight, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class MSELoss(_Loss):
    """F.mse_loss: (input - target)^2."""

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """F.l1_loss: |input - target|."""

    def forward(self, input, target):
        return F.l1_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(_Loss):
    """F.smooth_l1_loss: quadratic below beta, linear above."""

    def __init__(self, reduction: str = "mean", beta: float = 1.0):
        super().__init__(reduction)
        self.beta = beta

    def forward(self, input, target):
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """F.huber_loss: quadratic below delta, delta * (|d| - delta / 2) above."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0):
        super().__init__(reduction)
        self.delta = delta

    def forward(self, input, target):
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class BCELoss(_WeightedLoss):
    """F.binary_cross_entropy: input holds probabilities."""

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_WeightedLoss):
    """F.binary_cross_entropy_with_logits: a sigmoid and binary cross-entropy in one stable step."""

    def __init__(self, weight=None, reduction: str = "mean", pos_weight=None):
        super().__init__(weight, reduction)
        self.register_buffer("pos_weight", _as_tensor(pos_weight))

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, weight=self.weight, reduction=self.reduction,
                                                  pos_weight=self.pos_weight)


class KLDivLoss(_Loss):
    """F.kl_div: target * (log target - input), input holding log-probabilities."""

    def __init__(self, reduction: str = "mean", log_target: bool = False):
        if reduction not in ("mean", "sum", "none", "batchmean"):
            raise ValueError(f"{reduction} is not a valid value for reduction")
        Module.__init__(self)
        self.reduction, self.log_target = reduction, log_target

    def forward(self, input, target):
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)
