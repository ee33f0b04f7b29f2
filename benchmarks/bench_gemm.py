"""GEMM regression benchmarks: axonic vs numpy.matmul on the same float32 arrays.

Run with ``pytest benchmarks --benchmark-only``; compare the two groups' rows
per shape (pytest-benchmark groups them by shape, so each table is one shape).
Correctness is checked before timing.
"""

import numpy as np
import pytest

from axonic import _cpu
from axonic.bench import DEFAULT_GEMM_SHAPES


@pytest.fixture(params=DEFAULT_GEMM_SHAPES, ids=lambda s: "x".join(map(str, s)))
def operands(request):
    m, k, n = request.param
    rng = np.random.default_rng(0)
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = rng.standard_normal((k, n), dtype=np.float32)
    return a, b, np.empty((m, n), np.float32)


def _gflops(benchmark, a, b):
    if benchmark.stats is None:  # --benchmark-disable: the call ran once, untimed
        return
    flops = 2.0 * a.shape[0] * a.shape[1] * b.shape[1]
    benchmark.extra_info["gflops"] = flops / benchmark.stats.stats.median / 1e9


def test_axonic_gemm(benchmark, operands):
    a, b, out = operands
    _cpu.gemm(a, b, out)
    np.testing.assert_allclose(out, a @ b, rtol=1e-3, atol=1e-3)
    benchmark.group = "gemm " + "x".join(map(str, (a.shape[0], a.shape[1], b.shape[1])))
    benchmark(_cpu.gemm, a, b, out)
    _gflops(benchmark, a, b)


def test_numpy_matmul(benchmark, operands):
    a, b, out = operands
    benchmark.group = "gemm " + "x".join(map(str, (a.shape[0], a.shape[1], b.shape[1])))
    benchmark(np.matmul, a, b, out=out)
    _gflops(benchmark, a, b)
