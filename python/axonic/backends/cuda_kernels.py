"""The CUDA backend: axonic._cuda's kernels on CuPy arrays, with CuPy for glue.

Every kernel launches on CuPy's current stream (``stream=`` is filled in here), so
CuPy's memory pool, which orders reuse on that stream, never hands a kernel's buffer
to someone else while the kernel still reads it. Signatures are the CPU backend's
(``spec.py``). Import it through ``get_backend("cuda")``, which first checks that a
GPU, its driver and CuPy are there.
"""

from __future__ import annotations

import functools

import cupy

from axonic import _cuda

from . import cuda as settings
from .spec import KERNELS

name = "cuda"
device = "cuda"
xp = cupy


def _current_stream() -> int:
    return cupy.cuda.get_current_stream().ptr


def _on_current_stream(kernel):
    @functools.wraps(kernel)
    def launch(*args, **kwargs):
        return kernel(*args, stream=_current_stream(), **kwargs)

    return launch


globals().update({k: _on_current_stream(getattr(_cuda, k)) for k in KERNELS if k != "gemm"})


def gemm(a, b, out, trans_a=False, trans_b=False, alpha=1.0, beta=0.0) -> None:
    """The CPU backend's gemm on the GPU; TF32 when ``backends.cuda.matmul.allow_tf32``."""
    _cuda.gemm(a, b, out, trans_a, trans_b, alpha, beta,
               allow_tf32=settings.matmul.allow_tf32, stream=_current_stream())
