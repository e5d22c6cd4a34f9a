"""Seeded random numbers: torch.Generator, the global generator that tg.manual_seed seeds, and the
random factories (rand, randn, randint, normal, multinomial, ...)."""
import numpy as np

from ..dims import shape_arg
from ..device import check as check_device
from ..engine import Tensor
from .creation import _make, _number


class Generator:
    """A seeded source of random numbers, as torch.Generator: g = tg.Generator().manual_seed(42).
    (Same seed, same numbers, run after run; not the same numbers as torch.)"""

    def __init__(self, seed: int | None = None, device: str = "cpu"):
        self.device = check_device(seed if isinstance(seed, str) else device, "Generator")
        self.manual_seed(None if isinstance(seed, str) else seed)     # Generator("cpu"): torch's device argument

    def manual_seed(self, seed: int | None) -> "Generator":
        """Restart the stream from seed (None: a fresh seed from the OS)."""
        self._seed = int(np.random.SeedSequence().entropy % 2**63) if seed is None else int(seed)
        self.rng = np.random.default_rng(self._seed)
        return self

    def seed(self) -> int:
        """Reseed from the OS, as torch.Generator.seed; returns the new seed."""
        return self.manual_seed(None)._seed

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> dict:
        return self.rng.bit_generator.state

    def set_state(self, state: dict) -> "Generator":
        self.rng.bit_generator.state = state
        return self


# the global generator: every random function uses it when no generator= is given (torch's default_generator)
default_generator = _default = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed the global generator, used when no generator= is passed (torch.manual_seed)."""
    return _default.manual_seed(seed)


def seed() -> int:
    """Reseed the global generator from the OS; returns the seed."""
    return _default.seed()


def initial_seed() -> int:
    """The seed the global generator was last seeded with."""
    return _default.initial_seed()


def get_rng_state() -> dict:
    """The global generator's state (restore it with set_rng_state)."""
    return _default.get_state()


def set_rng_state(state: dict) -> None:
    """Restore the global generator's state."""
    _default.set_state(state)


def default_rng(generator: Generator | None):
    return (generator or _default).rng


def randn(*size, generator: Generator | None = None, dtype=None, requires_grad=False, device=None, name=None) -> Tensor:
    """Standard normal samples."""
    check_device(device, "randn")
    return _make(default_rng(generator).standard_normal(shape_arg(size)), dtype, requires_grad, name)


def rand(*size, generator: Generator | None = None, dtype=None, requires_grad=False, device=None, name=None) -> Tensor:
    """Uniform samples in [0, 1)."""
    check_device(device, "rand")
    return _make(default_rng(generator).random(shape_arg(size)), dtype, requires_grad, name)


def randint(low: int, high: int | None = None, size=(), generator: Generator | None = None,
            dtype=np.int64, requires_grad=False, device=None) -> Tensor:
    """Integers in [low, high), as torch.randint(low, high, size) or randint(high, size)."""
    check_device(device, "randint")
    if high is None:
        low, high = 0, low
    if isinstance(high, (tuple, list)):          # randint(high, size) written positionally
        low, high, size = 0, low, high
    return _make(default_rng(generator).integers(low, high, size=tuple(size)), dtype, requires_grad)


def rand_like(input, generator: Generator | None = None, dtype=None, requires_grad=False, device=None) -> Tensor:
    """Uniform samples in [0, 1) of input's shape and dtype."""
    check_device(device, "rand_like")
    return rand(input.shape, generator=generator, dtype=dtype or input.dtype, requires_grad=requires_grad)


def randn_like(input, generator: Generator | None = None, dtype=None, requires_grad=False, device=None) -> Tensor:
    """Standard normal samples of input's shape and dtype."""
    check_device(device, "randn_like")
    return randn(input.shape, generator=generator, dtype=dtype or input.dtype, requires_grad=requires_grad)


def randint_like(input, low: int = 0, high: int | None = None, generator: Generator | None = None,
                 dtype=None, device=None) -> Tensor:
    """randint_like(x, high) or randint_like(x, low, high): x's shape and dtype."""
    check_device(device, "randint_like")
    if high is None:
        low, high = 0, low
    return randint(low, high, input.shape, generator=generator, dtype=dtype or input.dtype)


def randperm(n: int, generator: Generator | None = None, dtype=np.int64, requires_grad=False, device=None) -> Tensor:
    """A random permutation of 0..n-1."""
    check_device(device, "randperm")
    return _make(default_rng(generator).permutation(n), dtype, requires_grad)


def normal(mean=0.0, std=1.0, size=None, generator: Generator | None = None, dtype=None, device=None) -> Tensor:
    """Samples of N(mean, std**2): mean and std numbers (then size= is needed) or tensors that
    broadcast, as torch.normal."""
    check_device(device, "normal")
    m, s = np.asarray(_number(mean) if not isinstance(mean, Tensor) else mean.numpy()), \
        np.asarray(_number(std) if not isinstance(std, Tensor) else std.numpy())
    if (s < 0).any():
        raise ValueError("normal: std must be non-negative")
    shape = tuple(size) if size is not None else np.broadcast_shapes(m.shape, s.shape)
    ref = next((t.dtype for t in (mean, std) if isinstance(t, Tensor) and t.dtype.kind == "f"), None)
    return _make(m + s * default_rng(generator).standard_normal(shape), dtype or ref, False)


def bernoulli(input, p: float | None = None, generator: Generator | None = None) -> Tensor:
    """1 with probability input (or p), else 0, in input's dtype."""
    probs = np.broadcast_to(p, input.shape) if p is not None else input.numpy()
    if ((probs < 0) | (probs > 1)).any():
        raise ValueError("bernoulli: probabilities must be in [0, 1]")
    return _make(default_rng(generator).random(input.shape) < probs, input.dtype, False)


def multinomial(input, num_samples: int, replacement: bool = False, generator: Generator | None = None) -> Tensor:
    """num_samples category indices per row, drawn with probability proportional to the row's
    (non-negative, not necessarily normalised) weights, as torch.multinomial. Without replacement
    each row's draws are distinct: successive draws among the categories not yet drawn, made in one
    go as the num_samples smallest of exponential clocks E_i / w_i (an exact equivalent)."""
    w = np.asarray(input.numpy() if isinstance(input, Tensor) else input, dtype=np.float64)
    if w.ndim not in (1, 2):
        raise ValueError(f"multinomial: prob_dist must be 1 or 2 dim, got {w.ndim} dims")
    rows = w.reshape(-1, w.shape[-1])
    if not np.isfinite(rows).all() or (rows < 0).any():
        raise ValueError("multinomial: probability tensor contains either inf, nan or element < 0")
    if (rows.sum(axis=1) <= 0).any():
        raise ValueError("multinomial: invalid multinomial distribution (sum of probabilities <= 0)")
    if num_samples <= 0:
        raise ValueError(f"multinomial: cannot sample {num_samples} <= 0 samples")
    rng = default_rng(generator)
    if replacement:
        cdf = np.cumsum(rows, axis=1)
        u = rng.random((len(rows), num_samples)) * cdf[:, -1:]
        out = np.stack([np.searchsorted(c, r, side="right") for c, r in zip(cdf, u)])
        out = np.minimum(out, rows.shape[1] - 1)        # u * total can round up to total
    else:
        if num_samples > rows.shape[1]:
            raise ValueError(f"multinomial: cannot sample n_sample > prob_dist.size(-1) samples without "
                             f"replacement ({num_samples} > {rows.shape[1]})")
        if ((rows > 0).sum(axis=1) < num_samples).any():
            raise ValueError("multinomial: invalid multinomial distribution (with replacement=False, "
                             "not enough non-negative category to sample)")
        with np.errstate(divide="ignore"):
            clocks = rng.standard_exponential(rows.shape) / rows     # weight 0: never (inf)
        out = np.argsort(clocks, axis=1, kind="stable")[:, :num_samples]
    return _make(out.reshape(w.shape[:-1] + (num_samples,)), np.int64, False)
