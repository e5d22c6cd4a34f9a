"""Normalization layers beyond BatchNorm1d and LayerNorm, as torch.nn: BatchNorm2d/3d, GroupNorm,
RMSNorm, InstanceNorm1d/2d/3d (F.group_norm and F.rms_norm are in nn/functional/norm.py).

Each is written on the fused ops: batch norms reshape (N, C, *) to rows of channels and run
F.batch_norm's node; group and instance norms are F.layer_norm's node over each group's (or
channel's) values, then a per-channel affine.
"""
import numpy as np

from . import functional as F
from ..functions import ones, tensor, zeros
from ..inplace import bump
from ..modes import no_grad
from .layers import BatchNorm1d
from .modules import Module, Parameter


def _channels_last(x):
    """(N, C, *) -> (N * prod(*), C), the rows F.batch_norm normalises."""
    return x.movedim(1, -1).reshape(-1, x.shape[1])


class _BatchNormNd(BatchNorm1d):
    """BatchNorm over the channel dim of (N, C, *) inputs; as BatchNorm1d otherwise."""

    _ndim, _shape = 4, "(N, C, H, W)"

    def forward(self, x):
        if x.ndim != self._ndim:
            raise ValueError(f"{type(self).__name__}: expected {self._ndim}D input {self._shape}, got shape "
                             f"{tuple(x.shape)}")
        if x.shape[1] != self.num_features:
            raise ValueError(f"{type(self).__name__}({self.num_features}): the input has {x.shape[1]} channels")
        n = x.numel() // x.shape[1]
        use_batch = self.training or self.running_mean is None
        if use_batch and n < 2:
            raise ValueError(f"{type(self).__name__}({self.num_features}): expected more than 1 value per channel "
                             f"when training, got input size {tuple(x.shape)}")
        momentum = self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.add_(1)
            if momentum is None:
                momentum = 1.0 / int(self.num_batches_tracked.item())
        out = F.batch_norm(_channels_last(x), self.running_mean, self.running_var, self.weight, self.bias,
                           training=use_batch, momentum=momentum, eps=self.eps,
                           correction=1 if self.unbiased else 0)              # (N * prod(*), C)
        if self.training and self.track_running_stats:
            bump(self.running_mean)
            bump(self.running_var)
        moved = (x.shape[0],) + tuple(x.shape[2:]) + (x.shape[1],)
        return out.reshape(moved).movedim(-1, 1)                              # (N, C, *)


class BatchNorm2d(_BatchNormNd):
    """Batch normalization over (N, C, H, W), per channel, as torch.nn.BatchNorm2d."""
    _ndim, _shape = 4, "(N, C, H, W)"


class BatchNorm3d(_BatchNormNd):
    """Batch normalization over (N, C, D, H, W), per channel, as torch.nn.BatchNorm3d."""
    _ndim, _shape = 5, "(N, C, D, H, W)"


class GroupNorm(Module):
    """Group normalization (Wu & He 2018) of (N, C, *) inputs, as torch.nn.GroupNorm: statistics per
    sample and group of C / num_groups channels, the affine per channel; no running statistics."""

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True, device=None,
                 dtype=None, *, bias: bool = True):
        super().__init__()
        if num_channels % num_groups:
            raise ValueError("num_channels must be divisible by num_groups")
        self.num_groups, self.num_channels, self.eps, self.affine = num_groups, num_channels, eps, affine
        self.register_parameter("weight", Parameter(ones(num_channels, dtype=dtype)) if affine else None)
        self.register_parameter("bias", Parameter(zeros(num_channels, dtype=dtype)) if affine and bias else None)

    def forward(self, x):
        return F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


class RMSNorm(Module):
    """Root-mean-square layer normalization (Zhang & Sennrich 2019) over the last dims, as
    torch.nn.RMSNorm: no centring, no bias; eps=None is the dtype's machine epsilon."""

    def __init__(self, normalized_shape, eps: float | None = None, elementwise_affine: bool = True, dtype=None):
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else tuple(normalized_shape)
        self.normalized_shape, self.eps, self.elementwise_affine = tuple(int(n) for n in shape), eps, elementwise_affine
        self.register_parameter("weight", Parameter(ones(*self.normalized_shape, dtype=dtype))
                                if elementwise_affine else None)

    def forward(self, x):
        return F.rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


def _per_channel(v, x):
    """A (C,) weight, bias or statistic shaped to broadcast against (N, C, *)."""
    return v.reshape((-1,) + (1,) * (x.ndim - 2))


class _InstanceNorm(Module):
    """Instance normalization (Ulyanov et al. 2016): each sample's channel normalised over its own
    positions. affine: a per-channel weight and bias (off by default, as torch); track_running_stats:
    running mean and (unbiased) variance, averaged over the batch's instances, used in eval mode."""

    _ndim = 3

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = False,
                 track_running_stats: bool = False, device=None, dtype=None, *, bias: bool = True):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.register_parameter("weight", Parameter(ones(num_features, dtype=dtype)) if affine else None)
        self.register_parameter("bias", Parameter(zeros(num_features, dtype=dtype)) if affine and bias else None)
        tracked = track_running_stats
        self.register_buffer("running_mean", zeros(num_features, dtype=dtype) if tracked else None)
        self.register_buffer("running_var", ones(num_features, dtype=dtype) if tracked else None)
        self.register_buffer("num_batches_tracked", tensor(0) if tracked else None)

    def forward(self, x):
        name = type(self).__name__
        if x.ndim not in (self._ndim - 1, self._ndim):
            raise ValueError(f"{name}: expected {self._ndim - 1}D (unbatched) or {self._ndim}D (batched) input, got "
                             f"shape {tuple(x.shape)}")
        if x.ndim == self._ndim - 1:                                    # unbatched: one sample
            return self.forward(x.unsqueeze(0)).squeeze(0)
        N, C = x.shape[0], x.shape[1]
        if C != self.num_features and self.affine:
            raise ValueError(f"{name}: expected input's size at dim=1 to match num_features ({self.num_features}), "
                             f"but got: {C}.")
        rows = x.reshape(N, C, -1)                                      # (N, C, L)
        L = rows.shape[-1]
        if self.training or not self.track_running_stats:
            if L < 2 and self.training:
                raise ValueError(f"{name}: expected more than 1 spatial element when training, got input size "
                                 f"{tuple(x.shape)}")
            out = F.layer_norm(rows, (L,), eps=self.eps)
            if self.training and self.track_running_stats:
                self._update_running(rows)
        else:
            mean, var = _per_channel(self.running_mean, rows), _per_channel(self.running_var, rows)
            out = (rows - mean) * (var + self.eps).rsqrt()
        out = out.reshape(x.shape)
        if self.affine:
            out = out * _per_channel(self.weight, x)
            out = out if self.bias is None else out + _per_channel(self.bias, x)
        return out

    def _update_running(self, rows) -> None:
        """As torch: each instance updates its own copy of the running statistics (the variance
        unbiased), and the copies are averaged over the batch. (As torch's too: num_batches_tracked
        stays 0, and momentum=None means 0, running statistics that do not move.)"""
        momentum = self.momentum if self.momentum is not None else 0.0
        data = rows.detach().numpy()
        L = data.shape[-1]
        mean = data.mean(axis=-1)                                        # (N, C)
        var = ((data - mean[..., None]) ** 2).sum(axis=-1) / (L - 1)
        with no_grad():
            for buf, batch in ((self.running_mean, mean), (self.running_var, var)):
                arr = buf.numpy()
                arr[...] = ((1 - momentum) * arr + momentum * batch).mean(axis=0)
                bump(buf)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class InstanceNorm1d(_InstanceNorm):
    """Instance normalization of (N, C, L) or (C, L) inputs, as torch.nn.InstanceNorm1d."""
    _ndim = 3


class InstanceNorm2d(_InstanceNorm):
    """Instance normalization of (N, C, H, W) or (C, H, W) inputs, as torch.nn.InstanceNorm2d."""
    _ndim = 4


class InstanceNorm3d(_InstanceNorm):
    """Instance normalization of (N, C, D, H, W) or (C, D, H, W) inputs, as torch.nn.InstanceNorm3d."""
    _ndim = 5
