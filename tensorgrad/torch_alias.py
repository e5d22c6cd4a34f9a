"""`import torch` that gives tensorgrad: install_as_torch() (for a notebook), and what
`python -m tensorgrad.run script.py` uses to run a torch script unmodified.

A finder at the front of sys.meta_path answers every import of `torch` or `torch.<path>` with
the module `tensorgrad.<path>` itself (no copy: torch.nn *is* tensorgrad.nn). A torch module
tensorgrad has not (torch.distributed, torch.jit, ...) fails to import with one line,
"tensorgrad does not implement torch.distributed"."""
import importlib
import importlib.abc
import importlib.util
import sys

from .missing import PREFIX


class _Alias(importlib.abc.Loader):
    """Loads `torch.<path>` as the already imported module tensorgrad.<path>."""

    def __init__(self, target):
        self.target, self.spec = target, getattr(target, "__spec__", None)

    def create_module(self, spec):
        return self.target

    def exec_module(self, module):
        module.__spec__ = self.spec             # the import system wrote torch's spec into it: put it back


class TorchFinder(importlib.abc.MetaPathFinder):
    """Finds `torch` and `torch.*` as the tensorgrad modules of the same path."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "torch" and not fullname.startswith("torch."):
            return None
        name = "tensorgrad" + fullname[len("torch"):]
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name is not None and (name == e.name or name.startswith(e.name + ".")):
                raise ModuleNotFoundError(f"{PREFIX} {fullname}", name=fullname) from None
            raise
        return importlib.util.spec_from_loader(fullname, _Alias(module), is_package=hasattr(module, "__path__"))


def install_as_torch() -> None:
    """Make `import torch` (and torch.nn, torch.nn.functional, torch.utils.data, ...) give tensorgrad
    from now on in this process. Call it before anything imports the real torch."""
    if any(isinstance(f, TorchFinder) for f in sys.meta_path):
        return
    real = sys.modules.get("torch")
    if real is not None and not getattr(real, "__name__", "").startswith("tensorgrad"):
        raise RuntimeError("install_as_torch: the real torch is already imported in this process; call "
                           "tensorgrad.install_as_torch() before the first `import torch` (restart the kernel)")
    sys.meta_path.insert(0, TorchFinder())


def uninstall_as_torch() -> None:
    """Undo install_as_torch: `import torch` finds the real torch again (modules already imported as torch are
    forgotten)."""
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, TorchFinder)]
    for name in [n for n in sys.modules if n == "torch" or n.startswith("torch.")]:
        if getattr(sys.modules[name], "__name__", "").startswith("tensorgrad"):
            del sys.modules[name]
