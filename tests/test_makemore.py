"""The makemore MLP: every gradient of the chunked forward pass against torch, a full training
step against torch, BatchNorm calibration, and the word-list data (errors, split, download cache)."""
import hashlib
import urllib.error
from pathlib import Path

import numpy as np
import pytest
import torch

import tensorgrad as tg
import tensorgrad.nn.functional as F
from models import data as mdata
from models.makemore import (Config, MakemoreMLP, Vocab, build_dataset, calibrate_batchnorm, chunked_forward,
                             evaluate, load_words, sample, split_words)
from tensorgrad import nn
from tensorgrad.testing import cmp

NAMES = Path(__file__).resolve().parents[2] / "shared" / "data" / "names.txt"   # /work/shared/data/names.txt
ORDER = ["emb", "embcat", "hprebn", "bnmeani", "bndiff", "bndiff2", "bnvar", "bnvar_inv", "bnraw", "hpreact",
         "h", "logits", "logit_maxes", "norm_logits", "counts", "counts_sum", "counts_sum_inv", "probs",
         "logprobs", "loss"]
PARAMS = ["C", "W1", "b1", "W2", "b2", "bngain", "bnbias"]


def _batch(n=32, block_size=3, vocab_size=27, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, vocab_size, (n, block_size)), rng.integers(0, vocab_size, n)


def _torch_params(model):
    return {name: torch.tensor(p.numpy(), requires_grad=True) for name, p in model.named_parameters()}


def _torch_chunked(P, Xb, Yb):
    """The lecture's exercise-1 forward pass, in torch, word for word."""
    C, W1, b1, W2, b2, bngain, bnbias = (P[k] for k in PARAMS)
    n = Yb.shape[0]
    emb = C[Xb]
    embcat = emb.view(emb.shape[0], -1)
    hprebn = embcat @ W1 + b1
    bnmeani = 1 / n * hprebn.sum(0, keepdim=True)
    bndiff = hprebn - bnmeani
    bndiff2 = bndiff ** 2
    bnvar = 1 / (n - 1) * (bndiff2).sum(0, keepdim=True)
    bnvar_inv = (bnvar + 1e-5) ** -0.5
    bnraw = bndiff * bnvar_inv
    hpreact = bngain * bnraw + bnbias
    h = torch.tanh(hpreact)
    logits = h @ W2 + b2
    logit_maxes = logits.max(1, keepdim=True).values
    norm_logits = logits - logit_maxes
    counts = norm_logits.exp()
    counts_sum = counts.sum(1, keepdims=True)
    counts_sum_inv = counts_sum ** -1
    probs = counts * counts_sum_inv
    logprobs = probs.log()
    loss = -logprobs[range(n), Yb].mean()
    out = dict(zip(ORDER, [emb, embcat, hprebn, bnmeani, bndiff, bndiff2, bnvar, bnvar_inv, bnraw, hpreact, h,
                           logits, logit_maxes, norm_logits, counts, counts_sum, counts_sum_inv, probs, logprobs,
                           loss]))
    for t in out.values():
        t.retain_grad()
    return out


# ----------------------------------------------------------------------------
# the model

def test_model_has_the_lecture_parameters_and_init():
    cfg = Config(n_hidden=64)
    model = MakemoreMLP(cfg)
    shapes = {name: p.shape for name, p in model.named_parameters()}
    assert shapes == {"C": (27, 10), "W1": (30, 64), "b1": (64,), "W2": (64, 27), "b2": (27,),
                      "bngain": (1, 64), "bnbias": (1, 64)}
    assert [p.name for p in model.parameters()] == PARAMS
    assert [name for name, _ in model.named_buffers()] == ["bnmean_running", "bnvar_running"]
    assert all(p.dtype == np.float32 and p.is_leaf for p in model.parameters())
    # the lecture's init scales, checked by their standard deviations
    assert abs(model.W1.data.std() - (5 / 3) / 30 ** 0.5) < 0.03
    assert abs(model.W2.data.std() - 0.1) < 0.01
    assert abs(model.bngain.data.mean() - 1.0) < 0.05 and abs(model.bngain.data.std() - 0.1) < 0.03
    # same seed, same model
    again = MakemoreMLP(cfg)
    assert all(np.array_equal(a.data, b.data) for a, b in zip(model.parameters(), again.parameters()))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_chunked_forward_every_intermediate_and_parameter_matches_torch(dtype):
    """Exercise 1: every intermediate's value and .grad, and every parameter's .grad, as torch."""
    model = MakemoreMLP(Config(n_hidden=64)).to(dtype)
    Xb, Yb = _batch()
    ours = chunked_forward(model, tg.tensor(Xb), tg.tensor(Yb))
    assert list(ours) == ORDER
    assert all(t.name == name for name, t in ours.items())
    ours["loss"].backward()
    P = _torch_params(model)
    theirs = _torch_chunked(P, torch.tensor(Xb), torch.tensor(Yb))
    theirs["loss"].backward()

    items = [(k, ours[k], theirs[k]) for k in ORDER] + [(k, getattr(model, k), P[k]) for k in PARAMS]
    for name, a, b in items:
        assert a.grad is not None, name
        assert a.grad.dtype == dtype and a.grad.shape == tuple(b.grad.shape), name
        if dtype == np.float32:
            # the lecture's cmp (allclose), atol 1e-7 rather than 1e-8: dlogit_maxes and db1 are zero
            # in exact arithmetic, and each library leaves its own rounding noise of ~1e-8 there
            assert cmp(name, a.grad, b, atol=1e-7, verbose=False).approximate, name
            np.testing.assert_allclose(a.data, b.detach().numpy(), rtol=1e-5, atol=1e-6, err_msg=name)
        else:
            np.testing.assert_allclose(a.grad, b.grad.numpy(), rtol=1e-10, atol=1e-14, err_msg=name)
            np.testing.assert_allclose(a.data, b.detach().numpy(), rtol=1e-12, atol=1e-14, err_msg=name)


def test_fused_forward_gives_the_chunked_gradients():
    """MakemoreMLP.forward (fused batch_norm and cross_entropy) == the chunked pass, float64."""
    model = MakemoreMLP(Config(n_hidden=64)).double()
    Xb, Yb = _batch(seed=1)
    chunked = chunked_forward(model, Xb, Yb)
    chunked["loss"].backward()
    want = {name: p.grad.numpy().copy() for name, p in model.named_parameters()}
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    logits = model(Xb)
    np.testing.assert_allclose(logits.data, chunked["logits"].data, rtol=1e-12)
    loss = F.cross_entropy(logits, Yb)
    np.testing.assert_allclose(loss.item(), chunked["loss"].item(), rtol=1e-12)
    loss.backward()
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad, want[name], rtol=1e-9, atol=1e-14, err_msg=name)


def test_forward_records_one_scope_per_layer():
    model = MakemoreMLP(Config(n_hidden=16))
    Xb, Yb = _batch(n=8)
    logits = model(Xb)
    assert logits._scope == "MakemoreMLP.linear2"
    scopes = set()
    stack = [logits]
    while stack:
        t = stack.pop()
        if t._scope:
            scopes.add(t._scope)
        stack.extend(t._prev)
    assert scopes == {f"MakemoreMLP.{s}" for s in ("embedding", "linear1", "batchnorm", "tanh", "linear2")}
    assert chunked_forward(model, Xb, Yb)["loss"]._scope == "cross_entropy"


def test_same_network_from_nn_layers():
    """MakemoreMLP is nn.Sequential(Embedding, Flatten, Linear, BatchNorm1d(unbiased), Tanh, Linear);
    nn.Linear keeps torch's (out, in) weight, the transpose of the lecture's W1 and W2."""
    model = MakemoreMLP(Config(n_hidden=32)).double()
    seq = nn.Sequential(nn.Embedding(27, 10), nn.Flatten(), nn.Linear(30, 32), nn.BatchNorm1d(32, unbiased=True),
                        nn.Tanh(), nn.Linear(32, 27)).double()
    seq.load_state_dict({"0.weight": model.C.data, "2.weight": model.W1.data.T, "2.bias": model.b1.data,
                         "3.weight": model.bngain.data[0], "3.bias": model.bnbias.data[0],
                         "3.running_mean": np.zeros(32), "3.running_var": np.ones(32),
                         "5.weight": model.W2.data.T, "5.bias": model.b2.data})
    Xb, Yb = _batch(seed=2)
    loss = F.cross_entropy(model(Xb), Yb)
    seq_loss = F.cross_entropy(seq(Xb), Yb)
    np.testing.assert_allclose(seq_loss.item(), loss.item(), rtol=1e-12)
    loss.backward()
    seq_loss.backward()
    np.testing.assert_allclose(seq[0].weight.grad, model.C.grad, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(seq[2].weight.grad, model.W1.grad.T, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(seq[3].weight.grad, model.bngain.grad[0], rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(seq[5].weight.grad, model.W2.grad.T, rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_training_steps_match_torch(dtype):
    """Forward, F.cross_entropy, backward and the SGD update, three times: the same parameters
    and running statistics as the same steps written in torch (the lecture's exercise 4 loop)."""
    model = MakemoreMLP(Config(n_hidden=64, bn_momentum=0.1)).to(dtype)
    P = _torch_params(model)
    rm, rv = torch.zeros(1, 64, dtype=P["C"].dtype), torch.ones(1, 64, dtype=P["C"].dtype)
    opt = nn.SGD(model.parameters(), lr=0.1)
    topt = torch.optim.SGD([P[k] for k in PARAMS], lr=0.1)
    tol = dict(rtol=2e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-13)
    for step in range(3):
        Xb, Yb = _batch(seed=10 + step)
        loss = F.cross_entropy(model(Xb), Yb)
        opt.zero_grad()
        loss.backward()
        opt.step()

        hprebn = P["C"][torch.tensor(Xb)].view(len(Xb), -1) @ P["W1"] + P["b1"]
        bnmean = hprebn.mean(0, keepdim=True)
        bnvar = hprebn.var(0, keepdim=True, unbiased=True)
        hpreact = P["bngain"] * (hprebn - bnmean) * (bnvar + 1e-5) ** -0.5 + P["bnbias"]
        tlogits = torch.tanh(hpreact) @ P["W2"] + P["b2"]
        tloss = torch.nn.functional.cross_entropy(tlogits, torch.tensor(Yb))
        topt.zero_grad()
        tloss.backward()
        topt.step()
        with torch.no_grad():
            rm, rv = 0.9 * rm + 0.1 * bnmean, 0.9 * rv + 0.1 * bnvar
        np.testing.assert_allclose(loss.item(), tloss.item(), **tol)
    for name in PARAMS:
        np.testing.assert_allclose(getattr(model, name).data, P[name].detach().numpy(), err_msg=name, **tol)
    np.testing.assert_allclose(model.bnmean_running.data, rm.numpy(), **tol)
    np.testing.assert_allclose(model.bnvar_running.data, rv.numpy(), **tol)


def test_calibrate_and_evaluate_match_the_lecture():
    """Exercise 4's calibration (mean and unbiased variance over the whole set) and split loss."""
    model = MakemoreMLP(Config(n_hidden=32)).double()
    X, Y = _batch(n=500, seed=3)
    calibrate_batchnorm(model, X, chunk=128)   # chunked: several passes must add up right
    P = {k: torch.tensor(v.numpy()) for k, v in model.named_parameters()}
    hpreact = P["C"][torch.tensor(X)].view(len(X), -1) @ P["W1"] + P["b1"]
    bnmean, bnvar = hpreact.mean(0, keepdim=True), hpreact.var(0, keepdim=True, unbiased=True)
    np.testing.assert_allclose(model.bnmean_running.data, bnmean.numpy(), rtol=1e-10)
    np.testing.assert_allclose(model.bnvar_running.data, bnvar.numpy(), rtol=1e-10)
    hpreact = P["bngain"] * (hpreact - bnmean) * (bnvar + 1e-5) ** -0.5 + P["bnbias"]
    logits = torch.tanh(hpreact) @ P["W2"] + P["b2"]
    want = torch.nn.functional.cross_entropy(logits, torch.tensor(Y)).item()
    assert model.training
    assert evaluate(model, X, Y, chunk=128) == pytest.approx(want, rel=1e-10)
    assert model.training   # evaluate restores the mode


def test_sample_is_seeded_and_uses_the_vocabulary():
    vocab = Vocab("abc")
    model = MakemoreMLP(Config(vocab_size=4, n_hidden=8))
    a = sample(model, vocab, 10, seed=5)
    assert a == sample(model, vocab, 10, seed=5)
    assert sample(model, vocab, 3, seed=5) == a[:3]
    assert len(a) == 10 and all(set(w) <= set("abc") for w in a)
    assert a != sample(model, vocab, 10, seed=6)


# ----------------------------------------------------------------------------
# data

def test_vocab_and_dataset_as_in_the_lecture():
    vocab = Vocab.from_words(["emma", "olivia", "ava"])
    assert vocab.chars == ".aeilmov" and len(vocab) == 8 and vocab.stoi["."] == 0
    assert vocab.decode(vocab.encode("olivia")) == "olivia"
    assert Vocab(vocab.chars) == vocab
    X, Y = build_dataset(["emma"], 3, Vocab.from_words("abcdefghijklmnopqrstuvwxyz"))
    assert X.dtype == np.int64 and X.shape == (5, 3)
    # ... ---> e, ..e ---> m, .em ---> m, emm ---> a, mma ---> .
    assert X.tolist() == [[0, 0, 0], [0, 0, 5], [0, 5, 13], [5, 13, 13], [13, 13, 1]]
    assert Y.tolist() == [5, 13, 13, 1, 0]


def test_default_words_are_the_census_first_names():
    words = load_words("default")
    assert len(words) == len(set(words)) == 5163
    assert all(w.isascii() and w.isalpha() and w.islower() for w in words)
    assert {"james", "mary", "emma"} <= set(words)


@pytest.mark.skipif(not NAMES.is_file(), reason="names.txt is not at /work/shared/data")
def test_the_lecture_split_of_names_txt():
    words = load_words(str(NAMES))
    assert len(words) == 32033
    train, val, test = split_words(words)
    assert train[:3] == ["yuheng", "diondre", "xavien"]   # the lecture's random.seed(42) shuffle
    vocab = Vocab.from_words(words)
    assert [len(build_dataset(ws, 3, vocab)[1]) for ws in (train, val, test)] == [182625, 22655, 22866]


def test_split_needs_enough_words():
    with pytest.raises(mdata.DataError, match="too few"):
        split_words(["a", "b", "c"], source="tiny.txt")


@pytest.mark.parametrize("content, message", [
    (b"", r"empty\.txt: no words"),
    (b"\n  \n\n", r"empty\.txt: no words"),
    (b"anna\nbob\x00\x01\x02\n", r"empty\.txt, line 2: this is not a text file"),
    (b"anna\nbob\ncl\xe9o\n", r"empty\.txt, line 3: this is not UTF-8 text"),
    (b"anna\nmr.bob\n", r"empty\.txt, line 2: the word 'mr\.bob' contains '\.'"),
])
def test_bad_word_files_name_the_file_and_line(tmp_path, content, message):
    path = tmp_path / "empty.txt"
    path.write_bytes(content)
    with pytest.raises(mdata.DataError, match=message):
        load_words(str(path))


def test_words_outside_the_vocabulary_name_the_file_and_line(tmp_path):
    path = tmp_path / "words.txt"
    path.write_text("anna\n\nbob\nzoë\n", encoding="utf-8")
    assert load_words(str(path)) == ["anna", "bob", "zoë"]
    with pytest.raises(mdata.DataError, match=r"words\.txt, line 4: the word 'zoë' has the character 'ë'"):
        load_words(str(path), vocab=Vocab("abcdefghijklmnopqrstuvwxyz"))
    with pytest.raises(mdata.DataError, match=r"nope\.txt: no such file"):
        load_words(str(tmp_path / "nope.txt"))


def test_windows_line_endings_and_bom(tmp_path):
    path = tmp_path / "w.txt"
    path.write_bytes(b"\xef\xbb\xbfanna\r\nbob\r\n")
    assert load_words(str(path)) == ["anna", "bob"]


# ----------------------------------------------------------------------------
# makemore-names: downloaded once into the cache, checksum checked; never the network here

@pytest.fixture
def fake_remote(tmp_path, monkeypatch):
    """A local 'names.txt' and a downloader that copies it and counts its calls."""
    remote = tmp_path / "remote.txt"
    remote.write_text("anna\nbob\ncarla\n")
    monkeypatch.setenv("TENSORGRAD_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(mdata, "MAKEMORE_NAMES_SHA256", hashlib.sha256(remote.read_bytes()).hexdigest())
    calls = []

    def download(url, dest):
        calls.append(url)
        Path(dest).write_bytes(remote.read_bytes())
    monkeypatch.setattr(mdata, "_download", download)
    return remote, calls


def test_makemore_names_downloads_once_into_the_cache(fake_remote, tmp_path):
    remote, calls = fake_remote
    assert load_words("makemore-names") == ["anna", "bob", "carla"]
    assert calls == [mdata.MAKEMORE_NAMES_URL]
    assert (tmp_path / "cache" / "names.txt").read_bytes() == remote.read_bytes()
    assert load_words("makemore-names") == ["anna", "bob", "carla"]
    assert len(calls) == 1                                        # the second time comes from the cache
    (tmp_path / "cache" / "names.txt").write_text("damaged")
    assert load_words("makemore-names") == ["anna", "bob", "carla"]
    assert len(calls) == 2                                        # a damaged cache is fetched again


def test_makemore_names_checksum_mismatch(fake_remote, tmp_path, monkeypatch):
    monkeypatch.setattr(mdata, "MAKEMORE_NAMES_SHA256", "0" * 64)
    with pytest.raises(mdata.DataError, match="sha256 .* expected 0000"):
        load_words("makemore-names")
    assert list((tmp_path / "cache").iterdir()) == []              # nothing half-written is left


def test_makemore_names_offline(fake_remote, tmp_path, monkeypatch):
    def offline(url, dest):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")
    monkeypatch.setattr(mdata, "_download", offline)
    with pytest.raises(mdata.DataError, match="Are you offline"):
        load_words("makemore-names")
    assert list((tmp_path / "cache").iterdir()) == []


def test_the_real_checksum_is_the_one_of_names_txt():
    if not NAMES.is_file():
        pytest.skip("names.txt is not at /work/shared/data")
    assert hashlib.sha256(NAMES.read_bytes()).hexdigest() == mdata.MAKEMORE_NAMES_SHA256
