"""Bringing torch code: devices, the CUDA/AMP/backends namespaces, dtypes and small names,
interop with torch tensors, `import torch` aliasing and the runner, and the one-line message for
every torch name tensorgrad lacks. Each against torch where torch has an answer on this CPU."""
import os
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch

import tensorgrad as tg

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(code: str, *args, script=None):
    """Run Python code (or a script through `python -m tensorgrad.run`) in a fresh process."""
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    cmd = [sys.executable, "-m", "tensorgrad.run", script, *args] if script else [sys.executable, "-c", code]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)


# --- devices ----------------------------------------------------------------------------------

@pytest.mark.parametrize("args", [("cpu",), ("cuda",), ("cuda:1",), ("cuda", 2), ("mps",), ("cpu", 0)])
def test_device_objects_as_torch(args):
    d, td = tg.device(*args), torch.device(*args)
    assert (repr(d), str(d), d.type, d.index) == (repr(td), str(td), td.type, td.index)
    assert d == tg.device(*args) and hash(d) == hash(tg.device(*args))
    assert pickle.loads(pickle.dumps(d)) == d


@pytest.mark.parametrize("bad", ["foo", "cuda:x", "cuda:-1"])
def test_device_parse_errors_as_torch(bad):
    with pytest.raises(RuntimeError) as want:
        torch.device(bad)
    with pytest.raises(RuntimeError) as got:
        tg.device(bad)
    assert str(got.value).split(":")[0] == str(want.value).split(":")[0]


def test_cuda_accelerator_backends_as_on_a_cpu_torch():
    assert tg.cuda.is_available() is torch.cuda.is_available() is False
    assert tg.cuda.device_count() == torch.cuda.device_count() == 0
    assert tg.accelerator.is_available() is torch.accelerator.is_available() is False
    assert tg.accelerator.current_accelerator() is torch.accelerator.current_accelerator() is None
    assert tg.backends.mps.is_available() is torch.backends.mps.is_available() is False
    assert tg.backends.cudnn.is_available() is torch.backends.cudnn.is_available() is False
    tg.cuda.manual_seed(1), tg.cuda.manual_seed_all(1), tg.cuda.synchronize(), tg.cuda.empty_cache()
    for name in ("enabled", "benchmark", "deterministic", "allow_tf32"):
        assert getattr(tg.backends.cudnn, name) == getattr(torch.backends.cudnn, name)
    assert tg.backends.cuda.matmul.allow_tf32 == torch.backends.cuda.matmul.allow_tf32
    tg.backends.cuda.matmul.allow_tf32 = True
    tg.backends.cudnn.benchmark = True
    assert tg.backends.cuda.matmul.allow_tf32 and tg.backends.cudnn.benchmark
    tg.backends.cuda.matmul.allow_tf32 = False
    tg.backends.cudnn.benchmark = False
    with pytest.raises(RuntimeError, match="tensorgrad does not implement torch.cuda.current_device"):
        tg.cuda.current_device()


def test_amp_passes_through_as_on_a_cpu_torch():
    for lib in (tg, torch):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert lib.amp.GradScaler().is_enabled() is False                    # 'cuda' without CUDA: disabled
            s = lib.cuda.amp.GradScaler(enabled=False)
            assert not s.is_enabled() and s.get_scale() == 1.0 and s.state_dict() == {}
            with lib.autocast("cuda"):                                           # disabled with a warning
                pass
        assert any("GradScaler is enabled, but CUDA is not available" in str(w.message) for w in caught)
        with lib.amp.autocast(device_type="cpu", enabled=False):
            y = lib.ones(2) * 2
        assert y.dtype == lib.float32
        w = lib.ones(2, requires_grad=True)
        opt = lib.optim.SGD([w], lr=0.1)
        s = lib.amp.GradScaler(enabled=False)
        loss = (w * 3).sum()
        assert s.scale(loss) is loss
        s.scale(loss).backward()
        s.step(opt)
        s.update()
        assert w.tolist() == pytest.approx([0.7, 0.7])
    with pytest.raises(RuntimeError, match="tensorgrad does not implement torch.autocast with enabled=True"):
        tg.autocast("cpu", dtype=tg.float16)


def test_a_cpu_grad_scaler_scales_and_skips_as_torch():
    results = []
    for lib in (tg, torch):
        w = lib.ones(2, dtype=lib.float64, requires_grad=True)
        opt = lib.optim.SGD([w], lr=0.1)
        s = lib.amp.GradScaler("cpu", init_scale=8.0, growth_interval=2)
        log = []
        for x in (1.0, float("inf"), 1.0, 2.0, 3.0):
            opt.zero_grad()
            s.scale((w * x).sum()).backward()
            log.append(w.grad.tolist())
            s.step(opt)
            s.update()
            log.append((s.get_scale(), w.tolist()))
        results.append((log, s.state_dict()))
    assert results[0] == results[1]


# --- dtypes and small names --------------------------------------------------------------------

def test_dtypes_compare_and_print_as_torch():
    x = tg.zeros(2)
    assert x.dtype == tg.float32 and tg.zeros(2, dtype=tg.long).dtype == tg.int64
    assert str(tg.bfloat16) == str(torch.bfloat16) and repr(tg.bfloat16) == repr(torch.bfloat16)
    with pytest.raises(TypeError, match="tensorgrad does not implement torch.bfloat16 tensors"):
        tg.zeros(2, dtype=tg.bfloat16)
    with pytest.raises(TypeError, match="tensorgrad does not implement torch.bfloat16 tensors"):
        tg.ones(3).to(tg.bfloat16)
    table = {"float32": tg.float32, "bfloat16": tg.bfloat16, "float16": tg.float16}      # a script's dtype table
    assert table["float16"] == np.float16


@pytest.mark.parametrize("name", ["float16", "float32", "float64"])
def test_finfo_as_torch(name):
    got, want = tg.finfo(getattr(tg, name)), torch.finfo(getattr(torch, name))
    for field in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution"):
        assert getattr(got, field) == getattr(want, field), field
    assert got.dtype == want.dtype and repr(got) == repr(want)


@pytest.mark.parametrize("name", ["uint8", "int8", "int16", "int32", "int64"])
def test_iinfo_as_torch(name):
    got, want = tg.iinfo(getattr(tg, name)), torch.iinfo(getattr(torch, name))
    assert (got.bits, got.min, got.max, got.dtype, repr(got)) == (want.bits, want.min, want.max, want.dtype, repr(want))


def test_finfo_iinfo_errors_and_defaults_as_torch():
    assert repr(tg.finfo()) == repr(torch.finfo())
    with pytest.raises(TypeError, match="torch.finfo\\(\\) requires a floating point input type"):
        tg.finfo(tg.int64)
    with pytest.raises(TypeError, match="torch.iinfo\\(\\) requires an integer input type"):
        tg.iinfo(tg.float32)


def test_small_names_as_torch():
    s, ts = tg.Size([2, 3]), torch.Size([2, 3])
    assert repr(s) == repr(ts) and s == ts == (2, 3) and s.numel() == ts.numel() and repr(s[1:]) == repr(ts[1:])
    assert tg.zeros(2, 3).shape == s
    assert tg.is_tensor(tg.ones(1)) and not tg.is_tensor([1]) and torch.is_tensor(torch.ones(1))
    assert tg.is_floating_point(tg.ones(1)) and not tg.is_floating_point(tg.ones(1, dtype=tg.long))
    n = tg.get_num_threads()
    tg.set_num_threads(1)
    assert tg.get_num_threads() == 1
    tg.set_num_threads(n)
    with pytest.raises(RuntimeError, match="set_num_threads expects a positive integer"):
        tg.set_num_threads(0)
    tg.set_float32_matmul_precision("high")
    assert tg.get_float32_matmul_precision() == "high"
    tg.set_float32_matmul_precision("highest")


def test_inference_mode_as_torch():
    for lib in (tg, torch):
        x = lib.ones(2, requires_grad=True)

        @lib.inference_mode()
        def called():
            return (x * 2).requires_grad, lib.is_inference_mode_enabled()

        @lib.inference_mode
        def bare():
            return (x * 2).requires_grad

        with lib.inference_mode():
            inside = (x * 2).requires_grad
        with lib.inference_mode(False):
            off = (x * 2).requires_grad
        assert (called(), bare(), inside, off, lib.is_inference_mode_enabled(), lib.is_grad_enabled()) == \
            ((False, True), False, False, True, False, True)


def test_rng_state_round_trip():
    tg.manual_seed(7)
    state = tg.get_rng_state()
    a = tg.randn(3)
    tg.set_rng_state(state)
    assert tg.randn(3).tolist() == a.tolist()


# --- interop -----------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [3.5, [1.0, 2.0], [[1, 2], [3, 4]], [True, False]])
@pytest.mark.parametrize("dtype", [None, "float64", "int32"])
def test_torch_takes_tensorgrad_tensors(value, dtype):
    t = tg.tensor(value) if dtype is None or isinstance(value[0] if isinstance(value, list) else value, bool) \
        else tg.tensor(value, dtype=getattr(tg, dtype))
    want = torch.tensor(t.numpy())
    for convert in (torch.tensor, torch.as_tensor, torch.from_dlpack):
        got = convert(t)
        assert got.dtype == want.dtype and got.tolist() == want.tolist(), convert
    assert np.asarray(t) is t.numpy()
    for convert in (torch.as_tensor, torch.from_dlpack):   # these share memory, as torch's do
        shared = convert(t)
        shared.logical_not_() if t.dtype == np.bool_ else shared.add_(1)
        assert t.tolist() == shared.tolist()
    assert torch.tensor(tg.ones(3, requires_grad=True)).requires_grad is False


def test_torch_takes_views_and_expanded_tensors():
    base = tg.arange(6.0).reshape(2, 3)
    for t in (base.T, base[:, 1], tg.ones(3).expand(2, 3)):
        assert torch.tensor(t).tolist() == t.tolist() and torch.from_dlpack(t).tolist() == t.tolist()


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.float16, torch.int64, torch.int16, torch.uint8,
                                   torch.bool])
def test_tensorgrad_takes_torch_tensors_keeping_dtype(dtype):
    src = torch.arange(6).reshape(2, 3).to(dtype)
    for convert in (tg.tensor, tg.as_tensor, tg.from_dlpack):
        got = convert(src)
        assert str(got.dtype) == str(dtype).replace("torch.", "") and got.tolist() == src.tolist(), convert
    copied, shared = tg.tensor(src), tg.as_tensor(src)
    if dtype != torch.bool:
        src += 1
        assert copied.tolist() != src.tolist() and shared.tolist() == src.tolist()


def test_a_torch_tensor_that_requires_grad_is_copied_detached_with_torchs_warning():
    src = torch.ones(3, dtype=torch.float64, requires_grad=True)
    with pytest.warns(UserWarning, match="To copy construct from a tensor, it is recommended to use "
                                         "sourceTensor.detach"):
        t = tg.tensor(src)
    assert t.dtype == np.float64 and not t.requires_grad
    with pytest.raises(TypeError, match="bfloat16"):
        tg.tensor(torch.ones(2, dtype=torch.bfloat16))


def test_as_tensor_shares_numpy_and_tensors_as_torch():
    a = np.arange(3.0)
    t = tg.as_tensor(a)
    a[0] = 10
    assert t[0].item() == 10 and tg.as_tensor(t) is t and tg.as_tensor(t, dtype=tg.float32).dtype == tg.float32
    assert tg.as_tensor([1, 2]).dtype == torch.as_tensor([1, 2]).numpy().dtype


# --- import torch as tensorgrad, the runner, and the one-line message -------------------------------

def test_install_as_torch_resolves_every_import_form():
    r = run("import tensorgrad\n"
            "tensorgrad.install_as_torch()\n"
            "import torch, torch.nn as nn\n"
            "from torch.nn import functional as F\n"
            "import torch.nn.functional as F2\n"
            "from torch.utils.data import Dataset, DataLoader, TensorDataset, random_split\n"
            "from torch.utils.data.dataloader import DataLoader as D2\n"
            "import torch.backends.cudnn, torch.optim.lr_scheduler\n"
            "from torch.cuda.amp import GradScaler\n"
            "from torch.autograd import Function\n"
            "import torch.autograd.functional as AF\n"
            "print(torch is tensorgrad, nn is tensorgrad.nn, F is F2 is tensorgrad.nn.functional, D2 is DataLoader,\n"
            "      torch.__spec__.name, torch.nn.__spec__.name, torch.cuda.is_available(), AF.jacobian.__module__)\n"
            "import torch.distributed\n")
    lines = r.stdout.split()
    assert lines == ["True", "True", "True", "True", "tensorgrad", "tensorgrad.nn", "False",
                     "tensorgrad.autograd.functional"], r.stderr
    assert r.stderr.strip().splitlines()[-1] == \
        "ModuleNotFoundError: tensorgrad does not implement torch.distributed"


def test_install_as_torch_refuses_once_the_real_torch_is_imported():
    r = run("import torch, tensorgrad\ntensorgrad.install_as_torch()")
    assert "install_as_torch: the real torch is already imported" in r.stderr


def test_the_runner_runs_a_script_unmodified_and_stops_with_one_line(tmp_path):
    ok = tmp_path / "ok.py"
    ok.write_text("import sys, torch\nimport torch.nn as nn\n"
                  "print(torch.__name__, nn.Linear(2, 3)(torch.ones(1, 2)).shape, sys.argv[1:], __name__)\n")
    r = run("", "a", "--b", script=str(ok))
    assert r.returncode == 0 and r.stdout.split() == ["tensorgrad", "torch.Size([1,", "3])", "['a',", "'--b']", "__main__"], \
        r.stderr
    for body, line, what in [("import torch\n\ntorch.distributed.init_process_group('gloo')\n", 3,
                              "torch.distributed"),
                             ("import torch\nimport torch.jit\n", 2, "torch.jit"),
                             ("import torch\nx = torch.ones(2)\nx.as_strided((1,), (1,))\n", 3,
                              "torch.Tensor.as_strided"),
                             ("from torch.nn import functional as F\nF.not_a_function(1)\n", 2,
                              "torch.nn.functional.not_a_function")]:
        bad = tmp_path / "bad.py"
        bad.write_text(body)
        r = run("", script=str(bad))
        assert r.returncode == 1 and r.stderr == f"bad.py:{line}: tensorgrad does not implement {what}\n", r.stderr
    other = tmp_path / "other.py"
    other.write_text("import torch\nraise ValueError('mine')\n")
    r = run("", script=str(other))
    assert r.returncode == 1 and "Traceback" in r.stderr and "ValueError: mine" in r.stderr
    r = run("", script=None) if False else subprocess.run([sys.executable, "-m", "tensorgrad.run"], capture_output=True,
                                                          text=True, cwd=ROOT,
                                                          env=dict(os.environ, PYTHONPATH=ROOT))
    assert r.returncode == 2 and "usage: python -m tensorgrad.run script.py" in r.stderr


def test_summary_writer_is_tensorboardx_or_one_line_naming_the_extra(tmp_path):
    r = run("import sys; sys.modules['tensorboardX'] = None\n"
            "import tensorgrad; tensorgrad.install_as_torch()\n"
            "from torch.utils.tensorboard import SummaryWriter\n")
    assert r.stderr.strip().splitlines()[-1] == (
        "ImportError: torch.utils.tensorboard on tensorgrad needs tensorboardX: pip install "
        "'tensorgrad-ninja[tensorboard]' (or pip install tensorboardX)")
    pytest.importorskip("tensorboardX")
    r = run("import tensorgrad; tensorgrad.install_as_torch()\n"
            "from torch.utils.tensorboard import SummaryWriter\n"
            f"w = SummaryWriter(log_dir={str(tmp_path)!r}); w.add_scalar('Loss/train', 1.5, 0); w.close()\n"
            "print(SummaryWriter.__module__)")
    assert r.stdout.startswith("tensorboardX") and any(p.name.startswith("events.out") for p in tmp_path.iterdir()), \
        r.stderr


@pytest.mark.parametrize("where,name,torch_name", [
    (tg, "distributed", "torch.distributed"), (tg, "not_a_function", "torch.not_a_function"),
    (tg.nn, "Transformer2", "torch.nn.Transformer2"), (tg.nn.functional, "not_a_loss", "torch.nn.functional.not_a_loss"),
    (tg.optim, "LBFGS2", "torch.optim.LBFGS2"), (tg.utils.data, "DistributedSampler", "torch.utils.data.DistributedSampler"),
    (tg.autograd, "forward_ad", "torch.autograd.forward_ad"), (tg.cuda, "nccl", "torch.cuda.nccl"),
    (tg.ones(2), "as_strided", "torch.Tensor.as_strided"), (tg.Tensor, "stft", "torch.Tensor.stft"),
])
def test_a_missing_name_says_which_torch_name(where, name, torch_name):
    with pytest.raises(AttributeError) as e:
        getattr(where, name)
    assert str(e.value) == f"tensorgrad does not implement {torch_name}"
    assert not hasattr(where, name) and getattr(where, name, 5) == 5


def test_a_name_torch_tensors_lack_is_a_plain_attribute_error():
    """Tensor names its missing torch members one by one (missing.TORCH_TENSOR_NAMES) rather than through a
    __getattr__, which would slow every attribute read of every tensor: a name torch does not have either
    is Python's own error."""
    with pytest.raises(AttributeError, match="'Tensor' object has no attribute 'pin_memory_please'"):
        tg.ones(2).pin_memory_please
    import torch
    assert {n for n in dir(torch.Tensor) if not n.startswith("_")} <= set(dir(tg.Tensor))


# --- device= everywhere ---------------------------------------------------------------------------

FACTORIES = {
    "tensor": lambda m, **d: m.tensor([1.0, 2.0], **d), "as_tensor": lambda m, **d: m.as_tensor([1, 2], **d),
    "zeros": lambda m, **d: m.zeros(2, 3, **d), "ones": lambda m, **d: m.ones((2,), **d),
    "empty": lambda m, **d: m.empty(2, **d).zero_(), "full": lambda m, **d: m.full((2,), 7, **d),
    "eye": lambda m, **d: m.eye(2, **d), "arange": lambda m, **d: m.arange(4, **d),
    "linspace": lambda m, **d: m.linspace(0, 1, 5, **d), "logspace": lambda m, **d: m.logspace(0, 1, 3, **d),
    "zeros_like": lambda m, **d: m.zeros_like(m.ones(2), **d), "ones_like": lambda m, **d: m.ones_like(m.ones(2), **d),
    "full_like": lambda m, **d: m.full_like(m.ones(2), 3, **d),
    "empty_like": lambda m, **d: m.empty_like(m.ones(2), **d).zero_(),
    "rand": lambda m, **d: m.rand(2, **d) * 0, "randn": lambda m, **d: m.randn(2, **d) * 0,
    "randint": lambda m, **d: m.randint(0, 1, (2,), **d), "randperm": lambda m, **d: m.randperm(1, **d),
    "rand_like": lambda m, **d: m.rand_like(m.ones(2), **d) * 0, "randn_like": lambda m, **d: m.randn_like(m.ones(2), **d) * 0,
    "randint_like": lambda m, **d: m.randint_like(m.ones(2), 0, 1, **d),
    "normal": lambda m, **d: m.normal(0.0, 0.0, size=(2,), **d),
    "tril_indices": lambda m, **d: m.tril_indices(3, 3, **d), "triu_indices": lambda m, **d: m.triu_indices(3, 3, **d),
}


@pytest.mark.parametrize("name", FACTORIES)
def test_every_factory_takes_device_as_torch(name):
    want = FACTORIES[name](torch, device="cpu")
    for dev in ("cpu", tg.device("cpu"), None):
        got = FACTORIES[name](tg, device=dev)
        assert got.tolist() == want.tolist() and str(got.dtype) == str(want.dtype).replace("torch.", "")
        assert got.device == tg.device("cpu") and str(got.device) == str(want.device)
    for dev in ("cuda", "cuda:0", "mps", tg.device("cuda", 1)):
        with pytest.raises(RuntimeError, match=f"{name}: tensorgrad runs on NumPy, on the CPU only; it has no "
                                               f"'{str(tg.device(dev))}' device"):
            FACTORIES[name](tg, device=dev)


def test_to_cpu_and_cuda_as_torch():
    for lib in (tg, torch):
        x = lib.ones(2, 3)
        assert x.to("cpu") is x and x.cpu() is x and x.to(lib.device("cpu")) is x and x.to(x) is x
        assert x.to("cpu", lib.float64).dtype == lib.float64 and x.to(device="cpu", dtype=lib.int64).dtype == lib.int64
        assert x.to(lib.zeros(1, dtype=lib.float64)).dtype == lib.float64
        y = x.to("cpu", copy=True)
        assert y is not x and y.tolist() == x.tolist()
        assert str(x.device) == "cpu" and repr(x.device) == "device(type='cpu')"
    for call in (lambda x: x.to("cuda"), lambda x: x.to("mps", tg.float64), lambda x: x.to(device="cuda:1"),
                 lambda x: x.cuda(), lambda x: x.to(tg.device("cuda"))):
        with pytest.raises(RuntimeError, match="tensorgrad runs on NumPy, on the CPU only; it has no '(cuda|mps)"):
            call(tg.ones(2))
    m = tg.nn.Linear(2, 2)
    assert m.to("cpu") is m and m.to(tg.device("cpu")) is m and m.cpu() is m
    with pytest.raises(RuntimeError, match="it has no 'cuda' device"):
        m.to("cuda")
    with pytest.raises(RuntimeError, match="it has no 'cuda:0' device"):
        m.cuda(0)
    tg.set_default_device("cpu")
    assert tg.get_default_device() == tg.device("cpu")
    with pytest.raises(RuntimeError, match="it has no 'cuda' device"):
        tg.set_default_device("cuda")
    assert tg.Generator(device="cpu").initial_seed() is not None
    with pytest.raises(RuntimeError, match="Generator: .* it has no 'cuda' device"):
        tg.Generator(device="cuda")


# --- where values live, and in-place changes of shape -------------------------------------------

@pytest.mark.parametrize("make", [
    lambda m: m.arange(24.0).reshape(2, 3, 4),
    lambda m: m.arange(24.0).reshape(2, 3, 4).transpose(0, 2),
    lambda m: m.arange(24.0).reshape(2, 3, 4)[:, 1:, ::2],
    lambda m: m.arange(24.0).reshape(2, 3, 4)[1],
    lambda m: m.arange(6.0).reshape(2, 3).t(),
    lambda m: m.ones(3, 1).expand(3, 4),
    lambda m: m.arange(24, dtype=m.int32).reshape(4, 6)[1:, 2:],
], ids=["contiguous", "transposed", "sliced", "row", "t", "expanded", "int32-sliced"])
def test_strides_and_storage_offsets_are_torchs(make):
    x, t = make(tg), make(torch)
    assert x.stride() == t.stride() and x.stride(-1) == t.stride(-1)
    assert x.storage_offset() == t.storage_offset()
    assert (x.nbytes, x.itemsize, x.ndimension()) == (t.nbytes, t.itemsize, t.ndimension())
    assert x.is_contiguous() == t.is_contiguous()


def test_small_tensor_queries_as_torch():
    for m in (tg, torch):
        x = m.tensor([1.0, -2.0])
        assert x.is_cpu and x.get_device() == -1 and not x.is_pinned()
        with pytest.raises(RuntimeError, match="accelerator"):
            x.pin_memory()                                       # (no accelerator on this machine)
        assert [m.tensor(v).is_signed() for v in (1, 1.0, True)] == [True, True, False]
        assert not x.is_complex() and not x.is_conj() and not x.is_neg() and not x.is_inference()
        assert x.is_same_size(m.zeros(2)) and not x.is_same_size(m.zeros(3))
        assert m.tensor([3.0]).is_nonzero() and not m.tensor(0.0).is_nonzero()
        with pytest.raises(RuntimeError):
            x.is_nonzero()
        assert x.conj() is x and x.resolve_conj() is x and x.share_memory_() is x


@pytest.mark.parametrize("edit", ["unsqueeze_(0)", "unsqueeze_(-1)", "squeeze_()", "squeeze_(1)", "t_()",
                                  "transpose_(0, 1)", "swapaxes_(1, 0)"])
def test_in_place_shape_changes_as_torch(edit):
    """x.unsqueeze_(0) and friends: the same tensor, a new shape, gradients through it; a leaf that
    requires grad is refused, as torch."""
    grads = []
    for m in (tg, torch):
        w = m.tensor(np.arange(6.0).reshape(3, 1, 2) if "squeeze" in edit else np.arange(6.0).reshape(3, 2),
                     requires_grad=True)
        x = w * 2
        y = eval(f"x.{edit}")
        assert y is x
        (x * m.arange(x.numel(), dtype=x.dtype).reshape(x.shape)).sum().backward()
        grads.append((tuple(x.shape), w.grad.numpy().copy()))
        with pytest.raises(RuntimeError, match="leaf Variable"):
            eval(f"w.{edit}")
    assert grads[0][0] == grads[1][0]
    np.testing.assert_array_equal(grads[0][1], grads[1][1])


@pytest.mark.parametrize("name", ["eq", "ne", "gt", "ge", "lt", "le", "greater", "less_equal", "not_equal"])
def test_comparison_methods_and_their_in_place_forms(name):
    a, b = np.array([[1.0, 2.0, 3.0]]), np.array([2.0, 2.0, 1.0])
    for m in (tg, torch):
        x = m.tensor(a)
        r = getattr(x, name)(m.tensor(b))
        getattr(x, name + "_")(2.0)
        if m is tg:
            got = (r.numpy(), x.numpy())
        else:
            np.testing.assert_array_equal(got[0], r.numpy())
            np.testing.assert_array_equal(got[1], x.numpy())


# --- printing ----------------------------------------------------------------------------------

PRINTED = [[0.5, 0.25], [1.0, 2.0], [1e-5, 1.0], [1e9, 1.0], [float("nan"), 1.5, -float("inf")],
           [[1.5, -2.25], [3.0, 4.0]], [123456.0, 0.5], [0.0, 0.0], 3.14159, [-0.0, 2.5], [[[1.0]]]]


@pytest.mark.parametrize("values", PRINTED, ids=[str(i) for i in range(len(PRINTED))])
def test_a_tensor_prints_as_torchs(values):
    assert repr(tg.tensor(values)) == repr(torch.tensor(values))


def test_other_dtypes_and_summaries_print_as_torchs():
    for make in (lambda m: m.tensor([1, 20, 3]), lambda m: m.tensor([True, False]), lambda m: m.tensor([True]),
                 lambda m: m.tensor([1.5], dtype=m.float64), lambda m: m.zeros(2, 0), lambda m: m.tensor([]),
                 lambda m: m.arange(2000.0), lambda m: m.arange(3000), lambda m: m.linspace(0, 1, 7)):
        assert repr(make(tg)) == repr(make(torch))
    try:
        for m in (tg, torch):
            m.set_printoptions(precision=2)
        assert repr(tg.tensor([1 / 3, 2.0])) == repr(torch.tensor([1 / 3, 2.0]))
        for m in (tg, torch):
            m.set_printoptions(sci_mode=True)
        assert repr(tg.tensor([1 / 3, 2.0])) == repr(torch.tensor([1 / 3, 2.0]))
    finally:
        for m in (tg, torch):
            m.set_printoptions(profile="default")


MODULE_REPRS = ["Linear(3, 4)", "Linear(3, 4, bias=False)", "Embedding(10, 3, padding_idx=0)", "LayerNorm(4)",
                "BatchNorm2d(3, momentum=0.01)", "Dropout(0.2)", "GELU(approximate='tanh')", "Softmax(dim=-1)",
                "LeakyReLU(0.1)", "Flatten(0, -1)", "CrossEntropyLoss()", "LSTM(3, 4, batch_first=True)",
                "GRU(3, 4, num_layers=2, bidirectional=True)", "MultiheadAttention(8, 2)", "Conv1d(2, 3, 3, bias=False)",
                "Conv2d(2, 4, 3, groups=2, padding=1, padding_mode='reflect')", "MaxPool2d(2)", "AvgPool1d(2)",
                "AdaptiveAvgPool2d((1, 1))", "Upsample(scale_factor=2)", "PReLU()", "ZeroPad2d(1)",
                "TransformerEncoderLayer(8, 2, 16)", "GroupNorm(2, 4, bias=False)", "InstanceNorm2d(3, affine=True)",
                "RMSNorm(4)", "EmbeddingBag(10, 3)", "LSTMCell(3, 4)", "Bilinear(2, 3, 4)",
                "LayerNorm((2, 3), elementwise_affine=False)"]


@pytest.mark.parametrize("spec", MODULE_REPRS)
def test_a_module_prints_as_torchs(spec):
    assert repr(eval(f"tg.nn.{spec}")) == repr(eval(f"torch.nn.{spec}"))


def test_torchs_function_forms_and_small_names():
    """torch.t(x), torch.exp_(x), torch.conv2d, promote_types, can_cast, scalar_tensor, asarray, ...: the same
    answers as torch."""
    for m in (tg, torch):
        x = m.tensor([[1.0, -2.0, 3.0]])
        got = [m.t(x).tolist(), m.swapaxes(x, 0, 1).shape, m.ravel(x).tolist(), m.rsub(x, 1, alpha=2).tolist(),
               m.fill(x, 2.0).tolist(), m.masked_fill(x, x > 0, 0.0).tolist(), m.real(x).tolist(),
               m.is_nonzero(m.tensor([1])), m.is_same_size(x, x), m.is_signed(x), m.detach(x).requires_grad,
               m.exp_(x.clone()).tolist(), m.relu_(x.clone()).tolist(), m.clamp_(x.clone(), 0, 1).tolist(),
               str(m.promote_types(m.int64, m.float32)), m.can_cast(m.float64, m.int32), m.can_cast(m.int8, m.float16),
               m.scalar_tensor(3).tolist(), m.asarray([1, 2]).tolist(),
               m.dropout(x, 0.0, False).tolist(), m.layer_norm(x, (3,)).tolist(), m.selu(x).tolist()]
        if m is tg:
            ours = got
    for a, b in zip(ours, got):
        if isinstance(a, list):
            np.testing.assert_allclose(np.array(a, dtype=float), np.array(b, dtype=float), rtol=1e-6)
        else:
            assert str(a).replace("torch.", "") == str(b).replace("torch.", ""), (a, b)
