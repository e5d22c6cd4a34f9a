"""tensorgrad.utils.data against torch.utils.data: datasets, samplers, collate, the DataLoader."""
import collections
import itertools
import time

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import tensorgrad as tg
import tensorgrad.utils.data as tgd
from tensorgrad.utils.data.dataloader import DataLoader as DataLoaderByPath


def same(a, b):
    """A tensorgrad batch structure equals torch's: same containers, dtypes and values."""
    if isinstance(b, torch.Tensor):
        assert isinstance(a, tg.Tensor), type(a)
        assert str(a.dtype) == str(b.dtype).replace("torch.", ""), (a.dtype, b.dtype)
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    elif isinstance(b, dict):
        assert type(a) is type(b) and list(a) == list(b)
        for k in b:
            same(a[k], b[k])
    elif isinstance(b, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b), (type(a), type(b))
        for x, y in zip(a, b):
            same(x, y)
    else:
        assert a == b


Point = collections.namedtuple("Point", "x y")
SAMPLES = {
    "tensors": lambda m: [(m.arange(3) + i, m.tensor(float(i))) for i in range(5)],
    "numbers": lambda m: [(i, i / 2, True, "s%d" % i) for i in range(5)],
    "arrays": lambda m: [np.full((2, 2), i, np.int32) for i in range(5)],
    "numpy scalars": lambda m: [np.float32(i) for i in range(5)],
    "dicts": lambda m: [{"a": i, "b": [i, i + 1], "c": {"d": float(i)}} for i in range(5)],
    "namedtuples": lambda m: [Point(i, float(i)) for i in range(5)],
    "lists": lambda m: [[i, i * 2] for i in range(5)],
}


@pytest.mark.parametrize("kind", SAMPLES)
@pytest.mark.parametrize("batch_size,drop_last", [(2, False), (2, True), (5, False), (None, False)])
def test_default_collate_and_convert_as_torch(kind, batch_size, drop_last):
    got = list(tgd.DataLoader(SAMPLES[kind](tg), batch_size=batch_size, drop_last=drop_last))
    want = list(tud.DataLoader(SAMPLES[kind](torch), batch_size=batch_size, drop_last=drop_last))
    assert len(got) == len(want)
    for a, b in zip(got, want):
        same(a, b)


def test_collate_errors_as_torch():
    for bad in ([object(), object()], [[1, 2], [1]]):
        with pytest.raises((TypeError, RuntimeError)) as want:
            tud.default_collate(bad)
        with pytest.raises(type(want.value)) as got:
            tgd.default_collate(bad)
        assert str(got.value).split(";")[0].split("<")[0] == str(want.value).split(";")[0].split("<")[0]


def test_tensor_dataset_subset_concat_stack():
    X, Y = tg.arange(10), tg.arange(10) * 2.0
    ds = tgd.TensorDataset(X, Y)
    assert len(ds) == 10 and [t.item() for t in ds[3]] == [3, 6.0]
    with pytest.raises(AssertionError, match="Size mismatch"):
        tgd.TensorDataset(X, tg.arange(3))
    sub = tgd.Subset(ds, [7, 2])
    assert len(sub) == 2 and sub[0][0].item() == 7
    cat = ds + tgd.TensorDataset(tg.arange(3) + 100, tg.zeros(3))
    tcat = tud.TensorDataset(torch.arange(10), torch.arange(10) * 2.0) + tud.TensorDataset(torch.arange(3) + 100,
                                                                                         torch.zeros(3))
    assert isinstance(cat, tgd.ConcatDataset) and cat.cumulative_sizes == tcat.cumulative_sizes
    for i in list(range(-13, 13)):
        assert cat[i][0].item() == tcat[i][0].item()
    with pytest.raises(ValueError, match="absolute value of index"):
        cat[-14]
    st = tgd.StackDataset(a=[1, 2], b=[3, 4])
    assert st[1] == {"a": 2, "b": 4} and tgd.StackDataset([1], [2])[0] == (1, 2)


def test_random_split_lengths_and_fractions_as_torch():
    for lengths in ([3, 7], [0.3, 0.7], [0.33, 0.33, 0.34], [0.5, 0.5]):
        got = tgd.random_split(range(11 if isinstance(lengths[0], float) else 10), lengths,
                               generator=tg.Generator().manual_seed(0))
        want = tud.random_split(range(11 if isinstance(lengths[0], float) else 10), lengths,
                                generator=torch.Generator().manual_seed(0))
        assert [len(s) for s in got] == [len(s) for s in want]
        flat = sorted(i for s in got for i in s)
        assert flat == list(range(len(flat)))                         # a partition
    with pytest.raises(ValueError, match="Sum of input lengths"):
        tgd.random_split(range(5), [2, 2])
    a = tgd.random_split(range(20), [10, 10], generator=tg.Generator().manual_seed(3))
    b = tgd.random_split(range(20), [10, 10], generator=tg.Generator().manual_seed(3))
    assert list(a[0]) == list(b[0])


def test_samplers():
    data = range(10)
    assert list(tgd.SequentialSampler(data)) == list(tud.SequentialSampler(data))
    perm = list(tgd.RandomSampler(data, generator=tg.Generator().manual_seed(0)))
    assert sorted(perm) == list(range(10))
    assert len(tgd.RandomSampler(data, num_samples=25)) == 25
    counts = collections.Counter(tgd.RandomSampler(data, num_samples=25))
    assert sorted(counts.values()) == [2] * 5 + [3] * 5                           # 2 full passes, then 5 distinct
    draws = list(tgd.RandomSampler(data, replacement=True, num_samples=1000, generator=tg.Generator().manual_seed(1)))
    assert len(draws) == 1000 and set(draws) == set(range(10))
    sub = list(tgd.SubsetRandomSampler([3, 5, 8]))
    assert sorted(sub) == [3, 5, 8]
    w = list(tgd.WeightedRandomSampler([0, 1, 0, 3], 100))
    assert set(w) <= {1, 3} and len(w) == 100
    for kw in ({"num_samples": 0}, {"num_samples": 1.5}):
        with pytest.raises(ValueError) as want:
            tud.RandomSampler(data, **kw)
        with pytest.raises(ValueError, match=str(want.value)[:30]):
            tgd.RandomSampler(data, **kw)
    for sampler, size, drop in ((range(10), 3, False), (range(10), 3, True), (range(9), 3, False)):
        assert list(tgd.BatchSampler(sampler, size, drop)) == list(tud.BatchSampler(sampler, size, drop))
        assert len(tgd.BatchSampler(sampler, size, drop)) == len(tud.BatchSampler(sampler, size, drop))
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        tgd.BatchSampler(range(3), 0, False)


def test_random_sampler_with_replacement_is_lazy_like_makemores_endless_loader():
    """makemore.py: RandomSampler(dataset, replacement=True, num_samples=int(1e10)) under a DataLoader."""
    start = time.perf_counter()
    ds = tgd.TensorDataset(tg.arange(100), tg.arange(100))
    sampler = tgd.RandomSampler(ds, replacement=True, num_samples=int(1e10))
    loader = tgd.DataLoader(ds, sampler=sampler, batch_size=32, pin_memory=True, num_workers=4)
    it = iter(loader)
    batches = [next(it) for _ in range(20)]
    assert time.perf_counter() - start < 5
    assert batches[0][0].shape == (32,) and len(loader) == -(-int(1e10) // 32)


def test_shuffle_is_a_fresh_permutation_each_epoch_and_seeded():
    ds = list(range(50))
    tg.manual_seed(0)
    first = [b.tolist() for b in tgd.DataLoader(ds, batch_size=50, shuffle=True)]
    second = [b.tolist() for b in tgd.DataLoader(ds, batch_size=50, shuffle=True)]
    tg.manual_seed(0)
    again = [b.tolist() for b in tgd.DataLoader(ds, batch_size=50, shuffle=True)]
    assert sorted(first[0]) == ds and first != second and first == again
    g1, g2 = tg.Generator().manual_seed(5), tg.Generator().manual_seed(5)
    assert [b.tolist() for b in tgd.DataLoader(ds, 7, shuffle=True, generator=g1)] == \
        [b.tolist() for b in tgd.DataLoader(ds, 7, shuffle=True, generator=g2)]


def test_iterable_dataset_as_torch():
    class Stream(tgd.IterableDataset):
        def __iter__(self):
            return iter(range(7))

    class TorchStream(tud.IterableDataset):
        def __iter__(self):
            return iter(range(7))

    for kw in ({"batch_size": 3}, {"batch_size": 3, "drop_last": True}, {"batch_size": None}):
        same(list(tgd.DataLoader(Stream(), **kw)), list(tud.DataLoader(TorchStream(), **kw)))
    chained = list(Stream() + Stream())
    assert chained == list(range(7)) * 2
    with pytest.raises(ValueError, match="expected unspecified shuffle option"):
        tgd.DataLoader(Stream(), shuffle=True)


@pytest.mark.parametrize("kwargs", [
    dict(num_workers=-1), dict(timeout=-1), dict(prefetch_factor=2), dict(persistent_workers=True),
    dict(sampler=[0, 1], shuffle=True), dict(batch_sampler=[[0]], batch_size=2), dict(batch_size=None, drop_last=True),
])
def test_dataloader_argument_errors_as_torch(kwargs):
    with pytest.raises(ValueError) as want:
        tud.DataLoader(list(range(4)), **kwargs)
    with pytest.raises(ValueError) as got:
        tgd.DataLoader(list(range(4)), **kwargs)
    assert str(got.value) == str(want.value)


def test_dataloader_lengths_and_batch_sampler_and_collate_fn():
    ds = list(range(10))
    for kw in ({"batch_size": 3}, {"batch_size": 3, "drop_last": True}, {"batch_size": None},
               {"batch_sampler": [[1, 2], [3]]}):
        assert len(tgd.DataLoader(ds, **kw)) == len(tud.DataLoader(ds, **kw))
        same(list(tgd.DataLoader(ds, **kw)), list(tud.DataLoader(ds, **kw)))
    assert list(tgd.DataLoader(ds, batch_size=4, collate_fn=sum)) == [6, 22, 17]
    loader = DataLoaderByPath(ds, batch_size=4, num_workers=4, pin_memory=True, persistent_workers=True,
                              prefetch_factor=2)
    assert [b.tolist() for b in loader] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert len(iter(loader)) == 3 and tgd.get_worker_info() is None


def test_a_map_style_dataset_as_makemore_writes_it():
    class Chars(tgd.Dataset):
        def __init__(self, words):
            self.words = words

        def __len__(self):
            return len(self.words)

        def __getitem__(self, i):
            x = tg.zeros(5, dtype=tg.long)
            y = tg.zeros(5, dtype=tg.long)
            ix = tg.tensor([ord(c) - 96 for c in self.words[i]], dtype=tg.long)
            x[1:1 + len(ix)] = ix
            y[:len(ix)] = ix
            y[len(ix) + 1:] = -1
            return x, y

    loader = tgd.DataLoader(Chars(["emma", "ava", "mia"]), batch_size=2)
    (x, y), = itertools.islice(loader, 1)
    assert x.shape == (2, 5) and x.dtype == np.int64 and y[1].tolist() == [1, 22, 1, 0, -1]
