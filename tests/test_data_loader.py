"""axonic.data: datasets, random_split, default_collate and DataLoader."""

from __future__ import annotations

import collections
import time

import numpy as np
import pytest

import axonic
from axonic.data import (
    DataLoader,
    Dataset,
    Subset,
    TensorDataset,
    default_collate,
    random_split,
)

N = 23  # a prime, so no batch size in the tests divides it


def _dataset(n: int = N) -> TensorDataset:
    x = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    y = np.arange(n, dtype=np.int64)
    return TensorDataset(x, y)


def _served(loader: DataLoader) -> list[int]:
    """The sample ids (the y labels of _dataset) one epoch serves, in order."""
    return [int(i) for _, y in loader for i in y.numpy()]


class _ListDataset(Dataset):
    """A dataset without get_batch: exercises the sample-by-sample path."""

    def __init__(self, samples: list):
        self.samples = samples

    def __getitem__(self, index: int):
        return self.samples[index]

    def __len__(self) -> int:
        return len(self.samples)


# ----- every sample once per epoch --------------------------------------------------------
@pytest.mark.parametrize("batch_size", [1, 7, N, N + 3])
@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("drop_last", [False, True])
def test_every_sample_once_per_epoch(batch_size, shuffle, drop_last):
    loader = DataLoader(_dataset(), batch_size=batch_size, shuffle=shuffle,
                        drop_last=drop_last, seed=3)
    for _ in range(2):
        batches = list(loader)
        assert len(batches) == len(loader)
        sizes = [x.shape[0] for x, _ in batches]
        assert all(s == batch_size for s in sizes[:-1])
        served = [int(i) for _, y in batches for i in y.numpy()]
        assert len(served) == len(set(served))
        if drop_last:
            assert sizes == [batch_size] * (N // batch_size)
            assert len(served) == (N // batch_size) * batch_size
        else:
            assert sorted(served) == list(range(N))
        if not shuffle:
            assert served == list(range(len(served)))


@pytest.mark.parametrize("batch_size", [1, 7, N, N + 3])
def test_sample_by_sample_path_serves_every_sample_once(batch_size):
    samples = [(np.full(2, i, dtype=np.float32), i) for i in range(N)]
    loader = DataLoader(_ListDataset(samples), batch_size=batch_size, shuffle=True, seed=1)
    served = [int(i) for _, y in loader for i in y.numpy()]
    assert sorted(served) == list(range(N))


@pytest.mark.parametrize("batch_size,drop_last,expected", [
    (1, False, N), (7, False, 4), (7, True, 3), (N, False, 1), (N, True, 1),
    (N + 3, False, 1), (N + 3, True, 0),
])
def test_len_counts_batches(batch_size, drop_last, expected):
    loader = DataLoader(_dataset(), batch_size=batch_size, drop_last=drop_last)
    assert len(loader) == expected
    assert len(list(loader)) == expected


def test_batches_hold_the_right_rows():
    ds = _dataset()
    x_all = ds.tensors[0].numpy()
    for x, y in DataLoader(ds, batch_size=5, shuffle=True, seed=0):
        np.testing.assert_array_equal(x.numpy(), x_all[y.numpy()])


# ----- shuffling: reproducible, fresh each epoch ------------------------------------------
def test_same_seed_same_orders_and_epochs_differ():
    a = DataLoader(_dataset(), batch_size=4, shuffle=True, seed=7)
    b = DataLoader(_dataset(), batch_size=4, shuffle=True, seed=7)
    epochs_a = [_served(a) for _ in range(3)]
    epochs_b = [_served(b) for _ in range(3)]
    assert epochs_a == epochs_b
    assert len({tuple(e) for e in epochs_a}) == 3
    assert all(e != list(range(N)) for e in epochs_a)
    assert _served(DataLoader(_dataset(), batch_size=4, shuffle=True, seed=8)) != epochs_a[0]


def test_order_is_fixed_when_iter_is_called():
    loader = DataLoader(_dataset(), batch_size=4, shuffle=True, seed=2)
    first, second = iter(loader), iter(loader)
    order_1 = [int(i) for _, y in first for i in y.numpy()]
    order_2 = [int(i) for _, y in second for i in y.numpy()]
    fresh = DataLoader(_dataset(), batch_size=4, shuffle=True, seed=2)
    assert order_1 == _served(fresh) and order_2 == _served(fresh)
    assert order_1 != order_2


def test_unseeded_shuffle_follows_manual_seed():
    axonic.manual_seed(123)
    a = [_served(DataLoader(_dataset(), batch_size=5, shuffle=True)) for _ in range(2)]
    axonic.manual_seed(123)
    b = [_served(DataLoader(_dataset(), batch_size=5, shuffle=True)) for _ in range(2)]
    assert a == b and a[0] != a[1]


def test_fast_path_is_vectorised():
    n = 60_000
    ds = TensorDataset(np.zeros((n, 4), np.float32), np.zeros(n, np.int64))
    start = time.perf_counter()
    for _ in DataLoader(ds, batch_size=256, shuffle=True, seed=0):
        pass
    # Generous: the vectorised path takes milliseconds, a per-sample loop about a second.
    assert time.perf_counter() - start < 1.0


# ----- dtypes and graph --------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.uint8])
@pytest.mark.parametrize("use_fast_path", [True, False])
def test_dtypes_are_preserved(dtype, use_fast_path):
    x = np.ones((6, 2, 2), dtype=dtype)
    y = np.arange(6, dtype=np.int64)
    collate = None if use_fast_path else default_collate
    xb, yb = next(iter(DataLoader(TensorDataset(x, y), batch_size=4, collate_fn=collate)))
    assert isinstance(xb, axonic.Tensor) and isinstance(yb, axonic.Tensor)
    assert xb.dtype == dtype and xb.shape == (4, 2, 2)
    assert yb.dtype == np.int64 and yb.shape == (4,)


def test_tensor_inputs_give_plain_data_without_graph():
    x = axonic.randn(8, 3, requires_grad=True)
    y = axonic.tensor(np.arange(8))
    ds = TensorDataset(x, y)
    xs, ys = ds[2]
    assert xs.shape == (3,) and ys.shape == () and ys.dtype == np.int64
    assert not xs.requires_grad and xs.is_leaf
    for xb, _ in DataLoader(ds, batch_size=3):
        assert not xb.requires_grad and xb.is_leaf
    np.testing.assert_array_equal(xs.numpy(), x.numpy()[2])
    xs._data[:] = 99.0  # a sample is a copy: the dataset is untouched
    assert not np.any(x.numpy() == 99.0)


def test_lists_follow_tensor_dtype_rules():
    ds = TensorDataset([[0.5, 1.5], [2.5, 3.5]], [0, 1])
    xb, yb = next(iter(DataLoader(ds, batch_size=2)))
    assert xb.dtype == np.float32 and yb.dtype == np.int64


# ----- collate -------------------------------------------------------------------------------
def test_collate_numbers():
    assert default_collate([1, 2, 3]).dtype == np.int64
    floats = default_collate([0.5, 1.0])
    assert floats.dtype == np.float32 and floats.shape == (2,)
    assert default_collate([True, False]).dtype == np.bool_
    assert default_collate([np.float64(1.0), np.float64(2.0)]).dtype == np.float64


def test_collate_arrays_and_tensors():
    batch = default_collate([np.zeros((2, 3), np.float32), np.ones((2, 3), np.float32)])
    assert isinstance(batch, axonic.Tensor) and batch.shape == (2, 2, 3)
    batch = default_collate([axonic.ones(4), axonic.zeros(4)])
    assert batch.shape == (2, 4) and batch.dtype == np.float32
    np.testing.assert_array_equal(batch.numpy()[0], np.ones(4))


def test_collate_tuples_lists_dicts_strings():
    Pair = collections.namedtuple("Pair", "image label")
    samples = [{"x": np.full(2, i, np.float32), "meta": (i, [float(i), "s"]),
                "pair": Pair(np.zeros(1), i), "name": f"n{i}"} for i in range(3)]
    batch = default_collate(samples)
    assert set(batch) == {"x", "meta", "pair", "name"}
    assert batch["x"].shape == (3, 2)
    ids, inner = batch["meta"]
    assert isinstance(batch["meta"], tuple) and isinstance(inner, list)
    np.testing.assert_array_equal(ids.numpy(), [0, 1, 2])
    assert inner[0].dtype == np.float32 and inner[1] == ["s", "s", "s"]
    assert isinstance(batch["pair"], Pair) and batch["pair"].image.shape == (3, 1)
    assert batch["name"] == ["n0", "n1", "n2"]


def test_loader_collates_dict_samples():
    samples = [{"x": np.full(2, i, np.float32), "y": i} for i in range(5)]
    batches = list(DataLoader(_ListDataset(samples), batch_size=2))
    assert [b["y"].tolist() for b in batches] == [[0, 1], [2, 3], [4]]
    assert batches[0]["x"].shape == (2, 2)


def test_collate_bad_input():
    with pytest.raises(ValueError, match="shape"):
        default_collate([np.zeros(2), np.zeros(3)])
    with pytest.raises(ValueError, match="keys"):
        default_collate([{"a": 1}, {"b": 2}])
    with pytest.raises(ValueError, match="elements"):
        default_collate([(1, 2), (1,)])
    with pytest.raises(TypeError, match="collate_fn"):
        default_collate([object(), object()])
    with pytest.raises(ValueError, match="at least one"):
        default_collate([])


def test_custom_collate_fn_gets_sample_lists():
    seen = []

    def collate(samples):
        seen.append(len(samples))
        return samples

    batches = list(DataLoader(_dataset(), batch_size=10, collate_fn=collate))
    assert seen == [10, 10, 3] and isinstance(batches[0], list)
    assert isinstance(batches[0][0], tuple)


# ----- transform -----------------------------------------------------------------------------
@pytest.mark.parametrize("use_fast_path", [True, False])
def test_transform_applies_to_each_batch(use_fast_path):
    calls = []

    def scale(batch):
        calls.append(batch[0].shape[0])
        x, y = batch
        return x * 2.0, y

    collate = None if use_fast_path else default_collate
    loader = DataLoader(_dataset(), batch_size=10, transform=scale, collate_fn=collate)
    x_all = _dataset().tensors[0].numpy()
    for x, y in loader:
        np.testing.assert_array_equal(x.numpy(), 2.0 * x_all[y.numpy()])
    assert calls == [10, 10, 3]


# ----- datasets ------------------------------------------------------------------------------
def test_tensor_dataset_indexing():
    ds = _dataset()
    assert len(ds) == N and isinstance(ds, Dataset)
    x, y = ds[-1]
    assert int(y.item()) == N - 1 and x.shape == (3,)
    with pytest.raises(IndexError):
        ds[N]
    with pytest.raises(TypeError):
        ds[1.5]
    single = TensorDataset(np.arange(4))
    assert len(single[0]) == 1


def test_dataset_is_abstract():
    with pytest.raises(TypeError):
        Dataset()


def test_subset():
    ds = _dataset()
    sub = Subset(ds, [5, 0, -1])
    assert len(sub) == 3
    assert [int(sub[i][1].item()) for i in range(3)] == [5, 0, N - 1]
    served = [int(i) for _, y in DataLoader(sub, batch_size=2) for i in y.numpy()]
    assert served == [5, 0, N - 1]
    nested = Subset(sub, [2, 0])
    assert [int(y.item()) for _, y in (nested[0], nested[1])] == [N - 1, 5]
    plain = Subset(_ListDataset([(np.zeros(2), i) for i in range(6)]), [4, 1])
    assert next(iter(DataLoader(plain, batch_size=2)))[1].tolist() == [4, 1]
    with pytest.raises(IndexError, match="out of range"):
        Subset(ds, [0, N])
    with pytest.raises(TypeError):
        Subset(ds, [0.5])


def test_random_split_sizes_disjoint_and_reproducible():
    ds = _dataset()
    parts = random_split(ds, [10, 8, 5], seed=4)
    assert [len(p) for p in parts] == [10, 8, 5]
    ids = [int(p[i][1].item()) for p in parts for i in range(len(p))]
    assert sorted(ids) == list(range(N))
    again = random_split(ds, [10, 8, 5], seed=4)
    assert all(np.array_equal(p.indices, q.indices) for p, q in zip(parts, again))
    other = random_split(ds, [10, 8, 5], seed=5)
    assert not np.array_equal(parts[0].indices, other[0].indices)
    axonic.manual_seed(9)
    first = random_split(ds, [12, 11])
    axonic.manual_seed(9)
    assert np.array_equal(first[0].indices, random_split(ds, [12, 11])[0].indices)


def test_random_split_fractions_round_robin_like_torch():
    ds = _dataset(10)
    # floor gives 3, 3, 3; the one left over goes to the first split.
    assert [len(p) for p in random_split(ds, [0.34, 0.33, 0.33], seed=0)] == [4, 3, 3]
    assert [len(p) for p in random_split(_dataset(), [0.8, 0.2], seed=0)] == [19, 4]
    # floor gives 2, 2, 2, 2 of 11: the 3 left over go to splits 0, 1, 2.
    assert [len(p) for p in random_split(_dataset(11), [0.25] * 4, seed=0)] == [3, 3, 3, 2]


def test_random_split_bad_lengths():
    ds = _dataset()
    with pytest.raises(ValueError, match="sum"):
        random_split(ds, [10, 10])
    with pytest.raises(ValueError, match="sum to 1"):
        random_split(ds, [0.5, 0.4])
    with pytest.raises(ValueError, match="non-negative"):
        random_split(ds, [N + 1, -1])
    with pytest.raises(ValueError):
        random_split(ds, [])


# ----- bad input -----------------------------------------------------------------------------
def test_tensor_dataset_bad_input():
    with pytest.raises(ValueError, match=r"\[4, 5\]"):
        TensorDataset(np.zeros((4, 2)), np.zeros(5))
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()
    with pytest.raises(ValueError, match="0-d"):
        TensorDataset(np.float32(1.0))


def test_loader_bad_input():
    ds = _dataset()
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(ds, batch_size=0)
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(ds, batch_size=-2)
    with pytest.raises(TypeError, match="batch_size"):
        DataLoader(ds, batch_size=2.0)
    with pytest.raises(ValueError, match="empty"):
        DataLoader(TensorDataset(np.zeros((0, 3))))
    with pytest.raises(ValueError, match="empty"):
        DataLoader(_ListDataset([]))
    with pytest.raises(ValueError, match="seed"):
        DataLoader(ds, shuffle=True, seed=-1)
    with pytest.raises(TypeError, match="collate_fn"):
        DataLoader(ds, collate_fn=3)
    with pytest.raises(TypeError, match="__len__"):
        DataLoader(object())


def test_axonic_data_is_a_subpackage():
    assert axonic.data.DataLoader is DataLoader
