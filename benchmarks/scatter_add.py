"""The embedding's backward (a scatter-add) against torch, and against np.add.at, which it replaced:
C[X] forward + backward for makemore's shapes, one thread, interleaved in one process.

    python -m benchmarks.scatter_add
"""
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import platform  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

import tensorgrad as tg  # noqa: E402
from tensorgrad.ops import index  # noqa: E402

SHAPES = [((32, 3), (27, 10)), ((32, 8), (27, 24)), ((32, 16), (27, 64)), ((32, 16), (1000, 64))]   # X, C


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or "unknown CPU"


def main(reps: int = 30, calls: int = 50):
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    scatter_add, add_at = index.scatter_add, lambda out, key, v: np.add.at(out, key, v)
    print(f"C[X] forward + backward, microseconds (median of {reps}), {cpu_model()}, one thread")
    print("| X | C | torch | tg, np.add.at | tg now | np.add.at / torch | now / torch |")
    print("|---|---|---|---|---|---|---|")
    for xshape, cshape in SHAPES:
        X, table = rng.integers(0, cshape[0], xshape), rng.standard_normal(cshape).astype(np.float32)
        g = rng.standard_normal(xshape + cshape[1:]).astype(np.float32)
        Ct, Xt, gt = torch.tensor(table, requires_grad=True), torch.tensor(X), torch.tensor(g)
        C, Xg, gg = tg.tensor(table, requires_grad=True), tg.tensor(X), tg.tensor(g)

        def step_torch(Ct=Ct, Xt=Xt, gt=gt):
            Ct.grad = None
            torch.nn.functional.embedding(Xt, Ct).backward(gt)

        def step_tg(C=C, Xg=Xg, gg=gg):
            C.grad = None
            C[Xg].backward(gg)
        runs = {"torch": (step_torch, None), "add.at": (step_tg, add_at), "now": (step_tg, scatter_add)}
        times = {name: [] for name in runs}
        for _ in range(reps):
            for name, (step, scatter) in runs.items():
                if scatter is not None:
                    index.scatter_add = scatter
                t0 = time.process_time()
                for _ in range(calls):
                    step()
                times[name].append((time.process_time() - t0) / calls * 1e6)
        index.scatter_add = scatter_add
        us = {name: float(np.median(t)) for name, t in times.items()}
        print(f"| {xshape} | {cshape} | {us['torch']:.1f} | {us['add.at']:.1f} | {us['now']:.1f} | "
              f"{us['add.at'] / us['torch']:.2f} | {us['now'] / us['torch']:.2f} |")


if __name__ == "__main__":
    main()
