"""torch.device, for code that names one: tensorgrad has only 'cpu'. Imports nothing of tensorgrad."""


class device:
    """torch.device('cpu'); tensorgrad runs on NumPy, on the CPU."""

    def __init__(self, kind="cpu", index=None):
        self.type = str(kind.type if isinstance(kind, device) else kind).split(":")[0]

    def __eq__(self, other): return str(self) == str(other)
    def __hash__(self): return hash(self.type)
    def __str__(self): return self.type
    def __repr__(self): return f"device(type={self.type!r})"


class cuda:
    """torch.cuda, for code that asks: tensorgrad has no GPU backend."""
    is_available = staticmethod(lambda: False)
    device_count = staticmethod(lambda: 0)
    manual_seed = manual_seed_all = staticmethod(lambda seed: None)
