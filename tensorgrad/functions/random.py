"""Seeded random numbers: torch.Generator, the global generator that tg.manual_seed seeds, and the
random factories (rand, randn, randint, normal, multinomial, ...). Each draw is an op (ops/random.py)
whose forward reads the generator when it runs, so tg.compile replays fresh draws."""
import numpy as np

from .. import ops
from ..device import check as check_device
from ..dims import shape_arg
from ..dtypes import DEFAULT, as_dtype
from ..engine import Tensor, apply


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


def _draw(op, inputs, dtype, requires_grad=False, name=None, **attrs) -> Tensor:
    """A draw as an op (ops/random.py): tg.compile replays it as a fresh draw from the generator."""
    t = apply(op, inputs, dict(attrs, dtype=dtype) if dtype is not None else attrs)
    if requires_grad:
        t.requires_grad = True
    t.name = name
    return t


def randn(*size, generator: Generator | None = None, dtype=None, requires_grad=False, device=None, name=None) -> Tensor:
    """Standard normal samples."""
    check_device(device, "randn")
    return _draw(ops.randn, (), as_dtype(dtype or DEFAULT.float), requires_grad, name, shape=shape_arg(size),
                 generator=generator or _default)


def rand(*size, generator: Generator | None = None, dtype=None, requires_grad=False, device=None, name=None) -> Tensor:
    """Uniform samples in [0, 1)."""
    check_device(device, "rand")
    return _draw(ops.rand, (), as_dtype(dtype or DEFAULT.float), requires_grad, name, shape=shape_arg(size),
                 generator=generator or _default)


def randint(low: int, high: int | None = None, size=(), generator: Generator | None = None,
            dtype=np.int64, requires_grad=False, device=None) -> Tensor:
    """Integers in [low, high), as torch.randint(low, high, size) or randint(high, size)."""
    check_device(device, "randint")
    if high is None:
        low, high = 0, low
    if isinstance(high, (tuple, list)):          # randint(high, size) written positionally
        low, high, size = 0, low, high
    return _draw(ops.randint, (), as_dtype(dtype or np.int64), requires_grad, low=low, high=high,
                 shape=tuple(size), generator=generator or _default)


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
    return _draw(ops.randperm, (), as_dtype(dtype or np.int64), requires_grad, n=n, generator=generator or _default)


def _operand(x) -> Tensor:
    """A draw's tensor input: a Tensor as it is (tg.compile sees where it came from), else an array."""
    return x if isinstance(x, Tensor) else Tensor._wrap(np.asarray(x))


def normal(mean=0.0, std=1.0, size=None, generator: Generator | None = None, dtype=None, device=None) -> Tensor:
    """Samples of N(mean, std**2): mean and std numbers (then size= is needed) or tensors that
    broadcast, as torch.normal."""
    check_device(device, "normal")
    m, s = _operand(mean), _operand(std)
    shape = tuple(size) if size is not None else np.broadcast_shapes(m.shape, s.shape)
    ref = next((t.dtype for t in (mean, std) if isinstance(t, Tensor) and t.dtype.kind == "f"), None)
    return _draw(ops.normal, (m, s), as_dtype(dtype or ref or DEFAULT.float), shape=shape,
                 generator=generator or _default)


def bernoulli(input, p: float | None = None, generator: Generator | None = None) -> Tensor:
    """1 with probability input (or p), else 0, in input's dtype."""
    return _draw(ops.bernoulli, (input,), None, p=p, generator=generator or _default)


def multinomial(input, num_samples: int, replacement: bool = False, generator: Generator | None = None) -> Tensor:
    """num_samples category indices per row, drawn with probability proportional to the row's
    (non-negative, not necessarily normalised) weights, as torch.multinomial (ops/random.py)."""
    return _draw(ops.multinomial, (_operand(input),), None, num_samples=num_samples, replacement=replacement,
                 generator=generator or _default)
