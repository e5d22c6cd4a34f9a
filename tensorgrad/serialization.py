"""tg.save / tg.load: state dicts (and any tree of dicts, lists, numbers, strings and arrays) in one
.npz file, as torch.save / torch.load do with theirs, but without pickle.

The file is a NumPy .npz archive: every array is a member named by its path in the tree
("model.0.weight", "optim.state.3.exp_avg"), and one member, `__tensorgrad__`, holds the rest of
the tree as JSON (numbers, strings, None, the names and order of the keys). Loading uses
np.load(allow_pickle=False), so a file cannot run code when it is read.

save() is atomic: it writes a temporary file next to the target, flushes it to disk, and renames it
over the target, so that at every instant the target is either the complete old file or the complete
new one, never half of each, even if the process is killed (SIGKILL, power loss) in the middle.
"""
import json
import os
import tempfile
from pathlib import Path

import numpy as np

from .engine import Tensor

__all__ = ["save", "load", "SerializationError", "TMP_SUFFIX"]

FORMAT = "tensorgrad/1"
META = "__tensorgrad__"
TMP_SUFFIX = ".tmp"   # save()'s temporary files are named .<target name>.<random>.tmp


class SerializationError(ValueError):
    """A file tg.load cannot read, or an object tg.save cannot write; the message names the file."""


# ----------------------------------------------------------------------------
# the tree <-> (JSON skeleton, arrays)

def _flatten(obj, path: str, arrays: dict):
    """The JSON skeleton of obj; its arrays go into arrays[path]."""
    if isinstance(obj, Tensor):
        obj = obj.numpy()
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind not in "biufc":   # object, string and void arrays would need pickle
            raise SerializationError(f"tg.save: {path or 'the object'} is an array of dtype {obj.dtype}; "
                                     "only bool, integer, float and complex arrays can be saved")
        arrays[path] = obj
        return {"array": path}
    if isinstance(obj, np.generic):
        obj = obj.item()
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, dict):
        for k in obj:
            if not isinstance(k, (str, int)):
                raise SerializationError(f"tg.save: the key {k!r} of {path or 'the object'} is a "
                                         f"{type(k).__name__}; keys must be str or int")
        return {"dict": [[k, _flatten(v, f"{path}.{k}" if path else str(k), arrays)] for k, v in obj.items()]}
    if isinstance(obj, (list, tuple)):
        kind = "list" if isinstance(obj, list) else "tuple"
        return {kind: [_flatten(v, f"{path}.{i}" if path else str(i), arrays) for i, v in enumerate(obj)]}
    raise SerializationError(f"tg.save: cannot save {path or 'the object'} of type {type(obj).__name__} "
                             "(dicts, lists, tuples, numbers, strings, None, arrays and tensors can be saved)")


def _unflatten(node, arrays: dict, as_tensors: bool):
    if not isinstance(node, dict):
        return node
    (kind, value), = node.items()
    if kind == "array":
        a = arrays[value]
        return Tensor(a, dtype=a.dtype) if as_tensors else a
    if kind == "dict":
        return {k: _unflatten(v, arrays, as_tensors) for k, v in value}
    items = [_unflatten(v, arrays, as_tensors) for v in value]
    return items if kind == "list" else tuple(items)


# ----------------------------------------------------------------------------
# saving and loading

def save(obj, path) -> None:
    """Write obj (a state dict, an optimizer's state, any tree of dicts/lists/numbers/strings/arrays/
    tensors) to path as one .npz, atomically (a temporary file renamed over path)."""
    path = Path(path)
    arrays = {}
    skeleton = _flatten(obj, "", arrays)
    members = {f"a{i}": a for i, a in enumerate(arrays.values())}   # member names: short and safe
    names = dict(zip(arrays, members))
    meta = json.dumps(dict(format=FORMAT, tree=skeleton, arrays=names))
    if path.is_dir():
        raise SerializationError(f"{path}: is a directory, not a file name to save to")
    fd, tmp = tempfile.mkstemp(dir=path.parent if str(path.parent) else ".", prefix=f".{path.name}.",
                               suffix=TMP_SUFFIX)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)   # mkstemp makes the file private; a checkpoint is an ordinary file
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **{META: np.array(meta)}, **members)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _fsync_dir(directory: Path) -> None:
    """Make a rename in directory durable (the file's data is already on disk)."""
    try:
        fd = os.open(directory if str(directory) else ".", os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def load(path, as_tensors: bool = False):
    """Read what save() wrote. Arrays come back as NumPy arrays (as_tensors=True: as Tensors).
    SerializationError, naming the file, if it is missing, is not a tensorgrad file, or is damaged."""
    path = Path(path)
    if not path.exists():
        raise SerializationError(f"{path}: no such file")
    if path.is_dir():
        raise SerializationError(f"{path}: is a directory, not a tensorgrad file")
    try:
        with open(path, "rb") as f:
            magic = f.read(4)
    except OSError as e:
        raise SerializationError(f"{path}: cannot read it ({e.strerror or e})") from None
    if magic != b"PK\x03\x04":   # every .npz is a zip archive; anything else (a pickle, random bytes) is not ours
        raise SerializationError(f"{path}: not a tensorgrad file (it is not a .npz archive; tensorgrad reads "
                                 "only what tg.save wrote, and never unpickles)")
    try:
        with np.load(path, allow_pickle=False) as z:
            if META not in z.files:
                raise SerializationError(f"{path}: not a tensorgrad file (a .npz archive without the "
                                         f"'{META}' entry that tg.save writes)")
            meta = json.loads(str(z[META][()]))
            if not isinstance(meta, dict) or meta.get("format") != FORMAT:
                raise SerializationError(f"{path}: not a tensorgrad file (format "
                                         f"{meta.get('format') if isinstance(meta, dict) else None!r}, "
                                         f"expected {FORMAT!r})")
            arrays = {name: z[member] for name, member in meta["arrays"].items()}   # a truncated member fails here
        return _unflatten(meta["tree"], arrays, as_tensors)
    except SerializationError:
        raise
    except Exception as e:  # zipfile, zlib, numpy and json each raise their own kinds
        raise SerializationError(f"{path}: cannot read this file, it is corrupt or truncated "
                                 f"({type(e).__name__}: {e})") from None
