"""The model zoo against torch: for every type, torch's initial weights copied in through
scripts/from_torch.py, 20 optimizer steps on the same batches, the same losses and parameters
(float64 tight, float32 allclose); parameter counts as the torch twins and the lectures; the
sampler; tg.save / tg.load."""
import dataclasses

from pathlib import Path

import numpy as np
import pytest
import torch

import tensorgrad as tg
from benchmarks import torch_zoo
from models.config import LECTURE_TYPES, MAKEMORE_TYPES, TYPES, Config, build_model, make_optimizer
from models.train import generate, loss_of, sample_next
from scripts.from_torch import infer_config, load_torch_into, to_torch

SMALL = dict(vocab_size=27, block_size=8, n_embd=16, n_embd2=16, n_layer=2, n_head=2, n_hidden=16)


def small_config(type_: str, **kw) -> Config:
    shape = {k: v for k, v in SMALL.items() if k not in ("n_embd2", "n_layer", "n_head") or type_ in MAKEMORE_TYPES}
    if type_ in LECTURE_TYPES:
        shape.pop("n_embd2", None)
        shape["block_size"] = 8 if type_ == "wavenet" else 3
    else:
        shape.pop("n_hidden")
    lr = dict(lr=1e-2) if type_ in MAKEMORE_TYPES else dict(lr=0.1)
    return Config(type=type_, **shape, **lr, **kw)


def batches(config: Config, n: int = 20, batch: int = 8, seed: int = 0):
    """n (X, Y) batches: makemore types (B, T) words with -1 padding; lectures (B, block_size) -> (B,)."""
    rng = np.random.default_rng(seed)
    V, T = config.vocab_size, config.block_size
    for _ in range(n):
        X = rng.integers(0, V, (batch, T))
        if config.recipe == "makemore":
            Y = rng.integers(0, V, (batch, T))
            lengths = rng.integers(1, T + 1, batch)
            Y[np.arange(T)[None, :] >= lengths[:, None]] = -1   # past the end of each word: ignored
            yield X, Y
        else:
            yield X, rng.integers(0, V, batch)


def twins(config: Config, dtype):
    torch.manual_seed(0)
    theirs = torch_zoo.build(config).to(torch.float64 if dtype == np.float64 else torch.float32)
    ours = build_model(config)
    ours = ours.double() if dtype == np.float64 else ours.float()
    load_torch_into(ours, theirs)
    return ours, theirs


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("type_", TYPES)
def test_twenty_steps_match_torch(type_, dtype):
    config = small_config(type_)
    ours, theirs = twins(config, dtype)
    opt, topt = make_optimizer(config, ours.parameters()), torch_zoo.make_optimizer(config, theirs.parameters())
    tol = dict(rtol=1e-9, atol=1e-12) if dtype == np.float64 else dict(rtol=2e-4, atol=2e-5)
    for X, Y in batches(config):
        loss = loss_of(ours, X, Y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        tloss = torch_zoo.loss_of(theirs, torch.tensor(X), torch.tensor(Y))
        topt.zero_grad()
        tloss.backward()
        topt.step()
        np.testing.assert_allclose(loss.item(), tloss.item(), **tol)
    want = theirs.state_dict()
    got = ours.state_dict()
    assert set(got) == set(want)
    for name, value in got.items():
        a, b = np.asarray(value), want[name].numpy()
        if dtype == np.float32 and name.endswith("attn.c_attn.bias"):
            # the key bias adds q.b_k to every score of a row, which softmax ignores: its gradient is
            # zero in exact arithmetic, and AdamW turns each library's float32 rounding noise there
            # (~1e-9, near eps 1e-8) into steps of up to lr / 10; only the query and value thirds are exact
            E = config.n_embd
            np.testing.assert_allclose(a[E:2 * E], b[E:2 * E], atol=len(list(batches(config))) * config.lr * 0.1)
            a, b = np.r_[a[:E], a[2 * E:]], np.r_[b[:E], b[2 * E:]]
        np.testing.assert_allclose(a, b, err_msg=name, **tol)
    # and back: tensorgrad's weights load into the torch twin, name for name
    theirs.load_state_dict(to_torch(got), strict=True)


@pytest.mark.parametrize("type_", TYPES)
def test_eval_mode_matches_torch(type_):
    """After training steps moved the running statistics, eval-mode logits agree too."""
    config = small_config(type_)
    ours, theirs = twins(config, np.float64)
    for X, Y in batches(config, n=3):
        loss_of(ours, X, Y)
        with torch.no_grad():
            torch_zoo.loss_of(theirs, torch.tensor(X), torch.tensor(Y))
    ours.eval()
    theirs.eval()
    X, _ = next(batches(config, n=1, seed=5))
    with tg.no_grad(), torch.no_grad():
        np.testing.assert_allclose(ours(X).numpy(), theirs(torch.tensor(X)).numpy(), rtol=1e-10, atol=1e-12)


# the parameter counts of the default configs (vocabulary 27; makemore types: names up to 15 letters)
COUNTS = {"bn-mlp": 12297, "deep-bn": 47024, "wavenet": 76579}


@pytest.mark.parametrize("type_", TYPES)
def test_parameter_counts_are_the_torch_twins(type_):
    config = Config(type=type_, vocab_size=27, block_size=16 if type_ in MAKEMORE_TYPES else None)
    torch.manual_seed(0)
    want = sum(p.numel() for p in torch_zoo.build(config).parameters())
    assert sum(p.numel() for p in build_model(config).parameters()) == want
    if type_ in COUNTS:
        assert want == COUNTS[type_]   # the lectures' own counts


@pytest.mark.parametrize("type_", MAKEMORE_TYPES)
def test_the_config_is_read_off_a_torch_state_dict(type_):
    config = small_config(type_)
    torch.manual_seed(0)
    got = infer_config(torch_zoo.build(config).state_dict(), n_head=config.n_head)
    assert got["type"] == type_
    for k, v in got.items():
        if k != "type":
            assert v == getattr(config, k), k


def test_causal_models_do_not_look_ahead():
    """Changing the character at position t changes no logit before t (bow, rnn, gru, transformer, mlp)."""
    for type_ in ("mlp", "rnn", "gru", "bow", "transformer"):
        model = build_model(small_config(type_)).double()
        X = np.random.default_rng(1).integers(0, 27, (2, 8))
        Z = X.copy()
        Z[:, 5] = (Z[:, 5] + 1) % 27
        with tg.no_grad():
            a, b = model(X).numpy(), model(Z).numpy()
        np.testing.assert_array_equal(a[:, :5], b[:, :5], err_msg=type_)
        assert not np.allclose(a[:, 5:], b[:, 5:]), type_


# ----------------------------------------------------------------------------
# sampling

def test_sampler_follows_the_probabilities():
    probs = np.array([[0.1, 0.6, 0.0, 0.3]] * 20000)
    g = tg.Generator().manual_seed(0)
    counts = np.bincount(sample_next(probs, g), minlength=4) / len(probs)
    np.testing.assert_allclose(counts, probs[0], atol=0.01)
    assert counts[2] == 0                                           # zero probability: never
    a = sample_next(probs[:50], tg.Generator().manual_seed(3))
    assert np.array_equal(a, sample_next(probs[:50], tg.Generator().manual_seed(3)))   # seeded


@pytest.mark.parametrize("type_", ["transformer", "gru", "wavenet"])
def test_same_probabilities_and_seed_pick_the_same_tokens(type_):
    """Sampling from the torch twin's probabilities and from tensorgrad's, with the same seed, gives
    the same tokens (the probabilities agree to float64 rounding)."""
    config = small_config(type_)
    ours, theirs = twins(config, np.float64)
    theirs.eval()

    class TorchAsTg:   # the torch model behind generate()'s interface
        training = False

        def eval(self):
            return self

        def train(self, mode=True):
            return self

        def __call__(self, idx):
            with torch.no_grad():
                return tg.tensor(theirs(torch.tensor(np.asarray(idx))).numpy())
    for top_k, temperature in ((None, 1.0), (3, 0.7)):
        a = generate(ours, config, 16, 7, tg.Generator().manual_seed(11), temperature, top_k)
        b = generate(TorchAsTg(), config, 16, 7, tg.Generator().manual_seed(11), temperature, top_k)
        assert a.shape == (16, 7)
        np.testing.assert_array_equal(a, b)
        if top_k == 3:   # every token among the 3 most likely: checked through the first step
            X0 = np.zeros((16, 1 if config.recipe == "makemore" else config.block_size), np.int64)
            with tg.no_grad():
                first = ours.eval()(X0).numpy()
            first = first[:, -1] if first.ndim == 3 else first
            top3 = np.argsort(first, axis=1)[:, -3:]
            assert all(a[i, 0] in top3[i] for i in range(16))


# ----------------------------------------------------------------------------
# tg.save / tg.load

def test_save_and_load_a_tree(tmp_path):
    state = {"model": {"w": tg.randn(3, 2), "b": np.arange(3)}, "step": 7, "name": "x", "none": None,
             "opt": {"state": {0: {"exp_avg": np.ones(2)}}, "param_groups": [{"lr": 0.1, "betas": (0.9, 0.99)}]}}
    tg.save(state, tmp_path / "s.npz")
    back = tg.load(tmp_path / "s.npz")
    assert back["step"] == 7 and back["name"] == "x" and back["none"] is None
    assert back["opt"]["param_groups"][0]["betas"] == (0.9, 0.99)
    assert list(back["opt"]["state"]) == [0]                         # int keys stay ints
    np.testing.assert_array_equal(back["model"]["w"].numpy(), state["model"]["w"].numpy())
    assert back["model"]["w"].dtype == tg.float32 and back["model"]["b"].dtype == np.int64
    assert isinstance(back["model"]["w"], tg.Tensor) and isinstance(back["model"]["b"], np.ndarray)
    assert [p.name for p in tmp_path.iterdir()] == ["s.npz"]        # no temporary file left


def test_load_errors_name_the_file(tmp_path):
    bad = tmp_path / "random.npz"
    bad.write_bytes(bytes(np.random.default_rng(0).integers(0, 256, 300, dtype=np.uint8)))
    with pytest.raises(tg.serialization.SerializationError, match=r"random\.npz: not a tensorgrad file") as e:
        tg.load(bad)
    assert "allow_pickle" not in str(e.value)
    np.savez(tmp_path / "plain.npz", x=np.zeros(2))
    with pytest.raises(tg.serialization.SerializationError, match=r"plain\.npz: not a tensorgrad file"):
        tg.load(tmp_path / "plain.npz")
    tg.save({"x": np.zeros(1000)}, tmp_path / "t.npz")
    (tmp_path / "t.npz").write_bytes((tmp_path / "t.npz").read_bytes()[:600])
    with pytest.raises(tg.serialization.SerializationError, match=r"t\.npz: cannot read .* corrupt or truncated"):
        tg.load(tmp_path / "t.npz")
    with pytest.raises(tg.serialization.SerializationError, match=r"nope\.npz: no such file"):
        tg.load(tmp_path / "nope.npz")
    with pytest.raises(tg.serialization.SerializationError, match="object"):
        tg.save({"x": np.array([object()])}, tmp_path / "o.npz")
    assert not (tmp_path / "o.npz").exists()


def test_a_state_dict_round_trips(tmp_path):
    config = small_config("transformer")
    model = build_model(config)
    tg.save(model.state_dict(), tmp_path / "m.npz")
    other = build_model(dataclasses.replace(config))
    other.load_state_dict(tg.load(tmp_path / "m.npz"))
    for (k, a), (_, b) in zip(model.state_dict().items(), other.state_dict().items()):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=k)


# ----------------------------------------------------------------------------
# the part-3 diagnostics

def test_diagnostics_find_every_tanh_and_measure_it(tmp_path):
    from viz import diagnostics
    config = small_config("deep-bn")
    model = build_model(config)
    X, Y = next(batches(config, n=1, batch=32))
    loss = loss_of(model, X, Y)
    acts = diagnostics.tanh_outputs(loss)
    assert len(acts) == 5 and all(t.shape == (32, 16) for _, t in acts)   # the five hidden tanh layers
    loss.backward()
    stats = diagnostics.activation_histograms(acts, tmp_path / "a.png")
    for s, (_, t) in zip(stats, acts):
        assert s["saturated"] == pytest.approx(np.mean(np.abs(t.numpy()) > 0.97))
    grads = diagnostics.gradient_histograms(acts, tmp_path / "g.png")
    assert all(s["std"] > 0 for s in grads)
    weights = diagnostics.weight_gradient_histograms(model, tmp_path / "w.png")
    W = model.layers[0].weight
    assert weights[1]["ratio"] == pytest.approx(np.asarray(W.grad).std() / W.numpy().std())
    rec = diagnostics.UpdateRecorder(model)
    before = W.numpy().copy()
    rec.before()
    make_optimizer(config, model.parameters()).step()
    rec.after()
    assert rec.ratios[0][1] == pytest.approx(np.log10((W.numpy() - before).std() / before.std()))
    diagnostics.update_ratio_plot(rec, tmp_path / "u.png")
    assert all((tmp_path / f).stat().st_size > 1000 for f in ("a.png", "g.png", "w.png", "u.png"))


def test_a_makemore_model_pt_becomes_a_checkpoint_and_back(tmp_path, capsys):
    """makemore.py's out/model.pt (a torch state dict) -> tensorgrad-makemore checkpoint -> sample -> model.pt."""
    from models.cli import main as cli
    from models.checkpoint import load_checkpoint
    from scripts.from_torch import main as convert
    words = tmp_path / "words.txt"
    words.write_text("anna\nbob\ncarla\ndave\nemma\nfrank\ngina\nhugo\niris\njack\nkate\n")
    config = Config(type="transformer", vocab_size=27, block_size=6, n_embd=8, n_layer=1, n_head=2)
    config.vocab_size = 1 + len(set("annabobcarladaveemmafrankginahugoirisjackkate"))
    torch.manual_seed(0)
    theirs = torch_zoo.build(config)
    torch.save(theirs.state_dict(), tmp_path / "model.pt")
    assert convert(["to-tensorgrad", str(tmp_path / "model.pt"), "-i", str(words), "-o", str(tmp_path / "out"),
                    "--n-head", "2", "--type", "transformer"]) == 0
    ckpt = load_checkpoint(tmp_path / "out" / "makemore.npz")
    assert ckpt.config.type == "transformer" and ckpt.config.n_layer == 1 and ckpt.max_word_length == 5
    for k, v in theirs.state_dict().items():
        np.testing.assert_array_equal(np.asarray(ckpt.model.state_dict()[k]), v.numpy(), err_msg=k)
    capsys.readouterr()
    assert cli(["sample", "-o", str(tmp_path / "out"), "-n", "5"]) == 0
    assert len(capsys.readouterr().out.split("\n")) == 6
    assert convert(["to-torch", str(tmp_path / "out" / "makemore.npz"), str(tmp_path / "back.pt")]) == 0
    back = torch.load(tmp_path / "back.pt", weights_only=True)
    assert set(back) == set(theirs.state_dict())
    assert all(torch.equal(back[k], v) for k, v in theirs.state_dict().items())


def test_the_readme_shows_the_benchmarks_table():
    """The README's zoo table is the one benchmarks/zoo.py last wrote (python -m benchmarks.zoo --readme)."""
    from benchmarks import zoo
    md = (zoo.RESULTS / "zoo.md").read_text()
    assert zoo.readme_block(md) in zoo.README.read_text()


@pytest.mark.parametrize("type_", TYPES)
def test_the_replayed_step_is_the_dynamic_one_bit_for_bit(type_):
    """tg.compile (the training program's default) against the dynamic path: 12 steps from the same
    weights on new batches each step (the first call records, the others replay)."""
    config = small_config(type_)
    runs = []
    for compiled in (False, True):
        tg.manual_seed(0)
        model = build_model(config).double()
        opt = make_optimizer(config, model.parameters())
        step_loss = lambda X, Y: loss_of(model, X, Y)          # noqa: E731
        if compiled:
            step_loss = tg.compile(step_loss)
        losses = []
        for X, Y in batches(config, n=12, seed=3):
            loss = step_loss(tg.tensor(X), tg.tensor(Y))
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        runs.append((losses, {k: np.array(v) for k, v in model.state_dict().items()}))
    assert runs[0][0] == runs[1][0]
    for k in runs[0][1]:
        np.testing.assert_array_equal(runs[0][1][k], runs[1][1][k], err_msg=k)


def test_only_the_command_line_imports_viz():
    """The models, the training loop and the checkpoint stand on tensorgrad alone; the command line (the
    application layer) wires viz's diagnostics in through TrainingHooks."""
    import ast
    models_dir = Path(__file__).resolve().parents[1] / "models"
    for path in sorted(models_dir.glob("*.py")):
        names = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module.split(".")[0])
        assert ("viz" in names) == (path.name == "cli.py"), path.name
