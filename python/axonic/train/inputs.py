"""What ``Trainer`` accepts as data, turned into a ``DataLoader``, and batches split into
(inputs, targets).

Data is a ``DataLoader`` (used as is), a ``Dataset`` (anything with ``__len__`` and
``__getitem__`` that is not an array), a tuple ``(x, y)`` of arrays or Tensors with the
same first dimension N, or, where no targets are needed (``predict``), a bare array or
Tensor x, or ``(x,)``. Arrays keep their dtype, as with ``TensorDataset``.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ..data import DataLoader, TensorDataset
from ..tensor import Tensor


def check_positive_int(who: str, name: str, value: Any) -> int:
    """``value`` as an int >= 1, or a ValueError naming ``who`` and ``name``."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, np.integer)):
        raise ValueError(f"{who}: {name} must be an integer >= 1, got {value!r}")
    if value < 1:
        raise ValueError(f"{who}: {name} must be an integer >= 1, got {value}")
    return int(value)


def _is_array(x: Any) -> bool:
    return isinstance(x, (Tensor, np.ndarray)) or hasattr(x, "__cuda_array_interface__")


def _num_samples(who: str, name: str, x: Any) -> int:
    shape = np.shape(x) if not isinstance(x, Tensor) else x.shape
    if len(shape) == 0:
        raise ValueError(f"{who}: {name} must have a first (sample) dimension, got a scalar")
    return int(shape[0])


def _from_arrays(who: str, role: str, arrays: tuple, needs_targets: bool) -> TensorDataset:
    if needs_targets and len(arrays) != 2:
        raise ValueError(f"{who}: {role} as a tuple must be (x, y), got a tuple of "
                         f"{len(arrays)} items")
    if not 1 <= len(arrays) <= 2:
        raise ValueError(f"{who}: {role} as a tuple must be (x,) or (x, y), got a tuple of "
                         f"{len(arrays)} items")
    names = ("x", "y")
    sizes = [_num_samples(who, f"{role} {names[i]}", a) for i, a in enumerate(arrays)]
    if sizes[0] == 0:
        raise ValueError(f"{who}: {role} is empty (x has 0 samples)")
    if len(sizes) == 2 and sizes[0] != sizes[1]:
        raise ValueError(f"{who}: {role} x has {sizes[0]} samples but y has {sizes[1]}; "
                         "they must have the same first dimension")
    return TensorDataset(*arrays)


def as_loader(data: Any, *, who: str, role: str, batch_size: int, shuffle: bool,
              seed: int | None, needs_targets: bool) -> DataLoader:
    """A DataLoader over ``data`` (see the module docstring). ``batch_size``, ``shuffle``
    and ``seed`` apply when the loader is built here; a given DataLoader keeps its own."""
    batch_size = check_positive_int(who, "batch_size", batch_size)
    if data is None:
        raise ValueError(f"{who}: {role} is None; pass a DataLoader, a Dataset or a tuple (x, y)")
    if isinstance(data, DataLoader):
        return data
    if isinstance(data, (tuple, list)):
        dataset: Any = _from_arrays(who, role, tuple(data), needs_targets)
    elif _is_array(data):
        if needs_targets:
            raise ValueError(f"{who}: {role} needs targets: pass a tuple (x, y), a Dataset of "
                             f"(x, y) samples or a DataLoader, not a bare array")
        dataset = _from_arrays(who, role, (data,), needs_targets)
    elif hasattr(data, "__len__") and hasattr(data, "__getitem__"):
        dataset = data
    else:
        raise TypeError(f"{who}: {role} must be a DataLoader, a Dataset or a tuple (x, y) of "
                        f"arrays, got {type(data).__name__}")
    if len(dataset) == 0:
        raise ValueError(f"{who}: {role} is empty (0 samples); there is nothing to iterate")
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, seed=seed)


def _as_tensor(value: Any, device: str) -> Any:
    if not isinstance(value, Tensor) and _is_array(value):
        value = Tensor(value)
    if isinstance(value, Tensor) and value.device != device:
        value = value.to(device)
    return value


def split_batch(batch: Any, *, who: str, device: str, needs_targets: bool) -> tuple[Any, Any]:
    """(inputs, targets) of one batch, on ``device``. A batch is ``(x, y)``, ``(x,)`` or a
    bare x; targets are None for the last two, which is an error when ``needs_targets``."""
    if isinstance(batch, (tuple, list)):
        if not 1 <= len(batch) <= 2:
            raise ValueError(f"{who}: a batch must be (inputs, targets) or (inputs,), got a "
                             f"sequence of {len(batch)} items; use a collate_fn or transform "
                             "that returns (x, y)")
        x, y = batch[0], (batch[1] if len(batch) == 2 else None)
    else:
        x, y = batch, None
    if needs_targets and y is None:
        raise ValueError(f"{who}: batches must be (inputs, targets) pairs, got inputs only")
    return _as_tensor(x, device), (None if y is None else _as_tensor(y, device))


def batch_length(x: Any) -> int:
    """The number of samples in a batch of inputs (its first dimension)."""
    if isinstance(x, Tensor):
        if x.ndim == 0:
            raise ValueError("a batch of inputs must have a first (sample) dimension, got a "
                             "0-d tensor")
        return x.shape[0]
    return len(x)


def to_numpy(value: Any) -> np.ndarray:
    """A Tensor (any device) or array-like as a NumPy array, outside any graph."""
    if isinstance(value, Tensor):
        return value.numpy()
    if hasattr(value, "__cuda_array_interface__"):  # cupy.ndarray
        return value.get()
    return np.asarray(value)
