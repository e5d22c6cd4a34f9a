"""tensorgrad-makemore: train, evaluate and sample makemore's models on tensorgrad, with makemore.py's
flags and data format (and this project's older flags, which keep working).

    tensorgrad-makemore                                   # the default: the part-4 BatchNorm MLP, offline, ~1 min
    tensorgrad-makemore train --type transformer -i names.txt -o out --max-steps 20000
    tensorgrad-makemore train --type wavenet --data makemore-names --steps 200000
    tensorgrad-makemore train --resume -o out --max-steps 40000
    tensorgrad-makemore train --sample-only -o out --top-k 5
    tensorgrad-makemore eval -o out
    tensorgrad-makemore sample -o out -n 20 --temperature 0.8
"""
import argparse
import dataclasses
import math
import sys
import warnings
from pathlib import Path

from models.data import DataError
from models.checkpoint import (CHECKPOINT_NAME, KEEP_EARLIER, CheckpointError, SaveError, check_data_unchanged,
                               load_checkpoint)
from models.config import LECTURE_TYPES, MAKEMORE_TYPES, MODEL_FIELDS, TYPES, USES, Config
from models.train import (Interrupted, OutOfMemory, TrainingError, TrainingHooks, evaluate, load_data, loss_of,
                          print_samples, sample_words, train)

PROG = "tensorgrad-makemore"


# ----------------------------------------------------------------------------
# argument types with messages naming the problem

def _int_at_least(low: int, why: str = ""):
    """An argparse type: an integer >= low."""
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


def _steps(text: str) -> int:
    value = _int_at_least(-1, " (-1: until interrupted)")(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be at least 1 (or -1: until interrupted), got 0")
    return value


def _top_k(text: str) -> int:
    value = _int_at_least(-1, " (-1: no top-k)")(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be at least 1 (or -1: no top-k), got 0")
    return value


# ----------------------------------------------------------------------------
# the parser

def _parser():
    p = argparse.ArgumentParser(
        prog=PROG, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Train, evaluate and sample makemore's models on tensorgrad. With no command: train "
                    "(the part-4 BatchNorm MLP on the offline census names; writes out/makemore.npz and "
                    "out/loss.png).")
    sub = p.add_subparsers(dest="command", metavar="{train,eval,sample}")

    t = sub.add_parser("train", help="train a model (or --resume one) and write out/makemore.npz",
                       description=f"Train a model. makemore.py's types ({', '.join(MAKEMORE_TYPES)}) use its "
                                   "recipe (padded words, AdamW, best test loss kept); the lectures' "
                                   f"({', '.join(LECTURE_TYPES)}) theirs (context windows, SGD with a step "
                                   f"decay). A fresh run over an existing checkpoint keeps it as "
                                   f"makemore.prevN.npz (the {KEEP_EARLIER} newest earlier runs are kept; the oldest "
                                   "goes once the new run's first checkpoint is in place). One run at a time per "
                                   "--out directory.")
    t.add_argument("--type", choices=TYPES, help="the model (default bn-mlp)")
    t.add_argument("-i", "--input-file", "--data", dest="data",
                   help="a text file with one word per line, 'default' (US Census first names, offline) or "
                        "'makemore-names' (downloads names.txt once); default: default")
    t.add_argument("-o", "--work-dir", "--out", dest="out", default="out",
                   help="directory of the checkpoint and loss.png (default: out)")
    t.add_argument("--resume", action="store_true", help="continue from out/makemore.npz")
    t.add_argument("--sample-only", action="store_true", help="sample 50 words from out/makemore.npz and quit")
    t.add_argument("--max-steps", "--steps", dest="steps", type=_steps,
                   help="total training steps; -1: until interrupted (makemore types' default; lectures: "
                        "bn-mlp 80000, deep-bn and wavenet 200000)")
    t.add_argument("--seed", type=COUNT, help="init, split and batch seed (makemore types 3407; lectures theirs)")
    t.add_argument("--top-k", type=_top_k, default=-1, help="sample among the k most likely only (-1: all)")
    t.add_argument("--temperature", type=_float_above(0), default=1.0, help="sampling temperature (default 1)")
    t.add_argument("--n-layer", type=POSITIVE, help="transformer: number of blocks (default 4)")
    t.add_argument("--n-head", type=POSITIVE, help="transformer: number of heads (default 4)")
    t.add_argument("--n-embd", type=POSITIVE, help="embedding size (makemore types 64; bn-mlp 10, deep-bn 10, "
                                                   "wavenet 24)")
    t.add_argument("--n-embd2", type=POSITIVE, help="makemore types: hidden size of mlp, rnn, gru, bow (default 64)")
    t.add_argument("--n-hidden", type=POSITIVE, help="lectures: hidden neurons (bn-mlp 200, deep-bn 100, wavenet 128)")
    t.add_argument("--block-size", type=POSITIVE, help="lectures: context length (bn-mlp and deep-bn 3, wavenet 8)")
    t.add_argument("-b", "--batch-size", type=POSITIVE, help="default 32")
    t.add_argument("-l", "--learning-rate", "--lr", dest="lr", type=_float_above(0),
                   help="default 5e-4 (makemore types), 0.1 (lectures)")
    t.add_argument("-w", "--weight-decay", type=_float_above(0, inclusive=True),
                   help="default 0.01 (makemore types), 0 (lectures)")
    t.add_argument("--lr-decay-step", type=COUNT, help="lr / 10 from this step on (lectures' default: half of "
                                                       "--steps for bn-mlp, three quarters for deep-bn and wavenet)")
    t.add_argument("--optimizer", choices=["sgd", "adam", "adamw"],
                   help="default adamw (makemore types), sgd (lectures)")
    t.add_argument("--eval-every", type=POSITIVE, help="steps between evaluations (default 500; lectures: steps / 10)")
    t.add_argument("--num-samples", type=COUNT, default=20, help="words to sample at the end (default 20)")
    t.add_argument("--diagnostics", action="store_true",
                   help="write makemore part 3's diagnostics (activation, gradient and update:data plots) "
                        "to out/diagnostics")
    t.add_argument("--no-plot", action="store_true", help="do not write loss.png")
    t.add_argument("--no-compile", action="store_true",
                   help="run every step dynamically instead of replaying the recorded step with tg.compile "
                        "(the same numbers, bit for bit; compiling is the default where the model allows it)")
    t.add_argument("--quiet", action="store_true", help="print nothing but errors and notes")
    t.add_argument("-n", "--num-workers", type=COUNT, help="accepted for makemore.py's command lines; no effect "
                                                          "(the data is in memory)")
    t.add_argument("--device", default="cpu", help="cpu only (tensorgrad runs on NumPy)")
    t.set_defaults(func=_cmd_train)

    e = sub.add_parser("eval", help="the losses of a checkpoint on its data's splits")
    e.add_argument("-o", "--work-dir", "--out", dest="out", default="out", help="the run's directory (default: out)")
    e.add_argument("-i", "--input-file", "--data", dest="data", help="word list (default: the checkpoint's)")
    e.add_argument("--last", action="store_true", help="makemore types: the latest weights, not the best")
    e.set_defaults(func=_cmd_eval)

    s = sub.add_parser("sample", help="sample new words from a checkpoint")
    s.add_argument("-o", "--work-dir", "--out", dest="out", default="out", help="the run's directory (default: out)")
    s.add_argument("-n", "--num-samples", type=COUNT, default=20, help="how many (default 20)")
    s.add_argument("--seed", type=COUNT, help="sampling seed (default: the checkpoint's seed + 10)")
    s.add_argument("--top-k", type=_top_k, default=-1, help="sample among the k most likely only (-1: all)")
    s.add_argument("--temperature", type=_float_above(0), default=1.0, help="sampling temperature (default 1)")
    s.add_argument("--last", action="store_true", help="makemore types: the latest weights, not the best")
    s.set_defaults(func=_cmd_sample)
    return p, {"train": t, "eval": e, "sample": s}


_CONFIG_FLAGS = ("type", "data", "steps", "seed", "n_layer", "n_head", "n_embd", "n_embd2", "n_hidden", "block_size",
                 "batch_size", "lr", "weight_decay", "lr_decay_step", "optimizer", "eval_every")
_SHAPE_FLAGS = ("n_layer", "n_head", "n_embd", "n_embd2", "n_hidden", "block_size")


def _check(parser, config: Config, given: dict) -> None:
    """Flags that do not fit the type: a clear message (argparse's error: usage, exit 2)."""
    flag = lambda k: "--" + k.replace("_", "-")  # noqa: E731
    for k in _SHAPE_FLAGS + ("lr_decay_step",):
        used = k in USES[config.type] or (k == "lr_decay_step" and config.recipe == "lecture")
        if k in given and not used:
            for_ = [t for t in TYPES if k in USES[t]] if k != "lr_decay_step" else list(LECTURE_TYPES)
            parser.error(f"argument {flag(k)}: not used by --type {config.type} (it is for {', '.join(for_)})")
    if config.recipe == "lecture" and config.batch_size < 2:
        parser.error(f"argument -b/--batch-size: must be at least 2 for --type {config.type} (batch norm needs "
                     f"more than 1 example per batch), got {config.batch_size}")
    if config.recipe == "lecture" and config.steps == -1:
        parser.error(f"argument --max-steps: -1 (until interrupted) is for makemore.py's types; --type "
                     f"{config.type} decays its lr at a fraction of --steps, so give a number")
    if config.type == "wavenet" and config.block_size != 8:
        parser.error(f"argument --block-size: --type wavenet fuses its context three times by 2, so it needs 8, "
                     f"got {config.block_size}")
    if config.type == "transformer" and config.n_embd % config.n_head:
        parser.error(f"argument --n-head: --n-embd {config.n_embd} must be a multiple of --n-head {config.n_head}")


def _cmd_train(args, parser) -> int:
    if args.device != "cpu":
        parser.error(f"argument --device: tensorgrad runs on the CPU only, got {args.device!r}")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        parser.error(f"argument -o/--work-dir: {out} is a file; give the run's directory")
    if args.sample_only:
        return _print_samples(out, 50, None, args.top_k, args.temperature, last=False, marks=True)
    given = {k: getattr(args, k) for k in _CONFIG_FLAGS if getattr(args, k) is not None}
    if args.resume:
        # the checkpoint's config, changed only where a flag was given (e.g. more --steps)
        ckpt = load_checkpoint(out / CHECKPOINT_NAME)
        if "data" not in given:   # the word file the checkpoint names: only if it is the one it was trained on
            check_data_unchanged(ckpt)
        base = ckpt.config
        for k in MODEL_FIELDS:
            if k in given and given[k] != getattr(base, k):
                raise CheckpointError(f"{out / CHECKPOINT_NAME}: the checkpoint has {k}={getattr(base, k)}, but "
                                      f"{k}={given[k]} was asked for; resume needs the same model")
        config = dataclasses.replace(base, **given)
    else:
        config = Config(**given)
    _check(parser, config, given)
    top_k = None if args.top_k == -1 else args.top_k
    hooks = Diagnostics(out, log=(lambda *a: None) if args.quiet else print) if args.diagnostics else None
    train(config, out=out, resume=args.resume, quiet=args.quiet, plot=not args.no_plot,
          num_samples=args.num_samples, top_k=top_k, temperature=args.temperature,
          compile=not args.no_compile, hooks=hooks)
    return 0


class Diagnostics(TrainingHooks):
    """makemore part 3's diagnostics (viz.diagnostics: update:data ratios over training, then activation and
    gradient histograms) wired into the training loop; written to out/diagnostics at the end."""

    def __init__(self, out: Path, log=print):
        self.out, self.log, self.recorder = Path(out), log, None

    def before_update(self, run) -> None:
        from viz.diagnostics import UpdateRecorder
        self.recorder = self.recorder or UpdateRecorder(run.model)
        self.recorder.before()

    def after_update(self, run) -> None:
        self.recorder.after()

    def at_end(self, result: dict) -> None:
        from viz.diagnostics import write_all
        model, (X, Y), n = result["model"], result["data"].splits["train"], result["config"].batch_size * 4
        write_all(model, lambda: loss_of(model, X[:n], Y[:n]), self.recorder, self.out / "diagnostics", log=self.log)


def _weights(ckpt, last: bool):
    """The model to evaluate or sample: the best (makemore types) unless last, else the latest."""
    if ckpt.best is not None and not last:
        return ckpt.best, f"the best model (step {ckpt.best_step}, of {ckpt.step})"
    return ckpt.model, f"the model at step {ckpt.step}"


def _load_finite(path: Path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ckpt = load_checkpoint(path, warn=False)
    if not ckpt.finite:
        raise CheckpointError(f"{path}: the weights are not finite (NaN or inf: training diverged); "
                              "there is nothing to evaluate or sample")
    return ckpt


def _cmd_eval(args, parser) -> int:
    ckpt = _load_finite(Path(args.out) / CHECKPOINT_NAME)
    if args.data is None:
        check_data_unchanged(ckpt)
    config = ckpt.config if args.data is None else dataclasses.replace(ckpt.config, data=args.data)
    data = load_data(config, vocab=ckpt.vocab, max_word_length=ckpt.max_word_length)
    model, what = _weights(ckpt, args.last)
    print(f"{config.type}: {what}")
    for name, (X, Y) in data.splits.items():
        loss = evaluate(model, X, Y, batch_size=100 if config.recipe == "makemore" else 50000)
        print(f"{name:5s} loss {loss:.4f}  ({len(Y)} {'words' if config.recipe == 'makemore' else 'examples'})")
    return 0


def _print_samples(out: Path, num: int, seed, top_k, temperature, last: bool, marks: bool) -> int:
    ckpt = _load_finite(out / CHECKPOINT_NAME)
    model, _ = _weights(ckpt, last)
    seed = ckpt.config.seed + 10 if seed is None else seed
    words = sample_words(model, ckpt.config, ckpt.vocab, num, seed, ckpt.max_word_length, temperature,
                         None if top_k == -1 else top_k)
    if marks:
        check_data_unchanged(ckpt)
        data = load_data(ckpt.config, vocab=ckpt.vocab, max_word_length=ckpt.max_word_length)
        print_samples(words, data.split_words)
    else:
        for w in words:
            print(w)
    return 0


def _cmd_sample(args, parser) -> int:
    return _print_samples(Path(args.out), args.num_samples, args.seed, args.top_k, args.temperature, args.last,
                          marks=False)


def main(argv=None) -> int:
    """The console script: train (the default command), eval, sample."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser, subs = _parser()
    if argv in (["-h"], ["--help"]):
        parser.print_help()
        print("\ntrain is the default command (tensorgrad-makemore [flags] is tensorgrad-makemore train [flags]):\n")
        print(subs["train"].format_help())
        return 0
    if not argv or argv[0] not in ("train", "eval", "sample"):
        argv = ["train"] + argv
    args, extra = parser.parse_known_args(argv)
    if extra:
        subs[args.command].error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        return args.func(args, subs[args.command])
    except (DataError, CheckpointError) as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    except (TrainingError, SaveError, OutOfMemory) as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 1
    except MemoryError as e:
        print(f"{PROG}: error: not enough memory: {e}", file=sys.stderr)
        return 1
    except Interrupted as e:
        print(f"{PROG}: interrupted; {e.status}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
