"""GEMM regression benchmarks: axonic vs numpy.matmul vs torch.matmul on float32.

The shapes are those of ``axonic bench gemm`` (axonic.bench.DEFAULT_GEMM_SHAPES),
grouped by shape, so each pytest-benchmark table compares the libraries on one shape.
Every result is checked against a float64 product before it is timed. Run with
``pytest benchmarks --benchmark-only``; the torch rows are skipped without PyTorch.
Under ``--benchmark-disable`` each test runs once, untimed, and shapes above 512^3 are
skipped so the check stays quick.
"""

import pytest

from axonic.bench import DEFAULT_GEMM_SHAPES, GemmShape, thread_count
from axonic.bench.gemm import GemmReference, cpu_peers, gemm_operands

LARGEST_UNTIMED_FLOPS = 2.0 * 512**3


def _shape_id(shape: GemmShape) -> str:
    return shape.label.replace(" (", "-").replace(", ", "-").rstrip(")")


@pytest.fixture(params=DEFAULT_GEMM_SHAPES, ids=_shape_id)
def shape(request) -> GemmShape:
    shape = request.param
    if request.config.getoption("benchmark_disable") and shape.flops > LARGEST_UNTIMED_FLOPS:
        pytest.skip("large shape: only run when benchmarks are timed")
    return shape


def _check_and_time(benchmark, shape: GemmShape, name: str, torch=None) -> None:
    a, b = gemm_operands(shape)
    peer = cpu_peers(shape, a, b, torch)[name]
    with thread_count(None, torch=torch):
        peer.run()
        GemmReference(shape, a, b).check(name, peer.result())
        benchmark.group = f"gemm {shape.label}"
        benchmark(peer.run)
    if benchmark.stats is not None:  # None under --benchmark-disable
        benchmark.extra_info["gflops"] = shape.flops / benchmark.stats.stats.median / 1e9


def test_axonic_gemm(benchmark, shape):
    _check_and_time(benchmark, shape, "axonic")


def test_numpy_matmul(benchmark, shape):
    _check_and_time(benchmark, shape, "numpy")


def test_torch_matmul(benchmark, shape):
    torch = pytest.importorskip("torch")
    _check_and_time(benchmark, shape, "torch", torch)
