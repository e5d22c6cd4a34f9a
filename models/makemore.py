"""The names this module had before models/ became a package (kept for code that imports them):
the part-4 BatchNorm MLP is models.bn_mlp, the training program models.train, the command models.cli.

    python -m models.makemore ...   is   tensorgrad-makemore ...
"""
import sys

from models.bn_mlp import MakemoreMLP, calibrate_batchnorm, chunked_forward
from models.cli import main
from models.data import DataError, Vocab, build_dataset, load_words, split_words
from models.checkpoint import CHECKPOINT_NAME, CheckpointError, load_checkpoint
from models.config import Config
from models.train import evaluate, sample_words, train

__all__ = ["Config", "MakemoreMLP", "chunked_forward", "calibrate_batchnorm", "evaluate", "sample_words", "train",
           "load_checkpoint", "CHECKPOINT_NAME", "CheckpointError", "DataError", "Vocab", "build_dataset",
           "load_words", "split_words", "main"]

if __name__ == "__main__":
    sys.exit(main())
