"""Per-call cost of small operations through the Tensor layer, axonic vs PyTorch CPU.

A 32x32 product takes the GEMM kernel about a microsecond, so at this size the time is
the Python layer around it: argument checks, autograd bookkeeping, allocation. Each
group compares the two libraries on one call: a matmul, a Linear layer's forward under
no_grad, and a batch-1 Linear(784, 256) forward and backward (the weight gradient is an
outer product, K = 1). Run with ``pytest benchmarks --benchmark-only``; the torch rows
are skipped when torch is absent.
"""

import numpy as np
import pytest

import axonic

SIDE = 32


def _matrix(rows, cols, seed=0):
    return np.random.default_rng(seed).standard_normal((rows, cols), dtype=np.float32)


def test_axonic_matmul_32(benchmark):
    a, b = axonic.tensor(_matrix(SIDE, SIDE)), axonic.tensor(_matrix(SIDE, SIDE, 1))
    np.testing.assert_allclose(axonic.matmul(a, b).numpy(), a.numpy() @ b.numpy(), rtol=1e-5,
                               atol=1e-5)
    benchmark.group = "matmul 32^3 call"
    benchmark(axonic.matmul, a, b)


def test_torch_matmul_32(benchmark):
    torch = pytest.importorskip("torch")
    a, b = torch.from_numpy(_matrix(SIDE, SIDE)), torch.from_numpy(_matrix(SIDE, SIDE, 1))
    benchmark.group = "matmul 32^3 call"
    benchmark(torch.matmul, a, b)


def test_axonic_linear_forward_32(benchmark):
    layer = axonic.nn.Linear(SIDE, SIDE)
    x = axonic.tensor(_matrix(SIDE, SIDE))
    expected = x.numpy() @ layer.weight.numpy().T + layer.bias.numpy()
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-5, atol=1e-5)
    benchmark.group = "Linear(32, 32) forward, batch 32, no_grad"
    with axonic.no_grad():  # entered once: the timed call is the layer alone
        benchmark(layer, x)


def test_torch_linear_forward_32(benchmark):
    torch = pytest.importorskip("torch")
    layer, x = torch.nn.Linear(SIDE, SIDE), torch.from_numpy(_matrix(SIDE, SIDE))
    benchmark.group = "Linear(32, 32) forward, batch 32, no_grad"
    with torch.no_grad():
        benchmark(layer, x)


def _forward_backward(layer, x):
    def run():
        layer(x).sum().backward()
    return run


def test_axonic_linear_step_batch1(benchmark):
    layer = axonic.nn.Linear(784, 256)
    x = axonic.tensor(_matrix(1, 784))
    _forward_backward(layer, x)()
    np.testing.assert_allclose(layer.weight.grad.numpy(), np.ones((256, 1)) @ x.numpy(),
                               rtol=1e-6)
    benchmark.group = "Linear(784, 256) forward + backward, batch 1"
    benchmark(_forward_backward(layer, x))


def test_torch_linear_step_batch1(benchmark):
    torch = pytest.importorskip("torch")
    layer, x = torch.nn.Linear(784, 256), torch.from_numpy(_matrix(1, 784))
    benchmark.group = "Linear(784, 256) forward + backward, batch 1"
    benchmark(_forward_backward(layer, x))
