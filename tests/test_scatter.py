"""Scatter-add (index_put with accumulate, the backward of advanced indexing) against torch:
np.add.at for few values and integer tables, a one-hot product for many rows of a small table,
bincount for the rest."""
import numpy as np
import pytest
import torch

import tensorgrad as tg
from tensorgrad.ops.index import SCATTER_MIN, SMALL_TABLE, scatter_add

rng = np.random.default_rng(0)


@pytest.mark.parametrize("rows,low,batch", [(27, 0, 32), (27, 0, 4), (27, -27, 32), (SMALL_TABLE + 1, 0, 32),
                                            (1000, -1000, 32)])      # one-hot, add.at, then bincount
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_embedding_backward(rows, low, batch, dtype):
    """C[Xb] with (B, T) letters: the gradient of each table row adds every use of it."""
    table = rng.standard_normal((rows, 10)).astype(dtype)
    idx = rng.integers(low, rows, (batch, 8))
    g = rng.standard_normal((batch, 8, 10)).astype(dtype)
    C = tg.tensor(table, requires_grad=True)
    C[tg.tensor(idx)].backward(tg.tensor(g))
    Ct = torch.tensor(table, requires_grad=True)
    Ct[torch.tensor(idx)].backward(torch.tensor(g))
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(C.grad.numpy(), Ct.grad.numpy(), rtol=tol, atol=tol)


def test_index_put_accumulate_against_torch():
    x, v = rng.standard_normal((4, 5)), rng.standard_normal(4)
    rows, cols = np.array([0, 2, 0, 2]), np.array([1, 1, 1, 3])                  # repeated pairs
    got = tg.tensor(x).index_put((tg.tensor(rows), tg.tensor(cols)), tg.tensor(v), accumulate=True)
    want = torch.tensor(x).index_put((torch.tensor(rows), torch.tensor(cols)), torch.tensor(v), accumulate=True)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("key", [
    (slice(None), np.resize([3, 0, 3, 7], 60)),                                 # a slice, then an array
    np.arange(80 * 60).reshape(80, 60) % 7 != 0,                                # a mask
    (np.resize([1, 1, 5], 50), slice(None)),                                    # repeated rows, a slice
    (np.arange(45)[:, None] % 9, np.resize([2, 2, 4], 60)),                     # broadcast index arrays
])
def test_keys_torch_has_no_index_put_for(key):
    """Keys with slices and masks, against the loop that adds one index at a time (np.add.at)."""
    x = rng.standard_normal((80, 60))
    v = rng.standard_normal(x[key].shape)
    assert v.size >= SCATTER_MIN                # not add.at's own path
    out, want = x.copy(), x.copy()
    scatter_add(out, key, v)
    np.add.at(want, key, v)
    np.testing.assert_allclose(out, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("n", [4, SCATTER_MIN])          # add.at, one-hot
def test_non_finite_stays_in_its_row(n):
    """0 * inf is NaN: an inf sent to row 1 must not reach the other rows through the one-hot product."""
    out = np.zeros((5, 2), np.float32)
    v = np.ones((n, 2), np.float32)
    v[0, 0], v[2, 1] = np.inf, np.nan
    scatter_add(out, np.resize([1, 3], n), v)
    assert np.isinf(out[1, 0]) and np.isnan(out[1, 1])
    np.testing.assert_array_equal(out[[0, 2, 4]], 0)
    np.testing.assert_array_equal(out[3], [n // 2, n // 2])


def test_out_of_bounds_and_integer_tables():
    for rows, n in [(5, 2), (5, SCATTER_MIN), (500, 2)]:
        with pytest.raises(IndexError, match="out of bounds"):
            scatter_add(np.zeros((rows, 2)), np.resize([0, rows], n), np.ones((n, 2)))
    counts = np.zeros(4, np.int64)
    scatter_add(counts, np.array([1, 1, 3]), np.array([2**60, 2**60, 1]))     # exact in int64, as torch
    np.testing.assert_array_equal(counts, [0, 2**61, 0, 1])


@pytest.mark.parametrize("rows", [27, 1000])
def test_same_bits_every_run(rows):
    idx = rng.integers(0, rows, (512,))
    g = rng.standard_normal((512, 64)).astype(np.float32)
    runs = []
    for _ in range(3):
        out = np.zeros((rows, 64), np.float32)
        scatter_add(out, idx, g)
        runs.append(out)
    assert all(np.array_equal(r, runs[0]) for r in runs)
