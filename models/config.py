"""One config for every model type of the zoo, each type's defaults (makemore.py's for its types, the
lectures' for theirs), building the model and its optimizer, and the lectures' learning-rate step."""
import math
from dataclasses import dataclass

import tensorgrad as tg
from tensorgrad import nn

MAKEMORE_TYPES = ("bigram", "mlp", "rnn", "gru", "bow", "transformer")
LECTURE_TYPES = ("bn-mlp", "deep-bn", "wavenet")
TYPES = LECTURE_TYPES + MAKEMORE_TYPES


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

# the model fields each type uses (the others are left at their defaults, and refused as flags)
USES = {"bigram": (), "mlp": ("n_embd", "n_embd2"), "rnn": ("n_embd", "n_embd2"), "gru": ("n_embd", "n_embd2"),
        "bow": ("n_embd", "n_embd2"), "transformer": ("n_embd", "n_layer", "n_head"),
        "bn-mlp": ("n_embd", "n_hidden", "block_size"), "deep-bn": ("n_embd", "n_hidden", "block_size"),
        "wavenet": ("n_embd", "n_hidden", "block_size")}


def check_config(config: Config) -> None:
    """ValueError naming the field if a config (e.g. one read from a file) has a value the program cannot
    run with: the same ranges as the command line's flags."""
    def need(ok: bool, field: str, what: str):
        if not ok:
            raise ValueError(f"{field}={getattr(config, field)!r}: must be {what}")

    def integer(field, low, optional=False, also=()):
        v = getattr(config, field)
        ok = (v is None and optional) or v in also or (type(v) is int and v >= low)
        need(ok, field, f"an integer >= {low}" + "".join(f" or {a}" for a in also) + (" or None" if optional else ""))

    def number(field, low, inclusive, optional=False):
        v = getattr(config, field)
        ok = (v is None and optional) or (type(v) in (int, float) and math.isfinite(v) and
                                          (v > low or inclusive and v == low))
        need(ok, field, f"a finite number {'>=' if inclusive else '>'} {low}")

    for field in ("vocab_size", "block_size", "n_embd", "n_embd2", "n_hidden", "n_layer", "n_head"):
        integer(field, 1, optional=field not in ("vocab_size", "block_size"))
    integer("batch_size", 2 if config.recipe == "lecture" else 1)
    integer("steps", 1, also=(-1,) if config.recipe == "makemore" else ())
    integer("seed", 0)
    integer("eval_every", 1, optional=True)
    integer("lr_decay_step", 0, optional=True)
    number("lr", 0, inclusive=False)
    number("weight_decay", 0, inclusive=True)
    number("bn_momentum", 0, inclusive=True, optional=True)
    need(config.optimizer in ("sgd", "adam", "adamw"), "optimizer", "sgd, adam or adamw")
    need(isinstance(config.data, str), "data", "a path or a built-in source")
    if config.type == "wavenet":
        need(config.block_size == 8, "block_size", "8 for wavenet (it fuses its context three times by 2)")
    if config.type == "transformer":
        need(config.n_embd % config.n_head == 0, "n_head", f"a divisor of n_embd={config.n_embd}")


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
