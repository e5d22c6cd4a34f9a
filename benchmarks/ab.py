"""Kernels and the lecture's step, this checkout against an older commit, in one process.

    python -m benchmarks.ab --base 162b8ff            # the kernel table
    python -m benchmarks.ab --base 162b8ff --steps    # ... and the lecture MLP's step at batch 32, with torch

The shared machine's speed drifts by up to 2x within minutes, so a change is measured against the old
code in the same process: `git archive <base> tensorgrad` is unpacked into a temporary directory as the
package `tgbase` (its imports are relative), and each row times the old and the new function in turns,
interleaved, taking the median of the per-round ratios. float32, one thread. Only reports: no test
asserts a speed. The rows are the ones issue 20's third session changed (docs/performance.md).
"""
import argparse
import importlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import one_thread

one_thread()

import numpy as np  # noqa: E402  (after the thread pinning)

ROOT = Path(__file__).resolve().parents[1]


def load_base(rev: str, where: Path):
    """The package as it was at rev, importable as `tgbase`."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "tensorgrad"], check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(where)], input=archive, check=True)
    (where / "tensorgrad").rename(where / "tgbase")
    sys.path.insert(0, str(where))
    return importlib.import_module("tgbase")


def _run(f, n: int) -> float:
    t0 = time.perf_counter()
    for _ in range(n):
        f()
    return (time.perf_counter() - t0) / n * 1e6


def row(name: str, shape: str, before, after, n: int = 100, rounds: int = 25) -> str:
    """Median microseconds of each, and the median of the rounds' after/before ratios."""
    for f in (before, after):
        _run(f, n)
    b, a, r = [], [], []
    for _ in range(rounds):
        tb, ta = _run(before, n), _run(after, n)
        b.append(tb), a.append(ta), r.append(ta / tb)
    line = f"| {name} | {shape} | {np.median(b):.1f} | {np.median(a):.1f} | {np.median(r):.2f} |"
    print(line, flush=True)
    return line


def kernels(old, new) -> list:
    """(name, shape, before, after, calls per round): the rules and op calls, old against new."""
    rng = np.random.default_rng(0)

    def f32(*shape):
        return rng.standard_normal(shape).astype(np.float32)

    o, n = old.ops, new.ops
    of, nf = importlib.import_module(old.__name__ + ".ops.fused"), importlib.import_module("tensorgrad.ops.fused")
    oa, na = (importlib.import_module(m + ".ops.activation") for m in (old.__name__, "tensorgrad"))
    ol, nl = (importlib.import_module(m + ".ops.linalg") for m in (old.__name__, "tensorgrad"))
    oi, ni = (importlib.import_module(m + ".ops.index") for m in (old.__name__, "tensorgrad"))
    rows = []

    x, w, b, g = f32(32, 16, 64), f32(64), f32(64), f32(32, 16, 64)
    out0, s0 = of._ln_forward(x, w, b, (2,), 1e-5)
    out1, s1 = nf._ln_forward(x, w, b, (2,), 1e-5)

    def ln_before():           # the old rule's full-size weight and bias gradients, summed as the engine did
        gx, gw, gb = of._ln_backward(g, out0, x, w, b, (2,), 1e-5, s0)
        return gx, gw.reshape(-1, 64).sum(0), gb.reshape(-1, 64).sum(0)
    rows.append(("layer norm backward (with weight's and bias's sums)", "(32, 16, 64)", ln_before,
                 lambda: nf._ln_backward(g, out1, x, w, b, (2,), 1e-5, s1), 100))

    xg, gg = f32(32, 16, 256), f32(32, 16, 256)
    _, k0 = oa._gelu_forward(xg, "tanh")
    _, k1 = na._gelu_forward(xg, "tanh")
    rows.append(("GELU (tanh) forward", "(32, 16, 256)", lambda: oa._gelu_forward(xg, "tanh"),
                 lambda: na._gelu_forward(xg, "tanh"), 30))
    rows.append(("GELU (tanh) backward", "(32, 16, 256)", lambda: oa._gelu_backward(gg, None, xg, "tanh", k0),
                 lambda: na._gelu_backward(gg, None, xg, "tanh", k1), 30))
    for shape in [(16, 32, 32), (32, 4, 16, 16)]:
        xs = f32(*shape)
        rows.append(("softmax forward", str(shape), lambda xs=xs: of._softmax_forward(xs, (xs.ndim - 1,)),
                     lambda xs=xs: nf._softmax_forward(xs, (xs.ndim - 1,)), 100))

    xm, gm = f32(16, 32, 32), f32(16, 32, 32)
    mask, inf = np.tril(np.ones((32, 32), bool)) == 0, np.asarray(-np.inf, np.float32)
    rows.append(("masked_fill(-inf) forward + rule (was where's)", "(16, 32, 32)",
                 lambda: (o.where.forward(mask, inf, xm), o.where.backward(gm, None, mask, inf, xm)),
                 lambda: (n.masked_fill.forward(xm, mask, inf[()]), n.masked_fill.backward(gm, None, xm, mask, inf[()])),
                 100))

    xl, wl, bl, gl = f32(32, 128), f32(64, 128), f32(64), f32(32, 64)
    rows.append(("linear backward", "(32, 128) -> 64", lambda: ol._linear_backward(gl, None, xl, wl, bl),
                 lambda: nl._linear_backward(gl, None, xl, wl, bl), 300))

    key, v = (np.arange(2048), rng.integers(0, 27, 2048)), f32(2048)
    rows.append(("scatter-add of x[arange(n), y]'s gradient", "(2048, 27)",
                 lambda: oi.scatter_add(np.zeros((2048, 27), np.float32), key, v),
                 lambda: ni.scatter_add(np.zeros((2048, 27), np.float32), key, v), 200))

    def calls(make, shapes):
        a = [old.tensor(f32(*s), requires_grad=True) for s in shapes]
        c = [new.tensor(t.numpy().copy(), requires_grad=True) for t in a]
        return (lambda: make(a)), (lambda: make(c))
    rows.append(("x.mean() (op call)", "(32, 27)", *calls(lambda t: t[0].mean(), [(32, 27)]), 1000))
    rows.append(("x.sum(0, keepdim=True) (op call)", "(32, 200)",
                 *calls(lambda t: t[0].sum(0, keepdim=True), [(32, 200)]), 1000))
    rows.append(("x.max(1, keepdim=True).values (op call)", "(32, 27)",
                 *calls(lambda t: t[0].max(1, keepdim=True).values, [(32, 27)]), 1000))
    rows.append(("x @ W (op call)", "(32, 30) @ (30, 200)", *calls(lambda t: t[0] @ t[1], [(32, 30), (30, 200)]),
                 1000))
    return rows


def steps(old, rounds: int = 40) -> None:
    """The lecture MLP's step at batch 32 (forward, backward, SGD), old, new and torch eager, interleaved."""
    import torch
    from benchmarks import contenders as C

    class OldStep(C.TensorgradStep):
        def __init__(self, weights, form):
            self.tg, self.F, self.form = old, old.nn.functional, form
            self.params = [old.tensor(w, requires_grad=True) for w in C._weights(weights, form)]
            self.running = (old.zeros(C.N_HIDDEN), old.ones(C.N_HIDDEN))
            self.loss = self.chunked if form == "chunked" else self.fused
            self.optimizer = old.optim.SGD(self.params, lr=0.1)

    weights, rng = C.init_weights(), np.random.default_rng(0)
    X, Y = rng.integers(0, 27, (32, 3)), rng.integers(0, 27, 32)
    for form in C.FORMS:
        contenders = {"before": OldStep(weights, form), "after": C.TensorgradStep(weights, form),
                      "torch": C.TorchStep(weights, form)}
        data = {k: s.convert(X, Y) for k, s in contenders.items()}
        times = {k: [] for k in contenders}
        for _ in range(rounds):
            for k, s in contenders.items():
                t0 = time.process_time()
                for _ in range(20):
                    s(*data[k], 0.1)
                times[k].append((time.process_time() - t0) / 20 * 1e6)
        ms = {k: float(np.median(v)) for k, v in times.items()}
        print(f"lecture MLP, {form}, batch 32: before {ms['before']:.0f} us ({ms['before'] / ms['torch']:.2f} of "
              f"torch), after {ms['after']:.0f} us ({ms['after'] / ms['torch']:.2f}), torch {ms['torch']:.0f} us")
    del torch


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--base", required=True, help="the commit to compare against (e.g. 162b8ff)")
    p.add_argument("--steps", action="store_true", help="also the lecture MLP's step, with torch eager")
    p.add_argument("--rounds", type=int, default=25, help="interleaved rounds per row (the medians' sample)")
    args = p.parse_args(argv)
    import tensorgrad as new
    with tempfile.TemporaryDirectory() as tmp:
        old = load_base(args.base, Path(tmp))
        print(f"this checkout against {args.base}, {os.cpu_count()} cores, NumPy {np.__version__}")
        print("| kernel | shape | before µs | after µs | after / before |")
        print("|---|---|---:|---:|---:|")
        for name, shape, before, after, n in kernels(old, new):
            row(name, shape, before, after, n, args.rounds)
        if args.steps:
            steps(old, rounds=max(args.rounds, 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
