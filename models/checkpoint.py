"""The training program's checkpoint, out/makemore.npz: what it holds, the Checkpointer that writes it (the
lock, atomic saves, earlier runs' checkpoints, what was saved last), and reading one back with checks.

What a run can count on (the README's "Saving" paragraph says the same):
- out/makemore.npz is at every instant one complete checkpoint: a save writes a temporary file, fsyncs it,
  and only then renames it over the old one. A kill (SIGKILL, a crash, power loss) at any point leaves the
  old or the new checkpoint; the next run removes the temporary file.
- Ctrl-C waits for a rename in progress, so the step reported as saved is the one on disk.
- A failed save (a full disk, a read-only directory) leaves the old checkpoint and says so in one line.
- A fresh run keeps the checkpoint it finds, by a hard link made after its own first checkpoint is written
  and just before the rename: makemore.prev1.npz, prev2, ... (higher is newer); the oldest beyond
  KEEP_EARLIER is deleted only after the new checkpoint is in place.
- One run at a time per directory: a second run is refused while the first holds the lock.
"""
import contextlib
import dataclasses
import fcntl
import hashlib
import os
import re
import signal
import tempfile
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import tensorgrad as tg
from tensorgrad import nn
from tensorgrad.serialization import TMP_SUFFIX, SerializationError, fsync_dir
from models.config import Config, build_model, check_config, make_optimizer
from models.data import MAX_WORD_LENGTH, SOURCES, DataError, Vocab, read_bytes

CHECKPOINT_NAME = "makemore.npz"
LOCK_NAME = ".makemore.lock"
FORMAT = "tensorgrad-makemore/2"
KEEP_EARLIER = 3     # a fresh run keeps at most this many earlier runs' checkpoints (makemore.prev<N>.npz)


class CheckpointError(ValueError):
    """A checkpoint that cannot be used, or a directory a run cannot use; the message names the file."""


class SaveError(RuntimeError):
    """A checkpoint could not be written (a full disk, a read-only directory); the old one is intact."""


# ----------------------------------------------------------------------------
# what a checkpoint holds

def state_of(model) -> dict:
    """A snapshot of the model's state dict, as arrays."""
    return {k: np.asarray(v).copy() for k, v in model.state_dict().items()}   # a snapshot, not views


def _np_tree(obj):
    """Tensors -> arrays through a tree of dicts and lists."""
    if isinstance(obj, tg.Tensor):
        return obj.numpy()
    if isinstance(obj, dict):
        return {k: _np_tree(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_np_tree(v) for v in obj)
    return obj


def checkpoint_state(config, model, optimizer, vocab, step, generator, history, max_word_length,
                     train_buffers=None, best=None, data_sha256=None) -> dict:
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
        best=best, data_sha256=data_sha256)


def file_sha256(path) -> str | None:
    """The sha256 of a word file (None for the built-in sources), recorded so that a checkpoint only ever
    reads back the file it was trained on."""
    return None if path in SOURCES else hashlib.sha256(read_bytes(Path(path))).hexdigest()


# ----------------------------------------------------------------------------
# the Checkpointer: one run's writes into its directory

class Checkpointer:
    """Owns out/makemore.npz for one run: the directory's lock, atomic saves, keeping the earlier run's
    checkpoint (a fresh run), and the step saved last. Use it as a context manager (the lock)."""

    def __init__(self, directory, fresh: bool, keep: int = KEEP_EARLIER, note=print):
        self.directory = Path(directory)
        self.path = self.directory / CHECKPOINT_NAME
        self.fresh = fresh            # True until a fresh run's first save: the checkpoint found is an earlier run's
        self.keep, self.note = keep, note
        self.saved_step = None        # the step of the checkpoint on disk that this run wrote (or resumed from)
        self._lock_fd = None

    def __enter__(self):
        if self.directory.exists() and not self.directory.is_dir():
            raise CheckpointError(f"{self.directory}: is a file; --out names the run's directory")
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise SaveError(f"{self.directory}: cannot create the run's directory ({e.strerror or e})") from None
        self._lock_fd = _take_lock(self.directory / LOCK_NAME)
        if self.path.exists() and not self.path.is_file():
            os.close(self._lock_fd)
            raise CheckpointError(f"{self.path}: is not a file (a directory?); move it away, or give another -o")
        for tmp in stale_temp_files(self.directory):   # only now: another run's could be in flight
            tmp.unlink(missing_ok=True)
            self.note(f"note: removed {tmp}, left by a save that was killed")
        return self

    def __exit__(self, *exc):
        os.close(self._lock_fd)   # closing releases the lock; the file stays (deleting it would race)

    def status(self) -> str:
        """What is on disk now, for messages: the last checkpoint, or that nothing was saved."""
        if self.saved_step is not None:
            return f"the last checkpoint, {self.path} (step {self.saved_step}), is intact"
        if self.path.is_file():
            return f"nothing was saved; {self.path}, an earlier run's checkpoint, is intact"
        return "nothing was saved"

    def save(self, tree: dict, step: int) -> None:
        """Write tree as the checkpoint of step. A fresh run's first save keeps the earlier checkpoint."""
        try:
            tmp = self._write(tree)   # complete and on disk before anything is renamed
        except OSError as e:
            raise SaveError(f"{self.path}: cannot save the checkpoint of step {step} ({e.strerror or e}); "
                            f"{self.status()}") from None
        kept = None
        try:
            with _interrupts_deferred():   # the rename and the record of it go together
                if self.fresh and self.path.exists():
                    kept = self._keep_earlier()
                os.replace(tmp, self.path)
                self.saved_step, self.fresh = step, False
        except OSError as e:
            Path(tmp).unlink(missing_ok=True)
            raise SaveError(f"{self.path}: cannot save the checkpoint of step {step} ({e.strerror or e}); "
                            f"{self.status()}") from None
        fsync_dir(self.directory)
        if kept is not None:
            self.note(f"note: {self.path} was an earlier run's checkpoint; it is kept as {kept} "
                      f"(train --resume continues a run instead; the {self.keep} newest are kept)")
        for old in earlier_checkpoints(self.directory)[:-self.keep]:   # only now that the new one is in place
            old.unlink(missing_ok=True)

    def _write(self, tree: dict) -> str:
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=f".{CHECKPOINT_NAME}.", suffix=TMP_SUFFIX)
        try:
            os.fchmod(fd, 0o644)   # mkstemp makes the file private; a checkpoint is an ordinary file
            with os.fdopen(fd, "wb") as f:
                tg.save(tree, f)
                f.flush()
                os.fsync(f.fileno())
        except BaseException:      # nothing was renamed yet: the temporary file is only ours
            os.unlink(tmp)
            raise
        return tmp

    def _keep_earlier(self) -> Path:
        """A second name for the checkpoint found (a hard link: the file is never copied half)."""
        kept = earlier_checkpoints(self.directory)
        if kept and os.path.samefile(kept[-1], self.path):
            return kept[-1]   # a save killed after its link, before its rename: the link is there already
        name = self.directory / f"makemore.prev{_number(kept[-1]) + 1 if kept else 1}.npz"
        try:
            os.link(self.path, name)
        except OSError:   # a file system without hard links: a copy, renamed into place
            fd, copy = tempfile.mkstemp(dir=self.directory, prefix=f".{CHECKPOINT_NAME}.", suffix=TMP_SUFFIX)
            with os.fdopen(fd, "wb") as f:
                f.write(self.path.read_bytes())
            os.replace(copy, name)
        return name


def _take_lock(path: Path) -> int:
    """An exclusive flock on the directory's lock file, holding our pid; CheckpointError if another run
    has it. (O_NOFOLLOW: a symlink planted as the lock file is not followed and written through.)"""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    except OSError as e:
        raise SaveError(f"{path}: cannot create the run's lock file ({e.strerror or e})") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        pid = os.pread(fd, 20, 0).decode("ascii", "replace").strip() or "unknown"
        os.close(fd)
        raise CheckpointError(f"{path.parent}: another run (pid {pid}) is training in this directory; wait for "
                              "it to end, or give another -o") from None
    with contextlib.suppress(OSError):   # a full disk: the lock holds without the pid
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


@contextlib.contextmanager
def _interrupts_deferred():
    """Ctrl-C (SIGINT) during the block is delivered when it ends (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught = []
    previous = signal.signal(signal.SIGINT, lambda *args: caught.append(args))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if caught and callable(previous):
            previous(*caught[0])
        elif caught and previous == signal.SIG_DFL:
            os.kill(os.getpid(), signal.SIGINT)


def stale_temp_files(directory: Path) -> list[Path]:
    """Temporary files that a killed save left next to the checkpoint."""
    return sorted(Path(directory).glob(f".{CHECKPOINT_NAME}.*{TMP_SUFFIX}"))


def _number(path: Path) -> int:
    """N of makemore.prevN.npz (makemore.prev.npz, an older version's name, is 1)."""
    return int(re.fullmatch(r"makemore\.prev(\d*)\.npz", path.name).group(1) or 1)


def earlier_checkpoints(directory: Path) -> list[Path]:
    """The earlier runs' checkpoints kept in directory, oldest first."""
    found = [p for p in Path(directory).glob("makemore.prev*.npz") if re.fullmatch(r"makemore\.prev\d*\.npz", p.name)]
    return sorted(found, key=lambda p: (_number(p), p.name))


# ----------------------------------------------------------------------------
# reading a checkpoint back, with checks

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
    finite: bool               # False: some weight (latest or best) is NaN or inf
    data_sha256: str | None    # of the word file it was trained on (None: a built-in source, or an older checkpoint)


def stored_shape(type_: str, state: dict) -> dict:
    """The model fields that a state dict of a type_ model has, read from its arrays' shapes alone."""
    s = lambda k: tuple(np.shape(state[k]))  # noqa: E731
    if type_ == "bigram":
        return dict(vocab_size=s("logits")[0])
    if type_ in ("bn-mlp", "deep-bn", "wavenet"):
        V, E = s("layers.0.weight" if type_ == "wavenet" else "C")
        fan_in, H = s("W1") if type_ == "bn-mlp" else reversed(s("layers.2.weight" if type_ == "wavenet"
                                                                  else "layers.0.weight"))
        shape = dict(vocab_size=V, n_embd=E, n_hidden=H)
        return shape if type_ == "wavenet" else dict(shape, block_size=fan_in // E)
    if type_ == "transformer":
        V, E = s("transformer.wte.weight")
        n_layer = len({k.split(".")[2] for k in state if k.startswith("transformer.h.")})
        return dict(vocab_size=V, n_embd=E, block_size=s("transformer.wpe.weight")[0], n_layer=n_layer)
    V, E = s("wte.weight")
    if type_ == "mlp":
        n_embd2, fan_in = s("mlp.0.weight")
        return dict(vocab_size=V - 1, n_embd=E, n_embd2=n_embd2, block_size=fan_in // E)
    if type_ == "bow":
        return dict(vocab_size=V, n_embd=E, n_embd2=s("context_block.mlp.c_fc.weight")[0],
                    block_size=s("wpe.weight")[0])
    return dict(vocab_size=V, n_embd=E, n_embd2=s("start")[1])   # rnn, gru


def _check_sizes(config: Config, state: dict, max_word_length) -> None:
    """Every size in the config, checked against the stored weights before a model is built from it."""
    if not isinstance(max_word_length, int) or not 1 <= max_word_length <= MAX_WORD_LENGTH:
        raise ValueError(f"max_word_length is {max_word_length!r}, not a length from 1 to {MAX_WORD_LENGTH}")
    if config.recipe == "makemore" and config.block_size != max_word_length + 1:
        raise ValueError(f"block_size is {config.block_size}, but max_word_length + 1 is {max_word_length + 1}")
    for field, stored in stored_shape(config.type, state["model"]).items():
        if getattr(config, field) != stored:
            raise ValueError(f"its config says {field}={getattr(config, field)}, but its weights have "
                             f"{field}={stored}")


def _check_history(h: dict, step) -> dict:
    losses, lrs, evals = (np.asarray(h[k], np.float64) for k in ("losses", "lrs", "evals"))
    if not isinstance(step, int) or step < 0:
        raise ValueError(f"its step is {step!r}")
    if losses.shape != (step,) or lrs.shape != (step,):
        raise ValueError(f"it is at step {step} but has losses of shape {losses.shape} and learning rates of "
                         f"shape {lrs.shape}")
    if evals.ndim != 2 or evals.shape[1] != 3:
        raise ValueError(f"its evaluations have shape {evals.shape}, not (k, 3)")
    return dict(losses=losses.tolist(), lrs=lrs.tolist(), evals=[tuple(r) for r in evals.tolist()])


def _finite(model) -> bool:
    return all(np.isfinite(np.asarray(p)).all() for p in model.parameters())


def load_checkpoint(path, warn: bool = True) -> Checkpoint:
    """Read and check a checkpoint; CheckpointError (naming the file) if it is missing, not a
    tensorgrad-makemore checkpoint, corrupt, or does not match its own config. Every size is checked
    before a model is built. Warns if a weight is not finite."""
    path = Path(path)
    if not path.exists():
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
        check_config(config)
        vocab = Vocab(state["vocab"])
        if len(vocab) != config.vocab_size or vocab.chars != state["vocab"]:
            raise ValueError(f"its vocabulary {state['vocab']!r} does not have the {config.vocab_size} characters "
                             "its config says")
        _check_sizes(config, state, state["max_word_length"])
        model = build_model(config)
        model.load_state_dict(state["model"])
        make_optimizer(config, model.parameters()).load_state_dict(state["optim"])
        tg.Generator().rng.bit_generator.state = state["rng"]   # a foreign or damaged state fails here
        best = best_step = None
        if state["best"] is not None:
            best = build_model(config)
            best.load_state_dict(state["best"]["model"])
            best_step = int(state["best"]["step"])
        train_buffers = {n: np.asarray(state["train_buffers"][n]) for n, _ in model.named_buffers()}
        for n, b in model.named_buffers():
            if train_buffers[n].shape != tuple(b.shape):
                raise ValueError(f"train_buffers.{n} has shape {train_buffers[n].shape}, not {tuple(b.shape)}")
        history = _check_history(state["history"], state["step"])
        data_sha256 = state.get("data_sha256")
        if data_sha256 is not None and not isinstance(data_sha256, str):
            raise ValueError(f"data_sha256 is {data_sha256!r}")
    except (KeyError, ValueError, TypeError, RuntimeError, ArithmeticError) as e:   # RuntimeError: load_state_dict's
        raise CheckpointError(f"{path}: the checkpoint does not match its own config ({type(e).__name__}: "
                              f"{e})") from None
    finite = _finite(model) and (best is None or _finite(best))
    if not finite and warn:
        warnings.warn(f"{path}: some weights are NaN or inf (training diverged?)", RuntimeWarning, stacklevel=2)
    return Checkpoint(path, config, vocab, model, best, best_step, state["step"], state["max_word_length"],
                      state["rng"], state["optim"], train_buffers, history, finite, data_sha256)


def check_data_unchanged(ckpt: Checkpoint) -> None:
    """The word file a checkpoint names is read back only if it is the file it was trained on (its sha256 is
    recorded): a crafted checkpoint cannot make the program read, and quote in its errors, another file."""
    if ckpt.config.data in SOURCES:
        return
    if ckpt.data_sha256 is None:
        raise DataError(f"{ckpt.path}: the checkpoint does not record which file {ckpt.config.data} was when it "
                        "was trained (an older checkpoint); give the word list with -i")
    if hashlib.sha256(read_bytes(Path(ckpt.config.data))).hexdigest() != ckpt.data_sha256:
        raise DataError(f"{ckpt.config.data}: not the word list {ckpt.path} was trained on (its sha256 differs: "
                        "it has changed, or the checkpoint is not genuine); give the word list with -i")
