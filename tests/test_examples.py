"""Every example runs, in its fast mode, from the command at its top, and prints what it should."""
import importlib.util
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples")
ROW = re.compile(r"^(\w+)\s+\| (True|False)\s+\| (True|False)\s+\| (\S+)", re.M)
N_ROWS = 26

try:
    import torch  # noqa: F401
    HAVE_TORCH = True
except ImportError:
    HAVE_TORCH = False


def run(script: str, *args: str, timeout: int = 300) -> str:
    """python examples/<script> <args> from the repository root; its stdout."""
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, os.path.join("examples", script), *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{script} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


def tables(out: str) -> list:
    """The exercise-1 tables in the output: a list of {name: (exact, approximate, maxdiff)}."""
    found = []
    for block in out.split("\nExercise 1: ")[1:]:
        rows = {m.group(1): (m.group(2) == "True", m.group(3) == "True", float(m.group(4)))
                for m in ROW.finditer(block.split("\n\n")[0])}
        found.append(rows)
    return found


def _gen(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, "scripts", name + ".py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# ----------------------------------------------------------------------------
# backprop_ninja

@pytest.fixture(scope="module")
def ninja_output() -> str:
    return run("backprop_ninja.py", "--fast")


def test_ninja_exercise1_all_26_rows(ninja_output):
    found = tables(ninja_output)
    assert len(found) == (2 if HAVE_TORCH else 1)
    ours = found[0]
    assert list(ours) == ["logprobs", "probs", "counts_sum_inv", "counts_sum", "counts", "norm_logits",
                          "logit_maxes", "logits", "h", "W2", "b2", "hpreact", "bngain", "bnbias", "bnraw",
                          "bnvar_inv", "bnvar", "bndiff2", "bndiff", "bnmeani", "hprebn", "embcat", "W1", "b1",
                          "emb", "C"]
    for table in found:
        assert len(table) == N_ROWS
    assert all(approx for _, approx, _ in ours.values()), ours
    if HAVE_TORCH:   # torch's float32 forward rounds elsewhere: close, though not always within allclose's atol
        assert all(maxdiff < 1e-6 for _, _, maxdiff in found[1].values()), found[1]
    # tensorgrad's rules compute what the lecture's formulas compute, in the same order
    assert all(exact for exact, _, _ in ours.values()), {k: v for k, v in ours.items() if not v[0]}


@pytest.mark.skipif(not HAVE_TORCH, reason="torch is not installed")
def test_ninja_torch_table_explains_every_inexact_row(ninja_output):
    block = ninja_output.split("vs torch's autograd")[1].split("\n\n")[0]
    rows = [[c.strip() for c in line.split("|")] for line in block.splitlines()[2:]]
    assert len(rows) == N_ROWS
    for cols in rows:
        if cols[1] == "False":
            assert cols[-1], f"no reason given: {cols}"


def test_ninja_exercises_2_to_4(ninja_output):
    for name in ("logits", "logits(fused)", "hprebn", "hprebn(fused)"):
        line = re.search(rf"^{re.escape(name)}\s+\| exact: \w+\s+\| approximate: (\w+)", ninja_output, re.M)
        assert line and line.group(1) == "True", name
    assert "logits(fused)   | exact: True" in ninja_output       # the fused cross-entropy rule is the formula
    m = re.search(r"Exercise 4: (\d+) steps .* train loss ([\d.]+), val loss ([\d.]+)", ninja_output)
    assert m, ninja_output[-2000:]
    steps, train, val = int(m.group(1)), float(m.group(2)), float(m.group(3))
    assert steps == 50
    assert train < 3.2 and val < 3.2      # below log(27) = 3.30, the loss of a uniform guess


def test_embedding_gradient_is_the_lecture_loop_bit_for_bit():
    """Regression (ops._index_put): C[Xb]'s gradient accumulates in float32, one index at
    a time in order, as the lecture's loop and torch do (a float64 bincount did not)."""
    import numpy as np
    import tensorgrad as tg
    rng = np.random.default_rng(0)
    Xb = rng.integers(0, 27, (32, 3))                                   # many repeated rows
    demb = rng.standard_normal((32, 3, 10)).astype(np.float32)
    C = tg.zeros(27, 10, requires_grad=True)
    C[Xb].backward(demb)
    dC = np.zeros((27, 10), np.float32)
    for k in range(Xb.shape[0]):
        for j in range(Xb.shape[1]):
            dC[Xb[k, j]] += demb[k, j]
    assert np.array_equal(C.grad, dC)
    if HAVE_TORCH:
        Ct = torch.zeros(27, 10, requires_grad=True)
        Ct[torch.tensor(Xb)].backward(torch.tensor(demb))
        assert np.array_equal(C.grad, Ct.grad.numpy())


def test_ninja_notebook_is_the_script():
    with open(os.path.join(EXAMPLES, "backprop_ninja.ipynb")) as f:
        committed = f.read()
    assert committed == _gen("gen_notebook").render(), \
        "examples/backprop_ninja.ipynb is out of date: run `python scripts/gen_notebook.py`"


def test_ninja_notebook_runs(monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.setenv("NINJA_STEPS", "20")
    monkeypatch.setenv("PYTHONPATH", ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    nb = nbformat.read(os.path.join(EXAMPLES, "backprop_ninja.ipynb"), as_version=4)
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": EXAMPLES}}).execute()
    out = "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    found = tables(out)
    assert found and len(found[0]) == N_ROWS and all(e and a for e, a, _ in found[0].values())
    assert "Exercise 4: 20 steps" in out


# ----------------------------------------------------------------------------
# add_an_op

def test_add_an_op(tmp_path):
    out = run("add_an_op.py", "--fast", "--out", str(tmp_path))
    assert "the new ops are in the table: ['softplus', 'my_gelu', 'my_layer_norm']" in out
    for name in ("softplus", "gelu", "layer_norm"):
        assert re.search(rf"^{name} gradcheck\s+passed$", out, re.M), name
        if HAVE_TORCH:
            m = re.search(rf"^{name} vs torch\s+max difference (\S+)", out, re.M)
            assert m and float(m.group(1)) < 1e-12, name
    losses = [float(x) for x in re.findall(r"^step\s+\d+\s+loss ([\d.]+)", out, re.M)]
    assert len(losses) >= 2 and losses[-1] < losses[0]
    m = re.search(r"softplus'' = \[([^\]]*)\]\s+sigmoid\(x\)\(1-sigmoid\): \[([^\]]*)\]", out)
    assert m and m.group(1).split() == m.group(2).split()
    assert "ops drawn: ['my_gelu', 'my_layer_norm', 'softplus']" in out
    if "wrote" in out:
        assert (tmp_path / "add_an_op_graph.svg").stat().st_size > 1000


# ----------------------------------------------------------------------------
# micrograd_moons

def test_micrograd_moons():
    out = run("micrograd_moons.py", "--fast")
    diff = float(re.search(r"differ by at most (\S+)", out).group(1))
    assert diff < 1e-12          # scalar Values and tensors compute the same float64 numbers
    speedup = float(re.search(r"(\d+)x faster with tensors", out).group(1))
    assert speedup > 20
    m = re.search(r"final: loss ([\d.]+), accuracy (\d+)%", out)
    assert float(m.group(1)) < 0.5 and int(m.group(2)) >= 80


# ----------------------------------------------------------------------------
# train_makemore and draw_graph

def test_train_makemore():
    out = run("train_makemore.py", "--fast")
    losses = [float(x) for x in re.findall(r"^step\s+\d+/300: loss ([\d.]+)", out, re.M)]
    assert len(losses) == 11 and losses[-1] < losses[0]
    m = re.search(r"train loss ([\d.]+), val loss ([\d.]+)", out)
    assert m and float(m.group(1)) < 2.9 and float(m.group(2)) < 2.9     # log(27) = 3.30 at the start
    samples = re.search(r"^samples: (.*)$", out, re.M).group(1).split()
    assert len(samples) >= 5 and all(w.isalpha() for w in samples)


def test_draw_graph(tmp_path):
    out = run("draw_graph.py", "--out", str(tmp_path))
    assert "neuron: o = 0.7071, do/dw1 = 1.0000, do/dx1 = -1.5000" in out     # micrograd's lecture numbers
    names = ["neuron_forward", "layer_forward", "layer_backward", "makemore_forward", "makemore_backward"]
    for name in names:
        files = list(tmp_path.glob(name + ".*"))
        assert len(files) == 1 and files[0].stat().st_size > 200, name
    layer_backward = next(tmp_path.glob("layer_backward.*")).read_text()
    assert "un-broadcast" in layer_backward.replace("&#45;", "-")   # the bias's gradient is summed by the engine
