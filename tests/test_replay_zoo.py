"""Every zoo type replays by default, with no warning, through training, eval-mode no_grad evaluation
and training again (the training program's pattern: one compiled loss), bit for bit against the
dynamic path."""
import warnings

import numpy as np
import pytest

import tensorgrad as tg
from models.config import TYPES, build_model, make_optimizer
from models.train import loss_of
from test_zoo import batches, small_config


@pytest.mark.parametrize("wrap", [tg.tensor, np.asarray], ids=["tensors", "arrays"])   # arrays: as benchmarks.zoo
@pytest.mark.parametrize("type_", TYPES)
def test_every_type_replays_training_and_evaluation(type_, wrap):
    config = small_config(type_)
    runs = []
    for compiled in (False, True):
        tg.manual_seed(0)
        model = build_model(config).double()
        opt = make_optimizer(config, model.parameters())
        step_loss = lambda X, Y: loss_of(model, X, Y)          # noqa: E731
        if compiled:
            step_loss = tg.compile(step_loss)
        seen = []
        with warnings.catch_warnings():
            warnings.simplefilter("error")                      # "runs uncompiled" would fail here
            for k, (X, Y) in enumerate(batches(config, n=10, seed=3)):
                evaluating = k in (4, 5, 6)
                model.train(not evaluating)
                with tg.set_grad_enabled(not evaluating):
                    loss = step_loss(wrap(X), wrap(Y))
                seen.append(loss.item())
                if not evaluating:
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
        runs.append((seen, {k: np.array(v) for k, v in model.state_dict().items()}))
        if compiled:
            assert {type(r).__name__ for r in step_loss.recordings.values()} == {"_ReplayOp"}
            assert all(r.checked for r in step_loss.recordings.values())
    assert runs[0][0] == runs[1][0]
    for k in runs[0][1]:
        np.testing.assert_array_equal(runs[0][1][k], runs[1][1][k], err_msg=k)
