"""Smoke test of the benchmark program: it runs end to end in --quick mode and writes its
table, JSON and chart. No timing is asserted (the benchmark reports, it does not judge)."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("matplotlib")

ROOT = Path(__file__).resolve().parent.parent


def test_bench_quick_writes_its_table(tmp_path):
    cmd = [sys.executable, "-m", "benchmarks.bench", "--quick", "--out", str(tmp_path), "--batches", "32",
           "--contenders", "tensorgrad,tensorgrad replay,torch,numpy"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]

    res = json.loads((tmp_path / "latest.json").read_text())
    assert [r["batch"] for r in res["steps"]] == [32]
    ms = res["steps"][0]["ms"]
    for name in ("tensorgrad", "torch", "numpy"):       # every contender, both forms, timed
        for form in ("chunked", "fused"):
            assert ms[f"{name}|{form}"] > 0
    # a contender whose first loss differed would have been left out with a note
    assert not any("left out" in v for v in res["notes"].values()), res["notes"]
    assert {r["name"] for r in res["chain"]} >= {"tensorgrad", "torch", "minimal NumPy tape (no checks)"}
    assert {m["name"] for m in res["memory"]} >= {"tensorgrad", "torch", "numpy"}
    assert res["machine"]["threads_per_side"] == 1

    table = (tmp_path / "latest.md").read_text()
    assert "| contender | B=32 |" in table and "| tensorgrad |" in table
    assert "Against the goals of issue 13" in table and "us per op" in table and "training peak MB" in table
    assert (tmp_path / "latest.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_chain_tables_minimal_tape_computes_the_gradient():
    """The chain table's reference row, the least a NumPy tape can do, gets tensorgrad's gradient."""
    import numpy as np
    import tensorgrad as tg
    from benchmarks.bench import MinimalTape, _chain_tape
    x0, a0, b0 = (np.random.default_rng(i).standard_normal(16) for i in range(3))
    xm = MinimalTape(x0)
    _chain_tape(MinimalTape.tanh, xm, MinimalTape(a0), MinimalTape(b0), 30).backward()
    x = tg.tensor(x0, requires_grad=True)
    _chain_tape(tg.tanh, x, tg.tensor(a0), tg.tensor(b0), 30).backward()
    np.testing.assert_allclose(xm.grad, x.grad.numpy(), rtol=1e-12)


def test_gpt_lecture_quick_losses_agree(tmp_path):
    """The GPT lecture benchmark, a few steps: torch and tensorgrad compute the same loss and gradients
    from the same weights (one model source, two frameworks), and the table and JSON are written."""
    cmd = [sys.executable, "-m", "benchmarks.gpt_lecture", "--steps", "4", "--chunk", "2", "--warmup", "2",
           "--dropout", "0", "--variants", "relu", "gelu", "--out", str(tmp_path), "--quiet"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = json.loads((tmp_path / "gpt_lecture.json").read_text())
    assert [r["variant"] for r in res["results"]] == ["relu", "gelu"]
    for r in res["results"]:
        c = r["check"]
        assert abs(c["torch_loss"] - 3.3) < 0.2                  # ~ln(27) from the lecture's small init
        assert c["loss_diff"] <= 1e-5 * abs(c["torch_loss"]), c
        assert c["max_grad_diff"] <= 1e-5, c
        assert set(r["ms"]) == {"torch", "tensorgrad", "tensorgrad replay"}
        assert r["replay"] == "replayed"                         # no dropout: nothing stops the replay
    assert "| the lecture's GPT (FFN with ReLU) | 0.0 |" in (tmp_path / "gpt_lecture.md").read_text()


def test_ab_compares_against_an_older_commit():
    """benchmarks.ab unpacks the package at a commit as `tgbase` and times its kernels against this
    checkout's: against HEAD itself every row runs and reports a positive ratio (HEAD's kernels exist)."""
    if subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True).returncode:
        pytest.skip("not a git checkout")
    proc = subprocess.run([sys.executable, "-m", "benchmarks.ab", "--base", "HEAD", "--rounds", "1"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = [line for line in proc.stdout.splitlines() if line.startswith("| ") and "kernel" not in line]
    assert len(rows) == 12, proc.stdout
    assert all(float(r.rstrip(" |").rsplit("|", 1)[1]) > 0 for r in rows), rows
