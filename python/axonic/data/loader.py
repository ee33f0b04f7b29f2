"""``DataLoader``: iterates over a dataset in (optionally shuffled) batches."""

from __future__ import annotations

import numbers
from collections.abc import Iterator
from typing import Any, Callable

import numpy as np

from ..random import generator
from .collate import default_collate


def _check_flag(name: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"DataLoader {name} must be a bool, got {value!r}")
    return bool(value)


class DataLoader:
    """Batches of ``dataset``: each ``iter(loader)`` is one epoch.

    Every sample appears exactly once per epoch (the last, short batch is dropped when
    ``drop_last``). With ``shuffle`` each epoch has a fresh order; with a ``seed`` epoch
    ``e`` draws its order from ``numpy.random.default_rng((seed, e))``, so loaders with the
    same seed repeat each other; without one each epoch draws a seed from axonic's global
    generator (fixed by ``axonic.manual_seed``).

    ``collate_fn`` (default ``default_collate``) turns a list of samples into a batch; a
    ``TensorDataset`` of x: (N, *) and y: (N, *) gives tuples (x[idx]: (B, *), y[idx]:
    (B, *)) with dtypes kept. When ``collate_fn`` is None and the dataset has
    ``get_batch(indices)`` (``TensorDataset``, ``Subset`` of one), a batch is fetched in one
    vectorised step instead of sample by sample. ``transform``, when given, is applied to
    every collated batch (batch in, batch out).
    """

    def __init__(self, dataset: Any, batch_size: int = 1, shuffle: bool = False,
                 drop_last: bool = False, collate_fn: Callable[[list], Any] | None = None,
                 seed: int | None = None, transform: Callable[[Any], Any] | None = None):
        if not (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")):
            raise TypeError(f"DataLoader needs a dataset with __len__ and __getitem__, got "
                            f"{type(dataset).__name__}")
        if len(dataset) == 0:
            raise ValueError("DataLoader got an empty dataset (0 samples); there is nothing "
                             "to load")
        if isinstance(batch_size, bool) or not isinstance(batch_size, (numbers.Integral,
                                                                       np.integer)):
            raise TypeError(f"DataLoader batch_size must be an integer, got {batch_size!r}")
        if batch_size < 1:
            raise ValueError(f"DataLoader batch_size must be at least 1, got {batch_size}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(
                seed, (numbers.Integral, np.integer)) or seed < 0):
            raise ValueError(f"DataLoader seed must be a non-negative integer, got {seed!r}")
        for name, fn in (("collate_fn", collate_fn), ("transform", transform)):
            if fn is not None and not callable(fn):
                raise TypeError(f"DataLoader {name} must be callable, got {fn!r}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = _check_flag("shuffle", shuffle)
        self.drop_last = _check_flag("drop_last", drop_last)
        self.collate_fn = collate_fn
        self.seed = None if seed is None else int(seed)
        self.transform = transform
        self.epoch = 0  # the number of epochs started so far

    def __len__(self) -> int:
        """The number of batches per epoch."""
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _epoch_order(self) -> np.ndarray:
        """The sample indices of the next epoch, in the order they are served."""
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n, dtype=np.int64)
        if self.seed is not None:
            rng = np.random.default_rng((self.seed, self.epoch))
        else:
            rng = np.random.default_rng(int(generator().integers(2**63)))
        return rng.permutation(n).astype(np.int64, copy=False)

    def __iter__(self) -> Iterator[Any]:
        """Starts an epoch (its order is fixed here) and returns its batch iterator."""
        order = self._epoch_order()
        self.epoch += 1
        return self._batches(order)

    def _batches(self, order: np.ndarray) -> Iterator[Any]:
        fetch = getattr(self.dataset, "get_batch", None) if self.collate_fn is None else None
        collate = self.collate_fn or default_collate
        stop = len(self) * self.batch_size if self.drop_last else len(order)
        for start in range(0, stop, self.batch_size):
            indices = order[start:start + self.batch_size]
            if callable(fetch):
                batch = fetch(indices)
            else:
                batch = collate([self.dataset[int(i)] for i in indices])
            yield batch if self.transform is None else self.transform(batch)
