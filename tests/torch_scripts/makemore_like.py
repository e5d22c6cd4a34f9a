"""A small makemore-style program written the way torch scripts are: a Dataset of padded words,
an endless DataLoader over RandomSampler(replacement=True, num_samples=int(1e10)) with workers and
pinned memory, @torch.inference_mode() evaluation, torch.save/torch.load of the best model, and
sampling. Run by tests/test_torch_scripts.py with torch and with `python -m tensorgrad.run`.
usage: makemore_like.py WORDS_FILE WORK_DIR STEPS [--resume]"""
import json
import os
import sys

import torch
import torch.nn as nn
from torch.nn import functional as F
from torch.utils.data import Dataset
from torch.utils.data.dataloader import DataLoader

words_file, work_dir, steps = sys.argv[1], sys.argv[2], int(sys.argv[3])
resume = "--resume" in sys.argv
torch.manual_seed(3)
torch.cuda.manual_seed_all(3)
device = "cpu"


class CharDataset(Dataset):
    def __init__(self, words, chars, max_word_length):
        self.words, self.chars, self.max_word_length = words, chars, max_word_length
        self.stoi = {ch: i + 1 for i, ch in enumerate(chars)}

    def __len__(self):
        return len(self.words)

    def get_vocab_size(self):
        return len(self.chars) + 1

    def __getitem__(self, idx):
        ix = torch.tensor([self.stoi[w] for w in self.words[idx]], dtype=torch.long)
        x = torch.zeros(self.max_word_length + 1, dtype=torch.long)
        y = torch.zeros(self.max_word_length + 1, dtype=torch.long)
        x[1:1 + len(ix)] = ix
        y[:len(ix)] = ix
        y[len(ix) + 1:] = -1                       # masked out of the loss
        return x, y


class EndlessLoader:
    def __init__(self, dataset, **kwargs):
        sampler = torch.utils.data.RandomSampler(dataset, replacement=True, num_samples=int(1e10))
        self.loader = DataLoader(dataset, sampler=sampler, **kwargs)
        self.it = iter(self.loader)

    def next(self):
        try:
            return next(self.it)
        except StopIteration:
            self.it = iter(self.loader)
            return next(self.it)


class MLP(nn.Module):
    def __init__(self, block_size, vocab_size, n_embd=16, n_hidden=64):
        super().__init__()
        self.block_size, self.vocab_size = block_size, vocab_size
        self.wte = nn.Embedding(vocab_size + 1, n_embd)          # +1: the <BLANK> token
        self.mlp = nn.Sequential(nn.Linear(block_size * n_embd, n_hidden), nn.Tanh(), nn.Linear(n_hidden, vocab_size))

    def forward(self, idx, targets=None):
        embs = []
        for _ in range(self.block_size):
            embs.append(self.wte(idx))                          # (b, t, n_embd)
            idx = torch.roll(idx, 1, 1)
            idx[:, 0] = self.vocab_size
        logits = self.mlp(torch.cat(embs, -1))                  # (b, t, vocab)
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)
        return logits, loss


@torch.inference_mode()
def evaluate(model, dataset, batch_size=50, max_batches=4):
    model.eval()
    loader = DataLoader(dataset, shuffle=True, batch_size=batch_size, num_workers=0)
    losses = []
    for i, batch in enumerate(loader):
        X, Y = [t.to(device) for t in batch]
        losses.append(model(X, Y)[1].item())
        if i + 1 >= max_batches:
            break
    model.train()
    return torch.tensor(losses).mean().item()


@torch.no_grad()
def sample(model, n, steps):
    idx = torch.zeros(n, 1, dtype=torch.long).to(device)
    for _ in range(steps):
        logits, _ = model(idx)
        probs = F.softmax(logits[:, -1, :], dim=-1)
        idx = torch.cat((idx, torch.multinomial(probs, num_samples=1)), dim=1)
    return idx[:, 1:].to("cpu")


words = [w.strip() for w in open(words_file).read().splitlines() if w.strip()][:2000]
chars = sorted(set("".join(words)))
max_len = max(len(w) for w in words)
rp = torch.randperm(len(words)).tolist()
test_n = min(200, len(words) // 10)
train = CharDataset([words[i] for i in rp[test_n:]], chars, max_len)
test = CharDataset([words[i] for i in rp[:test_n]], chars, max_len)
model = MLP(3, train.get_vocab_size()).to(device)
path = os.path.join(work_dir, "model.pt")
if resume:
    model.load_state_dict(torch.load(path))
optimizer = torch.optim.AdamW(model.parameters(), lr=5e-3, weight_decay=0.01, betas=(0.9, 0.99), eps=1e-8)
batches = EndlessLoader(train, batch_size=32, pin_memory=True, num_workers=4)
best = None
for step in range(steps):
    X, Y = [t.to(device) for t in batches.next()]
    _, loss = model(X, Y)
    model.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    if (step + 1) % 100 == 0 or step == steps - 1:
        test_loss = evaluate(model, test)
        if best is None or test_loss < best:
            best = test_loss
            torch.save(model.state_dict(), path)
out = sample(model, 5, max_len + 1)
print(json.dumps({"test_loss": best, "samples": out.shape[0]}))
