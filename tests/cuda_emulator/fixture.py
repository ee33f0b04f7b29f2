"""The ``cuda_kernels`` fixture's machinery: one object, ``CudaKernels``, per way of running
axonic's CUDA kernels - "emulated" (the kernels compiled for the CPU emulator, arrays in
host memory behind ``__cuda_array_interface__``) and "gpu" (axonic._cuda on CuPy arrays).

Kernel tests use only this API, so the same test runs on both::

    def test_relu(cuda_kernels):
        K = cuda_kernels
        x = K.to_device(np.array([-1.0, 2.0], np.float32))
        out = K.empty((2,), np.float32)          # garbage-filled: unwritten elements show
        K.backend.activation_forward("relu", x, out)
        assert_close(K.to_host(out), [0.0, 2.0])

- ``K.backend``: the kernels with the CPU backend's names and signatures; the stream is
  passed for you (emulated: stream=0; gpu: axonic.backends.cuda_kernels, CuPy's stream).
- ``K.to_device(array, keep_layout=False)``: a device copy of a NumPy array, C-contiguous;
  ``keep_layout=True`` keeps its strides (a transposed, sliced or broadcast view stays a
  view of a copied buffer), for the kernels that accept strided operands (GEMM).
  Read-only views (broadcast_to) stay read-only only in the emulated variant: CuPy
  arrays are always writable.
- ``K.to_host(device_array)``: a NumPy copy. ``K.empty(shape, dtype)``: an uninitialised
  device array, every byte 0xff (NaN as float, -1 as int). ``K.emulated``: bool.
- ``K.module``: the raw extension module (kernels there need ``stream=``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .build import build_emulated_module


class HostDeviceArray:
    """A NumPy array posing as a CUDA array: host memory behind
    ``__cuda_array_interface__`` (version 3), which is all axonic._cuda's bindings read.

    Deliberately minimal, like a device array seen from the host: shape, dtype, size,
    ndim, strides, nbytes, and no indexing or implicit conversion to NumPy (use
    ``to_host``)."""

    __slots__ = ("_array", "_owner")

    def __init__(self, array: np.ndarray, owner: Any = None) -> None:
        self._array = array
        self._owner = owner  # anything else the array's memory needs kept alive

    @property
    def __cuda_array_interface__(self) -> dict[str, Any]:
        a = self._array
        return {
            "version": 3,
            "shape": a.shape,
            "typestr": a.dtype.str,
            "data": (a.__array_interface__["data"][0], not a.flags.writeable),
            "strides": None if a.flags.c_contiguous else a.strides,
        }

    @property
    def shape(self) -> tuple[int, ...]:
        return self._array.shape

    @property
    def dtype(self) -> np.dtype:
        return self._array.dtype

    @property
    def size(self) -> int:
        return self._array.size

    @property
    def ndim(self) -> int:
        return self._array.ndim

    @property
    def strides(self) -> tuple[int, ...]:
        return self._array.strides

    @property
    def nbytes(self) -> int:
        return self._array.nbytes

    def __len__(self) -> int:
        return len(self._array)

    def __array__(self, *args: Any, **kwargs: Any) -> np.ndarray:
        raise TypeError("HostDeviceArray stands for device memory: copy it with "
                        "K.to_host(array) (as cupy.ndarray refuses implicit conversion)")

    def __repr__(self) -> str:
        return f"HostDeviceArray(shape={self.shape}, dtype={self.dtype})"

    def host_view(self) -> np.ndarray:
        """The NumPy array itself (no copy): for the emulator's own tests."""
        return self._array


def _garbage(nbytes: int) -> np.ndarray:
    """`nbytes` bytes of 0xff, 256-byte aligned like cudaMalloc's and CuPy's memory."""
    raw = np.full(nbytes + 256, 0xFF, dtype=np.uint8)
    start = -raw.__array_interface__["data"][0] % 256
    return raw[start:start + nbytes]


def _span(array: np.ndarray) -> tuple[int, int]:
    """(offset of element 0, bytes) of the smallest buffer holding every element of a
    strided array, negative strides included."""
    if array.size == 0:
        return 0, 0
    low = sum(s * (n - 1) for s, n in zip(array.strides, array.shape) if s < 0)
    high = sum(s * (n - 1) for s, n in zip(array.strides, array.shape) if s > 0)
    return -low, high - low + array.itemsize


def emulated_to_device(array: Any, keep_layout: bool = False) -> HostDeviceArray:
    """A HostDeviceArray holding a copy of `array` (C-contiguous unless keep_layout)."""
    array = np.asarray(array)
    if not keep_layout or array.flags.c_contiguous:
        buffer = _garbage(array.nbytes)
        copy = buffer.view(array.dtype).reshape(array.shape)
        copy[...] = array
        return HostDeviceArray(copy)
    offset, nbytes = _span(array)
    buffer = _garbage(nbytes)
    copy = np.ndarray(array.shape, array.dtype, buffer=buffer, offset=offset,
                      strides=array.strides)
    copy[...] = array  # a broadcast view (stride 0) gets the same value several times
    if not array.flags.writeable:
        copy.flags.writeable = False
    return HostDeviceArray(copy)


def emulated_empty(shape: Any, dtype: Any = np.float32) -> HostDeviceArray:
    """An 'uninitialised' HostDeviceArray: every byte 0xff (NaN as float, -1 as int)."""
    dtype = np.dtype(dtype)
    count = int(np.prod(shape, dtype=np.int64))
    buffer = _garbage(count * dtype.itemsize)
    return HostDeviceArray(buffer.view(dtype).reshape(shape))


def emulated_to_host(array: HostDeviceArray) -> np.ndarray:
    """A NumPy copy of a HostDeviceArray."""
    if not isinstance(array, HostDeviceArray):
        raise TypeError(f"expected a HostDeviceArray, got {type(array).__name__}")
    return array.host_view().copy()


def _takes_stream(function: Any) -> bool:
    """Whether a pybind11 function has a `stream` keyword (every kernel binding does)."""
    return "stream: " in (getattr(function, "__doc__", None) or "")


class EmulatedBackend:
    """The emulated module's functions under their own names; kernels get stream=0."""

    def __init__(self, module: Any) -> None:
        self._module = module

    def __getattr__(self, name: str) -> Any:
        function = getattr(self._module, name)
        if not callable(function) or not _takes_stream(function):
            return function

        def launch(*args: Any, **kwargs: Any) -> Any:
            return function(*args, stream=0, **kwargs)

        launch.__name__ = name
        launch.__doc__ = function.__doc__
        return launch

    def __dir__(self) -> list[str]:
        return [n for n in dir(self._module) if not n.startswith("__")]


@dataclass(frozen=True)
class CudaKernels:
    """What a CUDA kernel test needs (see the module docstring)."""

    name: str  # "emulated" or "gpu"
    emulated: bool
    backend: Any
    module: Any
    to_device: Callable[..., Any]
    to_host: Callable[[Any], np.ndarray]
    empty: Callable[..., Any]


def emulated_kernels(repo_root: Path) -> CudaKernels:
    """The kernels compiled for the emulator (built or taken from the cache)."""
    module = build_emulated_module(repo_root)
    return CudaKernels(name="emulated", emulated=True, backend=EmulatedBackend(module),
                       module=module, to_device=emulated_to_device, to_host=emulated_to_host,
                       empty=emulated_empty)


def gpu_unavailable_reason() -> str | None:
    """Why the "gpu" variant cannot run here, or None."""
    try:
        import cupy  # noqa: F401
    except Exception:
        return "CuPy is not installed"
    import axonic

    try:
        reason = axonic.cuda.why_unavailable()
    except Exception as error:
        return f"axonic.cuda failed: {error}"
    return None if reason is None else f"no usable CUDA device: {reason}"


def gpu_kernels() -> CudaKernels:
    """axonic._cuda on the GPU, through the real CUDA backend (CuPy arrays)."""
    import cupy

    from axonic import _cuda
    from axonic.backends import get_backend

    def to_device(array: Any, keep_layout: bool = False) -> Any:
        array = np.asarray(array)
        if not keep_layout or array.flags.c_contiguous:
            return cupy.asarray(np.ascontiguousarray(array))
        offset, nbytes = _span(array)
        buffer = cupy.empty(max(nbytes, 1), dtype=cupy.uint8)
        view = cupy.ndarray(array.shape, array.dtype, memptr=buffer.data + offset,
                            strides=array.strides)
        view[...] = cupy.asarray(np.ascontiguousarray(array))
        return view

    def empty(shape: Any, dtype: Any = np.float32) -> Any:
        out = cupy.empty(shape, dtype)
        if out.nbytes:
            out.data.memset_async(0xFF, out.nbytes)  # garbage, as the emulator's
        return out

    return CudaKernels(name="gpu", emulated=False, backend=get_backend("cuda"), module=_cuda,
                       to_device=to_device, to_host=cupy.asnumpy, empty=empty)
