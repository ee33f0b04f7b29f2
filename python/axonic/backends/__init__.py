"""The backend seam: one module per implementation, the same kernels on each.

``get_backend(device)`` returns the module that runs a device's kernels. On the
CPU that is the native ``cpu`` backend; ``use_reference_kernels(True)`` swaps in
the NumPy ``reference`` backend (the oracle), e.g. to check whether a wrong
result comes from a kernel.
"""

from __future__ import annotations

from types import ModuleType

from . import reference, spec

__all__ = ["get_backend", "use_reference_kernels", "reference", "spec"]

_use_reference = False


def use_reference_kernels(enabled: bool = True) -> None:
    """Run CPU tensors on the pure-NumPy reference kernels instead of axonic._cpu."""
    global _use_reference
    _use_reference = bool(enabled)


def get_backend(device: str) -> ModuleType:
    """The backend module for ``device`` ('cpu' or 'cuda')."""
    if device == "cpu":
        if _use_reference:
            return reference
        from . import cpu

        return cpu
    if device == "cuda":
        raise RuntimeError(
            "this axonic build has no CUDA backend yet: CUDA tensors arrive with the CUDA "
            "backend; use device='cpu'"
        )
    raise ValueError(f"unknown device {device!r}: expected 'cpu' or 'cuda'")
