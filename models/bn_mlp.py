"""The BatchNorm MLP of Karpathy's "Becoming a Backprop Ninja" (makemore part 4): Bengio et al. 2003
("A Neural Probabilistic Language Model") with batch normalization (Ioffe & Szegedy 2015,
https://arxiv.org/abs/1502.03167): embed block_size characters with C, concatenate,
Linear -> BatchNorm -> Tanh -> Linear, and predict the next character. With the lecture's parameter
names and init scales, its chunked forward pass (exercise 1) and BatchNorm calibration (exercise 4)."""
import numpy as np

import tensorgrad as tg
import tensorgrad.nn.functional as F
from tensorgrad import nn


class MakemoreMLP(nn.Module):
    """The lecture's MLP: C (vocab_size, n_embd), W1/b1 -> BatchNorm (bngain, bnbias) -> tanh -> W2/b2.
    Linear layers compute x @ W + b, W of shape (fan_in, fan_out), as in the lecture.
    config needs vocab_size, block_size, n_embd, n_hidden, bn_momentum and seed."""

    def __init__(self, config, generator: tg.Generator | None = None):
        super().__init__()
        g = generator or tg.Generator().manual_seed(config.seed)
        V, E, T, H = config.vocab_size, config.n_embd, config.block_size, config.n_hidden
        self.config = config
        self.C = _init(g, (V, E))                                               # (V, n_embd)
        self.W1 = _init(g, (E * T, H), scale=(5 / 3) / (E * T) ** 0.5)        # (block_size*n_embd, n_hidden)
        self.b1 = _init(g, (H,), scale=0.1)   # useless because of BN; kept, as in the lecture
        self.W2 = _init(g, (H, V), scale=0.1)                                   # (n_hidden, V)
        self.b2 = _init(g, (V,), scale=0.1)
        # the lecture initialises the BatchNorm parameters near 1 and 0, not at them: an
        # all-ones gain or all-zero bias could hide a mistake in a hand-written backward
        self.bngain = _init(g, (1, H), scale=0.1, shift=1.0)                    # (1, n_hidden)
        self.bnbias = _init(g, (1, H), scale=0.1)                               # (1, n_hidden)
        # running statistics for eval mode (calibrated on the training set at the end)
        self.register_buffer("bnmean_running", tg.zeros(1, H))                  # (1, n_hidden)
        self.register_buffer("bnvar_running", tg.ones(1, H))                    # (1, n_hidden)

    def forward(self, X):
        """X (B, block_size) character indices -> logits (B, vocab_size)."""
        with tg.name_scope("embedding"):
            emb = self.C[X]                                     # (B, block_size, n_embd)
            embcat = emb.reshape(emb.shape[0], -1)              # (B, block_size*n_embd)
        with tg.name_scope("linear1"):
            hprebn = embcat @ self.W1 + self.b1                 # (B, n_hidden)
        with tg.name_scope("batchnorm"):
            # one fused node (exercise 3); Bessel-corrected batch variance, as the lecture
            hpreact = F.batch_norm(hprebn, self.bnmean_running, self.bnvar_running, self.bngain, self.bnbias,
                                   training=self.training, momentum=self.config.bn_momentum, eps=1e-5,
                                   correction=1)                # (B, n_hidden)
        with tg.name_scope("tanh"):
            h = hpreact.tanh()                                  # (B, n_hidden)
        with tg.name_scope("linear2"):
            logits = h @ self.W2 + self.b2                      # (B, vocab_size)
        return logits

    def hidden_preactivation(self, X):
        """embcat @ W1 + b1 for a batch, without recording (for BatchNorm calibration)."""
        with tg.no_grad():
            emb = self.C[X]                                     # (B, block_size, n_embd)
            return emb.reshape(emb.shape[0], -1) @ self.W1 + self.b1   # (B, n_hidden)


def _init(g: tg.Generator, shape: tuple, scale: float = 1.0, shift: float = 0.0) -> tg.Tensor:
    """randn(shape) * scale + shift, a new parameter."""
    x = tg.randn(*shape, generator=g).numpy() * scale + shift
    return nn.Parameter(tg.tensor(x))


def chunked_forward(model: MakemoreMLP, Xb, Yb) -> dict:
    """Exercise 1's forward pass, broken into the lecture's small steps, with the lecture's
    arithmetic. Returns name -> tensor for every intermediate (emb ... loss), each with
    .name set and retain_grad() called, so that loss.backward() leaves a .grad on all of them."""
    C, W1, b1, W2, b2, bngain, bnbias = (model.C, model.W1, model.b1, model.W2, model.b2,
                                         model.bngain, model.bnbias)
    Yb = np.asarray(Yb)
    n = Yb.shape[0]
    with tg.name_scope("embedding"):
        emb = C[Xb]                                             # (n, block_size, n_embd)
        embcat = emb.reshape(emb.shape[0], -1)                  # (n, block_size*n_embd)
    with tg.name_scope("linear1"):
        hprebn = embcat @ W1 + b1                               # (n, n_hidden)
    with tg.name_scope("batchnorm"):
        bnmeani = 1 / n * hprebn.sum(0, keepdim=True)           # (1, n_hidden)
        bndiff = hprebn - bnmeani                               # (n, n_hidden)
        bndiff2 = bndiff ** 2
        bnvar = 1 / (n - 1) * bndiff2.sum(0, keepdim=True)      # (1, n_hidden) Bessel's correction: n-1
        bnvar_inv = (bnvar + 1e-5) ** -0.5
        bnraw = bndiff * bnvar_inv                              # (n, n_hidden)
        hpreact = bngain * bnraw + bnbias
    with tg.name_scope("tanh"):
        h = hpreact.tanh()
    with tg.name_scope("linear2"):
        logits = h @ W2 + b2                                    # (n, vocab_size)
    with tg.name_scope("cross_entropy"):
        logit_maxes = logits.max(1, keepdim=True).values        # (n, 1)
        norm_logits = logits - logit_maxes                      # (n, vocab_size) subtract max for stability
        counts = norm_logits.exp()
        counts_sum = counts.sum(1, keepdim=True)                # (n, 1)
        counts_sum_inv = counts_sum ** -1   # the lecture's choice over 1.0 / counts_sum
        probs = counts * counts_sum_inv                         # (n, vocab_size)
        logprobs = probs.log()
        loss = -logprobs[np.arange(n), Yb].mean()               # ()
    out = dict(emb=emb, embcat=embcat, hprebn=hprebn, bnmeani=bnmeani, bndiff=bndiff, bndiff2=bndiff2,
               bnvar=bnvar, bnvar_inv=bnvar_inv, bnraw=bnraw, hpreact=hpreact, h=h, logits=logits,
               logit_maxes=logit_maxes, norm_logits=norm_logits, counts=counts, counts_sum=counts_sum,
               counts_sum_inv=counts_sum_inv, probs=probs, logprobs=logprobs, loss=loss)
    for name, t in out.items():
        t.name = name
        t.retain_grad()
    return out


def calibrate_batchnorm(model: MakemoreMLP, X, chunk: int = 50000) -> None:
    """Exercise 4's last step: set the running BatchNorm statistics to the mean and the
    (unbiased) variance of the hidden pre-activations over the whole of X."""
    X = np.asarray(X)
    n, total = len(X), 0.0
    for i in range(0, n, chunk):
        total = total + model.hidden_preactivation(X[i:i + chunk]).numpy().sum(0, keepdims=True, dtype=np.float64)
    mean = total / n                                            # (1, n_hidden)
    sq = 0.0
    for i in range(0, n, chunk):
        diff = model.hidden_preactivation(X[i:i + chunk]).numpy() - mean
        sq = sq + (diff * diff).sum(0, keepdims=True)
    with tg.no_grad():   # in place, as torch's copy_: the buffers keep their dtype
        model.bnmean_running.copy_(tg.tensor(mean))
        model.bnvar_running.copy_(tg.tensor(sq / (n - 1)))
