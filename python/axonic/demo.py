"""``axonic demo``: trains an MLP on scikit-learn's bundled 8x8 digits (no download)."""

from __future__ import annotations

import sys
import time

import numpy as np

from . import nn, optim
from .grad_mode import no_grad
from .random import generator, manual_seed
from .tensor import Tensor


def load_digits_split(test_fraction: float = 0.25, seed: int = 0):
    """Standardized digits features (N, 64) float32 and int64 labels, split into train/test."""
    try:
        from sklearn.datasets import load_digits
    except ImportError as err:
        raise SystemExit(
            "the demo trains on scikit-learn's bundled digits data; install it with\n"
            '    pip install "axonic[datasets]"   (or: pip install scikit-learn)'
        ) from err
    data = load_digits()
    x = data.data.astype(np.float32)
    y = data.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(x))
    n_test = int(len(x) * test_fraction)
    test, train = order[:n_test], order[n_test:]
    mean, std = x[train].mean(axis=0), x[train].std(axis=0) + 1e-6
    standardize = lambda a: ((a - mean) / std).astype(np.float32)  # noqa: E731
    return standardize(x[train]), y[train], standardize(x[test]), y[test]


def build_mlp(inputs: int = 64, hidden: int = 128, classes: int = 10) -> nn.Module:
    return nn.Sequential(
        nn.Linear(inputs, hidden), nn.ReLU(),
        nn.Linear(hidden, hidden // 2), nn.ReLU(),
        nn.Linear(hidden // 2, classes),
    )


def accuracy(model: nn.Module, x: np.ndarray, y: np.ndarray) -> float:
    model.eval()
    with no_grad():
        predicted = model(Tensor(x)).numpy().argmax(axis=1)
    model.train()
    return float((predicted == y).mean())


def _progress(done: int, total: int, width: int = 24) -> str:
    filled = width * done // total
    return "[" + "#" * filled + "." * (width - filled) + f"] {done}/{total}"


def run(epochs: int = 20, hidden: int = 128, lr: float = 0.05, batch_size: int = 64,
        seed: int = 0, out=sys.stdout) -> float:
    """Trains and reports per epoch; returns the final test accuracy."""
    manual_seed(seed)
    x_train, y_train, x_test, y_test = load_digits_split(seed=seed)
    model = build_mlp(x_train.shape[1], hidden, 10)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    batches = (len(x_train) + batch_size - 1) // batch_size
    live = getattr(out, "isatty", lambda: False)()
    print(f"axonic demo: MLP {x_train.shape[1]}-{hidden}-{hidden // 2}-10 on the 8x8 digits "
          f"({len(x_train)} train / {len(x_test)} test), SGD lr={lr} momentum=0.9", file=out)
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        order = generator().permutation(len(x_train))
        total_loss = 0.0
        for b in range(batches):
            rows = order[b * batch_size:(b + 1) * batch_size]
            loss = loss_fn(model(Tensor(x_train[rows])), Tensor(y_train[rows]))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total_loss += loss.item() * len(rows)
            if live:
                print(f"\repoch {epoch:3d}/{epochs} {_progress(b + 1, batches)}", end="", file=out)
        line = (f"epoch {epoch:3d}/{epochs}  loss {total_loss / len(x_train):.4f}  "
                f"train acc {accuracy(model, x_train, y_train):.3f}  "
                f"test acc {accuracy(model, x_test, y_test):.3f}")
        print(("\r" if live else "") + line.ljust(60), file=out)
    final = accuracy(model, x_test, y_test)
    print(f"done in {time.perf_counter() - start:.2f} s: test accuracy {final:.2%}", file=out)
    return final
