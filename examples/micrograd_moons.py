"""micrograd's demo (demo.ipynb) with tensors: a 2-16-16-1 MLP separates the two moons,
trained with the SVM max-margin loss plus L2 regularisation, as micrograd trains it.

Run from the repository root (after `pip install -e .`):

    python examples/micrograd_moons.py           # 100 steps with tensors, 3 with scalars
    python examples/micrograd_moons.py --fast    # fewer steps (what the tests run)

The same network is written twice:
  * scalar: micrograd's Neuron / Layer / MLP on tensorgrad.Value, one graph node per
    multiply and add (about 30,000 per step), exactly how micrograd computes;
  * tensor: three weight matrices; one step is a dozen nodes whatever the data size.
Both start from the same weights and compute the same float64 numbers, so their losses
agree; the tensor version is a few thousand times faster.
"""
import argparse
import os
import random
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # run from a checkout

import tensorgrad as tg  # noqa: E402
from tensorgrad import Value  # noqa: E402


# ----------------------------------------------------------------------------
# data: two interleaving half circles, with noise (sklearn's make_moons, in NumPy)

def make_moons(n_samples=100, noise=0.1, seed=1337) -> tuple:
    """X (n, 2) points, y (n,) labels in {-1, +1} (micrograd's y * 2 - 1)."""
    rng = np.random.default_rng(seed)
    n_out = n_samples // 2
    n_in = n_samples - n_out
    t_out = np.linspace(0, np.pi, n_out)
    t_in = np.linspace(0, np.pi, n_in)
    outer = np.stack([np.cos(t_out), np.sin(t_out)], axis=1)              # (n_out, 2) upper moon
    inner = np.stack([1 - np.cos(t_in), 1 - np.sin(t_in) - 0.5], axis=1)  # (n_in, 2) lower moon
    X = np.concatenate([outer, inner]) + rng.normal(0, noise, (n_samples, 2))
    y = np.concatenate([-np.ones(n_out), np.ones(n_in)])
    order = rng.permutation(n_samples)
    return X[order], y[order]


# ----------------------------------------------------------------------------
# the scalar network: micrograd's nn.py, on tensorgrad.Value

class Neuron:
    def __init__(self, nin, nonlin=True):
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(0)
        self.nonlin = nonlin

    def __call__(self, x):
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return act.relu() if self.nonlin else act

    def parameters(self):
        return self.w + [self.b]


class Layer:
    def __init__(self, nin, nout, **kwargs):
        self.neurons = [Neuron(nin, **kwargs) for _ in range(nout)]

    def __call__(self, x):
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self):
        return [p for n in self.neurons for p in n.parameters()]


class MLP:
    def __init__(self, nin, nouts):
        sz = [nin] + nouts
        self.layers = [Layer(sz[i], sz[i + 1], nonlin=i != len(nouts) - 1) for i in range(len(nouts))]

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]


def scalar_loss(model, X, y, alpha=1e-4):
    """micrograd's loss(): SVM max-margin loss + L2 regularisation, and the accuracy."""
    inputs = [list(map(Value, xrow)) for xrow in X]
    scores = list(map(model, inputs))
    losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y.tolist(), scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = alpha * sum((p * p for p in model.parameters()))
    total_loss = data_loss + reg_loss
    accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(y, scores)]
    return total_loss, sum(accuracy) / len(accuracy)


def train_scalar(model, X, y, steps) -> list:
    history = []
    for k in range(steps):
        total_loss, acc = scalar_loss(model, X, y)
        for p in model.parameters():       # model.zero_grad()
            p.grad = 0
        total_loss.backward()
        learning_rate = 1.0 - 0.9 * k / 100
        for p in model.parameters():
            p.data -= learning_rate * p.grad
        history.append((total_loss.data, acc))
        print(f"  scalar step {k} loss {total_loss.data:.6f}, accuracy {acc * 100:.0f}%")
    return history


# ----------------------------------------------------------------------------
# the tensor network: the same weights as matrices

def to_tensors(model: MLP) -> list:
    """[W1 (2, 16), b1 (16,), W2 (16, 16), b2 (16,), W3 (16, 1), b3 (1,)] from the scalar model:
    column j of W is neuron j's weights."""
    params = []
    for layer in model.layers:
        W = np.array([[w.data for w in n.w] for n in layer.neurons]).T         # (nin, nout)
        b = np.array([n.b.data for n in layer.neurons])                         # (nout,)
        params += [tg.tensor(W, requires_grad=True), tg.tensor(b, requires_grad=True)]
    return params


def tensor_loss(params, X, y, alpha=1e-4):
    W1, b1, W2, b2, W3, b3 = params
    h1 = (X @ W1 + b1).relu()                            # (n, 16)
    h2 = (h1 @ W2 + b2).relu()                           # (n, 16)
    scores = (h2 @ W3 + b3).reshape(-1)                  # (n,)
    data_loss = (1 - y * scores).relu().mean()           # SVM max-margin loss
    reg_loss = alpha * sum((p * p).sum() for p in params)
    accuracy = float(((y.numpy() > 0) == (scores.numpy() > 0)).mean())
    return data_loss + reg_loss, accuracy


def train_tensor(params, X, y, steps, log_every=10) -> list:
    X, y = tg.tensor(X), tg.tensor(y)                    # float64, as the scalar Values
    history = []
    for k in range(steps):
        total_loss, acc = tensor_loss(params, X, y)
        for p in params:
            p.grad = None
        total_loss.backward()
        learning_rate = 1.0 - 0.9 * k / 100
        with tg.no_grad():
            for p in params:
                p.data -= learning_rate * p.grad
        history.append((total_loss.item(), float(acc)))
        if k % log_every == 0 or k == steps - 1:
            print(f"  tensor step {k} loss {total_loss.item():.6f}, accuracy {acc * 100:.0f}%")
    return history


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fast", action="store_true", help="fewer steps (for the tests)")
    ap.add_argument("--steps", type=int, default=None, help="tensor training steps (default 100)")
    ap.add_argument("--scalar-steps", type=int, default=None, help="scalar steps to time (default 3)")
    args = ap.parse_args(argv)
    steps = args.steps if args.steps is not None else (20 if args.fast else 100)
    scalar_steps = args.scalar_steps if args.scalar_steps is not None else (1 if args.fast else 3)

    np.random.seed(1337)
    random.seed(1337)
    X, y = make_moons(n_samples=100, noise=0.1)
    model = MLP(2, [16, 16, 1])                     # 2-layer neural network
    params = to_tensors(model)                      # the same initial weights, as matrices
    print(f"{len(model.parameters())} parameters, {len(X)} points")

    print(f"scalar engine (tensorgrad.Value, micrograd's code), {scalar_steps} steps:")
    t0 = time.perf_counter()
    scalar = train_scalar(model, X, y, scalar_steps)
    t_scalar = (time.perf_counter() - t0) / max(scalar_steps, 1)

    print(f"tensor engine, {steps} steps:")
    t0 = time.perf_counter()
    tensor = train_tensor(params, X, y, steps)
    t_tensor = (time.perf_counter() - t0) / max(steps, 1)

    same = max(abs(a[0] - b[0]) for a, b in zip(scalar, tensor))
    print(f"the first {len(scalar)} losses of the two engines differ by at most {same:.1e}")
    print(f"one step: scalar {t_scalar * 1000:.0f} ms, tensor {t_tensor * 1000:.2f} ms: "
          f"{t_scalar / t_tensor:.0f}x faster with tensors")
    print(f"final: loss {tensor[-1][0]:.4f}, accuracy {tensor[-1][1] * 100:.0f}%")
    return {"scalar": scalar, "tensor": tensor, "speedup": t_scalar / t_tensor, "max_loss_diff": same}


if __name__ == "__main__":
    main()
