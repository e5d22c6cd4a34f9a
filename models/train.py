"""The training program behind `tensorgrad-makemore train`: one config for every model type, the data,
the two recipes (makemore.py's and the lectures'), evaluation, sampling and the checkpoints.

Two recipes, as in the sources:
- makemore.py's (bigram, mlp, rnn, gru, bow, transformer): whole words padded to the longest, targets
  -1 past the end (ignored by the loss), a test split of min(1000, 10%), AdamW (betas 0.9/0.99, eps
  1e-8, lr 5e-4, weight decay 0.01), batch 32, train/test loss every 500 steps, the best model kept.
- the lectures' (bn-mlp: part 4, deep-bn: part 3, wavenet: part 5): block_size-character context
  windows, the 80/10/10 split of random.seed(42), SGD with lr / 10 at a step, BatchNorm; bn-mlp also
  calibrates its BatchNorm statistics on the training set at the end (exercise 4).

The checkpoint (out/makemore.npz, written with tg.save) holds everything needed to resume exactly:
parameters, buffers, optimizer state, the random generator, the loss history and the best model.
At every instant out/makemore.npz is one complete checkpoint: tg.save writes a temporary file and
renames it over the old one; an earlier run's checkpoint is kept by a hard link before that rename.
"""
import dataclasses
import itertools
import math
import os
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import tensorgrad as tg
import tensorgrad.nn.functional as F
from tensorgrad import nn
from tensorgrad.serialization import TMP_SUFFIX, SerializationError
from models.data import (SOURCES, DataError, Vocab, build_dataset, build_sequences, load_words, makemore_split,
                         split_words)

CHECKPOINT_NAME = "makemore.npz"
FORMAT = "tensorgrad-makemore/2"
KEEP_EARLIER = 3     # a fresh run keeps at most this many earlier runs' checkpoints (makemore.prev*.npz)
MAKEMORE_TYPES = ("bigram", "mlp", "rnn", "gru", "bow", "transformer")
LECTURE_TYPES = ("bn-mlp", "deep-bn", "wavenet")
TYPES = LECTURE_TYPES + MAKEMORE_TYPES


class CheckpointError(ValueError):
    """A checkpoint that cannot be used; the message names the file."""


class TrainingError(RuntimeError):
    """Training cannot go on (the loss became NaN or inf); the message says what was kept."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during training; .saved_step is the step of the last checkpoint written (None: none)."""

    def __init__(self, saved_step, path):
        super().__init__()
        self.saved_step, self.path = saved_step, path


# ----------------------------------------------------------------------------
# configuration: one dataclass, each type's defaults filled in where a field is None

# makemore.py's defaults for its types; the lectures' for theirs
_MAKEMORE = dict(n_layer=4, n_head=4, n_embd=64, n_embd2=64, lr=5e-4, weight_decay=0.01, optimizer="adamw",
                 seed=3407, steps=-1, eval_every=500)
_DEFAULTS = {
    "bn-mlp": dict(block_size=3, n_embd=10, n_hidden=200, bn_momentum=0.001, steps=80000, lr=0.1,
                   optimizer="sgd", weight_decay=0.0, seed=2147483647),
    "deep-bn": dict(block_size=3, n_embd=10, n_hidden=100, bn_momentum=0.1, steps=200000, lr=0.1,
                    optimizer="sgd", weight_decay=0.0, seed=2147483647),
    "wavenet": dict(block_size=8, n_embd=24, n_hidden=128, bn_momentum=0.1, steps=200000, lr=0.1,
                    optimizer="sgd", weight_decay=0.0, seed=42),
    **{t: _MAKEMORE for t in MAKEMORE_TYPES},
}
# the lectures divide the lr by 10 at half (part 4) or three quarters (parts 3 and 5) of the steps
_DECAY_AT = {"bn-mlp": 0.5, "deep-bn": 0.75, "wavenet": 0.75}


@dataclass
class Config:
    """A model's shape and its training run's hyper-parameters. None: the type's default."""
    type: str = "bn-mlp"
    # model
    vocab_size: int = 27              # set from the data: '.' plus its characters
    block_size: int | None = None     # context length (makemore types: set from the data, longest word + 1)
    n_embd: int | None = None         # embedding size
    n_embd2: int | None = None        # makemore: hidden size of the MLP, RNN and BoW
    n_hidden: int | None = None       # lectures: neurons per hidden layer
    n_layer: int | None = None        # transformer blocks
    n_head: int | None = None         # attention heads
    bn_momentum: float | None = None  # of the running BatchNorm statistics
    # training
    data: str = "default"             # a path, 'default' (offline census names) or 'makemore-names'
    batch_size: int = 32
    steps: int | None = None          # total steps; -1: until interrupted (makemore types)
    lr: float | None = None
    lr_decay_step: int | None = None  # lectures: lr / 10 from this step on (None: the lecture's fraction)
    optimizer: str | None = None      # sgd, adam or adamw
    weight_decay: float | None = None
    seed: int | None = None
    eval_every: int | None = None     # None: steps / 10 (lectures), 500 (makemore types)

    def __post_init__(self):
        if self.type not in TYPES:
            raise ValueError(f"unknown model type {self.type!r} (one of {', '.join(TYPES)})")
        for k, v in _DEFAULTS[self.type].items():
            if getattr(self, k) is None and k != "eval_every":
                setattr(self, k, v)

    @property
    def recipe(self) -> str:
        return "makemore" if self.type in MAKEMORE_TYPES else "lecture"


MODEL_FIELDS = ("type", "vocab_size", "block_size", "n_embd", "n_embd2", "n_hidden", "n_layer", "n_head")


def build_model(config: Config, generator: tg.Generator | None = None) -> nn.Module:
    """The model of config.type; the lecture models draw their init from generator (or config.seed)."""
    from models import bigram, bn_mlp, bow, deep_bn, mlp, rnn, transformer, wavenet
    makers = {"bigram": bigram.Bigram, "mlp": mlp.MLP, "rnn": rnn.RNN, "gru": rnn.GRU, "bow": bow.BoW,
              "transformer": transformer.Transformer}
    if config.type in makers:
        return makers[config.type](config)
    lecture = {"bn-mlp": bn_mlp.MakemoreMLP, "deep-bn": deep_bn.DeepBatchNormMLP, "wavenet": wavenet.WaveNet}
    return lecture[config.type](config, generator=generator)


def make_optimizer(config: Config, params):
    """makemore.py's AdamW (betas 0.9/0.99, eps 1e-8), or the lectures' plain SGD."""
    optim = tg.optim
    if config.optimizer == "sgd":
        return optim.SGD(params, lr=config.lr, weight_decay=config.weight_decay)
    if config.optimizer == "adam":
        return optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay)
    if config.optimizer == "adamw":
        return optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay, betas=(0.9, 0.99), eps=1e-8)
    raise ValueError(f"unknown optimizer {config.optimizer!r} (sgd, adam or adamw)")


def decay_step(config: Config) -> int | None:
    """The step from which the lr is divided by 10 (lectures); None: a constant lr (makemore types)."""
    if config.recipe == "makemore":
        return config.lr_decay_step
    return int(config.steps * _DECAY_AT[config.type]) if config.lr_decay_step is None else config.lr_decay_step


def lr_at(config: Config, step: int) -> float:
    d = decay_step(config)
    return config.lr if d is None or step < d else config.lr * 0.1


def eval_interval(config: Config) -> int:
    if config.eval_every is not None:
        return config.eval_every
    return 500 if config.recipe == "makemore" else max(1, config.steps // 10)


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
        return F.cross_entropy(logits.reshape(-1, V), np.asarray(Y).reshape(-1), ignore_index=-1)
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
# checkpoints

@dataclass
class Checkpoint:
    """What load_checkpoint read: a checked model plus the state a resumed run needs."""
    path: Path
    config: Config
    vocab: Vocab
    model: nn.Module           # the latest weights
    best: nn.Module | None     # makemore types: the weights with the best test loss so far
    best_step: int | None
    step: int
    max_word_length: int
    rng_state: dict
    optim_state: dict
    train_buffers: dict
    history: dict
    finite: bool               # False: some weight is NaN or inf


def _np_tree(obj):
    """Tensors -> arrays through a tree of dicts and lists (what tg.save takes and tg.load gives)."""
    if isinstance(obj, tg.Tensor):
        return obj.numpy()
    if isinstance(obj, dict):
        return {k: _np_tree(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_np_tree(v) for v in obj)
    return obj


def _state_of(model) -> dict:
    return {k: np.asarray(v).copy() for k, v in model.state_dict().items()}   # a snapshot, not views


def checkpoint_state(config, model, optimizer, vocab, step, generator, history, max_word_length,
                     train_buffers=None, best=None) -> dict:
    """The tree that tg.save writes as a checkpoint."""
    return dict(
        format=FORMAT, config=dataclasses.asdict(config), vocab=vocab.chars, step=step,
        max_word_length=max_word_length, rng=generator.rng.bit_generator.state,
        model=_state_of(model), optim=_np_tree(optimizer.state_dict()),
        # the running BatchNorm statistics as training left them (the model's may be calibrated)
        train_buffers=train_buffers or {n: np.asarray(b).copy() for n, b in model.named_buffers()},
        history=dict(losses=np.asarray(history["losses"], np.float32),             # (step,)
                     lrs=np.asarray(history["lrs"], np.float64),                   # (step,)
                     evals=np.asarray(history["evals"], np.float64).reshape(-1, 3)),  # (k, 3) step, train, val/test
        best=best)


def stale_temp_files(directory: Path) -> list[Path]:
    """Temporary files that a killed save left next to the checkpoint."""
    return sorted(Path(directory).glob(f".{CHECKPOINT_NAME}.*{TMP_SUFFIX}"))


def backup_path(path: Path) -> Path:
    """Where a fresh run keeps the earlier run's checkpoint: makemore.prev.npz, then prev2, ... up to
    KEEP_EARLIER; when all are taken the oldest is deleted and the others move down one name."""
    names = [path.with_name(f"{path.stem}.prev{i if i > 1 else ''}{path.suffix}") for i in range(1, KEEP_EARLIER + 1)]
    for name in names:
        if not name.exists():
            return name
    names[0].unlink()
    for older, newer in zip(names, names[1:]):
        os.replace(newer, older)
    return names[-1]


def keep_copy(path: Path, backup: Path) -> None:
    """A second name for the checkpoint at path (a hard link; a copy where links are not possible),
    so that path itself is never missing, not even for an instant."""
    try:
        os.link(path, backup)
    except OSError:
        tmp = backup.with_name(f".{backup.name}.copy{TMP_SUFFIX}")
        tmp.write_bytes(path.read_bytes())
        os.replace(tmp, backup)


def load_checkpoint(path, warn: bool = True) -> Checkpoint:
    """Read and check a checkpoint; CheckpointError (naming the file) if it is missing, not a
    tensorgrad-makemore checkpoint, corrupt, or does not match its own config. Warns if a weight
    is not finite."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no checkpoint there (train first, or point --out at a run's directory)")
    try:
        state = tg.load(path)
    except SerializationError as e:
        raise CheckpointError(str(e).replace("tensorgrad file", "tensorgrad-makemore checkpoint")) from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        got = state.get("format") if isinstance(state, dict) else None
        raise CheckpointError(f"{path}: not a tensorgrad-makemore checkpoint (format {got!r}, expected {FORMAT!r})")
    try:
        config = Config(**state["config"])
        vocab = Vocab(state["vocab"])
        if len(vocab) != config.vocab_size:
            raise ValueError(f"its vocabulary has {len(vocab)} characters, its config says {config.vocab_size}")
        model = build_model(config)
        model.load_state_dict(state["model"])
        make_optimizer(config, model.parameters()).load_state_dict(state["optim"])
        best = best_step = None
        if state["best"] is not None:
            best = build_model(config)
            best.load_state_dict(state["best"]["model"])
            best_step = int(state["best"]["step"])
        train_buffers = {n: state["train_buffers"][n] for n, _ in model.named_buffers()}
        step, h = int(state["step"]), state["history"]
        history = dict(losses=list(h["losses"]), lrs=list(h["lrs"]), evals=[tuple(r) for r in h["evals"]])
        if not len(history["losses"]) == len(history["lrs"]) == step:
            raise ValueError(f"it is at step {step} but has {len(history['losses'])} losses and "
                             f"{len(history['lrs'])} learning rates")
    except (KeyError, ValueError, TypeError, RuntimeError) as e:   # RuntimeError: load_state_dict's, as torch's
        raise CheckpointError(f"{path}: the checkpoint does not match its own config ({e})") from None
    finite = all(np.isfinite(np.asarray(p)).all() for p in model.parameters())
    if not finite and warn:
        warnings.warn(f"{path}: some weights are NaN or inf (training diverged?)", RuntimeWarning, stacklevel=2)
    return Checkpoint(path, config, vocab, model, best, best_step, step, int(state["max_word_length"]),
                      state["rng"], state["optim"], train_buffers, history, finite)


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
          temperature: float = 1.0, log=print) -> dict:
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
            best = dict(model=_state_of(ckpt.best), step=ckpt.best_step, loss=_best_loss(history, ckpt.best_step))
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
    try:
        for i in bar:
            ix = tg.randint(0, len(Ytr), (config.batch_size,), generator=g).numpy()
            loss = loss_of(model, Xtr[ix], Ytr[ix])
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
                    best = dict(model=_state_of(model), step=step, loss=b)
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
