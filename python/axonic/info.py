"""``axonic.info()``: what this build is and what it runs on."""

from __future__ import annotations

import platform

from . import _cpu, cuda


def build_info() -> dict[str, object]:
    """Version, build type, threads, SIMD level and CUDA availability, as a dict."""
    count, reason = cuda._device_report()
    return {
        "version": _cpu.__version__,
        "build_type": _cpu.build_type,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "openmp_threads": _cpu.get_num_threads(),
        "simd_level": _cpu.simd_level(),
        "simd_levels_supported": ", ".join(_cpu.supported_simd_levels()),
        "gemm_kernel": _cpu.gemm_kernel_name(),
        "cuda_module_built": _has_cuda_module(),
        "cuda_devices": count,
        "cuda_available": cuda.is_available(),
        "cuda_note": cuda.why_unavailable() or "",
    }


def _has_cuda_module() -> bool:
    try:
        from . import _cuda  # noqa: F401
    except ImportError:
        return False
    return True


def info() -> str:
    """A readable report of the build (also printed by ``axonic info``)."""
    facts = build_info()
    width = max(len(k) for k in facts)
    return "\n".join(f"{k.ljust(width)}  {v}" for k, v in facts.items() if v != "")


def get_num_threads() -> int:
    """Threads the native kernels use."""
    return _cpu.get_num_threads()


def set_num_threads(n: int) -> None:
    """Sets the threads the native kernels use (like torch.set_num_threads)."""
    if not isinstance(n, int) or isinstance(n, bool):
        raise TypeError(f"set_num_threads expects an int, got {type(n).__name__}")
    _cpu.set_num_threads(n)
