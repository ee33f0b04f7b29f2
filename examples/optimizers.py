"""Every optimizer on one problem, and batch vs stochastic vs mini-batch gradient descent.

Part 1 trains the same small network (2-32-32-2, tanh) from the same initial weights
on a two-moons classification set with each optimizer in axonic.optim, and prints
the final loss and accuracy of each. Part 2 trains it with plain SGD three ways that
differ only in the DataLoader's batch size: the whole set per update (batch gradient
descent), one sample per update (stochastic gradient descent) and 32 per update
(mini-batch), and prints how many updates each made and where its loss ended.

    python examples/optimizers.py                 # tables
    python examples/optimizers.py --plot curves.png   # also draw the loss curves

--plot needs matplotlib (pip install "axonic[plot]").
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import axonic
from axonic import nn, optim
from axonic.data import DataLoader, TensorDataset

# Each optimizer with a learning rate that suits it on this problem.
OPTIMIZERS = {
    "SGD": lambda p: optim.SGD(p, lr=0.1),
    "SGD momentum": lambda p: optim.SGD(p, lr=0.05, momentum=0.9),
    "SGD Nesterov": lambda p: optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
    "Adagrad": lambda p: optim.Adagrad(p, lr=0.05),
    "RMSprop": lambda p: optim.RMSprop(p, lr=0.003),
    "Adadelta": lambda p: optim.Adadelta(p, lr=1.0),
    "Adam": lambda p: optim.Adam(p, lr=0.005),
    "AdamW": lambda p: optim.AdamW(p, lr=0.005, weight_decay=0.01),
    "Adamax": lambda p: optim.Adamax(p, lr=0.01),
    "NAdam": lambda p: optim.NAdam(p, lr=0.005),
}


def two_moons(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """n points on two interleaved half circles with noise; labels 0 and 1."""
    rng = np.random.default_rng(seed)
    angle = rng.uniform(0, np.pi, n)
    label = rng.integers(0, 2, n)
    x = np.where(label[:, None] == 0,
                 np.stack([np.cos(angle), np.sin(angle)], 1),
                 np.stack([1 - np.cos(angle), 0.5 - np.sin(angle)], 1))
    x += 0.15 * rng.standard_normal((n, 2))
    return x.astype(np.float32), label.astype(np.int64)


def make_model(seed: int) -> nn.Module:
    axonic.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(),
                         nn.Linear(32, 2))


def evaluate(model: nn.Module, x: axonic.Tensor, y: axonic.Tensor) -> tuple[float, float]:
    """Loss and accuracy on the whole set."""
    with axonic.no_grad():
        logits = model(x)
        loss = nn.functional.cross_entropy(logits, y).item()
        accuracy = float((logits.argmax(axis=1).numpy() == y.numpy()).mean())
    return loss, accuracy


def train(make_optimizer, data: TensorDataset, batch_size: int, epochs: int, seed: int) -> dict:
    """Trains a fresh model: the same initial weights and the same shuffled batches for
    every call with the same seed. Returns the loss after each epoch, the final
    accuracy, the number of updates and the time taken."""
    x, y = (axonic.tensor(t) for t in data.tensors)
    loader = DataLoader(data, batch_size=batch_size, shuffle=True, seed=seed)
    model = make_model(seed)
    optimizer = make_optimizer(model.parameters())
    loss_fn = nn.CrossEntropyLoss()
    curve, updates, start = [], 0, time.perf_counter()
    for _ in range(epochs):
        for xb, yb in loader:
            loss = loss_fn(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            updates += 1
        curve.append(evaluate(model, x, y)[0])
    loss, accuracy = evaluate(model, x, y)
    return {"curve": curve, "loss": loss, "accuracy": accuracy, "updates": updates,
            "seconds": time.perf_counter() - start}


def print_table(title: str, results: dict[str, dict]) -> None:
    print(f"\n{title}")
    print(f"{'':16s} {'final loss':>10s} {'accuracy':>9s} {'updates':>8s} {'seconds':>8s}")
    for name, r in results.items():
        print(f"{name:16s} {r['loss']:10.4f} {r['accuracy']:9.1%} {r['updates']:8d} "
              f"{r['seconds']:8.2f}")


def plot(path: str, by_optimizer: dict[str, dict], by_batch: dict[str, dict]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for ax, (title, results) in zip(axes, [("optimizers, batch 32", by_optimizer),
                                           ("SGD: batch, stochastic, mini-batch", by_batch)]):
        for name, r in results.items():
            ax.plot(range(1, len(r["curve"]) + 1), r["curve"], label=name)
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.set_ylabel("training loss")
        ax.set_yscale("log")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"\nwrote {path}")


def main(argv: list[str] | None = None) -> dict[str, dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--samples", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", metavar="FILE", default=None,
                        help="draw the loss curves into a PNG (needs matplotlib)")
    args = parser.parse_args(argv)

    features, labels = two_moons(args.samples, args.seed)
    data = TensorDataset(features, labels)
    by_optimizer = {name: train(make, data, 32, args.epochs, args.seed)
                    for name, make in OPTIMIZERS.items()}
    print_table(f"each optimizer, {args.epochs} epochs of mini-batches of 32", by_optimizer)

    sgd = OPTIMIZERS["SGD"]
    regimes = {"batch GD": len(data), "stochastic GD": 1, "mini-batch GD": 32}
    by_batch = {name: train(sgd, data, size, args.epochs, args.seed)
                for name, size in regimes.items()}
    print_table(f"SGD(lr=0.1), {args.epochs} epochs, batch size {len(data)} / 1 / 32", by_batch)
    if args.plot:
        plot(args.plot, by_optimizer, by_batch)
    return by_optimizer | by_batch


if __name__ == "__main__":
    main()
