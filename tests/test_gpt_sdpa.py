"""A GPT-style model (nanoGPT's shape) written once for both libraries, using
F.scaled_dot_product_attention, nn.LayerNorm(bias=False), exact GELU and weight tying (the LM
head is the token embedding): from torch's initial weights it trains with torch's losses."""

import numpy as np
import pytest
import torch

import tensorgrad as tg

torch.set_num_threads(1)
VOCAB, BLOCK, EMBD, HEADS, LAYERS = 11, 8, 16, 2, 2


def gpt(lib):
    """The model class for lib (tensorgrad or torch): the same code on both."""
    nn, F = lib.nn, lib.nn.functional

    class SelfAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.c_attn = nn.Linear(EMBD, 3 * EMBD, bias=False)
            self.c_proj = nn.Linear(EMBD, EMBD, bias=False)

        def forward(self, x):
            B, T, C = x.shape
            q, k, v = self.c_attn(x).split(EMBD, dim=2)                        # 3 x (B, T, C)
            q, k, v = [t.view(B, T, HEADS, C // HEADS).transpose(1, 2) for t in (q, k, v)]  # (B, H, T, hs)
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)        # (B, H, T, hs)
            return self.c_proj(y.transpose(1, 2).contiguous().view(B, T, C))

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1, self.ln_2 = nn.LayerNorm(EMBD, bias=False), nn.LayerNorm(EMBD, bias=False)
            self.attn = SelfAttention()
            self.mlp = nn.Sequential(nn.Linear(EMBD, 4 * EMBD), nn.GELU(), nn.Linear(4 * EMBD, EMBD))

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            return x + self.mlp(self.ln_2(x))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.wte, self.wpe = nn.Embedding(VOCAB, EMBD), nn.Embedding(BLOCK, EMBD)
            self.h = nn.ModuleList([Block() for _ in range(LAYERS)])
            self.ln_f = nn.LayerNorm(EMBD, bias=False)
            self.lm_head = nn.Linear(EMBD, VOCAB, bias=False)
            self.lm_head.weight = self.wte.weight                              # weight tying

        def forward(self, idx, targets):
            x = self.wte(idx) + self.wpe(lib.arange(idx.shape[1]))            # (B, T, C)
            for block in self.h:
                x = block(x)
            logits = self.lm_head(self.ln_f(x))                                # (B, T, VOCAB)
            return F.cross_entropy(logits.view(-1, VOCAB), targets.view(-1))

    return GPT


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
def test_gpt_with_sdpa_bias_free_layernorm_and_tying_trains_as_torch(dtype):
    torch.manual_seed(0)
    theirs = gpt(torch)().to(torch.float64 if dtype == np.float64 else torch.float32)
    ours = gpt(tg)().to(dtype)
    state = theirs.state_dict()
    assert list(ours.state_dict()) == list(state)                      # both keys of the tied weight
    assert "lm_head.weight" in state and "ln_f.bias" not in state
    assert len(list(ours.parameters())) == len(list(theirs.parameters()))          # the tied one once
    ours.load_state_dict({k: v.numpy() for k, v in state.items()})
    assert ours.lm_head.weight is ours.wte.weight
    opt = tg.optim.AdamW(ours.parameters(), lr=1e-2)
    topt = torch.optim.AdamW(theirs.parameters(), lr=1e-2)
    rng = np.random.default_rng(0)
    losses, tlosses = [], []
    for step in range(20):
        idx = rng.integers(0, VOCAB, (4, BLOCK))
        tgt = np.roll(idx, -1, axis=1)
        loss = ours(tg.tensor(idx), tg.tensor(tgt))
        tloss = theirs(torch.tensor(idx), torch.tensor(tgt))
        opt.zero_grad()
        topt.zero_grad()
        loss.backward()
        tloss.backward()
        opt.step()
        topt.step()
        losses.append(loss.item())
        tlosses.append(tloss.item())
    tol = dict(rtol=1e-9, atol=1e-10) if dtype == np.float64 else dict(rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(losses, tlosses, **tol)
    assert losses[-1] < losses[0] - 0.3                                          # it learned
    for k, v in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[k].numpy(), v.numpy(), **(
            dict(rtol=1e-8, atol=1e-9) if dtype == np.float64 else dict(rtol=2e-3, atol=2e-4)), err_msg=k)
