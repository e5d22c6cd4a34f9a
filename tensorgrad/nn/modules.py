"""nn.Parameter, nn.Module and the containers (Sequential, ModuleList, ModuleDict), as torch.nn.

State is explicit, as in torch: a Module's parameters are the nn.Parameter objects assigned to it,
its buffers are what register_buffer() registered (BatchNorm's running statistics), its children
the Modules assigned to it. Any other attribute, a plain tensor included, is just an attribute:
`self.out = x.tanh()` in a forward (makemore part 3 keeps activations to plot them) is not state.
"""
import collections
import itertools
import weakref

import numpy as np

from ..functions import tensor
from ..optim.optimizer import zero_grads
from ..engine import Tensor
from ..inplace import bump
from ..modes import _mode
from . import hooks

# name scope -> the module whose forward last ran in it (weakly held); viz labels a folded scope with it
SCOPES = weakref.WeakValueDictionary()


class Parameter(Tensor):
    """A tensor a Module registers as a parameter: a leaf that requires grad (by default).
    Made from a tensor, it shares that tensor's memory, as torch.nn.Parameter."""

    def __new__(cls, data=None, requires_grad: bool = True):
        if data is None:
            data = np.empty(0, np.float32)
        t = data if isinstance(data, Tensor) else tensor(data)
        p = cls._wrap(t.numpy(), t._vc)      # the same storage and version counter, as torch's
        p.requires_grad = requires_grad
        return p

    def __init__(self, data=None, requires_grad: bool = True):
        pass   # all done in __new__

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


def _write(t: Tensor, value, key=...) -> None:
    """Copy value into t[key] in place (cast to its dtype), as torch's t[key].copy_(value) under
    no_grad; the version counter moves, so a graph that used the old values refuses to backward."""
    np.copyto(t.numpy()[key], np.asarray(value), casting="unsafe")
    bump(t)


class _IncompatibleKeys(collections.namedtuple("_IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What load_state_dict did not match (torch's, under its name, printed as torch prints it)."""

    def __repr__(self):
        return "<All keys matched successfully>" if not self.missing_keys and not self.unexpected_keys else \
            super().__repr__()

_STORES = ("_parameters", "_buffers", "_modules", "_non_persistent_buffers") + hooks.HOOK_STORES


def _check_name(kind: str, name) -> None:
    if not isinstance(name, str):
        raise TypeError(f"{kind} name should be a string. Got {type(name).__name__}")
    if "." in name:
        raise KeyError(f'{kind} name can\'t contain ".", got "{name}"')
    if name == "":
        raise KeyError(f'{kind} name can\'t be empty string ""')


class Module:
    """Base class of layers and models: parameters(), buffers(), children, train()/eval(), state_dict()."""

    training = True
    _name = None   # the attribute name under which a parent holds this module (for names and drawings)

    def __init__(self):
        for store in _STORES:
            self.__dict__.setdefault(store, set() if store == "_non_persistent_buffers" else {})

    def __getattr__(self, name):
        # only called when ordinary lookup fails: registered state, or the stores themselves
        # (made here for subclasses whose __init__ does not call super().__init__())
        if name in _STORES:
            Module.__init__(self)
            return self.__dict__[name]
        for store in ("_parameters", "_buffers", "_modules"):
            d = self.__dict__.get(store)
            if d is not None and name in d:
                return d[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __setattr__(self, name, value):
        params, buffers, modules = self._parameters, self._buffers, self._modules
        if isinstance(value, Parameter):
            self._forget(name, keep="_parameters")      # a reassigned parameter keeps its place, as torch
            self.register_parameter(name, value)
        elif name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                                "(nn.Parameter or None expected)")
            params[name] = None
        elif isinstance(value, Module):
            self._forget(name, keep="_modules")
            self.add_module(name, value)
        elif name in modules:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module '{name}' "
                                "(nn.Module or None expected)")
            modules[name] = None
        elif name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' (Tensor or None expected)")
            buffers[name] = self._named(name, value)
        else:
            object.__setattr__(self, name, value)

    def __delattr__(self, name):
        for store in ("_parameters", "_buffers", "_modules"):
            if name in self.__dict__.get(store, ()):
                del self.__dict__[store][name]
                self._non_persistent_buffers.discard(name)
                return
        object.__delattr__(self, name)

    def _forget(self, name: str, keep: str = "") -> None:
        """Remove name from the plain attributes and the stores (but `keep`), before it is registered anew."""
        self.__dict__.pop(name, None)
        for store in ("_parameters", "_buffers", "_modules"):
            if store != keep:
                self.__dict__.get(store, {}).pop(name, None)
        self._non_persistent_buffers.discard(name)

    def _named(self, name: str, t):
        """Name a tensor after its attribute (prefixed with this module's own name), for error
        messages and drawings; returns it."""
        if t is not None:
            t.name = f"{self._name}.{name}" if self._name else name
        return t

    def _adopt(self, name: str) -> None:
        """Take the name a parent holds this module under, and prefix its tensors' names with it.
        A module held twice (weight tying) keeps its first name."""
        if self._name is not None:
            return
        object.__setattr__(self, "_name", name)
        for sub, t in itertools.chain(self.named_parameters(remove_duplicate=False),
                                      self.named_buffers(remove_duplicate=False)):
            t.name = f"{name}.{sub}"

    # --- registering state ---------------------------------------------------
    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter (or None, a declared but absent one, as Linear's bias=False)."""
        _check_name("parameter", name)
        if hasattr(self, name) and name not in self._parameters:
            raise KeyError(f"attribute '{name}' already exists")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{type(param).__name__}' object to parameter '{name}' "
                            "(nn.Parameter or None required)")
        self._parameters[name] = self._named(name, param)

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Add a buffer: state that is not trained (running statistics). persistent=False keeps
        it out of state_dict()."""
        _check_name("buffer", name)
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' "
                            "(Tensor or None required)")
        self._buffers[name] = self._named(name, tensor)
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)

    def add_module(self, name: str, module: "Module | None") -> None:
        """Add a child module (what `self.name = module` does)."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        _check_name("module", name)
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        self._modules[name] = module
        if module is not None:
            module._adopt(name)

    register_module = add_module

    def get_submodule(self, target: str) -> "Module":
        """The module at a dotted path ('block.fc'); '' is self."""
        mod = self
        for part in target.split(".") if target else ():
            if not isinstance(mod._modules.get(part), Module):
                raise AttributeError(f"{type(mod).__name__} has no submodule `{part}`")
            mod = mod._modules[part]
        return mod

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at a dotted path ('block.fc.weight')."""
        path, _, name = target.rpartition(".")
        mod = self.get_submodule(path)
        if name not in mod._parameters:
            raise AttributeError(f"{type(mod).__name__} has no parameter `{name}`")
        return mod._parameters[name]

    def get_buffer(self, target: str) -> Tensor:
        path, _, name = target.rpartition(".")
        mod = self.get_submodule(path)
        if name not in mod._buffers:
            raise AttributeError(f"{type(mod).__name__} has no buffer `{name}`")
        return mod._buffers[name]

    # --- walking the tree --------------------------------------------------
    def __call__(self, *args, **kwargs):
        prev = _mode.scope                  # (name_scope's work, inline: a module call is on every step's path)
        _mode.scope = f"{prev}.{self._name or type(self).__name__}" if prev else self._name or type(self).__name__
        try:
            if SCOPES.get(_mode.scope) is not self:
                SCOPES[_mode.scope] = self  # so that a drawing can name a scope's module: `Block h.0`
            if self._forward_pre_hooks or self._forward_hooks or self._backward_hooks or self._backward_pre_hooks:
                return hooks.call(self, args, kwargs)
            return self.forward(*args, **kwargs)
        finally:
            _mode.scope = prev

    # --- hooks (nn/hooks.py) -------------------------------------------------
    def register_forward_pre_hook(self, hook, *, prepend: bool = False, with_kwargs: bool = False):
        """hook(module, args) before forward; it may return new args (with_kwargs: (args, kwargs))."""
        return hooks.register(self, "_forward_pre_hooks", hook, prepend, with_kwargs=with_kwargs)

    def register_forward_hook(self, hook, *, prepend: bool = False, with_kwargs: bool = False,
                              always_call: bool = False):
        """hook(module, args, output) after forward; it may return a new output."""
        return hooks.register(self, "_forward_hooks", hook, prepend, with_kwargs=with_kwargs,
                              always_call=always_call)

    def register_full_backward_hook(self, hook, prepend: bool = False):
        """hook(module, grad_input, grad_output) when the gradients of the inputs are computed; it
        may return new grad_input."""
        return hooks.register(self, "_backward_hooks", hook, prepend)

    def register_full_backward_pre_hook(self, hook, prepend: bool = False):
        """hook(module, grad_output) before the module's gradients are computed; it may return new grad_output."""
        return hooks.register(self, "_backward_pre_hooks", hook, prepend)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "forward" function')

    def named_children(self):
        """(name, module) for each direct child, in the order they were assigned."""
        seen = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield name, m

    def children(self):
        return (m for _, m in self.named_children())

    def named_modules(self, memo: set | None = None, prefix: str = "", remove_duplicate: bool = True):
        """(dotted name, module) for this module ('') and every module below it, parents first;
        a module reachable twice is yielded once unless remove_duplicate=False."""
        memo = set() if memo is None else memo
        if id(self) in memo:
            return
        if remove_duplicate:
            memo.add(id(self))
        yield prefix, self
        for name, m in self._modules.items():
            if m is not None:
                yield from m.named_modules(memo, f"{prefix}.{name}" if prefix else name, remove_duplicate)

    def modules(self):
        return (m for _, m in self.named_modules())

    def _named_members(self, store: str, prefix: str, recurse: bool, remove_duplicate: bool):
        seen = set()
        mods = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse else [(prefix, self)]
        for mod_prefix, mod in mods:
            for name, t in mod.__dict__.get(store, {}).items():
                if t is None or (remove_duplicate and id(t) in seen):
                    continue
                seen.add(id(t))
                yield (f"{mod_prefix}.{name}" if mod_prefix else name), t

    def named_parameters(self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True):
        """(dotted name, parameter), each module's own before its children's, e.g. ('0.weight', W)."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True):
        return (p for _, p in self.named_parameters(recurse=recurse))

    def named_buffers(self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True):
        """(dotted name, buffer) for the registered buffers, persistent or not."""
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True):
        return (b for _, b in self.named_buffers(recurse=recurse))

    def apply(self, fn) -> "Module":
        """fn(module) for every child (recursively), then for self; returns self (nn.init uses this)."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # --- modes and gradients ---------------------------------------------
    def train(self, mode: bool = True) -> "Module":
        """Training mode (BatchNorm uses batch statistics, Dropout drops); returns self."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        object.__setattr__(self, "training", mode)
        for m in self.children():
            m.train(mode)
        return self

    def eval(self) -> "Module":
        """Evaluation mode (BatchNorm uses its running statistics, Dropout is the identity); returns self."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients (None, torch's default), or zero them in place."""
        zero_grads(self.parameters(), set_to_none)

    def to(self, *args, **kwargs) -> "Module":
        """to(dtype), to('cpu'), to(device=, dtype=), to(tensor): cast every floating parameter and
        buffer in place (the same tensor objects, new storage; their grads dropped); returns self."""
        dtype, dev = kwargs.pop("dtype", None), kwargs.pop("device", None)
        kwargs.pop("non_blocking", None)
        if kwargs:
            raise TypeError(f"to() got unexpected arguments {sorted(kwargs)}")
        for a in args:
            if isinstance(a, Tensor):
                dtype = a.dtype
            elif isinstance(a, str) or type(a).__name__ == "device":
                dev = a
            else:
                dtype = a
        if dev is not None:
            tensor(0.0).to(dev)            # the tensor's check: tensorgrad runs on the CPU only
        if dtype is None:
            return self
        if np.dtype(dtype).kind != "f":
            raise TypeError(f"nn.Module.to only accepts floating point dtypes, but got desired dtype={np.dtype(dtype)}")
        for t in itertools.chain(self.parameters(), self.buffers()):
            if t.dtype.kind == "f":
                t.data = t.numpy().astype(dtype)
                t.grad = None
        return self

    def cpu(self) -> "Module":
        return self

    def cuda(self, device=None):
        return self.to("cuda" if device is None else device if isinstance(device, str) else f"cuda:{device}")

    def float(self) -> "Module":
        return self.to(np.float32)

    def double(self) -> "Module":
        return self.to(np.float64)

    def half(self) -> "Module":
        return self.to(np.float16)

    # --- saving and loading ----------------------------------------------
    def _state_items(self, prefix: str = ""):
        """(dotted key, tensor) in state_dict's order: each module's parameters, then its
        persistent buffers, then its children's; a shared tensor appears under every name."""
        for name, p in self._parameters.items():
            if p is not None:
                yield prefix + name, p
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers:
                yield prefix + name, b
        for name, m in self._modules.items():
            if m is not None:
                yield from m._state_items(f"{prefix}{name}.")

    def state_dict(self, prefix: str = "", keep_vars: bool = False) -> dict:
        """Dotted name -> tensor for every parameter and persistent buffer. The tensors are
        detached but share memory with the model's, as torch's (copy them to keep a snapshot)."""
        return collections.OrderedDict((k, t if keep_vars else t.detach()) for k, t in self._state_items(prefix))

    _optional_state = ()   # keys a module may do without in load_state_dict (BatchNorm's num_batches_tracked)

    def load_state_dict(self, state_dict: dict, strict: bool = True) -> _IncompatibleKeys:
        """Copy tensors or arrays into the parameters and buffers, in place (cast to their dtypes).
        Every key and shape is checked first, so a state that does not fit changes nothing.
        strict: missing or unexpected keys are errors (otherwise returned). Shapes must always fit."""
        own = dict(self._state_items())
        optional = {f"{p}.{k}" if p else k for p, m in self.named_modules() for k in m._optional_state}
        missing = [k for k in own if k not in state_dict and k not in optional]
        unexpected = [k for k in state_dict if k not in own]
        errors = [f"size mismatch for {k}: copying a param with shape {tuple(np.shape(state_dict[k]))} from "
                  f"checkpoint, the shape in current model is {own[k].shape}."
                  for k in own if k in state_dict and tuple(np.shape(state_dict[k])) != own[k].shape]
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected) + ". ")
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + ". ")
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t" + "\n\t".join(errors))
        for k, t in own.items():
            if k in state_dict:
                _write(t, state_dict[k])
        return _IncompatibleKeys(missing, unexpected)

    def __repr__(self):
        """torch's layout: one line when there is a one-line extra_repr and no children."""
        extra = self.extra_repr().split("\n") if self.extra_repr() else []
        children = [f"({name}): " + repr(m).replace("\n", "\n  ") for name, m in self._modules.items()]
        if len(extra) == 1 and not children:
            return f"{type(self).__name__}({extra[0]})"
        if not extra and not children:
            return f"{type(self).__name__}()"
        return f"{type(self).__name__}(\n  " + "\n  ".join(extra + children) + "\n)"

    def extra_repr(self) -> str:
        return ""


# ----------------------------------------------------------------------------
# containers

def _index(i: int, n: int, what: str) -> int:
    if not -n <= i < n:
        raise IndexError(f"index {i} is out of range for a {what} of {n}")
    return i % n


class Sequential(Module):
    """Modules applied one after the other, named 0, 1, ... (or by an OrderedDict's keys)."""

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], collections.OrderedDict):
            for name, m in args[0].items():
                self.add_module(name, m)
        else:
            for i, m in enumerate(args):
                self.add_module(str(i), m)

    def forward(self, x):
        for m in self._modules.values():
            x = m(x)
        return x

    def __getitem__(self, i):
        mods = list(self._modules.items())
        if isinstance(i, slice):
            return Sequential(collections.OrderedDict(mods[i]))
        return mods[_index(i, len(mods), "Sequential")][1]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module: Module) -> "Sequential":
        self.add_module(str(len(self)), module)
        return self


class ModuleList(Module):
    """A list of modules whose parameters the parent sees (a plain Python list hides them, as in torch)."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _renumber(self, mods: list) -> None:
        self._modules.clear()
        for i, m in enumerate(mods):
            object.__setattr__(m, "_name", None)      # its place changed: take the new name
            self.add_module(str(i), m)

    def __getitem__(self, i):
        mods = list(self._modules.values())
        if isinstance(i, slice):
            return ModuleList(mods[i])
        return mods[_index(i, len(mods), "ModuleList")]

    def __setitem__(self, i: int, module: Module) -> None:
        key = str(_index(i, len(self), "ModuleList"))
        self._modules[key] = module      # in place: the order stays
        module._adopt(key)

    def __delitem__(self, i) -> None:
        mods = list(self._modules.values())
        del mods[i if isinstance(i, slice) else _index(i, len(mods), "ModuleList")]
        self._renumber(mods)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __iadd__(self, modules):
        return self.extend(modules)

    def __add__(self, other):
        return ModuleList(list(self) + list(other))

    def append(self, module: Module) -> "ModuleList":
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules) -> "ModuleList":
        for m in modules:
            self.append(m)
        return self

    def insert(self, index: int, module: Module) -> None:
        mods = list(self._modules.values())
        mods.insert(index, module)
        self._renumber(mods)


class ModuleDict(Module):
    """A dict of modules whose parameters the parent sees, in insertion order."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self._forget(key, keep="_modules")
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def items(self):
        return self._modules.items()

    def values(self):
        return self._modules.values()

    def pop(self, key: str) -> Module:
        m = self[key]
        del self[key]
        return m

    def clear(self) -> None:
        self._modules.clear()

    def update(self, modules) -> None:
        for key, m in (modules.items() if hasattr(modules, "items") else modules):
            self[key] = m


def _as_parameter(value):
    """What ParameterList / ParameterDict store: a tensor becomes a Parameter (sharing its memory)."""
    return value if isinstance(value, Parameter) or not isinstance(value, Tensor) else Parameter(value)


def _describe(p) -> str:
    shape = "x".join(map(str, p.shape))
    return f"Parameter containing: [{p.dtype} of size {shape}]" if isinstance(p, Tensor) else repr(p)


class ParameterList(Module):
    """A list of parameters (tensors become Parameters) that the parent sees, named 0, 1, ..."""

    def __init__(self, values=None):
        super().__init__()
        self._size = 0
        if values is not None:
            self.extend(values)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return ParameterList([self[j] for j in range(self._size)[i]])
        return getattr(self, str(_index(i, self._size, "ParameterList")))

    def __setitem__(self, i: int, value) -> None:
        setattr(self, str(_index(i, self._size, "ParameterList")), _as_parameter(value))

    def __len__(self):
        return self._size

    def __iter__(self):
        return (self[i] for i in range(self._size))

    def __iadd__(self, values):
        return self.extend(values)

    def append(self, value) -> "ParameterList":
        self._size += 1
        self[self._size - 1] = value
        return self

    def extend(self, values) -> "ParameterList":
        for v in values:
            self.append(v)
        return self

    def extra_repr(self):
        return "\n".join(f"({i}): {_describe(p)}" for i, p in enumerate(self))


class ParameterDict(Module):
    """A dict of parameters (tensors become Parameters) that the parent sees, in insertion order."""

    def __init__(self, parameters=None):
        super().__init__()
        self._keys: dict = {}
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key: str):
        return getattr(self, key)        # a missing key: AttributeError, as torch's

    def __setitem__(self, key: str, value) -> None:
        self._keys[key] = None
        setattr(self, key, _as_parameter(value))

    def __delitem__(self, key: str) -> None:
        del self._keys[key]
        delattr(self, key)

    def __len__(self):
        return len(self._keys)

    def __iter__(self):
        return iter(self._keys)

    def __contains__(self, key):
        return key in self._keys

    def keys(self):
        return self._keys.keys()

    def items(self):
        return ((k, self[k]) for k in self._keys)

    def values(self):
        return (self[k] for k in self._keys)

    def pop(self, key: str):
        value = self[key]
        del self[key]
        return value

    def update(self, parameters) -> None:
        for key, value in (parameters.items() if hasattr(parameters, "items") else parameters):
            self[key] = value

    def extra_repr(self):
        return "\n".join(f"({k}): {_describe(p)}" for k, p in self.items())
