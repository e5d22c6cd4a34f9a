"""How a tensor prints, as torch's: torch.set_printoptions, and torch's choice of one float format for
a whole tensor (whole numbers as '3.', fixed digits, or scientific notation), each element padded to one
width. Imports nothing of tensorgrad."""
import numpy as np

# torch's print options (torch.set_printoptions), and its way of choosing a float format for a whole tensor
PRINT_OPTIONS = dict(precision=4, threshold=1000, edgeitems=3, linewidth=80, sci_mode=None)
_PROFILES = {"default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
             "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
             "full": dict(precision=4, threshold=float("inf"), edgeitems=3, linewidth=80)}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None):
    """torch.set_printoptions: digits after the point, how many elements before a tensor is summarised
    (with edgeitems at each end), the line width; profile "default", "short" or "full"; sci_mode True or
    False to force scientific notation on or off (None: chosen per tensor)."""
    if profile is not None:
        PRINT_OPTIONS.update(_PROFILES[profile])
    for key, value in dict(precision=precision, threshold=threshold, edgeitems=edgeitems,
                           linewidth=linewidth).items():
        if value is not None:
            PRINT_OPTIONS[key] = value
    PRINT_OPTIONS["sci_mode"] = sci_mode


def shown(a: np.ndarray) -> np.ndarray:
    """The elements a summarised print shows: edgeitems at each end of every long dim."""
    e = PRINT_OPTIONS["edgeitems"]
    for axis, n in enumerate(a.shape):
        if n > 2 * e:
            a = np.concatenate([a.take(range(e), axis), a.take(range(n - e, n), axis)], axis)
    return a


def float_formatter(a: np.ndarray):
    """torch's choice for a float tensor: whole numbers as '3.', else `precision` digits, or scientific
    notation when the finite non-zero magnitudes span over 1000x, pass 1e8 or go below 1e-4; every
    element padded to one width."""
    p = PRINT_OPTIONS["precision"]
    vals = a[np.isfinite(a) & (a != 0)].astype(np.float64) if a.dtype.kind == "f" else np.zeros(0)
    mags = np.abs(vals)
    whole = bool(np.all(vals == np.ceil(vals)))
    lo, hi = (mags.min(), mags.max()) if mags.size else (1.0, 1.0)
    sci = hi / lo > 1000 or hi > 1e8 or (not whole and lo < 1e-4)
    if PRINT_OPTIONS["sci_mode"] is not None:
        sci = PRINT_OPTIONS["sci_mode"]

    def one(v):
        if sci:
            return f"{v:.{p}e}"
        if whole:
            return f"{v:.0f}" + ("" if np.isnan(v) or np.isinf(v) else ".")
        return f"{v:.{p}f}"
    width = max([len(one(v)) for v in vals], default=1)
    return lambda v: one(v).rjust(width)


def bool_formatter(a: np.ndarray):
    width = 4 if a.all() else 5                      # ("True" alone is not padded to "False"'s width)
    return lambda v: str(bool(v)).rjust(width)
