"""Functions that make tensors: tensor, zeros, ones, full, arange, randn, rand..."""

from __future__ import annotations

from typing import Any

import numpy as np

from .random import generator
from .tensor import Tensor, as_dtype


def _shape(shape: tuple) -> tuple[int, ...]:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    for n in shape:
        if not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"a shape needs non-negative integers, got {shape}")
    return tuple(int(n) for n in shape)


def _float_dtype(dtype) -> np.dtype:
    return np.dtype(np.float32) if dtype is None else as_dtype(dtype)


def _on_device(array, device: str):
    """``array`` (made on the host) moved to ``device``; raises with the reason CUDA
    cannot be used. Host-first creation keeps seeded random tensors identical on
    every device."""
    from .backends import array_to_device, parse_device

    device = parse_device(device)
    return array if device == "cpu" else array_to_device(array, device)


def tensor(data: Any, dtype=None, requires_grad: bool = False, device: str = "cpu") -> Tensor:
    """A tensor copied from data (lists, scalars, NumPy arrays, tensors).

    Python floats become float32; NumPy arrays and scalars keep float32/float64; integers
    become int64.
    """
    from .backends import array_to_device, parse_device

    t = Tensor(data, dtype=dtype, requires_grad=requires_grad)
    target = parse_device(device)
    if target != t.device:
        t._data = array_to_device(t._data, target)
    return t


def _make(array: np.ndarray, requires_grad: bool, device: str) -> Tensor:
    t = Tensor._wrap(_on_device(array, device))
    return t.requires_grad_(True) if requires_grad else t


def zeros(*shape, dtype=None, requires_grad: bool = False, device: str = "cpu") -> Tensor:
    return _make(np.zeros(_shape(shape), _float_dtype(dtype)), requires_grad, device)


def ones(*shape, dtype=None, requires_grad: bool = False, device: str = "cpu") -> Tensor:
    return _make(np.ones(_shape(shape), _float_dtype(dtype)), requires_grad, device)


def full(shape, fill_value, dtype=None, requires_grad: bool = False, device: str = "cpu"):
    shape = _shape((shape,) if isinstance(shape, int) else tuple(shape))
    return _make(np.full(shape, fill_value, _float_dtype(dtype)), requires_grad, device)


def zeros_like(t: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    return zeros(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad, device=t.device)


def ones_like(t: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    return ones(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad, device=t.device)


def arange(start, stop=None, step=1, dtype=None, requires_grad: bool = False,
           device: str = "cpu") -> Tensor:
    """Like numpy.arange; integer arguments give int64 unless a dtype is given."""
    if stop is None:
        start, stop = 0, start
    if step == 0:
        raise ValueError("arange: step must not be zero")
    integral = all(isinstance(v, (int, np.integer)) for v in (start, stop, step))
    dtype = as_dtype(dtype) if dtype is not None else np.dtype(np.int64 if integral else np.float32)
    return _make(np.arange(start, stop, step).astype(dtype), requires_grad, device)


def randn(*shape, dtype=None, requires_grad: bool = False, device: str = "cpu") -> Tensor:
    """Standard-normal samples from the generator seeded by ``manual_seed``."""
    dtype = _float_dtype(dtype)
    return _make(generator().standard_normal(_shape(shape)).astype(dtype), requires_grad, device)


def rand(*shape, dtype=None, requires_grad: bool = False, device: str = "cpu") -> Tensor:
    """Uniform samples in [0, 1) from the generator seeded by ``manual_seed``."""
    dtype = _float_dtype(dtype)
    return _make(generator().random(_shape(shape)).astype(dtype), requires_grad, device)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with a NumPy array (no copy)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy expects a numpy.ndarray, got {type(array).__name__}")
    return Tensor._wrap(array)
