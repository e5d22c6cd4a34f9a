"""Command line: draw the makemore MLP's (or makemore's Transformer's) forward and backward graphs
into files, or write a page that steps through its backward walk.

    python -m viz makemore --out docs/img --format svg --backward
    python -m viz makemore --html out                         # out/makemore_walk.html
    python -m viz transformer --depth 1 --backward --format png   # one box per block
    python -m viz transformer --html out --depth 1            # out/transformer_walk.html, folded
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


def transformer_forward(batch: int = 4, seed: int = 42, n_layer: int = 2) -> tuple:
    """(model, named) for makemore's Transformer (models/transformer.py: n_layer blocks, 4 heads, n_embd 64)
    on a random batch of 8-token contexts, before the backward; named holds the parameters and the loss."""
    from models.config import Config, build_model

    import tensorgrad.nn.functional as F
    tg.manual_seed(seed)
    config = Config(type="transformer", vocab_size=27, block_size=8, n_layer=n_layer, n_embd=64, n_head=4)
    model = build_model(config)
    idx = tg.randint(0, config.vocab_size, (batch, config.block_size))        # (B, T) token ids
    targets = tg.randint(0, config.vocab_size, (batch, config.block_size))    # (B, T) the next ones
    loss = F.cross_entropy(model(idx).view(-1, config.vocab_size), targets.view(-1))
    loss.name = "loss"
    return model, {**dict(model.named_parameters()), "loss": loss}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m viz", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, what in (("makemore", "the makemore MLP's chunked forward (and its backward) on a small batch"),
                       ("transformer", "makemore's Transformer (2 blocks, 4 heads, n_embd 64) on a small batch")):
        p = sub.add_parser(name, help=what)
        p.add_argument("--out", default=".", help="directory for the drawings (default: .)")
        p.add_argument("--format", default="svg", choices=["svg", "png", "pdf"])
        p.add_argument("--backward", action="store_true", help="also draw the backward graph")
        p.add_argument("--depth", type=int, default=None,
                       help="fold every module deeper than this into one box (the model is 0; default: every op)")
        p.add_argument("--batch", type=int, default=8 if name == "makemore" else 4,
                       help="batch size (only the shapes and statistics change)")
        p.add_argument("--seed", type=int, default=42)
        p.add_argument("--rankdir", default=None, choices=["LR", "TB"],
                       help="default: top to bottom for big graphs and depth drawings")
        p.add_argument("--no-stats", action="store_true", help="leave out the statistics of data and grad")
        p.add_argument("--max-nodes", type=int, default=None, help="draw only this many tensors, nearest the loss")
        p.add_argument("--compact", action="store_true", default=None, help="write each op in its result's box (forward)")
        p.add_argument("--html", metavar="DIR", default=None,
                       help=f"instead, write DIR/{name}_walk.html: a page that steps through the backward walk")
    return parser


def _forward(args) -> tuple:
    """(params, named) of the command's model before backward: named has the loss."""
    if args.command == "makemore":
        return makemore_forward(args.batch, args.seed)
    return transformer_forward(args.batch, args.seed)


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    if args.html is not None:
        return _write_walk(args)
    params, named = _forward(args)
    loss = named["loss"]
    loss.backward(retain_graph=True)     # the drawings show the gradients; the graph stays for the backward one
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    kinds = ["forward", "backward"] if args.backward else ["forward"]
    suffix = "" if args.depth is None else f"_depth{args.depth}"
    for kind in kinds:
        graph = draw(loss, backward=kind == "backward", params=named if args.command == "makemore" else params,
                     rankdir=args.rankdir, stats=not args.no_stats, max_nodes=args.max_nodes, compact=args.compact,
                     depth=args.depth)
        path = out / f"{args.command}{suffix}_{kind}.{args.format}"
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
    params, named = _forward(args)
    loss = named["loss"]
    out = pathlib.Path(args.html)
    out.mkdir(parents=True, exist_ok=True)
    what = f"makemore MLP, batch {args.batch}" if args.command == "makemore" else f"Transformer, batch {args.batch}"
    try:
        page = walk(loss, out / f"{args.command}_walk.html", params=named if args.command == "makemore" else params,
                    max_nodes=args.max_nodes, depth=args.depth, rankdir=args.rankdir or "TB",
                    title=f"{what}: the backward walk of loss")
    except GraphvizNotFound as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"wrote {page.path} ({len(page.steps)} steps, loss {loss.item():.4f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
