"""tensorgrad against torch eager, torch.compile, jax.jit, HIPS autograd, mygrad and hand-written
NumPy, side by side, on one CPU thread.

    python -m benchmarks.bench                  # the full run (about 5 minutes on 2 cores)
    python -m benchmarks.bench --update-docs    # ... and regenerate docs/performance.md and the README's table
    python -m benchmarks.bench --quick          # seconds: small sizes, no torch.compile (the smoke test)
    python -m benchmarks.bench --docs-from benchmarks/results/latest.json   # docs again, after train_200k
    python -m benchmarks.bench --quick --batches 32 --forms fused --contenders tensorgrad,torch,numpy

Measures, in one process and interleaved (within every repetition each contender takes one
step, in a fresh seeded random order, so that a teammate's job or a frequency change hits all
alike, and no contender always runs after the same one: at large batch a step's time depends
on the heap the previous step left, since glibc gives freed memory back to the OS and the next
large arrays page-fault it in again):
  1. one training step of the makemore BatchNorm MLP (benchmarks/contenders.py) in two forms,
     the lecture's chunked forward and the fused one, at batch 32, 256, 2048 and 16384, after
     checking that every contender computes the same loss from the same weights;
  2. the per-op overhead in a chain: forward + backward of a long chain of small elementwise ops;
  3. peak training memory, one fresh process per contender.
The 200,000-step run is benchmarks/train_200k.py; its latest result is shown with these.
Every side runs on one thread: the BLAS/OpenMP variables are set to 1 at the top of this file,
before NumPy, torch or jax is imported (a process that imported NumPy earlier re-runs this
program in a fresh one), torch.set_num_threads(1), and XLA is told to use one CPU thread.
It reports; it never asserts a speed.
"""
import os
import sys

from benchmarks import one_thread

_NUMPY_WAS_IMPORTED = "numpy" in sys.modules   # then the variables below come too late for it
one_thread()
os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") +
                           " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1").strip()

import argparse  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.contenders import CONTENDERS, FORMS, NAMES, init_weights, train_split  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
DOCS = ROOT / "docs" / "performance.md"
README = ROOT / "README.md"

# (batch size, warm-up steps, timed repetitions): fewer repetitions where a step is long
FULL_BATCHES = ((32, 30, 300), (256, 20, 150), (2048, 5, 30), (16384, 2, 7))
QUICK_BATCHES = ((32, 3, 10), (256, 2, 5))
REFERENCE = "torch"          # ratios are to torch eager, same form, same run
# CPU time of this process (all its threads), not wall time: on a machine shared with other jobs
# wall time mostly measures waiting for a core. Every contender runs on one thread anyway.
CLOCK = time.process_time


def _load() -> float:
    return os.getloadavg()[0]


def _import_torch():
    import torch
    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # can only be set once, before any parallel work
        pass
    return torch


def make_contenders(names, forms, weights, notes: dict) -> dict:
    """(name, form) -> a step object; a framework that is not installed gets a note instead."""
    steps = {}
    for name in names:
        for form in forms:
            try:
                steps[name, form] = CONTENDERS[name](weights, form)
            except ImportError as e:
                notes[name] = f"skipped: {e}"
    return steps


# ----------------------------------------------------------------------------
# 1. one training step

def bench_steps(batches, names, forms, notes: dict, seed: int = 0) -> list:
    """Median step time (ms) of each (contender, form) at each batch size, and its loss check."""
    _import_torch()
    X, Y = train_split()
    rng = np.random.default_rng(seed)
    rows = []
    for batch, warmup, reps in batches:
        steps = make_contenders(names, forms, init_weights(), notes)
        keys = list(steps)
        # the same sequence of batches for everyone, converted ahead of time
        ix = [rng.integers(0, len(X), batch) for _ in range(1 + warmup + reps)]
        data = {k: [s.convert(X[i], Y[i]) for i in ix] for k, s in steps.items()}
        # the loss check: one step from the same weights on the same batch (compiles what compiles)
        ref = None
        first = {}
        for k in keys:
            t0 = time.perf_counter()
            first[k] = steps[k](*data[k][0], 0.1)
            first[k + ("seconds",)] = time.perf_counter() - t0
            ref = first[k] if ref is None else ref
        wrong = [k for k in keys if abs(first[k] - ref) > 1e-4 * abs(ref)]
        for k in wrong:
            notes[f"{k[0]} ({k[1]})"] = f"left out at batch {batch}: loss {first[k]:.6f}, others {ref:.6f}"
            keys.remove(k)
        times = {k: [] for k in keys}
        order = np.random.default_rng(batch)
        for r in range(warmup + reps):
            for j in order.permutation(len(keys)):
                k = keys[j]
                t0 = CLOCK()
                steps[k](*data[k][1 + r], 0.1)
                t1 = CLOCK()
                if r >= warmup:
                    times[k].append(t1 - t0)
        row = dict(batch=batch, reps=reps, load=_load(), first_loss=ref, ms={}, p10_ms={}, first_step_s={})
        for k in keys:
            label = f"{k[0]}|{k[1]}"
            row["ms"][label] = float(np.median(times[k]) * 1e3)
            row["p10_ms"][label] = float(np.percentile(times[k], 10) * 1e3)
            row["first_step_s"][label] = first[k + ("seconds",)]
        rows.append(row)
        line = "  ".join(f"{k[0]}/{k[1][0]} {row['ms'][f'{k[0]}|{k[1]}']:.3f}" for k in keys)
        print(f"  batch {batch:5d} (loss {ref:.5f} on all): {line}", flush=True)
    return rows


def ratio(row, name, form, to=REFERENCE):
    a, b = row["ms"].get(f"{name}|{form}"), row["ms"].get(f"{to}|{form}")
    return None if a is None or b is None else a / b


# ----------------------------------------------------------------------------
# 2. per-op overhead in a chain

CHAIN_SHAPE = (16,)


def _chain_tape(m, x, a, b, k: int):
    """k ops: (x * a + b).tanh() repeated, a and b constants; m supplies tanh."""
    for _ in range(k // 3):
        x = m(x * a + b)
    return x.sum()


class MinimalTape:
    """The least a NumPy tape can do, for scale: micrograd's design on arrays (a node per op with a
    closure for its rule, a depth-first topological sort, gradients summed on the node). No dtype
    promotion, broadcasting, views, versions, hooks or error checks: what tensorgrad costs beyond this
    row is what torch's semantics cost."""
    __slots__ = ("data", "grad", "prev", "rule")

    def __init__(self, data, prev=(), rule=None):
        self.data, self.grad, self.prev, self.rule = data, None, prev, rule

    def __mul__(self, other):
        return MinimalTape(self.data * other.data, (self, other), lambda g: (g * other.data, g * self.data))

    def __add__(self, other):
        return MinimalTape(self.data + other.data, (self, other), lambda g: (g, g))

    def tanh(self):
        y = np.tanh(self.data)
        return MinimalTape(y, (self,), lambda g: (g * (1 - y * y),))

    def sum(self):
        return MinimalTape(self.data.sum(), (self,), lambda g: (np.broadcast_to(g, self.data.shape),))

    def backward(self):
        order, seen, stack = [], set(), [(self, False)]
        while stack:                                  # (iterative: a chain of thousands of ops)
            v, done = stack.pop()
            if done:
                order.append(v)
            elif id(v) not in seen:
                seen.add(id(v))
                stack += [(v, True)] + [(p, False) for p in v.prev]
        self.grad = np.ones_like(self.data)
        for v in reversed(order):
            if v.rule is not None:
                for p, g in zip(v.prev, v.rule(v.grad)):
                    p.grad = g if p.grad is None else p.grad + g


def bench_chain(names, reps: int, k: int = 300) -> list:
    """Microseconds per op, forward + backward: (time of 2k ops - time of k ops) / k."""
    rng = np.random.default_rng(4)
    x0, a0, b0 = (rng.standard_normal(CHAIN_SHAPE).astype(np.float32) * 0.5 for _ in range(3))
    runs = {}
    if "tensorgrad" in names:
        import tensorgrad as tg
        x, a, b = tg.tensor(x0, requires_grad=True), tg.tensor(a0), tg.tensor(b0)

        def run_tg(n):
            x.grad = None
            _chain_tape(tg.tanh, x, a, b, n).backward()
        runs["tensorgrad"] = run_tg
    if "torch" in names:
        torch = _import_torch()
        xt, at, bt = torch.tensor(x0, requires_grad=True), torch.tensor(a0), torch.tensor(b0)

        def run_torch(n):
            xt.grad = None
            _chain_tape(torch.tanh, xt, at, bt, n).backward()
        runs["torch"] = run_torch
    if "autograd" in names:
        try:
            import autograd
            import autograd.numpy as anp
            grads = {n: autograd.grad(lambda v, n=n: _chain_tape(anp.tanh, v, a0, b0, n)) for n in (k, 2 * k)}
            runs["autograd"] = lambda n: grads[n](x0)
        except ImportError:
            pass
    if "mygrad" in names:
        try:
            import mygrad as mg
            xm = mg.tensor(x0)
            runs["mygrad"] = lambda n: _chain_tape(mg.tanh, xm, a0, b0, n).backward()
        except ImportError:
            pass
    if "numpy" in names:   # the least a tape costs; and no tape: the forward's NumPy calls alone
        xm, am, bm = MinimalTape(x0), MinimalTape(a0), MinimalTape(b0)

        def run_minimal(n):
            xm.grad = None
            _chain_tape(MinimalTape.tanh, xm, am, bm, n).backward()
        runs["minimal NumPy tape (no checks)"] = run_minimal
        runs["numpy (forward only, no tape)"] = lambda n: _chain_tape(np.tanh, x0, a0, b0, n)
    times = {name: {k: [], 2 * k: []} for name in runs}
    for r in range(reps + 2):
        for name, run in runs.items():
            for n in (k, 2 * k):
                t0 = CLOCK()
                run(n)
                if r >= 2:
                    times[name][n].append(CLOCK() - t0)
    rows = []
    for name in runs:
        us = (np.median(times[name][2 * k]) - np.median(times[name][k])) / k * 1e6
        rows.append(dict(name=name, us_per_op=float(us), ops=k))
        print(f"  {name:32s} {us:6.2f} us per op", flush=True)
    return rows


# ----------------------------------------------------------------------------
# 3. memory, one fresh process per contender

def _status_kb(field: str) -> int:
    """VmRSS (resident now) or VmHWM (the peak since the last reset) from /proc/self/status."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field + ":"))


def memory_child(name: str, form: str, batch: int, steps: int) -> dict:
    """Run in a fresh process: import only `name`'s framework, load the data and build the step
    (the baseline), reset the peak-RSS mark, then train `steps` steps: the peak includes what the
    first steps set up (torch's autograd engine, jax's compilation). Growth is the RSS at the end
    minus the RSS after the first tenth of the steps. (ru_maxrss cannot be reset, and a child
    started with vfork inherits its parent's.)"""
    if name.startswith("torch"):
        _import_torch()
    X, Y = train_split()
    step = CONTENDERS[name](init_weights(), form)
    rng = np.random.default_rng(3)
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")                                       # VmHWM := VmRSS (Linux >= 4.0)
    base = warm = _status_kb("VmRSS")
    for i in range(steps):
        ix = rng.integers(0, len(X), batch)
        step(*step.convert(X[ix], Y[ix]), 0.1)
        if i + 1 == max(1, steps // 10):
            warm = _status_kb("VmRSS")
    end = _status_kb("VmRSS")
    peak = _status_kb("VmHWM")
    return dict(name=name, form=form, batch=batch, steps=steps, baseline_kb=base, peak_kb=peak,
                training_peak_kb=peak - base, growth_kb=end - warm)


def bench_memory(runs, names, notes) -> list:
    rows = []
    for batch, steps in runs:
        for name in names:
            if name in notes and notes[name].startswith("skipped"):
                continue
            cmd = [sys.executable, "-m", "benchmarks.bench", "--memory-child", name, "--batch", str(batch),
                   "--steps", str(steps)]
            proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
            if proc.returncode != 0:
                notes[f"memory of {name}"] = "failed: " + proc.stderr.strip().splitlines()[-1][:200]
                continue
            row = json.loads(proc.stdout.strip().splitlines()[-1])
            rows.append(row)
            print(f"  {name:18s} batch {batch:5d}, {steps} steps: training peak "
                  f"{row['training_peak_kb'] / 1024:7.2f} MB over {row['baseline_kb'] / 1024:6.1f} MB", flush=True)
    return rows


# ----------------------------------------------------------------------------
# the report

def _git(*args) -> str:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    except OSError:
        return "?"


def machine() -> dict:
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    import torch
    versions = {"torch": torch.__version__}
    for mod in ("jax", "autograd", "mygrad"):
        try:
            import importlib.metadata
            versions[mod] = importlib.metadata.version(mod)
        except Exception:
            versions[mod] = None
    dirty = bool(_git("status", "--porcelain", "tensorgrad", "benchmarks/contenders.py"))
    return dict(cpu=cpu, cores=os.cpu_count(), python=platform.python_version(), numpy=np.__version__,
                versions=versions, os=platform.platform(), threads_per_side=1,
                date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                commit=_git("rev-parse", "--short", "HEAD") + (" + uncommitted changes" if dirty else ""))


GOALS = [  # (words, form, batches, contender, reference, limit): issue 13's goals
    ("dynamic, chunked, B=32", "chunked", (32,), "tensorgrad", "torch", 0.7),
    ("dynamic, fused, B=32", "fused", (32,), "tensorgrad", "torch", 0.6),
    ("dynamic, chunked, B>=256", "chunked", (256, 2048, 16384), "tensorgrad", "torch", 0.9),
    ("dynamic, fused, B>=256", "fused", (256, 2048, 16384), "tensorgrad", "torch", 0.9),
    ("dynamic, every form, B=16384", "both", (16384,), "tensorgrad", "torch", 1.0),
    ("replay, chunked, B=32", "chunked", (32,), "tensorgrad replay", "torch", 0.55),
    ("replay, fused, B=32", "fused", (32,), "tensorgrad replay", "torch", 0.5),
    ("replay within 1.5x of jax.jit, B=32, chunked", "chunked", (32,), "tensorgrad replay", "jax.jit", 1.5),
    ("replay within 1.5x of jax.jit, B=32, fused", "fused", (32,), "tensorgrad replay", "jax.jit", 1.5),
    ("replay, fused, B>=2048, within 1.1x of the NumPy floor", "fused", (2048, 16384), "tensorgrad replay",
     "numpy", 1.1),
    ("dynamic, every form, B>=2048, within 1.05x of the NumPy floor (issue 20)", "both", (2048, 16384),
     "tensorgrad", "numpy", 1.05),
    ("replay, every form, B>=2048, within 1.05x of the NumPy floor (issue 20)", "both", (2048, 16384),
     "tensorgrad replay", "numpy", 1.05),
]


def goal_rows(res) -> list:
    out = []
    for words, form, batches, name, ref, limit in GOALS:
        vals = []
        for row in res["steps"]:
            if row["batch"] in batches:
                for f in (FORMS if form == "both" else (form,)):
                    v = ratio(row, name, f, ref)
                    if v is not None:
                        vals.append(v)
        if vals:
            out.append((f"tg / {ref}: {words} <= {limit}", ", ".join(f"{v:.2f}" for v in vals),
                        "met" if max(vals) <= limit else "missed"))
    mem = {r["name"]: r["training_peak_kb"] / 1024 for r in res["memory"] if r["batch"] == 32}
    if "tensorgrad" in mem:
        worst = max(v for k, v in mem.items() if k.startswith("tensorgrad"))
        out.append(("peak training memory at batch 32 no higher than before issue 13 (0.35-0.6 MB)",
                    ", ".join(f"{k} {v:.2f} MB" for k, v in mem.items() if k.startswith("tensorgrad") or k == "torch"),
                    "met" if worst <= 0.6 + 0.05 else "missed"))
    t = res.get("train_200k")
    runs = {r["framework"]: r for r in t["runs"]} if t else {}
    if "torch" in runs and "tensorgrad" in runs and "cpu_seconds" in runs["torch"]:
        vals = {k: r["cpu_seconds"] / runs["torch"]["cpu_seconds"] for k, r in runs.items() if k != "torch"}
        out.append(("the 200k-step run faster than idiomatic torch's (CPU time)",
                    ", ".join(f"{k} {v:.2f}" for k, v in vals.items()), "met" if max(vals.values()) < 1 else "missed"))
    chain = {r["name"]: r["us_per_op"] for r in res["chain"]}
    if "tensorgrad" in chain:
        out.append(("per op in a chain, forward + backward <= 2.5 us",
                    f"{chain['tensorgrad']:.2f} us (torch {chain.get('torch', float('nan')):.2f} us)",
                    "met" if chain["tensorgrad"] <= 2.5 else "missed"))
    return out


def _cell(row, name, form) -> str:
    ms = row["ms"].get(f"{name}|{form}")
    if ms is None:
        return "-"
    r = ratio(row, name, form)
    return f"{ms:.3f} ({r:.2f})" if name != REFERENCE and r is not None else f"{ms:.3f}"


def to_markdown(res: dict) -> str:
    m = res["machine"]
    v = m["versions"]
    extras = ", ".join(f"{k} {v[k]}" for k in ("jax", "autograd", "mygrad") if v.get(k))
    lines = [
        "# tensorgrad benchmark: latest results",
        "",
        f"Run {m['date']} with `python -m benchmarks.bench{' --quick' if res['quick'] else ''}` on "
        f"{m['cpu']} ({m['cores']} cores), {m['os']}; Python {m['python']}, NumPy {m['numpy']}, "
        f"torch {v['torch']}{', ' + extras if extras else ''}; one thread per side; code at {m['commit']}. "
        f"Load average (1 min) {res['load_start']:.2f} at the start, {res['load_end']:.2f} at the end "
        "(teammates' jobs share the cores: the contenders are interleaved, so ratios are steadier than times).",
        "",
        "## One training step of the makemore MLP (n_embd 10, n_hidden 200, block_size 3)",
        "",
        "Median milliseconds per step (forward, backward, SGD update), and in brackets the ratio to torch "
        "eager in the same form and the same run (below 1: faster than torch). *chunked* is the lecture's "
        "exercise-1 forward (~20 ops); *fused* is the step as each framework's user writes it (fused batch "
        "norm updating its running statistics, the framework's cross-entropy). Every contender started from "
        "the same weights and computed the same first loss (to 1e-4) before the timing: "
        + ", ".join(f"batch {r['batch']}: {r['first_loss']:.5f}" for r in res["steps"]) + ".",
        "",
    ]
    names = [n for n in CONTENDERS if any(f"{n}|{f}" in r["ms"] for r in res["steps"] for f in FORMS)]
    for form in FORMS:
        if not any(f"{n}|{form}" in r["ms"] for r in res["steps"] for n in names):
            continue
        lines += [f"**{form}**", "", "| contender | " + " | ".join(f"B={r['batch']}" for r in res["steps"]) + " |",
                  "|---|" + "---:|" * len(res["steps"])]
        for n in names:
            if any(f"{n}|{form}" in r["ms"] for r in res["steps"]):
                lines.append(f"| {n} | " + " | ".join(_cell(r, n, form) for r in res["steps"]) + " |")
        lines.append("")
    compiles = [f"{k.split('|')[0]} ({k.split('|')[1]}, B={r['batch']}) {s:.1f} s"
                for r in res["steps"] for k, s in r["first_step_s"].items() if s > 1.0]
    if compiles:
        lines += ["First steps over a second (compilation, not in the medians): " + "; ".join(compiles) + ".", ""]
    lines += ["## Against the goals of issue 13", "", "| goal | measured | |", "|---|---|---|"]
    lines += [f"| {g} | {val} | {ok} |" for g, val, ok in goal_rows(res)]
    lines += ["", "## Per-op overhead in a chain", "",
              f"Forward + backward of a chain of small elementwise ops (`x = tanh(x * a + b)` repeated, shape "
              f"{CHAIN_SHAPE}), per op: (time of {2 * res['chain'][0]['ops'] if res['chain'] else '2k'} ops - time of "
              f"{res['chain'][0]['ops'] if res['chain'] else 'k'}) / their difference, medians.", "",
              "| contender | us per op |", "|---|---:|"]
    lines += [f"| {r['name']} | {r['us_per_op']:.2f} |" for r in res["chain"]]
    if res["memory"]:
        lines += ["", "## Peak training memory", "",
                  "One fresh process per contender (fused form): it imports its framework, loads the data and builds "
                  "the step (the baseline), resets the kernel's peak-RSS mark (`/proc/self/clear_refs`), then "
                  "trains. Training peak = peak RSS (VmHWM) minus the baseline, so it includes what the first "
                  "steps set up (torch's autograd engine, jax's compilation); growth = RSS at the end minus RSS "
                  "after the first tenth of the steps.", "",
                  "| contender | batch | steps | baseline MB | training peak MB | growth MB |",
                  "|---|---:|---:|---:|---:|---:|"]
        lines += [f"| {r['name']} | {r['batch']} | {r['steps']} | {r['baseline_kb'] / 1024:.1f} | "
                  f"{r['training_peak_kb'] / 1024:.2f} | {r['growth_kb'] / 1024:+.2f} |" for r in res["memory"]]
    t200 = res.get("train_200k")
    if t200:
        lines += ["", "## The lecture's 200,000-step run", "", t200_text(t200)]
    if res["notes"]:
        lines += ["", "## Notes", ""] + [f"- {k}: {v}" for k, v in sorted(res["notes"].items())]
    lines.append("")
    return "\n".join(lines)


def t200_text(t) -> str:
    rows = ["| contender | steps | CPU s | wall s | CPU ms / step | train loss | val loss | load (1 min) |",
            "|---|---:|---:|---:|---:|---:|---:|---|"]
    for r in t["runs"]:
        rows.append(f"| {r['framework']} | {r['steps']} | {r.get('cpu_seconds', float('nan')):.1f} | "
                    f"{r['seconds']:.1f} | {r['ms_per_step']:.3f} | {r['train_loss']:.4f} | {r['val_loss']:.4f} | "
                    f"{r['load_start']:.1f} -> {r['load_end']:.1f} |")
    return (f"`python -m benchmarks.train_200k` (fused form, batch 32, lr 0.1 then 0.01, each contender in its own "
            f"fresh process, one after the other), run {t['date']} at code {t.get('commit', '?')}; from "
            "`benchmarks/results/train_200k.json`:\n\n" + "\n".join(rows))


def plot(res: dict, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(FORMS), figsize=(14, 4.8), sharey=True)
    batches = [r["batch"] for r in res["steps"]]
    x = np.arange(len(batches))
    for ax, form in zip(axes, FORMS):
        names = [n for n in CONTENDERS if any(f"{n}|{form}" in r["ms"] for r in res["steps"])]
        if not names:
            ax.set_visible(False)
            continue
        w = 0.8 / max(1, len(names))
        for k, n in enumerate(names):
            ax.bar(x + (k - (len(names) - 1) / 2) * w, [r["ms"].get(f"{n}|{form}", 0) for r in res["steps"]], w,
                   label=n)
        ax.set_xticks(x, [str(b) for b in batches])
        ax.set_yscale("log")
        ax.set_xlabel("batch size")
        ax.set_title(f"{form} step, one thread each")
        ax.legend(fontsize=7)
    axes[0].set_ylabel("ms per training step (median, log scale)")
    fig.suptitle(f"makemore MLP training step, {res['machine']['date']}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def summary_table(res: dict) -> str:
    """The README's short table: ms per step and the ratio to torch eager, both forms."""
    show = [n for n in ("tensorgrad", "tensorgrad replay", "torch", "torch.compile", "jax.jit", "numpy")
            if any(f"{n}|{f}" in r["ms"] for r in res["steps"] for f in FORMS)]
    lines = ["| form | contender | " + " | ".join(f"B={r['batch']}" for r in res["steps"]) + " |",
             "|---|---|" + "---:|" * len(res["steps"])]
    for form in FORMS:
        for n in show:
            if any(f"{n}|{form}" in r["ms"] for r in res["steps"]):
                lines.append(f"| {form} | {n} | " + " | ".join(_cell(r, n, form) for r in res["steps"]) + " |")
    return "\n".join(lines)


MARK_START = "<!-- benchmark results: start (written by python -m benchmarks.bench --update-docs) -->"
MARK_END = "<!-- benchmark results: end -->"


def replace_between_marks(path: Path, body: str) -> None:
    text = path.read_text()
    head, rest = text.split(MARK_START, 1)
    _, tail = rest.split(MARK_END, 1)
    path.write_text(f"{head}{MARK_START}\n{body.strip()}\n{MARK_END}{tail}")


def update_docs(res: dict) -> None:
    """docs/performance.md gets the whole report; the README its summary, from the same run."""
    body = to_markdown(res).split("\n", 2)[2].replace("\n## ", "\n### ")   # drop the title, nest the sections
    replace_between_marks(DOCS, body)
    m = res["machine"]
    readme = (f"Run {m['date']} on {m['cpu']} ({m['cores']} cores), one thread each, code at {m['commit']}; "
              "ms per training step and, in brackets, the ratio to torch eager in the same form and run:\n\n"
              + summary_table(res))
    t = res.get("train_200k")
    if t and len(t["runs"]) >= 2:
        parts = ", ".join(f"{r['framework']} {r.get('cpu_seconds', r['seconds']):.0f} s" for r in t["runs"])
        readme += (f"\n\nThe lecture's 200,000-step run (batch 32, `python -m benchmarks.train_200k`, {t['date']}, CPU time): "
                   f"{parts}, all reaching train/val loss {t['runs'][0]['train_loss']:.3f} / "
                   f"{t['runs'][0]['val_loss']:.3f}.")
    mem = [r for r in res["memory"] if r["batch"] == 32]
    if mem:
        readme += ("\n\nPeak training memory at batch 32 (over the set-up, fresh processes): " +
                   ", ".join(f"{r['name']} {r['training_peak_kb'] / 1024:.1f} MB" for r in mem) + ".")
    replace_between_marks(README, readme)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="small sizes, few repetitions, no torch.compile")
    p.add_argument("--batches", help="comma-separated batch sizes (default: 32,256,2048,16384; quick: 32,256)")
    p.add_argument("--forms", default=",".join(FORMS), help="comma-separated forms (default: %(default)s)")
    p.add_argument("--contenders", help="comma-separated contenders (default: all; names as in the tables)")
    p.add_argument("--out", default=str(RESULTS), help="directory for latest.md/.json/.png (default: %(default)s)")
    p.add_argument("--skip-memory", action="store_true", help="leave out the memory runs")
    p.add_argument("--update-docs", action="store_true",
                   help="also regenerate the results in docs/performance.md and the README (between their markers)")
    p.add_argument("--docs-from", metavar="JSON",
                   help="regenerate the docs and the README from this latest.json (and the latest train_200k.json) "
                        "without running anything")
    p.add_argument("--memory-child", choices=list(CONTENDERS), help=argparse.SUPPRESS)
    p.add_argument("--batch", type=int, default=32, help=argparse.SUPPRESS)
    p.add_argument("--steps", type=int, default=5000, help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if _NUMPY_WAS_IMPORTED:   # the thread variables came too late: start over in a fresh process
        return subprocess.call([sys.executable, "-m", "benchmarks.bench", *(argv if argv is not None else sys.argv[1:])],
                               cwd=ROOT)
    if args.memory_child:
        print(json.dumps(memory_child(args.memory_child, "fused", args.batch, args.steps)))
        return 0
    if args.docs_from:
        res = json.loads(Path(args.docs_from).read_text())
        t200 = RESULTS / "train_200k.json"
        res["train_200k"] = json.loads(t200.read_text()) if t200.exists() else None
        (Path(args.docs_from).parent / "latest.md").write_text(to_markdown(res))
        update_docs(res)
        print(f"updated {DOCS} and {README} from {args.docs_from}")
        return 0

    quick = args.quick
    table = {b[0]: b for b in (QUICK_BATCHES if quick else FULL_BATCHES) + FULL_BATCHES}
    batches = ([table.get(int(b), (int(b), 3, 10)) for b in args.batches.split(",")] if args.batches
               else QUICK_BATCHES if quick else FULL_BATCHES)
    forms = [f for f in args.forms.split(",") if f]
    names = args.contenders.split(",") if args.contenders else list(CONTENDERS)
    unknown = [n for n in names if n not in CONTENDERS] + [f for f in forms if f not in FORMS]
    if unknown:
        p.error(f"unknown contender or form {unknown}; contenders: {list(CONTENDERS)}, forms: {list(FORMS)}")
    notes = {}
    if quick and "torch.compile" in names and not args.contenders:
        names.remove("torch.compile")
        notes["torch.compile"] = "left out of --quick (it compiles for ~20 s per batch size and form)"
    res = dict(quick=quick, load_start=_load(), notes=notes)
    if not os.path.exists(NAMES):
        notes["data"] = f"{NAMES} not found: made-up names were used (set TENSORGRAD_NAMES)"
    res["machine"] = machine()
    print(f"tensorgrad benchmark on {res['machine']['cpu']}, one thread per side, load {res['load_start']:.2f}")
    print("training step (medians of interleaved repetitions; ms):")
    res["steps"] = bench_steps(batches, names, forms, notes)
    print("per-op overhead in a chain (forward + backward):")
    res["chain"] = bench_chain(names, reps=5 if quick else 40, k=150 if quick else 300)
    print("peak training memory (fresh processes):")
    runs = [] if args.skip_memory else [(32, 100)] if quick else [(32, 3000), (2048, 100)]
    res["memory"] = bench_memory(runs, [n for n in names if n != "torch.compile"], notes)
    t200 = RESULTS / "train_200k.json"
    res["train_200k"] = json.loads(t200.read_text()) if t200.exists() else None
    res["load_end"] = _load()

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "latest.json").write_text(json.dumps(res, indent=1) + "\n")
    (out / "latest.md").write_text(to_markdown(res))
    plot(res, out / "latest.png")
    print(f"wrote {out / 'latest.md'}, latest.json and latest.png")
    for k, v in sorted(notes.items()):
        print(f"note: {k}: {v}")
    if args.update_docs:
        update_docs(res)
        print(f"updated {DOCS} and {README}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
