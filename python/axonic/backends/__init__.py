"""The backend seam: one module per implementation, the same kernels on each.

``get_backend(device)`` returns the module that runs a device's kernels. On the
CPU that is the native ``cpu`` backend; ``use_reference_kernels(True)`` swaps in
the NumPy ``reference`` backend (the oracle), e.g. to check whether a wrong
result comes from a kernel.
"""

from __future__ import annotations

from types import ModuleType

from . import cpu, cuda, reference, spec

__all__ = ["array_to_device", "get_backend", "parse_device", "use_reference_kernels", "cpu",
           "cuda", "reference", "spec"]

_use_reference = False
_cuda_backend: ModuleType | None = None  # set once CUDA has been found usable


def _remember_cuda_backend(module: ModuleType) -> ModuleType:
    global _cuda_backend
    _cuda_backend = module
    return module


def use_reference_kernels(enabled: bool = True) -> None:
    """Run CPU tensors on the pure-NumPy reference kernels instead of axonic._cpu."""
    global _use_reference
    _use_reference = bool(enabled)


def parse_device(device) -> str:
    """'cpu' or 'cuda' from 'cpu', 'cuda', 'cuda:0' (one GPU is supported) or a Tensor's
    ``.device``; ValueError naming the accepted spellings otherwise."""
    if isinstance(device, str):
        if device in ("cpu", "cuda"):
            return device
        if device.startswith("cuda:"):
            index = device[5:]
            if index.isdigit() and int(index) == 0:
                return "cuda"
            raise ValueError(f"device {device!r}: axonic uses one GPU, 'cuda' (or 'cuda:0')")
    raise ValueError(f"unknown device {device!r}: expected 'cpu' or 'cuda'")


def get_backend(device: str) -> ModuleType:
    """The backend module for ``device`` ('cpu' or 'cuda'); RuntimeError saying why and
    how to fix it when CUDA cannot be used here."""
    if device == "cpu":
        return reference if _use_reference else cpu
    if device == "cuda":
        if _cuda_backend is not None:
            return _cuda_backend
        from .. import cuda as cuda_devices

        reason = cuda_devices.why_unavailable()
        if reason is not None:
            raise RuntimeError(f"CUDA is not available: {reason}")
        from . import cuda_kernels

        return _remember_cuda_backend(cuda_kernels)
    raise ValueError(f"unknown device {device!r}: expected 'cpu' or 'cuda'")


def array_to_device(array, device: str):
    """``array`` (numpy or cupy) on ``device``: itself when it is there already, else a
    copy (host to GPU, or GPU to host)."""
    on_gpu = hasattr(array, "__cuda_array_interface__")
    if device == "cpu":
        return array.get() if on_gpu else array
    if on_gpu:
        return array
    return get_backend(device).xp.asarray(array)
