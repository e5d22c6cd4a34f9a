"""torch.distributions' common distributions: Categorical, Bernoulli, Normal and Uniform, with
sample / rsample, log_prob, entropy, their moments, and kl_divergence between two of a kind.

Each is a few tensorgrad ops, so log_prob and entropy carry gradients to the parameters, and rsample
(the reparameterised draw: loc + scale * eps) carries them through the draw itself (a VAE's
encoder). Draws come from tensorgrad's generator (tg.manual_seed), not torch's stream."""
import math

import numpy as np

from .. import functions as fn
from ..dims import Size
from ..dtypes import get_default_dtype
from ..engine import Tensor
from ..missing import module_getattr as _module_getattr
from ..modes import no_grad
from ..nn import functional as F

__all__ = ["Distribution", "Categorical", "Bernoulli", "Normal", "Uniform", "kl_divergence"]


def _as_tensor(x, like=None) -> Tensor:
    if isinstance(x, Tensor):
        return x
    dtype = like.dtype if isinstance(like, Tensor) and like.dtype.kind == "f" else get_default_dtype()
    return fn.tensor(x, dtype=dtype)


def _expand(x: Tensor, shape) -> Tensor:
    return x if tuple(x.shape) == tuple(shape) else x.expand(*shape)


def _shape(sample_shape) -> tuple:
    return (sample_shape,) if isinstance(sample_shape, int) else tuple(sample_shape)


class Distribution:
    """batch_shape: the independent distributions held; event_shape: the shape of one draw of one.
    validate_args (on by default, as torch's): parameters outside their constraint, and values outside the
    support given to log_prob, raise a ValueError naming them."""
    has_rsample = False
    _validate_default = True

    def __init__(self, batch_shape=(), event_shape=(), validate_args=None):
        self.batch_shape, self.event_shape = Size(batch_shape), Size(event_shape)
        self._validate = self._validate_default if validate_args is None else bool(validate_args)

    @staticmethod
    def set_default_validate_args(value: bool) -> None:
        Distribution._validate_default = bool(value)

    def _require(self, ok, what: str, value) -> None:
        """A ValueError as torch's when a parameter (or a log_prob value) breaks its constraint."""
        if self._validate and not bool(np.all(np.asarray(ok._data if isinstance(ok, Tensor) else ok))):
            raise ValueError(f"Expected {what} (Tensor of shape {tuple(np.shape(value._data if isinstance(value, Tensor) else value))}) "
                             f"of distribution {type(self).__name__} to satisfy its constraint (it does not)")

    def sample(self, sample_shape=()) -> Tensor:
        with no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=()) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} has no reparameterised sample (rsample)")

    def _extended(self, sample_shape) -> tuple:
        return _shape(sample_shape) + self.batch_shape + self.event_shape

    @property
    def stddev(self) -> Tensor:
        return self.variance.sqrt()

    def __repr__(self):
        return f"{type(self).__name__}(batch_shape={self.batch_shape})"


class Categorical(Distribution):
    """K categories per distribution (the last dim of probs or logits): probs are normalised to sum to
    1, logits to log-probabilities (logits - logsumexp), as torch."""

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Categorical: pass exactly one of probs or logits")
        if probs is not None:
            probs = _as_tensor(probs)
            if probs.ndim < 1:
                raise ValueError("Categorical: probs must have at least one dim")
            self.probs = probs / probs.sum(-1, keepdim=True)
            eps = float(np.finfo(self.probs.dtype).eps)            # (torch's clamp_probs before the log)
            self.logits = self.probs.clamp(eps, 1 - eps).log()
        else:
            logits = _as_tensor(logits)
            if logits.ndim < 1:
                raise ValueError("Categorical: logits must have at least one dim")
            self.logits = logits - logits.logsumexp(-1, keepdim=True)
            self.probs = F.softmax(logits, dim=-1)
        self.num_events = self.probs.shape[-1]
        super().__init__(self.probs.shape[:-1], validate_args=validate_args)
        if probs is not None:
            self._require((probs >= 0).all() & (probs.sum(-1) > 0).all(), "parameter probs (a simplex)", probs)
        else:
            self._require(~logits.isnan(), "parameter logits (real)", logits)

    def sample(self, sample_shape=()) -> Tensor:
        n = math.prod(_shape(sample_shape))
        with no_grad():
            rows = self.probs.detach().reshape(-1, self.num_events)
            draws = fn.multinomial(rows, n, replacement=True)            # (rows, n)
        return draws.T.reshape(_shape(sample_shape) + self.batch_shape)

    def log_prob(self, value) -> Tensor:
        value = _as_tensor(value)
        self._require((value >= 0) & (value < self.num_events) & (value == value.round()),
                      f"value argument within the support (0 to {self.num_events - 1})", value)
        value = value.long()
        shape = np.broadcast_shapes(value.shape, self.batch_shape)
        logits = self.logits.expand(*shape, self.num_events)
        return logits.gather(-1, _expand(value, shape).unsqueeze(-1)).squeeze(-1)

    def entropy(self) -> Tensor:
        logits = self.logits.clamp(min=np.finfo(self.logits.dtype).min)   # (0 * -inf would be NaN)
        return -(self.probs * logits).sum(-1)

    @property
    def mean(self) -> Tensor:
        return fn.full(self.batch_shape, float("nan"), dtype=self.probs.dtype)

    variance = mean

    @property
    def mode(self) -> Tensor:
        return self.probs.argmax(-1)


class Bernoulli(Distribution):
    """A coin per element: 1 with probability probs (or sigmoid(logits))."""

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Bernoulli: pass exactly one of probs or logits")
        if probs is not None:
            self.probs = _as_tensor(probs)
            eps = np.finfo(self.probs.dtype).eps
            p = self.probs.clamp(eps, 1 - eps)
            self.logits = p.log() - (1 - p).log()
        else:
            self.logits = _as_tensor(logits)
            self.probs = self.logits.sigmoid()
        super().__init__(self.probs.shape, validate_args=validate_args)
        if probs is not None:
            self._require((self.probs >= 0) & (self.probs <= 1), "parameter probs (in [0, 1])", self.probs)
        else:
            self._require(~self.logits.isnan(), "parameter logits (real)", self.logits)

    def sample(self, sample_shape=()) -> Tensor:
        with no_grad():
            u = fn.rand(*self._extended(sample_shape), dtype=self.probs.dtype)
            return (u < self.probs.detach()).to(self.probs.dtype)

    def log_prob(self, value) -> Tensor:
        value = _as_tensor(value, self.logits)
        self._require((value == 0) | (value == 1), "value argument within the support (0 or 1)", value)
        shape = np.broadcast_shapes(self.logits.shape, value.shape)
        logits, value = _expand(self.logits, shape), _expand(value, shape)
        return -F.binary_cross_entropy_with_logits(logits, value.to(logits.dtype), reduction="none")

    def entropy(self) -> Tensor:
        return F.binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")

    @property
    def mean(self) -> Tensor:
        return self.probs

    @property
    def variance(self) -> Tensor:
        return self.probs * (1 - self.probs)


class Normal(Distribution):
    """Gaussians of mean loc and standard deviation scale (broadcast together)."""
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        loc, scale = _as_tensor(loc, scale), _as_tensor(scale, loc)
        shape = np.broadcast_shapes(loc.shape, scale.shape)
        self.loc, self.scale = _expand(loc, shape), _expand(scale, shape)
        super().__init__(shape, validate_args=validate_args)
        self._require(~loc.isnan(), "parameter loc (real)", loc)
        self._require(scale > 0, "parameter scale (greater than 0)", scale)

    def rsample(self, sample_shape=()) -> Tensor:
        eps = fn.randn(*self._extended(sample_shape), dtype=self.loc.dtype)
        return self.loc + eps * self.scale

    def log_prob(self, value) -> Tensor:
        value = _as_tensor(value, self.loc)
        self._require(~value.isnan(), "value argument within the support (real)", value)
        var = self.scale ** 2
        return -((value - self.loc) ** 2) / (2 * var) - self.scale.log() - math.log(math.sqrt(2 * math.pi))

    def entropy(self) -> Tensor:
        return 0.5 + 0.5 * math.log(2 * math.pi) + self.scale.log()

    def cdf(self, value) -> Tensor:
        value = _as_tensor(value, self.loc)
        return 0.5 * (1 + ((value - self.loc) / (self.scale * math.sqrt(2))).erf())

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def stddev(self) -> Tensor:
        return self.scale

    @property
    def variance(self) -> Tensor:
        return self.scale ** 2


class Uniform(Distribution):
    """Uniform on [low, high) (broadcast together)."""
    has_rsample = True

    def __init__(self, low, high, validate_args=None):
        low, high = _as_tensor(low, high), _as_tensor(high, low)
        shape = np.broadcast_shapes(low.shape, high.shape)
        self.low, self.high = _expand(low, shape), _expand(high, shape)
        super().__init__(shape, validate_args=validate_args)
        self._require(self.low < self.high, "parameter low (less than high)", low)

    def rsample(self, sample_shape=()) -> Tensor:
        u = fn.rand(*self._extended(sample_shape), dtype=self.low.dtype)
        return self.low + u * (self.high - self.low)

    def log_prob(self, value) -> Tensor:
        value = _as_tensor(value, self.low)
        self._require((value >= self.low) & (value < self.high), "value argument within the support [low, high)",
                      value)
        inside = (value >= self.low) & (value < self.high)
        return fn.where(inside, -(self.high - self.low).log(), float("-inf"))

    def entropy(self) -> Tensor:
        return (self.high - self.low).log()

    @property
    def mean(self) -> Tensor:
        return (self.high + self.low) / 2

    @property
    def variance(self) -> Tensor:
        return (self.high - self.low) ** 2 / 12


def kl_divergence(p: Distribution, q: Distribution) -> Tensor:
    """KL(p || q) for two distributions of one kind (Normal, Categorical, Bernoulli, Uniform)."""
    if type(p) is not type(q):
        raise NotImplementedError(f"kl_divergence: no formula for {type(p).__name__} against {type(q).__name__}")
    if isinstance(p, Normal):
        ratio = (p.scale / q.scale) ** 2
        return 0.5 * (ratio + ((p.loc - q.loc) / q.scale) ** 2 - 1 - ratio.log())
    if isinstance(p, Categorical):
        t = p.probs * (p.logits - q.logits)
        return fn.where(p.probs == 0, 0.0, t).sum(-1)           # (0 * log 0 is 0)
    if isinstance(p, Bernoulli):
        return (p.probs * (F.softplus(-q.logits) - F.softplus(-p.logits))
                + (1 - p.probs) * (F.softplus(q.logits) - F.softplus(p.logits)))
    if isinstance(p, Uniform):
        inside = (q.low <= p.low) & (p.high <= q.high)
        return fn.where(inside, ((q.high - q.low) / (p.high - p.low)).log(), float("inf"))
    raise NotImplementedError(f"kl_divergence: no formula for {type(p).__name__}")


__getattr__ = _module_getattr("torch.distributions")   # a missing name says which torch name it is
