"""The model zoo, tensorgrad against torch eager: for every type, the step time (forward, backward,
optimizer step) and the test loss after the same number of steps.

Both sides start from the same weights (torch's init, copied into tensorgrad with scripts/from_torch.py),
see the same batches (indices drawn once from one NumPy generator) and follow the same recipe as
`tensorgrad-makemore train --type T` (makemore.py's AdamW for its types, the lectures' SGD with the lr
/ 10 step for theirs, decayed at the same fraction of --steps). They run interleaved in one process,
in chunks of --chunk steps, one thread each (BLAS/OpenMP pinned to 1 before NumPy and torch load),
so that both see the same machine load; the step time is CPU time (process_time: the machine is shared,
and a descheduled process is not charged), the median over chunks. Test losses: on the
whole test split, in eval mode (makemore types: the mean of 100-word batch means, as makemore.py).

    python -m benchmarks.zoo                              # all types, 3,000 steps (names.txt if found)
    python -m benchmarks.zoo --steps 20000 --eval-at 3000 20000
    python -m benchmarks.zoo --types bigram gru --steps 500 --out /tmp/zoo

Writes <out>/zoo.md, zoo.json and zoo.png (default benchmarks/results). Only reports: no test asserts
a speed.
"""
import os

from benchmarks import one_thread

one_thread()

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from models.data import local_names_txt  # noqa: E402
from models.config import TYPES, Config, build_model, lr_at, make_optimizer  # noqa: E402
import tensorgrad as tg  # noqa: E402
from models.train import evaluate, load_data, loss_of  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
# makemore.py on torch, one thread, its defaults, 20,000 steps (issue 12): test loss and step time (ms)
MAKEMORE_REFERENCE = {"bigram": (2.450, 0.55), "mlp": (2.030, 5.0), "rnn": (2.056, 2.0), "gru": (1.999, 5.1),
                      "bow": (2.156, 1.9), "transformer": (1.984, 18.2)}


def torch_evaluate(torch, torch_zoo, model, X, Y, batch_size: int) -> float:
    model.eval()
    losses, sizes = [], []
    with torch.no_grad():
        for i in range(0, len(Y), batch_size):
            xb, yb = torch.from_numpy(X[i:i + batch_size]), torch.from_numpy(Y[i:i + batch_size])
            losses.append(torch_zoo.loss_of(model, xb, yb).item())
            sizes.append(len(yb))
    model.train()
    return float(np.mean(losses)) if Y.ndim == 2 else float(np.dot(losses, sizes) / sum(sizes))


def setup(type_: str, data_source: str, steps: int) -> tuple:
    """(config, data) of a type as the training program makes them: the vocabulary and block size from the data."""
    config = Config(type=type_, data=data_source, steps=steps)
    data = load_data(config)
    block = data.max_word_length + 1 if config.recipe == "makemore" else config.block_size
    return Config(type=type_, data=data_source, steps=steps, vocab_size=len(data.vocab), block_size=block), data


def run_type(type_: str, data_source: str, steps: int, eval_at: list, chunk: int, log=print) -> dict:
    """One type: both frameworks, interleaved, from the same weights and batches."""
    import torch
    from benchmarks import torch_zoo
    from scripts.from_torch import load_torch_into

    config, data = setup(type_, data_source, steps)
    torch.manual_seed(config.seed)
    theirs = torch_zoo.build(config)
    ours, replayed = build_model(config), build_model(config)
    load_torch_into(ours, theirs)
    load_torch_into(replayed, theirs)
    opt, topt = make_optimizer(config, ours.parameters()), torch_zoo.make_optimizer(config, theirs.parameters())
    ropt = make_optimizer(config, replayed.parameters())
    replay_loss = tg.compile(lambda X, Y: loss_of(replayed, X, Y))     # as the training program steps
    Xtr, Ytr = data.splits["train"]
    Xte, Yte = data.splits["test"]
    eval_bs = 100 if config.recipe == "makemore" else 50000
    batches = np.random.default_rng(config.seed).integers(0, len(Xtr), (steps, config.batch_size))
    Xtr_t, Ytr_t = torch.from_numpy(Xtr), torch.from_numpy(Ytr)

    def tg_steps(a, b, model=ours, opt=opt, step_loss=lambda X, Y: loss_of(ours, X, Y)):
        for i in range(a, b):
            ix = batches[i]
            loss = step_loss(Xtr[ix], Ytr[ix])
            opt.zero_grad()
            loss.backward()
            for group in opt.param_groups:
                group["lr"] = lr_at(config, i)
            opt.step()
        return loss.item()

    def replay_steps(a, b):
        return tg_steps(a, b, replayed, ropt, replay_loss)

    def torch_steps(a, b):
        for i in range(a, b):
            ix = torch.from_numpy(batches[i])
            loss = torch_zoo.loss_of(theirs, Xtr_t[ix], Ytr_t[ix])
            topt.zero_grad(set_to_none=True)
            loss.backward()
            for group in topt.param_groups:
                group["lr"] = lr_at(config, i)
            topt.step()
        return loss.item()

    times = {"tensorgrad": [], "replay": [], "torch": []}
    evals = []
    bounds = sorted(set(list(range(chunk, steps, chunk)) + [steps] + [s for s in eval_at if s <= steps]))
    start = 0
    for end in bounds:
        for name, fn in (("tensorgrad", tg_steps), ("replay", replay_steps), ("torch", torch_steps)):
            t0 = time.process_time()
            fn(start, end)
            times[name].append((time.process_time() - t0) / (end - start))
        start = end
        if end in eval_at:
            a = evaluate(ours, Xte, Yte, batch_size=eval_bs)
            b = torch_evaluate(torch, torch_zoo, theirs, Xte, Yte, eval_bs)
            evals.append(dict(step=end, tensorgrad=a, torch=b))
            log(f"  {type_:12s} step {end:6d}: test loss tensorgrad {a:.4f}  torch {b:.4f}  (diff {a - b:+.4f})")
    ms = {k: 1000 * float(np.median(v)) for k, v in times.items()}
    n_params = sum(p.numel() for p in ours.parameters())
    log(f"  {type_:12s} {n_params} parameters; step time tensorgrad {ms['tensorgrad']:.2f} ms, replayed "
        f"{ms['replay']:.2f} ms, torch {ms['torch']:.2f} ms")
    return dict(type=type_, params=n_params, ms=ms, evals=evals, recipe=config.recipe,
                optimizer=config.optimizer, lr=config.lr, batch_size=config.batch_size)


def table(results: list, eval_at: list) -> str:
    head = "| type | params | tensorgrad ms/step | replayed | torch ms/step | tg / torch | replayed / torch |"
    for s in eval_at:
        head += f" test loss @{s:,} tg | torch | diff |"
    lines = [head, "|" + "---|" * (7 + 3 * len(eval_at))]
    for r in results:
        ms = r["ms"]
        replay = ms.get("replay", float("nan"))
        row = (f"| {r['type']} | {r['params']:,} | {ms['tensorgrad']:.2f} | {replay:.2f} | {ms['torch']:.2f} | "
               f"{ms['tensorgrad'] / ms['torch']:.2f} | {replay / ms['torch']:.2f} |")
        at = {e["step"]: e for e in r["evals"]}
        for s in eval_at:
            e = at.get(s)
            row += (f" {e['tensorgrad']:.4f} | {e['torch']:.4f} | {e['tensorgrad'] - e['torch']:+.4f} |" if e
                    else " | | |")
        lines.append(row)
    return "\n".join(lines)


def plot(results: list, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    names = [r["type"] for r in results]
    x = np.arange(len(names))
    fig, ax = plt.subplots(1, 2, figsize=(12, 4))
    for k, (fw, off) in enumerate((("tensorgrad", -0.2), ("torch", 0.2))):
        ax[0].bar(x + off, [r["ms"][fw] for r in results], 0.4, label=fw)
        last = [r["evals"][-1][fw] if r["evals"] else np.nan for r in results]
        ax[1].bar(x + off, last, 0.4, label=fw)
    for a, title in zip(ax, ("ms per training step (one thread)", "test loss at the last evaluation")):
        a.set_xticks(x, names, rotation=30)
        a.set_title(title)
        a.legend()
    ax[0].set_yscale("log")
    lo = np.nanmin([r["evals"][-1]["torch"] for r in results if r["evals"]] or [0])
    ax[1].set_ylim(lo - 0.3, None)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--types", nargs="+", choices=TYPES, default=list(TYPES))
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--eval-at", type=int, nargs="+", help="steps at which to evaluate (default: --steps)")
    p.add_argument("--chunk", type=int, default=25, help="steps per interleaved chunk")
    p.add_argument("--data", help="default: names.txt if it is found ($TENSORGRAD_NAMES or next to the "
                                  "checkout), else makemore-names (downloaded once)")
    p.add_argument("--out", default=str(RESULTS))
    p.add_argument("--readme", action="store_true", help="also put the table into README.md's zoo section")
    args = p.parse_args(argv)
    import torch
    torch.set_num_threads(1)
    data = args.data or (str(local_names_txt()) if local_names_txt().is_file() else "makemore-names")
    eval_at = sorted(args.eval_at or [args.steps])
    print(f"zoo benchmark: {len(args.types)} types, {args.steps} steps, evaluations at {eval_at}, data {data}")
    t0 = time.time()
    results = [run_type(t, data, args.steps, eval_at, args.chunk) for t in args.types]
    seconds = time.time() - t0
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    cmd = "python -m benchmarks.zoo " + " ".join(argv if argv is not None else sys.argv[1:])
    meta = dict(command=cmd.strip(), steps=args.steps, eval_at=eval_at, data=Path(data).name, seconds=seconds,
                date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), machine=_cpu(),
                numpy=np.__version__, torch=torch.__version__)
    (out / "zoo.json").write_text(json.dumps(dict(meta=meta, results=results), indent=1))
    md = (f"# The model zoo: tensorgrad vs torch eager\n\nRun {meta['date']} on {meta['machine']} ({os.cpu_count()} "
          f"cores, NumPy {meta['numpy']}, torch {meta['torch']}) with `{meta['command']}` "
          f"({seconds / 60:.0f} min): {args.steps:,} steps per type, batch 32, data {meta['data']}, one thread each, "
          f"interleaved in chunks of {args.chunk} steps; the same initial weights and batches on both sides "
          f"(replayed: the step through tg.compile, as the training program runs it). "
          f"Step time: CPU time, median over chunks (forward, backward, optimizer step). Test loss: the whole "
          f"test split, "
          f"eval mode.\n\n" + table(results, eval_at) + "\n")
    (out / "zoo.md").write_text(md)
    plot(results, out / "zoo.png")
    print(md)
    if args.readme:
        update_readme(md)
    return 0


def _cpu() -> str:
    """The CPU model (speed ratios against torch differ between CPUs: every table names its own)."""
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


README = ROOT / "README.md"
BEGIN, END = "<!-- zoo table: written by python -m benchmarks.zoo --readme -->", "<!-- end of zoo table -->"


def readme_block(md: str) -> str:
    """What the README shows of a zoo.md: its sentence on the run and its table."""
    body = md.split("\n\n", 1)[1].strip()
    return f"{BEGIN}\n{body}\n{END}"


def update_readme(md: str) -> None:
    text = README.read_text()
    a, b = text.index(BEGIN), text.index(END) + len(END)
    README.write_text(text[:a] + readme_block(md) + text[b:])


if __name__ == "__main__":
    sys.exit(main())
