"""Random draws: ops without a rule whose forward draws from a generator (an attribute: a
tensorgrad Generator, whose `.rng` is read when the forward runs). Being ops, the draws are on
tg.compile's recording as draws, not as their numbers: a replay draws afresh from the generator's
state at that moment, the same draws in the same order as the dynamic run, so the two give the
same numbers and leave the generator in the same state. (functions/random.py: torch's factories.)"""
import math

import numpy as np

from .op import Op


def _rand(*, shape, dtype, generator):
    return generator.rng.random(shape).astype(dtype, copy=False)


def _randn(*, shape, dtype, generator):
    return generator.rng.standard_normal(shape).astype(dtype, copy=False)


def _randint(*, low, high, shape, dtype, generator):
    return generator.rng.integers(low, high, size=shape).astype(dtype, copy=False)


def _randperm(*, n, dtype, generator):
    return generator.rng.permutation(n).astype(dtype, copy=False)


def _normal(mean, std, *, shape, dtype, generator):
    if (std < 0).any():
        raise ValueError("normal: std must be non-negative")
    return (mean + std * generator.rng.standard_normal(shape)).astype(dtype, copy=False)


def _bernoulli(x, *, p, generator):
    probs = x if p is None else np.broadcast_to(p, x.shape)
    if ((probs < 0) | (probs > 1)).any():
        raise ValueError("bernoulli: probabilities must be in [0, 1]")
    return (generator.rng.random(x.shape) < probs).astype(x.dtype)


def _dropout_mask(*, shape, p, dtype, generator):
    """keep (probability 1 - p) / (1 - p), else 0: what dropout multiplies by (torch's native_dropout's mask).
    An element is kept where a raw 32-bit draw of the bit generator is below (1 - p) 2**32: 1.7x faster than
    comparing uniform floats (drawn 53 bits at a time), and the same probability to 2**-33."""
    n = math.prod(shape)
    if p == 0 or p == 1 or n == 0:
        return np.full(shape, 0 if p == 1 else 1, dtype)
    bits = generator.rng.bit_generator.random_raw((n + 1) // 2).view(np.uint32)[:n].reshape(shape)
    return (bits < np.uint32(round((1 - p) * 2 ** 32))) * np.dtype(dtype).type(1 / (1 - p))


def _multinomial(w, *, num_samples, replacement, generator):
    """num_samples category indices per row of weights w, as torch.multinomial. Without replacement:
    successive draws among the categories not yet drawn, made in one go as the num_samples smallest
    of exponential clocks E_i / w_i (an exact equivalent)."""
    w = np.asarray(w, dtype=np.float64)
    if w.ndim not in (1, 2):
        raise ValueError(f"multinomial: prob_dist must be 1 or 2 dim, got {w.ndim} dims")
    rows = w.reshape(-1, w.shape[-1])
    if not np.isfinite(rows).all() or (rows < 0).any():
        raise ValueError("multinomial: probability tensor contains either inf, nan or element < 0")
    if (rows.sum(axis=1) <= 0).any():
        raise ValueError("multinomial: invalid multinomial distribution (sum of probabilities <= 0)")
    if num_samples <= 0:
        raise ValueError(f"multinomial: cannot sample {num_samples} <= 0 samples")
    rng = generator.rng
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
        clocks = rng.standard_exponential(rows.shape) / rows     # weight 0: never (inf)
        out = np.argsort(clocks, axis=1, kind="stable")[:, :num_samples]
    return out.reshape(w.shape[:-1] + (num_samples,)).astype(np.int64, copy=False)


rand = Op("rand", _rand, adjoint="a draw: no gradient")
randn = Op("randn", _randn, adjoint="a draw: no gradient")
randint = Op("randint", _randint, adjoint="a draw: no gradient")
randperm = Op("randperm", _randperm, adjoint="a draw: no gradient")
normal = Op("normal", _normal, adjoint="a draw: no gradient (as torch's, which gives zeros)")
bernoulli = Op("bernoulli", _bernoulli, adjoint="a draw: no gradient")
dropout_mask = Op("dropout_mask", _dropout_mask, adjoint="a draw: no gradient")
multinomial = Op("multinomial", _multinomial, adjoint="a draw: no gradient")
