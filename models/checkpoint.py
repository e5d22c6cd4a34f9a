"""The training program's checkpoint, out/makemore.npz: what it holds, reading it back with checks, and
keeping an earlier run's checkpoint. Written with tg.save (a temporary file renamed over the old one), so
at every instant makemore.npz is one complete checkpoint; an earlier run's is kept by a hard link made
before that rename."""
import dataclasses
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import tensorgrad as tg
from tensorgrad import nn
from tensorgrad.serialization import TMP_SUFFIX, SerializationError
from models.config import Config, build_model, make_optimizer
from models.data import Vocab

CHECKPOINT_NAME = "makemore.npz"
FORMAT = "tensorgrad-makemore/2"
KEEP_EARLIER = 3     # a fresh run keeps at most this many earlier runs' checkpoints (makemore.prev*.npz)


class CheckpointError(ValueError):
    """A checkpoint that cannot be used; the message names the file."""


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


def state_of(model) -> dict:
    """A snapshot of the model's state dict, as arrays."""
    return {k: np.asarray(v).copy() for k, v in model.state_dict().items()}   # a snapshot, not views


def checkpoint_state(config, model, optimizer, vocab, step, generator, history, max_word_length,
                     train_buffers=None, best=None) -> dict:
    """The tree that tg.save writes as a checkpoint."""
    return dict(
        format=FORMAT, config=dataclasses.asdict(config), vocab=vocab.chars, step=step,
        max_word_length=max_word_length, rng=generator.rng.bit_generator.state,
        model=state_of(model), optim=_np_tree(optimizer.state_dict()),
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
