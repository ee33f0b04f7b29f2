"""A narrow ResNet-18 on CIFAR-10-shaped images (N, 3, 32, 32), reporting throughput.

With ``--data PATH`` it trains on the real CIFAR-10 binary batches in PATH
(``axonic.data.CIFAR10``: data_batch_1.bin ... test_batch.bin); without it on a seeded
synthetic set of 10 classes, each a smooth colour pattern of its own under noise and a
random shift, so accuracy climbs well above chance (10%) in an epoch or two.

    python examples/resnet_cifar_like.py [--epochs 2] [--width 8] [--batch-size 64]
    python examples/resnet_cifar_like.py --data ~/cifar-10-batches-bin --epochs 10 --width 16

Prints the loss, accuracy and training images/second per epoch, then the test accuracy.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import axonic
from axonic import models, nn, optim
from axonic.data import (
    CIFAR10,
    Compose,
    DataLoader,
    RandomCrop,
    RandomHorizontalFlip,
    TensorDataset,
)

NUM_CLASSES = 10


def synthetic_cifar(n_train: int, n_test: int, seed: int) -> tuple[np.ndarray, ...]:
    """Images (N, 3, 32, 32) float32 and labels (N,) int64: a fixed 4x4 colour pattern per
    class, upsampled to 32x32, shifted by up to 4 pixels, plus Gaussian noise."""
    rng = np.random.default_rng(seed)
    patterns = np.kron(rng.standard_normal((NUM_CLASSES, 3, 4, 4)), np.ones((1, 1, 8, 8)))

    def draw(n: int) -> tuple[np.ndarray, np.ndarray]:
        labels = rng.integers(0, NUM_CLASSES, size=n)
        images = np.empty((n, 3, 32, 32), dtype=np.float32)
        shifts = rng.integers(-4, 5, size=(n, 2))
        for i, (label, (dy, dx)) in enumerate(zip(labels, shifts)):
            images[i] = np.roll(patterns[label], (dy, dx), axis=(1, 2))
        images += rng.standard_normal(images.shape).astype(np.float32) * 1.5
        return images, labels.astype(np.int64)

    return (*draw(n_train), *draw(n_test))


def load(args: argparse.Namespace) -> tuple[np.ndarray, ...]:
    if args.data is None:
        return synthetic_cifar(args.train_size, args.test_size, args.seed)
    train, test = CIFAR10(args.data, train=True), CIFAR10(args.data, train=False)
    mean = train.images.mean(axis=(0, 2, 3), keepdims=True)
    std = train.images.std(axis=(0, 2, 3), keepdims=True)
    return ((train.images - mean) / std, train.labels, (test.images - mean) / std,
            test.labels)


def accuracy(model: nn.Module, images: np.ndarray, labels: np.ndarray,
             batch_size: int) -> float:
    model.eval()
    correct = 0
    with axonic.no_grad():
        for start in range(0, len(labels), batch_size):
            logits = model(axonic.tensor(images[start:start + batch_size]))
            correct += int((logits.numpy().argmax(axis=1)
                            == labels[start:start + batch_size]).sum())
    return correct / len(labels)


def main(argv: list[str] | None = None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", metavar="PATH", help="folder with the CIFAR-10 .bin batches")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--width", type=int, default=8, help="stem channels (64 = ResNet-18)")
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--train-size", type=int, default=1024, help="synthetic set only")
    parser.add_argument("--test-size", type=int, default=512, help="synthetic set only")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    for name in ("epochs", "batch_size", "width", "train_size", "test_size"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')}: expected a positive integer, got "
                         f"{getattr(args, name)}")

    axonic.manual_seed(args.seed)
    x_train, y_train, x_test, y_test = load(args)
    source = f"CIFAR-10 from {args.data}" if args.data else "synthetic CIFAR-like data"
    print(f"{source}: {len(y_train)} training and {len(y_test)} test images")
    # The usual CIFAR augmentation for the real images; the synthetic ones are shifted already.
    transform = Compose([RandomCrop(32, padding=4), RandomHorizontalFlip()]) if args.data else None
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=args.batch_size,
                        shuffle=True, seed=args.seed, transform=transform)
    model = models.resnet18(num_classes=NUM_CLASSES, in_channels=3, width=args.width)
    print(f"resnet18 width {args.width}: {model.num_parameters():,} parameters")
    optimizer = optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, weight_decay=5e-4)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    loss_fn = nn.CrossEntropyLoss()

    total_images, total_seconds = 0, 0.0
    for epoch in range(1, args.epochs + 1):
        model.train()
        loss_sum, correct, seen = 0.0, 0, 0
        start = time.perf_counter()
        for x, y in loader:
            logits = model(axonic.tensor(x))
            loss = loss_fn(logits, axonic.tensor(y))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            labels = np.asarray(y)
            loss_sum += loss.item() * len(labels)
            correct += int((logits.numpy().argmax(axis=1) == labels).sum())
            seen += len(labels)
        seconds = time.perf_counter() - start
        scheduler.step()
        total_images, total_seconds = total_images + seen, total_seconds + seconds
        print(f"epoch {epoch:3d}/{args.epochs}  loss {loss_sum / seen:.4f}  "
              f"train accuracy {correct / seen:.2%}  {seen / seconds:.1f} images/s")
    test_accuracy = accuracy(model, x_test, y_test, 256)
    print(f"training throughput: {total_images / total_seconds:.1f} images/s "
          f"({total_images} images in {total_seconds:.1f} s)")
    print(f"test accuracy: {test_accuracy:.2%}")
    return test_accuracy


if __name__ == "__main__":
    main()
