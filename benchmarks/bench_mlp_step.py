"""Training steps, axonic vs PyTorch CPU on the same shapes:
- "mlp step": forward, cross-entropy, backward, SGD momentum; 784-256-128-10, batch 128,
  ReLU;
- a recurrent-style forward and backward through one Linear(512, 512) reused by 16
  steps, whose weight gradient sums 16 terms (checked against NumPy first).

Run with ``pytest benchmarks --benchmark-only``; the two rows of each group are the
side-by-side comparison. The PyTorch rows are skipped when torch is absent.
"""

import numpy as np
import pytest

import axonic
from axonic import nn, optim
from axonic.bench.train_step import make_step

BATCH, SIZES = 128, (784, 256, 128, 10)


@pytest.fixture
def batch():
    rng = np.random.default_rng(0)
    return (rng.standard_normal((BATCH, SIZES[0]), dtype=np.float32),
            rng.integers(0, SIZES[-1], BATCH))


def _layers(linear, relu):
    layers = []
    for i, (fan_in, fan_out) in enumerate(zip(SIZES[:-1], SIZES[1:])):
        layers.append(linear(fan_in, fan_out))
        if i < len(SIZES) - 2:
            layers.append(relu())
    return layers


def test_axonic_mlp_step(benchmark, batch):
    axonic.manual_seed(0)
    model = nn.Sequential(*_layers(nn.Linear, nn.ReLU))
    optimizer = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    step = make_step(model, optimizer, loss_fn, axonic.tensor(batch[0]),
                       axonic.tensor(batch[1]))

    first = step()
    assert np.isfinite(first)
    benchmark.group = "mlp step"
    benchmark(step)


def test_torch_mlp_step(benchmark, batch):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    model = torch.nn.Sequential(*_layers(torch.nn.Linear, torch.nn.ReLU))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()
    step = make_step(model, optimizer, loss_fn, torch.from_numpy(batch[0]),
                       torch.from_numpy(batch[1]))

    benchmark.group = "mlp step"
    benchmark(step)


# ----- one layer reused by many steps ------------------------------------------------------
# A recurrent-style step: h = tanh(layer(h)) STEPS times with one Linear(WIDTH, WIDTH),
# then backward. The weight gets STEPS gradient terms in one pass; axonic adds each term
# inside the GEMM that makes it (beta = 1) instead of summing separate products.
STEPS, WIDTH, ROWS = 16, 512, 32


def _unrolled_step(layer, x, tanh):
    def step():
        for p in layer.parameters():
            p.grad = None
        h = x
        for _ in range(STEPS):
            h = tanh(layer(h))
        h.sum().backward()
        return layer.weight.grad
    return step


def _weight_gradient_numpy(weight, bias, x):
    """d sum(h_STEPS) / d weight for h_{t+1} = tanh(h_t @ weight.T + bias), in float64."""
    weight, bias, hs = weight.astype(np.float64), bias.astype(np.float64), [x.astype(np.float64)]
    for _ in range(STEPS):
        hs.append(np.tanh(hs[-1] @ weight.T + bias))
    grad_h, grad_weight = np.ones_like(hs[-1]), np.zeros_like(weight)
    for t in range(STEPS, 0, -1):
        grad_z = grad_h * (1.0 - hs[t] ** 2)
        grad_weight += grad_z.T @ hs[t - 1]
        grad_h = grad_z @ weight
    return grad_weight


def test_axonic_shared_layer_step(benchmark):
    layer, x = nn.Linear(WIDTH, WIDTH), np.random.default_rng(1).random((ROWS, WIDTH), np.float32)
    got = _unrolled_step(layer, axonic.tensor(x), lambda t: t.tanh())().numpy()
    expected = _weight_gradient_numpy(layer.weight.numpy(), layer.bias.numpy(), x)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
    benchmark.group = f"Linear({WIDTH}, {WIDTH}) reused by {STEPS} steps, batch {ROWS}"
    benchmark(_unrolled_step(layer, axonic.tensor(x), lambda t: t.tanh()))


def test_torch_shared_layer_step(benchmark):
    torch = pytest.importorskip("torch")
    layer = torch.nn.Linear(WIDTH, WIDTH)
    x = torch.from_numpy(np.random.default_rng(1).random((ROWS, WIDTH), np.float32))
    benchmark.group = f"Linear({WIDTH}, {WIDTH}) reused by {STEPS} steps, batch {ROWS}"
    benchmark(_unrolled_step(layer, x, torch.tanh))
