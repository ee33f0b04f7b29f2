"""One MLP training step (forward, cross-entropy, backward, SGD momentum), axonic vs
PyTorch CPU on the same shapes: 784-256-128-10, batch 128, ReLU.

Run with ``pytest benchmarks --benchmark-only``; the two rows of group "mlp step"
are the side-by-side comparison. The PyTorch row is skipped when torch is absent.
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
