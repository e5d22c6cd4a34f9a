"""The lecture's exercise-4 training run, timed in tensorgrad and in idiomatic torch eager (one thread each).

    python -m benchmarks.train_200k                  # 200,000 steps each, one after the other
    python -m benchmarks.train_200k --steps 20000    # shorter (the times are also scaled to 200k)

makemore BatchNorm MLP (n_embd 10, n_hidden 200, block_size 3), batch 32, SGD with lr 0.1,
then 0.01 from half of the steps on (step 100,000 of 200,000), on the training split of
names.txt; the fused step of benchmarks/contenders.py (the torch one as a torch user writes
it). All contenders start from the same weights and see the same batches; each runs in its
own fresh process. At the end the batch-norm statistics are calibrated on the whole
training split (as in the lecture) and the train and val losses are printed, so that the
two runs can be seen to have learned the same thing. Writes benchmarks/results/train_200k.md
and .json.
"""
import os
import sys

from benchmarks import one_thread

one_thread()   # before NumPy and torch are imported: one thread each

import argparse  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.contenders import CONTENDERS, build_dataset, init_weights, load_words  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
FULL_STEPS = 200_000
DEFAULT = ("tensorgrad", "torch")


def _has_compile() -> bool:
    import tensorgrad
    return hasattr(tensorgrad, "compile")


def _arrays(step) -> list:
    """The contender's parameters as NumPy arrays, in contenders.PARAMS order."""
    return [np.asarray(p.detach().numpy() if hasattr(p, "detach") else p) for p in step.params]


def calibrated_losses(step, splits) -> dict:
    """The lecture's end of training, the same NumPy code for every contender: batch-norm
    statistics calibrated on the whole training split (variance unbiased), then the mean
    cross-entropy on each split."""
    C, W1, b1, W2, b2, gain, bias = _arrays(step)
    def hidden(X):
        return C[X].reshape(len(X), -1) @ W1 + b1                     # (n, n_hidden)
    hpre = hidden(splits["train"][0])
    mean, var = hpre.mean(0), hpre.var(0, ddof=1)
    out = {}
    for name, (X, Y) in splits.items():
        logits = np.tanh(gain.reshape(-1) * (hidden(X) - mean) / np.sqrt(var + 1e-5) + bias.reshape(-1)) @ W2 + b2
        m = logits.max(1, keepdims=True)
        lse = np.log(np.exp(logits - m).sum(1)) + m[:, 0]
        out[name] = float((lse - logits[np.arange(len(Y)), Y]).mean())
    return out


def run(framework: str, steps: int, seed: int = 0) -> dict:
    """Train `steps` steps with one contender (fused form) in this process; wall time of the loop."""
    if framework.startswith("torch"):
        import torch
        torch.set_num_threads(1)
    words = load_words()
    n1, n2 = int(0.8 * len(words)), int(0.9 * len(words))
    splits = {"train": build_dataset(words[:n1]), "val": build_dataset(words[n1:n2])}
    Xtr, Ytr = splits["train"]
    step = CONTENDERS[framework](init_weights(), "fused")
    rng = np.random.default_rng(seed)
    decay = steps // 2
    t0, c0 = time.perf_counter(), time.process_time()
    for i in range(steps):
        ix = rng.integers(0, len(Ytr), 32)
        loss = step(*step.convert(Xtr[ix], Ytr[ix]), 0.1 if i < decay else 0.01)
        if (i + 1) % max(1, steps // 10) == 0:
            print(f"  {framework}: step {i + 1:7d}/{steps}  loss {loss:.4f}  {time.perf_counter() - t0:7.1f} s",
                  file=sys.stderr, flush=True)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    losses = calibrated_losses(step, splits)
    return dict(framework=framework, steps=steps, seconds=seconds, cpu_seconds=cpu, ms_per_step=cpu / steps * 1e3,
                seconds_200k=seconds * FULL_STEPS / steps, last_batch_loss=loss,
                **{f"{k}_loss": v for k, v in losses.items()})


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.train_200k", description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=FULL_STEPS, help="training steps per framework (default 200000)")
    p.add_argument("--contenders", default=",".join(DEFAULT),
                   help="comma-separated contenders, each run in its own process (default: %(default)s; "
                        "'tensorgrad replay' is added when tg.compile exists)")
    p.add_argument("--out", default=str(RESULTS), help="directory for train_200k.md/.json (default: %(default)s)")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(run(args.contenders, args.steps)))
        return 0

    rows = []
    names = args.contenders.split(",")
    if args.contenders == ",".join(DEFAULT) and _has_compile():
        names.insert(1, "tensorgrad replay")
    for fw in names:
        load = os.getloadavg()[0]
        cmd = [sys.executable, "-m", "benchmarks.train_200k", "--child", "--contenders", fw, "--steps", str(args.steps)]
        out = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True, check=True).stdout
        row = json.loads(out.strip().splitlines()[-1])
        row["load_start"], row["load_end"] = load, os.getloadavg()[0]
        rows.append(row)
        print(f"{fw}: {row['steps']} steps in {row['seconds']:.1f} s wall, {row['cpu_seconds']:.1f} s CPU "
              f"({row['ms_per_step']:.3f} ms/step); "
              f"train loss {row['train_loss']:.4f}, val loss {row['val_loss']:.4f}", flush=True)

    scaled = args.steps != FULL_STEPS
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = ["# The exercise-4 training run: tensorgrad against idiomatic torch eager", "",
             f"Run {date} with `python -m benchmarks.train_200k --steps {args.steps}`: batch 32, n_hidden 200, "
             f"lr 0.1 then 0.01 from step {args.steps // 2}, names.txt training split, one thread each, "
             "each framework in its own process, one after the other. Losses after calibrating batch norm "
             "on the training split. CPU time is the process's (the machine is shared: wall time includes "
             "waiting for a core)." + (f" The run was shortened to {args.steps} steps." if scaled else ""), "",
             "| contender | steps | CPU s | wall s | CPU ms / step | train loss | val loss | load (1 min) |",
             "|---|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        lines.append(f"| {r['framework']} | {r['steps']} | {r['cpu_seconds']:.1f} | {r['seconds']:.1f} | "
                     f"{r['ms_per_step']:.3f} | {r['train_loss']:.4f} | "
                     f"{r['val_loss']:.4f} | {r['load_start']:.2f} -> {r['load_end']:.2f} |")
    torch_row = next((r for r in rows if r["framework"] == "torch"), None)
    if torch_row:
        lines += [""] + [f"{r['framework']} / torch, CPU time: **{r['cpu_seconds'] / torch_row['cpu_seconds']:.2f}** "
                         f"(wall time {r['seconds'] / torch_row['seconds']:.2f})" for r in rows if r is not torch_row]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "train_200k.md").write_text("\n".join(lines) + "\n")
    (out / "train_200k.json").write_text(json.dumps(dict(date=date, commit=commit, steps=args.steps, runs=rows), indent=1) + "\n")
    print(f"wrote {out / 'train_200k.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
