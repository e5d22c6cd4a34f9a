"""torch.utils.hooks.RemovableHandle: what registering a hook returns; handle.remove() unregisters it."""
import itertools

_ids = itertools.count()


class RemovableHandle:
    """Removes the hook it was returned for from the dicts it was registered in (also as a with-block)."""

    def __init__(self, hooks_dict, *, extra_dict=None):
        self.hooks_dicts = [hooks_dict] + ([extra_dict] if isinstance(extra_dict, dict) else list(extra_dict or []))
        self.id = next(_ids)

    def remove(self) -> None:
        for d in self.hooks_dicts:
            d.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
