"""Shared test helpers: the ``device`` and ``cuda_kernels`` fixtures, ``assert_close``,
``gradcheck`` and ``run_python``.

Test files import the helpers with ``from conftest import assert_close, gradcheck``
(pytest puts this directory on sys.path). Nothing here is copied elsewhere.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

import axonic
from axonic import _cpu
from cuda_emulator import fixture as cuda_fixture
from cuda_emulator.build import EmulatorBuildError, EmulatorUnavailable


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    """``python -c code`` in a fresh interpreter with extra environment variables (for
    settings read at import)."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, env={**os.environ, **env})


# Sizes that straddle vector widths and tile edges.
AWKWARD_SIZES = (1, 7, 33, 127, 257)

_TOLERANCES = {np.dtype(np.float32): (1e-4, 1e-5), np.dtype(np.float64): (1e-10, 1e-12)}


def _cuda_usable() -> bool:
    try:
        return axonic.cuda.is_available()
    except Exception:
        return False


@pytest.fixture(
    params=["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not _cuda_usable(),
                                                                  reason="no usable CUDA device"))]
)
def device(request) -> str:
    """Every device this machine can run: 'cpu' always, 'cuda' when usable."""
    return request.param


@pytest.fixture(params=_cpu.supported_simd_levels())
def simd_level(request) -> str:
    """Forces each SIMD level this CPU supports in turn, restoring the original afterwards."""
    original = _cpu.simd_level()
    _cpu.set_simd_level(request.param)
    yield request.param
    _cpu.set_simd_level(original)


@pytest.fixture(scope="session", params=["emulated", "gpu"])
def cuda_kernels(request) -> cuda_fixture.CudaKernels:
    """axonic's CUDA kernels, run two ways: "emulated" (compiled for the CPU emulator in
    tests/cuda_emulator, on every machine with g++) and "gpu" (axonic._cuda on CuPy
    arrays; skipped without CuPy and a usable GPU). The API (``K.backend``,
    ``K.to_device``, ``K.to_host``, ``K.empty``, ``K.emulated``) is documented in
    tests/cuda_emulator/fixture.py."""
    if request.param == "gpu":
        reason = cuda_fixture.gpu_unavailable_reason()
        if reason is not None:
            pytest.skip(reason)
        return cuda_fixture.gpu_kernels()
    try:
        return cuda_fixture.emulated_kernels(Path(__file__).resolve().parent.parent)
    except EmulatorUnavailable as error:
        pytest.skip(f"CUDA emulator unavailable: {error}")
    except EmulatorBuildError as error:
        pytest.fail(f"building the emulated CUDA module failed:\n{error}", pytrace=False)


def to_numpy(x) -> np.ndarray:
    """A Tensor, CuPy array or array-like as a NumPy array."""
    if isinstance(x, axonic.Tensor):
        return x.numpy()
    if hasattr(x, "get") and not isinstance(x, np.ndarray):  # cupy.ndarray
        return x.get()
    return np.asarray(x)


def assert_close(actual, expected, rtol: float | None = None, atol: float | None = None) -> None:
    """Shapes equal, NaNs in the same places, values within dtype-aware tolerances.

    Default tolerances follow the less precise of the two dtypes: float32
    rtol=1e-4/atol=1e-5, float64 rtol=1e-10/atol=1e-12.
    """
    a, e = to_numpy(actual), to_numpy(expected)
    assert a.shape == e.shape, f"shape {a.shape} != expected {e.shape}"
    loosest = max((np.dtype(d) for d in (a.dtype, e.dtype) if np.dtype(d) in _TOLERANCES),
                  key=lambda d: _TOLERANCES[d][0], default=np.dtype(np.float64))
    default_rtol, default_atol = _TOLERANCES[loosest]
    np.testing.assert_allclose(
        a.astype(np.float64), e.astype(np.float64),
        rtol=default_rtol if rtol is None else rtol,
        atol=default_atol if atol is None else atol,
        equal_nan=True,
    )


def gradcheck(
    fn: Callable[..., axonic.Tensor],
    *inputs: np.ndarray,
    eps: float = 1e-6,
    rtol: float = 1e-5,
    atol: float = 1e-7,
    seed: int = 0,
) -> None:
    """Checks fn's analytic gradients against central differences, in float64.

    ``fn`` maps Tensors built from ``inputs`` to one Tensor. The check
    back-propagates a random upstream gradient w and compares each input's
    gradient with d(sum(fn * w))/dx estimated by (f(x + eps) - f(x - eps)) / 2 eps.
    """
    rng = np.random.default_rng(seed)
    arrays = [np.array(x, dtype=np.float64) for x in inputs]
    tensors = [axonic.tensor(x, requires_grad=True) for x in arrays]
    out = fn(*tensors)
    weight = rng.standard_normal(out.shape)
    out.backward(axonic.tensor(weight))

    def weighted_sum(values: list[np.ndarray]) -> float:
        with axonic.no_grad():
            result = fn(*[axonic.tensor(v) for v in values])
        return float(np.sum(result.numpy() * weight))

    for index, (array, tensor) in enumerate(zip(arrays, tensors)):
        assert tensor.grad is not None, f"input {index} received no gradient"
        analytic = tensor.grad.numpy()
        numeric = np.zeros_like(array)
        for position in np.ndindex(array.shape):
            original = array[position]
            array[position] = original + eps
            plus = weighted_sum(arrays)
            array[position] = original - eps
            minus = weighted_sum(arrays)
            array[position] = original
            numeric[position] = (plus - minus) / (2 * eps)
        np.testing.assert_allclose(analytic, numeric, rtol=rtol, atol=atol,
                                   err_msg=f"gradient of input {index}")
