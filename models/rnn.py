"""makemore.py's recurrent language models, the cell unrolled over time in Python:
the vanilla RNN (Elman 1990, "Finding Structure in Time") and the GRU (Cho et al. 2014,
"Learning Phrase Representations using RNN Encoder-Decoder", https://arxiv.org/abs/1406.1078)."""
import tensorgrad as tg
from tensorgrad import nn


class RNNCell(nn.Module):
    """h_t = tanh(W [x_t, h_{t-1}] + b)."""

    def __init__(self, config):
        super().__init__()
        self.xh_to_h = nn.Linear(config.n_embd + config.n_embd2, config.n_embd2)

    def forward(self, xt, hprev):
        xh = tg.cat([xt, hprev], dim=1)       # (B, n_embd + n_embd2)
        return self.xh_to_h(xh).tanh()        # (B, n_embd2)


class GRUCell(nn.Module):
    """The gated recurrent unit: a reset gate r wipes channels of h_{t-1} before the candidate hbar
    is computed, and an update gate z blends h_{t-1} and hbar."""

    def __init__(self, config):
        super().__init__()
        self.xh_to_z = nn.Linear(config.n_embd + config.n_embd2, config.n_embd2)
        self.xh_to_r = nn.Linear(config.n_embd + config.n_embd2, config.n_embd2)
        self.xh_to_hbar = nn.Linear(config.n_embd + config.n_embd2, config.n_embd2)

    def forward(self, xt, hprev):
        xh = tg.cat([xt, hprev], dim=1)                # (B, n_embd + n_embd2)
        r = self.xh_to_r(xh).sigmoid()                 # (B, n_embd2) reset gate
        xhr = tg.cat([xt, r * hprev], dim=1)           # (B, n_embd + n_embd2)
        hbar = self.xh_to_hbar(xhr).tanh()             # (B, n_embd2) candidate state
        z = self.xh_to_z(xh).sigmoid()                 # (B, n_embd2) update gate
        return (1 - z) * hprev + z * hbar              # (B, n_embd2)


class RNN(nn.Module):
    """Embed each character, run the cell from a learned start state, decode every hidden state."""

    def __init__(self, config, cell_type: str = "rnn"):
        super().__init__()
        self.block_size = config.block_size
        self.vocab_size = config.vocab_size
        self.start = nn.Parameter(tg.zeros(1, config.n_embd2))          # (1, n_embd2) the first h_{t-1}
        self.wte = nn.Embedding(config.vocab_size, config.n_embd)
        cells = {"rnn": RNNCell, "gru": GRUCell}
        if cell_type not in cells:
            raise ValueError(f"RNN: unknown cell_type {cell_type!r} (rnn or gru)")
        self.cell = cells[cell_type](config)
        self.lm_head = nn.Linear(config.n_embd2, self.vocab_size)

    def get_block_size(self) -> int:
        return self.block_size

    def forward(self, idx):
        B, T = idx.shape
        emb = self.wte(idx)                       # (B, T, n_embd), all positions at once
        hprev = self.start.expand(B, -1)          # (B, n_embd2)
        hiddens = []
        for t in range(T):
            hprev = self.cell(emb[:, t, :], hprev)   # (B, n_embd2)
            hiddens.append(hprev)
        hidden = tg.stack(hiddens, 1)             # (B, T, n_embd2)
        return self.lm_head(hidden)               # (B, T, vocab_size)


def GRU(config) -> RNN:
    """The RNN with a GRU cell."""
    return RNN(config, cell_type="gru")
