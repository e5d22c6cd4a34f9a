"""Train the makemore MLP of the Backprop Ninja lecture, one readable loop.

Run from the repository root (after `pip install -e .`):

    python examples/train_makemore.py               # 20,000 steps (about a minute on 2 cores)
    python examples/train_makemore.py --fast        # 300 steps (what the tests run)
    python examples/train_makemore.py --steps 200000 --n-hidden 200   # the lecture's full run

This is the loop that `tensorgrad-makemore` (models/makemore.py) runs, without the
checkpoints, progress bars and plots: the data, the model, forward, loss, backward, update,
then calibrating the batch norm and sampling names. Every line is tensorgrad, no torch.
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # run from a checkout

import tensorgrad.nn.functional as F  # noqa: E402
from tensorgrad import nn  # noqa: E402
from models.data import Vocab, build_dataset, load_words, split_words  # noqa: E402
from models.makemore import Config, MakemoreMLP, calibrate_batchnorm, evaluate, sample  # noqa: E402

NAMES_TXT = "/work/shared/data/names.txt"   # makemore's 32,033 names, if you have them


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fast", action="store_true", help="300 steps (for the tests)")
    ap.add_argument("--steps", type=int, default=None, help="training steps (default 20000)")
    ap.add_argument("--n-hidden", type=int, default=200)
    ap.add_argument("--data", default=None, help="a word list (default: names.txt if present, else census names)")
    args = ap.parse_args(argv)
    steps = args.steps if args.steps is not None else (300 if args.fast else 20000)
    source = args.data or (NAMES_TXT if os.path.exists(NAMES_TXT) else "default")

    # --- data -----------------------------------------------------------------
    # every name becomes examples "3 characters -> the next one", '.' padding the start
    # and marking the end: "emma" gives ... -> e, ..e -> m, .em -> m, emm -> a, mma -> .
    words = load_words(source)
    vocab = Vocab.from_words(words)                     # '.' = 0, then a..z = 1..26
    train_words, val_words, _ = split_words(words)      # the lecture's 80/10/10 split
    Xtr, Ytr = build_dataset(train_words, 3, vocab)     # (N, 3) int64 contexts, (N,) int64 targets
    Xdev, Ydev = build_dataset(val_words, 3, vocab)
    print(f"{len(words)} words, {Xtr.shape[0]} training examples, vocabulary {vocab.chars!r}")

    # --- model ----------------------------------------------------------------
    # C (27, 10) embeddings -> W1 (30, n_hidden) -> BatchNorm -> tanh -> W2 (n_hidden, 27)
    config = Config(vocab_size=len(vocab), n_hidden=args.n_hidden)
    model = MakemoreMLP(config)
    params = list(model.parameters())                   # parameters() is a generator, as torch's
    print(f"{sum(p.numel() for p in params)} parameters: " +
          ", ".join(f"{name} {tuple(p.shape)}" for name, p in model.named_parameters()))
    optimizer = nn.SGD(params, lr=0.1)

    # --- training ---------------------------------------------------------------
    rng = np.random.default_rng(42)
    t0 = time.time()
    for step in range(steps):
        ix = rng.integers(0, Xtr.shape[0], config.batch_size)     # (32,) a random minibatch
        Xb, Yb = Xtr[ix], Ytr[ix]                                  # (32, 3), (32,)
        logits = model(Xb)                                         # (32, 27) forward: recorded on the tape
        loss = F.cross_entropy(logits, Yb)                         # () one fused node (exercise 2)
        optimizer.zero_grad()                                      # .grad = None on every parameter
        loss.backward()                                            # walk the tape backwards
        optimizer.lr = 0.1 if step < steps // 2 else 0.01          # the lecture's step decay
        optimizer.step()                                           # p -= lr * p.grad
        if step % max(1, steps // 10) == 0 or step == steps - 1:
            print(f"step {step:6d}/{steps}: loss {loss.item():.4f}")
        del logits, loss   # drop this step's graph before the next forward builds another
    seconds = time.time() - t0
    print(f"{steps} steps in {seconds:.1f}s ({1000 * seconds / steps:.2f} ms/step)")

    # --- after training -----------------------------------------------------------
    # batch norm used each batch's own mean and variance; for single examples we need fixed
    # ones: measure them once over the whole training set (exercise 4's last step)
    calibrate_batchnorm(model, Xtr)
    train_loss, val_loss = evaluate(model, Xtr, Ytr), evaluate(model, Xdev, Ydev)
    print(f"train loss {train_loss:.4f}, val loss {val_loss:.4f}")   # the lecture: ~2.07 / ~2.11 at 200k steps
    names = sample(model, vocab, num=10)
    print("samples:", " ".join(names))
    return {"train": train_loss, "val": val_loss, "samples": names}


if __name__ == "__main__":
    main()
