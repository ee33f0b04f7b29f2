"""CUDA devices: ``is_available()``, ``device_count()``, ``synchronize()``.

CUDA tensors hold CuPy arrays and run on axonic._cuda's kernels, so three things must
be there: this build's CUDA module (built when nvcc was found), CuPy (``pip install
axonic[cuda]``) and a GPU with its driver. ``why_unavailable()`` names the missing one
and how to get it; ``Tensor.to("cuda")`` raises with the same words.
"""

from __future__ import annotations

import functools


def _device_report() -> tuple[int, str]:
    """(devices the CUDA runtime sees, why it sees none)."""
    try:
        from . import _cuda
    except ImportError:
        return 0, ("this axonic build has no CUDA module: nvcc was not found when it was "
                   "built; install the CUDA toolkit and reinstall axonic (pip install .)")
    count, reason = _cuda.device_report()
    if count == 0:
        return 0, f"no usable CUDA device ({reason}); check the GPU driver with nvidia-smi"
    return count, ""


@functools.lru_cache(maxsize=1)
def _cupy_problem() -> str | None:
    try:
        import cupy  # noqa: F401
    except ImportError:
        return ("CUDA tensors hold CuPy arrays and CuPy is not installed: "
                "pip install 'axonic[cuda]' (or the cupy-cudaXXx wheel for your CUDA version)")
    except Exception as error:  # a broken CuPy install raises all sorts of errors
        return f"CuPy failed to import ({type(error).__name__}: {error})"
    return None


def device_count() -> int:
    """CUDA devices the driver reports (0 without a driver or GPU)."""
    return _device_report()[0]


def why_unavailable() -> str | None:
    """Why CUDA tensors cannot be used here, or None when they can."""
    count, reason = _device_report()
    if count == 0:
        return reason
    return _cupy_problem()


def is_available() -> bool:
    """True when tensors and modules can run on 'cuda'."""
    return why_unavailable() is None


def synchronize() -> None:
    """Waits until the GPU has finished all queued work; a no-op without a usable GPU."""
    if is_available():
        import cupy

        cupy.cuda.Device().synchronize()


def get_device_name(index: int = 0) -> str:
    """The GPU's name, e.g. 'NVIDIA H200'; RuntimeError when there is no such device."""
    reason = why_unavailable()
    if reason is not None:
        raise RuntimeError(f"CUDA is not available: {reason}")
    from . import _cuda

    return _cuda.device_name(index)
