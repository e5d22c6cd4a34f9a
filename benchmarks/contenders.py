"""The three contenders of the benchmark: one training step of the makemore BatchNorm MLP
(Karpathy's "Becoming a Backprop Ninja", exercise 4) in tensorgrad, in torch eager, and
written by hand in NumPy (fused forward, manual backward: the floor for a NumPy engine).

All three start from the same float32 weights (drawn once with NumPy), see the same
batches and do the same math: embedding gather, matmul, batch norm with the lecture's
Bessel-corrected variance (and the update of its running statistics, as the model does),
tanh, matmul, cross-entropy, then plain SGD. tensorgrad runs the real model users train,
models.makemore.MakemoreMLP, with tensorgrad.nn.SGD.

Import this module after the entry point has pinned the thread count (bench.py does).
"""
import os
import random

import numpy as np

NAMES = "/work/shared/data/names.txt"

N_EMBD, N_HIDDEN, BLOCK_SIZE, VOCAB = 10, 200, 3, 27
EPS = 1e-5
MOMENTUM = 0.001   # of the running batch-norm statistics (models/makemore.py's Config.bn_momentum)
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
               "NUMEXPR_NUM_THREADS")


def pin_threads(n: int = 1) -> None:
    """Set the BLAS/OpenMP thread count; only effective before numpy/torch are imported."""
    for var in THREAD_VARS:
        os.environ[var] = str(n)


# ----------------------------------------------------------------------------
# data: makemore's (context of 3 characters -> next character) pairs

def load_words(path: str = NAMES) -> list:
    """The names, shuffled with the lecture's seed (42); random names if the file is missing."""
    if os.path.exists(path):
        words = open(path).read().splitlines()
    else:  # the benchmark still runs (on made-up names) without the dataset
        rng = random.Random(0)
        words = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 8)))
                 for _ in range(32033)]
    random.seed(42)
    random.shuffle(words)
    return words


def build_dataset(words: list, block_size: int = BLOCK_SIZE):
    """X (n, block_size) int64 contexts, Y (n,) int64 next characters; '.' is 0.
    Built as windows over one long array (not lists of lists), so that making the data
    does not set a high-water mark of memory above the training run's."""
    stoi = {ch: i + 1 for i, ch in enumerate("abcdefghijklmnopqrstuvwxyz")}
    seq, starts, counts = [], [], []
    for w in words:
        starts.append(len(seq))
        counts.append(len(w) + 1)                          # one example per character and the end
        seq += [0] * block_size + [stoi[ch] for ch in w] + [0]
    windows = np.lib.stride_tricks.sliding_window_view(np.array(seq, dtype=np.int64), block_size + 1)
    starts, counts = np.array(starts), np.array(counts)
    first = np.cumsum(counts) - counts                     # index of each word's first example
    rows = np.repeat(starts, counts) + np.arange(counts.sum()) - np.repeat(first, counts)
    XY = windows[rows]                                     # (n, block_size + 1)
    return np.ascontiguousarray(XY[:, :block_size]), XY[:, block_size].copy()


def train_split():
    """The lecture's training split (the first 80% of the shuffled names)."""
    words = load_words()
    return build_dataset(words[:int(0.8 * len(words))])


def init_weights(seed: int = 2147483647, n_hidden: int = N_HIDDEN) -> dict:
    """The lecture's initialisation (Kaiming-scaled W1, small W2), as float32 NumPy arrays."""
    rng = np.random.default_rng(seed)
    fan_in = N_EMBD * BLOCK_SIZE
    w = {
        "C": rng.standard_normal((VOCAB, N_EMBD)),
        "W1": rng.standard_normal((fan_in, n_hidden)) * (5 / 3) / fan_in ** 0.5,
        "b1": rng.standard_normal(n_hidden) * 0.1,    # useless under batch norm, kept as in the lecture
        "W2": rng.standard_normal((n_hidden, VOCAB)) * 0.1,
        "b2": rng.standard_normal(VOCAB) * 0.1,
        "bngain": rng.standard_normal((1, n_hidden)) * 0.1 + 1.0,
        "bnbias": rng.standard_normal((1, n_hidden)) * 0.1,
    }
    return {k: v.astype(np.float32) for k, v in w.items()}


# ----------------------------------------------------------------------------
# the hand-fused NumPy step: forward, the lecture's manual backward, SGD

class NumpyStep:
    """One training step written by hand in NumPy, no autograd: the floor for tensorgrad."""

    name = "numpy"

    def __init__(self, weights: dict):
        self.p = {k: v.copy() for k, v in weights.items()}
        self.bnmean_running = np.zeros((1, weights["W1"].shape[1]), np.float32)
        self.bnvar_running = np.ones((1, weights["W1"].shape[1]), np.float32)

    def convert(self, X, Y):
        return X, Y

    def __call__(self, X, Y, lr: float) -> float:
        p = self.p
        C, W1, b1, W2, b2, gain, bias = p["C"], p["W1"], p["b1"], p["W2"], p["b2"], p["bngain"], p["bnbias"]
        n = X.shape[0]
        rows = np.arange(n)
        # forward
        emb = C[X]                                         # (n, block_size, n_embd)
        embcat = emb.reshape(n, -1)                        # (n, block_size * n_embd)
        hprebn = embcat @ W1 + b1                          # (n, n_hidden)
        bnmean = hprebn.mean(0, keepdims=True)             # (1, n_hidden)
        bndiff = hprebn - bnmean                           # (n, n_hidden)
        bnvar = (bndiff * bndiff).sum(0, keepdims=True) / (n - 1)   # (1, n_hidden) Bessel's n-1
        bnvar_inv = (bnvar + EPS) ** -0.5
        bnraw = bndiff * bnvar_inv                         # (n, n_hidden)
        self.bnmean_running *= 1 - MOMENTUM
        self.bnmean_running += MOMENTUM * bnmean
        self.bnvar_running *= 1 - MOMENTUM
        self.bnvar_running += MOMENTUM * bnvar
        h = np.tanh(gain * bnraw + bias)                   # (n, n_hidden)
        logits = h @ W2 + b2                               # (n, vocab)
        shifted = logits - logits.max(1, keepdims=True)
        counts = np.exp(shifted)
        counts_sum = counts.sum(1, keepdims=True)          # (n, 1)
        loss = (np.log(counts_sum[:, 0]) - shifted[rows, Y]).mean()
        # backward (the lecture's exercises 2 and 3)
        dlogits = counts / counts_sum                      # softmax
        dlogits[rows, Y] -= 1
        dlogits /= n
        dh = dlogits @ W2.T                                # (n, n_hidden)
        dW2 = h.T @ dlogits
        db2 = dlogits.sum(0)
        dhpreact = dh * (1 - h * h)                        # tanh'
        dgain = (dhpreact * bnraw).sum(0, keepdims=True)
        dbias = dhpreact.sum(0, keepdims=True)
        dhprebn = gain * bnvar_inv / n * (n * dhpreact - dbias - n / (n - 1) * bnraw * dgain)
        dembcat = dhprebn @ W1.T                           # (n, block_size * n_embd)
        dW1 = embcat.T @ dhprebn
        db1 = dhprebn.sum(0)
        # the embedding's gradient: scatter-add rows of dembcat into C, as onehot(X)^T @ demb
        onehot = np.equal.outer(np.arange(C.shape[0]), X.reshape(-1)).astype(C.dtype)   # (vocab, n*block)
        dC = onehot @ dembcat.reshape(-1, C.shape[1])
        # SGD
        for w, dw in ((C, dC), (W1, dW1), (b1, db1), (W2, dW2), (b2, db2), (gain, dgain), (bias, dbias)):
            w -= lr * dw
        return float(loss)


# ----------------------------------------------------------------------------
# torch eager: the same model as a torch user writes it

class TorchStep:
    """The same step in torch eager on the CPU (autograd, explicit batch-norm formula)."""

    name = "torch"

    def __init__(self, weights: dict):
        import torch
        self.torch = torch
        self.params = [torch.tensor(weights[k], requires_grad=True)
                       for k in ("C", "W1", "b1", "W2", "b2", "bngain", "bnbias")]
        self.bnmean_running = torch.zeros((1, weights["W1"].shape[1]))
        self.bnvar_running = torch.ones((1, weights["W1"].shape[1]))

    def convert(self, X, Y):
        return self.torch.from_numpy(X), self.torch.from_numpy(Y)

    def __call__(self, X, Y, lr: float) -> float:
        torch = self.torch
        C, W1, b1, W2, b2, gain, bias = self.params
        emb = C[X]                                         # (n, block_size, n_embd)
        hprebn = emb.view(X.shape[0], -1) @ W1 + b1        # (n, n_hidden)
        bnmean = hprebn.mean(0, keepdim=True)
        bnvar = hprebn.var(0, keepdim=True, unbiased=True)
        h = torch.tanh(gain * (hprebn - bnmean) * (bnvar + EPS) ** -0.5 + bias)
        with torch.no_grad():
            self.bnmean_running.mul_(1 - MOMENTUM).add_(MOMENTUM * bnmean)
            self.bnvar_running.mul_(1 - MOMENTUM).add_(MOMENTUM * bnvar)
        logits = h @ W2 + b2                               # (n, vocab)
        loss = torch.nn.functional.cross_entropy(logits, Y)
        for p in self.params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in self.params:
                p -= lr * p.grad
        return loss.item()


# ----------------------------------------------------------------------------
# tensorgrad: the same step with the engine's fused batch_norm and cross_entropy

class TensorgradStep:
    """The same step in tensorgrad, as users train it: models.makemore.MakemoreMLP (fused
    F.batch_norm and F.cross_entropy) and tensorgrad.nn.SGD."""

    name = "tensorgrad"

    def __init__(self, weights: dict):
        import tensorgrad as tg
        from models.makemore import Config, MakemoreMLP
        self.F = tg.nn.functional
        self.model = MakemoreMLP(Config(vocab_size=VOCAB, block_size=BLOCK_SIZE, n_embd=N_EMBD,
                                        n_hidden=weights["W1"].shape[1], bn_momentum=MOMENTUM))
        for name, p in self.model.named_parameters():
            p.data = weights[name].copy()                  # the same start as the other two
        self.optimizer = tg.nn.SGD(self.model.parameters(), lr=0.1)

    def convert(self, X, Y):
        return X, Y                                        # the training loop passes arrays

    def __call__(self, X, Y, lr: float) -> float:
        logits = self.model(X)                             # (n, vocab)
        loss = self.F.cross_entropy(logits, Y)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.lr = lr
        self.optimizer.step()
        return loss.item()


CONTENDERS = {"tensorgrad": TensorgradStep, "torch": TorchStep, "numpy": NumpyStep}
