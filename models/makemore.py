"""makemore on tensorgrad: the BatchNorm MLP of Karpathy's "Becoming a Backprop Ninja"
(makemore part 4), its chunked forward pass (exercise 1), and a training program.

The model is Bengio et al. 2003 ("A Neural Probabilistic Language Model") with batch
normalization (Ioffe & Szegedy 2015): embed block_size characters with C, concatenate,
Linear -> BatchNorm1d -> Tanh -> Linear, and predict the next character.

    tensorgrad-makemore                      # train the default model (~1 minute, offline)
    tensorgrad-makemore train --data names.txt --n-hidden 200 --steps 200000 --lr-decay-step 100000
    tensorgrad-makemore eval --out out       # train/val/test loss of a checkpoint
    tensorgrad-makemore sample --out out -n 20
"""
import argparse
import dataclasses
import itertools
import json
import math
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import tensorgrad as tg
import tensorgrad.nn.functional as F
from tensorgrad import nn
from models.data import SOURCES, DataError, Vocab, build_dataset, load_words, split_words

__all__ = ["Config", "MakemoreMLP", "chunked_forward", "load_words", "Vocab", "build_dataset", "split_words",
           "train", "evaluate", "calibrate_batchnorm", "sample", "save_checkpoint", "load_checkpoint",
           "DataError", "CheckpointError", "main"]


# ----------------------------------------------------------------------------
# configuration

@dataclass
class Config:
    """The model's shape and the training run's hyper-parameters (the lecture's values)."""
    # model
    vocab_size: int = 27           # set from the data: '.' plus its characters
    block_size: int = 3            # context length: how many characters predict the next one
    n_embd: int = 10               # dimensionality of the character embedding vectors
    n_hidden: int = 200            # neurons in the hidden layer (64 in the lecture's gradient checks)
    bn_momentum: float = 0.001     # of the running statistics, as makemore part 3
    # training
    data: str = "default"          # a path, 'default' (offline census names) or 'makemore-names'
    batch_size: int = 32
    steps: int = 80000             # the default run takes about a minute on 2 cores
    lr: float = 0.1
    lr_decay_step: int | None = None   # lr / 10 from this step on; None: half of steps (kept None in
                                       # checkpoints, so a resume with more --steps moves it)
    optimizer: str = "sgd"         # sgd (the lecture's), adam or adamw
    weight_decay: float = 0.0
    seed: int = 2147483647         # the lecture's generator seed
    eval_every: int | None = None  # steps between train/val evaluations; None: steps / 10


MODEL_FIELDS = ("vocab_size", "block_size", "n_embd", "n_hidden")  # fixed once a model exists


# ----------------------------------------------------------------------------
# the model

class MakemoreMLP(nn.Module):
    """The lecture's MLP, with the lecture's parameter names and init scales:
    C (vocab_size, n_embd), W1/b1 -> BatchNorm (bngain, bnbias) -> tanh -> W2/b2.
    Linear layers compute x @ W + b, W of shape (fan_in, fan_out), as in the lecture."""

    def __init__(self, config: Config, generator: tg.Generator | None = None):
        g = generator or tg.Generator().manual_seed(config.seed)
        V, E, T, H = config.vocab_size, config.n_embd, config.block_size, config.n_hidden
        self.config = config
        self.C = _init(g, (V, E))                                               # (V, n_embd)
        self.W1 = _init(g, (E * T, H), scale=(5 / 3) / (E * T) ** 0.5)        # (block_size*n_embd, n_hidden)
        self.b1 = _init(g, (H,), scale=0.1)   # useless because of BN; kept, as in the lecture
        self.W2 = _init(g, (H, V), scale=0.1)                                   # (n_hidden, V)
        self.b2 = _init(g, (V,), scale=0.1)
        # the lecture initialises the BatchNorm parameters near 1 and 0, not at them: an
        # all-ones gain or all-zero bias could hide a mistake in a hand-written backward
        self.bngain = _init(g, (1, H), scale=0.1, shift=1.0)                    # (1, n_hidden)
        self.bnbias = _init(g, (1, H), scale=0.1)                               # (1, n_hidden)
        # buffers: running statistics for eval mode (calibrated on the training set at the end)
        self.register_buffer("bnmean_running", tg.zeros(1, H))                 # (1, n_hidden)
        self.register_buffer("bnvar_running", tg.ones(1, H))                   # (1, n_hidden)

    def forward(self, X):
        """X (B, block_size) character indices -> logits (B, vocab_size)."""
        with tg.name_scope("embedding"):
            emb = self.C[X]                                     # (B, block_size, n_embd)
            embcat = emb.reshape(emb.shape[0], -1)              # (B, block_size*n_embd)
        with tg.name_scope("linear1"):
            hprebn = embcat @ self.W1 + self.b1                 # (B, n_hidden)
        with tg.name_scope("batchnorm"):
            # one fused node (exercise 3); Bessel-corrected batch variance, as the lecture
            hpreact = F.batch_norm(hprebn, self.bnmean_running, self.bnvar_running, self.bngain, self.bnbias,
                                   training=self.training, momentum=self.config.bn_momentum, eps=1e-5,
                                   correction=1)                # (B, n_hidden)
        with tg.name_scope("tanh"):
            h = hpreact.tanh()                                  # (B, n_hidden)
        with tg.name_scope("linear2"):
            logits = h @ self.W2 + self.b2                      # (B, vocab_size)
        return logits

    def hidden_preactivation(self, X):
        """embcat @ W1 + b1 for a batch, without recording (for BatchNorm calibration)."""
        with tg.no_grad():
            emb = self.C[X]                                     # (B, block_size, n_embd)
            return emb.reshape(emb.shape[0], -1) @ self.W1 + self.b1   # (B, n_hidden)


def _init(g: tg.Generator, shape: tuple, scale: float = 1.0, shift: float = 0.0) -> nn.Parameter:
    """randn(shape) * scale + shift, a new parameter."""
    x = tg.randn(*shape, generator=g).numpy() * scale + shift
    return nn.Parameter(tg.tensor(x))


def chunked_forward(model: MakemoreMLP, Xb, Yb) -> dict:
    """Exercise 1's forward pass, broken into the lecture's small steps, with the lecture's
    arithmetic. Returns name -> tensor for every intermediate (emb ... loss), each with
    .name set and retain_grad() called, so that loss.backward() leaves a .grad on all of them."""
    C, W1, b1, W2, b2, bngain, bnbias = (model.C, model.W1, model.b1, model.W2, model.b2,
                                         model.bngain, model.bnbias)
    Yb = Yb.numpy() if isinstance(Yb, tg.Tensor) else np.asarray(Yb)
    n = Yb.shape[0]
    with tg.name_scope("embedding"):
        emb = C[Xb]                                             # (n, block_size, n_embd)
        embcat = emb.reshape(emb.shape[0], -1)                  # (n, block_size*n_embd)
    with tg.name_scope("linear1"):
        hprebn = embcat @ W1 + b1                               # (n, n_hidden)
    with tg.name_scope("batchnorm"):
        bnmeani = 1 / n * hprebn.sum(0, keepdim=True)           # (1, n_hidden)
        bndiff = hprebn - bnmeani                               # (n, n_hidden)
        bndiff2 = bndiff ** 2
        bnvar = 1 / (n - 1) * bndiff2.sum(0, keepdim=True)      # (1, n_hidden) Bessel's correction: n-1
        bnvar_inv = (bnvar + 1e-5) ** -0.5
        bnraw = bndiff * bnvar_inv                              # (n, n_hidden)
        hpreact = bngain * bnraw + bnbias
    with tg.name_scope("tanh"):
        h = hpreact.tanh()
    with tg.name_scope("linear2"):
        logits = h @ W2 + b2                                    # (n, vocab_size)
    with tg.name_scope("cross_entropy"):
        logit_maxes = logits.max(1, keepdim=True).values        # (n, 1)
        norm_logits = logits - logit_maxes                      # (n, vocab_size) subtract max for stability
        counts = norm_logits.exp()
        counts_sum = counts.sum(1, keepdim=True)                # (n, 1)
        counts_sum_inv = counts_sum ** -1   # the lecture's choice over 1.0 / counts_sum
        probs = counts * counts_sum_inv                         # (n, vocab_size)
        logprobs = probs.log()
        loss = -logprobs[np.arange(n), Yb].mean()               # ()
    out = dict(emb=emb, embcat=embcat, hprebn=hprebn, bnmeani=bnmeani, bndiff=bndiff, bndiff2=bndiff2,
               bnvar=bnvar, bnvar_inv=bnvar_inv, bnraw=bnraw, hpreact=hpreact, h=h, logits=logits,
               logit_maxes=logit_maxes, norm_logits=norm_logits, counts=counts, counts_sum=counts_sum,
               counts_sum_inv=counts_sum_inv, probs=probs, logprobs=logprobs, loss=loss)
    for name, t in out.items():
        t.name = name
        t.retain_grad()
    return out


# ----------------------------------------------------------------------------
# evaluating, calibrating, sampling

def evaluate(model: MakemoreMLP, X, Y, chunk: int = 50000) -> float:
    """Mean cross-entropy over all of (X, Y), in eval mode (running BatchNorm statistics)."""
    X, Y = _np(X), _np(Y)
    was_training = model.training
    model.eval()
    total = 0.0
    with tg.no_grad():
        for i in range(0, len(Y), chunk):
            logits = model(X[i:i + chunk])                      # (chunk, vocab_size)
            total += float(F.cross_entropy(logits, Y[i:i + chunk], reduction="sum").item())
    model.train(was_training)
    return total / len(Y)


def calibrate_batchnorm(model: MakemoreMLP, X, chunk: int = 50000) -> None:
    """Exercise 4's last step: set the running BatchNorm statistics to the mean and the
    (unbiased) variance of the hidden pre-activations over the whole of X."""
    X = _np(X)
    n, total = len(X), 0.0
    for i in range(0, n, chunk):
        total = total + model.hidden_preactivation(X[i:i + chunk]).numpy().sum(0, keepdims=True, dtype=np.float64)
    mean = total / n                                            # (1, n_hidden)
    sq = 0.0
    for i in range(0, n, chunk):
        diff = model.hidden_preactivation(X[i:i + chunk]).numpy() - mean
        sq = sq + (diff * diff).sum(0, keepdims=True)
    dtype = model.bnmean_running.dtype
    model.bnmean_running.data = mean.astype(dtype)
    model.bnvar_running.data = (sq / (n - 1)).astype(dtype)


def sample(model: MakemoreMLP, vocab: Vocab, num: int = 20, seed: int = 2147483647 + 10,
           max_len: int = 100) -> list[str]:
    """num new words, each drawn one character at a time from the model's softmax (eval mode)."""
    rng = np.random.default_rng(seed)
    was_training = model.training
    model.eval()
    words = []
    with tg.no_grad():
        for _ in range(num):
            context = [0] * model.config.block_size            # start with all '.'
            out = []
            for _ in range(max_len):
                logits = model(np.array([context]))             # (1, vocab_size)
                cdf = np.cumsum(F.softmax(logits, dim=1).numpy()[0], dtype=np.float64)   # (vocab_size,)
                ix = min(int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right")), len(vocab) - 1)
                if ix == 0:
                    break
                out.append(vocab.itos[ix])
                context = context[1:] + [ix]
            words.append("".join(out))
    model.train(was_training)
    return words


def _np(x) -> np.ndarray:
    return x.numpy() if isinstance(x, tg.Tensor) else np.asarray(x)


# ----------------------------------------------------------------------------
# checkpoints: .npz, loaded without pickle, written atomically

CHECKPOINT_NAME = "makemore.npz"
FORMAT = "tensorgrad-makemore/1"


class CheckpointError(ValueError):
    """A checkpoint that cannot be used; the message names the file."""


def _optimizer(name: str, params, config: Config) -> nn.Optimizer:
    if name == "sgd":
        return nn.SGD(params, lr=config.lr, weight_decay=config.weight_decay)
    if name == "adam":
        return nn.Adam(params, lr=config.lr, weight_decay=config.weight_decay)
    if name == "adamw":
        return nn.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    raise ValueError(f"unknown optimizer {name!r} (sgd, adam or adamw)")


def save_checkpoint(path, model: MakemoreMLP, optimizer: nn.Optimizer, vocab: Vocab, step: int,
                    rng: tg.Generator, history: dict, train_buffers: dict | None = None,
                    backup=None) -> None:
    """Everything needed to evaluate, sample and resume exactly, in one .npz (temp file + os.replace).
    With backup, an existing checkpoint at path is moved there once the new one is written."""
    path = Path(path)
    arrays = {f"model.{k}": v for k, v in model.state_dict().items()}
    arrays.update({f"optim.{i}.{k}": np.asarray(v) for i, entries in optimizer.state_dict()["state"].items()
                   for k, v in entries.items()})
    # the running statistics as training left them (the model's may be calibrated)
    for k, v in (train_buffers or {n: b.numpy() for n, b in model.named_buffers()}).items():
        arrays[f"train.{k}"] = np.array(v)
    arrays["train.losses"] = np.asarray(history["losses"], dtype=np.float32)       # (step,)
    arrays["train.lrs"] = np.asarray(history["lrs"], dtype=np.float64)             # (step,) lr of each step
    arrays["train.evals"] = np.asarray(history["evals"], dtype=np.float64).reshape(-1, 3)  # (k, 3)
    meta = dict(format=FORMAT, config=dataclasses.asdict(model.config), vocab=vocab.chars, step=step,
                rng=rng.rng.bit_generator.state)
    arrays["meta"] = np.array(json.dumps(meta))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)   # mkstemp makes it private; a checkpoint is an ordinary file
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        if backup is not None and path.exists():
            os.replace(path, backup)   # only now: a failed write above leaves the old checkpoint in place
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _load_optim_state(optimizer: nn.Optimizer, flat: dict) -> None:
    """Load the checkpoint's '{index}.{name}' arrays as torch's optimizer state; the options
    (lr, betas, ...) stay those the config gave the optimizer."""
    state = {}
    for key, value in flat.items():
        i, _, name = key.partition(".")
        if not i.isdigit():
            raise KeyError(f"optimizer state: unexpected key '{key}'")
        state.setdefault(int(i), {})[name] = value
    optimizer.load_state_dict(dict(optimizer.state_dict(), state=state))


@dataclass
class Checkpoint:
    """What load_checkpoint read: a checked model plus the state a resumed run needs."""
    path: Path
    config: Config
    vocab: Vocab
    model: MakemoreMLP
    step: int
    rng_state: dict
    optim_state: dict
    train_buffers: dict
    history: dict


def load_checkpoint(path) -> Checkpoint:
    """Read and check a checkpoint (np.load with allow_pickle=False); CheckpointError if it is
    missing, corrupt, truncated, or its arrays do not match its config."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no checkpoint there (train first, or point --out at a run's directory)")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}     # read everything now: a truncated member fails here
        meta = json.loads(str(arrays.pop("meta")[()]))
    except KeyError:
        raise CheckpointError(f"{path}: not a tensorgrad-makemore checkpoint (it has no 'meta')") from None
    except Exception as e:  # zipfile, zlib, numpy and json all raise their own kinds
        raise CheckpointError(f"{path}: cannot read this checkpoint, it is corrupt or truncated "
                              f"({type(e).__name__}: {e})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a tensorgrad-makemore checkpoint (format "
                              f"{meta.get('format') if isinstance(meta, dict) else None!r}, expected {FORMAT!r})")
    try:
        config = Config(**meta["config"])
        vocab = Vocab(meta["vocab"])
        if len(vocab) != config.vocab_size:
            raise ValueError(f"its vocabulary has {len(vocab)} characters, its config says {config.vocab_size}")
        model = MakemoreMLP(config)
        model.load_state_dict({k[6:]: v for k, v in arrays.items() if k.startswith("model.")})
        optim_state = {k[6:]: v for k, v in arrays.items() if k.startswith("optim.")}
        _load_optim_state(_optimizer(config.optimizer, model.parameters(), config), optim_state)
        train_buffers = {n: arrays[f"train.{n}"] for n, _ in model.named_buffers()}
        step, rng_state = int(meta["step"]), meta["rng"]
        lrs = arrays.get("train.lrs", np.full(step, np.nan))   # nan: not recorded (older checkpoints)
        history = dict(losses=list(arrays["train.losses"]), lrs=list(lrs),
                       evals=[tuple(r) for r in arrays["train.evals"]])
        if not len(history["losses"]) == len(history["lrs"]) == step:
            raise ValueError(f"it is at step {step} but has {len(history['losses'])} losses and "
                             f"{len(history['lrs'])} learning rates")
    except (KeyError, ValueError, TypeError, RuntimeError) as e:   # RuntimeError: load_state_dict's, as torch's
        raise CheckpointError(f"{path}: the checkpoint does not match its own config ({e})") from None
    return Checkpoint(path, config, vocab, model, step, rng_state, optim_state, train_buffers, history)


# ----------------------------------------------------------------------------
# training

def decay_step(config: Config) -> int:
    """The step from which the lr is divided by 10: lr_decay_step, by default half of steps."""
    return config.steps // 2 if config.lr_decay_step is None else config.lr_decay_step


def lr_at(config: Config, step: int) -> float:
    """The lecture's schedule: lr, then lr / 10 from decay_step(config) on."""
    return config.lr if step < decay_step(config) else config.lr * 0.1


def _schedule_note(config: Config, old: Config, lrs: list) -> str | None:
    """A note if the steps already trained (with lrs) had other learning rates than config's schedule
    gives them (e.g. a resume with more --steps moved the default decay step); None if they agree."""
    lrs = np.asarray(lrs, dtype=np.float64)
    want = np.where(np.arange(len(lrs)) < decay_step(config), config.lr, config.lr * 0.1)   # lr_at, per step
    differ = np.flatnonzero(~np.isnan(lrs) & ~np.isclose(lrs, want, rtol=1e-12, atol=0))
    if not len(differ):
        return None
    a, b = differ[0], differ[-1]
    note = (f"note: this run's lr schedule (lr {config.lr:g}, lr / 10 from step {decay_step(config)}) is not "
            f"the one the checkpoint was trained with: steps {a}-{b} had lr {lrs[a]:g} where this schedule gives "
            f"{want[a]:g}, so the result differs from one uninterrupted {config.steps}-step run")
    if decay_step(old) != decay_step(config):
        note += f"; --lr-decay-step {decay_step(old)} keeps the old schedule"
    return note


def train(config: Config, out=None, resume: bool = False, quiet: bool = False, plot: bool = True,
          num_samples: int = 20, log=print) -> dict:
    """Train (or, with resume, continue training from out/makemore.npz) and return the model,
    vocabulary, final train/val/test losses and samples. Writes a checkpoint to out (if given)
    at every evaluation and at the end (a fresh run first moves an earlier run's checkpoint to
    makemore.prev.npz), and out/loss.png when matplotlib is installed."""
    from tqdm.auto import tqdm

    ckpt_path = Path(out) / CHECKPOINT_NAME if out is not None else None
    ckpt = None
    if resume:
        if ckpt_path is None:
            raise ValueError("train(resume=True) needs out= (the directory of the checkpoint)")
        ckpt = load_checkpoint(ckpt_path)
        for field in MODEL_FIELDS[1:]:
            have, want = getattr(ckpt.config, field), getattr(config, field)
            if have != want:
                raise CheckpointError(f"{ckpt_path}: the checkpoint has {field}={have}, but {field}={want} "
                                      "was asked for; resume needs the same model")

    # data: the lecture's split, and the vocabulary of the data (or of the checkpoint)
    words = load_words(config.data, vocab=ckpt.vocab if ckpt else None)
    vocab = ckpt.vocab if ckpt else Vocab.from_words(words)
    train_words, val_words, test_words = split_words(words, source=config.data)
    splits = {name: tuple(_np(a) for a in build_dataset(ws, config.block_size, vocab))
              for name, ws in (("train", train_words), ("val", val_words), ("test", test_words))}
    Xtr, Ytr = splits["train"]

    # record the data's size and path; lr_decay_step and eval_every stay None when not given, so
    # that a resume with another --steps recomputes them (and says so if the lr changes)
    config = dataclasses.replace(config, vocab_size=len(vocab),
                                 data=config.data if config.data in SOURCES else str(Path(config.data).resolve()))
    eval_every = max(1, config.steps // 10) if config.eval_every is None else config.eval_every
    g = tg.Generator().manual_seed(config.seed)
    model = MakemoreMLP(config, generator=g)
    optimizer = _optimizer(config.optimizer, model.parameters(), config)
    history = dict(losses=[], lrs=[], evals=[])   # evals: (step, train loss, val loss)
    step = 0
    if ckpt:
        model.load_state_dict(ckpt.model.state_dict())
        for name, b in model.named_buffers():
            b.data = np.array(ckpt.train_buffers[name], dtype=b.dtype)
        _load_optim_state(optimizer, ckpt.optim_state)
        g.rng.bit_generator.state = ckpt.rng_state
        history, step = ckpt.history, ckpt.step
        note = _schedule_note(config, ckpt.config, history["lrs"])
        if note:
            print(note, file=sys.stderr)
    if not quiet:
        n_params = sum(p.numel() for p in model.parameters())
        log(f"data: {config.data}: {len(words)} words, vocabulary {vocab.chars!r}; "
            f"{len(Ytr)}/{len(splits['val'][1])}/{len(splits['test'][1])} train/val/test examples")
        log(f"model: {n_params} parameters; {'resuming at step ' + str(step) if ckpt else 'training'} "
            f"to step {config.steps}")

    train_buffers = None   # set at the end: the running statistics before calibration
    # a fresh run never overwrites an earlier run's checkpoint: its first save moves it aside
    backup = _backup_path(ckpt_path) if ckpt is None and ckpt_path is not None and ckpt_path.exists() else None

    def save():
        nonlocal backup
        if ckpt_path is not None:
            save_checkpoint(ckpt_path, model, optimizer, vocab, step, g, history, train_buffers, backup=backup)
            if backup is not None:
                tqdm.write(f"note: {ckpt_path} was an earlier run's checkpoint; it is kept as {backup} "
                           "(train --resume continues a run instead)", file=sys.stderr)
                backup = None

    model.train()
    t0 = time.time()
    bar = tqdm(range(step, config.steps), initial=step, total=config.steps, disable=True if quiet else None,
               desc="train", mininterval=0.5)
    for i in bar:
        ix = tg.randint(0, len(Ytr), (config.batch_size,), generator=g).numpy()
        Xb, Yb = Xtr[ix], Ytr[ix]                               # (B, block_size), (B,)
        logits = model(Xb)                                      # (B, vocab_size)
        loss = F.cross_entropy(logits, Yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.lr = lr_at(config, i)
        optimizer.step()
        history["losses"].append(loss.item())
        history["lrs"].append(optimizer.lr)
        del logits, loss   # free this step's graph now, not after the next forward has built another
        step = i + 1
        if step % 100 == 0:
            bar.set_postfix(loss=f"{np.mean(history['losses'][-100:]):.4f}", lr=optimizer.lr, refresh=False)
        if step % eval_every == 0 and step < config.steps:
            tr, va = evaluate(model, Xtr, Ytr), evaluate(model, *splits["val"])
            history["evals"].append((step, tr, va))
            if not quiet:
                bar.write(f"step {step:7d}/{config.steps}: train {tr:.4f}  val {va:.4f}  (lr {optimizer.lr:g})")
            save()
    bar.close()
    seconds = time.time() - t0

    # exercise 4: calibrate the BatchNorm statistics on the whole training set
    train_buffers = {name: b.numpy().copy() for name, b in model.named_buffers()}
    calibrate_batchnorm(model, Xtr)
    losses = {name: evaluate(model, X, Y) for name, (X, Y) in splits.items()}
    history["evals"].append((step, losses["train"], losses["val"]))
    save()
    samples = sample(model, vocab, num_samples, seed=config.seed + 10) if num_samples else []
    if not quiet:
        log(f"trained to step {step} in {seconds:.1f}s; BatchNorm calibrated on the training set")
        log(f"loss: train {losses['train']:.4f}  val {losses['val']:.4f}  test {losses['test']:.4f}")
        if samples:
            known = set(words)
            new = sum(s not in known for s in samples)
            log(f"samples ({new} of {len(samples)} are not in the data):")
            log("  " + " ".join(samples))
        if ckpt_path is not None:
            log(f"checkpoint: {ckpt_path}")
    if plot and out is not None:
        plot_losses(history, Path(out) / "loss.png", log=log if not quiet else (lambda *a: None))
    return dict(model=model, vocab=vocab, config=config, losses=losses, samples=samples, step=step,
                seconds=seconds, history=history, checkpoint=ckpt_path)


def _backup_path(path: Path) -> Path:
    """makemore.prev.npz next to path, or makemore.prev2.npz, prev3, ...: the first name not taken."""
    for i in itertools.count(1):
        backup = path.with_name(f"{path.stem}.prev{i if i > 1 else ''}{path.suffix}")
        if not backup.exists():
            return backup


def plot_losses(history: dict, path, log=print) -> Path | None:
    """log10 of the training loss averaged over windows, and the train/val evaluations, as a PNG."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("note: matplotlib is not installed, so no loss plot (pip install 'tensorgrad-ninja[plot]')")
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
        ax.plot(ev[:, 0], np.log10(ev[:, 1]), "o-", label="train (whole split)")
        ax.plot(ev[:, 0], np.log10(ev[:, 2]), "s-", label="val")
    ax.set_xlabel("step")
    ax.set_ylabel("log10 loss")
    ax.set_title("makemore MLP on tensorgrad")
    ax.legend()
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    log(f"loss curve: {path}")
    return path


# ----------------------------------------------------------------------------
# the command line

def _int_at_least(low: int, why: str = ""):
    """An argparse type: an integer >= low, with a message naming the flag otherwise."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}{why}, got {value}")
        return value
    return parse


def _float_above(low: float, inclusive: bool = False):
    """An argparse type: a finite float > low (>= low if inclusive)."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not math.isfinite(value) or value < low or (value == low and not inclusive):
            raise argparse.ArgumentTypeError(f"must be a finite number {'>=' if inclusive else '>'} {low:g}, "
                                             f"got {text}")
        return value
    return parse


POSITIVE, COUNT = _int_at_least(1), _int_at_least(0)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tensorgrad-makemore",
                                description="Train, evaluate and sample the makemore BatchNorm MLP on tensorgrad. "
                                            "With no command: train with the defaults.")
    sub = p.add_subparsers(dest="command")

    t = sub.add_parser("train", help="train a model (or --resume one) and write out/makemore.npz")
    t.add_argument("--data", help="a text file with one word per line, 'default' (US Census first names, "
                                  "offline) or 'makemore-names' (downloads names.txt once); default: default")
    t.add_argument("--out", default="out", help="directory for the checkpoint and loss.png (default: out)")
    t.add_argument("--resume", action="store_true",
                   help="continue from out/makemore.npz (without it, an existing one is kept as makemore.prev.npz)")
    t.add_argument("--n-embd", type=POSITIVE, help="embedding size (default 10)")
    t.add_argument("--n-hidden", type=POSITIVE, help="hidden neurons (default 200)")
    t.add_argument("--block-size", type=POSITIVE, help="context length (default 3)")
    t.add_argument("--batch-size", type=_int_at_least(2, " (batch norm needs more than 1 example per batch)"),
                   help="default 32")
    t.add_argument("--steps", type=POSITIVE, help=f"total training steps (default {Config.steps})")
    t.add_argument("--lr", type=_float_above(0), help="learning rate (default 0.1)")
    t.add_argument("--lr-decay-step", type=COUNT, help="lr / 10 from this step on (default: half of --steps)")
    t.add_argument("--optimizer", choices=["sgd", "adam", "adamw"], help="default sgd")
    t.add_argument("--weight-decay", type=_float_above(0, inclusive=True), help="default 0")
    t.add_argument("--seed", type=COUNT, help=f"init and batch sampling seed (default {Config.seed})")
    t.add_argument("--eval-every", type=POSITIVE, help="steps between train/val evaluations (default: steps / 10)")
    t.add_argument("--num-samples", type=COUNT, default=20, help="names to sample at the end (default 20)")
    t.add_argument("--no-plot", action="store_true", help="do not write loss.png")
    t.add_argument("--quiet", action="store_true", help="print nothing but errors and notes")
    t.set_defaults(func=_cmd_train)

    e = sub.add_parser("eval", help="train/val/test loss of a checkpoint")
    e.add_argument("--out", default="out", help="the run's directory (default: out)")
    e.add_argument("--data", help="word list to split and evaluate on (default: the checkpoint's)")
    e.set_defaults(func=_cmd_eval)

    s = sub.add_parser("sample", help="sample new words from a checkpoint")
    s.add_argument("--out", default="out", help="the run's directory (default: out)")
    s.add_argument("-n", "--num-samples", type=COUNT, default=20, help="how many (default 20)")
    s.add_argument("--seed", type=COUNT, help="sampling seed (default: the checkpoint's seed + 10)")
    s.set_defaults(func=_cmd_sample)
    return p


_TRAIN_FLAGS = ("data", "n_embd", "n_hidden", "block_size", "batch_size", "steps", "lr", "lr_decay_step",
                "optimizer", "weight_decay", "seed", "eval_every")


def _cmd_train(args) -> int:
    given = {k: getattr(args, k) for k in _TRAIN_FLAGS if getattr(args, k) is not None}
    if args.resume:
        # the checkpoint's config, changed only where a flag was given (e.g. more --steps)
        base = load_checkpoint(Path(args.out) / CHECKPOINT_NAME).config
        config = dataclasses.replace(base, **given)
    else:
        config = Config(**given)
    train(config, out=args.out, resume=args.resume, quiet=args.quiet, plot=not args.no_plot,
          num_samples=args.num_samples)
    return 0


def _cmd_eval(args) -> int:
    ckpt = load_checkpoint(Path(args.out) / CHECKPOINT_NAME)
    source = args.data or ckpt.config.data
    words = load_words(source, vocab=ckpt.vocab)
    for name, ws in zip(("train", "val", "test"), split_words(words, source=source)):
        X, Y = build_dataset(ws, ckpt.config.block_size, ckpt.vocab)
        print(f"{name:5s} loss {evaluate(ckpt.model, X, Y):.4f}  ({len(Y)} examples)")
    return 0


def _cmd_sample(args) -> int:
    ckpt = load_checkpoint(Path(args.out) / CHECKPOINT_NAME)
    seed = ckpt.config.seed + 10 if args.seed is None else args.seed
    for word in sample(ckpt.model, ckpt.vocab, args.num_samples, seed=seed):
        print(word)
    return 0


def main(argv=None) -> int:
    """The console script tensorgrad-makemore: train (the default), eval, sample."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] not in ("train", "eval", "sample", "-h", "--help"):
        argv = ["train"] + argv
    args = _parser().parse_args(argv)
    try:
        return args.func(args)
    except (DataError, CheckpointError) as e:
        print(f"tensorgrad-makemore: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("tensorgrad-makemore: interrupted (the last checkpoint is intact)", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
