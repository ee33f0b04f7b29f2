"""A stand-in for CuPy over host memory, so axonic's whole CUDA path (Tensor.to,
autograd, modules, optimizers, backends/cuda_kernels.py) runs on the emulated CUDA
module in tests without a GPU.

``EmulatedDeviceArray`` is a NumPy array that exposes ``__cuda_array_interface__``
(so axonic treats it as a CUDA array and the emulated kernels read it) and ``get()``.
Like CuPy, it refuses to mix with host arrays in arithmetic, which catches glue code
that forgets to move something to the device. ``module()`` gives the ``cupy`` module
look-alike: NumPy's functions, returning device arrays.
"""

from __future__ import annotations

import types
from typing import Any

import numpy as np


class EmulatedDeviceArray(np.ndarray):
    """A host array posing as a CuPy array."""

    @property
    def __cuda_array_interface__(self) -> dict[str, Any]:
        pointer = self.__array_interface__["data"][0]
        strides = None if self.flags.c_contiguous else self.strides
        return {"shape": self.shape, "typestr": self.dtype.str, "version": 3,
                "data": (pointer, not self.flags.writeable), "strides": strides}

    def get(self) -> np.ndarray:
        """A host copy, as cupy.ndarray.get()."""
        return np.array(self.view(np.ndarray), copy=True)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        arrays = inputs + tuple(kwargs.get("out", ()))
        for x in arrays:
            if type(x) is np.ndarray and x.ndim > 0:
                raise TypeError(f"{ufunc.__name__}: a host numpy.ndarray mixed with a device "
                                "array (CuPy refuses this too)")
        plain = tuple(x.view(np.ndarray) if isinstance(x, EmulatedDeviceArray) else x
                      for x in inputs)
        if "out" in kwargs:
            kwargs["out"] = tuple(x.view(np.ndarray) if isinstance(x, EmulatedDeviceArray) else x
                                  for x in kwargs["out"])
        return _to_device(getattr(ufunc, method)(*plain, **kwargs))


def _to_device(result):
    if isinstance(result, np.ndarray) and not isinstance(result, EmulatedDeviceArray):
        return result.view(EmulatedDeviceArray)
    if isinstance(result, tuple):
        return tuple(_to_device(r) for r in result)
    if isinstance(result, np.generic):  # CuPy reductions give 0-d arrays, not scalars
        return np.asarray(result).view(EmulatedDeviceArray)
    return result


def _device_function(fn):
    def call(*args, **kwargs):
        return _to_device(fn(*args, **kwargs))

    call.__name__ = getattr(fn, "__name__", "function")
    return call


class _Stream:
    ptr = 0

    def synchronize(self) -> None:
        pass


class _Device:
    def synchronize(self) -> None:
        pass


def module() -> types.ModuleType:
    """A ``cupy`` look-alike: NumPy's namespace whose functions return device arrays."""
    fake = types.ModuleType("cupy")
    fake.__version__ = "emulated"
    fake.ndarray = EmulatedDeviceArray
    fake.cuda = types.SimpleNamespace(get_current_stream=lambda: _Stream(), Device=_Device,
                                      Stream=types.SimpleNamespace(null=_Stream()))
    fake.asnumpy = lambda x: x.get() if isinstance(x, EmulatedDeviceArray) else np.asarray(x)

    def missing(name: str):
        value = getattr(np, name)
        if callable(value) and not isinstance(value, type):
            return _device_function(value)
        return value

    fake.__getattr__ = missing
    return fake
