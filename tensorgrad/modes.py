"""Global modes of the engine: grad recording (no_grad), anomaly detection, the scope of the
running module, the write clock of in-place ops, and the two observers (record_walk, tg.compile).
Imports nothing of tensorgrad."""
import contextlib

import numpy as np


class _Mode:
    grad = True                           # record ops on the tape?
    anomaly = False                       # check every gradient for NaN/Inf?
    scope = ""                            # name of the module whose forward is running (for drawing)
    writes = 0                            # how many in-place writes there have been (a clock for versions)
    observer = None                       # record_walk(): told each step of the walk
    trace = None                          # tg.compile's recording: the list apply appends its ops to
    releasing = False                     # a backward without retain_graph is running: a rule may let go of
                                          # its saved values as it goes (tg.compile's replay does)


_mode = _Mode()
_mode.__dict__.update({k: v for k, v in vars(_Mode).items() if not k.startswith("_")})   # instance fields:
# (the interpreter caches reads of an instance's own attributes; the engine reads several per op)


# NumPy's error state for an op's forward and the backward walk: quiet, as torch is (inf - inf is NaN,
# 1 / 0 is inf, no warning), so that no op of the table needs np.errstate of its own. np.errstate is a
# Python context manager (~0.9 us a use); an op sets NumPy's context variable for its error state itself
# (~0.3 us): token = NUMPY_ERRORS.set(QUIET_NUMPY) ... NUMPY_ERRORS.reset(token), and an op called inside
# another's forward or rule finds NUMPY_ERRORS.get() is QUIET_NUMPY and sets nothing.
class _Errstate:
    """The same calls through np.errstate, for a NumPy without that context variable."""

    def get(self):
        return None

    def set(self, _):
        state = np.errstate(all="ignore")
        state.__enter__()
        return state

    def reset(self, state):
        state.__exit__(None, None, None)


try:
    from numpy._core._multiarray_umath import _extobj_contextvar as NUMPY_ERRORS, _make_extobj
    QUIET_NUMPY = _make_extobj(all="ignore")
except ImportError:                                  # pragma: no cover (another NumPy's layout)
    NUMPY_ERRORS, QUIET_NUMPY = _Errstate(), object()


class quiet_numpy:
    """`with quiet_numpy():` the block in NumPy's quiet error state (the backward walk)."""

    def __enter__(self):
        self.token = NUMPY_ERRORS.set(QUIET_NUMPY)

    def __exit__(self, *exc):
        NUMPY_ERRORS.reset(self.token)


class _Switch(contextlib.ContextDecorator):
    """Set one field of the mode for the length of a with-block (or of a decorated call)."""

    def __init__(self, field: str, value):
        self.field, self.value, self.saved = field, value, []

    def __enter__(self):
        self.saved.append(getattr(_mode, self.field))
        setattr(_mode, self.field, self.value)

    def __exit__(self, *exc):
        setattr(_mode, self.field, self.saved.pop())


def no_grad() -> _Switch:
    """`with tg.no_grad():` records nothing on the tape; also usable as a decorator."""
    return _Switch("grad", False)


def enable_grad() -> _Switch:
    """Turn recording back on inside a no_grad block."""
    return _Switch("grad", True)


class set_grad_enabled(_Switch):
    """tg.set_grad_enabled(False) turns recording off from now on; as a with-block, until its end."""

    def __init__(self, mode: bool):
        super().__init__("grad", bool(mode))
        super().__enter__()

    def __enter__(self):
        pass


def is_grad_enabled() -> bool:
    return _mode.grad


def releasing(flag: bool) -> _Switch:
    """Set while backward runs: whether the values it walks through are freed after it (not retain_graph)."""
    return _Switch("releasing", flag)


def detect_anomaly() -> _Switch:
    """Within this block every backward rule's output is checked for NaN/Inf, and the
    error names the op and shows where its forward was called."""
    return _Switch("anomaly", True)


class name_scope:
    """`with tg.name_scope(name):` ops recorded inside get `_scope` = the dotted names of the
    enclosing scopes (nn.Module uses this, so that a drawing can group a layer's ops)."""

    def __init__(self, name: str):
        self.name = name

    def __enter__(self):
        self.prev = _mode.scope
        _mode.scope = f"{self.prev}.{self.name}" if self.prev else self.name

    def __exit__(self, *exc):
        _mode.scope = self.prev


class RemovableHandle:
    """What register_hook returns: handle.remove() takes the hook out again."""

    def __init__(self, hooks: list, hook):
        self.hooks, self.hook = hooks, hook

    def remove(self) -> None:
        if self.hook in self.hooks:
            self.hooks.remove(self.hook)
