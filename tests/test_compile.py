"""tg.compile: a replayed recording gives the dynamic path's results bit for bit, over a
training run, and .grad, no_grad, optimizer updates and version checks keep their meaning."""
import warnings

import numpy as np
import pytest

import tensorgrad as tg

F = tg.nn.functional


def _params(seed=0, n_hidden=16, form="fused"):
    rng = np.random.default_rng(seed)
    shapes = dict(C=(27, 4), W1=(12, n_hidden), b1=(n_hidden,), W2=(n_hidden, 27), b2=(27,),
                  gain=(n_hidden,) if form == "fused" else (1, n_hidden), bias=(n_hidden,) if form == "fused" else (1, n_hidden))
    return {k: tg.tensor((rng.standard_normal(s) * 0.3).astype(np.float32), requires_grad=True) for k, s in shapes.items()}


def _fused(p, running, X, Y):
    h = p["C"][X].view(X.shape[0], -1) @ p["W1"] + p["b1"]                           # (n, n_hidden)
    h = F.batch_norm(h, *running, p["gain"], p["bias"], training=True, momentum=0.1, correction=1).tanh()
    return F.cross_entropy(h @ p["W2"] + p["b2"], Y)


def _chunked(p, running, X, Y):
    """The lecture's exercise-1 forward, op for op."""
    n = X.shape[0]
    hprebn = p["C"][X].view(n, -1) @ p["W1"] + p["b1"]
    bnmeani = 1 / n * hprebn.sum(0, keepdim=True)
    bndiff = hprebn - bnmeani
    bnvar = 1 / (n - 1) * (bndiff ** 2).sum(0, keepdim=True)
    bnraw = bndiff * (bnvar + 1e-5) ** -0.5
    h = (p["gain"] * bnraw + p["bias"]).tanh()
    logits = h @ p["W2"] + p["b2"]
    norm_logits = logits - logits.max(1, keepdim=True).values
    counts = norm_logits.exp()
    probs = counts * counts.sum(1, keepdim=True) ** -1
    return -probs.log()[tg.arange(n), Y].mean()


def _data(rng, n):
    return tg.tensor(rng.integers(0, 27, (n, 3))), tg.tensor(rng.integers(0, 27, n))


def _sgd(params, lr):
    with tg.no_grad():
        for p in params.values():
            p -= lr * p.grad


@pytest.mark.parametrize("form", ["fused", "chunked"])
def test_replay_is_bit_exact_with_the_dynamic_path_over_a_training_run(form):
    loss_of = _fused if form == "fused" else _chunked
    pd, pc = _params(form=form), _params(form=form)
    rd, rc = (tg.zeros(16), tg.ones(16)), (tg.zeros(16), tg.ones(16))
    compiled = tg.compile(lambda X, Y: loss_of(pc, rc, X, Y))
    rng = np.random.default_rng(1)
    for step in range(25):
        X, Y = _data(rng, 8 if step < 15 else 5)          # a new batch size records again
        for params, fn in ((pd, lambda X, Y: loss_of(pd, rd, X, Y)), (pc, compiled)):
            loss = fn(X, Y)
            for p in params.values():
                p.grad = None
            loss.backward()
            _sgd(params, 0.1 if step < 20 else 0.01)
            if params is pd:
                want = loss.item()
        assert loss.item() == want
        for k in pd:
            assert np.array_equal(pd[k].numpy(), pc[k].numpy()), (step, k)
        for a, b in zip(rd, rc):
            assert np.array_equal(a.numpy(), b.numpy())   # the batch norm's running statistics
    assert len(compiled.recordings) == 2


def test_replay_accumulates_grad_as_the_dynamic_path_does():
    p = _params()
    running = (tg.zeros(16), tg.ones(16))
    X, Y = _data(np.random.default_rng(2), 6)
    compiled = tg.compile(lambda X, Y: _fused(p, running, X, Y))
    compiled(X, Y).backward()                              # the recording call
    once = {k: np.asarray(v.grad).copy() for k, v in p.items()}
    compiled(X, Y).backward()                              # a replay, without zeroing: gradients add up
    for k, v in p.items():
        assert np.array_equal(np.asarray(v.grad), once[k] + once[k])


def test_no_grad_call_records_nothing_and_replays_the_forward():
    p = _params()
    running = (tg.zeros(16), tg.ones(16))
    X, Y = _data(np.random.default_rng(3), 6)
    compiled = tg.compile(lambda X, Y: _fused(p, running, X, Y))
    want = _fused(p, (tg.zeros(16), tg.ones(16)), X, Y).item()
    with tg.no_grad():
        for _ in range(2):
            out = compiled(X, Y)
            assert not out.requires_grad and out.grad_fn is None
    assert out.item() == want


def test_writing_a_parameter_between_forward_and_backward_is_caught():
    p = _params()
    running = (tg.zeros(16), tg.ones(16))
    X, Y = _data(np.random.default_rng(4), 6)
    compiled = tg.compile(lambda X, Y: _fused(p, running, X, Y))
    compiled(X, Y)
    loss = compiled(X, Y)                                   # replayed
    with tg.no_grad():
        p["W2"] += 1.0
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def test_writing_a_buffer_between_forward_and_backward_is_caught():
    w = tg.tensor(np.ones(3, np.float32), requires_grad=True)
    mask = tg.tensor(np.array([1.0, 0.0, 1.0], np.float32))           # a buffer: no grad
    compiled = tg.compile(lambda x: (w * mask * x).sum())
    x = tg.tensor(np.arange(3, dtype=np.float32))
    compiled(x)
    loss = compiled(x)
    mask[1] = 1.0
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def test_a_new_dtype_or_python_argument_records_again():
    w = tg.tensor(np.ones(3, np.float32), requires_grad=True)
    compiled = tg.compile(lambda x, c: (w * x * c).sum())
    x32 = tg.tensor(np.arange(3, dtype=np.float32))
    assert compiled(x32, 2.0).item() == 6.0
    assert compiled(x32, 3.0).item() == 9.0                 # not the recording's 2.0
    assert compiled(x32.double(), 2.0).dtype == np.float64
    assert len(compiled.recordings) == 3
    out = compiled(x32 + 1, 3.0)                            # replayed with new data
    assert out.item() == 18.0
    w.grad = None
    out.backward()
    assert np.array_equal(np.asarray(w.grad), np.array([3.0, 6.0, 9.0], np.float32))


def test_what_cannot_be_replayed_is_refused():
    x = tg.tensor(np.ones(3, np.float32), requires_grad=True)
    with pytest.raises(TypeError, match="must return one Tensor"):
        tg.compile(lambda: (x * 2, x * 3))()

    def writes(y):
        z = y * 2
        z += 1
        return z.sum()
    compiled_writes = tg.compile(writes)
    with pytest.warns(UserWarning, match="runs uncompiled: it writes into a tensor in place"):
        assert compiled_writes(x).item() == 9.0           # the dynamic result, with a warning
    assert compiled_writes(x).item() == 9.0               # and dynamic from then on, silently

    data = np.arange(3.0)
    numpy_inside = tg.compile(lambda y, a: (y * tg.tensor(np.asarray(a) * 2)).sum())   # NumPy on an argument
    assert numpy_inside(x, data).item() == 6.0                                          # records
    with pytest.warns(UserWarning, match="another program"):
        assert numpy_inside(x, data + 1).item() == 12.0   # the second call records again and compares
    assert numpy_inside(x, data + 2).item() == 18.0
    compiled = tg.compile(lambda y: (y * y).sum())
    compiled(x), compiled(x)                              # records, then records again to check
    with pytest.raises(RuntimeError, match="create_graph"):
        tg.grad(compiled(x), x, create_graph=True)


def test_a_compiled_function_inside_another_is_replayed_by_both():
    w = tg.tensor(np.array([1.0, 2.0, 3.0], np.float32), requires_grad=True)
    inner = tg.compile(lambda x: (w * x).tanh())
    outer = tg.compile(lambda x: (inner(x) * 2).sum())
    for k in range(3):
        x = tg.tensor(np.arange(3, dtype=np.float32) + k)
        w.grad = None
        got = outer(x)
        got.backward()
        w2 = tg.tensor(w.numpy().copy(), requires_grad=True)
        want = ((w2 * x).tanh() * 2).sum()
        want.backward()
        assert got.item() == want.item()
        assert np.array_equal(np.asarray(w.grad), np.asarray(w2.grad))


def test_running_statistics_written_in_place_are_replayed():
    """BatchNorm1d in training writes its running statistics and its step count in place: the replay
    does the same writes, so a compiled run equals the dynamic one bit for bit, buffers included."""
    runs = []
    for compiled in (False, True):
        tg.manual_seed(0)
        model = tg.nn.Sequential(tg.nn.Linear(4, 6), tg.nn.BatchNorm1d(6), tg.nn.Tanh(), tg.nn.Linear(6, 3)).double()
        opt = tg.optim.SGD(model.parameters(), lr=0.1)
        step = lambda X, Y: tg.nn.functional.cross_entropy(model(X), Y)      # noqa: E731
        if compiled:
            step = tg.compile(step)
        rng = np.random.default_rng(1)
        with warnings.catch_warnings():
            warnings.simplefilter("error")                   # no "runs uncompiled" warning
            for _ in range(6):
                loss = step(tg.tensor(rng.standard_normal((8, 4))), tg.tensor(rng.integers(0, 3, 8)))
                opt.zero_grad()
                loss.backward()
                opt.step()
        if compiled:
            assert all(type(r).__name__ == "_ReplayOp" and r.checked for r in step.recordings.values())
        runs.append({k: np.array(v) for k, v in model.state_dict().items()})
    assert runs[1]["1.num_batches_tracked"] == 6
    for k in runs[0]:
        np.testing.assert_array_equal(runs[0][k], runs[1][k], err_msg=k)


def test_replay_backward_twice_with_retain_graph_and_freed_without():
    """A replayed step lets go of its values during a backward without retain_graph (as the engine frees
    nodes); with retain_graph=True it keeps them, so a second backward gives the same gradients again."""
    lin = tg.nn.Linear(4, 3)
    step = tg.compile(lambda x: (lin(x).tanh() ** 2).sum())
    x = tg.randn(5, 4)
    step(x)                                            # records
    loss = step(x)                                     # replays
    loss.backward(retain_graph=True)
    first = lin.weight.grad.numpy().copy()
    loss.backward()
    np.testing.assert_array_equal(lin.weight.grad.numpy(), 2 * first)
    with pytest.raises(RuntimeError, match="second time"):
        loss.backward()


def test_a_view_written_through_its_base_before_the_first_call_replays():
    """A buffer that is a view (makemore's tril(...).reshape mask) whose base was written after the view was
    made gets its history regenerated when the first call uses it; that is history, not a step of the
    recording, so the second call records the same program and the function replays (benchmarks.zoo loads
    torch's weights in place before its first step)."""
    base = tg.tril(tg.ones(3, 3))
    mask = base.reshape(1, 3, 3)
    base.copy_(tg.ones(3, 3))                              # the view's values change through its base
    w = tg.randn(3, requires_grad=True)
    step = tg.compile(lambda x: (x * mask * w).sum())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(3):
            step(tg.randn(2, 3, 3)).backward()
    assert all(r.checked for r in step.recordings.values())
