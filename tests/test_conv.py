"""The convolution and pooling layers against torch.nn's, from the same weights; the im2col/col2im pair."""
import numpy as np
import pytest
import torch

import tensorgrad as tg
from tensorgrad import nn


def _copy_weights(ours, theirs):
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(ours.weight.numpy()))
        if ours.bias is not None:
            theirs.bias.copy_(torch.tensor(ours.bias.numpy()))


@pytest.mark.parametrize("make, shape", [
    (lambda m: m.Conv2d(3, 4, 3, stride=2, padding=1), (2, 3, 7, 6)),
    (lambda m: m.Conv2d(4, 6, (2, 3), padding="same", dilation=(2, 1), groups=2, bias=False), (1, 4, 5, 6)),
    (lambda m: m.Conv2d(2, 2, 3, padding=1, padding_mode="reflect"), (1, 2, 4, 5)),
    (lambda m: m.Conv2d(2, 3, 3, padding=(1, 2), padding_mode="circular"), (2, 2, 4, 5)),
    (lambda m: m.Conv1d(3, 5, 4, stride=2, padding=2), (2, 3, 9)),
    (lambda m: m.Conv1d(2, 2, 3, padding=1, padding_mode="replicate"), (3, 2, 6)),
    (lambda m: m.Conv2d(2, 3, (2, 3), padding="same", dilation=(3, 1), padding_mode="reflect"), (1, 2, 7, 5)),
])
def test_conv_layers_match_torch(make, shape):
    x = np.random.default_rng(0).standard_normal(shape)
    ours, theirs = make(nn), make(torch.nn).double()
    assert ours.weight.shape == tuple(theirs.weight.shape)
    ours.double()                    # its parameters in float64, as torch's .double()
    _copy_weights(ours, theirs)
    xt, xo = torch.tensor(x, requires_grad=True), tg.tensor(x, requires_grad=True)
    out, ref = ours(xo), theirs(xt)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = np.random.default_rng(1).standard_normal(out.shape)
    out.backward(g)
    ref.backward(torch.tensor(g))
    np.testing.assert_allclose(np.asarray(xo.grad), xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(np.asarray(ours.weight.grad), theirs.weight.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_conv_init_bounds_follow_torch():
    conv = nn.Conv2d(6, 8, (3, 2), groups=2)
    bound = 1 / np.sqrt(3 * 3 * 2)                          # fan_in = in / groups * kh * kw
    assert conv.weight.shape == (8, 3, 3, 2) and conv.weight.requires_grad
    assert np.abs(conv.weight.numpy()).max() <= bound and np.abs(conv.weight.numpy()).max() > bound / 2


@pytest.mark.parametrize("make", [
    lambda m: m.MaxPool2d(3, 2, 1), lambda m: m.MaxPool2d(2, ceil_mode=True), lambda m: m.AvgPool2d(3, 2, 1),
    lambda m: m.AvgPool2d(2, ceil_mode=True, count_include_pad=False), lambda m: m.AdaptiveAvgPool2d((2, 3)),
])
def test_pooling_layers_match_torch(make):
    x = np.random.default_rng(2).standard_normal((2, 3, 7, 5))
    xo, xt = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, ref = make(nn)(xo), make(torch.nn)(xt)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-12)
    out.sum().backward()
    ref.sum().backward()
    np.testing.assert_allclose(np.asarray(xo.grad), xt.grad.numpy(), rtol=1e-12)


def test_im2col_is_a_view_and_col2im_its_adjoint():
    """<im2col(x), c> == <x, col2im(c)> for every x, c: the scatter-add is the gather's transpose."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 6, 7))
    kw = dict(kernel=(3, 2), stride=(2, 1), dilation=(1, 2))
    cols = tg.ops.im2col(x, **kw)
    assert np.shares_memory(cols, x)                         # patches are read through strides, not copied
    c = rng.standard_normal(cols.shape)
    back = tg.ops.col2im(c, shape=x.shape, **kw)
    assert np.isclose((cols * c).sum(), (x * back).sum(), rtol=1e-12)


def _cnn_example():
    import importlib.util
    import pathlib
    path = pathlib.Path(__file__).resolve().parents[1] / "examples" / "cnn.py"
    spec = importlib.util.spec_from_file_location("cnn_example", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cnn_example_learns_the_digits_and_draws_col2im(tmp_path, capsys):
    pytest.importorskip("sklearn", reason="examples/cnn.py's digits come with scikit-learn (the [cnn] extra)")
    assert _cnn_example().main(["--epochs", "3", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    accuracy = float(printed.split("test accuracy ")[-1].split()[0])
    assert accuracy > 0.85, printed
    drawn = sorted(p.name for p in tmp_path.iterdir())
    assert [p.split(".")[0] for p in drawn] == ["cnn_backward", "cnn_forward"]
    assert "col2im" in (tmp_path / drawn[0]).read_text()


def test_cnn_example_without_sklearn_says_so(monkeypatch, capsys):
    import builtins
    real_import = builtins.__import__

    def no_sklearn(name, *args, **kwargs):
        if name.startswith("sklearn"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_sklearn)
    assert _cnn_example().main(["--epochs", "1"]) == 0
    assert "needs scikit-learn" in capsys.readouterr().out
