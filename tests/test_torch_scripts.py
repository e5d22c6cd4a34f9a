"""Torch programs run unmodified through `python -m tensorgrad.run`: scaled-down scripts written
for these tests (tests/torch_scripts/) in the patterns of the GPT lecture (device=, .to(device)),
makemore.py (a Dataset, an endless DataLoader with workers, inference_mode, save and resume) and
PyTorch's tutorials (a custom autograd.Function). Each also runs on torch itself, and the two
must agree: exactly where nothing is random, within the seed-to-seed spread where the
initialisation and the batches differ (tensorgrad's generator is not torch's)."""
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPTS = os.path.join(ROOT, "tests", "torch_scripts")
NAMES = os.path.join(ROOT, "..", "shared", "data", "names.txt")


def run(script, *args, torch=False):
    """The script's JSON line: run by torch (torch=True) or by `python -m tensorgrad.run`."""
    env = dict(os.environ, PYTHONPATH=ROOT, PYTHONWARNINGS="ignore")
    cmd = [sys.executable, os.path.join(SCRIPTS, script), *args] if torch else \
        [sys.executable, "-m", "tensorgrad.run", os.path.join(SCRIPTS, script), *args]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_a_custom_autograd_function_as_torch():
    got, want = run("custom_function.py"), run("custom_function.py", torch=True)
    assert got["gradcheck"] and got["gradgradcheck"]
    for key in ("grad", "grad2"):
        assert got[key] == pytest.approx(want[key], rel=1e-12, abs=1e-14)
    for key in ("w", "b"):                         # float32 training, same data, same start: the same fit
        assert got[key] == pytest.approx(want[key], rel=1e-4)


def test_a_gpt_like_script_with_device_arguments_trains_as_torch():
    got, want = run("gpt_like.py", "60"), run("gpt_like.py", "60", torch=True)
    assert got["params"] == want["params"] and got["sample_length"] == want["sample_length"] == 21
    assert got["start"]["train"] == pytest.approx(want["start"]["train"], abs=0.15)    # ~ln(vocab) at init
    assert got["end"]["val"] < 0.5 * got["start"]["val"]
    assert got["end"]["val"] == pytest.approx(want["end"]["val"], abs=0.25)


@pytest.mark.skipif(not os.path.exists(NAMES), reason="names.txt not found next to the repo (../shared/data)")
def test_a_makemore_like_script_with_a_dataloader_trains_saves_and_resumes_as_torch(tmp_path):
    (tmp_path / "torch").mkdir()
    got = run("makemore_like.py", NAMES, str(tmp_path), "300")
    want = run("makemore_like.py", NAMES, str(tmp_path / "torch"), "300", torch=True)
    assert got["samples"] == want["samples"] == 5
    assert got["test_loss"] == pytest.approx(want["test_loss"], abs=0.15)
    assert (tmp_path / "model.pt").exists()
    resumed = run("makemore_like.py", NAMES, str(tmp_path), "1", "--resume")
    assert resumed["test_loss"] == pytest.approx(got["test_loss"], abs=0.1)   # it starts from the saved model
