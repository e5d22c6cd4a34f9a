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
    proc = subprocess.run([sys.executable, "-m", "benchmarks.bench", "--quick", "--out", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]

    res = json.loads((tmp_path / "latest.json").read_text())
    assert [r["batch"] for r in res["steps"]] == [32, 256]
    for r in res["steps"]:
        for name in ("tensorgrad", "torch", "numpy"):
            assert r[f"{name}_ms"] > 0
        # the three contenders did the same math from the same weights on the same batches
        assert r["tensorgrad_loss"] == pytest.approx(r["torch_loss"], rel=1e-3)
        assert r["numpy_loss"] == pytest.approx(r["torch_loss"], rel=1e-3)
    assert {r["op"] for r in res["ops"]} >= {"add", "mul", "tanh", "exp", "matmul", "gather C[X]", "sum(0)",
                                             "mean(0)", "max(1)", "var(0)", "cross_entropy"}
    assert {m["name"] for m in res["memory"]} == {"tensorgrad", "torch", "numpy"}
    assert res["machine"]["threads_per_side"] == 1

    table = (tmp_path / "latest.md").read_text()
    assert "| batch | tensorgrad ms | torch ms | numpy ms | tg / torch | tg / numpy |" in table
    assert "| 32 |" in table and "| 256 |" in table
    assert "cross_entropy" in table and "training peak MB" in table
    assert (tmp_path / "latest.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "tg/torch" in proc.stdout
