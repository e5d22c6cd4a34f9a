"""tensorgrad against torch eager and hand-written NumPy on the CPU, side by side.

    python -m benchmarks.bench            # the full run (1-3 minutes on 2 cores)
    python -m benchmarks.bench --quick    # a few seconds: tiny sizes, for the smoke test

Measures, in one process and interleaved (the contenders take turns within every
repetition, so that a teammate's job or a CPU-frequency change hits all of them alike):
  1. one training step (forward, backward, SGD) of the makemore BatchNorm MLP at batch
     32, 256, 2048 and 16384: tensorgrad (models.makemore), torch eager, hand-fused NumPy;
  2. per-op overhead: forward + backward of single ops, tensorgrad against torch;
  3. the embedding's scatter-add three ways (np.add.at, bincount, one-hot matmul);
  4. memory: peak RSS of a training run and RSS every 1000 of 10,000 steps, one fresh
     process per framework (the kernel's peak-RSS mark, VmHWM, is per process).
Every side runs on one thread: the BLAS/OpenMP variables are set to 1 at the top of this
file, before NumPy or torch is imported (a process that imported NumPy earlier re-runs
this program in a fresh one), and torch.set_num_threads(1).

It prints medians and ratios and writes benchmarks/results/latest.md, latest.json and
latest.png. It reports; it never asserts a speed.
"""
import os
import sys

_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
                "NUMEXPR_NUM_THREADS")
_NUMPY_WAS_IMPORTED = "numpy" in sys.modules   # then the variables below come too late for it
for _var in _THREAD_VARS:
    os.environ[_var] = "1"

import argparse  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.contenders import CONTENDERS, init_weights, train_split  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
NAMES = ("tensorgrad", "torch", "numpy")

# (batch size, warm-up steps, timed repetitions): fewer repetitions where a step is long
FULL_BATCHES = ((32, 30, 400), (256, 20, 200), (2048, 5, 40), (16384, 2, 8))
QUICK_BATCHES = ((32, 3, 10), (256, 2, 5))


def _load() -> float:
    return os.getloadavg()[0]


def _minflt() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def _import_torch():
    import torch
    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # can only be set once, before any parallel work
        pass
    return torch


# ----------------------------------------------------------------------------
# 1. one training step

def bench_steps(batches, seed: int = 0) -> list:
    """Median step time (ms) and page faults per step for each contender at each batch size."""
    _import_torch()
    X, Y = train_split()
    weights = init_weights()
    rng = np.random.default_rng(seed)
    rows = []
    for batch, warmup, reps in batches:
        steps = {name: CONTENDERS[name](weights) for name in NAMES}
        # the same sequence of batches for everyone, converted ahead of time
        ix = [rng.integers(0, len(X), batch) for _ in range(warmup + reps)]
        data = {name: [s.convert(X[i], Y[i]) for i in ix] for name, s in steps.items()}
        times = {name: [] for name in NAMES}
        faults = {name: 0 for name in NAMES}
        losses = {name: 0.0 for name in NAMES}
        for r in range(warmup + reps):
            order = NAMES[r % 3:] + NAMES[:r % 3]     # rotate who goes first
            for name in order:
                f0 = _minflt()
                t0 = time.perf_counter()
                losses[name] = steps[name](*data[name][r], 0.1)
                t1 = time.perf_counter()
                if r >= warmup:
                    times[name].append(t1 - t0)
                    faults[name] += _minflt() - f0
        row = dict(batch=batch, reps=reps, load=_load())
        for name in NAMES:
            row[f"{name}_ms"] = float(np.median(times[name]) * 1e3)
            row[f"{name}_p10_ms"] = float(np.percentile(times[name], 10) * 1e3)
            row[f"{name}_faults"] = faults[name] / reps
            row[f"{name}_loss"] = losses[name]
        row["tg_torch"] = row["tensorgrad_ms"] / row["torch_ms"]
        row["tg_numpy"] = row["tensorgrad_ms"] / row["numpy_ms"]
        rows.append(row)
        print(f"  batch {batch:5d}: tensorgrad {row['tensorgrad_ms']:8.3f} ms  torch {row['torch_ms']:8.3f} ms  "
              f"numpy {row['numpy_ms']:8.3f} ms  tg/torch {row['tg_torch']:.2f}  tg/numpy {row['tg_numpy']:.2f}",
              flush=True)
    return rows


# ----------------------------------------------------------------------------
# 2. per-op overhead: forward + backward of one op

def _op_cases(n: int) -> list:
    """(name, input shapes, how to call it given a module m (tensorgrad or torch) and its inputs)."""
    ce = lambda m, x, t: (m.nn.functional.cross_entropy(x, t))  # noqa: E731
    return [
        ("add", [(n, 200), (n, 200)], lambda m, x, y: x + y),
        ("add (bias)", [(n, 200), (200,)], lambda m, x, y: x + y),
        ("mul", [(n, 200), (n, 200)], lambda m, x, y: x * y),
        ("tanh", [(n, 200)], lambda m, x: x.tanh()),
        ("exp", [(n, 27)], lambda m, x: x.exp()),
        ("matmul", [(n, 30), (30, 200)], lambda m, x, w: x @ w),
        ("gather C[X]", [(27, 10), "index"], lambda m, c, i: c[i]),
        ("sum(0)", [(n, 200)], lambda m, x: x.sum(0)),
        ("mean(0)", [(n, 200)], lambda m, x: x.mean(0)),
        ("max(1)", [(n, 27)], lambda m, x: x.max(1)[0]),
        ("var(0)", [(n, 200)], lambda m, x: x.var(0)),
        ("cross_entropy", [(n, 27), "target"], ce),
    ]


def bench_ops(sizes, reps: int) -> list:
    """Median time of forward + backward (upstream gradient given) of each op."""
    torch = _import_torch()
    import tensorgrad as tg
    rng = np.random.default_rng(1)
    rows = []
    for n in sizes:
        for name, shapes, fn in _op_cases(n):
            arrays = []
            for s in shapes:
                if s == "index":
                    arrays.append(rng.integers(0, 27, (n, 3)))
                elif s == "target":
                    arrays.append(rng.integers(0, 27, n))
                else:
                    arrays.append(rng.standard_normal(s).astype(np.float32))
            tg_in = [tg.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
            th_in = [torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
            out_shape = fn(tg, *tg_in).shape
            g = rng.standard_normal(out_shape).astype(np.float32)
            g_th = torch.tensor(g)

            def run_tg():
                for x in tg_in:
                    x.grad = None
                fn(tg, *tg_in).backward(g)

            def run_torch():
                for x in th_in:
                    x.grad = None
                fn(torch, *th_in).backward(g_th)

            times = {"tensorgrad": [], "torch": []}
            for r in range(reps + 3):
                for side, run in ((("tensorgrad", run_tg), ("torch", run_torch)) if r % 2 == 0
                                  else (("torch", run_torch), ("tensorgrad", run_tg))):
                    t0 = time.perf_counter()
                    run()
                    if r >= 3:
                        times[side].append(time.perf_counter() - t0)
            tg_us, th_us = (float(np.median(times[s]) * 1e6) for s in ("tensorgrad", "torch"))
            rows.append(dict(op=name, n=n, shapes=[list(s) if isinstance(s, tuple) else s for s in shapes],
                             tensorgrad_us=tg_us, torch_us=th_us, ratio=tg_us / th_us))
            print(f"  {name:14s} n={n:5d}: tensorgrad {tg_us:8.1f} us  torch {th_us:8.1f} us  "
                  f"ratio {tg_us / th_us:.2f}", flush=True)
    return rows


# ----------------------------------------------------------------------------
# 3. the embedding's scatter-add (the gradient of C[X]), three ways

def bench_scatter(batches, reps: int) -> list:
    """out[X] += v for X (batch, 3) into a (27, 10) table: np.add.at, bincount, one-hot matmul."""
    rng = np.random.default_rng(2)
    rows = []
    for batch, _, _ in batches:
        X = rng.integers(0, 27, (batch, 3))
        v = rng.standard_normal((batch, 3, 10)).astype(np.float32)

        def add_at():
            out = np.zeros((27, 10), np.float32)
            np.add.at(out, X, v)
            return out

        def bincount():
            flat = (X.reshape(-1, 1) * 10 + np.arange(10)).ravel()
            return np.bincount(flat, weights=v.ravel(), minlength=270).reshape(27, 10).astype(np.float32)

        def onehot_matmul():
            onehot = np.equal.outer(np.arange(27), X.reshape(-1)).astype(np.float32)   # (27, batch*3)
            return onehot @ v.reshape(-1, 10)

        row = dict(batch=batch)
        for f in (add_at, bincount, onehot_matmul):
            times = []
            for _ in range(reps if batch < 4096 else max(3, reps // 20)):
                t0 = time.perf_counter()
                f()
                times.append(time.perf_counter() - t0)
            row[f.__name__ + "_us"] = float(np.median(times) * 1e6)
        rows.append(row)
        print(f"  batch {batch:5d}: np.add.at {row['add_at_us']:8.1f} us  bincount {row['bincount_us']:8.1f} us  "
              f"one-hot matmul {row['onehot_matmul_us']:8.1f} us", flush=True)
    return rows


# ----------------------------------------------------------------------------
# 4. memory, one fresh process per framework

def _status_kb(field: str) -> int:
    """VmRSS (resident now) or VmHWM (the peak since the last reset) from /proc/self/status."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field + ":"))


def memory_child(name: str, batch: int, steps: int, every: int) -> dict:
    """Run in a fresh process: import only `name`'s framework, load the data (the baseline),
    reset the peak-RSS mark, then train `steps` steps, sampling RSS every `every` steps.
    (ru_maxrss cannot be reset, and a child started with vfork inherits its parent's.)"""
    if name == "torch":
        _import_torch()
    X, Y = train_split()
    step = CONTENDERS[name](init_weights())
    rng = np.random.default_rng(3)
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")                                   # VmHWM := VmRSS (Linux >= 4.0)
        reset = True
    except OSError:                                        # then the peak may be the data loading's
        reset = False
    base = _status_kb("VmRSS")
    samples = [(0, base)]
    for i in range(1, steps + 1):
        ix = rng.integers(0, len(X), batch)
        step(*step.convert(X[ix], Y[ix]), 0.1 if i < steps // 2 else 0.01)
        if i % every == 0:
            samples.append((i, _status_kb("VmRSS")))
    peak = _status_kb("VmHWM")
    return dict(name=name, batch=batch, steps=steps, baseline_kb=base, peak_kb=peak, training_peak_kb=peak - base,
                peak_mark_reset=reset, rss_samples_kb=samples)


def bench_memory(runs) -> list:
    """Peak RSS over the imports-and-data baseline, and RSS growth, per framework and batch."""
    rows = []
    for batch, steps, every in runs:
        for name in NAMES:
            cmd = [sys.executable, "-m", "benchmarks.bench", "--memory-child", name, "--batch", str(batch),
                   "--steps", str(steps), "--every", str(every)]
            out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True).stdout
            row = json.loads(out.strip().splitlines()[-1])
            s = row["rss_samples_kb"]
            first = s[1][1] if len(s) > 2 else s[0][1]            # after the first `every` steps: warm
            row["growth_kb"] = s[-1][1] - first
            rows.append(row)
            print(f"  {name:10s} batch {batch:5d}, {steps} steps: training peak {row['training_peak_kb'] / 1024:7.1f} MB"
                  f" over a baseline of {row['baseline_kb'] / 1024:6.1f} MB; RSS growth after step {every}: "
                  f"{row['growth_kb'] / 1024:+.2f} MB", flush=True)
    return rows


# ----------------------------------------------------------------------------
# the report

def machine() -> dict:
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    import torch
    import tensorgrad  # noqa: F401
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                text=True).stdout.strip()
        dirty = bool(subprocess.run(["git", "status", "--porcelain", "tensorgrad", "models"], cwd=ROOT,
                                    capture_output=True, text=True).stdout.strip())
    except OSError:
        commit, dirty = "?", False
    return dict(cpu=cpu, cores=os.cpu_count(), python=platform.python_version(), numpy=np.__version__,
                torch=torch.__version__, os=platform.platform(), threads_per_side=1,
                date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                commit=commit + (" + uncommitted changes" if dirty else ""))


TARGETS = "tg/torch <= 0.6 at batch 32, <= 1.0 at 2048 and 16384; tg/numpy <= 1.5 at every batch"


def _target_note(row) -> str:
    limit = 0.6 if row["batch"] == 32 else 1.0 if row["batch"] >= 2048 else None
    ok_torch = None if limit is None else row["tg_torch"] <= limit
    ok_numpy = row["tg_numpy"] <= 1.5
    parts = [] if ok_torch is None else [f"torch {'met' if ok_torch else 'missed'} (<= {limit})"]
    parts.append(f"numpy {'met' if ok_numpy else 'missed'} (<= 1.5)")
    return ", ".join(parts)


def to_markdown(res: dict) -> str:
    m = res["machine"]
    lines = [
        "# tensorgrad benchmark: latest results",
        "",
        f"Run {m['date']} with `python -m benchmarks.bench{' --quick' if res['quick'] else ''}` on "
        f"{m['cpu']} ({m['cores']} cores), {m['os']}; Python {m['python']}, NumPy {m['numpy']}, torch {m['torch']}; "
        f"one thread per side; code at {m['commit']}. Load average (1 min) at the start "
        f"{res['load_start']:.2f}, at the end {res['load_end']:.2f} (teammates' jobs share the 2 cores: "
        "expect noise; every contender is interleaved, so the ratios are steadier than the times).",
        "",
        "## One training step of the makemore MLP (n_embd 10, n_hidden 200, block_size 3)",
        "",
        "Median milliseconds per step (forward, backward, SGD update, running batch-norm statistics); "
        "page faults per step in brackets. tensorgrad is `models.makemore.MakemoreMLP` + `nn.SGD`; "
        "torch is the same model in eager mode; numpy is a hand-fused forward with the lecture's manual "
        "backward (the floor for an engine on NumPy).",
        "",
        "| batch | tensorgrad ms | torch ms | numpy ms | tg / torch | tg / numpy | targets |",
        "|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in res["steps"]:
        lines.append(f"| {r['batch']} | {r['tensorgrad_ms']:.3f} ({r['tensorgrad_faults']:.0f}) | "
                     f"{r['torch_ms']:.3f} ({r['torch_faults']:.0f}) | {r['numpy_ms']:.3f} ({r['numpy_faults']:.0f}) | "
                     f"**{r['tg_torch']:.2f}** | **{r['tg_numpy']:.2f}** | {_target_note(r)} |")
    lines += ["", f"Targets: {TARGETS}. The three losses after the last timed step agree: "
              + ", ".join(f"batch {r['batch']}: {r['tensorgrad_loss']:.5f} / {r['torch_loss']:.5f} / "
                          f"{r['numpy_loss']:.5f}" for r in res["steps"]) + "."]
    lines += ["", "## Per-op overhead: forward + backward of one op", "",
              "Median microseconds, the upstream gradient given (`y.backward(g)`); n is the leading dim.", "",
              "| op | n | input shapes | tensorgrad us | torch us | tg / torch |", "|---|---:|---|---:|---:|---:|"]
    for r in res["ops"]:
        shapes = " ".join(("x".join(map(str, s)) if isinstance(s, list) else s) for s in r["shapes"])
        lines.append(f"| {r['op']} | {r['n']} | {shapes} | {r['tensorgrad_us']:.1f} | {r['torch_us']:.1f} | "
                     f"{r['ratio']:.2f} |")
    lines += ["", "## The embedding gradient: scatter-add into C (27, 10) from X (batch, 3)", "",
              "| batch | np.add.at us | bincount us | one-hot matmul us |", "|---:|---:|---:|---:|"]
    for r in res["scatter"]:
        lines.append(f"| {r['batch']} | {r['add_at_us']:.1f} | {r['bincount_us']:.1f} | {r['onehot_matmul_us']:.1f} |")
    lines += ["", "## Memory of a training run", "",
              "One fresh process per framework: it imports only its own framework, loads the data and "
              "builds the model (the baseline RSS), resets the kernel's peak-RSS mark (`/proc/self/clear_refs`), "
              "then trains. Training peak = peak RSS (VmHWM) during training minus the baseline. "
              "Growth = RSS at the end minus RSS after the first sample interval.", "",
              "| framework | batch | steps | baseline MB | training peak MB | RSS growth MB | RSS samples (MB) |",
              "|---|---:|---:|---:|---:|---:|---|"]
    for r in res["memory"]:
        samples = " ".join(f"{kb / 1024:.1f}" for _, kb in r["rss_samples_kb"])
        lines.append(f"| {r['name']} | {r['batch']} | {r['steps']} | {r['baseline_kb'] / 1024:.1f} | "
                     f"{r['training_peak_kb'] / 1024:.1f} | {r['growth_kb'] / 1024:+.2f} | {samples} |")
    lines.append("")
    return "\n".join(lines)


def plot(res: dict, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(13, 4.8))
    batches = [r["batch"] for r in res["steps"]]
    x = np.arange(len(batches))
    for k, name in enumerate(NAMES):
        a1.bar(x + (k - 1) * 0.27, [r[f"{name}_ms"] for r in res["steps"]], 0.27, label=name)
    a1.set_xticks(x, [str(b) for b in batches])
    a1.set_yscale("log")
    a1.set_xlabel("batch size")
    a1.set_ylabel("ms per training step (median, log scale)")
    a1.set_title("makemore MLP training step, one thread each")
    a1.legend()
    ops = [r for r in res["ops"]]
    labels = [f"{r['op']} n={r['n']}" for r in ops]
    a2.barh(np.arange(len(ops)), [r["ratio"] for r in ops], color=["C0" if r["ratio"] <= 1 else "C3" for r in ops])
    a2.axvline(1.0, color="k", lw=1)
    a2.set_yticks(np.arange(len(ops)), labels, fontsize=7)
    a2.invert_yaxis()
    a2.set_xlabel("tensorgrad time / torch time (forward + backward)")
    a2.set_title("per-op overhead (< 1: tensorgrad faster)")
    fig.suptitle(f"tensorgrad vs torch vs NumPy, {res['machine']['date']}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


DOCS = ROOT / "docs" / "performance.md"
MARK_START = "<!-- latest results: start (written by python -m benchmarks.bench --update-docs) -->"
MARK_END = "<!-- latest results: end -->"


def update_docs(table: str, path: Path) -> None:
    """Replace what lies between the two markers of docs/performance.md with the new tables."""
    text = path.read_text()
    head, rest = text.split(MARK_START, 1)
    _, tail = rest.split(MARK_END, 1)
    body = table.split("\n", 2)[2].replace("\n## ", "\n### ")   # drop the title, nest the sections
    path.write_text(f"{head}{MARK_START}\n{body.strip()}\n{MARK_END}{tail}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="tiny sizes and few repetitions (the smoke test)")
    p.add_argument("--out", default=str(RESULTS), help="directory for latest.md/.json/.png (default: %(default)s)")
    p.add_argument("--skip-memory", action="store_true", help="leave out the memory runs")
    p.add_argument("--update-docs", action="store_true",
                   help="also put the tables into docs/performance.md (between its 'latest results' markers)")
    p.add_argument("--memory-child", choices=NAMES, help=argparse.SUPPRESS)
    p.add_argument("--batch", type=int, default=32, help=argparse.SUPPRESS)
    p.add_argument("--steps", type=int, default=10000, help=argparse.SUPPRESS)
    p.add_argument("--every", type=int, default=1000, help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if _NUMPY_WAS_IMPORTED:   # the thread variables came too late: start over in a fresh process
        return subprocess.call([sys.executable, "-m", "benchmarks.bench", *(argv if argv is not None else sys.argv[1:])],
                               cwd=ROOT)
    if args.memory_child:
        print(json.dumps(memory_child(args.memory_child, args.batch, args.steps, args.every)))
        return 0

    quick = args.quick
    batches = QUICK_BATCHES if quick else FULL_BATCHES
    res = dict(quick=quick, load_start=_load())
    res["machine"] = machine()
    print(f"tensorgrad benchmark on {res['machine']['cpu']}, one thread per side, load {res['load_start']:.2f}")
    print("training step (median of interleaved repetitions):")
    res["steps"] = bench_steps(batches)
    print("per-op forward + backward:")
    res["ops"] = bench_ops((32,) if quick else (32, 2048), reps=10 if quick else 300)
    print("embedding scatter-add:")
    res["scatter"] = bench_scatter(batches, reps=10 if quick else 200)
    print("memory (fresh processes):")
    runs = [] if args.skip_memory else [(32, 60, 20)] if quick else [(32, 10000, 1000), (2048, 300, 100)]
    res["memory"] = bench_memory(runs)
    res["load_end"] = _load()

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "latest.json").write_text(json.dumps(res, indent=1) + "\n")
    (out / "latest.md").write_text(to_markdown(res))
    plot(res, out / "latest.png")
    print(f"wrote {out / 'latest.md'}, latest.json and latest.png")
    if args.update_docs:
        update_docs(to_markdown(res), DOCS)
        print(f"updated {DOCS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
