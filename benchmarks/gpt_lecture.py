"""The GPT of Karpathy's "Let's build GPT" lecture (ng-video-lecture's gpt.py), tensorgrad against torch
eager, at a CPU scale: n_embd 64, 4 heads, 2 layers, block 32, batch 16, dropout 0.2 (the lecture's
value; its own scale is n_embd 384, 6 heads, 6 layers, block 256, batch 64).

The model is written once, below, against a module parameter `torch`: `gpt(torch, ...)` builds it
with real torch, `gpt(tg, ...)` with tensorgrad, as a user ports the lecture by changing the import.
It has the lecture's shape (per-head Head modules with a causal tril mask via masked_fill, softmax and
dropout; MultiHeadAttention concatenating them; FeedForward 4x with ReLU; pre-norm LayerNorm; lm_head;
cross_entropy; AdamW at lr 3e-4). tensorgrad starts from torch's weights (torch's init, copied) and
both see the same batches: characters of makemore's names.txt when it is found beside the checkout,
else a deterministic synthetic text. Before timing, the two losses and gradients are checked equal
from the same weights with dropout off.

Contenders: torch eager (the lecture's step: zero_grad(set_to_none=True), backward, step), tensorgrad
dynamic, and tensorgrad replayed (tg.compile of the loss, as benchmarks/zoo.py replays). A replay that
cannot run (dropout's random draws, until they are replayable) falls back to the dynamic path with a
warning: the table says which happened. `--variants gelu` adds the small GPT with exact GELU in the
feed-forward (nn.GELU()) in place of ReLU. One thread each, interleaved in chunks, CPU time
(process_time), median over chunks.

    python -m benchmarks.gpt_lecture                       # 300 steps, dropout 0.2, the lecture's ReLU
    python -m benchmarks.gpt_lecture --dropout 0.2 0 --variants relu gelu --readme

Writes <out>/gpt_lecture.md and gpt_lecture.json (default benchmarks/results). Reports only.
"""
import os

from benchmarks import one_thread

one_thread()

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.zoo import _cpu  # noqa: E402
from models.data import local_names_txt  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
CLOCK = time.process_time          # CPU time: the machine is shared
SCALE = dict(n_embd=64, n_head=4, n_layer=2, block_size=32)
BATCH, LR, SEED = 16, 3e-4, 1337
VARIANTS = {"relu": "the lecture's GPT (FFN with ReLU)", "gelu": "small GPT, FFN with exact GELU"}


# ----------------------------------------------------------------------------
# the model: one source for both frameworks

def gpt(torch, vocab_size: int, n_embd: int, n_head: int, n_layer: int, block_size: int, dropout: float,
        act: str = "relu"):
    """The lecture's GPTLanguageModel built from `torch`'s nn (torch or tensorgrad)."""
    nn, F = torch.nn, torch.nn.functional

    class Head(nn.Module):
        """One head of causal self-attention."""

        def __init__(self, head_size):
            super().__init__()
            self.key = nn.Linear(n_embd, head_size, bias=False)
            self.query = nn.Linear(n_embd, head_size, bias=False)
            self.value = nn.Linear(n_embd, head_size, bias=False)
            self.register_buffer("tril", torch.tril(torch.ones(block_size, block_size)))
            self.dropout = nn.Dropout(dropout)

        def forward(self, x):
            B, T, C = x.shape
            k = self.key(x)                                           # (B, T, hs)
            q = self.query(x)                                         # (B, T, hs)
            wei = q @ k.transpose(-2, -1) * k.shape[-1] ** -0.5       # (B, T, T)
            wei = wei.masked_fill(self.tril[:T, :T] == 0, float("-inf"))
            wei = self.dropout(F.softmax(wei, dim=-1))
            return wei @ self.value(x)                                # (B, T, hs)

    class MultiHeadAttention(nn.Module):
        def __init__(self, num_heads, head_size):
            super().__init__()
            self.heads = nn.ModuleList([Head(head_size) for _ in range(num_heads)])
            self.proj = nn.Linear(head_size * num_heads, n_embd)
            self.dropout = nn.Dropout(dropout)

        def forward(self, x):
            out = torch.cat([h(x) for h in self.heads], dim=-1)       # (B, T, n_embd)
            return self.dropout(self.proj(out))

    class FeedForward(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(n_embd, 4 * n_embd), nn.ReLU() if act == "relu" else nn.GELU(),
                                     nn.Linear(4 * n_embd, n_embd), nn.Dropout(dropout))

        def forward(self, x):
            return self.net(x)

    class Block(nn.Module):
        """Communication (attention) then computation (feed-forward), each pre-norm with a residual."""

        def __init__(self):
            super().__init__()
            self.sa = MultiHeadAttention(n_head, n_embd // n_head)
            self.ffwd = FeedForward()
            self.ln1 = nn.LayerNorm(n_embd)
            self.ln2 = nn.LayerNorm(n_embd)

        def forward(self, x):
            x = x + self.sa(self.ln1(x))
            return x + self.ffwd(self.ln2(x))

    class GPTLanguageModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.token_embedding_table = nn.Embedding(vocab_size, n_embd)
            self.position_embedding_table = nn.Embedding(block_size, n_embd)
            self.blocks = nn.Sequential(*[Block() for _ in range(n_layer)])
            self.ln_f = nn.LayerNorm(n_embd)
            self.lm_head = nn.Linear(n_embd, vocab_size)
            self.apply(self._init_weights)

        def _init_weights(self, module):
            if isinstance(module, nn.Linear):
                torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)
                if module.bias is not None:
                    torch.nn.init.zeros_(module.bias)
            elif isinstance(module, nn.Embedding):
                torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)

        def forward(self, idx, targets):
            B, T = idx.shape
            x = self.token_embedding_table(idx) + self.position_embedding_table(torch.arange(T))   # (B, T, C)
            logits = self.lm_head(self.ln_f(self.blocks(x)))                                     # (B, T, V)
            B, T, C = logits.shape
            return logits, F.cross_entropy(logits.view(B * T, C), targets.view(B * T))

    return GPTLanguageModel()


# ----------------------------------------------------------------------------
# data and the two frameworks' models

def load_text() -> tuple:
    """(the training characters as int64 codes, the vocabulary size): names.txt's characters if it is
    found, else a synthetic text drawn from a fixed generator (the benchmark needs no download)."""
    path = local_names_txt()
    if path.is_file():
        text, source = path.read_text(), path.name
    else:
        rng = np.random.default_rng(0)
        letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
        text = "\n".join("".join(rng.choice(letters, rng.integers(3, 9))) for _ in range(32000))
        source = "synthetic names"
    chars = sorted(set(text))
    codes = np.searchsorted(np.array(chars), np.array(list(text))).astype(np.int64)   # stoi
    data = codes[:int(0.9 * len(codes))]                       # the lecture's 90% train split
    return data, len(chars), source


def batches(data: np.ndarray, steps: int, batch: int, block: int, seed: int = 0) -> list:
    """(X, Y) pairs of (batch, block) int64 windows and their next characters, as get_batch draws them."""
    rng = np.random.default_rng(seed)
    offsets = np.arange(block)
    out = []
    for _ in range(steps):
        ix = rng.integers(0, len(data) - block, batch)[:, None] + offsets
        out.append((data[ix], data[ix + 1]))
    return out


def build_pair(vocab_size: int, dropout: float, act: str):
    """(torch model, tensorgrad model) with the same weights: torch's init under the lecture's seed, copied."""
    import torch
    import tensorgrad as tg
    from scripts.from_torch import load_torch_into
    torch.manual_seed(SEED)
    theirs = gpt(torch, vocab_size, dropout=dropout, act=act, **SCALE)
    ours = gpt(tg, vocab_size, dropout=dropout, act=act, **SCALE)
    load_torch_into(ours, theirs)
    return theirs, ours


def check_same(theirs, ours, X, Y) -> dict:
    """Loss and gradients of both from the same weights, dropout off (eval mode): their largest differences."""
    import torch
    import tensorgrad as tg
    theirs.eval(), ours.eval()
    _, lt = theirs(torch.from_numpy(X), torch.from_numpy(Y))
    _, lo = ours(tg.from_numpy(X), tg.from_numpy(Y))
    lt.backward()
    lo.backward()
    gt = dict(theirs.named_parameters())
    grad = max(float(np.abs(p.grad.numpy() - gt[n].grad.numpy()).max()) for n, p in ours.named_parameters())
    theirs.zero_grad(set_to_none=True), ours.zero_grad(set_to_none=True)
    theirs.train(), ours.train()
    return dict(torch_loss=lt.item(), tensorgrad_loss=lo.item(), loss_diff=abs(lt.item() - lo.item()),
                max_grad_diff=grad)


# ----------------------------------------------------------------------------
# the timed steps

def steppers(theirs, ours_dyn, ours_rep) -> dict:
    """name -> fn(X, Y) taking one training step (forward, backward, AdamW) and returning the loss tensor."""
    import torch
    import tensorgrad as tg

    def torch_step(model, opt):
        def step(X, Y):
            logits, loss = model(torch.from_numpy(X), torch.from_numpy(Y))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            return loss
        return step

    def tg_step(model, opt, loss_fn):
        def step(X, Y):
            loss = loss_fn(tg.from_numpy(X), tg.from_numpy(Y))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            return loss
        return step

    replayed = tg.compile(lambda X, Y: ours_rep(X, Y)[1])
    return {"torch": torch_step(theirs, torch.optim.AdamW(theirs.parameters(), lr=LR)),
            "tensorgrad": tg_step(ours_dyn, tg.optim.AdamW(ours_dyn.parameters(), lr=LR),
                                  lambda X, Y: ours_dyn(X, Y)[1]),
            "tensorgrad replay": tg_step(ours_rep, tg.optim.AdamW(ours_rep.parameters(), lr=LR), replayed)}


def run_variant(act: str, dropout: float, data, vocab: int, steps: int, chunk: int, warmup: int,
                progress=None) -> dict:
    """One model variant: check, warm up (the replay records there), then time the contenders interleaved."""
    theirs, ours = build_pair(vocab, dropout, act)
    _, ours_rep = build_pair(vocab, dropout, act)
    bs = batches(data, warmup + steps, BATCH, SCALE["block_size"])
    check = check_same(theirs, ours, *bs[0])
    fns = steppers(theirs, ours, ours_rep)
    with warnings.catch_warnings(record=True) as caught:      # the replay's first calls record (or give up)
        warnings.simplefilter("always")
        for X, Y in bs[:warmup]:
            for fn in fns.values():
                fn(X, Y)
    gave_up = [str(w.message) for w in caught if "tg.compile" in str(w.message)]
    replay = "ran uncompiled: " + gave_up[0].split("runs uncompiled: ", 1)[-1] if gave_up else "replayed"
    times = {k: [] for k in fns}
    names, order = list(fns), np.random.default_rng(SEED)
    for a in range(warmup, warmup + steps, chunk):
        b = min(a + chunk, warmup + steps)
        for j in order.permutation(len(names)):                   # a fresh order every chunk
            name = names[j]
            t0 = CLOCK()
            for X, Y in bs[a:b]:
                loss = fns[name](X, Y)
            loss.item()
            times[name].append((CLOCK() - t0) / (b - a))
        if progress is not None:
            progress.update(b - a)
    ms = {k: 1000 * float(np.median(v)) for k, v in times.items()}
    return dict(variant=act, description=VARIANTS[act], dropout=dropout, params=sum(p.numel() for p in ours.parameters()),
                ms=ms, check=check, replay=replay)


def table(results: list) -> str:
    lines = ["| model | dropout | params | torch ms/step | tensorgrad | replayed | tg / torch | replayed / torch | "
             "replayed? | loss tg - torch |", "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|"]
    notes = []
    for r in results:
        if r["replay"] != "replayed" and r["replay"] not in notes:
            notes.append(r["replay"])
        said = "yes" if r["replay"] == "replayed" else f"no ({1 + notes.index(r['replay'])})"
        ms, c = r["ms"], r["check"]
        lines.append(f"| {r['description']} | {r['dropout']} | {r['params']:,} | {ms['torch']:.2f} | "
                     f"{ms['tensorgrad']:.2f} | {ms['tensorgrad replay']:.2f} | {ms['tensorgrad'] / ms['torch']:.2f} | "
                     f"{ms['tensorgrad replay'] / ms['torch']:.2f} | {said} | {c['tensorgrad_loss'] - c['torch_loss']:+.1e} |")
    lines += [""] + [f"({k + 1}) tg.compile {why}" for k, why in enumerate(notes)] if notes else []
    return "\n".join(lines)


# ----------------------------------------------------------------------------
# the report

README = ROOT / "README.md"
BEGIN = "<!-- gpt lecture table: written by python -m benchmarks.gpt_lecture --readme -->"
END = "<!-- end of gpt lecture table -->"


def update_readme(body: str) -> None:
    """Put the run's sentence and table between the GPT markers (added after the zoo's table if absent)."""
    from benchmarks.zoo import END as ZOO_END
    text = README.read_text()
    block = f"{BEGIN}\n{body.strip()}\n{END}"
    if BEGIN in text:
        a, b = text.index(BEGIN), text.index(END) + len(END)
        text = text[:a] + block + text[b:]
    else:
        at = text.index(ZOO_END) + len(ZOO_END)
        text = text[:at] + "\n\n" + block + text[at:]
    README.write_text(text)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.gpt_lecture", description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=300, help="timed steps per contender")
    p.add_argument("--chunk", type=int, default=20, help="steps per interleaved chunk")
    p.add_argument("--warmup", type=int, default=3, help="untimed steps first (the replay records in them)")
    p.add_argument("--dropout", type=float, nargs="+", default=[0.2],
                   help="one run per value (default: the lecture's 0.2; 0 replays without dropout's draws)")
    p.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=["relu"])
    p.add_argument("--out", default=str(RESULTS))
    p.add_argument("--readme", action="store_true", help="also put the table into README.md's GPT section")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    args = p.parse_args(argv)
    import torch
    from tqdm.auto import tqdm
    torch.set_num_threads(1)
    data, vocab, source = load_text()
    cpu = _cpu()
    runs = [(act, p) for act in args.variants for p in args.dropout]
    print(f"GPT lecture benchmark on {cpu}: {args.variants}, {args.steps} steps, dropout {args.dropout}, "
          f"data {source} ({vocab} characters)")
    t0 = time.time()
    results = []
    with tqdm(total=args.steps * len(runs), disable=True if args.quiet else None, unit="step") as bar:
        for act, dropout in runs:
            r = run_variant(act, dropout, data, vocab, args.steps, args.chunk, args.warmup, bar)
            results.append(r)
            c = r["check"]
            tqdm.write(f"  {act}, dropout {dropout}: loss check torch {c['torch_loss']:.6f} tensorgrad {c['tensorgrad_loss']:.6f} "
                       f"(max grad diff {c['max_grad_diff']:.1e}); replay {r['replay']}")
    cmd = "python -m benchmarks.gpt_lecture " + " ".join(argv if argv is not None else sys.argv[1:])
    meta = dict(command=cmd.strip(), date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), machine=cpu,
                cores=os.cpu_count(), numpy=np.__version__, torch=torch.__version__, data=source, vocab=vocab,
                batch=BATCH, lr=LR, steps=args.steps, chunk=args.chunk, seconds=time.time() - t0, **SCALE)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "gpt_lecture.json").write_text(json.dumps(dict(meta=meta, results=results), indent=1) + "\n")
    body = (f"Run {meta['date']} on {cpu} ({meta['cores']} cores, NumPy {meta['numpy']}, torch {meta['torch']}) with "
            f"`{meta['command']}`: the lecture's GPT at n_embd {SCALE['n_embd']}, {SCALE['n_head']} heads, "
            f"{SCALE['n_layer']} layers, block {SCALE['block_size']}, batch {BATCH}, AdamW lr {LR}, data {source}; "
            f"the same weights and batches on both sides, one thread each, interleaved in chunks of {args.chunk} "
            f"steps, CPU time, median over chunks of {args.steps} steps. Dropout: the lecture's 0.2, and 0 where a row "
            "says so. "
            "Loss tg - torch: the first batch from the same weights with dropout off.\n\n" + table(results) + "\n")
    (out / "gpt_lecture.md").write_text("# The GPT lecture's model: tensorgrad vs torch eager\n\n" + body)
    print(body)
    if args.readme:
        update_readme(body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
