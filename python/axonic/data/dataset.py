"""Map-style datasets: ``Dataset``, ``TensorDataset``, ``Subset`` and ``random_split``.

A dataset has ``len(ds)`` samples and returns sample ``i`` from ``ds[i]``. A dataset that
can fetch many samples in one vectorised step also defines ``get_batch(indices)``, which
returns exactly what ``default_collate([ds[i] for i in indices])`` would; ``DataLoader``
then uses it instead of fetching and stacking samples one at a time. A subclass that
changes ``__getitem__`` must keep ``get_batch`` consistent with it (or override it).
"""

from __future__ import annotations

import math
import numbers
import warnings
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..random import generator
from ..tensor import Tensor
from .collate import default_collate, wrap_array


class Dataset(ABC):
    """Abstract map-style dataset: subclasses define ``__getitem__`` and ``__len__``."""

    @abstractmethod
    def __getitem__(self, index: int) -> Any:
        """Sample ``index`` (0 <= index < len(self))."""

    @abstractmethod
    def __len__(self) -> int:
        """The number of samples."""


def _as_storage(data: Any) -> Any:
    """The raw array behind ``data``: a tensor's storage (detached, shared), a NumPy or
    CuPy array as is (dtype kept), anything else through ``axonic.tensor``'s rules."""
    if isinstance(data, Tensor):
        return data._data
    if isinstance(data, np.ndarray) or hasattr(data, "__cuda_array_interface__"):
        return data
    return Tensor(data)._data


def _xp_index(array: Any, indices: np.ndarray) -> Any:
    """``indices`` on the same device as ``array`` (CuPy arrays index with CuPy arrays)."""
    if isinstance(array, np.ndarray):
        return indices
    import cupy  # only reached for CUDA storage

    return cupy.asarray(indices)


class TensorDataset(Dataset):
    """Samples are rows of tensors that share their first dimension.

    ``TensorDataset(x, y)`` with x: (N, *) and y: (N, *) gives ``ds[i] == (x[i], y[i])``.
    Tensors, NumPy arrays (their dtype is kept, memory is shared, no copy) and nested lists
    are accepted. Samples and batches are plain data: no link to any autograd graph.
    """

    def __init__(self, *tensors: Any):
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor, got none")
        arrays = tuple(_as_storage(t) for t in tensors)
        for position, array in enumerate(arrays):
            if array.ndim == 0:
                raise ValueError(f"TensorDataset needs tensors with a first (sample) dimension; "
                                 f"tensor {position} is 0-d")
        sizes = [int(a.shape[0]) for a in arrays]
        if len(set(sizes)) != 1:
            raise ValueError(f"TensorDataset needs tensors with the same first dimension, "
                             f"got sizes {sizes}")
        self._arrays = arrays
        self._length = sizes[0]

    @property
    def tensors(self) -> tuple[Tensor, ...]:
        """The stored tensors, sharing memory with the dataset (as in PyTorch)."""
        return tuple(Tensor._wrap(a) for a in self._arrays)

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index: int) -> tuple[Tensor, ...]:
        """Row ``index`` of each tensor, copied: shapes (*) for inputs of shape (N, *)."""
        if not isinstance(index, (numbers.Integral, np.integer)) or isinstance(index, bool):
            raise TypeError(f"TensorDataset index must be an integer, got "
                            f"{type(index).__name__}; use get_batch for many samples")
        if not -self._length <= index < self._length:
            raise IndexError(f"index {index} is out of range for a dataset of {self._length} "
                             f"samples")
        return tuple(wrap_array(a[index].copy()) for a in self._arrays)

    def get_batch(self, indices: np.ndarray) -> tuple[Tensor, ...]:
        """Rows ``indices`` (an int array of length B) of each tensor: shapes (B, *)."""
        indices = np.asarray(indices, dtype=np.int64)
        return tuple(wrap_array(a[_xp_index(a, indices)]) for a in self._arrays)


def _is_integer(value: Any) -> bool:
    return isinstance(value, (numbers.Integral, np.integer)) and not isinstance(value, bool)


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order: ``sub[i] ==
    dataset[indices[i]]``. Negative indices count from the end, as in Python."""

    def __init__(self, dataset: Any, indices: Sequence[int] | np.ndarray):
        raw = np.asarray(indices)
        if raw.size == 0:
            raw = raw.astype(np.int64)
        if raw.ndim != 1 or raw.dtype.kind not in "iu":
            raise TypeError(f"Subset indices must be a 1-d sequence of integers, got "
                            f"{raw.dtype} with shape {raw.shape}")
        n = len(dataset)
        raw = raw.astype(np.int64)
        bad = raw[(raw < -n) | (raw >= n)]
        if bad.size:
            raise IndexError(f"Subset index {int(bad[0])} is out of range for a dataset of "
                             f"{n} samples")
        self.dataset = dataset
        self.indices = np.where(raw < 0, raw + n, raw)

    def __len__(self) -> int:
        return int(self.indices.shape[0])

    def __getitem__(self, index: int) -> Any:
        if not _is_integer(index):
            raise TypeError(f"Subset index must be an integer, got {type(index).__name__}")
        return self.dataset[int(self.indices[index])]

    def get_batch(self, indices: np.ndarray) -> Any:
        """The collated samples at ``indices``: vectorised when the underlying dataset
        has ``get_batch``, otherwise fetched one by one and collated."""
        outer = self.indices[np.asarray(indices, dtype=np.int64)]
        fetch = getattr(self.dataset, "get_batch", None)
        if callable(fetch):
            return fetch(outer)
        return default_collate([self.dataset[int(i)] for i in outer])


def _split_lengths(n: int, lengths: Sequence[int | float]) -> list[int]:
    """Integer split sizes from ints summing to n, or fractions summing to 1 (the
    remainder of flooring n * fraction goes round-robin from the first split, as in
    PyTorch)."""
    lengths = list(lengths)
    if not lengths:
        raise ValueError("random_split needs at least one length")
    if any(isinstance(v, bool) or not isinstance(v, (numbers.Real, np.number)) for v in lengths):
        raise TypeError(f"random_split lengths must be ints or fractions, got {lengths}")
    if all(_is_integer(v) for v in lengths):
        sizes = [int(v) for v in lengths]
        if any(v < 0 for v in sizes):
            raise ValueError(f"random_split lengths must be non-negative, got {sizes}")
    else:
        total = float(sum(lengths))
        if any(not 0.0 <= float(v) <= 1.0 for v in lengths) or not math.isclose(total, 1.0):
            raise ValueError(f"random_split fractions must lie in [0, 1] and sum to 1, got "
                             f"{lengths} (sum {total})")
        sizes = [int(math.floor(n * float(v))) for v in lengths]
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
        for i, size in enumerate(sizes):
            if size == 0:
                warnings.warn(f"random_split: split {i} of fraction {lengths[i]} is empty",
                              stacklevel=3)
    if sum(sizes) != n:
        raise ValueError(f"random_split lengths {sizes} sum to {sum(sizes)}, but the dataset "
                         f"has {n} samples")
    return sizes


def random_split(dataset: Any, lengths: Sequence[int | float],
                 seed: int | None = None) -> list[Subset]:
    """Splits ``dataset`` into disjoint random ``Subset``s of the given ``lengths``.

    ``lengths``: ints summing to ``len(dataset)``, or fractions summing to 1
    (``[0.8, 0.2]``). ``seed`` makes the split repeatable; without one the split draws
    from axonic's global generator (so ``axonic.manual_seed`` fixes it too).
    """
    n = len(dataset)
    sizes = _split_lengths(n, lengths)
    if seed is None:
        seed = int(generator().integers(2**63))
    elif not _is_integer(seed) or seed < 0:
        raise ValueError(f"random_split seed must be a non-negative integer, got {seed!r}")
    order = np.random.default_rng(int(seed)).permutation(n)
    bounds = np.cumsum([0] + sizes)
    return [Subset(dataset, order[start:stop]) for start, stop in zip(bounds[:-1], bounds[1:])]
