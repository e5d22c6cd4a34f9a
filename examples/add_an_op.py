"""Add your own op to tensorgrad, from outside the package: forward, backward rule, checks.

Run from the repository root (after `pip install -e .`):

    python examples/add_an_op.py                 # checks, a short training run, the drawing
    python examples/add_an_op.py --fast          # fewer steps (what the tests run)
    python examples/add_an_op.py --out /tmp/ops  # where to write the drawing (default: out/examples)

An op is a name, a forward on NumPy arrays and a backward rule
`rule(g, out, *inputs, **attrs) -> one gradient per input`, where g is the gradient of the
result and out the result itself. `@tg.op(name, backward=rule, adjoint="words")` adds it to
tensorgrad's op table (tg.OPS), next to the built-in ones (`adjoint` is the rule in a few words,
which graph drawings write on its node); nothing else in the engine changes.

Three things to know when you write a rule:
  * write it with operators and tensorgrad ops (tg.ops.tanh, tg.ops.sigmoid, ...), not np.*:
    the engine runs it on arrays in a normal backward and on tensors under create_graph=True,
    where the rule's own ops are recorded, so that the op has a second derivative for free;
  * return the gradient at the shape of the result if you like: where an input was broadcast
    (a bias of shape (D,) added to (N, D)), the engine sums the gradient down to (D,) itself;
  * check it: tensorgrad.testing.gradcheck compares it with finite differences in float64,
    and tensorgrad.testing.compare_with_torch with torch (when installed).
"""
import argparse
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # run from a checkout

import tensorgrad as tg  # noqa: E402
from tensorgrad.testing import compare_with_torch, gradcheck  # noqa: E402

try:
    import torch
except ImportError:
    torch = None


# ----------------------------------------------------------------------------
# 1. softplus(x) = log(1 + e^x): its derivative is the sigmoid

@tg.op("softplus", backward=lambda g, out, x: g * tg.ops.sigmoid(x), adjoint="g * sigmoid(x)")
def softplus(x):
    return np.logaddexp(0, x)              # log(e^0 + e^x), without overflow for large x


# ----------------------------------------------------------------------------
# 2. GELU, the tanh approximation (GPT-2's): 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))

K, A = math.sqrt(2 / math.pi), 0.044715


def _gelu_backward(g, out, x):
    """d/dx = 0.5 (1 + t) + 0.5 x (1 - t^2) K (1 + 3 A x^2), with t = tanh(K (x + A x^3))."""
    t = tg.ops.tanh(K * (x + A * x ** 3))
    return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * K * (1 + 3 * A * x ** 2))


@tg.op("my_gelu", backward=_gelu_backward, adjoint="g * gelu'(x), tanh form")
def gelu(x):
    return 0.5 * x * (1 + np.tanh(K * (x + A * x ** 3)))


# ----------------------------------------------------------------------------
# 3. LayerNorm as one fused op: normalise each row over its last dim, then scale and shift.
#    Autograd through the composite would record ~10 nodes; the fused op records one.
#    y = gain * xhat + bias,  xhat = (x - mean) * rstd,  rstd = (var + eps) ** -0.5

def _layer_norm_forward(x, gain, bias, eps):
    mean = x.mean(axis=-1, keepdims=True)                          # (N, 1)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)           # (N, 1) biased, as torch
    return gain * ((x - mean) * (var + eps) ** -0.5) + bias        # (N, D)


def _layer_norm_backward(g, out, x, gain, bias, eps):
    """The batch-norm derivation of the Backprop Ninja lecture, along rows instead of columns:
    dx = rstd / D * (D dxhat - sum(dxhat) - xhat * sum(dxhat * xhat)), dxhat = g * gain."""
    D = x.shape[-1]
    mean = x.mean(axis=-1, keepdims=True)                          # (N, 1)
    rstd = (((x - mean) ** 2).mean(axis=-1, keepdims=True) + eps) ** -0.5   # (N, 1)
    xhat = (x - mean) * rstd                                       # (N, D)
    dxhat = g * gain                                               # (N, D)
    dx = rstd / D * (D * dxhat - dxhat.sum(axis=-1, keepdims=True)
                     - xhat * (dxhat * xhat).sum(axis=-1, keepdims=True))
    # dgain and dbias at shape (N, D): the engine sums them down to gain's and bias's (D,)
    return dx, g * xhat, g


# tg.op without the decorator; "my_": tensorgrad has its own layer_norm (F.layer_norm), and a user op
# may not take a built-in op's name
_layer_norm = tg.Op("my_layer_norm", _layer_norm_forward, _layer_norm_backward, adjoint="fused layer norm backward")


def layer_norm(x, gain, bias, eps: float = 1e-5):
    """LayerNorm over the last dim (x (N, D), gain (D,), bias (D,)), one node on the tape."""
    return _layer_norm(x, gain, bias, eps=eps)


# ----------------------------------------------------------------------------
# checks

def check_ops() -> dict:
    """gradcheck (float64 finite differences) for each op, and torch when installed."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 5))
    gain, bias = rng.standard_normal(5), rng.standard_normal(5)
    results = {}
    results["softplus gradcheck"] = gradcheck(softplus, [tg.tensor(x, requires_grad=True)])
    results["gelu gradcheck"] = gradcheck(gelu, [tg.tensor(x * 3, requires_grad=True)])
    results["layer_norm gradcheck"] = gradcheck(
        layer_norm, [tg.tensor(x, requires_grad=True), tg.tensor(gain, requires_grad=True),
                     tg.tensor(bias, requires_grad=True)])
    for name, ok in results.items():
        print(f"{name:24s} {'passed' if ok else 'FAILED'}")
    if torch is not None:
        tf = torch.nn.functional
        for name, ours, theirs, args in [
            ("softplus", softplus, tf.softplus, [x]),
            ("gelu", gelu, lambda t: tf.gelu(t, approximate="tanh"), [x * 3]),
            ("layer_norm", layer_norm, lambda t, w, b: tf.layer_norm(t, (5,), w, b), [x, gain, bias]),
        ]:
            report = compare_with_torch(ours, theirs, *args, rtol=1e-10, atol=1e-12)   # float64
            worst = max(report.values())
            results[f"{name} vs torch"] = worst
            print(f"{name + ' vs torch':24s} max difference {worst:.1e} (output and every gradient, float64)")
    # the fused LayerNorm agrees with its composite (autograd through ~10 primitive nodes)
    xt = tg.tensor(x, requires_grad=True)
    composite = (xt - xt.mean(-1, keepdim=True)) / (xt.var(-1, keepdim=True, unbiased=False) + 1e-5).sqrt() * gain + bias
    results["layer_norm vs composite"] = float(np.abs(layer_norm(xt, gain, bias).numpy() - composite.numpy()).max())
    print(f"{'layer_norm vs composite':24s} max difference {results['layer_norm vs composite']:.1e}")
    return results


def second_derivatives() -> dict:
    """create_graph=True: the rules' own ops are recorded, so the gradient has a gradient."""
    x = tg.tensor([-2.0, -0.5, 0.0, 0.5, 2.0], dtype=np.float64, requires_grad=True)
    (d1,) = tg.grad(softplus(x).sum(), x, create_graph=True)      # sigmoid(x)
    (d2,) = tg.grad(d1.sum(), x)                                  # sigmoid(x) (1 - sigmoid(x))
    s = 1 / (1 + np.exp(-x.numpy()))
    print("softplus'  =", np.round(d1.numpy(), 6), " sigmoid(x):           ", np.round(s, 6))
    print("softplus'' =", np.round(d2.numpy(), 6), " sigmoid(x)(1-sigmoid):", np.round(s * (1 - s), 6))
    out = {"softplus d2": float(np.abs(d2.numpy() - s * (1 - s)).max())}
    # GELU's second derivative, against central differences of its first
    (g1,) = tg.grad(gelu(x).sum(), x, create_graph=True)
    (g2,) = tg.grad(g1.sum(), x)
    eps = 1e-6
    num = (_gelu_backward(1.0, None, x.numpy() + eps) - _gelu_backward(1.0, None, x.numpy() - eps)) / (2 * eps)
    out["gelu d2"] = float(np.abs(g2.numpy() - num).max())
    print(f"gelu''     = {np.round(g2.numpy(), 6)}  (finite differences agree to {out['gelu d2']:.1e})")
    return out


# ----------------------------------------------------------------------------
# use: a small MLP with the new ops, on a toy problem (is a point inside the unit circle?)

def train(steps: int, seed: int = 0) -> list:
    """Linear -> LayerNorm -> GELU -> Linear -> softplus-based logistic loss, SGD."""
    g = tg.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.5, 1.5, (256, 2)).astype(np.float32)                     # (256, 2) points
    y = np.where((X ** 2).sum(1) < 1, 1.0, -1.0).astype(np.float32)             # (256,) labels +-1
    W1 = tg.tensor(tg.randn(2, 32, generator=g).numpy() / 2 ** 0.5, requires_grad=True, name="W1")   # (2, 32)
    b1 = tg.zeros(32, requires_grad=True, name="b1")
    ln_gain = tg.ones(32, requires_grad=True, name="ln_gain")
    ln_bias = tg.zeros(32, requires_grad=True, name="ln_bias")
    W2 = tg.tensor(tg.randn(32, 1, generator=g).numpy() / 32 ** 0.5, requires_grad=True, name="W2")  # (32, 1)
    b2 = tg.zeros(1, requires_grad=True, name="b2")
    params = [W1, b1, ln_gain, ln_bias, W2, b2]

    def forward(X):
        h = gelu(layer_norm(X @ W1 + b1, ln_gain, ln_bias))     # (256, 32)
        return (h @ W2 + b2).reshape(-1)                        # (256,) scores

    losses = []
    for step in range(steps):
        scores = forward(tg.tensor(X))
        loss = softplus(-tg.tensor(y) * scores).mean()          # logistic loss: log(1 + e^(-y s))
        for p in params:
            p.grad = None
        loss.backward()
        with tg.no_grad():
            for p in params:
                p.data -= 0.5 * p.grad
        losses.append(loss.item())
        if step % max(1, steps // 5) == 0 or step == steps - 1:
            acc = float(((scores.numpy() > 0) == (y > 0)).mean())
            print(f"step {step:4d}  loss {loss.item():.4f}  accuracy {acc:.2f}")
    return losses, loss, params


def draw(loss, params, out_dir) -> str | None:
    """The forward graph of the last loss, our ops among the built-in ones (needs viz and dot)."""
    try:
        import viz
    except ImportError as e:
        print(f"(no drawing: {e})")
        return None
    graph = viz.draw(loss, backward=False, params={p.name: p for p in params})
    print(f"graph: {graph.source.count('->')} edges; ops drawn: "
          f"{sorted({op for op in ('softplus', 'my_gelu', 'my_layer_norm') if op in graph.source})}")
    os.makedirs(out_dir, exist_ok=True)
    try:
        path = viz.render(graph, os.path.join(out_dir, "add_an_op_graph.svg"))
    except Exception as e:   # Graphviz's `dot` is not installed: the DOT source is still there
        print(f"(not rendered: {e})")
        return None
    print(f"wrote {path}")
    return str(path)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fast", action="store_true", help="fewer training steps (for the tests)")
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--out", default="out/examples", help="directory (created; out/ is git-ignored) for the drawing")
    args = ap.parse_args(argv)
    steps = args.steps if args.steps is not None else (20 if args.fast else 300)

    print("the new ops are in the table:", [name for name in ("softplus", "my_gelu", "my_layer_norm") if name in tg.OPS])
    checks = check_ops()
    d2 = second_derivatives()
    losses, loss, params = train(steps)
    path = draw(loss, params, args.out)
    return {"checks": checks, "second": d2, "losses": losses, "drawing": path}


if __name__ == "__main__":
    main()
