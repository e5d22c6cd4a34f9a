"""Draw what autograd sees: the forward graph of a computation and the graph its gradient
travels back through, from a micrograd scalar up to the makemore MLP.

Run from the repository root (after `pip install -e .`; rendering needs Graphviz's `dot`):

    python examples/draw_graph.py                  # writes the drawings (SVG) to .
    python examples/draw_graph.py --out /tmp/graphs --format png

viz.draw(root) is micrograd's draw_dot for tensors: a box per tensor (its name, shape and
statistics of .data and .grad), an ellipse per op. viz.draw(root, backward=True) draws the
backward pass: one node per backward rule, each edge labelled with the shape of the
gradient it carries, and the engine's un-broadcasting sum where a broadcast input (a bias)
gets a smaller gradient than the result.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # run from a checkout

import tensorgrad as tg  # noqa: E402
from tensorgrad import Value  # noqa: E402
import viz  # noqa: E402


def save(graph, out_dir, name, fmt) -> str:
    """out_dir/name.fmt (the DOT source, name.gv, without `dot`)."""
    path = viz.save(graph, os.path.join(out_dir, f"{name}.{fmt}"))
    print(f"wrote {path} ({graph.source.count('->')} edges)")
    return str(path)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="out/examples", help="directory (created; out/ is git-ignored) for the drawings")
    ap.add_argument("--format", default="svg", choices=["svg", "png", "pdf"])
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    written = []

    # 1. micrograd's neuron, with Values: o = tanh(x1*w1 + x2*w2 + b)
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    n = x1 * w1 + x2 * w2 + b
    o = n.tanh()
    o.label = "o"
    o.backward()
    print(f"neuron: o = {o.numpy():.4f}, do/dw1 = {w1.grad:.4f}, do/dx1 = {x1.grad:.4f}")   # 0.7071, 1.0, -1.5
    written.append(save(viz.draw(o), args.out, "neuron_forward", args.format))

    # 2. the same neuron for a batch of 4 inputs and 3 neurons, as tensors
    g = tg.Generator().manual_seed(0)
    X = tg.randn(4, 2, generator=g, name="X")                               # (4, 2) a batch of inputs
    W = tg.randn(2, 3, generator=g, requires_grad=True, name="W")           # (2, 3) 3 neurons
    bias = tg.zeros(3, requires_grad=True, name="b")                        # (3,) broadcast over the batch
    out = (X @ W + bias).tanh().sum()                                       # ()
    out.backward(retain_graph=True)   # keep the graph: the backward drawing replays the engine's walk to see its sums
    written.append(save(viz.draw(out), args.out, "layer_forward", args.format))
    # backward: b's gradient is (4, 3) at the add and is summed down to (3,) by the engine
    written.append(save(viz.draw(out, backward=True), args.out, "layer_backward", args.format))

    # 3. the makemore MLP's chunked forward (Backprop Ninja exercise 1) on a batch of 8
    from models.makemore import Config, MakemoreMLP, chunked_forward
    model = MakemoreMLP(Config(n_hidden=64))
    rng = np.random.default_rng(42)
    Xb, Yb = rng.integers(0, 27, (8, 3)), rng.integers(0, 27, 8)           # (8, 3) contexts, (8,) targets
    inter = chunked_forward(model, Xb, Yb)
    inter["loss"].backward(retain_graph=True)
    named = {**dict(model.named_parameters()), **inter}                     # names for the boxes
    written.append(save(viz.draw(inter["loss"], params=named, rankdir="TB"), args.out,
                        "makemore_forward", args.format))
    written.append(save(viz.draw(inter["loss"], backward=True, params=named, rankdir="TB"), args.out,
                        "makemore_backward", args.format))
    return written


if __name__ == "__main__":
    main()
