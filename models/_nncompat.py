"""TEMPORARY (removed once branches nn-optim and api-ops are merged): minimal stand-ins for
nn.Parameter, register_buffer, ModuleList, ModuleDict, LayerNorm, tg.tril and Tensor.split."""
import numpy as np

import tensorgrad as tg
from tensorgrad import nn


def install():
    if not hasattr(nn, "Parameter"):
        def Parameter(t, requires_grad=True):
            t.requires_grad = requires_grad
            return t
        nn.Parameter = Parameter
    if not hasattr(nn.Module, "register_buffer"):
        nn.Module.register_buffer = lambda self, name, t, persistent=True: setattr(self, name, t)
        nn.Module.__init__ = lambda self: None
    if not hasattr(nn, "ModuleList"):
        class ModuleList(nn.Module):
            def __init__(self, mods=()):
                object.__setattr__(self, "mods", list(mods))
                for i, m in enumerate(self.mods):
                    m._adopt(str(i))

            def named_children(self):
                return ((str(i), m) for i, m in enumerate(self.mods))

            def __iter__(self):
                return iter(self.mods)

            def __getitem__(self, i):
                return self.mods[i]

            def __len__(self):
                return len(self.mods)
        nn.ModuleList = ModuleList
    if not hasattr(nn, "ModuleDict"):
        class ModuleDict(nn.Module):
            def __init__(self, mods=None):
                for k, m in (mods or {}).items():
                    setattr(self, k, m)
        nn.ModuleDict = ModuleDict
    if not hasattr(nn, "LayerNorm"):
        class LayerNorm(nn.Module):
            def __init__(self, n, eps=1e-5):
                self.eps = eps
                self.weight = tg.ones(n, requires_grad=True)
                self.bias = tg.zeros(n, requires_grad=True)

            def forward(self, x):
                mu = x.mean(-1, keepdim=True)
                d = x - mu
                var = (d * d).mean(-1, keepdim=True)
                return d * (var + self.eps) ** -0.5 * self.weight + self.bias
        nn.LayerNorm = LayerNorm
    if not hasattr(tg, "tril"):
        tg.tril = lambda t, diagonal=0: tg.tensor(np.tril(t.numpy(), diagonal))
    if not hasattr(tg.Tensor, "split"):
        def split(self, size, dim=0):
            n = self.shape[dim]
            idx = [slice(None)] * self.ndim
            out = []
            for a in range(0, n, size):
                idx[dim] = slice(a, a + size)
                out.append(self[tuple(idx)])
            return tuple(out)
        tg.Tensor.split = split
