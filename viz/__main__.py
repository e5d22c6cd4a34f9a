"""Command line: draw the makemore model's forward and backward graphs into files,
or write a page that steps through its backward walk.

    python -m viz makemore --out docs/img --format svg --backward
    python -m viz makemore --html out           # out/makemore_walk.html
"""
import argparse
import pathlib
import sys

import tensorgrad as tg

from .draw import GraphvizNotFound, draw, render
from .walk import walk


def makemore_graph(batch: int = 8, seed: int = 42) -> tuple:
    """(parameters, named) for the lecture's chunked forward on a random batch, after backward:
    named holds the parameters and the 20 named intermediates emb ... loss. The backward keeps the
    graph (retain_graph=True), so that a backward drawing can still record what the engine does."""
    params, named = makemore_forward(batch, seed)
    named["loss"].backward(retain_graph=True)
    return params, named


def makemore_forward(batch: int = 8, seed: int = 42) -> tuple:
    """makemore_graph before the backward."""
    from models.makemore import Config, MakemoreMLP, chunked_forward

    config = Config()
    model = MakemoreMLP(config, generator=tg.Generator().manual_seed(seed))
    params = dict(model.named_parameters())
    g = tg.Generator().manual_seed(seed + 1)
    Xb = tg.randint(0, config.vocab_size, (batch, config.block_size), generator=g)  # (B, block_size) contexts
    Yb = tg.randint(0, config.vocab_size, (batch,), generator=g)                    # (B,) next characters
    inter = chunked_forward(model, Xb, Yb)  # names them and retains their gradients
    return params, {**params, **inter}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m viz", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    mm = sub.add_parser("makemore", help="the makemore MLP's chunked forward (and its backward) on a small batch")
    mm.add_argument("--out", default=".", help="directory for the drawings (default: .)")
    mm.add_argument("--format", default="svg", choices=["svg", "png", "pdf"])
    mm.add_argument("--backward", action="store_true", help="also draw the backward graph")
    mm.add_argument("--batch", type=int, default=8, help="batch size (only the shapes and statistics change)")
    mm.add_argument("--seed", type=int, default=42)
    mm.add_argument("--rankdir", default="TB", choices=["LR", "TB"])
    mm.add_argument("--no-stats", action="store_true", help="leave out the statistics of data and grad")
    mm.add_argument("--max-nodes", type=int, default=None, help="draw only this many tensors, nearest the loss")
    mm.add_argument("--compact", action="store_true", help="write each op in its result's box (forward)")
    mm.add_argument("--html", metavar="DIR", default=None,
                    help="instead, write DIR/makemore_walk.html: a page that steps through the backward walk")
    args = parser.parse_args(argv)
    if args.html is not None:
        return _write_walk(args)

    _, named = makemore_graph(args.batch, args.seed)
    loss = named["loss"]
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    kinds = ["forward", "backward"] if args.backward else ["forward"]
    for kind in kinds:
        graph = draw(loss, backward=kind == "backward", params=named, rankdir=args.rankdir,
                     stats=not args.no_stats, max_nodes=args.max_nodes, compact=args.compact)
        path = out / f"makemore_{kind}.{args.format}"
        try:
            render(graph, path)
        except GraphvizNotFound as e:
            source = path.with_suffix(".gv")
            source.write_text(graph.source)  # the DOT source at least, to render elsewhere
            print(f"error: {e}\n(wrote the DOT source to {source})", file=sys.stderr)
            return 1
        print(f"wrote {path} (loss {loss.item():.4f})")
    return 0


def _write_walk(args) -> int:
    _, named = makemore_forward(args.batch, args.seed)
    loss = named["loss"]
    out = pathlib.Path(args.html)
    out.mkdir(parents=True, exist_ok=True)
    try:
        page = walk(loss, out / "makemore_walk.html", params=named, max_nodes=args.max_nodes,
                    rankdir=args.rankdir, title=f"makemore MLP, batch {args.batch}: the backward walk of loss")
    except GraphvizNotFound as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"wrote {page.path} ({len(page.steps)} steps, loss {loss.item():.4f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
