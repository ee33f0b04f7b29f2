"""conv2d regression benchmarks: axonic vs torch.nn.functional.conv2d, forward+backward.

The shapes are those of ``axonic bench conv`` (axonic.bench.DEFAULT_CONV_SHAPES),
grouped by shape, so each pytest-benchmark table compares the two libraries on one
shape. axonic's forward is checked against torch (or the reference kernels when torch
is missing) before it is timed. Run with ``pytest benchmarks --benchmark-only``; the
torch rows are skipped without PyTorch. Under ``--benchmark-disable`` each test runs
once, untimed, and shapes above 0.2 GFLOP forward are skipped so the check stays quick.
"""

import pytest

from axonic.bench import DEFAULT_CONV_SHAPES, ConvShape, thread_count
from axonic.bench.conv import axonic_calls, check_forward, conv_operands, torch_calls
from axonic.bench.core import optional_torch

LARGEST_UNTIMED_FLOPS = 0.2e9


def _shape_id(shape: ConvShape) -> str:
    return shape.label.replace("->", "-").replace(" ", "-")


@pytest.fixture(params=DEFAULT_CONV_SHAPES, ids=_shape_id)
def shape(request) -> ConvShape:
    shape = request.param
    if request.config.getoption("benchmark_disable") and shape.flops > LARGEST_UNTIMED_FLOPS:
        pytest.skip("large shape: only run when benchmarks are timed")
    return shape


def _check_and_time(benchmark, shape: ConvShape, name: str, torch=None) -> None:
    x, weight, bias, grad = conv_operands(shape)
    with thread_count(None, torch=torch):
        check_forward(shape, optional_torch(), x, weight, bias)
        if name == "axonic":
            step = axonic_calls(shape, x, weight, bias, grad)["axonic fwd+bwd"]
        else:
            step = torch_calls(shape, torch, x, weight, bias, grad)["torch fwd+bwd"]
        benchmark.group = f"conv2d fwd+bwd {shape.label}"
        benchmark(step)
    if benchmark.stats is not None:  # None under --benchmark-disable
        benchmark.extra_info["gflops"] = 3 * shape.flops / benchmark.stats.stats.median / 1e9


def test_axonic_conv2d_forward_backward(benchmark, shape):
    _check_and_time(benchmark, shape, "axonic")


def test_torch_conv2d_forward_backward(benchmark, shape):
    torch = pytest.importorskip("torch")
    _check_and_time(benchmark, shape, "torch", torch)
