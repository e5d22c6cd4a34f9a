"""Train a small convolutional network on scikit-learn's 8x8 handwritten digits, then draw the
graph its gradient travels back through.

    pip install scikit-learn            # the optional extra: pip install -e ".[cnn]"
    python examples/cnn.py              # a few seconds; 98% test accuracy; drawings in out/cnn/ (git-ignored)
    python examples/cnn.py --epochs 2 --out /tmp/cnn

The network is LeNet in miniature (LeCun et al. 1998): conv 3x3 -> ReLU -> max-pool 2x2, twice,
then a linear layer to the 10 classes. Every layer is tensorgrad's: conv2d gathers the 3x3
patches of its input with an as_strided view (im2col) and contracts them with the weight; its
backward adds each patch of the gradient back where it was read from (col2im), the same
gather / scatter-add pair as the embedding lookup C[X] of makemore. The backward drawing shows it:
look for "im2col backward: col2im: scatter-add the patches of g".
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # run from a checkout

import tensorgrad as tg  # noqa: E402
import tensorgrad.nn.functional as F  # noqa: E402
from tensorgrad import nn  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_digits(seed: int):
    """The 1,797 8x8 digits of scikit-learn (bundled, offline), scaled to [0, 1], split 80/20."""
    try:
        from sklearn.datasets import load_digits as sklearn_digits
    except ImportError:
        return None
    digits = sklearn_digits()
    X = (digits.images / 16.0).astype(np.float32)[:, None]       # (1797, 1, 8, 8), one channel
    Y = digits.target.astype(np.int64)                           # (1797,)
    order = np.random.default_rng(seed).permutation(len(X))
    n_train = int(0.8 * len(X))
    return (X[order[:n_train]], Y[order[:n_train]]), (X[order[n_train:]], Y[order[n_train:]])


class DigitNet(nn.Module):
    """conv(1->8) -> relu -> pool -> conv(8->16) -> relu -> pool -> linear(64->10)."""

    def __init__(self, generator=None):
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1, generator=generator)      # (N, 8, 8, 8)
        self.pool1 = nn.MaxPool2d(2)                                          # (N, 8, 4, 4)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1, generator=generator)     # (N, 16, 4, 4)
        self.pool2 = nn.MaxPool2d(2)                                          # (N, 16, 2, 2)
        self.fc = nn.Linear(16 * 2 * 2, 10, generator=generator)             # (N, 10)

    def forward(self, x):                       # x: (N, 1, 8, 8)
        x = self.pool1(self.conv1(x).relu())    # (N, 8, 4, 4)
        x = self.pool2(self.conv2(x).relu())    # (N, 16, 2, 2)
        return self.fc(x.flatten(1))            # (N, 10) logits


def accuracy(model, X, Y) -> float:
    with tg.no_grad():
        return float((model(tg.tensor(X)).argmax(1).numpy() == Y).mean())


def save(graph, out_dir: str, name: str) -> str:
    """out_dir/name.svg (the DOT source, name.gv, without Graphviz's `dot`)."""
    import viz
    return str(viz.save(graph, os.path.join(out_dir, f"{name}.svg")))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=os.path.join(ROOT, "out", "cnn"), help="directory for the drawings")
    args = ap.parse_args(argv)

    data = load_digits(args.seed)
    if data is None:
        print("examples/cnn.py needs scikit-learn for its bundled digits: pip install scikit-learn "
              "(or pip install -e \".[cnn]\"); skipping.")
        return 0
    (Xtr, Ytr), (Xte, Yte) = data
    g = tg.Generator().manual_seed(args.seed)
    model = DigitNet(generator=g)
    opt = nn.Adam(model.parameters(), lr=args.lr)
    print(f"{len(Xtr)} training and {len(Xte)} test digits; {sum(p.numel() for p in model.parameters())} parameters")

    rng = np.random.default_rng(args.seed)
    start = time.perf_counter()
    for epoch in range(args.epochs):
        order, total = rng.permutation(len(Xtr)), 0.0
        for i in range(0, len(order), args.batch_size):
            batch = order[i:i + args.batch_size]
            loss = F.cross_entropy(model(tg.tensor(Xtr[batch])), Ytr[batch])    # () fused softmax + nll
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(batch)
        print(f"epoch {epoch + 1}: train loss {total / len(Xtr):.4f}, test accuracy {accuracy(model, Xte, Yte):.3f}")
    print(f"trained in {time.perf_counter() - start:.1f} s")

    # the backward graph of one small batch: conv -> im2col's backward is col2im (a scatter-add)
    import viz
    os.makedirs(args.out, exist_ok=True)
    loss = F.cross_entropy(model(tg.tensor(Xte[:4])), Yte[:4])
    loss.backward()
    params = dict(model.named_parameters())
    for name, backward in (("cnn_forward", False), ("cnn_backward", True)):
        graph = viz.draw(loss, backward=backward, params=params)
        print(f"wrote {save(graph, args.out, name)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
