"""tg.compile and Python state: grad mode and module.training key the recordings, so one compiled
loss serves training, model.eval() + no_grad evaluation (makemore's evaluate) and training again,
each replayed bit for bit against the dynamic path; and a function that cannot be replayed says why
once, naming the op that stopped it."""
import functools
import warnings

import numpy as np
import pytest

import tensorgrad as tg

nn, F = tg.nn, tg.nn.functional


def _model():
    """makemore's MLP with a BatchNorm (running statistics written in place) and a Dropout."""
    return nn.Sequential(nn.Embedding(27, 6), nn.Flatten(), nn.Linear(18, 32, bias=False), nn.BatchNorm1d(32),
                         nn.Tanh(), nn.Dropout(0.25), nn.Linear(32, 27))


def _batch(rng, n):
    return tg.tensor(rng.integers(0, 27, (n, 3))), tg.tensor(rng.integers(0, 27, n))


# the phases of a training run: (model mode, grad mode, steps, batch size)
PHASES = [("train", True, 4, 16), ("eval", False, 3, 16), ("eval", False, 1, 5), ("train", True, 3, 16),
          ("eval", True, 2, 16), ("train", False, 2, 16), ("train", True, 2, 16)]


def _run(compiled):
    tg.manual_seed(0)
    model = _model()
    optimizer = tg.optim.SGD(model.parameters(), lr=0.1)
    loss_of = lambda X, Y: F.cross_entropy(model(X), Y)      # noqa: E731
    if compiled:
        loss_of = tg.compile(loss_of)
    rng = np.random.default_rng(1)
    seen = []
    for mode, grad, steps, n in PHASES:
        model.train(mode == "train")
        for _ in range(steps):
            X, Y = _batch(rng, n)
            with tg.set_grad_enabled(grad):
                loss = loss_of(X, Y)
            assert loss.requires_grad == grad and (loss.grad_fn is None) == (not grad)
            seen.append(loss.item())
            if grad:
                optimizer.zero_grad()
                loss.backward()
                seen += [p.grad.numpy().copy() for p in model.parameters()]
                if mode == "train":
                    optimizer.step()
    state = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    return seen, state, tg.get_rng_state(), loss_of


def test_train_eval_and_no_grad_switches_replay_bit_for_bit():
    with warnings.catch_warnings():
        warnings.simplefilter("error")                        # every phase replays: no warning
        dynamic, replayed = _run(False), _run(True)
    assert len(dynamic[0]) == len(replayed[0])
    for k, (a, b) in enumerate(zip(dynamic[0], replayed[0])):
        assert np.array_equal(a, b), k
    for k in dynamic[1]:
        assert np.array_equal(dynamic[1][k], replayed[1][k]), k      # weights, running statistics, step count
    assert dynamic[2] == replayed[2]                                   # the dropout draws: train mode only
    compiled = replayed[3]
    ops = {key: [s.fn.name for s in r.rec.steps] for key, r in compiled.recordings.items()}
    assert len(ops) == 5                                  # train, eval no_grad (2 shapes), eval, train no_grad
    for (args, training), names in ops.items():
        assert ("dropout_mask" in names) == all(training)              # eval records its own program
    for key, r in compiled.recordings.items():
        if not key[0][0]:                                 # under no_grad: no backward, no tape
            assert r.rec.backward_steps == ()


def test_a_batchnorm_in_eval_does_not_replay_the_training_recording():
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 5), nn.BatchNorm1d(5))
    f = tg.compile(lambda x: model(x).sum())
    x = tg.tensor(np.random.default_rng(0).standard_normal((8, 4)).astype(np.float32))
    for _ in range(3):
        f(x)                                              # train: record, check, replay
    before = model[1].running_mean.numpy().copy()
    model.eval()
    with tg.no_grad():
        got = f(x).item()
        want = model(x).sum().item()                      # the running statistics, not the batch's
        again = f(x).item()
    assert got == want == again
    assert np.array_equal(model[1].running_mean.numpy(), before)           # eval writes nothing
    model[1].eval()                                       # one submodule back and forth
    model[0].train()
    assert f(x).item() == model(x).sum().item()


def test_modules_reached_through_a_method_or_an_argument_key_the_recording():
    class Trainer:
        def __init__(self):
            self.model = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.5))

        def loss(self, x):
            return self.model(x).sum()

    trainer = Trainer()
    x = tg.ones(2, 3)
    step = tg.compile(trainer.loss)
    for _ in range(3):
        step(x)
    trainer.model.eval()
    assert step(x).item() == trainer.model(x).sum().item()                 # no dropout in eval
    partial = tg.compile(functools.partial(lambda m, x: m(x).sum(), trainer.model))
    trainer.model.train()
    for _ in range(3):
        partial(x)
    trainer.model.eval()
    assert partial(x).item() == trainer.model(x).sum().item()
    by_arg = tg.compile(lambda m, x: m(x).sum())
    m = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.5))
    for _ in range(3):
        by_arg(m, x)
    m.eval()
    assert by_arg(m, x).item() == m(x).sum().item()


def _numpy_noise(x):
    """A function that cannot be replayed: NumPy's random numbers are constants to a recording."""
    return (x * 2 * tg.tensor(np.random.default_rng().random(x.shape[1]).astype(np.float32))).sum()


def test_an_unreplayable_function_warns_once_naming_the_op():
    f = tg.compile(_numpy_noise)
    with pytest.warns(UserWarning, match=r"runs uncompiled: .*op 1 \(mul\) read a constant tensor of shape .*\[3\]") \
            as caught:
        for n in [4] * 10 + [5] * 5 + [4] * 5:            # many steps, a new batch size, no_grad evaluation
            y = tg.ones(n, 3, requires_grad=True)
            f(y).backward()
            with tg.no_grad():
                f(y)
    assert len([w for w in caught if "runs uncompiled" in str(w.message)]) == 1


def test_the_warning_names_the_module_whose_op_stopped_the_replay():
    class Noisy(nn.Module):
        def forward(self, x):
            return x * tg.tensor(np.random.default_rng().random(x.shape[-1]).astype(np.float32))

    model = nn.Sequential(nn.Linear(3, 3), Noisy())
    f = tg.compile(lambda x: model(x).sum())
    x = tg.ones(2, 3)
    f(x)
    with pytest.warns(UserWarning, match=r"\(mul in Sequential\.1\) read a constant tensor"):
        f(x)
