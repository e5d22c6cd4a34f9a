"""What a graph keeps after backward(): torch frees the saved values, so a training loop that
keeps `losses.append(loss)` (not loss.item()) holds a few KB per step, not the whole step's arrays."""
import gc
import os
import platform
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest

import tensorgrad as tg
import tensorgrad.nn.functional as F
from tensorgrad.engine import is_freed


def mlp_steps(n_steps, losses, retain_graph=False):
    """The lecture's MLP (27 letters, 3 of context, 10-d embedding, 200 hidden), batch 32."""
    rng = np.random.default_rng(0)
    C, W1, b1, W2, b2 = (tg.tensor(rng.standard_normal(s).astype(np.float32) * 0.1, requires_grad=True)
                         for s in [(27, 10), (30, 200), (200,), (200, 27), (27,)])
    for _ in range(n_steps):
        Xb, Yb = tg.tensor(rng.integers(0, 27, (32, 3))), tg.tensor(rng.integers(0, 27, 32))
        h = tg.tanh(C[Xb].view(32, -1) @ W1 + b1)                 # (32, 200)
        loss = F.cross_entropy(h @ W2 + b2, Yb)
        for p in (C, W1, b1, W2, b2):
            p.grad = None
        loss.backward(retain_graph=retain_graph)
        with tg.no_grad():
            for p in (C, W1, b1, W2, b2):
                p -= 0.1 * p.grad
        losses.append(loss)


def kept_per_step(retain_graph=False) -> float:
    losses = []
    mlp_steps(5, losses, retain_graph)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        mlp_steps(40, losses, retain_graph)
        gc.collect()
        return (tracemalloc.get_traced_memory()[0] - before) / 40
    finally:
        tracemalloc.stop()


def test_a_kept_loss_holds_a_few_kilobytes():
    kept = kept_per_step()
    assert kept < 16_000, f"{kept:.0f} bytes retained per kept loss (torch: about 8 KB)"
    # the measurement sees arrays: with retain_graph=True the step's arrays stay (about 100 KB)
    assert kept_per_step(retain_graph=True) > 5 * kept


def test_freed_graph_refuses_a_second_backward_and_still_draws():
    x = tg.tensor(np.linspace(-1, 1, 200).reshape(10, 20), requires_grad=True)
    loss = (x.tanh() @ x.T).exp().sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        loss.backward()
    exp = loss._prev[0]
    mm = exp._prev[0]
    assert (exp._op, mm._op, mm._prev[0]._op) == ("exp", "matmul", "tanh")
    assert mm.shape == (10, 10) and mm._prev[0].shape == (10, 20) and mm._prev[0].dtype == x.dtype
    assert is_freed(mm) and is_freed(mm._prev[0]) and not is_freed(x) and not is_freed(loss)
    assert mm._prev[1].shape == (20, 10)


def test_ops_that_save_nothing_walk_again_after_the_free():
    x = tg.tensor(np.arange(300.0), requires_grad=True)
    y = (x.reshape(10, 30)[2:] + 1).sum()          # reshape, getitem, add, sum: no saved values
    y.backward()
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.r_[np.zeros(60), 2 * np.ones(240)])


def test_a_tensor_still_held_is_seen_itself_after_the_free():
    x = tg.tensor(np.ones((20, 20)), requires_grad=True)
    h = x * 2
    loss = h.exp().sum()
    loss.backward()
    assert loss._prev[0]._prev[0] is h and not is_freed(h)
    assert not is_freed(x.expand(3, 20, 20))         # a broadcast view is not a freed value


FAULTS = """
import resource, sys
import numpy as np
import tensorgrad
x = np.ones((16, 32, 256), np.float32)             # 512 KB temporaries, as a GPT step makes
for _ in range(3):
    a = x * 2; b = a + 1; c = b * a; d = c - x; del a, b, c, d
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(50):
    a = x * 2; b = a + 1; c = b * a; d = c - x; del a, b, c, d
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux") or not platform.libc_ver()[0] == "glibc",
                    reason="glibc's malloc only")
def test_freed_memory_is_kept_for_the_next_step_not_faulted_back_in():
    """runtime.keep_freed_memory (set at import): a step's temporaries reuse the last step's pages;
    with glibc's defaults (TENSORGRAD_KEEP_FREED_MEMORY=0) each step faults 500 pages back in."""
    def faults(**env):
        out = subprocess.run([sys.executable, "-c", FAULTS], capture_output=True, text=True, check=True,
                             env={**os.environ, **env})
        return int(out.stdout)
    assert faults(TENSORGRAD_KEEP_FREED_MEMORY="1") < 200
    assert faults(TENSORGRAD_KEEP_FREED_MEMORY="0") > 5000
