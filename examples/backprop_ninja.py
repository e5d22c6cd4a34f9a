"""Becoming a Backprop Ninja, on tensorgrad: the four exercises of Karpathy's lecture.

Run from the repository root (after `pip install -e .`):

    python examples/backprop_ninja.py              # exercise 4 trains for 20,000 steps (~15 s)
    python examples/backprop_ninja.py --steps 200000   # the lecture's full run
    python examples/backprop_ninja.py --fast       # a few steps: what the tests run

Exercise 1  backprop by hand through every line of the chunked forward pass (26 gradients),
            in plain NumPy, and check each against tensorgrad's autograd (and torch's).
Exercise 2  the cross-entropy backward in one formula: dlogits = (softmax(logits) - onehot) / n.
Exercise 3  the batch-norm backward in one formula.
Exercise 4  train the MLP with only the hand-written backward, under tg.no_grad().

The learner's side is plain NumPy on purpose: it is the lecture's code with `torch.` replaced
by `np.`, so that nothing but your own formulas computes a gradient. Every tensor's `.data`
is a NumPy array, which is what the formulas read.
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # run from a checkout

import tensorgrad as tg  # noqa: E402
import tensorgrad.nn.functional as F  # noqa: E402
from tensorgrad.testing import cmp  # noqa: E402

try:
    import torch
except ImportError:          # torch is optional: the torch columns are skipped
    torch = None

from models.makemore import Config, MakemoreMLP, chunked_forward  # noqa: E402
from models.data import Vocab, build_dataset, load_words, split_words  # noqa: E402

NAMES_TXT = "/work/shared/data/names.txt"   # makemore's 32,033 names, if you have them
PARAMS = ["C", "W1", "b1", "W2", "b2", "bngain", "bnbias"]


# ----------------------------------------------------------------------------
# data and model: the lecture's, from models/makemore.py

def load_data(source=None, block_size=3) -> tuple:
    """(vocab, (Xtr, Ytr), (Xdev, Ydev)) as NumPy arrays: the lecture's 80/10/10 split of
    names.txt, or of the offline census names when names.txt is not there."""
    if source is None:
        source = NAMES_TXT if os.path.exists(NAMES_TXT) else "default"
    words = load_words(source)
    vocab = Vocab.from_words(words)
    train, dev, _ = split_words(words)
    Xtr, Ytr = build_dataset(train, block_size, vocab)     # (N, 3) contexts, (N,) next characters
    Xdev, Ydev = build_dataset(dev, block_size, vocab)
    return vocab, (Xtr.numpy(), Ytr.numpy()), (Xdev.numpy(), Ydev.numpy())


def make_model(vocab_size: int) -> tuple:
    """The lecture's network with 64 hidden units: (model, {name: parameter})."""
    model = MakemoreMLP(Config(vocab_size=vocab_size, n_hidden=64))
    return model, {name: getattr(model, name) for name in PARAMS}


# ----------------------------------------------------------------------------
# Exercise 1: the learner's backward pass, in plain NumPy, in the lecture's order and names

ROWS = ["logprobs", "probs", "counts_sum_inv", "counts_sum", "counts", "norm_logits", "logit_maxes", "logits",
        "h", "W2", "b2", "hpreact", "bngain", "bnbias", "bnraw", "bnvar_inv", "bnvar", "bndiff2", "bndiff",
        "bnmeani", "hprebn", "embcat", "W1", "b1", "emb", "C"]

# which gradients each one is computed from (to tell a row's own rounding from an inherited one)
UPSTREAM = {"probs": ["logprobs"], "counts_sum_inv": ["probs"], "counts_sum": ["counts_sum_inv"],
            "counts": ["probs", "counts_sum"], "norm_logits": ["counts"], "logit_maxes": ["norm_logits"],
            "logits": ["norm_logits", "logit_maxes"], "h": ["logits"], "W2": ["logits"], "b2": ["logits"],
            "hpreact": ["h"], "bngain": ["hpreact"], "bnbias": ["hpreact"], "bnraw": ["hpreact"],
            "bnvar_inv": ["bnraw"], "bnvar": ["bnvar_inv"], "bndiff2": ["bnvar"], "bndiff": ["bnraw", "bndiff2"],
            "bnmeani": ["bndiff"], "hprebn": ["bndiff", "bnmeani"], "embcat": ["hprebn"], "W1": ["hprebn"],
            "b1": ["hprebn"], "emb": ["embcat"], "C": ["emb"]}


def manual_backward(v: dict, Xb: np.ndarray, Yb: np.ndarray) -> dict:
    """d loss / d x for all 26 tensors, by hand. v maps names to NumPy arrays (forward values
    and parameters); the result maps the same names to gradients of the same shapes."""
    n = Xb.shape[0]
    C, W1, W2, bngain = v["C"], v["W1"], v["W2"], v["bngain"]
    emb, embcat, hprebn, bndiff, bndiff2 = v["emb"], v["embcat"], v["hprebn"], v["bndiff"], v["bndiff2"]
    bnvar, bnvar_inv, bnraw, h, logits = v["bnvar"], v["bnvar_inv"], v["bnraw"], v["h"], v["logits"]
    counts, counts_sum, counts_sum_inv, probs, logprobs = (v["counts"], v["counts_sum"], v["counts_sum_inv"],
                                                           v["probs"], v["logprobs"])

    # loss = -mean of logprobs[i, Yb[i]]: each picked entry gets -1/n, the rest nothing
    dlogprobs = np.zeros_like(logprobs)                                  # (32, 27)
    dlogprobs[np.arange(n), Yb] = -1.0 / n
    # logprobs = log(probs): d/dx log x = 1/x
    dprobs = (1.0 / probs) * dlogprobs                                   # (32, 27)
    # probs = counts * counts_sum_inv: counts_sum_inv (32, 1) was replicated across the 27
    # columns, so its gradient sums over them (the sum/replicate duality)
    dcounts_sum_inv = (counts * dprobs).sum(1, keepdims=True)            # (32, 1)
    dcounts = counts_sum_inv * dprobs                                    # (32, 27) first branch
    # counts_sum_inv = counts_sum ** -1
    dcounts_sum = (-counts_sum ** -2) * dcounts_sum_inv                  # (32, 1)
    # counts_sum = counts.sum(1): a sum replicates the gradient back (second branch)
    dcounts += np.ones_like(counts) * dcounts_sum                        # (32, 27)
    # counts = exp(norm_logits): d/dx e^x = e^x
    dnorm_logits = counts * dcounts                                      # (32, 27)
    # norm_logits = logits - logit_maxes (broadcast over columns: sum back)
    dlogits = dnorm_logits.copy()                                        # (32, 27)
    dlogit_maxes = (-dnorm_logits).sum(1, keepdims=True)                 # (32, 1) ~0: the max cancels out
    # logit_maxes = logits.max(1): the gradient flows to the position of each row's max
    onehot = np.eye(logits.shape[1], dtype=logits.dtype)[logits.argmax(1)]
    dlogits += onehot * dlogit_maxes                                     # (32, 27)
    # logits = h @ W2 + b2
    dh = dlogits @ W2.T                                                  # (32, 64)
    dW2 = h.T @ dlogits                                                  # (64, 27)
    db2 = dlogits.sum(0)                                                 # (27,)
    # h = tanh(hpreact): d/dx tanh x = 1 - tanh(x)^2
    dhpreact = (1.0 - h ** 2) * dh                                       # (32, 64)
    # hpreact = bngain * bnraw + bnbias (bngain, bnbias (1, 64) replicated over the batch)
    dbngain = (bnraw * dhpreact).sum(0, keepdims=True)                   # (1, 64)
    dbnraw = bngain * dhpreact                                           # (32, 64)
    dbnbias = dhpreact.sum(0, keepdims=True)                             # (1, 64)
    # bnraw = bndiff * bnvar_inv
    dbndiff = bnvar_inv * dbnraw                                         # (32, 64) first branch
    dbnvar_inv = (bndiff * dbnraw).sum(0, keepdims=True)                 # (1, 64)
    # bnvar_inv = (bnvar + 1e-5) ** -0.5
    dbnvar = (-0.5 * (bnvar + 1e-5) ** -1.5) * dbnvar_inv                # (1, 64)
    # bnvar = 1/(n-1) * bndiff2.sum(0)
    dbndiff2 = (1.0 / (n - 1)) * np.ones_like(bndiff2) * dbnvar          # (32, 64)
    # bndiff2 = bndiff ** 2 (second branch)
    dbndiff += (2 * bndiff) * dbndiff2                                   # (32, 64)
    # bndiff = hprebn - bnmeani (keepdims: the lecture's (64,) relied on torch's broadcasting ==)
    dhprebn = dbndiff.copy()                                             # (32, 64)
    dbnmeani = (-dbndiff).sum(0, keepdims=True)                          # (1, 64)
    # bnmeani = 1/n * hprebn.sum(0)
    dhprebn += 1.0 / n * (np.ones_like(hprebn) * dbnmeani)               # (32, 64)
    # hprebn = embcat @ W1 + b1
    dembcat = dhprebn @ W1.T                                             # (32, 30)
    dW1 = embcat.T @ dhprebn                                             # (30, 64)
    db1 = dhprebn.sum(0)                                                 # (64,)
    # embcat = emb.view(n, -1): a view's gradient is the same numbers, reshaped back
    demb = dembcat.reshape(emb.shape)                                    # (32, 3, 10)
    # emb = C[Xb]: indexing gathers rows, so its gradient scatter-adds them back (a row used
    # twice gets both contributions)
    dC = np.zeros_like(C)                                                # (27, 10)
    for k in range(Xb.shape[0]):
        for j in range(Xb.shape[1]):
            dC[Xb[k, j]] += demb[k, j]

    return dict(logprobs=dlogprobs, probs=dprobs, counts_sum_inv=dcounts_sum_inv, counts_sum=dcounts_sum,
                counts=dcounts, norm_logits=dnorm_logits, logit_maxes=dlogit_maxes, logits=dlogits, h=dh,
                W2=dW2, b2=db2, hpreact=dhpreact, bngain=dbngain, bnbias=dbnbias, bnraw=dbnraw,
                bnvar_inv=dbnvar_inv, bnvar=dbnvar, bndiff2=dbndiff2, bndiff=dbndiff, bnmeani=dbnmeani,
                hprebn=dhprebn, embcat=dembcat, W1=dW1, b1=db1, emb=demb, C=dC)


# why a row can differ in the last bits although the formula is right
WHY_TORCH = {
    "counts_sum": "NumPy's counts_sum**-2 (powf) and torch's (1/(x*x)) round differently",
    "hpreact": "torch's tanh backward kernel rounds g * (1 - y*y) differently (vectorised, fused)",
    "logit_maxes": "the true gradient is 0: both sides are sums of rounding errors",
}


def why(name, results, own_reasons) -> str:
    """Explain a row that is not exact: its own rounding, or one inherited from upstream."""
    if results[name].exact:
        return ""
    bad = [u for u in UPSTREAM.get(name, []) if not results[u].exact]
    if bad:
        return f"inherits d{bad[0]}'s last-bit difference (float32)"
    return own_reasons.get(name, "same math, rounded in a different order (float32 sums/products)")


def explain(result, reason: str) -> None:
    """Say why a row is only approximate (float32: the same math rounded in another order)."""
    if not result.exact:
        print(f"   (not bit-exact: {reason})")


def print_table(title, results, reasons):
    print(f"\n{title}")
    print(f"{'tensor':15s} | exact | approximate | {'maxdiff':9s} | why not exact")
    for r in results.values():
        print(f"{r.name:15s} | {str(r.exact):5s} | {str(r.approximate):11s} | {r.maxdiff:.3e} | "
              f"{why(r.name, results, reasons)}")


def exercise1(model, params, Xb, Yb) -> dict:
    """Forward in chunks (models.makemore.chunked_forward: the lecture's lines, each
    intermediate with retain_grad()), autograd backward, manual backward; compare all 26."""
    v = chunked_forward(model, Xb, Yb)
    v["loss"].backward()
    tensors = {**params, **v}
    arrays = {name: t.numpy() for name, t in tensors.items()}
    grads = manual_backward(arrays, Xb, Yb)
    results = {name: cmp(name, grads[name], tensors[name], verbose=False) for name in ROWS}
    print(f"loss {v['loss'].item():.6f}")
    print_table("Exercise 1: your gradients vs tensorgrad's autograd", results, {})
    out = {"tensorgrad": results, "loss": v["loss"].item(), "tensors": tensors, "grads": grads}
    if torch is not None:
        out["torch"] = exercise1_torch(params, Xb, Yb)
    return out


def exercise1_torch(params, Xb, Yb) -> dict:
    """The same forward in torch (the lecture, verbatim), and your formulas on torch's values."""
    p = {k: torch.tensor(t.numpy(), requires_grad=True) for k, t in params.items()}
    n = Xb.shape[0]
    Xt, Yt = torch.tensor(Xb), torch.tensor(Yb)
    v = {}
    v["emb"] = p["C"][Xt]
    v["embcat"] = v["emb"].view(n, -1)
    v["hprebn"] = v["embcat"] @ p["W1"] + p["b1"]
    v["bnmeani"] = 1 / n * v["hprebn"].sum(0, keepdim=True)
    v["bndiff"] = v["hprebn"] - v["bnmeani"]
    v["bndiff2"] = v["bndiff"] ** 2
    v["bnvar"] = 1 / (n - 1) * v["bndiff2"].sum(0, keepdim=True)
    v["bnvar_inv"] = (v["bnvar"] + 1e-5) ** -0.5
    v["bnraw"] = v["bndiff"] * v["bnvar_inv"]
    v["hpreact"] = p["bngain"] * v["bnraw"] + p["bnbias"]
    v["h"] = torch.tanh(v["hpreact"])
    v["logits"] = v["h"] @ p["W2"] + p["b2"]
    v["logit_maxes"] = v["logits"].max(1, keepdim=True).values
    v["norm_logits"] = v["logits"] - v["logit_maxes"]
    v["counts"] = v["norm_logits"].exp()
    v["counts_sum"] = v["counts"].sum(1, keepdims=True)
    v["counts_sum_inv"] = v["counts_sum"] ** -1
    v["probs"] = v["counts"] * v["counts_sum_inv"]
    v["logprobs"] = v["probs"].log()
    v["loss"] = -v["logprobs"][range(n), Yt].mean()
    for t in v.values():
        t.retain_grad()
    v["loss"].backward()
    tensors = {**p, **v}
    grads = manual_backward({k: t.detach().numpy() for k, t in tensors.items()}, Xb, Yb)
    results = {name: cmp(name, grads[name], tensors[name], verbose=False) for name in ROWS}
    print_table("Exercise 1: your gradients vs torch's autograd (your formulas on torch's forward values)",
                results, WHY_TORCH)
    return results


# ----------------------------------------------------------------------------
# Exercise 2: cross-entropy backward in one line

def softmax(x):
    """Row softmax in NumPy, the way F.softmax computes it."""
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def exercise2(ex1, Xb, Yb):
    n = Xb.shape[0]
    logits = ex1["tensors"]["logits"]
    # forward: one fused op instead of eight
    logits_leaf = tg.tensor(logits.numpy(), requires_grad=True)
    loss_fast = F.cross_entropy(logits_leaf, tg.tensor(Yb))
    print(f"\nExercise 2: loss_fast {loss_fast.item():.6f}  diff from the chunked loss "
          f"{abs(loss_fast.item() - ex1['loss']):.2e}")
    loss_fast.backward()
    # backward: dlogits = (softmax(logits) - onehot(Yb)) / n
    dlogits = softmax(logits.numpy())                                       # (32, 27)
    dlogits[np.arange(n), Yb] -= 1
    dlogits /= n
    r1 = cmp("logits", dlogits, logits)   # vs the gradient autograd found through the eight ops
    explain(r1, "autograd rounded at each of the eight chunked ops, the formula rounds once")
    r2 = cmp("logits(fused)", dlogits, logits_leaf)   # vs tensorgrad's fused F.cross_entropy rule
    explain(r2, "F.cross_entropy's rule computes this formula in another order (docs/ops.md)")
    return r1, r2


# ----------------------------------------------------------------------------
# Exercise 3: batch-norm backward in one line

def exercise3(ex1, Xb, params):
    n = Xb.shape[0]
    t = ex1["tensors"]
    hprebn, bngain, bnbias = t["hprebn"], params["bngain"], params["bnbias"]
    # forward: the lecture's one-liner (unbiased variance, as in exercise 1)
    hpreact_fast = (bngain * (hprebn - hprebn.mean(0, keepdim=True))
                    / (hprebn.var(0, keepdim=True, unbiased=True) + 1e-5).sqrt() + bnbias)
    print(f"\nExercise 3: max diff of hpreact_fast from the chunked hpreact "
          f"{np.abs(hpreact_fast.numpy() - t['hpreact'].numpy()).max():.2e}")
    # backward: dhprebn = bngain * bnvar_inv / n * (n*dhpreact - sum(dhpreact) - n/(n-1) * bnraw * sum(dhpreact * bnraw))
    dhpreact = t["hpreact"].grad
    bnvar_inv, bnraw = t["bnvar_inv"].numpy(), t["bnraw"].numpy()
    dhprebn = bngain.numpy() * bnvar_inv / n * (n * dhpreact - dhpreact.sum(0) - n / (n - 1) * bnraw
                                              * (dhpreact * bnraw).sum(0))   # (32, 64)
    r1 = cmp("hprebn", dhprebn, hprebn)
    explain(r1, "autograd rounded at each of the nine chunked ops, the formula rounds once")
    # the same formula is tensorgrad's fused F.batch_norm rule (correction=1: Bessel's, as here)
    x = tg.tensor(hprebn.numpy(), requires_grad=True)
    out = F.batch_norm(x, None, None, bngain.detach(), bnbias.detach(), training=True, correction=1)
    out.backward(dhpreact)
    r2 = cmp("hprebn(fused)", dhprebn, x)
    explain(r2, "F.batch_norm's rule computes this formula in another order, "
                "rearranged for speed (docs/ops.md)")
    return r1, r2


# ----------------------------------------------------------------------------
# Exercise 4: training with your own backward pass only

def split_loss(P, bnmean, bnvar, X, Y) -> float:
    """Mean loss over a whole split, batch norm using the calibrated statistics."""
    hprebn = P["C"][X].view(X.shape[0], -1) @ P["W1"] + P["b1"]                  # (N, 200)
    hpreact = P["bngain"] * (hprebn - bnmean) * (bnvar + 1e-5) ** -0.5 + P["bnbias"]
    logits = hpreact.tanh() @ P["W2"] + P["b2"]                                    # (N, 27)
    return F.cross_entropy(logits, tg.tensor(Y)).item()


def exercise4(vocab_size, Xtr, Ytr, Xdev, Ydev, steps, n_hidden=200, batch_size=32, seed=42, log_every=None):
    """The lecture's training loop: a fresh network (200 hidden units, as the lecture's
    exercise 4), forward with tensorgrad under no_grad (nothing recorded), backward with the
    formulas above, SGD update in place."""
    g = np.random.default_rng(seed)
    names = PARAMS
    model = MakemoreMLP(Config(vocab_size=vocab_size, n_hidden=n_hidden))
    p = {k: getattr(model, k).numpy().copy() for k in names}   # NumPy arrays, updated in place
    P = {k: tg.from_numpy(a) for k, a in p.items()}    # tensors sharing that memory
    n = batch_size
    log_every = log_every or max(1, steps // 10)
    losses = []
    t0 = time.time()
    with tg.no_grad():
        for i in range(steps):
            ix = g.integers(0, Xtr.shape[0], n)
            Xb, Yb = Xtr[ix], Ytr[ix]                                     # (32, 3), (32,)
            # forward (tensorgrad, nothing recorded)
            emb = P["C"][Xb]                                              # (32, 3, 10)
            embcat = emb.view(n, -1)                                      # (32, 30)
            hprebn = embcat @ P["W1"] + P["b1"]                           # (32, 200)
            bnmean = hprebn.mean(0, keepdim=True)                         # (1, 200)
            bnvar = hprebn.var(0, keepdim=True, unbiased=True)            # (1, 200)
            bnvar_inv = (bnvar + 1e-5) ** -0.5                            # (1, 200)
            bnraw = (hprebn - bnmean) * bnvar_inv                         # (32, 200)
            hpreact = P["bngain"] * bnraw + P["bnbias"]                   # (32, 200)
            h = hpreact.tanh()                                            # (32, 200)
            logits = h @ P["W2"] + P["b2"]                                # (32, 27)
            loss = F.cross_entropy(logits, tg.tensor(Yb))                 # ()
            # backward (yours, NumPy)
            h, bnraw, bnvar_inv, embcat = h.numpy(), bnraw.numpy(), bnvar_inv.numpy(), embcat.numpy()
            dlogits = softmax(logits.numpy())                                # (32, 27)
            dlogits[np.arange(n), Yb] -= 1
            dlogits /= n
            dh = dlogits @ p["W2"].T                                      # (32, 200)
            dW2 = h.T @ dlogits                                           # (200, 27)
            db2 = dlogits.sum(0)                                          # (27,)
            dhpreact = (1.0 - h ** 2) * dh                                # (32, 200)
            dbngain = (bnraw * dhpreact).sum(0, keepdims=True)            # (1, 200)
            dbnbias = dhpreact.sum(0, keepdims=True)                      # (1, 200)
            dhprebn = p["bngain"] * bnvar_inv / n * (n * dhpreact - dhpreact.sum(0) - n / (n - 1) * bnraw
                                                     * (dhpreact * bnraw).sum(0))   # (32, 200)
            dembcat = dhprebn @ p["W1"].T                                 # (32, 30)
            dW1 = embcat.T @ dhprebn                                      # (30, 200)
            db1 = dhprebn.sum(0)                                          # (200,)
            demb = dembcat.reshape(n, Xb.shape[1], -1)                    # (32, 3, 10)
            dC = np.zeros_like(p["C"])                                    # (27, 10)
            np.add.at(dC, Xb, demb)          # the double loop of exercise 1, in one call
            grads = {"C": dC, "W1": dW1, "b1": db1, "W2": dW2, "b2": db2, "bngain": dbngain, "bnbias": dbnbias}
            lr = 0.1 if i < 0.5 * steps else 0.01
            for k in names:
                p[k] += -lr * grads[k]
            losses.append(loss.item())
            if i % log_every == 0 or i == steps - 1:
                print(f"{i:7d}/{steps:7d}: {loss.item():.4f}")
    seconds = time.time() - t0

    # calibrate the batch norm: the mean and variance of the hidden pre-activations over the
    # whole training set replace the per-batch ones, so that single examples can be evaluated
    with tg.no_grad():
        hprebn = P["C"][Xtr].view(Xtr.shape[0], -1) @ P["W1"] + P["b1"]      # (N, 200)
        bnmean = hprebn.mean(0, keepdim=True)                                 # (1, 200)
        bnvar = hprebn.var(0, keepdim=True, unbiased=True)                    # (1, 200)
        train = split_loss(P, bnmean, bnvar, Xtr, Ytr)
        dev = split_loss(P, bnmean, bnvar, Xdev, Ydev)
    print(f"Exercise 4: {steps} steps in {seconds:.1f}s ({1000 * seconds / max(steps, 1):.2f} ms/step); "
          f"train loss {train:.4f}, val loss {dev:.4f}")
    return {"losses": losses, "train": train, "val": dev, "params": p}


# ----------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fast", action="store_true", help="a few training steps (for the tests)")
    ap.add_argument("--steps", type=int, default=None, help="training steps of exercise 4 (default 20000)")
    ap.add_argument("--data", default=None, help="a word list (default: names.txt if present, else census names)")
    args = ap.parse_args(argv)
    steps = args.steps if args.steps is not None else (50 if args.fast else 20000)

    vocab, (Xtr, Ytr), (Xdev, Ydev) = load_data(args.data)
    print(f"{len(Xtr)} training examples, vocabulary of {len(vocab)}")
    model, params = make_model(len(vocab))
    # one batch of 32, as in the lecture
    ix = np.random.default_rng(0).integers(0, Xtr.shape[0], 32)
    Xb, Yb = Xtr[ix], Ytr[ix]

    ex1 = exercise1(model, params, Xb, Yb)
    ex2 = exercise2(ex1, Xb, Yb)
    ex3 = exercise3(ex1, Xb, params)
    ex4 = exercise4(len(vocab), Xtr, Ytr, Xdev, Ydev, steps)
    return {"ex1": ex1, "ex2": ex2, "ex3": ex3, "ex4": ex4}


if __name__ == "__main__":
    main()
