"""Memory a training loop keeps when it stores the loss tensors (`losses.append(loss)`, not
loss.item()): after backward() torch frees the graph's saved values, and so does tensorgrad.
The lecture's MLP (27 letters, 3 of context, 10-d embedding, 200 hidden, batch 32); bytes of
resident memory gained per step over 4000 steps, each side in a fresh process.

    python -m benchmarks.kept_losses
"""
import os
import subprocess
import sys

STEPS, WARMUP = 4000, 20


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def measure(side: str) -> float:
    """KB per kept loss for 'tensorgrad' or 'torch' (run in this process)."""
    import gc

    import numpy as np
    if side == "torch":
        import torch as m
        m.set_num_threads(1)
    else:
        import tensorgrad as m
    F = m.nn.functional
    rng = np.random.default_rng(0)
    X, Y = rng.integers(0, 27, (5000, 3)), rng.integers(0, 27, 5000)
    params = [m.tensor(rng.standard_normal(s).astype(np.float32) * 0.1) for s in
              [(27, 10), (30, 200), (200,), (200, 27), (27,)]]
    for p in params:
        p.requires_grad = True
    C, W1, b1, W2, b2 = params
    losses = []

    def step():
        ix = rng.integers(0, 5000, 32)
        h = m.tanh(C[m.tensor(X[ix])].view(32, -1) @ W1 + b1)      # (32, 200)
        loss = F.cross_entropy(h @ W2 + b2, m.tensor(Y[ix]))
        for p in params:
            p.grad = None
        loss.backward()
        with m.no_grad():
            for p in params:
                p -= 0.1 * p.grad
        losses.append(loss)
    for _ in range(WARMUP):
        step()
    gc.collect()
    before = _rss()
    for _ in range(STEPS):
        step()
    gc.collect()
    return (_rss() - before) / STEPS / 1024


def main():
    for side in ("tensorgrad", "torch"):
        out = subprocess.run([sys.executable, "-m", "benchmarks.kept_losses", side], capture_output=True,
                             text=True, check=False, cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        print(out.stdout.strip() or out.stderr.strip().splitlines()[-1])


if __name__ == "__main__":
    if len(sys.argv) > 1:
        print(f"{sys.argv[1]}: {measure(sys.argv[1]):.1f} KB per kept loss ({STEPS} steps, resident memory)")
    else:
        main()
