"""tg.save / tg.load as torch.save / torch.load are called (paths and file objects, tensors back as tensors,
map_location, weights_only), against torch; and tg.load on files it must refuse, each with one line naming
the file and before allocating for it: torch and pickle files, zip bombs (under a memory cap), sizes that do
not fit the file, FIFOs, devices, directories, dtypes tg.save never writes, and crafted trees."""
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

import tensorgrad as tg
from tensorgrad.serialization import META, SerializationError

ROOT = Path(__file__).resolve().parents[1]


def _as_tg(obj, memo=None):
    """A torch tree -> the same tree with tensorgrad tensors (torch's Parameters as tg's; shared ones shared)."""
    memo = {} if memo is None else memo
    if isinstance(obj, torch.Tensor):
        if id(obj) not in memo:
            t = tg.tensor(obj.detach().numpy().copy())
            if isinstance(obj, torch.nn.Parameter):
                t = tg.nn.Parameter(t, requires_grad=obj.requires_grad)
            memo[id(obj)] = t.requires_grad_(obj.requires_grad) if obj.requires_grad else t
        return memo[id(obj)]
    if isinstance(obj, dict):
        return {k: _as_tg(v, memo) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_as_tg(v, memo) for v in obj)
    return obj


def _same(ours, theirs, where="tree"):
    """The tree tg.load gave is the one torch.load gave: same containers, keys, scalars, tensor kinds and values."""
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, tg.Tensor), where
        assert isinstance(ours, tg.nn.Parameter) == isinstance(theirs, torch.nn.Parameter), where
        assert ours.requires_grad == theirs.requires_grad, where
        assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1], where
        np.testing.assert_array_equal(ours.numpy(), theirs.detach().numpy(), err_msg=where)
        return
    assert type(ours) is type(theirs), (where, type(ours), type(theirs))
    if isinstance(theirs, dict):
        assert list(ours) == list(theirs), where
        for k in theirs:
            _same(ours[k], theirs[k], f"{where}[{k!r}]")
    elif isinstance(theirs, (list, tuple)):
        assert len(ours) == len(theirs), where
        for i, (a, b) in enumerate(zip(ours, theirs)):
            _same(a, b, f"{where}[{i}]")
    else:
        assert ours == theirs or (ours != ours and theirs != theirs), where


def _torch_tree():
    g = torch.Generator().manual_seed(0)
    w = torch.nn.Parameter(torch.randn(3, 2, generator=g))
    return {
        "model": {"weight": w, "bias": torch.zeros(3), "steps": torch.tensor(7), "mask": torch.tensor([True, False])},
        "tied": w,                                               # the same Parameter twice
        "grad": torch.randn(2, generator=g).requires_grad_(),    # a leaf that requires grad
        "dtypes": [torch.arange(4, dtype=dt) for dt in (torch.float16, torch.float64, torch.int8, torch.int32,
                                                        torch.int64, torch.uint8)],
        "empty": torch.zeros(0, 3), "scalar": torch.tensor(2.5, dtype=torch.float64),
        "view": torch.arange(12.0).reshape(3, 4).t(),            # not contiguous
        "opt": {"state": {0: {"step": 3, "exp_avg": torch.ones(2)}}, "param_groups": [{"lr": 0.1, "betas": (0.9, 0.99),
                                                                                       "nesterov": False, "name": None}]},
        "numbers": [1, -2.5, float("inf"), float("nan"), 10 ** 30, "text", None, True, (1, (2, 3))],
        "a.b": torch.ones(1), "a": {"b": torch.zeros(1)},         # keys that collide once flattened
    }


@pytest.mark.parametrize("to", ["path", "bytesio"])
def test_a_tree_comes_back_as_torch_gives_it_back(tmp_path, to):
    tree = _torch_tree()
    if to == "path":
        torch.save(tree, tmp_path / "t.pt")
        tg.save(_as_tg(tree), tmp_path / "g.pt")
        theirs, ours = torch.load(tmp_path / "t.pt"), tg.load(tmp_path / "g.pt")
        assert sorted(p.name for p in tmp_path.iterdir()) == ["g.pt", "t.pt"]   # the name given: no .npz added
    else:
        buf, mine = io.BytesIO(), io.BytesIO()
        torch.save(tree, buf)
        tg.save(_as_tg(tree), mine)
        buf.seek(0)
        mine.seek(0)
        theirs, ours = torch.load(buf), tg.load(mine)
    _same(ours, theirs)
    assert theirs["tied"] is theirs["model"]["weight"]
    assert ours["tied"] is ours["model"]["weight"]
    assert ours["a.b"].numpy().tolist() == [1.0] and ours["a"]["b"].numpy().tolist() == [0.0]


def test_numpy_arrays_come_back_as_arrays(tmp_path):
    tree = {"x": np.arange(6, dtype=np.int16).reshape(2, 3), "f": np.float32(1.5), "t": tg.ones(2),
            "c": np.array([1 + 2j]), "be": np.arange(3, dtype=">f8")}
    tg.save(tree, tmp_path / "a.npz")
    back = tg.load(tmp_path / "a.npz")
    assert type(back["x"]) is np.ndarray and back["x"].dtype == np.int16 and back["x"].tolist() == [[0, 1, 2], [3, 4, 5]]
    assert back["f"] == 1.5 and isinstance(back["t"], tg.Tensor)
    assert back["c"].tolist() == [1 + 2j] and back["be"].tolist() == [0, 1, 2] and back["be"].dtype == np.float64


@pytest.mark.parametrize("map_location", ["cpu", torch.device("cpu"), {"cuda:0": "cpu"},
                                          lambda storage, location: storage, lambda storage, location: None])
@pytest.mark.parametrize("weights_only", [None, True, False])
def test_map_location_and_weights_only_as_torch_takes_them(tmp_path, map_location, weights_only):
    tree = {"w": torch.arange(3.0)}
    torch.save(tree, tmp_path / "t.pt")
    tg.save(_as_tg(tree), tmp_path / "g.pt")
    theirs = torch.load(tmp_path / "t.pt", map_location=map_location, weights_only=weights_only)
    _same(tg.load(tmp_path / "g.pt", map_location=map_location, weights_only=weights_only), theirs)


@pytest.mark.parametrize("map_location", ["cuda", "cuda:1", torch.device("cuda"), {"cpu": "cuda:0"}, "mps"])
def test_map_location_naming_a_device_tensorgrad_lacks_is_a_clear_error(tmp_path, map_location):
    tg.save({"w": tg.ones(2)}, tmp_path / "g.pt")
    kind = str(getattr(map_location, "type", map_location)).split(":")[0] if not isinstance(map_location, dict) \
        else "cuda"
    with pytest.raises(SerializationError, match=f"names the device '{kind}', which tensorgrad does not have .*"
                                                 "use map_location='cpu'"):
        tg.load(tmp_path / "g.pt", map_location=map_location)
    if not torch.cuda.is_available() and kind == "cuda":   # a CPU-only torch refuses it too
        torch.save({"w": torch.ones(2)}, tmp_path / "t.pt")
        with pytest.raises(RuntimeError):
            torch.load(tmp_path / "t.pt", map_location=map_location)


def test_map_location_as_tensorgrad_device(tmp_path):
    tg.save({"w": tg.ones(2)}, tmp_path / "g.pt")
    for map_location in (tg.device("cpu"), "cpu:0"):   # (torch's own device objects are tested with torch above)
        assert tg.load(tmp_path / "g.pt", map_location=map_location)["w"].numpy().tolist() == [1.0, 1.0]


def test_a_map_location_callable_sees_each_tensor(tmp_path):
    tg.save({"a": tg.ones(2), "b": [tg.zeros(1)]}, tmp_path / "g.pt")
    seen = []
    back = tg.load(tmp_path / "g.pt", map_location=lambda t, loc: seen.append(loc) or t * 2)
    assert seen == ["cpu", "cpu"] and back["a"].numpy().tolist() == [2.0, 2.0]


def test_flattened_keys_that_collide_round_trip(tmp_path):
    """Issue 21, item 5: {'a.b': x, 'a': {'b': y}} loaded a.b back as y."""
    x, y = np.array([1.0]), np.array([2.0])
    tg.save({"a.b": x, "a": {"b": y}, "0": np.array([3]), 0: np.array([4])}, tmp_path / "k.npz")
    back = tg.load(tmp_path / "k.npz")
    assert back["a.b"].tolist() == [1.0] and back["a"]["b"].tolist() == [2.0]
    assert back["0"].tolist() == [3] and back[0].tolist() == [4]


def test_what_cannot_be_saved_is_refused_by_name(tmp_path):
    for obj, message in [({"x": np.array([object()])}, r"the object\['x'\] is an array of dtype object"),
                         ({"x": np.array(["a"])}, "dtype <U1"), ({(1, 2): 1}, "the key \\(1, 2\\) of the object"),
                         ({"f": open}, r"cannot save the object\['f'\], a builtin_function_or_method"),
                         ([b"bytes"], r"cannot save the object\[0\], a bytes"),
                         ({"z": 1 + 2j}, r"cannot save the object\['z'\], a complex"), ({"s": {1}}, "a set")]:
        with pytest.raises(SerializationError, match=message):
            tg.save(obj, tmp_path / "o.npz")
    assert list(tmp_path.iterdir()) == []


def test_a_file_written_by_the_first_format_still_loads(tmp_path):
    """Checkpoints written before tensors and arrays were told apart (format tensorgrad/1): arrays, as then."""
    meta = {"format": "tensorgrad/1", "tree": {"dict": [["w", {"array": "w"}], ["step", 3]]}, "arrays": {"w": "a0"}}
    np.savez(tmp_path / "old.npz", **{META: np.array(json.dumps(meta)), "a0": np.arange(3.0)})
    back = tg.load(tmp_path / "old.npz")
    assert back["step"] == 3 and back["w"].tolist() == [0.0, 1.0, 2.0]


# ----------------------------------------------------------------------------
# torch files: a clear error, and the converter

def test_a_torch_file_says_how_to_convert_it(tmp_path):
    state = {"w": torch.arange(4.0).reshape(2, 2), "n": 3}
    torch.save(state, tmp_path / "model.pt")
    torch.save(state, tmp_path / "legacy.pt", _use_new_zipfile_serialization=False)
    with pytest.raises(SerializationError, match=r"model\.pt: a PyTorch file \(torch.save's zip format, with "
                                                 r"data\.pkl\); tensorgrad never unpickles\. Convert it once.*"
                                                 r"python scripts/from_torch\.py convert .*model\.pt OUT\.npz"):
        tg.load(tmp_path / "model.pt")
    with pytest.raises(SerializationError, match=r"legacy\.pt: a pickle .*scripts/from_torch\.py convert"):
        tg.load(tmp_path / "legacy.pt")
    run = subprocess.run([sys.executable, str(ROOT / "scripts" / "from_torch.py"), "convert", str(tmp_path / "model.pt"),
                          str(tmp_path / "model.npz")], capture_output=True, text=True, timeout=120,
                         env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert run.returncode == 0, run.stderr
    _same(tg.load(tmp_path / "model.npz"), torch.load(tmp_path / "model.pt"))


# ----------------------------------------------------------------------------
# untrusted files (issue 21, items 6 and 8)

def _npy(a_or_header) -> bytes:
    buf = io.BytesIO()
    if isinstance(a_or_header, dict):
        np.lib.format.write_array_header_1_0(buf, a_or_header)
    else:
        np.save(buf, a_or_header, allow_pickle=False)
    return buf.getvalue()


def _crafted(path, members: dict, tree=None, compress=zipfile.ZIP_STORED):
    """A .npz as tg.save lays it out, with the given members (name -> .npy bytes) and tree."""
    meta = json.dumps({"format": "tensorgrad/2", "tree": tree if tree is not None else {"array": "t0"}})
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(META + ".npy", _npy(np.array(meta)))
        for name, data in members.items():
            z.writestr(name + ".npy", data, compress_type=compress)
    return path


def _in_subprocess(code: str, memory_mib: int | None = None, timeout: float = 60):
    """Run code after `import tensorgrad as tg` in a fresh Python, optionally under an address-space cap."""
    cap = "" if memory_mib is None else \
        f"import resource; resource.setrlimit(resource.RLIMIT_AS, ({memory_mib} << 20, {memory_mib} << 20))\n"
    prog = f"{cap}import tensorgrad as tg\n{code}"
    return subprocess.run([sys.executable, "-c", prog], capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))


def test_a_zip_bomb_is_refused_unread_under_a_memory_cap(tmp_path):
    """A 2 MB .npz whose deflated member expands to 512 MiB: refused before decompressing, within 400 MiB."""
    path = tmp_path / "bomb.npz"
    n = 1 << 26   # float64: 512 MiB
    meta = json.dumps({"format": "tensorgrad/2", "tree": {"array": "t0"}})
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        z.writestr(META + ".npy", _npy(np.array(meta)), compress_type=zipfile.ZIP_STORED)
        with z.open("t0.npy", "w", force_zip64=True) as f:
            np.lib.format.write_array_header_1_0(f, {"descr": "<f8", "fortran_order": False, "shape": (n,)})
            for _ in range(n * 8 >> 24):
                f.write(bytes(1 << 24))
    assert path.stat().st_size < 4 << 20
    run = _in_subprocess(f"""
try:
    tg.load({str(path)!r})
except tg.serialization.SerializationError as e:
    print(e)
print(open("/proc/self/status").read().split("VmHWM:")[1].split()[0])   # peak resident KiB (ru_maxrss survives exec)
""", memory_mib=400)
    assert run.returncode == 0, run.stderr
    message, maxrss_kib = run.stdout.splitlines()
    assert f"{path}: the member 't0.npy' is compressed, which tg.save never does; refused unread" in message
    assert int(maxrss_kib) < 300 << 10


@pytest.mark.parametrize("compression", [zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
def test_compressed_members_are_refused(tmp_path, compression):
    path = _crafted(tmp_path / "c.npz", {"t0": _npy(np.zeros(1000))}, compress=compression)
    with pytest.raises(SerializationError, match=r"c\.npz: the member 't0\.npy' is compressed"):
        tg.load(path)


def test_declared_sizes_must_fit_in_the_file(tmp_path):
    """A stored member whose header declares 8 GB, in a file of a few hundred bytes: refused, not allocated."""
    header = _npy({"descr": "<f8", "fortran_order": False, "shape": (10 ** 9,)})
    path = _crafted(tmp_path / "big.npz", {"t0": header + bytes(64)})
    run = _in_subprocess(f"""
try:
    tg.load({str(path)!r})
except tg.serialization.SerializationError as e:
    print(e)""", memory_mib=400)
    assert run.returncode == 0, run.stderr
    assert "big.npz: the member 't0.npy' declares a (1000000000,) array of float64 that does not match its size" \
        in run.stdout


def test_a_member_that_claims_more_bytes_than_the_file_has(tmp_path):
    path = _crafted(tmp_path / "m.npz", {"t0": _npy(np.zeros(100))})
    data = bytearray(path.read_bytes())
    cd = data.rindex(b"PK\x01\x02")   # the last central directory entry: t0.npy's
    data[cd + 20:cd + 28] = (10 ** 8).to_bytes(4, "little") * 2   # its compressed and uncompressed sizes
    path.write_bytes(bytes(data))
    with pytest.raises(SerializationError, match=r"m\.npz: .*(more than the file holds|corrupt or truncated)"):
        tg.load(path)


def test_a_fifo_a_device_and_a_directory_are_refused_at_once(tmp_path):
    fifo = tmp_path / "pipe.npz"
    os.mkfifo(fifo)
    (tmp_path / "dir.npz").mkdir()
    run = _in_subprocess(f"""
for path in ({str(fifo)!r}, "/dev/zero", {str(tmp_path / 'dir.npz')!r}):
    try:
        tg.load(path)
    except tg.serialization.SerializationError as e:
        print(e)""", timeout=30)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == [f"{fifo}: is a FIFO (named pipe), not a tensorgrad file",
                                       "/dev/zero: is a character device, not a tensorgrad file",
                                       f"{tmp_path / 'dir.npz'}: is a directory, not a tensorgrad file"]


@pytest.mark.parametrize("array", [np.array(["text"]), np.array([b"bytes"]), np.array(["2026-01-01"], "datetime64[D]"),
                                   np.array([1], "timedelta64[s]"), np.zeros(2, dtype=[("a", "<f4"), ("b", "<i4")]),
                                   np.zeros(2, dtype="V8")])
def test_dtypes_tg_save_never_writes_are_refused(tmp_path, array):
    path = _crafted(tmp_path / "d.npz", {"t0": _npy(array)})
    with pytest.raises(SerializationError, match=r"d\.npz: the member 't0\.npy' is an array of dtype .* which "
                                                 "tg.save never writes"):
        tg.load(path)


def test_an_object_array_is_never_unpickled(tmp_path):
    buf = io.BytesIO()
    np.save(buf, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(SerializationError, match="dtype object, which tg.save never writes"):
        tg.load(_crafted(tmp_path / "o.npz", {"t0": buf.getvalue()}))


@pytest.mark.parametrize("tree, message", [
    ({"array": "t9"}, "names a member 't9.npy' that is not in the archive"),
    ({"array": "__tensorgrad__"}, "names a member '__tensorgrad__.npy'"),
    ({"pickle": "t0"}, "unknown node"),
    ({"tensor": "t0", "requires_grad": "yes"}, "requires_grad is 'yes'"),
    ({"dict": [["a", 1]], "extra": 2}, "an unexpected node"),
    ([1, 2], "an unexpected node"),
])
def test_crafted_trees_are_refused(tmp_path, tree, message):
    path = _crafted(tmp_path / "t.npz", {"t0": _npy(np.zeros(2))}, tree=tree)
    with pytest.raises(SerializationError, match=r"t\.npz: cannot read this file, it is corrupt or truncated .*"
                                                 + message.replace("(", r"\(").replace(")", r"\)")):
        tg.load(path)


def test_a_tree_nested_deeper_than_python_recurses(tmp_path):
    deep = {"list": [1]}
    for _ in range(100_000):
        deep = {"list": [deep]}
    meta = '{"format": "tensorgrad/2", "tree": ' + '{"list": [' * 100_000 + "1" + "]}" * 100_000 + "}"
    with zipfile.ZipFile(tmp_path / "deep.npz", "w") as z:
        z.writestr(META + ".npy", _npy(np.array(meta)))
    with pytest.raises(SerializationError, match=r"deep\.npz: not a tensorgrad file \(its tree is nested too deeply\)"):
        tg.load(tmp_path / "deep.npz")


def test_file_objects_must_be_seekable(tmp_path):
    tg.save({"w": tg.ones(2)}, tmp_path / "g.npz")
    r, w = os.pipe()
    os.write(w, (tmp_path / "g.npz").read_bytes()[:1000])
    os.close(w)
    with open(r, "rb", buffering=0) as pipe:
        with pytest.raises(SerializationError, match="tg.load needs a seekable file object .* io.BytesIO"):
            tg.load(pipe)
