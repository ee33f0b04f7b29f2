"""CUDA availability. Tensors on "cuda" need the CUDA backend, which arrives in its own
issue; until then ``is_available()`` is False and ``why_unavailable()`` says why."""

from __future__ import annotations


def _device_report() -> tuple[int, str]:
    try:
        from . import _cuda
    except ImportError:
        return 0, "this axonic build has no CUDA module (nvcc was not found when it was built)"
    return _cuda.device_report()


def device_count() -> int:
    """CUDA devices the driver reports (0 without a driver or GPU)."""
    return _device_report()[0]


def why_unavailable() -> str | None:
    """Why CUDA tensors cannot be used here, or None when they can."""
    count, reason = _device_report()
    if count == 0:
        return reason
    return "the CUDA backend (kernels for CUDA tensors) is not part of this axonic version yet"


def is_available() -> bool:
    """True when tensors and modules can run on 'cuda'."""
    return why_unavailable() is None


def synchronize() -> None:
    """Waits for queued GPU work; a no-op without a usable GPU."""
