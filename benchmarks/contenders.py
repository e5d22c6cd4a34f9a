"""The contenders of the benchmark: one training step (forward, backward, SGD) of the makemore
BatchNorm MLP of Karpathy's "Becoming a Backprop Ninja", in two forms, in every framework.

- chunked: the lecture's exercise-1 forward, ~20 small ops (bnmeani, bndiff, ... logprobs).
- fused: as a user of each framework writes it: fused batch norm (updating its running
  statistics) and the framework's cross-entropy where it has them.

Every contender starts from the same float32 weights, sees the same batches and computes the
same loss (bench.py checks it before timing). The batch variance is Bessel-corrected, as in
the lecture: tensorgrad's F.batch_norm takes correction=1; torch's F.batch_norm has no such
argument, so (as a torch user does) the factor is folded into the weight and eps:
    (x - m) / sqrt(var_u + eps) = sqrt((n-1)/n) * (x - m) / sqrt(var_b + eps (n-1)/n).

A contender is a class with `name`, `form`, `convert(X, Y)` (NumPy batch -> its own types,
done ahead of the timing) and `__call__(X, Y, lr) -> float loss`. Optional frameworks (jax,
HIPS autograd, mygrad: `pip install -e .[bench]`) raise ImportError when absent; bench.py
skips them with a note. Import this module after the thread count is pinned (bench.py does).
"""
import os
import random
from pathlib import Path

import numpy as np



def _find_names() -> str:
    """$TENSORGRAD_NAMES, or shared/data/names.txt beside the checkout (or beside a folder above it)."""
    if os.environ.get("TENSORGRAD_NAMES"):
        return os.environ["TENSORGRAD_NAMES"]
    checkout = Path(__file__).resolve().parents[1]
    found = [d / "shared" / "data" / "names.txt" for d in checkout.parents]
    return str(next((f for f in found if f.exists()), found[0]))


NAMES = _find_names()

N_EMBD, N_HIDDEN, BLOCK_SIZE, VOCAB = 10, 200, 3, 27
EPS = 1e-5
MOMENTUM = 0.001   # of the running batch-norm statistics (models/makemore.py's Config.bn_momentum)
PARAMS = ("C", "W1", "b1", "W2", "b2", "bngain", "bnbias")


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


def _weights(weights: dict, form: str) -> list:
    """Copies in PARAMS order; the fused form's batch-norm gain and bias are (C,), as F.batch_norm takes them."""
    return [weights[k].reshape(-1).copy() if form == "fused" and k in ("bngain", "bnbias") else weights[k].copy()
            for k in PARAMS]


# ----------------------------------------------------------------------------
# the lecture's chunked forward, written once for the two frameworks with torch's API

def chunked_loss(m, params, X, Y):
    """Exercise 1's forward, op for op; `m` is the torch or the tensorgrad module."""
    C, W1, b1, W2, b2, bngain, bnbias = params
    n = X.shape[0]
    emb = C[X]                                             # (n, block_size, n_embd)
    embcat = emb.view(n, -1)                               # (n, block_size * n_embd)
    hprebn = embcat @ W1 + b1                              # (n, n_hidden)
    bnmeani = 1 / n * hprebn.sum(0, keepdim=True)          # (1, n_hidden)
    bndiff = hprebn - bnmeani
    bndiff2 = bndiff ** 2
    bnvar = 1 / (n - 1) * bndiff2.sum(0, keepdim=True)     # Bessel's n-1
    bnvar_inv = (bnvar + EPS) ** -0.5
    bnraw = bndiff * bnvar_inv
    hpreact = bngain * bnraw + bnbias
    h = hpreact.tanh()                                     # (n, n_hidden)
    logits = h @ W2 + b2                                   # (n, vocab)
    logit_maxes = logits.max(1, keepdim=True).values
    norm_logits = logits - logit_maxes
    counts = norm_logits.exp()
    counts_sum = counts.sum(1, keepdim=True)               # (n, 1)
    counts_sum_inv = counts_sum ** -1
    probs = counts * counts_sum_inv
    logprobs = probs.log()
    return -logprobs[m.arange(n), Y].mean()


def chunked_loss_np(np_, params, X, Y):
    """The same, with NumPy's API (jax.numpy, autograd.numpy, mygrad). The constants are float32:
    mygrad would make Python floats float64, and the whole step with them."""
    f = np.float32
    C, W1, b1, W2, b2, bngain, bnbias = params
    n = X.shape[0]
    emb = C[X]
    embcat = np_.reshape(emb, (n, -1))
    hprebn = embcat @ W1 + b1
    bnmeani = f(1 / n) * np_.sum(hprebn, axis=0, keepdims=True)
    bndiff = hprebn - bnmeani
    bndiff2 = bndiff ** 2
    bnvar = f(1 / (n - 1)) * np_.sum(bndiff2, axis=0, keepdims=True)
    bnvar_inv = (bnvar + f(EPS)) ** f(-0.5)
    bnraw = bndiff * bnvar_inv
    hpreact = bngain * bnraw + bnbias
    h = np_.tanh(hpreact)
    logits = h @ W2 + b2
    logit_maxes = np_.max(logits, axis=1, keepdims=True)
    norm_logits = logits - logit_maxes
    counts = np_.exp(norm_logits)
    counts_sum = np_.sum(counts, axis=1, keepdims=True)
    counts_sum_inv = counts_sum ** f(-1)
    probs = counts * counts_sum_inv
    logprobs = np_.log(probs)
    return -np_.mean(logprobs[np.arange(n), Y])


# ----------------------------------------------------------------------------
# tensorgrad

class TensorgradStep:
    """tensorgrad, dynamic: the tape is recorded and walked every step; its SGD optimizer
    (what models/makemore.py uses)."""

    name = "tensorgrad"

    def __init__(self, weights: dict, form: str):
        import tensorgrad as tg
        self.tg, self.F, self.form = tg, tg.nn.functional, form
        self.params = [tg.tensor(w, requires_grad=True) for w in _weights(weights, form)]
        self.running = (tg.zeros(N_HIDDEN), tg.ones(N_HIDDEN))
        self.loss = self.chunked if form == "chunked" else self.fused
        sgd = getattr(getattr(tg, "optim", None), "SGD", None) or tg.nn.SGD
        self.optimizer = sgd(self.params, lr=0.1)

    def convert(self, X, Y):
        return self.tg.from_numpy(X), self.tg.from_numpy(Y)

    def chunked(self, params, X, Y):
        return chunked_loss(self.tg, params, X, Y)

    def fused(self, params, X, Y):
        C, W1, b1, W2, b2, gain, bias = params
        hprebn = C[X].view(X.shape[0], -1) @ W1 + b1       # (n, n_hidden)
        hpreact = self.F.batch_norm(hprebn, *self.running, gain, bias, training=True, momentum=MOMENTUM,
                                    eps=EPS, correction=1)
        return self.F.cross_entropy(hpreact.tanh() @ W2 + b2, Y)

    def forward(self, X, Y):
        return self.loss(self.params, X, Y)

    def __call__(self, X, Y, lr):
        loss = self.forward(X, Y)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.lr = lr
        self.optimizer.step()
        return loss.item()


class TensorgradCompiled(TensorgradStep):
    """tensorgrad, replayed: tg.compile records the loss's ops once per batch shape and replays
    them; backward() and the update are the dynamic path's (the recording is one node)."""

    name = "tensorgrad replay"

    def __init__(self, weights: dict, form: str):
        super().__init__(weights, form)
        if not hasattr(self.tg, "compile"):
            raise ImportError("tensorgrad has no tg.compile yet")
        self.forward = self.tg.compile(self.forward)


# ----------------------------------------------------------------------------
# torch eager, and torch.compile

class TorchStep:
    """torch eager on the CPU, as a torch user writes the step: F.batch_norm (the lecture's
    Bessel variance folded into weight and eps), F.cross_entropy, torch.optim.SGD (faster than
    the lecture's `p -= lr * p.grad` loop under no_grad: 28 against 33 us for these 7 parameters)."""

    name = "torch"

    def __init__(self, weights: dict, form: str):
        import torch
        self.torch, self.F, self.form = torch, torch.nn.functional, form
        self.params = [torch.tensor(w, requires_grad=True) for w in _weights(weights, form)]
        self.running = (torch.zeros(N_HIDDEN), torch.ones(N_HIDDEN))
        self.loss = self.chunked if form == "chunked" else self.fused
        self.optimizer = torch.optim.SGD(self.params, lr=0.1)

    def convert(self, X, Y):
        return self.torch.from_numpy(X), self.torch.from_numpy(Y)

    def chunked(self, params, X, Y):
        return chunked_loss(self.torch, params, X, Y)

    def fused(self, params, X, Y):
        C, W1, b1, W2, b2, gain, bias = params
        n = X.shape[0]
        hprebn = C[X].view(n, -1) @ W1 + b1                # (n, n_hidden)
        bessel = ((n - 1) / n) ** 0.5
        hpreact = self.F.batch_norm(hprebn, *self.running, gain * bessel, bias, training=True, momentum=MOMENTUM,
                                    eps=EPS * (n - 1) / n)
        return self.F.cross_entropy(hpreact.tanh() @ W2 + b2, Y)

    def __call__(self, X, Y, lr):
        loss = self.loss(self.params, X, Y)
        self.optimizer.zero_grad()
        loss.backward()
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        self.optimizer.step()
        return loss.item()


class TorchCompiled(TorchStep):
    """torch.compile of the loss (forward and, through AOTAutograd, backward); the update as in eager.
    One compilation per batch size (dynamic=False), done in the loss check before the timing."""

    name = "torch.compile"

    def __init__(self, weights: dict, form: str):
        super().__init__(weights, form)
        self.loss = self.torch.compile(self.loss, dynamic=False)


# ----------------------------------------------------------------------------
# jax.jit: the whole step (value_and_grad and the update) compiled

class JaxStep:
    name = "jax.jit"

    def __init__(self, weights: dict, form: str):
        import jax
        import jax.numpy as jnp
        self.jnp, self.form = jnp, form
        self.params = [jnp.asarray(w) for w in _weights(weights, form)]
        self.running = (jnp.zeros(N_HIDDEN, jnp.float32), jnp.ones(N_HIDDEN, jnp.float32))

        def fused(params, X, Y):
            C, W1, b1, W2, b2, gain, bias = params
            hprebn = C[X].reshape(X.shape[0], -1) @ W1 + b1
            mean = hprebn.mean(0)
            var = hprebn.var(0, ddof=1)
            h = jnp.tanh(gain * (hprebn - mean) * jax.lax.rsqrt(var + EPS) + bias)
            logp = jax.nn.log_softmax(h @ W2 + b2)
            return -jnp.take_along_axis(logp, Y[:, None], 1).mean(), (mean, var)

        def chunked(params, X, Y):
            return chunked_loss_np(jnp, params, X, Y), None

        def step(params, running, X, Y, lr):
            (loss, stats), grads = jax.value_and_grad(fused if form == "fused" else chunked, has_aux=True)(
                params, X, Y)
            params = [p - lr * g for p, g in zip(params, grads)]
            if stats is not None:
                running = tuple((1 - MOMENTUM) * r + MOMENTUM * jax.lax.stop_gradient(s)
                                for r, s in zip(running, stats))
            return params, running, loss

        self.step = jax.jit(step)

    def convert(self, X, Y):
        return self.jnp.asarray(X), self.jnp.asarray(Y)

    def __call__(self, X, Y, lr):
        self.params, self.running, loss = self.step(self.params, self.running, X, Y, np.float32(lr))
        return float(loss)


# ----------------------------------------------------------------------------
# HIPS autograd and mygrad: NumPy-API tapes

class AutogradStep:
    name = "autograd"

    def __init__(self, weights: dict, form: str):
        import autograd
        import autograd.numpy as anp
        from autograd.scipy.special import logsumexp
        from autograd.tracer import getval
        self.form = form
        self.params = _weights(weights, form)
        self.running = [np.zeros(N_HIDDEN, np.float32), np.ones(N_HIDDEN, np.float32)]
        stats = {}

        def fused(params, X, Y):
            C, W1, b1, W2, b2, gain, bias = params
            n = X.shape[0]
            hprebn = anp.reshape(C[X], (n, -1)) @ W1 + b1
            mean = anp.mean(hprebn, axis=0)
            var = anp.var(hprebn, axis=0, ddof=1)
            stats["mean"], stats["var"] = getval(mean), getval(var)
            h = anp.tanh(gain * (hprebn - mean) / anp.sqrt(var + EPS) + bias)
            logits = h @ W2 + b2
            return anp.mean(logsumexp(logits, axis=1) - logits[np.arange(n), Y])

        def chunked(params, X, Y):
            return chunked_loss_np(anp, params, X, Y)

        self.stats = stats
        self.value_and_grad = autograd.value_and_grad(fused if form == "fused" else chunked)

    def convert(self, X, Y):
        return X, Y

    def __call__(self, X, Y, lr):
        loss, grads = self.value_and_grad(self.params, X, Y)
        for p, g in zip(self.params, grads):
            p -= lr * g
        if self.form == "fused":
            for r, s in zip(self.running, (self.stats["mean"], self.stats["var"])):
                r *= 1 - MOMENTUM
                r += MOMENTUM * s
        return float(loss)


class MygradStep:
    name = "mygrad"

    def __init__(self, weights: dict, form: str):
        import mygrad as mg
        from mygrad.nnet.layers import batchnorm
        from mygrad.nnet.losses import softmax_crossentropy
        self.mg, self.form = mg, form
        self.params = [mg.tensor(w) for w in _weights(weights, form)]
        self.running = [np.zeros(N_HIDDEN, np.float32), np.ones(N_HIDDEN, np.float32)]

        def fused(params, X, Y):
            C, W1, b1, W2, b2, gain, bias = params
            n = X.shape[0]
            hprebn = mg.reshape(C[X], (n, -1)) @ W1 + b1
            x = hprebn.data                                # the running statistics, outside the graph
            for r, s in zip(self.running, (x.mean(0), x.var(0, ddof=1))):
                r *= 1 - MOMENTUM
                r += MOMENTUM * s
            # mygrad's batchnorm uses the biased variance: the Bessel factor folded as for torch
            h = mg.tanh(batchnorm(hprebn, gamma=gain * np.float32(((n - 1) / n) ** 0.5), beta=bias,
                                  eps=EPS * (n - 1) / n))
            return softmax_crossentropy(h @ W2 + b2, Y)

        def chunked(params, X, Y):
            return chunked_loss_np(mg, params, X, Y)

        self.loss = fused if form == "fused" else chunked

    def convert(self, X, Y):
        return X, Y

    def __call__(self, X, Y, lr):
        loss = self.loss(self.params, X, Y)
        loss.backward()
        for p in self.params:
            p.data -= lr * p.grad
        return loss.item()


# ----------------------------------------------------------------------------
# hand-written NumPy, no autograd: the floor for an engine built on NumPy

class NumpyStep:
    """The lecture's forward with its manual backward (exercises 2 and 3), in both forms."""

    name = "numpy"

    def __init__(self, weights: dict, form: str):
        self.form = form
        self.params = _weights(weights, "chunked")         # (1, n_hidden) gain and bias, broadcast by hand
        self.running = (np.zeros((1, N_HIDDEN), np.float32), np.ones((1, N_HIDDEN), np.float32))

    def convert(self, X, Y):
        return X, Y

    def __call__(self, X, Y, lr):
        loss, grads = (self.fused if self.form == "fused" else self.chunked)(X, Y)
        for w, dw in zip(self.params, grads):
            w -= lr * dw
        return float(loss)

    def _dC(self, X, demb):
        """The embedding's gradient, a scatter-add written as onehot(X)^T @ demb."""
        C = self.params[0]
        onehot = np.equal.outer(np.arange(C.shape[0]), X.reshape(-1)).astype(C.dtype)   # (vocab, n*block)
        return onehot @ demb.reshape(-1, C.shape[1])

    def fused(self, X, Y):
        C, W1, b1, W2, b2, gain, bias = self.params
        n = X.shape[0]
        rows = np.arange(n)
        embcat = C[X].reshape(n, -1)                       # (n, block_size * n_embd)
        hprebn = embcat @ W1 + b1                          # (n, n_hidden)
        bnmean = hprebn.mean(0, keepdims=True)             # (1, n_hidden)
        bndiff = hprebn - bnmean
        bnvar = (bndiff * bndiff).sum(0, keepdims=True) / (n - 1)
        bnvar_inv = (bnvar + EPS) ** -0.5
        bnraw = bndiff * bnvar_inv
        for r, s in zip(self.running, (bnmean, bnvar)):
            r *= 1 - MOMENTUM
            r += MOMENTUM * s
        h = np.tanh(gain * bnraw + bias)                   # (n, n_hidden)
        logits = h @ W2 + b2                               # (n, vocab)
        shifted = logits - logits.max(1, keepdims=True)
        counts = np.exp(shifted)
        counts_sum = counts.sum(1, keepdims=True)          # (n, 1)
        loss = (np.log(counts_sum[:, 0]) - shifted[rows, Y]).mean()
        dlogits = counts / counts_sum                      # softmax
        dlogits[rows, Y] -= 1
        dlogits /= n
        dh = dlogits @ W2.T
        dW2, db2 = h.T @ dlogits, dlogits.sum(0)
        dhpreact = dh * (1 - h * h)
        dgain = (dhpreact * bnraw).sum(0, keepdims=True)
        dbias = dhpreact.sum(0, keepdims=True)
        dhprebn = gain * bnvar_inv / n * (n * dhpreact - dbias - n / (n - 1) * bnraw * dgain)
        dW1, db1 = embcat.T @ dhprebn, dhprebn.sum(0)
        return loss, (self._dC(X, dhprebn @ W1.T), dW1, db1, dW2, db2, dgain, dbias)

    def chunked(self, X, Y):
        C, W1, b1, W2, b2, bngain, bnbias = self.params
        n = X.shape[0]
        rows = np.arange(n)
        embcat = C[X].reshape(n, -1)
        hprebn = embcat @ W1 + b1
        bnmeani = 1 / n * hprebn.sum(0, keepdims=True)
        bndiff = hprebn - bnmeani
        bndiff2 = bndiff ** 2
        bnvar = 1 / (n - 1) * bndiff2.sum(0, keepdims=True)
        bnvar_inv = (bnvar + EPS) ** -0.5
        bnraw = bndiff * bnvar_inv
        hpreact = bngain * bnraw + bnbias
        h = np.tanh(hpreact)
        logits = h @ W2 + b2
        logit_maxes = logits.max(1, keepdims=True)
        norm_logits = logits - logit_maxes
        counts = np.exp(norm_logits)
        counts_sum = counts.sum(1, keepdims=True)
        counts_sum_inv = counts_sum ** -1
        probs = counts * counts_sum_inv
        logprobs = np.log(probs)
        loss = -logprobs[rows, Y].mean()
        # exercise 2: backward chunk by chunk
        dlogprobs = np.zeros_like(logprobs)
        dlogprobs[rows, Y] = -1 / n
        dprobs = dlogprobs / probs
        dcounts_sum_inv = (counts * dprobs).sum(1, keepdims=True)
        dcounts = counts_sum_inv * dprobs
        dcounts_sum = -counts_sum ** -2 * dcounts_sum_inv
        dcounts += dcounts_sum
        dnorm_logits = counts * dcounts
        dlogits = dnorm_logits.copy()
        dlogits[rows, logits.argmax(1)] -= dnorm_logits.sum(1)
        dh = dlogits @ W2.T
        dW2, db2 = h.T @ dlogits, dlogits.sum(0)
        dhpreact = (1 - h ** 2) * dh
        dbngain = (bnraw * dhpreact).sum(0, keepdims=True)
        dbnbias = dhpreact.sum(0, keepdims=True)
        dbnraw = bngain * dhpreact
        dbndiff = bnvar_inv * dbnraw
        dbnvar_inv = (bndiff * dbnraw).sum(0, keepdims=True)
        dbnvar = -0.5 * (bnvar + EPS) ** -1.5 * dbnvar_inv
        dbndiff += 2 * bndiff * (1 / (n - 1) * dbnvar)
        dhprebn = dbndiff - dbndiff.sum(0, keepdims=True) / n
        dW1, db1 = embcat.T @ dhprebn, dhprebn.sum(0)
        return loss, (self._dC(X, dhprebn @ W1.T), dW1, db1, dW2, db2, dbngain, dbnbias)


# name -> class, in the order the tables show them; every class takes (weights, form)
CONTENDERS = {c.name: c for c in (TensorgradStep, TensorgradCompiled, TorchStep, TorchCompiled, JaxStep,
                                  AutogradStep, MygradStep, NumpyStep)}
FORMS = ("chunked", "fused")
