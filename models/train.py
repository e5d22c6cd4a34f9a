"""The training program behind `tensorgrad-makemore train`: one config for every model type, the data,
the two recipes (makemore.py's and the lectures'), evaluation, sampling and the checkpoints.

Two recipes, as in the sources:
- makemore.py's (bigram, mlp, rnn, gru, bow, transformer): whole words padded to the longest, targets
  -1 past the end (ignored by the loss), a test split of min(1000, 10%), AdamW (betas 0.9/0.99, eps
  1e-8, lr 5e-4, weight decay 0.01), batch 32, train/test loss every 500 steps, the best model kept.
- the lectures' (bn-mlp: part 4, deep-bn: part 3, wavenet: part 5): block_size-character context
  windows, the 80/10/10 split of random.seed(42), SGD with lr / 10 at a step, BatchNorm; bn-mlp also
  calibrates its BatchNorm statistics on the training set at the end (exercise 4).

The checkpoint (out/makemore.npz, written by models/checkpoint.py's Checkpointer) holds everything needed
to resume exactly: parameters, buffers, optimizer state, the random generator, the loss history and the
best model. What survives a kill, a full disk or a second run in the same directory: see checkpoint.py.
"""
import contextlib
import dataclasses
import itertools
import os
import tempfile
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import tensorgrad as tg
import tensorgrad.nn.functional as F
from models.checkpoint import (Checkpoint, CheckpointError, Checkpointer, checkpoint_state, file_sha256,
                               load_checkpoint, state_of)
from models.config import MODEL_FIELDS, Config, build_model, decay_step, eval_interval, lr_at, make_optimizer
from models.data import (SOURCES, DataError, Vocab, build_dataset, build_sequences, load_words, makemore_split,
                         split_words)


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
            # shift by the max first: at a tiny temperature the quotient overflows to inf, and inf - inf is NaN
            logits = logits.astype(np.float64)
            with np.errstate(over="ignore"):   # -> -inf: a probability of 0
                logits = (logits - logits.max(axis=1, keepdims=True)) / temperature
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

class TrainingError(RuntimeError):
    """Training cannot go on (the loss or a weight became NaN or inf); the message says what was kept."""


class OutOfMemory(RuntimeError):
    """A MemoryError, with what was being allocated (the data, the model, a training step)."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during training; .status says which checkpoint is on disk."""

    def __init__(self, status: str):
        super().__init__(status)
        self.status = status


class TrainingHooks:
    """Where a program can add to the loop without the loop knowing what it adds (the command line wires
    viz's part-3 diagnostics in this way). Each method is called with the Run; at_end with train()'s result."""

    def before_update(self, run) -> None:
        pass

    def after_update(self, run) -> None:
        pass

    def at_end(self, result: dict) -> None:
        pass


@dataclass
class Run:
    """A training run's state: what a checkpoint holds and a resumed run continues from."""
    config: Config
    model: object
    optimizer: object
    generator: tg.Generator
    history: dict                      # losses and lrs per step; evals: (step, train loss, val or test loss)
    step: int = 0
    best: dict | None = None           # makemore types: the best model's state, step and loss
    train_buffers: dict | None = None  # bn-mlp: the running BatchNorm statistics before calibration
    data_sha256: str | None = None     # of the word file

    def state(self, data: Data) -> dict:
        """The tree a checkpoint of this run holds."""
        return checkpoint_state(self.config, self.model, self.optimizer, data.vocab, self.step, self.generator,
                                self.history, data.max_word_length, self.train_buffers, self.best, self.data_sha256)


class _NoCheckpoint:
    """What train(out=None) saves: nothing."""
    saved_step = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass

    def save(self, tree, step):
        pass

    def status(self) -> str:
        return "nothing is saved (no out directory)"


def train(config: Config, out=None, resume: bool = False, quiet: bool = False, plot: bool = True,
          num_samples: int = 20, top_k: int | None = None, temperature: float = 1.0, log=print,
          compile: bool = True, hooks: TrainingHooks | None = None) -> dict:
    """Train config's model (or, with resume, continue from out/makemore.npz); return the model, vocabulary,
    final losses and samples. Writes the checkpoint at every evaluation and at the end, and out/loss.png."""
    from tqdm.auto import tqdm
    note = (lambda text: tqdm.write(text, file=sys.stderr))
    hooks = hooks or TrainingHooks()
    with Checkpointer(out, fresh=not resume, note=note) if out is not None else _NoCheckpoint() as saver:
        ckpt = _resume_from(config, saver, note) if resume else None
        with _blame_memory(f"for the words of {config.data}"):
            data = load_data(config, vocab=ckpt.vocab if ckpt else None,
                             max_word_length=ckpt.max_word_length if ckpt else None)
        block_size = data.max_word_length + 1 if config.recipe == "makemore" else config.block_size
        config = dataclasses.replace(config, vocab_size=len(data.vocab), block_size=block_size,
                                     data=_resolved(config.data))
        with _blame_memory(f"for the model ({config.type}, a vocabulary of {len(data.vocab)})"):
            run = start_run(config, data, ckpt, note)
        if not quiet:
            _report_start(run, data, log)
        t0 = time.time()
        try:
            with _blame_memory(_step_memory(config, data)):
                train_steps(run, data, saver, hooks, quiet, compile)
                seconds = time.time() - t0
                losses = finish(run, data)
            save(run, data, saver)
        except KeyboardInterrupt:
            raise Interrupted(saver.status()) from None
    samples = sample_words(run.model, config, data.vocab, num_samples, config.seed + 10, data.max_word_length,
                           temperature, top_k) if num_samples else []
    if not quiet:
        what = "; BatchNorm calibrated on the training set" if config.type == "bn-mlp" else ""
        log(f"trained to step {run.step} in {seconds:.1f}s{what}")
        log("loss: " + "  ".join(f"{k} {v:.4f}" for k, v in losses.items()))
        if samples:
            print_samples(samples, data.split_words, log)
        if out is not None:
            log(f"checkpoint: {saver.path}")
    if plot and out is not None:
        plot_losses(run.history, Path(out) / "loss.png", title=f"makemore {config.type} on tensorgrad",
                    log=(lambda *a: None) if quiet else log)
    result = dict(model=run.model, vocab=data.vocab, config=config, losses=losses, samples=samples, step=run.step,
                  seconds=seconds, history=run.history, checkpoint=getattr(saver, "path", None), data=data)
    hooks.at_end(result)
    return result


def _resume_from(config: Config, saver, note) -> Checkpoint:
    """The checkpoint to continue, checked against what this run asks for."""
    ckpt = load_checkpoint(saver.path)
    for field in MODEL_FIELDS:
        have, want = getattr(ckpt.config, field), getattr(config, field)
        if field not in ("vocab_size", "block_size") and have != want:
            raise CheckpointError(f"{saver.path}: the checkpoint has {field}={have}, but {field}={want} "
                                  "was asked for; resume needs the same model")
    if config.steps != -1 and ckpt.step >= config.steps:
        raise CheckpointError(f"{saver.path}: the checkpoint is already at step {ckpt.step}, so --steps "
                              f"{config.steps} leaves nothing to train; give --steps above {ckpt.step} "
                              "to continue (nothing was changed)")
    if not ckpt.finite:
        raise CheckpointError(f"{saver.path}: the checkpoint's weights are not finite (NaN or inf); "
                              "resuming cannot recover them")
    if _resolved(config.data) != _resolved(ckpt.config.data):
        note(f"note: resuming on --data {config.data}, but the checkpoint was trained on {ckpt.config.data}")
    saver.saved_step = ckpt.step
    return ckpt


def start_run(config: Config, data: Data, ckpt: Checkpoint | None = None, note=print) -> Run:
    """A new run of config on data, or (ckpt) the run a checkpoint holds."""
    g = tg.Generator().manual_seed(config.seed)
    if config.recipe == "makemore":
        tg.manual_seed(config.seed)   # makemore.py's models draw their init from the global generator
    model = build_model(config, generator=g)
    run = Run(config, model, make_optimizer(config, model.parameters()), g, dict(losses=[], lrs=[], evals=[]),
              data_sha256=file_sha256(config.data))
    if ckpt is None:
        return run
    model.load_state_dict(ckpt.model.state_dict())
    with tg.no_grad():
        for name, b in model.named_buffers():
            b.copy_(tg.tensor(ckpt.train_buffers[name]))
    run.optimizer.load_state_dict(ckpt.optim_state)
    g.rng.bit_generator.state = ckpt.rng_state
    run.history, run.step = ckpt.history, ckpt.step
    if ckpt.best is not None:
        run.best = dict(model=state_of(ckpt.best), step=ckpt.best_step, loss=_best_loss(run.history, ckpt.best_step))
    text = _schedule_note(config, run.history["lrs"])
    if text:
        note(text)
    return run


def train_steps(run: Run, data: Data, saver, hooks: TrainingHooks, quiet: bool = False, compile: bool = True):
    """The loop: a random batch, forward, backward, an optimizer step; every eval_every steps an evaluation
    and a checkpoint. Runs to config.steps (-1: until Ctrl-C)."""
    from tqdm.auto import tqdm
    config, model, optimizer = run.config, run.model, run.optimizer
    Xtr, Ytr = data.splits["train"]
    eval_every = eval_interval(config)
    # tg.compile replays the step's recorded ops (the same results, bit for bit, and faster): every
    # type, running statistics and dropout's draws included; a model it cannot replay (NumPy on the
    # batch) runs uncompiled, with one warning saying why
    step_loss = lambda X, Y: loss_of(model, X, Y)      # noqa: E731
    if compile:
        step_loss = tg.compile(step_loss)
    total = None if config.steps == -1 else config.steps
    steps = itertools.count(run.step) if total is None else range(run.step, total)
    model.train()
    with tqdm(steps, initial=run.step, total=total, disable=True if quiet else None, desc="train",
              mininterval=0.5) as bar:
        for i in bar:
            ix = tg.randint(0, len(Ytr), (config.batch_size,), generator=run.generator).numpy()
            loss = step_loss(tg.from_numpy(Xtr[ix]), tg.from_numpy(Ytr[ix]))
            optimizer.zero_grad()
            loss.backward()
            lr = lr_at(config, i)
            for group in optimizer.param_groups:
                group["lr"] = lr
            hooks.before_update(run)
            optimizer.step()
            hooks.after_update(run)
            value = loss.item()
            del loss   # free this step's graph now, not after the next forward has built another
            # a loss above 100 ln(V) gives the right character a probability below V^-100: diverged
            if not math.isfinite(value) or value > 100 * math.log(config.vocab_size):
                raise TrainingError(f"the loss became {value:.4g} at step {i}: {_diverged(run, saver)}")
            run.history["losses"].append(value)
            run.history["lrs"].append(lr)
            run.step = i + 1
            if run.step % 100 == 0:
                bar.set_postfix(loss=f"{np.mean(run.history['losses'][-100:]):.4f}", lr=lr, refresh=False)
            # makemore types evaluate at every multiple of eval_every, the last step too (the best model
            # is chosen among those, so that a resumed run keeps the same best); lectures: at the end
            if run.step % eval_every == 0 and (run.step != config.steps or config.recipe == "makemore"):
                losses = evaluate_run(run, data, saver)
                if not quiet:
                    bar.write(f"step {run.step:7d}{'' if total is None else '/' + str(total)}: "
                              f"{' '.join(f'{k} {v:.4f}' for k, v in losses.items())}  (lr {lr:g})")
                save(run, data, saver)


def _diverged(run: Run, saver) -> str:
    lr = run.optimizer.param_groups[0]["lr"]
    return f"training diverged (is lr {lr:g} too high?); stopped; {saver.status()}"


def evaluate_run(run: Run, data: Data, saver) -> dict:
    """Evaluate at run.step, record it, and keep the best model (makemore types)."""
    losses = evaluate_splits(run.config, run.model, data, run.step)
    if not all(map(math.isfinite, losses.values())):
        raise TrainingError(f"the evaluation at step {run.step} gave the losses {losses}: {_diverged(run, saver)}")
    a, b = losses.values()
    run.history["evals"].append((run.step, a, b))
    if run.config.recipe == "makemore" and (run.best is None or b < run.best["loss"]):
        run.best = dict(model=state_of(run.model), step=run.step, loss=b)
    return losses


def save(run: Run, data: Data, saver) -> None:
    """Checkpoint the run, unless an update made a weight NaN or inf: a diverged run keeps the last good one."""
    if not all(np.isfinite(np.asarray(p)).all() for p in run.model.parameters()):
        raise TrainingError(f"a weight became NaN or inf by step {run.step}, so it is not saved: "
                            f"{_diverged(run, saver)}")
    saver.save(run.state(data), run.step)


def finish(run: Run, data: Data) -> dict:
    """bn-mlp's BatchNorm calibration (exercise 4), then the final losses."""
    config, model, step = run.config, run.model, run.step
    if config.type == "bn-mlp":   # exercise 4: calibrate the BatchNorm statistics on the whole training set
        from models.bn_mlp import calibrate_batchnorm
        run.train_buffers = {name: np.asarray(b).copy() for name, b in model.named_buffers()}
        calibrate_batchnorm(model, data.splits["train"][0])
    if config.recipe == "makemore":
        if run.history["evals"] and run.history["evals"][-1][0] == step:
            return dict(zip(("train", "test"), run.history["evals"][-1][1:]))
        losses = evaluate_splits(config, model, data, step)
        run.history["evals"].append((step, losses["train"], losses["test"]))
        return losses
    losses = {name: evaluate(model, X, Y) for name, (X, Y) in data.splits.items()}
    run.history["evals"].append((step, losses["train"], losses["val"]))
    return losses


@contextlib.contextmanager
def _blame_memory(what: str):
    """A MemoryError becomes an OutOfMemory that says what was being allocated."""
    try:
        yield
    except MemoryError as e:
        raise OutOfMemory(f"not enough memory {what}: {e}") from None


def _step_memory(config: Config, data: Data) -> str:
    X = data.splits["train"][0]
    T, V, B = (X.shape[1] if config.recipe == "makemore" else 1), len(data.vocab), config.batch_size
    return (f"for a training step: its logits alone are batch {B} x {T} positions x a vocabulary of {V} "
            f"({B * T * V * 4 / 2 ** 20:.4g} MiB; the activations take more); a smaller --batch-size needs less")


def _report_start(run: Run, data: Data, log) -> None:
    config = run.config
    sizes = "/".join(str(len(Y)) for _, Y in data.splits.values())
    log(f"data: {config.data}: {len(data.words)} words, vocabulary {data.vocab.chars!r}; {sizes} "
        f"{'/'.join(data.splits)} examples")
    until = "until interrupted" if config.steps == -1 else f"to step {config.steps}"
    n_params = sum(p.numel() for p in run.model.parameters())
    log(f"model: {config.type}, {n_params} parameters; "
        f"{'resuming at step ' + str(run.step) if run.step else 'training'} {until}")


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
    try:   # a temporary file renamed over path: a symlink at path is replaced, never written through
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                fig.savefig(f, dpi=100, format="png")
            os.replace(tmp, path)
        finally:
            Path(tmp).unlink(missing_ok=True)
    except OSError as e:
        log(f"note: could not write the loss plot {path} ({e.strerror or e})")
        return None
    finally:
        plt.close(fig)
    log(f"loss curve: {path}")
    return path
