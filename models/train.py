"""The training program behind `tensorgrad-makemore train`: one config for every model type, the data,
the two recipes (makemore.py's and the lectures'), evaluation, sampling and the checkpoints.

Two recipes, as in the sources:
- makemore.py's (bigram, mlp, rnn, gru, bow, transformer): whole words padded to the longest, targets
  -1 past the end (ignored by the loss), a test split of min(1000, 10%), AdamW (betas 0.9/0.99, eps
  1e-8, lr 5e-4, weight decay 0.01), batch 32, train/test loss every 500 steps, the best model kept.
- the lectures' (bn-mlp: part 4, deep-bn: part 3, wavenet: part 5): block_size-character context
  windows, the 80/10/10 split of random.seed(42), SGD with lr / 10 at a step, BatchNorm; bn-mlp also
  calibrates its BatchNorm statistics on the training set at the end (exercise 4).

The checkpoint (out/makemore.npz, models/checkpoint.py, written with tg.save) holds everything needed to resume exactly:
parameters, buffers, optimizer state, the random generator, the loss history and the best model.
At every instant out/makemore.npz is one complete checkpoint: tg.save writes a temporary file and
renames it over the old one; an earlier run's checkpoint is kept by a hard link before that rename.
"""
import dataclasses
import itertools
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import tensorgrad as tg
import tensorgrad.nn.functional as F
from models.checkpoint import (CHECKPOINT_NAME, KEEP_EARLIER, CheckpointError, backup_path, checkpoint_state,
                               keep_copy, load_checkpoint, stale_temp_files, state_of)
from models.config import MODEL_FIELDS, Config, build_model, decay_step, eval_interval, lr_at, make_optimizer
from models.data import (SOURCES, DataError, Vocab, build_dataset, build_sequences, load_words, makemore_split,
                         split_words)


class TrainingError(RuntimeError):
    """Training cannot go on (the loss became NaN or inf); the message says what was kept."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during training; .saved_step is the step of the last checkpoint written (None: none)."""

    def __init__(self, saved_step, path):
        super().__init__()
        self.saved_step, self.path = saved_step, path


# ----------------------------------------------------------------------------
# data

@dataclass
class Data:
    """The splits of a word list, as arrays, for one recipe."""
    words: list
    vocab: Vocab
    splits: dict          # name -> (X, Y): train/test (makemore) or train/val/test (lectures)
    split_words: dict     # name -> set of words, to mark samples as in train / in test / new
    max_word_length: int


def load_data(config: Config, vocab: Vocab | None = None, max_word_length: int | None = None) -> Data:
    """Read config.data and split it the recipe's way (vocab and max_word_length: a checkpoint's)."""
    words = load_words(config.data, vocab=vocab)
    vocab = vocab or Vocab.from_words(words)
    longest = max(len(w) for w in words)
    if config.recipe == "makemore":
        max_word_length = max_word_length or longest
        if longest > max_word_length:
            raise DataError(f"{config.data}: its longest word has {longest} characters; the checkpoint's model "
                            f"takes at most {max_word_length}")
        parts = dict(zip(("train", "test"), makemore_split(words, config.seed, source=config.data)))
        splits = {k: build_sequences(ws, vocab, max_word_length) for k, ws in parts.items()}
    else:
        parts = dict(zip(("train", "val", "test"), split_words(words, source=config.data)))
        splits = {k: tuple(np.asarray(a) for a in build_dataset(ws, config.block_size, vocab))
                  for k, ws in parts.items()}
    return Data(words, vocab, splits, {k: set(ws) for k, ws in parts.items()}, max_word_length or longest)


# ----------------------------------------------------------------------------
# loss, evaluation, sampling

def loss_of(model, X, Y):
    """Mean cross-entropy of the model on a batch; makemore types: over all positions with Y != -1."""
    logits = model(X)                                                       # (B, V) or (B, T, V)
    if logits.ndim == 3:
        V = logits.shape[-1]
        Y = Y if isinstance(Y, tg.Tensor) else tg.from_numpy(np.asarray(Y))  # an op, so tg.compile sees it
        return F.cross_entropy(logits.reshape(-1, V), Y.reshape(-1), ignore_index=-1)
    return F.cross_entropy(logits, Y)


def evaluate(model, X, Y, batch_size: int = 50000) -> float:
    """Mean loss over all of (X, Y) in eval mode, in batches (makemore types: the mean of the batches'
    means, as makemore.py; lectures: over all examples)."""
    X, Y = np.asarray(X), np.asarray(Y)
    was_training = model.training
    model.eval()
    losses, sizes = [], []
    with tg.no_grad():
        for i in range(0, len(Y), batch_size):
            losses.append(loss_of(model, X[i:i + batch_size], Y[i:i + batch_size]).item())
            sizes.append(len(Y[i:i + batch_size]))
    model.train(was_training)
    if np.ndim(Y) == 2:   # makemore: the mean of batch means
        return float(np.mean(losses))
    return float(np.dot(losses, sizes) / sum(sizes))


def evaluate_splits(config: Config, model, data: Data, step: int) -> dict:
    """makemore.py's evaluation (train: 11 batches of 100 random words; test: up to 11 batches of 100),
    with a generator of its own, so that evaluating does not change the training batches; lectures:
    the whole train and val splits."""
    if config.recipe == "makemore":
        out = {}
        for name in ("train", "test"):
            X, Y = data.splits[name]
            rows = np.random.default_rng([config.seed, step]).permutation(len(X))[:1100]
            out[name] = evaluate(model, X[rows], Y[rows], batch_size=100)
        return out
    return {name: evaluate(model, *data.splits[name]) for name in ("train", "val")}


def sample_next(probs: np.ndarray, generator: tg.Generator) -> np.ndarray:
    """One index per row of probs (N, V), drawn with tg.multinomial: the same probabilities and the
    same generator state give the same tokens."""
    return tg.multinomial(tg.tensor(probs), 1, generator=generator).numpy()[:, 0]   # (N,)


def generate(model, config: Config, num: int, max_new_tokens: int, generator: tg.Generator,
             temperature: float = 1.0, top_k: int | None = None) -> np.ndarray:
    """num sequences of max_new_tokens tokens, each token drawn from the model's softmax at
    temperature, optionally among the top_k most likely only (eval mode, no graph)."""
    was_training = model.training
    model.eval()
    idx = np.zeros((num, 1 if config.recipe == "makemore" else config.block_size), dtype=np.int64)
    with tg.no_grad():
        for _ in range(max_new_tokens):
            if config.recipe == "makemore":
                logits = model(idx[:, -config.block_size:]).numpy()[:, -1, :]    # (num, V) the last position
            else:
                logits = model(idx[:, -config.block_size:]).numpy()              # (num, V)
            logits = logits.astype(np.float64) / temperature
            if top_k is not None:
                kth = np.sort(logits, axis=1)[:, -min(top_k, logits.shape[1])]  # (num,)
                logits = np.where(logits < kth[:, None], -np.inf, logits)
            probs = F.softmax(tg.tensor(logits), dim=-1).numpy()                 # (num, V)
            idx = np.concatenate([idx, sample_next(probs, generator)[:, None]], axis=1)
    model.train(was_training)
    return idx[:, 1 if config.recipe == "makemore" else config.block_size:]


def sample_words(model, config: Config, vocab: Vocab, num: int, seed: int, max_word_length: int,
                 temperature: float = 1.0, top_k: int | None = None) -> list[str]:
    """num words: sequences cut at the first '.' (index 0)."""
    g = tg.Generator().manual_seed(seed)
    rows = generate(model, config, num, max_word_length + 1, g, temperature, top_k)
    words = []
    for row in rows.tolist():
        row = row[:row.index(0)] if 0 in row else row
        words.append(vocab.decode(row))
    return words


def mark_samples(words, data_words: dict) -> dict:
    """makemore.py's three lists: samples that are in train, in test (or val), and new."""
    marks = {"in train": [], "in test": [], "new": []}
    for w in words:
        if w in data_words["train"]:
            marks["in train"].append(w)
        elif any(w in ws for k, ws in data_words.items() if k != "train"):
            marks["in test"].append(w)
        else:
            marks["new"].append(w)
    return marks


# ----------------------------------------------------------------------------
# training

def _schedule_note(config: Config, lrs: list) -> str | None:
    """A note if the steps already trained (with lrs) had other learning rates than config's schedule
    gives them (e.g. a resume with more --steps moved the default decay step); None if they agree."""
    lrs = np.asarray(lrs, dtype=np.float64)
    want = np.array([lr_at(config, i) for i in range(len(lrs))])
    differ = np.flatnonzero(~np.isclose(lrs, want, rtol=1e-12, atol=0))
    if not len(differ):
        return None
    a, b = differ[0], differ[-1]
    return (f"note: this run's lr schedule (lr {config.lr:g}, lr / 10 from step {decay_step(config)}) is not "
            f"the one the checkpoint was trained with: steps {a}-{b} had lr {lrs[a]:g} where this schedule gives "
            f"{want[a]:g}, so the result differs from one uninterrupted {config.steps}-step run")


def train(config: Config, out=None, resume: bool = False, quiet: bool = False, plot: bool = True,
          num_samples: int = 20, diagnostics: bool = False, top_k: int | None = None,
          temperature: float = 1.0, log=print, compile: bool = True) -> dict:
    """Train config's model (or, with resume, continue from out/makemore.npz); return the model,
    vocabulary, final losses and samples. Writes the checkpoint at every evaluation and at the end,
    out/loss.png (plot), and the part-3 diagnostics under out/diagnostics (diagnostics)."""
    from tqdm.auto import tqdm

    note = (lambda text: tqdm.write(text, file=sys.stderr))
    ckpt_path = Path(out) / CHECKPOINT_NAME if out is not None else None
    if ckpt_path is not None:
        if Path(out).exists() and not Path(out).is_dir():
            raise CheckpointError(f"{out}: is a file; --out names the run's directory")
        for tmp in stale_temp_files(out) if Path(out).is_dir() else []:
            tmp.unlink(missing_ok=True)
            note(f"note: removed {tmp}, left by a save that was killed")
    ckpt = None
    if resume:
        if ckpt_path is None:
            raise ValueError("train(resume=True) needs out= (the directory of the checkpoint)")
        ckpt = load_checkpoint(ckpt_path)
        for field in MODEL_FIELDS:
            have, want = getattr(ckpt.config, field), getattr(config, field)
            if field not in ("vocab_size", "block_size") and have != want:
                raise CheckpointError(f"{ckpt_path}: the checkpoint has {field}={have}, but {field}={want} "
                                      "was asked for; resume needs the same model")
        if config.steps != -1 and ckpt.step >= config.steps:
            raise CheckpointError(f"{ckpt_path}: the checkpoint is already at step {ckpt.step}, so --steps "
                                  f"{config.steps} leaves nothing to train; give --steps above {ckpt.step} "
                                  "to continue (nothing was changed)")
        if not ckpt.finite:
            raise CheckpointError(f"{ckpt_path}: the checkpoint's weights are not finite (NaN or inf); "
                                  "resuming cannot recover them")
        if _resolved(config.data) != _resolved(ckpt.config.data):
            note(f"note: resuming on --data {config.data}, but the checkpoint was trained on {ckpt.config.data}")

    data = load_data(config, vocab=ckpt.vocab if ckpt else None, max_word_length=ckpt.max_word_length if ckpt else None)
    vocab = data.vocab
    Xtr, Ytr = data.splits["train"]
    block_size = data.max_word_length + 1 if config.recipe == "makemore" else config.block_size
    config = dataclasses.replace(config, vocab_size=len(vocab), block_size=block_size,
                                 data=_resolved(config.data))
    g = tg.Generator().manual_seed(config.seed)
    if config.recipe == "makemore":
        tg.manual_seed(config.seed)   # makemore.py's models draw their init from the global generator
    model = build_model(config, generator=g)
    optimizer = make_optimizer(config, model.parameters())
    history = dict(losses=[], lrs=[], evals=[])   # evals: (step, train loss, val or test loss)
    step, best = 0, None
    if ckpt:
        model.load_state_dict(ckpt.model.state_dict())
        with tg.no_grad():
            for name, b in model.named_buffers():
                b.copy_(tg.tensor(ckpt.train_buffers[name]))
        optimizer.load_state_dict(ckpt.optim_state)
        g.rng.bit_generator.state = ckpt.rng_state
        history, step = ckpt.history, ckpt.step
        if ckpt.best is not None:
            best = dict(model=state_of(ckpt.best), step=ckpt.best_step, loss=_best_loss(history, ckpt.best_step))
        text = _schedule_note(config, history["lrs"])
        if text:
            note(text)
    n_params = sum(p.numel() for p in model.parameters())
    if not quiet:
        sizes = "/".join(str(len(Y)) for _, Y in data.splits.values())
        log(f"data: {config.data}: {len(data.words)} words, vocabulary {vocab.chars!r}; {sizes} "
            f"{'/'.join(data.splits)} examples")
        until = "until interrupted" if config.steps == -1 else f"to step {config.steps}"
        log(f"model: {config.type}, {n_params} parameters; {'resuming at step ' + str(step) if ckpt else 'training'} "
            f"{until}")

    train_buffers = None   # set at the end (bn-mlp): the running statistics before calibration
    backup = None          # a fresh run keeps an earlier run's checkpoint, at its first save
    pending_backup = ckpt is None and ckpt_path is not None and ckpt_path.exists()
    saved_step = ckpt.step if ckpt else None

    def save():
        nonlocal pending_backup, backup, saved_step
        if ckpt_path is None:
            return
        ckpt_path.parent.mkdir(parents=True, exist_ok=True)
        if pending_backup:
            backup = backup_path(ckpt_path)
            keep_copy(ckpt_path, backup)
        try:
            tg.save(checkpoint_state(config, model, optimizer, vocab, step, g, history, data.max_word_length,
                                     train_buffers, best), ckpt_path)
        except BaseException:
            if pending_backup:   # the old checkpoint is still at ckpt_path: no second name needed
                backup.unlink(missing_ok=True)
            raise
        if pending_backup:
            note(f"note: {ckpt_path} was an earlier run's checkpoint; it is kept as {backup} "
                 f"(train --resume continues a run instead; at most {KEEP_EARLIER} are kept)")
            pending_backup = False
        saved_step = step

    recorder = None
    if diagnostics:
        from viz.diagnostics import UpdateRecorder
        recorder = UpdateRecorder(model)
    model.train()
    eval_every = eval_interval(config)
    # a loss above 100 ln(V) gives the right character a probability below V^-100: diverged, not learning
    diverged = 100 * math.log(len(vocab))
    t0 = time.time()
    total = None if config.steps == -1 else config.steps
    bar = tqdm(itertools.count(step) if total is None else range(step, total), initial=step, total=total,
               disable=True if quiet else None, desc="train", mininterval=0.5)
    # tg.compile replays the step's recorded ops (the same results, bit for bit, and faster); a model
    # it cannot replay (a running statistic written in place, NumPy on the batch) runs uncompiled
    step_loss = lambda X, Y: loss_of(model, X, Y)      # noqa: E731
    if compile:
        step_loss = tg.compile(step_loss)
    try:
        for i in bar:
            ix = tg.randint(0, len(Ytr), (config.batch_size,), generator=g).numpy()
            loss = step_loss(tg.from_numpy(Xtr[ix]), tg.from_numpy(Ytr[ix]))
            optimizer.zero_grad()
            loss.backward()
            lr = lr_at(config, i)
            for group in optimizer.param_groups:
                group["lr"] = lr
            if recorder:
                recorder.before()
            optimizer.step()
            value = loss.item()
            del loss   # free this step's graph now, not after the next forward has built another
            if not math.isfinite(value) or value > diverged:
                kept = f"the last checkpoint (step {saved_step}) is kept" if saved_step is not None else \
                    "nothing was saved"
                raise TrainingError(f"the loss became {value:.4g} at step {i}: training diverged (is lr "
                                    f"{lr:g} too high?); stopped, {kept}")
            if recorder:
                recorder.after()
            history["losses"].append(value)
            history["lrs"].append(lr)
            step = i + 1
            if step % 100 == 0:
                bar.set_postfix(loss=f"{np.mean(history['losses'][-100:]):.4f}", lr=lr, refresh=False)
            # makemore types evaluate at every multiple of eval_every, the last step too (the best model
            # is chosen among those, so that a resumed run keeps the same best); lectures: at the end
            if step % eval_every == 0 and (step != config.steps or config.recipe == "makemore"):
                losses = evaluate_splits(config, model, data, step)
                a, b = losses.values()
                history["evals"].append((step, a, b))
                if config.recipe == "makemore" and (best is None or b < best["loss"]):
                    best = dict(model=state_of(model), step=step, loss=b)
                if not quiet:
                    bar.write(f"step {step:7d}{'' if total is None else '/' + str(total)}: "
                              f"{' '.join(f'{k} {v:.4f}' for k, v in losses.items())}  (lr {lr:g})")
                save()
    except KeyboardInterrupt:
        bar.close()
        raise Interrupted(saved_step, ckpt_path) from None
    bar.close()
    seconds = time.time() - t0

    if config.type == "bn-mlp":   # exercise 4: calibrate the BatchNorm statistics on the whole training set
        from models.bn_mlp import calibrate_batchnorm
        train_buffers = {name: np.asarray(b).copy() for name, b in model.named_buffers()}
        calibrate_batchnorm(model, Xtr)
    if config.recipe == "makemore":
        if history["evals"] and history["evals"][-1][0] == step:
            losses = dict(zip(("train", "test"), history["evals"][-1][1:]))
        else:
            losses = evaluate_splits(config, model, data, step)
            history["evals"].append((step, losses["train"], losses["test"]))
    else:
        losses = {name: evaluate(model, X, Y) for name, (X, Y) in data.splits.items()}
        history["evals"].append((step, losses["train"], losses["val"]))
    save()
    samples = sample_words(model, config, vocab, num_samples, config.seed + 10, data.max_word_length,
                           temperature, top_k) if num_samples else []
    if not quiet:
        what = "; BatchNorm calibrated on the training set" if config.type == "bn-mlp" else ""
        log(f"trained to step {step} in {seconds:.1f}s{what}")
        log("loss: " + "  ".join(f"{k} {v:.4f}" for k, v in losses.items()))
        if samples:
            print_samples(samples, data.split_words, log)
        if ckpt_path is not None:
            log(f"checkpoint: {ckpt_path}")
    silent = (lambda *a: None) if quiet else log
    if plot and out is not None:
        plot_losses(history, Path(out) / "loss.png", title=f"makemore {config.type} on tensorgrad", log=silent)
    if diagnostics and out is not None:
        from viz.diagnostics import write_all
        write_all(model, lambda: loss_of(model, Xtr[:config.batch_size * 4], Ytr[:config.batch_size * 4]),
                  recorder, Path(out) / "diagnostics", log=silent)
    return dict(model=model, vocab=vocab, config=config, losses=losses, samples=samples, step=step,
                seconds=seconds, history=history, checkpoint=ckpt_path, data=data)


def _resolved(source: str) -> str:
    """A data source as the checkpoint records it: a built-in name, or an absolute path."""
    return source if source in SOURCES else str(Path(source).resolve())


def _best_loss(history: dict, best_step) -> float:
    for s, _, b in history["evals"]:
        if s == best_step:
            return b
    return math.inf


def print_samples(samples, split_words: dict, log=print) -> None:
    """makemore.py's report: the samples in train, in test, and new."""
    log("-" * 80)
    for desc, words in mark_samples(samples, split_words).items():
        log(f"{len(words)} samples that are {desc}:")
        for w in words:
            log(w)
    log("-" * 80)


def plot_losses(history: dict, path, title: str = "makemore on tensorgrad", log=print) -> Path | None:
    """log10 of the training loss averaged over windows, and the evaluations, as a PNG."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("note: matplotlib is not installed, so no loss plot (pip install matplotlib)")
        return None
    losses = np.asarray(history["losses"], dtype=np.float64)
    window = max(1, len(losses) // 200)
    k = len(losses) // window
    fig, ax = plt.subplots(figsize=(8, 4.5))
    if k:
        steps = (np.arange(k) + 0.5) * window
        ax.plot(steps, np.log10(losses[:k * window].reshape(k, window).mean(1)), lw=1,
                label=f"train (batch loss, mean of {window} steps)")
    if history["evals"]:
        ev = np.asarray(history["evals"], dtype=np.float64)
        ax.plot(ev[:, 0], np.log10(ev[:, 1]), "o-", label="train (evaluation)")
        ax.plot(ev[:, 0], np.log10(ev[:, 2]), "s-", label="val / test")
    ax.set_xlabel("step")
    ax.set_ylabel("log10 loss")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    log(f"loss curve: {path}")
    return path
