"""The engine's fast paths give what the general ones give: promotion through the cached
dtype-pair table (which must see a change of the default dtype), Python ints as weak scalars."""
import numpy as np
import pytest
import torch

import tensorgrad as tg

CASES = [  # (dtype of x, the other operand): tensors, 0-d tensors, Python numbers
    (np.int64, 2.5), (np.int32, 3), (np.uint8, 300), (np.float16, 3), (np.float32, True), (np.int64, True),
    (np.float32, ("t", np.float64, ())), (np.int32, ("t", np.float16, (3,))), (np.bool_, ("t", np.int8, (3,))),
    (np.float64, ("t", np.float32, (3,))), (np.int16, ("t", np.uint8, ())),
]


def _operands(m, dtype, other):
    x = m.tensor(np.array([1, 2, 3]).astype(dtype))
    if isinstance(other, tuple):
        _, odt, shape = other
        other = m.tensor(np.full(shape, 2).astype(odt))
    return x, other


@pytest.mark.parametrize("default", [torch.float32, torch.float64])
@pytest.mark.parametrize("dtype,other", CASES)
def test_promotion_matches_torch_twice(dtype, other, default):
    """Twice: the second call reads the table the first one filled."""
    old_tg, old_torch = tg.get_default_dtype(), torch.get_default_dtype()
    tg.set_default_dtype(np.float32 if default == torch.float32 else np.float64)
    torch.set_default_dtype(default)
    try:
        for _ in range(2):
            for swap in (False, True):
                x, y = _operands(tg, dtype, other)
                xt, yt = _operands(torch, dtype, other)
                got = (y + x) if swap else (x + y)
                want = (yt + xt) if swap else (xt + yt)
                assert str(got.dtype) == str(want.dtype).replace("torch.", ""), (dtype, other, swap)
                np.testing.assert_allclose(got.numpy().astype(np.float64), want.numpy().astype(np.float64))
    finally:
        tg.set_default_dtype(old_tg)
        torch.set_default_dtype(old_torch)


def test_int_scalar_keeps_a_float_tensor_dtype_and_its_gradient():
    x = tg.tensor([1.0, 2.0], dtype=tg.float16, requires_grad=True)
    y = (x * 3 + 1 - 2 * x).sum()
    assert (x * 3).dtype == np.float16
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1, 1])
