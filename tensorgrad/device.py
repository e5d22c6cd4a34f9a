"""torch.device for tensorgrad, which has one device: the CPU, through NumPy.

Code written for torch names devices everywhere (`device=device` on a factory, `.to(device)`,
`torch.device('cuda' if torch.cuda.is_available() else 'cpu')`). With 'cpu' that all works here;
a device tensorgrad does not have ('cuda', 'mps', ...) may be named (torch.device('cuda') is
only a name), but asking for a tensor on it is an error saying so."""

# the device types torch's parser knows, in its order (an unknown one is torch's error)
_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga", "maia", "xla",
          "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone")


class device:
    """torch.device: device('cpu'), device('cuda', 1), device('cuda:1'), device(other_device)."""

    def __init__(self, type="cpu", index: int | None = None):
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index
        elif isinstance(type, int) and not isinstance(type, bool):
            type, index = "cuda", type                     # torch.device(0): the first accelerator
        if not isinstance(type, str):
            raise TypeError(f"device(): argument 'type' must be str, not {type.__class__.__name__}")
        kind, _, number = type.partition(":")
        if kind not in _TYPES:
            raise RuntimeError(f"Expected one of {', '.join(_TYPES)} device type at start of device string: {type}")
        if number:
            if index is not None:
                raise RuntimeError(f"type (string) must not include an index because index was passed explicitly: "
                                   f"{type}")
            if not number.isdigit():
                raise RuntimeError(f"Invalid device string: '{type}'")
            index = int(number)
        if index is not None and index < 0:
            raise RuntimeError(f"Device index must not be negative, got {index}")
        self.type, self.index = kind, index

    def __eq__(self, other):
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        return f"device(type={self.type!r})" if self.index is None else \
            f"device(type={self.type!r}, index={self.index})"

    def __reduce__(self):
        return device, (self.type, self.index)

    def __enter__(self):
        check(self, "with torch.device(...)")
        return self

    def __exit__(self, *exc):
        return False


CPU = device("cpu")


def check(dev, what: str) -> device:
    """The device `dev` names ('cpu', device('cpu'), None), or the error for any other one."""
    if dev is None:
        return CPU
    d = dev if isinstance(dev, device) else device(dev if isinstance(dev, (str, int)) else str(dev))
    if d.type != "cpu":
        raise RuntimeError(f"{what}: tensorgrad runs on NumPy, on the CPU only; it has no {str(d)!r} device "
                           "(use device='cpu', e.g. 'cuda' if torch.cuda.is_available() else 'cpu')")
    return CPU


def set_default_device(dev) -> None:
    """torch.set_default_device: only 'cpu' (or None) is possible here."""
    check(dev, "set_default_device")


def get_default_device() -> device:
    return CPU
