"""A tiny character-level GPT written the way torch scripts are (device=, .to(device), no_grad
decorators, multinomial sampling). Run by tests/test_torch_scripts.py with torch itself and with
`python -m tensorgrad.run`; prints one JSON line with the losses."""
import json
import sys

import torch
import torch.nn as nn
from torch.nn import functional as F

steps = int(sys.argv[1]) if len(sys.argv) > 1 else 300
batch_size, block_size, n_embd, n_head, n_layer, dropout = 16, 16, 32, 4, 2, 0.0
device = 'cuda' if torch.cuda.is_available() else 'cpu'
torch.manual_seed(1337)

text = "".join(f"the {a} sat on the {b}. " for a in ("cat", "dog", "bird", "fox") for b in ("mat", "log", "rug")) * 8
chars = sorted(set(text))
stoi = {c: i for i, c in enumerate(chars)}
data = torch.tensor([stoi[c] for c in text], dtype=torch.long)
n = int(0.9 * len(data))
train_data, val_data = data[:n], data[n:]


def get_batch(split):
    d = train_data if split == 'train' else val_data
    ix = torch.randint(len(d) - block_size, (batch_size,))
    x = torch.stack([d[i:i + block_size] for i in ix])
    y = torch.stack([d[i + 1:i + block_size + 1] for i in ix])
    return x.to(device), y.to(device)


@torch.no_grad()
def estimate_loss(model, iters=10):
    out = {}
    model.eval()
    for split in ['train', 'val']:
        losses = torch.zeros(iters)
        for k in range(iters):
            X, Y = get_batch(split)
            _, loss = model(X, Y)
            losses[k] = loss.item()
        out[split] = losses.mean().item()
    model.train()
    return out


class Head(nn.Module):
    def __init__(self, head_size):
        super().__init__()
        self.key = nn.Linear(n_embd, head_size, bias=False)
        self.query = nn.Linear(n_embd, head_size, bias=False)
        self.value = nn.Linear(n_embd, head_size, bias=False)
        self.register_buffer('tril', torch.tril(torch.ones(block_size, block_size)))
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        B, T, C = x.shape
        k, q = self.key(x), self.query(x)                               # (B, T, hs)
        wei = q @ k.transpose(-2, -1) * k.shape[-1] ** -0.5              # (B, T, T)
        wei = wei.masked_fill(self.tril[:T, :T] == 0, float('-inf'))
        wei = self.dropout(F.softmax(wei, dim=-1))
        return wei @ self.value(x)                                       # (B, T, hs)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.heads = nn.ModuleList([Head(n_embd // n_head) for _ in range(n_head)])
        self.proj = nn.Linear(n_embd, n_embd)
        self.ffwd = nn.Sequential(nn.Linear(n_embd, 4 * n_embd), nn.ReLU(), nn.Linear(4 * n_embd, n_embd))
        self.ln1, self.ln2 = nn.LayerNorm(n_embd), nn.LayerNorm(n_embd)

    def forward(self, x):
        x = x + self.proj(torch.cat([h(self.ln1(x)) for h in self.heads], dim=-1))
        return x + self.ffwd(self.ln2(x))


class TinyGPT(nn.Module):
    def __init__(self, vocab_size):
        super().__init__()
        self.token_embedding_table = nn.Embedding(vocab_size, n_embd)
        self.position_embedding_table = nn.Embedding(block_size, n_embd)
        self.blocks = nn.Sequential(*[Block() for _ in range(n_layer)])
        self.ln_f = nn.LayerNorm(n_embd)
        self.lm_head = nn.Linear(n_embd, vocab_size)

    def forward(self, idx, targets=None):
        B, T = idx.shape
        tok_emb = self.token_embedding_table(idx)                                     # (B, T, C)
        pos_emb = self.position_embedding_table(torch.arange(T, device=device))       # (T, C)
        logits = self.lm_head(self.ln_f(self.blocks(tok_emb + pos_emb)))              # (B, T, vocab)
        if targets is None:
            return logits, None
        B, T, C = logits.shape
        return logits, F.cross_entropy(logits.view(B * T, C), targets.view(B * T))

    def generate(self, idx, max_new_tokens):
        for _ in range(max_new_tokens):
            logits, _ = self(idx[:, -block_size:])
            probs = F.softmax(logits[:, -1, :], dim=-1)
            idx = torch.cat((idx, torch.multinomial(probs, num_samples=1)), dim=1)
        return idx


model = TinyGPT(len(chars))
m = model.to(device)
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
start = estimate_loss(m)
for it in range(steps):
    xb, yb = get_batch('train')
    logits, loss = model(xb, yb)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
end = estimate_loss(m)
context = torch.zeros((1, 1), dtype=torch.long, device=device)
sample = ''.join(chars[i] for i in m.generate(context, max_new_tokens=20)[0].tolist())
print(json.dumps({"start": start, "end": end, "sample_length": len(sample),
                  "params": sum(p.numel() for p in m.parameters())}))
