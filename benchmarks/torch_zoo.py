"""The zoo's torch twins: the same networks as models/*.py, in torch, with the same parameter and
buffer names, so that a state dict moves between them with scripts/from_torch.py. The makemore
types have makemore.py's structure (its module names, so makemore.py's model.pt files load); the
lecture types are the lectures' hand-written layers as torch modules (their BatchNorm normalises
with the unbiased batch variance, unlike torch.nn.BatchNorm1d). Used by the parity tests and by
benchmarks/zoo.py; needs torch."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


# ----------------------------------------------------------------------------
# makemore.py's types

class Bigram(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.logits = nn.Parameter(torch.zeros(config.vocab_size, config.vocab_size))

    def forward(self, idx):
        return self.logits[idx]                                   # (B, T, V)


class MLP(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.block_size, self.vocab_size = config.block_size, config.vocab_size
        self.wte = nn.Embedding(config.vocab_size + 1, config.n_embd)
        self.mlp = nn.Sequential(nn.Linear(config.block_size * config.n_embd, config.n_embd2), nn.Tanh(),
                                 nn.Linear(config.n_embd2, config.vocab_size))

    def forward(self, idx):
        embs = []
        for _ in range(self.block_size):
            embs.append(self.wte(idx))                            # (B, T, n_embd)
            idx = torch.roll(idx, 1, 1).clone()
            idx[:, 0] = self.vocab_size                           # <BLANK>
        return self.mlp(torch.cat(embs, -1))                      # (B, T, V)


class RNNCell(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.xh_to_h = nn.Linear(config.n_embd + config.n_embd2, config.n_embd2)

    def forward(self, xt, hprev):
        return torch.tanh(self.xh_to_h(torch.cat([xt, hprev], 1)))


class GRUCell(nn.Module):
    def __init__(self, config):
        super().__init__()
        n = config.n_embd + config.n_embd2
        self.xh_to_z = nn.Linear(n, config.n_embd2)
        self.xh_to_r = nn.Linear(n, config.n_embd2)
        self.xh_to_hbar = nn.Linear(n, config.n_embd2)

    def forward(self, xt, hprev):
        xh = torch.cat([xt, hprev], 1)
        r = torch.sigmoid(self.xh_to_r(xh))
        hbar = torch.tanh(self.xh_to_hbar(torch.cat([xt, r * hprev], 1)))
        z = torch.sigmoid(self.xh_to_z(xh))
        return (1 - z) * hprev + z * hbar


class RNN(nn.Module):
    def __init__(self, config, cell_type="rnn"):
        super().__init__()
        self.start = nn.Parameter(torch.zeros(1, config.n_embd2))
        self.wte = nn.Embedding(config.vocab_size, config.n_embd)
        self.cell = RNNCell(config) if cell_type == "rnn" else GRUCell(config)
        self.lm_head = nn.Linear(config.n_embd2, config.vocab_size)

    def forward(self, idx):
        emb = self.wte(idx)
        h = self.start.expand(idx.shape[0], -1)
        hiddens = []
        for t in range(idx.shape[1]):
            h = self.cell(emb[:, t, :], h)
            hiddens.append(h)
        return self.lm_head(torch.stack(hiddens, 1))


class CausalBoW(nn.Module):
    def __init__(self, config):
        super().__init__()
        bs = config.block_size
        self.register_buffer("bias", torch.tril(torch.ones(bs, bs)).view(1, bs, bs))

    def forward(self, x):
        B, T, C = x.shape
        att = torch.zeros(B, T, T, dtype=x.dtype).masked_fill(self.bias[:, :T, :T] == 0, float("-inf"))
        return F.softmax(att, dim=-1) @ x


class BoWBlock(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.cbow = CausalBoW(config)
        self.mlp = nn.ModuleDict(dict(c_fc=nn.Linear(config.n_embd, config.n_embd2),
                                      c_proj=nn.Linear(config.n_embd2, config.n_embd)))

    def forward(self, x):
        x = x + self.cbow(x)
        return x + self.mlp.c_proj(torch.tanh(self.mlp.c_fc(x)))


class BoW(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.wte = nn.Embedding(config.vocab_size, config.n_embd)
        self.wpe = nn.Embedding(config.block_size, config.n_embd)
        self.context_block = BoWBlock(config)
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size)

    def forward(self, idx):
        pos = torch.arange(idx.shape[1]).unsqueeze(0)
        return self.lm_head(self.context_block(self.wte(idx) + self.wpe(pos)))


class NewGELU(nn.Module):
    def forward(self, x):
        return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class CausalSelfAttention(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd)
        self.c_proj = nn.Linear(config.n_embd, config.n_embd)
        bs = config.block_size
        self.register_buffer("bias", torch.tril(torch.ones(bs, bs)).view(1, 1, bs, bs))
        self.n_head, self.n_embd = config.n_head, config.n_embd

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        q, k, v = (a.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for a in (q, k, v))
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.shape[-1]))
        att = F.softmax(att.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf")), dim=-1)
        return self.c_proj((att @ v).transpose(1, 2).contiguous().view(B, T, C))


class Block(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd)
        self.mlp = nn.ModuleDict(dict(c_fc=nn.Linear(config.n_embd, 4 * config.n_embd),
                                      c_proj=nn.Linear(4 * config.n_embd, config.n_embd), act=NewGELU()))

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp.c_proj(self.mlp.act(self.mlp.c_fc(self.ln_2(x))))


class Transformer(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(config.vocab_size, config.n_embd), wpe=nn.Embedding(config.block_size, config.n_embd),
            h=nn.ModuleList([Block(config) for _ in range(config.n_layer)]), ln_f=nn.LayerNorm(config.n_embd)))
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)

    def forward(self, idx):
        pos = torch.arange(idx.shape[1]).unsqueeze(0)
        x = self.transformer.wte(idx) + self.transformer.wpe(pos)
        for block in self.transformer.h:
            x = block(x)
        return self.lm_head(self.transformer.ln_f(x))


# ----------------------------------------------------------------------------
# the lectures' types

class LectureBatchNorm(nn.Module):
    """The lectures' BatchNorm1d: over dim 0 of (B, C) or dims (0, 1) of (B, T, C), unbiased variance."""

    def __init__(self, dim, momentum=0.1, eps=1e-5):
        super().__init__()
        self.momentum, self.eps = momentum, eps
        self.weight = nn.Parameter(torch.ones(dim))
        self.bias = nn.Parameter(torch.zeros(dim))
        self.register_buffer("running_mean", torch.zeros(dim))
        self.register_buffer("running_var", torch.ones(dim))
        self.register_buffer("num_batches_tracked", torch.tensor(0))

    def forward(self, x):
        if self.training:
            dims = tuple(range(x.ndim - 1))
            mean, var = x.mean(dims), x.var(dims)
            with torch.no_grad():
                self.num_batches_tracked += 1
                self.running_mean.mul_(1 - self.momentum).add_(self.momentum * mean)
                self.running_var.mul_(1 - self.momentum).add_(self.momentum * var)
        else:
            mean, var = self.running_mean, self.running_var
        return self.weight * (x - mean) / torch.sqrt(var + self.eps) + self.bias


class BatchNormMLP(nn.Module):
    """Part 4's MLP with the lecture's raw parameters (x @ W + b)."""

    def __init__(self, config):
        super().__init__()
        V, E, T, H = config.vocab_size, config.n_embd, config.block_size, config.n_hidden
        self.momentum = config.bn_momentum
        self.C = nn.Parameter(torch.randn(V, E))
        self.W1 = nn.Parameter(torch.randn(E * T, H) * (5 / 3) / (E * T) ** 0.5)
        self.b1 = nn.Parameter(torch.randn(H) * 0.1)
        self.W2 = nn.Parameter(torch.randn(H, V) * 0.1)
        self.b2 = nn.Parameter(torch.randn(V) * 0.1)
        self.bngain = nn.Parameter(torch.randn(1, H) * 0.1 + 1.0)
        self.bnbias = nn.Parameter(torch.randn(1, H) * 0.1)
        self.register_buffer("bnmean_running", torch.zeros(1, H))
        self.register_buffer("bnvar_running", torch.ones(1, H))

    def forward(self, X):
        h = self.C[X].view(X.shape[0], -1) @ self.W1 + self.b1
        if self.training:
            mean, var = h.mean(0, keepdim=True), h.var(0, keepdim=True)
            with torch.no_grad():
                self.bnmean_running.mul_(1 - self.momentum).add_(self.momentum * mean)
                self.bnvar_running.mul_(1 - self.momentum).add_(self.momentum * var)
        else:
            mean, var = self.bnmean_running, self.bnvar_running
        h = self.bngain * (h - mean) * (var + 1e-5) ** -0.5 + self.bnbias
        return torch.tanh(h) @ self.W2 + self.b2


def _linear(fan_in, fan_out, bias):
    layer = nn.Linear(fan_in, fan_out, bias=bias)
    with torch.no_grad():
        layer.weight.copy_(torch.randn(fan_out, fan_in) / fan_in ** 0.5)
        if bias:
            layer.bias.zero_()
    return layer


class DeepBatchNormMLP(nn.Module):
    def __init__(self, config):
        super().__init__()
        V, E, T, H, m = config.vocab_size, config.n_embd, config.block_size, config.n_hidden, config.bn_momentum
        self.C = nn.Parameter(torch.randn(V, E))
        layers = []
        for fan_in in [E * T] + [H] * 4:
            layers += [_linear(fan_in, H, False), LectureBatchNorm(H, m), nn.Tanh()]
        layers += [_linear(H, V, False), LectureBatchNorm(V, m)]
        self.layers = nn.Sequential(*layers)
        with torch.no_grad():
            self.layers[-1].weight *= 0.1

    def forward(self, X):
        return self.layers(self.C[X].view(X.shape[0], -1))


class FlattenConsecutive(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.n = n

    def forward(self, x):
        B, T, C = x.shape
        x = x.reshape(B, T // self.n, C * self.n)
        return x.squeeze(1) if x.shape[1] == 1 else x


class WaveNet(nn.Module):
    def __init__(self, config):
        super().__init__()
        V, E, H, m = config.vocab_size, config.n_embd, config.n_hidden, config.bn_momentum
        emb = nn.Embedding(V, E)
        self.layers = nn.Sequential(
            emb,
            FlattenConsecutive(2), _linear(E * 2, H, False), LectureBatchNorm(H, m), nn.Tanh(),
            FlattenConsecutive(2), _linear(H * 2, H, False), LectureBatchNorm(H, m), nn.Tanh(),
            FlattenConsecutive(2), _linear(H * 2, H, False), LectureBatchNorm(H, m), nn.Tanh(),
            _linear(H, V, True))
        with torch.no_grad():
            self.layers[-1].weight *= 0.1

    def forward(self, X):
        return self.layers(X)


def build(config) -> nn.Module:
    """The torch twin of config.type (initialised from torch's global generator)."""
    makers = {"bigram": Bigram, "mlp": MLP, "rnn": lambda c: RNN(c, "rnn"), "gru": lambda c: RNN(c, "gru"),
              "bow": BoW, "transformer": Transformer, "bn-mlp": BatchNormMLP, "deep-bn": DeepBatchNormMLP,
              "wavenet": WaveNet}
    return makers[config.type](config)


def loss_of(model, X, Y):
    logits = model(X)
    if logits.ndim == 3:
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), Y.reshape(-1), ignore_index=-1)
    return F.cross_entropy(logits, Y)


def make_optimizer(config, params):
    if config.optimizer == "sgd":
        return torch.optim.SGD(params, lr=config.lr, weight_decay=config.weight_decay)
    if config.optimizer == "adam":
        return torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay)
    return torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay, betas=(0.9, 0.99), eps=1e-8)
