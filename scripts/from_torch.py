"""Move weights between torch and tensorgrad (needs torch): any torch.save'd file, and makemore's models both ways.

`convert` turns any file torch.save wrote (a state dict, a checkpoint dict: tensors, numbers, strings, lists,
dicts) into the same tree written by tg.save, which tg.load reads without unpickling:

    python scripts/from_torch.py convert model.pt model.npz      # then: tg.load("model.npz")

The zoo's models have makemore.py's module names and torch's layouts (Linear weight (out, in)) and
state (BatchNorm's num_batches_tracked too), so a state dict converts name for name. A model trained
by makemore.py (its out/model.pt) becomes a tensorgrad-makemore checkpoint with the same next-character
probabilities (to float rounding). Sampling them with the same seed picks the same names whichever framework
computed them; tensorgrad's random numbers are not torch's, so these are not the names that torch's own
multinomial would draw.

    python scripts/from_torch.py to-tensorgrad out/model.pt --type transformer -i names.txt -o tg_out
    tensorgrad-makemore sample -o tg_out
    python scripts/from_torch.py to-torch tg_out/makemore.npz model.pt       # and back

torch.load runs here with weights_only=True, so converting an untrusted file runs no code from it either.
"""
import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import tensorgrad as tg  # noqa: E402

def to_tensorgrad(state_dict: dict) -> dict:
    """A torch state dict -> name -> NumPy array (copies)."""
    return {k: v.detach().cpu().numpy().copy() for k, v in state_dict.items()}


def to_torch(state: dict) -> dict:
    """A tensorgrad state dict (arrays or tensors) -> name -> torch.Tensor."""
    import torch
    return {k: torch.from_numpy(np.asarray(v).copy()) for k, v in state.items()}


def load_torch_into(model, torch_module_or_state) -> None:
    """Copy a torch model's (or state dict's) weights into a tensorgrad model, checking every name and shape."""
    state = torch_module_or_state
    if hasattr(state, "state_dict"):
        state = state.state_dict()
    model.load_state_dict(to_tensorgrad(state))


def infer_config(state: dict, n_head: int = 4) -> dict:
    """The type and shape of one of makemore.py's models, read off its state dict's names and shapes."""
    from models.checkpoint import stored_shape
    keys = set(state)
    if keys == {"logits"}:
        type_ = "bigram"
    elif "transformer.wte.weight" in keys:
        type_ = "transformer"
    elif "context_block.mlp.c_fc.weight" in keys:
        type_ = "bow"
    elif "start" in keys:
        type_ = "gru" if "cell.xh_to_z.weight" in keys else "rnn"
    elif "mlp.0.weight" in keys:
        type_ = "mlp"
    else:
        raise ValueError(f"not a state dict of one of makemore.py's models (its names: {sorted(keys)[:6]} ...)")
    shape = dict(type=type_, **stored_shape(type_, state))
    return dict(shape, n_head=n_head) if type_ == "transformer" else shape


def convert(model_pt, out) -> Path:
    """Any tree torch.save wrote -> the same tree (tensors as tensorgrad Tensors) written by tg.save."""
    import torch

    def to_tg(obj):
        if isinstance(obj, torch.Tensor):
            t = tg.tensor(obj.detach().cpu().numpy().copy())
            return tg.nn.Parameter(t, requires_grad=obj.requires_grad) if isinstance(obj, torch.nn.Parameter) else t
        if isinstance(obj, dict):
            return {k: to_tg(v) for k, v in obj.items()}
        if isinstance(obj, (list, tuple)):
            return type(obj)(to_tg(v) for v in obj)
        return obj
    tg.save(to_tg(torch.load(model_pt, map_location="cpu", weights_only=True)), out)
    return Path(out)


def torch_file_to_checkpoint(model_pt, out_dir, data: str, seed: int = 3407, n_head: int = 4,
                             type_: str | None = None) -> Path:
    """makemore.py's model.pt -> out_dir/makemore.npz, a tensorgrad-makemore checkpoint at step 0 of a new
    run (weights only, as makemore.py's --resume), on the words of data (for the vocabulary)."""
    import torch
    from models.data import Vocab, load_words
    from models.checkpoint import CHECKPOINT_NAME, checkpoint_state
    from models.config import Config, build_model, make_optimizer
    state = to_tensorgrad(torch.load(model_pt, map_location="cpu", weights_only=True))
    shape = infer_config(state, n_head=n_head)
    if type_ is not None and type_ != shape["type"] and {type_, shape["type"]} != {"rnn", "gru"}:
        raise ValueError(f"{model_pt}: a {shape['type']} model, not {type_}")
    words = load_words(data)
    vocab = Vocab.from_words(words)
    if len(vocab) != shape["vocab_size"]:
        raise ValueError(f"{model_pt}: its vocabulary has {shape['vocab_size']} tokens, but the words of {data} "
                         f"give {len(vocab)}: give the file it was trained on (-i)")
    max_word_length = max(len(w) for w in words)
    shape.setdefault("block_size", max_word_length + 1)
    config = Config(data=data, seed=seed, **shape)
    model = build_model(config)
    model.load_state_dict(state)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    history = dict(losses=[], lrs=[], evals=[])
    g = tg.Generator().manual_seed(seed)
    tree = checkpoint_state(config, model, make_optimizer(config, model.parameters()), vocab, 0, g, history,
                            max_word_length)
    path = out_dir / CHECKPOINT_NAME
    tg.save(tree, path)
    return path


def checkpoint_to_torch_file(checkpoint, model_pt, last: bool = False) -> Path:
    """A tensorgrad-makemore checkpoint -> a torch state dict file (the best weights unless last)."""
    import torch
    from models.checkpoint import load_checkpoint
    ckpt = load_checkpoint(checkpoint)
    model = ckpt.model if last or ckpt.best is None else ckpt.best
    torch.save(to_torch(model.state_dict()), model_pt)
    return Path(model_pt)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="direction", required=True)
    c = sub.add_parser("convert", help="any torch.save'd file -> the same tree in tg.save's format")
    c.add_argument("model_pt")
    c.add_argument("out", help="the file to write (e.g. model.npz)")
    a = sub.add_parser("to-tensorgrad", help="makemore.py's model.pt -> a tensorgrad-makemore checkpoint")
    a.add_argument("model_pt")
    a.add_argument("-i", "--input-file", default="default", help="the words the model was trained on")
    a.add_argument("-o", "--work-dir", default="out", help="where to write makemore.npz")
    a.add_argument("--type", help="check that the file holds this model type")
    a.add_argument("--n-head", type=int, default=4, help="transformer heads (not in the state dict; default 4)")
    a.add_argument("--seed", type=int, default=3407)
    b = sub.add_parser("to-torch", help="a tensorgrad-makemore checkpoint -> a torch state dict file")
    b.add_argument("checkpoint")
    b.add_argument("model_pt")
    b.add_argument("--last", action="store_true", help="the latest weights, not the best")
    args = p.parse_args(argv)
    if args.direction == "convert":
        path = convert(args.model_pt, args.out)
    elif args.direction == "to-tensorgrad":
        path = torch_file_to_checkpoint(args.model_pt, args.work_dir, args.input_file, args.seed, args.n_head,
                                        args.type)
    else:
        path = checkpoint_to_torch_file(args.checkpoint, args.model_pt, args.last)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
