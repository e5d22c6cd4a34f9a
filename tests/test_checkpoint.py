"""The training program's checkpoint under adversity (issue 21): Ctrl-C just after a rename, a first save
that fails, two runs in one directory, a diverging update on a save step, a full disk and a read-only
directory, crafted checkpoints (paths, sizes, fields), a symlinked loss.png, memory errors that name their
cause, and the small input edges (a tiny temperature, CR line ends)."""
import os
import shutil
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

import tensorgrad as tg
from models import config as mconfig
from models import data as mdata
from models import train as mtrain
from models.checkpoint import CHECKPOINT_NAME, LOCK_NAME, Checkpointer, load_checkpoint
from models.cli import main

ROOT = Path(__file__).resolve().parents[1]
WORDS = ("anna bob carla dave emma frank gina hugo iris jack kate liam mona nick olga paul quinn rosa sam "
         "tina uma vera walt xena yuri zoe adam bella chris dora").split()
SMALL = ["--n-hidden", "16", "--n-embd", "4", "--batch-size", "8", "--eval-every", "10"]
ENV = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONDONTWRITEBYTECODE="1")


@pytest.fixture
def words_file(tmp_path):
    path = tmp_path / "words.txt"
    path.write_text("\n".join(WORDS) + "\n")
    return path


def _train(words_file, out, *extra):
    return main(["train", "-i", str(words_file), "-o", str(out), *SMALL, "--no-plot", "--quiet", "--num-samples", "0",
                 *extra])


def _cli(*argv, timeout=120, memory_mib=None):
    """The command in a fresh Python (optionally under an address-space cap)."""
    cap = [] if memory_mib is None else ["-c", f"import resource, sys; resource.setrlimit(resource.RLIMIT_AS, "
                                                f"({memory_mib} << 20, {memory_mib} << 20)); from models.cli import "
                                                "main; sys.exit(main(sys.argv[1:]))"]
    cmd = [sys.executable, *(cap or ["-m", "models.cli"]), *argv]
    return subprocess.run(cmd, capture_output=True, text=True, env=ENV, timeout=timeout)


# ----------------------------------------------------------------------------
# data loss (items 1-4)

def test_ctrl_c_just_after_a_saves_rename_keeps_both_checkpoints(words_file, tmp_path, monkeypatch, capsys):
    """Item 1: a Ctrl-C arriving right after os.replace must not delete the earlier run's checkpoint, and the
    step reported as saved is the one on disk."""
    out = tmp_path / "run"
    assert _train(words_file, out, "--steps", "5") == 0
    earlier = (out / CHECKPOINT_NAME).read_bytes()
    replace = os.replace

    def replace_then_ctrl_c(src, dst):
        replace(src, dst)
        if Path(dst).name == CHECKPOINT_NAME:
            os.kill(os.getpid(), signal.SIGINT)    # delivered at the next bytecode: just after the rename
    monkeypatch.setattr(os, "replace", replace_then_ctrl_c)
    assert _train(words_file, out, "--steps", "30") == 130
    assert f"interrupted; the last checkpoint, {out / CHECKPOINT_NAME} (step 10), is intact" in capsys.readouterr().err
    assert load_checkpoint(out / CHECKPOINT_NAME).step == 10
    assert (out / "makemore.prev1.npz").read_bytes() == earlier


@pytest.mark.parametrize("failure", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_a_fresh_runs_failed_first_save_drops_no_earlier_checkpoint(words_file, tmp_path, monkeypatch, failure):
    """Item 2: with three earlier runs kept, a first save that fails (or is interrupted) must not drop the
    oldest: nothing is rotated until the new checkpoint is written."""
    out = tmp_path / "run"
    for seed in range(4):
        assert _train(words_file, out, "--steps", "5", "--seed", str(seed)) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert len(before) == 5   # the lock, the checkpoint and three earlier ones

    def fails(f, **arrays):
        f.write(b"half a checkpoint")
        raise failure
    monkeypatch.setattr(tg.serialization.np, "savez", fails)
    assert _train(words_file, out, "--steps", "10", "--seed", "9") in (1, 130)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_a_second_run_in_the_same_directory_is_refused(words_file, tmp_path):
    """Item 3: two runs with the same -o. The second is refused with the first's pid (and so deletes none of
    its temporary files); the first goes on and ends with its checkpoint."""
    out = tmp_path / "run"
    first = subprocess.Popen([sys.executable, "-m", "models.cli", "train", "-i", str(words_file), "-o", str(out),
                              "--type", "bigram", "--max-steps", "-1", "--eval-every", "20", "--quiet", "--no-plot"],
                             env=ENV, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 60
        while not (out / CHECKPOINT_NAME).exists() and time.time() < deadline:
            time.sleep(0.1)
        assert (out / CHECKPOINT_NAME).exists()
        for argv in (["train", "-i", str(words_file), "-o", str(out), "--type", "bigram", "--steps", "10"],
                     ["train", "--resume", "-o", str(out), "--steps", "10"]):
            second = _cli(*argv)
            assert second.returncode == 2
            assert second.stderr == f"tensorgrad-makemore: error: {out}: another run (pid {first.pid}) is training " \
                                    "in this directory; wait for it to end, or give another -o\n"
        assert first.poll() is None   # still training
    finally:
        first.send_signal(signal.SIGINT)
        _, err = first.communicate(timeout=60)
    assert first.returncode == 130 and "interrupted; the last checkpoint" in err, err
    assert load_checkpoint(out / CHECKPOINT_NAME).step >= 20
    assert main(["train", "-i", str(words_file), "-o", str(out), "--type", "bigram", "--steps", "5", "--quiet",
                 "--no-plot"]) == 0   # the lock was released


def test_a_diverging_update_on_a_save_step_is_not_saved(words_file, tmp_path, capsys):
    """Item 4: the update of a save step makes the weights inf, while the loss of that step was finite."""
    out = tmp_path / "run"
    assert _train(words_file, out, "--steps", "20") == 0
    good = (out / CHECKPOINT_NAME).read_bytes()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert main(["train", "--resume", "-o", str(out), "--max-steps", "40", "--lr", "1e39", "--eval-every", "1",
                     "--quiet", "--no-plot"]) == 1
    err = capsys.readouterr().err
    assert "the evaluation at step 21 gave the losses {'train': nan, 'val': nan}: training diverged (is lr 1e+38 " \
           f"too high?); stopped; the last checkpoint, {out / CHECKPOINT_NAME} (step 20), is intact" in err
    assert (out / CHECKPOINT_NAME).read_bytes() == good


def test_the_checkpointer_on_its_own(tmp_path):
    notes = []
    with Checkpointer(tmp_path / "d", fresh=True, keep=2, note=notes.append) as saver:
        assert saver.status() == "nothing was saved"
        for step in (1, 2):
            saver.save({"step": step}, step)
        assert saver.saved_step == 2 and tg.load(saver.path) == {"step": 2}
    for run in range(3):   # three fresh runs over it: two earlier checkpoints kept, newest last
        with Checkpointer(tmp_path / "d", fresh=True, keep=2, note=notes.append) as saver:
            saver.save({"run": run}, 1)
    kept = sorted(p.name for p in (tmp_path / "d").glob("makemore.prev*.npz"))
    assert kept == ["makemore.prev2.npz", "makemore.prev3.npz"]
    assert tg.load(tmp_path / "d" / "makemore.prev3.npz") == {"run": 1}
    assert len(notes) == 3 and "it is kept as" in notes[0]


# ----------------------------------------------------------------------------
# a full disk and a read-only directory (item 17), on a small tmpfs

@pytest.fixture
def small_disk(tmp_path):
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(disk)], capture_output=True,
                             text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {mounted.stderr.strip()}")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=False)


def test_a_full_disk_says_so_in_one_line_and_keeps_the_checkpoint(words_file, tmp_path, small_disk):
    assert _train(words_file, tmp_path / "run", "--steps", "10") == 0
    out = small_disk / "run"
    shutil.copytree(tmp_path / "run", out)
    good = (out / CHECKPOINT_NAME).read_bytes()
    try:   # fill the disk
        with open(small_disk / "filler", "wb") as f:
            while True:
                f.write(bytes(4096))
                f.flush()
    except OSError:
        pass
    run = _cli("train", "--resume", "-o", str(out), "--steps", "20", "--quiet", "--no-plot", "--num-samples", "0")
    assert run.returncode == 1
    assert run.stderr.splitlines()[-1] + "\n" == f"tensorgrad-makemore: error: {out / CHECKPOINT_NAME}: cannot save the checkpoint of step " \
                         f"20 (No space left on device); the last checkpoint, {out / CHECKPOINT_NAME} (step 10), is " \
                         "intact\n"
    assert (out / CHECKPOINT_NAME).read_bytes() == good
    assert sorted(p.name for p in out.iterdir()) == [LOCK_NAME, CHECKPOINT_NAME]


def test_a_read_only_directory_says_so_in_one_line(words_file, small_disk):
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    run = _cli("train", "-i", str(words_file), "-o", str(small_disk / "run"), "--steps", "5", "--quiet")
    assert run.returncode == 1
    assert run.stderr == f"tensorgrad-makemore: error: {small_disk / 'run'}: cannot create the run's directory " \
                         "(Read-only file system)\n"


# ----------------------------------------------------------------------------
# crafted checkpoints (items 7 and 16)

def _crafted(words_file, tmp_path, change, type_="bn-mlp"):
    out = tmp_path / "run"
    flags = ["--type", "bigram", "--eval-every", "5"] if type_ == "bigram" else \
        ["--type", "transformer", "--n-embd", "8", "--n-layer", "1", "--n-head", "2"] if type_ == "transformer" else []
    assert main(["train", "-i", str(words_file), "-o", str(out), "--steps", "10", "--no-plot", "--quiet",
                 "--num-samples", "0", *(flags or SMALL)]) == 0
    state = tg.load(out / CHECKPOINT_NAME)
    change(state)
    tg.save(state, out / CHECKPOINT_NAME)
    return out


def _set(*path_and_value):
    *path, value = path_and_value

    def change(state):
        for k in path[:-1]:
            state = state[k]
        if value is KeyError:
            del state[path[-1]]
        elif callable(value):
            value(state[path[-1]])
        else:
            state[path[-1]] = value
    return change


@pytest.mark.parametrize("type_, change, message", [
    ("bn-mlp", _set("max_word_length", KeyError), "KeyError: 'max_word_length'"),
    ("bn-mlp", _set("rng", {"bit_generator": "MT19937", "state": {"key": [1, 2], "pos": 0}}), "must be for a PCG64"),
    ("bn-mlp", _set("rng", "state", "state", "oops"), "the checkpoint does not match its own config"),
    ("bn-mlp", _set("config", "eval_every", 0), "eval_every=0: must be an integer >= 1 or None"),
    ("bn-mlp", _set("config", "seed", -1), "seed=-1: must be an integer >= 0"),
    ("bn-mlp", _set("config", "batch_size", 0), "batch_size=0: must be an integer >= 2"),
    ("bn-mlp", _set("config", "lr", float("nan")), "lr=nan: must be a finite number > 0"),
    ("bn-mlp", _set("history", "losses", np.zeros((10, 2), np.float32)), "losses of shape (10, 2)"),
    ("bn-mlp", _set("history", "evals", np.zeros(3)), "evaluations have shape (3,)"),
    ("bn-mlp", _set("train_buffers", "bnmean_running", np.zeros((1, 3))), "train_buffers.bnmean_running has shape"),
    ("bn-mlp", _set("max_word_length", 10 ** 6), "max_word_length is 1000000, not a length from 1 to 1000"),
    ("transformer", _set("config", "n_layer", 10 ** 6), "its config says n_layer=1000000, but its weights have "
                                                        "n_layer=1"),
    ("transformer", _set("config", "n_embd", 10 ** 5), "n_embd=100000"),
    ("bigram", _set("config", "vocab_size", 10 ** 6), "vocabulary"),
])
def test_crafted_checkpoint_fields_get_one_line_before_any_work(words_file, tmp_path, type_, change, message):
    """Item 16 (fields load_checkpoint did not check) and item 7 (sizes used before they were checked):
    eval, sample and --resume each answer with one line, quickly (a subprocess with a time limit)."""
    out = _crafted(words_file, tmp_path, change, type_)
    for argv in (["eval", "-o", str(out)], ["sample", "-o", str(out)],
                 ["train", "--resume", "-o", str(out), "--steps", "20", "--quiet", "--no-plot"]):
        run = _cli(*argv, timeout=60)
        assert run.returncode == 2, (argv, run.stderr)
        assert run.stderr.startswith(f"tensorgrad-makemore: error: {out / CHECKPOINT_NAME}: ") and \
            run.stderr.count("\n") == 1 and message in run.stderr, (argv, run.stderr)


def test_inf_in_the_kept_best_weights_is_refused(words_file, tmp_path):
    out = _crafted(words_file, tmp_path, _set("best", "model", "logits", lambda a: a.__setitem__((0, 0), np.inf)),
                   "bigram")
    for argv in (["eval", "-o", str(out)], ["sample", "-o", str(out)]):
        run = _cli(*argv)
        assert run.returncode == 2 and "the weights are not finite (NaN or inf" in run.stderr, run.stderr


@pytest.mark.parametrize("data", ["/dev/zero", "secret"])
@pytest.mark.parametrize("recorded", [True, False])
def test_a_checkpoints_data_path_is_not_read_unless_it_is_the_trained_file(words_file, tmp_path, data, recorded):
    """Item 7: a crafted config.data made eval, sample and --resume read /dev/zero until memory ran out, or
    print the first line of any file. With the word file's sha256 recorded, only that file is read; an older
    checkpoint (none recorded) needs -i."""
    secret = tmp_path / "secret.txt"
    secret.write_text("root:the-first-line.of-a-secret\n")
    path = "/dev/zero" if data == "/dev/zero" else str(secret)

    def change(state):
        state["config"]["data"] = path
        if not recorded:
            del state["data_sha256"]
    out = _crafted(words_file, tmp_path, change)
    for argv in (["eval", "-o", str(out)], ["train", "--sample-only", "-o", str(out)],
                 ["train", "--resume", "-o", str(out), "--steps", "20", "--quiet", "--no-plot"]):
        run = _cli(*argv, timeout=60, memory_mib=1024)
        assert run.returncode == 2, (argv, run.stderr)
        assert "the-first-line" not in run.stderr and run.stderr.count("\n") == 1, (argv, run.stderr)
        if not recorded:
            assert f"{out / CHECKPOINT_NAME}: the checkpoint does not record which file {path} was when it was " \
                   "trained (an older checkpoint); give the word list with -i" in run.stderr
        elif data == "/dev/zero":
            assert "/dev/zero: not a regular file" in run.stderr
        else:
            assert f"{secret}: not the word list {out / CHECKPOINT_NAME} was trained on (its sha256 differs" \
                in run.stderr


def test_the_trained_word_file_changed_since(words_file, tmp_path, capsys):
    out = tmp_path / "run"
    assert _train(words_file, out, "--steps", "5") == 0
    words_file.write_text("\n".join(reversed(WORDS)) + "\n")
    assert main(["eval", "-o", str(out)]) == 2
    assert "not the word list" in capsys.readouterr().err
    assert main(["eval", "-o", str(out), "-i", str(words_file)]) == 0   # named by the user: used


# ----------------------------------------------------------------------------
# a symlinked loss.png (item 9), memory errors (item 18), input edges (item 19)

def test_loss_png_is_not_written_through_a_symlink(words_file, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    target = tmp_path / "precious.txt"
    target.write_text("do not overwrite")
    (out / "loss.png").symlink_to(target)
    assert main(["train", "-i", str(words_file), "-o", str(out), *SMALL, "--steps", "5", "--quiet"]) == 0
    assert target.read_text() == "do not overwrite"
    assert not (out / "loss.png").is_symlink() and (out / "loss.png").read_bytes()[:4] == b"\x89PNG"


def test_a_directory_named_like_the_checkpoint(words_file, tmp_path, capsys):
    """Item 8's makemore.npz directory: one line from train, eval and sample (was a raw IsADirectoryError)."""
    out = tmp_path / "run"
    (out / CHECKPOINT_NAME).mkdir(parents=True)
    assert _train(words_file, out, "--steps", "5") == 2
    assert f"{out / CHECKPOINT_NAME}: is not a file (a directory?); move it away" in capsys.readouterr().err
    for argv in (["eval", "-o", str(out)], ["sample", "-o", str(out)]):
        assert main(argv) == 2
        assert f"{out / CHECKPOINT_NAME}: is a directory, not a tensorgrad-makemore checkpoint" in \
            capsys.readouterr().err


def test_a_symlinked_lock_file_is_not_written_through(words_file, tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    target = tmp_path / "precious.txt"
    target.write_text("do not overwrite")
    (out / LOCK_NAME).symlink_to(target)
    assert _train(words_file, out, "--steps", "5") == 1
    assert f"{out / LOCK_NAME}: cannot create the run's lock file" in capsys.readouterr().err
    assert target.read_text() == "do not overwrite"


@pytest.mark.parametrize("where, message", [
    ("data", "not enough memory for the words of"),
    ("model", "not enough memory for the model (bn-mlp, a vocabulary of 27)"),
])
def test_a_memory_error_names_what_was_being_allocated(words_file, tmp_path, monkeypatch, capsys, where, message):
    def no_memory(*args, **kwargs):
        raise MemoryError("Unable to allocate 12 GiB")
    monkeypatch.setattr(mtrain, "load_words" if where == "data" else "build_model", no_memory)
    assert _train(words_file, tmp_path / "run", "--steps", "5") == 1
    err = capsys.readouterr().err
    assert message in err and "batch-size" not in err and "Unable to allocate 12 GiB" in err


def test_a_huge_vocabulary_is_named_when_memory_runs_out(tmp_path):
    """Item 18: a 20,001-character vocabulary (a bigram table of 20002^2 floats) under a 1 GiB cap."""
    words = tmp_path / "cjk.txt"
    words.write_text("\n".join(chr(0x4E00 + i) * 2 for i in range(20001)) + "\n")
    run = _cli("train", "-i", str(words), "-o", str(tmp_path / "run"), "--type", "bigram", "--steps", "1",
               "--quiet", "--no-plot", memory_mib=1024, timeout=300)
    assert run.returncode == 1, run.stderr
    assert "not enough memory for the model (bigram, a vocabulary of 20002)" in run.stderr
    assert "batch-size" not in run.stderr


@pytest.mark.parametrize("content, message", [
    (b"anna\n" + b"x" * 1_000_000 + b"\n", "line 2: a word of 1000000 characters"),
])
def test_a_line_too_long_to_be_a_word(tmp_path, capsys, content, message):
    path = tmp_path / "words.txt"
    path.write_bytes(content)
    assert main(["train", "-i", str(path), "-o", str(tmp_path / "run"), "--type", "bigram", "--steps", "2"]) == 2
    assert message in capsys.readouterr().err


def test_dev_zero_as_the_word_list(tmp_path, capsys):
    assert main(["train", "-i", "/dev/zero", "-o", str(tmp_path / "run"), "--steps", "2"]) == 2
    assert "/dev/zero: not a regular file (a directory, device or pipe)" in capsys.readouterr().err


def test_a_tiny_temperature_samples_the_most_likely_characters(words_file, tmp_path, capsys):
    """Item 19: --temperature 1e-320 was accepted, then sampling divided the logits into inf and NaN."""
    out = tmp_path / "run"
    assert main(["train", "-i", str(words_file), "-o", str(out), "--type", "bigram", "--steps", "30", "--quiet",
                 "--no-plot", "--num-samples", "0"]) == 0
    capsys.readouterr()
    assert main(["sample", "-o", str(out), "-n", "5", "--temperature", "1e-320"]) == 0
    tiny = capsys.readouterr().out
    assert main(["sample", "-o", str(out), "-n", "5", "--top-k", "1"]) == 0
    assert tiny == capsys.readouterr().out and len(tiny.splitlines()) == 5


@pytest.mark.parametrize("ends", [b"\r", b"\r\n", b"\n"])
def test_cr_only_line_ends_are_line_ends(tmp_path, ends):
    path = tmp_path / "words.txt"
    path.write_bytes(ends.join(w.encode() for w in WORDS) + ends)
    assert mdata.load_words(str(path)) == WORDS


def test_config_checks_match_the_flags():
    config = mconfig.Config(type="bigram", vocab_size=27, block_size=5)
    mconfig.check_config(config)
    for field, value in [("steps", 0), ("n_embd", 0), ("weight_decay", -1.0), ("optimizer", "lbfgs"), ("seed", True)]:
        bad = mconfig.Config(type="bigram", vocab_size=27, block_size=5)
        setattr(bad, field, value)
        with pytest.raises(ValueError, match=f"{field}="):
            mconfig.check_config(bad)


# ----------------------------------------------------------------------------
# checkpoints written by earlier versions

def _save_format_1(obj, path):
    """What tg.save wrote before tensors and arrays were told apart (tensorgrad/1): members named a0, a1, ...
    and a table from each array's dotted path in the tree to its member."""
    import json
    arrays = {}

    def node(o, where):
        if isinstance(o, np.ndarray):
            arrays[where] = o
            return {"array": where}
        if isinstance(o, dict):
            return {"dict": [[k, node(v, f"{where}.{k}" if where else str(k))] for k, v in o.items()]}
        if isinstance(o, (list, tuple)):
            kind = "list" if isinstance(o, list) else "tuple"
            return {kind: [node(v, f"{where}.{i}" if where else str(i)) for i, v in enumerate(o)]}
        return o
    tree = node(obj, "")
    members = {f"a{i}": a for i, a in enumerate(arrays.values())}
    meta = {"format": "tensorgrad/1", "tree": tree, "arrays": dict(zip(arrays, members))}
    np.savez(path, **{tg.serialization.META: np.array(json.dumps(meta))}, **members)


def test_a_checkpoint_from_before_still_samples_evaluates_and_resumes(words_file, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "-i", str(words_file), "-o", str(out), "--type", "bigram", "--steps", "10", "--eval-every",
                 "5", "--quiet", "--no-plot", "--num-samples", "0"]) == 0
    state = tg.load(out / CHECKPOINT_NAME)
    del state["data_sha256"]   # not recorded then
    old = tmp_path / "old"
    old.mkdir()
    _save_format_1(state, old / CHECKPOINT_NAME)
    for name in ("makemore.prev.npz", "makemore.prev2.npz", "makemore.prev3.npz"):   # the old names of kept runs
        shutil.copy(old / CHECKPOINT_NAME, old / name)
    capsys.readouterr()
    assert main(["sample", "-o", str(old), "-n", "3", "--seed", "1"]) == 0
    from_old = capsys.readouterr().out
    assert main(["sample", "-o", str(out), "-n", "3", "--seed", "1"]) == 0
    assert from_old == capsys.readouterr().out and len(from_old.splitlines()) == 3   # the same weights
    assert load_checkpoint(old / CHECKPOINT_NAME).step == 10
    assert main(["eval", "-o", str(old)]) == 2
    assert "does not record which file" in capsys.readouterr().err
    assert main(["eval", "-o", str(old), "-i", str(words_file)]) == 0
    assert main(["train", "--resume", "-o", str(old), "-i", str(words_file), "--steps", "20", "--quiet",
                 "--no-plot"]) == 0
    assert load_checkpoint(old / CHECKPOINT_NAME).step == 20
    assert main(["train", "-i", str(words_file), "-o", str(old), "--type", "bigram", "--steps", "5", "--quiet",
                 "--no-plot"]) == 0   # a fresh run: keeps the resumed one, the oldest old name goes
    assert sorted(p.name for p in old.glob("makemore.prev*")) == ["makemore.prev2.npz", "makemore.prev3.npz",
                                                                   "makemore.prev4.npz"]
