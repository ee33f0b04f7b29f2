"""A small CNN on scikit-learn's bundled 8x8 digits, with data augmentation.

Two conv-BN-ReLU-pool stages and a linear classifier on the digits as (N, 1, 8, 8)
images; each training batch is randomly shifted by up to one pixel and rotated by up to
10 degrees (``DataLoader(transform=...)``), and ``axonic.train.Trainer`` runs the loop.

    python examples/digits_cnn.py [--epochs 30] [--plot curves.png]

Prints one line per epoch and the test accuracy (about 98-99%). Needs scikit-learn for
the data (pip install "axonic[datasets]"); --plot needs matplotlib.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import axonic
from axonic import nn, optim
from axonic.data import (
    Compose,
    DataLoader,
    RandomAffine,
    RandomShift,
    TensorDataset,
    load_digits,
    train_val_test_split,
)
from axonic.train import Trainer


def build_model() -> nn.Module:
    """(N, 1, 8, 8) -> (N, 10): 8x8 -> 4x4 -> 2x2 feature maps, then a linear layer."""
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.25), nn.Linear(64 * 2 * 2, 10),
    )


def main(argv: list[str] | None = None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", metavar="FILE", help="save the training curves as a PNG")
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error(f"--epochs: expected a positive integer, got {args.epochs}")

    axonic.manual_seed(args.seed)
    x, y = load_digits()
    x = (x / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)  # intensities 0..16 -> [0, 1]
    x_train, x_val, x_test, y_train, y_val, y_test = train_val_test_split(
        x, y, val_size=0.1, test_size=0.2, seed=args.seed, stratify=y)

    augment = Compose([RandomShift(1), RandomAffine(degrees=10)])
    train_loader = DataLoader(TensorDataset(x_train, y_train), batch_size=args.batch_size,
                              shuffle=True, seed=args.seed, transform=augment)
    model = build_model()
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    trainer = Trainer(model, nn.CrossEntropyLoss(), optimizer, metrics=["accuracy"],
                      scheduler=scheduler)
    start = time.perf_counter()
    history = trainer.fit(train_loader, epochs=args.epochs, val_data=(x_val, y_val),
                          verbose=2)
    seconds = time.perf_counter() - start
    accuracy = trainer.evaluate((x_test, y_test))["accuracy"]
    print(f"trained {args.epochs} epochs in {seconds:.1f} s")
    print(f"test accuracy: {accuracy:.2%} ({len(y_test)} images)")
    if args.plot:
        print(f"wrote {history.plot(args.plot)}")
    return accuracy


if __name__ == "__main__":
    main()
