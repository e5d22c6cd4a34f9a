"""GELU on a (12, 64, 512) float32 activation, forward + backward, against torch (one thread each,
CPU time, median of interleaved repeats). `python -m benchmarks.gelu`

Rows: F.gelu exact and tanh (each one fused node), the exact form as a composite of tensorgrad ops
(x * 0.5 * (1 + erf(x / sqrt 2)): what F.gelu was before it was fused), and torch's.
"""
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import platform  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

import tensorgrad as tg  # noqa: E402
import tensorgrad.nn.functional as F  # noqa: E402

SHAPE = (12, 64, 512)


def contenders(x, g):
    def ours(approximate):
        def run():
            t = tg.tensor(x, requires_grad=True)
            F.gelu(t, approximate=approximate).backward(g)
        return run

    def composite():
        t = tg.tensor(x, requires_grad=True)
        (t * 0.5 * (1 + tg.erf(t * 0.7071067811865476))).backward(g)

    def theirs(approximate):
        tg_ = torch.tensor(g)

        def run():
            t = torch.tensor(x, requires_grad=True)
            torch.nn.functional.gelu(t, approximate=approximate).backward(tg_)
        return run

    return {"tensorgrad F.gelu (exact, fused)": ours("none"), "tensorgrad F.gelu (tanh, fused)": ours("tanh"),
            "tensorgrad exact as a composite": composite, "torch F.gelu (exact)": theirs("none"),
            "torch F.gelu (tanh)": theirs("tanh")}


def main(repeats: int = 30) -> None:
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    x, g = rng.standard_normal(SHAPE).astype(np.float32), rng.standard_normal(SHAPE).astype(np.float32)
    runs = contenders(x, g)
    times = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            t0 = time.process_time()
            run()
            times[name].append(time.process_time() - t0)
    print(f"GELU forward + backward on {SHAPE} float32, {platform.processor() or platform.machine()}, "
          f"median of {repeats} (CPU time):")
    for name, ts in times.items():
        print(f"  {name:36s} {1000 * np.median(ts):7.2f} ms")


if __name__ == "__main__":
    main()
