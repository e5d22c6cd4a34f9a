"""torch.amp: automatic mixed precision. tensorgrad computes in the dtypes it is given, so
autocast(..., enabled=False) and a disabled GradScaler pass everything through, as torch does on a
machine without CUDA (autocast('cuda') and GradScaler('cuda') warn and disable themselves there).
A GradScaler on 'cpu' scales for real; autocast enabled on 'cpu' is an error: it would compute in
bfloat16 or float16, which tensorgrad does not do."""
import contextlib
import functools
import warnings

import numpy as np


class autocast(contextlib.ContextDecorator):
    """torch.autocast(device_type, dtype=None, enabled=True, cache_enabled=None)."""

    def __init__(self, device_type: str, dtype=None, enabled: bool = True, cache_enabled: bool | None = None):
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        self.device, self.fast_dtype, self._enabled = device_type, dtype, bool(enabled)
        if self._enabled and device_type != "cpu":
            warnings.warn(f"User provided device_type of '{device_type}', but CUDA is not available. Disabling")
            self._enabled = False
        if self._enabled:
            raise RuntimeError("tensorgrad does not implement torch.autocast with enabled=True: it computes in the "
                               "dtypes it is given (no bfloat16/float16 autocasting); pass enabled=False, or cast "
                               "the model with .to(dtype)")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def wrapped(*args, **kwargs):
            with self:
                return func(*args, **kwargs)
        return wrapped


def is_autocast_available(device_type: str) -> bool:
    return False


class GradScaler:
    """torch.amp.GradScaler(device='cuda', init_scale=2**16, ...): multiplies the loss by a scale,
    divides the gradients by it before the step, skips steps whose gradients overflowed, and
    adapts the scale. On 'cuda' (which tensorgrad has not) it disables itself with torch's warning;
    disabled, scale() returns the loss unchanged and step() is optimizer.step()."""

    def __init__(self, device: str = "cuda", init_scale: float = 2.0 ** 16, growth_factor: float = 2.0,
                 backoff_factor: float = 0.5, growth_interval: int = 2000, enabled: bool = True):
        self._device, self._enabled = str(device), bool(enabled)
        if self._enabled and self._device.startswith("cuda"):
            warnings.warn("torch.cuda.amp.GradScaler is enabled, but CUDA is not available.  Disabling.")
            self._enabled = False
        if growth_factor <= 1.0:
            raise AssertionError("The growth factor must be > 1.0.")
        if backoff_factor >= 1.0:
            raise AssertionError("The backoff factor must be < 1.0.")
        self._scale, self._growth_factor, self._backoff_factor = float(init_scale), growth_factor, backoff_factor
        self._growth_interval, self._growth_tracker = growth_interval, 0
        self._unscaled, self._found_inf = set(), {}

    def is_enabled(self) -> bool:
        return self._enabled

    def scale(self, outputs):
        """outputs * scale (a tensor, or a list/tuple of them); unchanged when disabled."""
        if not self._enabled:
            return outputs
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(self.scale(o) for o in outputs)
        return outputs * self._scale

    def unscale_(self, optimizer) -> None:
        """Divide the optimizer's gradients by the scale (once per step), noting any inf/NaN."""
        if not self._enabled:
            return
        if id(optimizer) in self._unscaled:
            raise RuntimeError("unscale_() has already been called on this optimizer since the last update().")
        inv, found = 1.0 / self._scale, False
        for group in optimizer.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    g = p.grad.numpy()
                    g *= inv
                    found = found or not np.isfinite(g).all()
        self._unscaled.add(id(optimizer))
        self._found_inf[id(optimizer)] = found

    def step(self, optimizer, *args, **kwargs):
        """optimizer.step(), unless the unscaled gradients hold an inf or NaN (then skipped)."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if id(optimizer) not in self._unscaled:
            self.unscale_(optimizer)
        if not self._found_inf[id(optimizer)]:
            return optimizer.step(*args, **kwargs)
        return None

    def update(self, new_scale=None) -> None:
        """Halve the scale after an overflow; double it after growth_interval clean steps."""
        if not self._enabled:
            return
        if new_scale is not None:
            self._scale = float(new_scale.item() if hasattr(new_scale, "item") else new_scale)
        elif any(self._found_inf.values()):
            self._scale *= self._backoff_factor
            self._growth_tracker = 0
        else:
            self._growth_tracker += 1
            if self._growth_tracker == self._growth_interval:
                self._scale = min(self._scale * self._growth_factor, np.finfo(np.float32).max)
                self._growth_tracker = 0
        self._unscaled.clear()
        self._found_inf.clear()

    def get_scale(self) -> float:
        return self._scale if self._enabled else 1.0

    def get_growth_factor(self) -> float:
        return self._growth_factor

    def get_backoff_factor(self) -> float:
        return self._backoff_factor

    def get_growth_interval(self) -> int:
        return self._growth_interval

    def state_dict(self) -> dict:
        if not self._enabled:
            return {}
        return {"scale": self._scale, "growth_factor": self._growth_factor, "backoff_factor": self._backoff_factor,
                "growth_interval": self._growth_interval, "_growth_tracker": self._growth_tracker}

    def load_state_dict(self, state_dict: dict) -> None:
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was saved from a disabled "
                               "instance of GradScaler.")
        self._scale = float(state_dict["scale"])
        self._growth_factor, self._backoff_factor = state_dict["growth_factor"], state_dict["backoff_factor"]
        self._growth_interval, self._growth_tracker = state_dict["growth_interval"], state_dict["_growth_tracker"]




from .missing import module_getattr as _module_getattr  # noqa: E402

__getattr__ = _module_getattr("torch.amp")   # a missing name says which torch name it is
