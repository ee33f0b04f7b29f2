"""Random splits of arrays into train/test (and validation) parts: ``train_test_split``,
``train_val_test_split``, with scikit-learn's argument conventions.

Each array (NumPy array, tensor, list, or ``Dataset``) is split along its first dimension
by the same indices, and keeps its type: arrays give arrays, tensors give tensors (outside
any graph), lists give lists, datasets give ``Subset``s.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from ..random import generator
from ..tensor import Tensor
from .dataset import Dataset, Subset, _xp_index
from .preprocessing import as_numpy


def _length(array: Any) -> int:
    shape = getattr(array, "shape", None)
    if shape is not None and not isinstance(array, Dataset):
        if len(shape) == 0:
            raise ValueError("cannot split a 0-d array; arrays need a first (sample) dimension")
        return int(shape[0])
    return len(array)


def _num_samples(arrays: tuple[Any, ...], who: str) -> int:
    if not arrays:
        raise ValueError(f"{who} needs at least one array to split")
    lengths = [_length(a) for a in arrays]
    if len(set(lengths)) != 1:
        raise ValueError(f"{who} needs arrays of the same length, got lengths {lengths}")
    if lengths[0] < 2:
        raise ValueError(f"{who} needs at least 2 samples, got {lengths[0]}")
    return lengths[0]


def _count(size: Any, n: int, name: str) -> int:
    """A split size as a sample count: a float fraction in (0, 1) of n (rounded up), or
    an int count in [1, n - 1]."""
    if isinstance(size, bool) or not isinstance(size, (numbers.Real, np.number)):
        raise TypeError(f"{name} must be a float fraction or an int count, got {size!r}")
    if isinstance(size, (numbers.Integral, np.integer)):
        count = int(size)
        if not 1 <= count < n:
            raise ValueError(f"{name}={count} must be between 1 and {n - 1} for {n} samples")
        return count
    if not 0.0 < float(size) < 1.0:
        raise ValueError(f"{name}={size} must be a fraction strictly between 0 and 1 (or an "
                         f"int count)")
    count = math.ceil(float(size) * n)
    if count >= n:
        raise ValueError(f"{name}={size} of {n} samples leaves no training samples")
    return count


def _rng(seed: Any) -> np.random.Generator:
    if seed is None:
        return np.random.default_rng(int(generator().integers(2**63)))
    if isinstance(seed, bool) or not isinstance(seed, (numbers.Integral, np.integer)) or \
            seed < 0:
        raise ValueError(f"seed must be a non-negative integer or None, got {seed!r}")
    return np.random.default_rng(int(seed))


def _stratified_counts(class_sizes: np.ndarray, n_take: int,
                       rng: np.random.Generator) -> np.ndarray:
    """How many of each class go into a part of ``n_take`` samples: each class's exact
    share floored, the leftover samples going to the largest remainders (ties at random)."""
    n = int(class_sizes.sum())
    exact = n_take * class_sizes
    counts, remainders = exact // n, exact % n
    leftover = n_take - int(counts.sum())
    order = np.lexsort((rng.random(class_sizes.size), -remainders))
    counts[order[:leftover]] += 1
    return counts


def _split_indices(n: int, n_test: int, rng: np.random.Generator, shuffle: bool,
                   labels: np.ndarray | None, who: str) -> tuple[np.ndarray, np.ndarray]:
    """Disjoint (train, test) index arrays covering range(n), test of size ``n_test``."""
    if labels is None:
        order = rng.permutation(n) if shuffle else np.arange(n)
        return order[:n - n_test], order[n - n_test:]
    classes, codes = np.unique(labels, return_inverse=True)
    codes = codes.reshape(-1)
    sizes = np.bincount(codes, minlength=classes.size)
    if sizes.min() < 2:
        rare = classes[np.argmin(sizes)].item()
        raise ValueError(f"{who}: class {rare!r} has only 1 sample; stratify needs at "
                         f"least 2 of every class")
    for part, size in (("test", n_test), ("train", n - n_test)):
        if size < classes.size:
            raise ValueError(f"{who}: the {part} part has {size} samples, fewer than the "
                             f"{classes.size} classes; stratify needs at least one per class")
    test_counts = _stratified_counts(sizes, n_test, rng)
    train, test = [], []
    for k in range(classes.size):
        members = rng.permutation(np.flatnonzero(codes == k))
        test.append(members[:test_counts[k]])
        train.append(members[test_counts[k]:])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def _labels(stratify: Any, n: int, who: str) -> np.ndarray | None:
    if stratify is None:
        return None
    labels = as_numpy(stratify)
    if labels.ndim != 1 or labels.shape[0] != n:
        raise ValueError(f"{who}: stratify must be 1-d labels for the {n} samples, got "
                         f"shape {labels.shape}")
    return labels


def _take(array: Any, indices: np.ndarray) -> Any:
    """Rows ``indices`` of ``array``, keeping its type."""
    if isinstance(array, Dataset):
        return Subset(array, indices)
    if isinstance(array, Tensor):
        data = array._data
        return Tensor._wrap(data[_xp_index(data, indices)])
    if isinstance(array, np.ndarray):
        return array[indices]
    if hasattr(array, "__cuda_array_interface__"):
        return array[_xp_index(array, indices)]
    if isinstance(array, (list, tuple)):
        return [array[int(i)] for i in indices]
    return np.asarray(array)[indices]


def train_test_split(*arrays: Any, test_size: float | int = 0.25, seed: int | None = None,
                     shuffle: bool = True, stratify: Any = None) -> list[Any]:
    """Splits each array (N, *) into a train part (N - T, *) and a test part (T, *).

    ``test_size``: a fraction of N (rounded up) or a count T. The result lists, for each
    array in order, its train part then its test part:
    ``x_train, x_test, y_train, y_test = train_test_split(x, y, seed=0)``. ``seed`` makes
    the split repeatable (None draws from axonic's global generator). ``shuffle=False``
    takes the last T samples as the test part. ``stratify`` (N,) labels keep each class's
    share in both parts (to within one sample).
    """
    who = "train_test_split"
    n = _num_samples(arrays, who)
    n_test = _count(test_size, n, "test_size")
    labels = _labels(stratify, n, who)
    if labels is not None and not shuffle:
        raise ValueError(f"{who}: stratify needs shuffle=True")
    train, test = _split_indices(n, n_test, _rng(seed), bool(shuffle), labels, who)
    return [part for a in arrays for part in (_take(a, train), _take(a, test))]


def train_val_test_split(*arrays: Any, val_size: float | int, test_size: float | int,
                         seed: int | None = None, stratify: Any = None) -> list[Any]:
    """Splits each array (N, *) into shuffled train, validation (V, *) and test (T, *)
    parts.

    ``val_size`` and ``test_size``: fractions of N (rounded up) or counts. The result
    lists, for each array in order, its train, validation and test parts:
    ``x_tr, x_val, x_te, y_tr, y_val, y_te = train_val_test_split(x, y, val_size=0.1,
    test_size=0.2, seed=0)``. ``stratify`` (N,) labels keep each class's share in all three.
    """
    who = "train_val_test_split"
    n = _num_samples(arrays, who)
    n_test = _count(test_size, n, "test_size")
    n_val = _count(val_size, n, "val_size")
    if n_val + n_test >= n:
        raise ValueError(f"{who}: val_size={val_size} ({n_val} samples) and test_size="
                         f"{test_size} ({n_test}) leave no training samples out of {n}")
    labels = _labels(stratify, n, who)
    rng = _rng(seed)
    rest, test = _split_indices(n, n_test, rng, True, labels, who)
    rest_labels = None if labels is None else labels[rest]
    train, val = _split_indices(rest.size, n_val, rng, True, rest_labels, who)
    parts = (rest[train], rest[val], test)
    return [_take(a, p) for a in arrays for p in parts]
