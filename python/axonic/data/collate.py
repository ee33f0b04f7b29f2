"""``default_collate``: turns a list of samples into one batch.

Tensors, NumPy arrays and NumPy scalars are stacked along a new first dimension, keeping
their dtype; Python numbers become a 1-d tensor by ``axonic.tensor``'s rules (floats
float32, ints int64, bools bool); strings stay a list; tuples, lists, named tuples and
dicts are collated element by element and keep their type.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..tensor import Tensor


def wrap_array(array: Any) -> Tensor:
    """A tensor around ``array`` with no copy and no graph (NumPy scalars become 0-d)."""
    return Tensor._wrap(np.asarray(array) if isinstance(array, np.generic) else array)


def _is_array(x: Any) -> bool:
    return isinstance(x, (Tensor, np.ndarray, np.generic)) or \
        hasattr(x, "__cuda_array_interface__")


def _stack(samples: Sequence[Any]) -> Tensor:
    """Samples of shape (*) stacked into a tensor of shape (B, *), outside any graph."""
    arrays = [s._data if isinstance(s, Tensor) else s for s in samples]
    arrays = [a if isinstance(a, np.ndarray) or hasattr(a, "__cuda_array_interface__")
              else np.asarray(a) for a in arrays]
    shape = arrays[0].shape
    for position, array in enumerate(arrays):
        if array.shape != shape:
            raise ValueError(f"default_collate cannot stack samples of different shapes: "
                             f"sample 0 has shape {tuple(shape)}, sample {position} has "
                             f"shape {tuple(array.shape)}")
    if all(isinstance(a, np.ndarray) for a in arrays):
        return Tensor._wrap(np.stack(arrays))
    import cupy  # CUDA samples: stack on the device

    return Tensor._wrap(cupy.stack([cupy.asarray(a) for a in arrays]))


def default_collate(samples: Sequence[Any]) -> Any:
    """One batch from B samples of the same structure (see the module docstring).

    Shapes: B samples of shape (*) give a tensor of shape (B, *); B numbers give (B,).
    """
    if len(samples) == 0:
        raise ValueError("default_collate needs at least one sample")
    first = samples[0]
    if _is_array(first):
        return _stack(samples)
    if isinstance(first, (str, bytes)):
        return list(samples)
    if isinstance(first, (numbers.Number, bool)):
        if not all(isinstance(s, (numbers.Number, bool)) for s in samples):
            raise TypeError("default_collate: a batch mixes numbers with other types")
        return Tensor(list(samples))
    if isinstance(first, Mapping):
        keys = list(first.keys())
        for position, sample in enumerate(samples):
            if not isinstance(sample, Mapping) or set(sample.keys()) != set(keys):
                raise ValueError(f"default_collate: sample {position} does not have the keys "
                                 f"{keys} of sample 0")
        return {key: default_collate([s[key] for s in samples]) for key in keys}
    if isinstance(first, (tuple, list)):
        size = len(first)
        for position, sample in enumerate(samples):
            if not isinstance(sample, (tuple, list)) or len(sample) != size:
                raise ValueError(f"default_collate: every sample must be a sequence of "
                                 f"{size} elements like sample 0; sample {position} is not")
        columns = [default_collate(list(column)) for column in zip(*samples)]
        if isinstance(first, tuple) and hasattr(first, "_fields"):  # named tuple
            return type(first)(*columns)
        return tuple(columns) if isinstance(first, tuple) else columns
    raise TypeError(f"default_collate does not know how to batch samples of type "
                    f"{type(first).__name__}; pass a collate_fn")
