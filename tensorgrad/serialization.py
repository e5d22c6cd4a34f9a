"""tg.save / tg.load, called as torch.save / torch.load are, but without pickle.

    tg.save(model.state_dict(), "model.pt")                    # a path (written atomically) or a file object
    state = tg.load("model.pt", map_location="cpu", weights_only=True)

What can be saved: any tree of dicts (str or int keys), lists, tuples, None, bools, ints, floats, strings,
Tensors (they come back as Tensors, an nn.Parameter as an nn.Parameter, with its requires_grad) and NumPy
arrays of bool, integer, unsigned, float or complex dtype (they come back as arrays). A tensor that appears
twice in the tree is stored once and comes back as one tensor, as torch's do.

The file is a NumPy .npz archive, stored uncompressed: every array is one member (`t0.npy`, `t1.npy`, ...)
and the member `__tensorgrad__.npy` holds the rest of the tree as JSON (its structure, numbers and
strings, and which member each array is). Members are named by number, never by their place in the tree,
so no two keys can collide (`{'a.b': x, 'a': {'b': y}}` round-trips).

Reading untrusted files. load() never unpickles and reads only what save() writes; it refuses, with one
line naming the file, anything else before allocating for it: a path that is not a regular file (a FIFO,
a device, a directory), a torch or pickle file (with how to convert it), a compressed member (save() never
compresses, so a zip bomb is refused unread), declared sizes that do not fit in the file, dtypes that are
not bool/int/uint/float/complex (strings, bytes, datetimes, structured and object arrays), and a tree that
is not what save() writes. What it allocates is bounded by the file's size: the arrays (each read once its
header has been checked against its declared size) take at most the file's size, and the zip directory and
the JSON manifest become Python objects of a small multiple of their size (nesting deeper than Python's
recursion limit is refused).

Writing to a path is atomic: a temporary file next to the target is written, flushed to disk and renamed
over the target, so that at every instant the target is either the complete old file or the complete new
one, never half of each, even if the process is killed (SIGKILL, power loss) in the middle.
"""
import contextlib
import io
import json
import math
import os
import stat
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from .engine import Tensor

__all__ = ["save", "load", "SerializationError", "TMP_SUFFIX"]

FORMAT = "tensorgrad/2"
FORMAT_1 = "tensorgrad/1"   # before tensors and arrays were told apart: everything loads as arrays
META = "__tensorgrad__"
TMP_SUFFIX = ".tmp"         # save()'s temporary files are named .<target name>.<random>.tmp
SAVED_KINDS = "biufc"       # bool, int, uint, float, complex: the dtypes save() writes
FROM_TORCH = "python scripts/from_torch.py convert"


class SerializationError(ValueError):
    """A file tg.load cannot read, or an object tg.save cannot write; the message names the file."""


# ----------------------------------------------------------------------------
# the tree <-> (a JSON skeleton, numbered arrays)

class _Writer:
    """Turns a tree into its JSON skeleton, collecting its arrays as members t0, t1, ..."""

    def __init__(self):
        self.arrays = {}    # member name -> array
        self.seen = {}      # id(tensor or array) -> its skeleton node (shared tensors are stored once)
        self.alive = []     # the objects behind those ids, kept alive while saving

    def node(self, obj, where: str):
        if isinstance(obj, (Tensor, np.ndarray)):
            if id(obj) not in self.seen:
                self.seen[id(obj)] = self.array_node(obj, where)
                self.alive.append(obj)
            return self.seen[id(obj)]
        if isinstance(obj, np.generic):
            obj = obj.item()
        if obj is None or isinstance(obj, (bool, int, float, str)):
            return obj
        if isinstance(obj, dict):
            for k in obj:
                if not isinstance(k, (str, int)):
                    raise SerializationError(f"tg.save: the key {k!r} of {where} is a {type(k).__name__}; "
                                             "keys must be str or int")
            return {"dict": [[k, self.node(v, f"{where}[{k!r}]")] for k, v in obj.items()]}
        if isinstance(obj, (list, tuple)):
            kind = "list" if isinstance(obj, list) else "tuple"
            return {kind: [self.node(v, f"{where}[{i}]") for i, v in enumerate(obj)]}
        raise SerializationError(f"tg.save: cannot save {where}, a {type(obj).__name__} (dicts, lists, tuples, "
                                 "None, bools, ints, floats, strings, tensors and numeric arrays can be saved)")

    def array_node(self, obj, where: str) -> dict:
        a = np.asarray(obj.detach() if isinstance(obj, Tensor) else obj)
        if a.dtype.kind not in SAVED_KINDS or a.dtype.fields is not None:
            raise SerializationError(f"tg.save: {where} is an array of dtype {a.dtype}; only bool, integer, "
                                     "float and complex arrays can be saved (others would need pickle)")
        name = f"t{len(self.arrays)}"
        self.arrays[name] = a
        if not isinstance(obj, Tensor):
            return {"array": name}
        from .nn import Parameter
        kind = "parameter" if isinstance(obj, Parameter) else "tensor"
        return {kind: name, "requires_grad": bool(obj.requires_grad)}


def _tree(node, leaf):
    """The tree of a skeleton; leaf(node) builds an array or tensor node."""
    if not isinstance(node, (dict, list)):
        return node
    kind = next(iter(node), None) if isinstance(node, dict) else None
    allowed = {kind, "requires_grad"} if kind in ("tensor", "parameter") else {kind}
    if kind is None or set(node) != allowed and set(node) != {kind}:
        raise ValueError(f"an unexpected node in the tree: {str(node)[:60]}")
    value = node[kind]
    if kind == "dict":
        return {k: _tree(v, leaf) for k, v in value}
    if kind in ("list", "tuple"):
        items = [_tree(v, leaf) for v in value]
        return items if kind == "list" else tuple(items)
    return leaf(node)


def _tensor(a: np.ndarray, kind: str, requires_grad) -> Tensor:
    if not isinstance(requires_grad, bool):
        raise ValueError(f"a tensor's requires_grad is {requires_grad!r}")
    if kind == "parameter":
        from .nn import Parameter
        return Parameter(Tensor(a, dtype=a.dtype), requires_grad=requires_grad)
    return Tensor(a, dtype=a.dtype, requires_grad=requires_grad)


# ----------------------------------------------------------------------------
# saving

def save(obj, f) -> None:
    """Write obj (a state dict, an optimizer's state, a checkpoint: any tree of dicts/lists/tuples/numbers/
    strings/None/tensors/arrays) to f, a path (atomically: a temporary file renamed over it) or a binary
    file object, as torch.save(obj, f) does, without pickle."""
    writer = _Writer()
    skeleton = writer.node(obj, "the object")
    meta = json.dumps(dict(format=FORMAT, tree=skeleton))
    members = {META: np.array(meta), **writer.arrays}
    if hasattr(f, "write"):
        np.savez(f, **members)
        return
    path = Path(os.fspath(f))
    if path.is_dir():
        raise SerializationError(f"{path}: is a directory, not a file name to save to")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TMP_SUFFIX)
    try:
        os.fchmod(fd, 0o666 & ~_umask())   # mkstemp makes the file private; a checkpoint is an ordinary file
        with os.fdopen(fd, "wb") as out:
            np.savez(out, **members)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
        fsync_dir(path.parent)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def fsync_dir(directory: Path) -> None:
    """Make a rename in directory durable (the file's data is already on disk)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ----------------------------------------------------------------------------
# loading

def load(f, map_location=None, weights_only=None):
    """Read what save() wrote, from a path or a seekable binary file object, as torch.load(f,
    map_location, weights_only) does: tensors come back as Tensors (on the CPU: map_location may be None,
    'cpu', a device, a dict of location tags or a callable(tensor, 'cpu'), and may not name another
    device), arrays as arrays. Nothing is ever unpickled, so weights_only=True and False read the same.
    SerializationError, naming the file, for anything save() does not write (see the module's docstring)."""
    to_device = _map_location(map_location)
    name = _name_of(f)
    try:
        with _opened(f, name) as (fh, size):
            tree = _read(fh, size, name)
    except SerializationError:
        raise
    except RecursionError:
        raise SerializationError(f"{name}: not a tensorgrad file (its tree is nested too deeply)") from None
    except Exception as e:  # zipfile, numpy and json each raise their own kinds
        raise SerializationError(f"{name}: cannot read this file, it is corrupt or truncated "
                                 f"({type(e).__name__}: {e})") from None
    return tree if to_device is None else _map_tensors(tree, to_device, {})


def _name_of(f) -> str:
    if hasattr(f, "read"):
        return str(getattr(f, "name", None) or f"the {type(f).__name__}")
    return str(os.fspath(f))


def _map_location(map_location):
    """None, or a function tensor -> tensor for a callable map_location; an error if it names a device
    other than the CPU."""
    if map_location is None:
        return None
    if callable(map_location) and not isinstance(map_location, dict) and not hasattr(map_location, "type"):
        def call(t):
            got = map_location(t, "cpu")   # torch calls it with (storage, location tag); None: leave it
            return t if got is None else got
        return call
    # a dict maps location tags; every tensor save() writes has the tag 'cpu'
    target = map_location.get("cpu", "cpu") if isinstance(map_location, dict) else map_location
    kind = str(getattr(target, "type", target)).split(":")[0]
    if kind != "cpu":
        raise SerializationError(f"tg.load: map_location={map_location!r} names the device {kind!r}, which "
                                 "tensorgrad does not have (it runs on the CPU, with NumPy); use "
                                 "map_location='cpu' or leave it out")
    return None


def _map_tensors(obj, fn, done: dict):
    """obj with fn applied to each tensor once (a tensor that appears twice stays one)."""
    if isinstance(obj, Tensor):
        if id(obj) not in done:
            done[id(obj)] = (obj, fn(obj))
        return done[id(obj)][1]
    if isinstance(obj, dict):
        return {k: _map_tensors(v, fn, done) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_map_tensors(v, fn, done) for v in obj)
    return obj


@contextlib.contextmanager
def _opened(f, name: str):
    """(binary file object, its size) to read: f itself if it is a file object (it must be seekable), else
    the path opened, which must be a regular file (checked before opening: opening a FIFO would block)."""
    if hasattr(f, "read"):
        if not getattr(f, "seekable", lambda: False)():
            raise SerializationError(f"{name}: tg.load needs a seekable file object (a zip archive is read "
                                     "from its end); read it into an io.BytesIO first")
        start = f.tell()
        size = f.seek(0, io.SEEK_END)
        f.seek(start)
        yield f, size
        return
    try:
        kind = stat.S_IFMT(os.stat(name).st_mode)
        if kind != stat.S_IFREG:
            raise SerializationError(f"{name}: is {_KINDS.get(kind, 'not a regular file')}, not a tensorgrad file")
        fd = os.open(name, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise SerializationError(f"{name}: no such file") from None
    except OSError as e:
        raise SerializationError(f"{name}: cannot read it ({e.strerror or e})") from None
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):   # replaced between the stat and the open
            raise SerializationError(f"{name}: not a regular file, not a tensorgrad file")
        yield fh, info.st_size


_KINDS = {stat.S_IFDIR: "a directory", stat.S_IFIFO: "a FIFO (named pipe)", stat.S_IFCHR: "a character device",
          stat.S_IFBLK: "a block device", stat.S_IFSOCK: "a socket"}


def _read(fh, size: int, name: str):
    start = fh.tell()
    magic = fh.read(4)
    fh.seek(start)
    if magic[:1] == b"\x80":   # pickle protocol 2+: torch.save's legacy format, or pickle.dump
        raise SerializationError(f"{name}: a pickle (torch.save's legacy format?); tensorgrad never unpickles. "
                                 f"Convert a torch file once, where torch is installed: {FROM_TORCH} {name} "
                                 "OUT.npz")
    if magic != b"PK\x03\x04":   # every .npz is a zip archive
        raise SerializationError(f"{name}: not a tensorgrad file (it is not a .npz archive; tensorgrad reads "
                                 "only what tg.save wrote, and never unpickles)")
    with zipfile.ZipFile(fh) as z:
        infos = {i.filename: i for i in z.infolist()}
        if any(n.endswith("data.pkl") for n in infos):
            raise SerializationError(f"{name}: a PyTorch file (torch.save's zip format, with data.pkl); "
                                     f"tensorgrad never unpickles. Convert it once, where torch is installed: "
                                     f"{FROM_TORCH} {name} OUT.npz")
        _check_members(infos.values(), size, name)
        if META + ".npy" not in infos:
            raise SerializationError(f"{name}: not a tensorgrad file (a .npz archive without the "
                                     f"'{META}' entry that tg.save writes)")
        meta = json.loads(str(_member(z, infos[META + ".npy"], name, kinds="U")[()]))
        if not isinstance(meta, dict) or meta.get("format") not in (FORMAT, FORMAT_1):
            got = meta.get("format") if isinstance(meta, dict) else None
            raise SerializationError(f"{name}: not a tensorgrad file (format {got!r}, expected {FORMAT!r})")
        names = meta.get("arrays", {}) if meta["format"] == FORMAT_1 else {}   # format 1: tree path -> member

        built = {}   # member -> its array or tensor: a tensor saved twice comes back as one

        def leaf(node):
            (kind, member), *_ = node.items()
            kinds = ("array",) if meta["format"] == FORMAT_1 else ("array", "tensor", "parameter")
            if kind not in kinds or not isinstance(member, str):
                raise ValueError(f"an unknown node {str(node)[:60]}")
            member = names.get(member, member) + ".npy"
            if member == META + ".npy" or member not in infos:
                raise ValueError(f"the tree names a member {member!r} that is not in the archive")
            if (kind, member) not in built:
                a = _member(z, infos[member], name)
                built[kind, member] = a if kind == "array" else _tensor(a, kind, node.get("requires_grad"))
            return built[kind, member]
        return _tree(meta["tree"], leaf)


def _check_members(infos, size: int, name: str) -> None:
    """Every member stored uncompressed, as save() writes them, and all of them within the file's size."""
    total = 0
    for info in infos:
        if info.compress_type != zipfile.ZIP_STORED:
            raise SerializationError(f"{name}: the member {info.filename!r} is compressed, which tg.save never "
                                     "does; refused unread (a compressed member can expand without bound)")
        if info.file_size != info.compress_size or info.header_offset + info.compress_size > size:
            raise SerializationError(f"{name}: the member {info.filename!r} declares {info.file_size} bytes, "
                                     f"more than the file holds; corrupt or truncated")
        total += info.file_size
    if total > size:
        raise SerializationError(f"{name}: its members declare {total} bytes in a file of {size}; corrupt "
                                 "or truncated")


def _member(z: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, kinds: str = SAVED_KINDS) -> np.ndarray:
    """One .npy member, after checking its header: a dtype save() writes, and exactly the declared size."""
    with z.open(info) as m:
        version = np.lib.format.read_magic(m)
        read_header = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
        if version not in read_header:
            raise ValueError(f"the .npy format version {version} of {info.filename!r}")
        shape, fortran, dtype = read_header[version](m)
        if dtype.kind not in kinds or dtype.fields is not None or dtype.subdtype is not None:
            raise SerializationError(f"{name}: the member {info.filename!r} is an array of dtype {dtype}, which "
                                     "tg.save never writes (only bool, integer, float and complex)")
        if math.prod(shape) * dtype.itemsize != info.file_size - m.tell():
            raise SerializationError(f"{name}: the member {info.filename!r} declares a {shape} array of "
                                     f"{dtype} that does not match its size; corrupt or truncated")
        m.seek(0)
        a = np.lib.format.read_array(m, allow_pickle=False)
    return a.astype(a.dtype.newbyteorder("="), copy=False)
