"""Layers and optimizers built on tensorgrad, torch.nn-like and small.

A Module finds its state by looking at its attributes: a leaf Tensor that requires grad
is a parameter, a leaf Tensor that does not is a buffer (state saved with the model, such as
BatchNorm's running statistics), a Module (or a list of them) is a child. Tensors a forward
keeps on the module (makemore part 3's `self.out = x.tanh()`, to plot activations) are
neither: they are results of ops (not leaves), or were assigned while forward ran.

Layers follow torch.nn: `Linear.weight` has shape (out_features, in_features) and the layer
computes F.linear(x, W, b) = x @ W.T + b, so torch state dicts load as they are.
(models/makemore.py keeps the lecture's raw parameters, W1 of shape (in, out) and x @ W1.)
"""
import math
import sys

import numpy as np

from . import functional as F
from .creation import Generator, ones, rand, randn, zeros
from .tensor import Tensor, name_scope

# `import tensorgrad.nn.functional as F`, as torch users write it
functional = F
sys.modules[__name__ + ".functional"] = functional


# ----------------------------------------------------------------------------
# Module: parameters, buffers and children found from the attributes

class Module:
    """Base class of layers and models: parameters(), train()/eval(), state_dict()."""

    training = True
    _name = None                  # the attribute name under which a parent holds this module
    _in_forward = False           # True while this module's forward runs
    _activations = frozenset()    # attributes assigned a Tensor during forward: not state

    def __setattr__(self, name, value):
        # a tensor kept by forward is an activation, even a leaf one (made under no_grad)
        if self._in_forward and isinstance(value, Tensor):
            object.__setattr__(self, "_activations", self._activations | {name})
        elif name in self._activations:
            object.__setattr__(self, "_activations", self._activations - {name})
        # name what is assigned, so that error messages and drawings can say which tensor it is
        if isinstance(value, Module):
            value._adopt(name)
        elif isinstance(value, (list, tuple)):
            for i, m in enumerate(value):
                if isinstance(m, Module):
                    m._adopt(f"{name}.{i}")
        elif self._is_state(name, value):
            value.name = name
        object.__setattr__(self, name, value)

    def _is_state(self, name: str, value) -> bool:
        """Is this attribute a parameter or buffer: a leaf tensor that forward did not assign?"""
        return isinstance(value, Tensor) and value.is_leaf and name not in self._activations

    def _adopt(self, name: str) -> None:
        """Take the name a parent holds this module under, and prefix its tensors' names with it."""
        object.__setattr__(self, "_name", name)
        for sub, t in self._named_tensors():
            t.name = f"{name}.{sub}"

    def __call__(self, *args, **kwargs):
        outer = self._in_forward
        object.__setattr__(self, "_in_forward", True)
        try:
            with name_scope(self._name or type(self).__name__):
                return self.forward(*args, **kwargs)
        finally:
            object.__setattr__(self, "_in_forward", outer)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} has no forward()")

    # --- walking the tree --------------------------------------------------
    def named_children(self):
        """(name, module) for each direct child; lists of modules give names 0, 1, ..."""
        for name, value in vars(self).items():
            if isinstance(value, Module):
                yield name, value
            elif isinstance(value, (list, tuple)):
                for i, m in enumerate(value):
                    if isinstance(m, Module):
                        yield f"{name}.{i}", m

    def children(self):
        return [m for _, m in self.named_children()]

    def named_modules(self, prefix: str = ""):
        """(dotted name, module) for this module ('' ) and every module below it."""
        yield prefix, self
        for name, child in self.named_children():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self):
        return [m for _, m in self.named_modules()]

    def _named_tensors(self, prefix: str = ""):
        """(dotted name, tensor) for every parameter and buffer, in attribute order."""
        for name, value in vars(self).items():
            if self._is_state(name, value):
                yield (f"{prefix}{name}", value)
        for name, child in self.named_children():
            yield from child._named_tensors(f"{prefix}{name}.")

    def named_parameters(self):
        """(dotted name, parameter): the leaf tensors that require grad, e.g. ('0.weight', W)."""
        seen = set()
        for name, t in self._named_tensors():
            if t.requires_grad and id(t) not in seen:
                seen.add(id(t))
                yield name, t

    def parameters(self) -> list:
        return [p for _, p in self.named_parameters()]

    def named_buffers(self):
        """(dotted name, buffer): leaf tensors kept with the model that are not trained."""
        return ((name, t) for name, t in self._named_tensors() if not t.requires_grad)

    def buffers(self) -> list:
        return [b for _, b in self.named_buffers()]

    # --- modes and gradients ---------------------------------------------
    def train(self, mode: bool = True) -> "Module":
        """Training mode (BatchNorm uses batch statistics); returns self."""
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self) -> "Module":
        """Evaluation mode (BatchNorm uses its running statistics); returns self."""
        return self.train(False)

    def zero_grad(self) -> None:
        """Forget the gradients (set them to None, as torch does by default)."""
        for p in self.parameters():
            p.grad = None

    def to(self, dtype) -> "Module":
        """Cast every floating parameter and buffer to dtype, in place; returns self."""
        for _, t in self._named_tensors():
            if t.dtype.kind == "f":
                t.data = t.numpy().astype(dtype)
                t.grad = None
        return self

    def float(self) -> "Module":
        return self.to(np.float32)

    def double(self) -> "Module":
        return self.to(np.float64)

    # --- saving and loading ----------------------------------------------
    def state_dict(self) -> dict:
        """Dotted name -> a copy of the array, for every parameter and buffer."""
        return {name: t.numpy().copy() for name, t in self._named_tensors()}

    def load_state_dict(self, state: dict, strict: bool = True) -> None:
        """Copy arrays into the parameters and buffers (cast to their dtypes). Checks every
        key and shape first, so that a bad state changes nothing."""
        own = dict(self._named_tensors())
        missing = [k for k in own if k not in state]
        unexpected = [k for k in state if k not in own]
        if strict and (missing or unexpected):
            parts = []
            if missing:
                parts.append(f"missing keys {missing}")
            if unexpected:
                parts.append(f"unexpected keys {unexpected}")
            raise KeyError(f"load_state_dict for {type(self).__name__}: " + "; ".join(parts))
        for k, t in own.items():
            if k in state and np.shape(state[k]) != t.shape:
                raise ValueError(f"load_state_dict for {type(self).__name__}: '{k}' has shape "
                                 f"{np.shape(state[k])} in the state, but {t.shape} in the model")
        for k, t in own.items():
            if k in state:
                t.data = np.array(state[k], dtype=t.dtype)
                t.grad = None

    def __repr__(self):
        lines = [f"  ({name}): " + repr(m).replace("\n", "\n  ") for name, m in self.named_children()]
        return f"{type(self).__name__}({self.extra_repr()})" if not lines else \
            f"{type(self).__name__}(\n" + "\n".join(lines) + "\n)"

    def extra_repr(self) -> str:
        return ""


# ----------------------------------------------------------------------------
# layers

class Embedding(Module):
    """A table of num_embeddings vectors of size embedding_dim, looked up by index (N(0, 1) init)."""

    def __init__(self, num_embeddings: int, embedding_dim: int, generator: Generator | None = None, dtype=None):
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.weight = randn(num_embeddings, embedding_dim, generator=generator, dtype=dtype, requires_grad=True)

    def forward(self, idx):
        return self.weight[idx]   # (*idx.shape, embedding_dim)

    def extra_repr(self):
        return f"{self.num_embeddings}, {self.embedding_dim}"


class Linear(Module):
    """y = x @ W.T + b, as torch.nn.Linear: W of shape (out_features, in_features), b (out_features,),
    both initialised U(-1/sqrt(in_features), 1/sqrt(in_features)) as torch's default."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 generator: Generator | None = None, dtype=None):
        self.in_features, self.out_features = in_features, out_features
        bound = 1 / math.sqrt(in_features)
        self.weight = _uniform((out_features, in_features), bound, generator, dtype)   # (out, in)
        self.bias = _uniform((out_features,), bound, generator, dtype) if bias else None

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)   # (N, out_features)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


def _uniform(shape: tuple, bound: float, generator: Generator | None, dtype) -> Tensor:
    """A new leaf that requires grad, drawn from U(-bound, bound)."""
    t = rand(*shape, generator=generator, dtype=dtype, requires_grad=True)
    t.data = (2 * t.numpy() - 1) * t.dtype.type(bound)
    return t


class BatchNorm1d(Module):
    """Batch normalization (Ioffe & Szegedy 2015) over (N, C) inputs, as torch.nn.BatchNorm1d.

    Training: normalise with the batch statistics and update running_mean/running_var
    (running = (1 - momentum) * running + momentum * batch, the running variance unbiased).
    Eval: normalise with the running statistics. unbiased=True normalises with the
    Bessel-corrected batch variance, 1/(n-1), as the lecture does; the default is torch's 1/n."""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1, affine: bool = True,
                 unbiased: bool = False, dtype=None):
        self.num_features, self.eps, self.momentum, self.unbiased = num_features, eps, momentum, unbiased
        self.weight = ones(num_features, dtype=dtype, requires_grad=True) if affine else None
        self.bias = zeros(num_features, dtype=dtype, requires_grad=True) if affine else None
        self.running_mean = zeros(num_features, dtype=dtype)
        self.running_var = ones(num_features, dtype=dtype)

    def forward(self, x):
        if self.training and x.ndim == 2 and x.shape[0] < 2:   # torch: "Expected more than 1 value per channel"
            raise ValueError(f"BatchNorm1d({self.num_features}): a batch of {x.shape[0]} is too small in training "
                             "mode (the batch variance needs more than 1 value per channel); call eval() to "
                             "normalise single examples with the running statistics")
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, training=self.training,
                            momentum=self.momentum, eps=self.eps, correction=1 if self.unbiased else 0)  # (N, C)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.weight is not None}, unbiased={self.unbiased}")


class Tanh(Module):
    """tanh, elementwise."""

    def forward(self, x):
        return x.tanh()


class Flatten(Module):
    """Flatten dims start_dim..end_dim into one (by default all but the batch dim)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Sequential(Module):
    """Layers applied one after the other; their parameters are named 0.weight, 1.weight, ..."""

    def __init__(self, *layers: Module):
        object.__setattr__(self, "layers", list(layers))
        for i, layer in enumerate(self.layers):
            layer._adopt(str(i))

    def named_children(self):
        return ((str(i), layer) for i, layer in enumerate(self.layers))

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def __getitem__(self, i):
        return self.layers[i]

    def __len__(self):
        return len(self.layers)

    def __iter__(self):
        return iter(self.layers)


# ----------------------------------------------------------------------------
# optimizers: torch.optim's update rules, on the arrays

class Optimizer:
    """Holds the parameters; step() updates them from their .grad (parameters without one are skipped)."""

    def __init__(self, params, lr: float):
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        self.lr = lr
        self.state = [{} for _ in self.params]   # per parameter: name -> ndarray

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def state_dict(self) -> dict:
        """'{i}.{name}' -> array for every parameter's state (empty for plain SGD)."""
        return {f"{i}.{k}": np.array(v) for i, s in enumerate(self.state) for k, v in s.items()}

    def load_state_dict(self, state: dict) -> None:
        new = [{} for _ in self.params]
        for key, value in state.items():
            i, _, k = key.partition(".")
            if not i.isdigit() or int(i) >= len(self.params):
                raise KeyError(f"{type(self).__name__}.load_state_dict: unexpected key '{key}'")
            p = self.params[int(i)]
            if k != "step" and np.shape(value) != p.shape:
                raise ValueError(f"{type(self).__name__}.load_state_dict: '{key}' has shape {np.shape(value)}, "
                                 f"but parameter {i} has shape {p.shape}")
            new[int(i)][k] = np.array(value, dtype=p.dtype if k != "step" else np.int64)
        self.state = new


class SGD(Optimizer):
    """torch.optim.SGD: g = grad + weight_decay * p; with momentum, buf = momentum * buf + (1 - dampening) * g
    (buf = g on the first step) and g = buf (or g + momentum * buf, nesterov); then p -= lr * g."""

    def __init__(self, params, lr: float = 0.1, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False):
        super().__init__(params, lr)
        self.momentum, self.dampening, self.weight_decay, self.nesterov = momentum, dampening, weight_decay, nesterov

    def step(self) -> None:
        for p, state in zip(self.params, self.state):
            if p.grad is None:
                continue
            g, w = p.grad.numpy(), p.numpy()        # the arrays; updated in place below
            if self.weight_decay:
                g = g + self.weight_decay * w
            if self.momentum:
                buf = state.get("momentum_buffer")
                if buf is None:
                    buf = state["momentum_buffer"] = g.copy()
                else:
                    buf *= self.momentum
                    buf += (1 - self.dampening) * g
                g = g + self.momentum * buf if self.nesterov else buf
            w -= self.lr * g
            p._bump()


class Adam(Optimizer):
    """torch.optim.Adam (Kingma & Ba 2014), weight decay added to the gradient (L2)."""

    decoupled = False

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.0):
        super().__init__(params, lr)
        self.betas, self.eps, self.weight_decay = tuple(betas), eps, weight_decay

    def step(self) -> None:
        b1, b2 = self.betas
        for p, state in zip(self.params, self.state):
            if p.grad is None:
                continue
            g, w = p.grad.numpy(), p.numpy()
            if self.weight_decay and self.decoupled:
                w *= 1 - self.lr * self.weight_decay         # AdamW: shrink the weights directly
            elif self.weight_decay:
                g = g + self.weight_decay * w                # Adam: L2 penalty in the gradient
            if not state:
                state["step"] = np.array(0, np.int64)
                state["exp_avg"] = np.zeros_like(w)
                state["exp_avg_sq"] = np.zeros_like(w)
            state["step"] += 1
            t = int(state["step"])
            m, v = state["exp_avg"], state["exp_avg_sq"]
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            denom = np.sqrt(v) / math.sqrt(1 - b2 ** t) + self.eps
            w -= (self.lr / (1 - b1 ** t)) * (m / denom)
            p._bump()


class AdamW(Adam):
    """torch.optim.AdamW (Loshchilov & Hutter 2019): Adam with decoupled weight decay."""

    decoupled = True

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.01):
        super().__init__(params, lr, betas, eps, weight_decay)


# ----------------------------------------------------------------------------
# convolution and pooling layers (issue 10, item 9; added by api-ops: the rest of this file is nn's)

class _ConvNd(Module):
    """Shared by Conv1d and Conv2d: weight (out, in / groups, *kernel) and bias (out,), both
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = in / groups * prod(kernel), as torch's default."""

    nd = 0

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 generator: Generator | None = None, dtype=None):
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"{type(self).__name__}: in_channels ({in_channels}) and out_channels ({out_channels}) "
                             f"must be divisible by groups ({groups})")
        if padding_mode not in ("zeros", "reflect", "replicate", "circular"):
            raise ValueError(f"{type(self).__name__}: unknown padding_mode {padding_mode!r}")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = F._tuple(kernel_size, self.nd, type(self).__name__)
        self.stride, self.dilation = F._tuple(stride, self.nd, "stride"), F._tuple(dilation, self.nd, "dilation")
        self.padding = padding if isinstance(padding, str) else F._tuple(padding, self.nd, "padding")
        self.padding_mode = padding_mode
        bound = 1 / math.sqrt(in_channels // groups * math.prod(self.kernel_size))
        self.weight = _uniform((out_channels, in_channels // groups) + self.kernel_size, bound, generator, dtype)
        self.bias = _uniform((out_channels,), bound, generator, dtype) if bias else None

    def forward(self, x):
        conv = F.conv1d if self.nd == 1 else F.conv2d
        if self.padding_mode == "zeros" or isinstance(self.padding, str):
            return conv(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)
        pads = tuple(p for size in reversed(self.padding) for p in (size, size))
        x = F.pad(x, pads, mode=self.padding_mode)
        return conv(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)   # (N, out, *L_out)

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, dilation={self.dilation}, groups={self.groups}, bias={self.bias is not None}")


class Conv1d(_ConvNd):
    """1-D convolution over (N, C_in, L) (or (C_in, L)), as torch.nn.Conv1d."""
    nd = 1


class Conv2d(_ConvNd):
    """2-D convolution over (N, C_in, H, W) (or (C_in, H, W)), as torch.nn.Conv2d."""
    nd = 2


class _Pool(Module):
    def __init__(self, kernel_size, stride=None, padding=0, **options):
        self.kernel_size, self.stride, self.padding, self.options = kernel_size, stride, padding, options

    def extra_repr(self):
        extra = "".join(f", {k}={v}" for k, v in self.options.items())
        stride = self.stride or self.kernel_size
        return f"kernel_size={self.kernel_size}, stride={stride}, padding={self.padding}{extra}"


class MaxPool1d(_Pool):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__(kernel_size, stride, padding, dilation=dilation, return_indices=return_indices,
                         ceil_mode=ceil_mode)

    def forward(self, x):
        return F.max_pool1d(x, self.kernel_size, self.stride, self.padding, **self.options)


class MaxPool2d(_Pool):
    """The max over each window, as torch.nn.MaxPool2d (the gradient goes to the first maximum)."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__(kernel_size, stride, padding, dilation=dilation, return_indices=return_indices,
                         ceil_mode=ceil_mode)

    def forward(self, x):
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding, **self.options)


class AvgPool1d(_Pool):
    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        super().__init__(kernel_size, stride, padding, ceil_mode=ceil_mode, count_include_pad=count_include_pad)

    def forward(self, x):
        return F.avg_pool1d(x, self.kernel_size, self.stride, self.padding, **self.options)


class AvgPool2d(_Pool):
    """The mean over each window, as torch.nn.AvgPool2d."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__(kernel_size, stride, padding, ceil_mode=ceil_mode, count_include_pad=count_include_pad,
                         divisor_override=divisor_override)

    def forward(self, x):
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding, **self.options)


class AdaptiveAvgPool2d(Module):
    def __init__(self, output_size):
        self.output_size = output_size

    def forward(self, x):
        return F.adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"
