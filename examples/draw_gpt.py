"""Draw a small GPT at module depth 1, 2 and 3, forward and backward: the drawings of docs/viz.md.

The model is the one the "Let's build GPT" lecture arrives at (written here from scratch): token and
position embeddings, n_layer blocks of pre-LayerNorm multi-head causal self-attention (n_head separate
heads, concatenated and projected) and a ReLU feed-forward of 4 n_embd, a final LayerNorm and the
language-model head. At the lecture's sizes for this drawing: 4 heads, 2 blocks, n_embd 64.
Its blocks sit in an nn.Sequential, so depth 1 is the Sequential, depth 2 a box per block and depth 3
opens the blocks (heads, feed-forward, LayerNorms).

Run from the repository root (rendering needs Graphviz's `dot`):

    python examples/draw_gpt.py --out docs/img            # gpt_depth{1,2,3}_{forward,backward}.png
    python examples/draw_gpt.py --out docs/img --transformer   # and makemore's Transformer (models/transformer.py)

viz.draw(loss, depth=1) draws every module below the model as one box (its class and path, its input
and output shapes, how many ops it folds, its parameters); depth=2 opens the blocks. The backward
drawing adds, per module, the norm of the gradient it passes on to what lies before it.
"""
import argparse
import math
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # run from a checkout

import tensorgrad as tg  # noqa: E402
import tensorgrad.nn.functional as F  # noqa: E402
from tensorgrad import nn  # noqa: E402
import viz  # noqa: E402


class Head(nn.Module):
    """One head of causal self-attention: each position mixes the values of itself and its past."""

    def __init__(self, n_embd: int, head_size: int, block_size: int):
        super().__init__()
        self.key = nn.Linear(n_embd, head_size, bias=False)
        self.query = nn.Linear(n_embd, head_size, bias=False)
        self.value = nn.Linear(n_embd, head_size, bias=False)
        self.register_buffer("tril", tg.tril(tg.ones(block_size, block_size)))   # (block_size, block_size)

    def forward(self, x):
        B, T, C = x.shape
        k, q, v = self.key(x), self.query(x), self.value(x)                        # (B, T, hs) each
        wei = q @ k.transpose(-2, -1) * k.shape[-1] ** -0.5                        # (B, T, T) scaled affinities
        wei = wei.masked_fill(self.tril[:T, :T] == 0, float("-inf"))               # no looking ahead
        wei = F.softmax(wei, dim=-1)
        return wei @ v                                                             # (B, T, hs)


class MultiHeadAttention(nn.Module):
    """n_head heads side by side, concatenated, then projected back to n_embd."""

    def __init__(self, n_embd: int, n_head: int, block_size: int):
        super().__init__()
        self.heads = nn.ModuleList([Head(n_embd, n_embd // n_head, block_size) for _ in range(n_head)])
        self.proj = nn.Linear(n_embd, n_embd)

    def forward(self, x):
        return self.proj(tg.cat([h(x) for h in self.heads], dim=-1))              # (B, T, n_embd)


class FeedForward(nn.Module):
    """Per position: n_embd -> 4 n_embd -> ReLU -> n_embd."""

    def __init__(self, n_embd: int):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(n_embd, 4 * n_embd), nn.ReLU(), nn.Linear(4 * n_embd, n_embd))

    def forward(self, x):
        return self.net(x)


class Block(nn.Module):
    """Communication (attention), then computation (feed-forward), each around a residual connection."""

    def __init__(self, n_embd: int, n_head: int, block_size: int):
        super().__init__()
        self.sa = MultiHeadAttention(n_embd, n_head, block_size)
        self.ffwd = FeedForward(n_embd)
        self.ln1, self.ln2 = nn.LayerNorm(n_embd), nn.LayerNorm(n_embd)

    def forward(self, x):
        x = x + self.sa(self.ln1(x))                                               # (B, T, n_embd)
        return x + self.ffwd(self.ln2(x))                                          # (B, T, n_embd)


class GPT(nn.Module):
    """Embeddings, n_layer blocks, a final LayerNorm and the head that scores the next token."""

    def __init__(self, vocab_size=65, n_embd=64, n_head=4, n_layer=2, block_size=8):
        super().__init__()
        self.token_embedding_table = nn.Embedding(vocab_size, n_embd)
        self.position_embedding_table = nn.Embedding(block_size, n_embd)
        self.blocks = nn.Sequential(*[Block(n_embd, n_head, block_size) for _ in range(n_layer)])
        self.ln_f = nn.LayerNorm(n_embd)
        self.lm_head = nn.Linear(n_embd, vocab_size)

    def forward(self, idx, targets):
        B, T = idx.shape
        tok = self.token_embedding_table(idx)                                      # (B, T, n_embd)
        pos = self.position_embedding_table(tg.arange(T))                          # (T, n_embd)
        x = self.ln_f(self.blocks(tok + pos))                                      # (B, T, n_embd)
        logits = self.lm_head(x)                                                   # (B, T, vocab_size)
        return F.cross_entropy(logits.view(B * T, -1), targets.view(B * T))


def gpt_loss(batch=4, seed=1337):
    """(model, loss) of the GPT on a random batch of token ids, before backward."""
    tg.manual_seed(seed)
    model = GPT()
    idx = tg.randint(0, 65, (batch, 8))                                            # (B, T) token ids
    targets = tg.randint(0, 65, (batch, 8))                                        # (B, T) the next tokens
    loss = model(idx, targets)
    loss.name = "loss"
    return model, loss


def transformer_loss(batch=4, seed=1337):
    """(model, loss) of makemore's Transformer (models/transformer.py), 2 blocks, on a random batch."""
    from models.config import Config, build_model
    tg.manual_seed(seed)
    config = Config(type="transformer", vocab_size=27, block_size=8, n_layer=2, n_embd=64, n_head=4)
    model = build_model(config)
    idx, targets = tg.randint(0, 27, (batch, 8)), tg.randint(0, 27, (batch, 8))
    logits = model(idx)                                                            # (B, T, vocab_size)
    loss = F.cross_entropy(logits.view(-1, 27), targets.view(-1))
    loss.name = "loss"
    return model, loss


def draw_all(name, model, loss, out, fmt, depths=(1, 2)) -> list:
    """name_depth<d>_{forward,backward}.fmt; the backward after loss.backward(retain_graph=True), so that
    the drawings show every gradient and the engine's walk can still be recorded for them."""
    loss.backward(retain_graph=True)
    paths = []
    for depth in depths:
        for backward in (False, True):
            graph = viz.draw(loss, depth=depth, backward=backward, params=model)
            path = viz.save(graph, os.path.join(out, f"{name}_depth{depth}_{'backward' if backward else 'forward'}.{fmt}"))
            print(f"wrote {path}")
            paths.append(path)
    return paths


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="out/examples", help="directory (created) for the drawings")
    ap.add_argument("--format", default="png", choices=["svg", "png", "pdf"])
    ap.add_argument("--transformer", action="store_true", help="also draw makemore's Transformer")
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    model, loss = gpt_loss()
    print(f"GPT: {sum(p.numel() for p in model.parameters())} parameters, loss {loss.item():.4f} "
          f"(about ln 65 = {math.log(65):.4f} at init)")
    draw_all("gpt", model, loss, args.out, args.format, depths=(1, 2, 3))   # 3: inside the blocks
    if args.transformer:
        model, loss = transformer_loss()
        draw_all("transformer", model, loss, args.out, args.format)


if __name__ == "__main__":
    main()
