"""Where tensorgrad's training step spends its time: phases against the NumPy floor, a cProfile
listing, and (with line_profiler installed) line timings of the engine's hot functions.

    python -m benchmarks.profile_step --batch 32
    python -m benchmarks.profile_step --batch 32 --form chunked --lines
    python -m benchmarks.profile_step --batch 2048 --steps 50 --sort cumulative

The step is the benchmark's (benchmarks/contenders.py), one thread.
"""
import os
import sys

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
             "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"   # before NumPy is imported

import argparse  # noqa: E402
import cProfile  # noqa: E402
import pstats  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.contenders import NumpyStep, TensorgradCompiled, TensorgradStep, init_weights, train_split  # noqa: E402


CLOCK = time.process_time   # CPU time: the machine is shared


def phases(step: TensorgradStep, X, Y, steps: int) -> dict:
    """Median microseconds (CPU time) of forward (the loss), backward, and the SGD update."""
    times = {"forward": [], "backward": [], "update": []}
    for _ in range(steps):
        t0 = CLOCK()
        loss = step.forward(X, Y)
        t1 = CLOCK()
        step.optimizer.zero_grad()
        loss.backward()
        t2 = CLOCK()
        step.optimizer.step()
        t3 = CLOCK()
        for k, dt in zip(times, (t1 - t0, t2 - t1, t3 - t2)):
            times[k].append(dt)
    return {k: float(np.median(v) * 1e6) for k, v in times.items()}


def median_us(fn, n: int) -> float:
    ts = []
    for _ in range(n):
        t0 = CLOCK()
        fn()
        ts.append(CLOCK() - t0)
    return float(np.median(ts) * 1e6)


def scatter(batch: int, reps: int) -> int:
    """C's gradient from X (batch, 3) into (27, 10): np.add.at against onehot(X)^T @ demb (CPU us)."""
    rng = np.random.default_rng(2)
    X = rng.integers(0, 27, (batch, 3))
    demb = rng.standard_normal((batch, 3, 10)).astype(np.float32)

    def add_at():
        out = np.zeros((27, 10), np.float32)
        np.add.at(out, X, demb)

    def onehot():
        np.equal.outer(np.arange(27), X.reshape(-1)).astype(np.float32) @ demb.reshape(-1, 10)
    print(f"batch {batch}: np.add.at {median_us(add_at, reps):.1f} us, one-hot matmul {median_us(onehot, reps):.1f} us")
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.profile_step", description=__doc__.split("\n\n")[0])
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--form", choices=["chunked", "fused"], default="fused")
    p.add_argument("--steps", type=int, default=None, help="profiled steps (default: 2000 at batch 32, fewer above)")
    p.add_argument("--sort", default="tottime", help="pstats sort key (tottime, cumulative, ...)")
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--lines", action="store_true", help="line timings of the engine's hot functions (line_profiler)")
    p.add_argument("--replay", action="store_true", help="profile the tg.compile'd step instead of the dynamic one")
    p.add_argument("--scatter", action="store_true",
                   help="only time the embedding gradient's scatter-add: np.add.at (tensorgrad's rule) "
                        "against the NumPy floor's one-hot matmul, at this batch")
    args = p.parse_args(argv)
    steps = args.steps or max(20, 64000 // args.batch)
    if args.scatter:
        return scatter(args.batch, max(5, steps // 10))
    X, Y = train_split()
    ix = np.random.default_rng(0).integers(0, len(X), args.batch)
    step = (TensorgradCompiled if args.replay else TensorgradStep)(init_weights(), args.form)
    floor = NumpyStep(init_weights(), args.form)
    Xb, Yb = step.convert(X[ix], Y[ix])
    for _ in range(5):
        step(Xb, Yb, 0.1)
    print(f"{args.form} step{' (replayed)' if args.replay else ''}, batch {args.batch}, median of {steps} steps "
          "(CPU microseconds):")
    ph = phases(step, Xb, Yb, steps)
    for k, v in ph.items():
        print(f"  {k:12s} {v:10.1f}")
    print(f"  {'total':12s} {sum(ph.values()):10.1f}")
    fl = median_us(lambda: floor(X[ix], Y[ix], 0.1), steps)
    print(f"  the NumPy floor's whole step: {fl:.1f}")

    prof = cProfile.Profile()
    prof.enable()
    for _ in range(steps):
        step(Xb, Yb, 0.1)
    prof.disable()
    print(f"\ncProfile of {steps} steps (its own overhead inflates the many small calls):")
    pstats.Stats(prof).strip_dirs().sort_stats(args.sort).print_stats(args.top)

    if args.lines:
        try:
            from line_profiler import LineProfiler
        except ImportError:
            print("line_profiler is not installed: pip install line_profiler")
            return 0
        T = sys.modules["tensorgrad.tensor"]   # (tensorgrad.tensor is also the function tg.tensor)
        lp = LineProfiler()
        for name in ("apply", "_backprop", "_toposort", "_fit", "_store"):
            if hasattr(T, name):
                lp.add_function(getattr(T, name))
        lp.add_function(T.Tensor._backward)
        lp.enable_by_count()
        for _ in range(steps):
            step(Xb, Yb, 0.1)
        lp.disable_by_count()
        lp.print_stats(output_unit=1e-6, stripzeros=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
