"""Where tensorgrad's training step spends its time: its phases (forward, backward, update), a
cProfile listing of the top functions, and (with line_profiler installed) line timings of the
engine's hot functions.

    python -m benchmarks.profile_step --batch 32                  # the lecture MLP against the NumPy floor
    python -m benchmarks.profile_step --batch 32 --form chunked --lines
    python -m benchmarks.profile_step --batch 2048 --steps 50 --sort cumulative
    python -m benchmarks.profile_step --type transformer          # a zoo type, as benchmarks/zoo.py builds it
    python -m benchmarks.profile_step --type gpt --replay         # the GPT lecture's model (benchmarks/gpt_lecture.py)

--type lecture-mlp (the default) is bench.py's step (benchmarks/contenders.py, SGD) and also
times the hand-written NumPy floor; a zoo type is the training program's model, optimizer and
batch size (its makemore or lecture recipe); gpt is gpt_lecture.py's model and AdamW at its
CPU scale (dropout 0.2 unless --dropout). One thread, CPU time.
"""
import sys

from benchmarks import one_thread

one_thread()   # before NumPy is imported

import argparse  # noqa: E402
import cProfile  # noqa: E402
import pstats  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.contenders import NumpyStep, TensorgradCompiled, TensorgradStep, init_weights, train_split  # noqa: E402


CLOCK = time.process_time   # CPU time: the machine is shared


def phases(loss_fn, optimizer, batches: list, steps: int) -> dict:
    """Median microseconds (CPU time) of forward (the loss), backward (zero_grad and backward), and the update."""
    times = {"forward": [], "backward": [], "update": []}
    for i in range(steps):
        t0 = CLOCK()
        loss = loss_fn(*batches[i % len(batches)])
        t1 = CLOCK()
        optimizer.zero_grad()
        loss.backward()
        t2 = CLOCK()
        optimizer.step()
        t3 = CLOCK()
        for k, dt in zip(times, (t1 - t0, t2 - t1, t3 - t2)):
            times[k].append(dt)
    return {k: float(np.median(v) * 1e6) for k, v in times.items()}


def model_step(type_: str, replay: bool, dropout: float, n_batches: int = 50) -> tuple:
    """(loss_fn(X, Y), optimizer, a list of (X, Y) batches as tensors, words) for a zoo type or the GPT."""
    import tensorgrad as tg
    if type_ == "gpt":
        from benchmarks import gpt_lecture as g
        data, vocab, source = g.load_text()
        model = g.gpt(tg, vocab, dropout=dropout, **g.SCALE)
        optimizer = tg.optim.AdamW(model.parameters(), lr=g.LR)
        pairs = g.batches(data, n_batches, g.BATCH, g.SCALE["block_size"])
        loss_fn = lambda X, Y: model(X, Y)[1]                        # noqa: E731
        words = f"the GPT lecture's model (batch {g.BATCH}, dropout {dropout}, AdamW, data {source})"
    else:
        from benchmarks.zoo import setup
        from models.config import build_model, make_optimizer
        from models.data import local_names_txt
        from models.train import loss_of
        source = str(local_names_txt()) if local_names_txt().is_file() else "makemore-names"
        config, data = setup(type_, source, 1000)
        model = build_model(config)
        optimizer = make_optimizer(config, model.parameters())
        Xtr, Ytr = data.splits["train"]
        ix = np.random.default_rng(config.seed).integers(0, len(Xtr), (n_batches, config.batch_size))
        pairs = [(Xtr[i], Ytr[i]) for i in ix]
        loss_fn = lambda X, Y: loss_of(model, X, Y)                  # noqa: E731
        words = f"zoo type {type_} (batch {config.batch_size}, {config.optimizer}, data {Path(source).name})"
    if replay:
        loss_fn = tg.compile(loss_fn)
    return loss_fn, optimizer, [(tg.from_numpy(X), tg.from_numpy(Y)) for X, Y in pairs], words


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


def op_times(train, steps: int, top: int) -> None:
    """CPU time per step of each op's forward and backward rule, and of the engine's un-broadcast (fit),
    by wrapping them with a clock while `train(steps)` runs (the wrappers add ~0.3 us a call)."""
    from tensorgrad import engine
    from tensorgrad.ops.op import OPS
    spent = {}

    def timed(key, f):
        def run(*args, **kw):
            t0 = CLOCK()
            try:
                return f(*args, **kw)
            finally:
                entry = spent.setdefault(key, [0, 0.0])
                entry[0] += 1
                entry[1] += CLOCK() - t0
        return run

    saved = [(op, op.forward, op.backward) for op in OPS.values()]
    fit = engine.fit
    try:
        for op, fwd, bwd in saved:
            op.forward = timed((op.name, "forward"), fwd)
            if bwd is not None:
                op.backward = timed((op.name, "backward"), bwd)
        engine.fit = timed(("fit (un-broadcast, in the engine)", "backward"), fit)
        train(steps)
    finally:
        for op, fwd, bwd in saved:
            op.forward, op.backward = fwd, bwd
        engine.fit = fit
    rows = sorted(spent.items(), key=lambda kv: -kv[1][1])[:top]
    print(f"\nper op (CPU us per step over {steps} steps; calls per step):")
    print(f"  {'op':36s} {'phase':9s} {'calls':>7s} {'us/step':>10s}")
    for (name, phase), (n, t) in rows:
        print(f"  {name:36s} {phase:9s} {n / steps:7.1f} {1e6 * t / steps:10.1f}")


def main(argv=None) -> int:
    from models.config import TYPES
    p = argparse.ArgumentParser(prog="python -m benchmarks.profile_step", description=__doc__.split("\n\n")[0])
    p.add_argument("--type", default="lecture-mlp", choices=["lecture-mlp", *TYPES, "gpt"],
                   help="lecture-mlp: bench.py's step; a zoo type; gpt: the GPT lecture's model")
    p.add_argument("--batch", type=int, default=32, help="lecture-mlp only (the others use their recipe's)")
    p.add_argument("--form", choices=["chunked", "fused"], default="fused", help="lecture-mlp only")
    p.add_argument("--dropout", type=float, default=0.2, help="gpt only (the lecture's 0.2)")
    p.add_argument("--steps", type=int, default=None,
                   help="profiled steps (default: lecture-mlp 2000 at batch 32, fewer above; others 200)")
    p.add_argument("--sort", default="tottime", help="pstats sort key (tottime, cumulative, ...)")
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--lines", action="store_true", help="line timings of the engine's hot functions (line_profiler)")
    p.add_argument("--replay", action="store_true", help="profile the tg.compile'd step instead of the dynamic one")
    p.add_argument("--ops", action="store_true", help="also the time of each op's forward and backward rule")
    p.add_argument("--scatter", action="store_true",
                   help="only time the embedding gradient's scatter-add: np.add.at (tensorgrad's rule) "
                        "against the NumPy floor's one-hot matmul, at this batch")
    args = p.parse_args(argv)
    mlp = args.type == "lecture-mlp"
    steps = args.steps or (max(20, 64000 // args.batch) if mlp else 200)
    if args.scatter:
        return scatter(args.batch, max(5, steps // 10))
    floor = None
    if mlp:
        X, Y = train_split()
        ix = np.random.default_rng(0).integers(0, len(X), args.batch)
        step = (TensorgradCompiled if args.replay else TensorgradStep)(init_weights(), args.form)
        floor = NumpyStep(init_weights(), args.form)
        loss_fn, optimizer, batches = step.forward, step.optimizer, [step.convert(X[ix], Y[ix])]
        words = f"the lecture MLP's {args.form} step (batch {args.batch}, SGD)"
    else:
        loss_fn, optimizer, batches, words = model_step(args.type, args.replay, args.dropout)

    def train(n):
        for i in range(n):
            loss = loss_fn(*batches[i % len(batches)])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

    with warnings.catch_warnings(record=True) as caught:       # the replay records in the first calls
        warnings.simplefilter("always")
        train(5)
    for w in caught:
        print(f"warning: {w.message}")
    print(f"{words}{', replayed' if args.replay else ''}: median of {steps} steps (CPU microseconds):")
    ph = phases(loss_fn, optimizer, batches, steps)
    total = sum(ph.values())
    for k, v in ph.items():
        print(f"  {k:12s} {v:10.1f}  {100 * v / total:5.1f}%")
    print(f"  {'total':12s} {total:10.1f}")
    if floor is not None:
        fl = median_us(lambda: floor(X[ix], Y[ix], 0.1), steps)
        print(f"  the NumPy floor's whole step: {fl:.1f}")

    prof = cProfile.Profile()
    prof.enable()
    train(steps)
    prof.disable()
    print(f"\ncProfile of {steps} steps (its own overhead inflates the many small calls):")
    pstats.Stats(prof).strip_dirs().sort_stats(args.sort).print_stats(args.top)
    if args.ops:
        op_times(train, steps, args.top)

    if args.lines:
        try:
            from line_profiler import LineProfiler
        except ImportError:
            print("line_profiler is not installed: pip install line_profiler")
            return 0
        from tensorgrad import engine
        lp = LineProfiler()
        for name in ("apply", "backprop", "toposort", "fit", "_accumulate"):
            if hasattr(engine, name):
                lp.add_function(getattr(engine, name))
        lp.add_function(engine.Node.run)
        lp.enable_by_count()
        train(steps)
        lp.disable_by_count()
        lp.print_stats(output_unit=1e-6, stripzeros=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
