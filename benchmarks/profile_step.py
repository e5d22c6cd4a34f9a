"""Where tensorgrad's training step spends its time: phases, then a cProfile listing.

    python -m benchmarks.profile_step --batch 32
    python -m benchmarks.profile_step --batch 2048 --steps 50 --sort cumulative

The step is the benchmark's (models.makemore.MakemoreMLP + nn.SGD), one thread.
"""
import os
import sys

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
             "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"   # before NumPy is imported

import argparse  # noqa: E402
import cProfile  # noqa: E402
import pstats  # noqa: E402
import resource  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.contenders import TensorgradStep, init_weights, train_split  # noqa: E402


def phases(step: TensorgradStep, X, Y, steps: int) -> dict:
    """Median microseconds of forward (model + loss), backward, and SGD update; page faults per step."""
    F = step.F
    times = {"forward": [], "backward": [], "update": []}
    f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(steps):
        t0 = time.perf_counter()
        loss = F.cross_entropy(step.model(X), Y)
        t1 = time.perf_counter()
        step.optimizer.zero_grad()
        loss.backward()
        t2 = time.perf_counter()
        step.optimizer.step()
        t3 = time.perf_counter()
        for k, dt in zip(times, (t1 - t0, t2 - t1, t3 - t2)):
            times[k].append(dt)
    out = {k: float(np.median(v) * 1e6) for k, v in times.items()}
    out["page faults"] = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0) / steps
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.profile_step", description=__doc__.split("\n\n")[0])
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--steps", type=int, default=None, help="profiled steps (default: 2000 at batch 32, fewer above)")
    p.add_argument("--sort", default="tottime", help="pstats sort key (tottime, cumulative, ...)")
    p.add_argument("--top", type=int, default=25)
    args = p.parse_args(argv)
    steps = args.steps or max(20, 64000 // args.batch)
    X, Y = train_split()
    ix = np.random.default_rng(0).integers(0, len(X), args.batch)
    Xb, Yb = X[ix], Y[ix]
    step = TensorgradStep(init_weights())
    for _ in range(5):
        step(Xb, Yb, 0.1)
    print(f"batch {args.batch}, median of {steps} steps (microseconds):")
    for k, v in phases(step, Xb, Yb, steps).items():
        print(f"  {k:12s} {v:10.1f}")
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(steps):
        step(Xb, Yb, 0.1)
    prof.disable()
    print(f"\ncProfile of {steps} steps (its own overhead inflates the many small calls):")
    pstats.Stats(prof).strip_dirs().sort_stats(args.sort).print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
