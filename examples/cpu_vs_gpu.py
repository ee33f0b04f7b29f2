"""The same CNN trained on the CPU and on the GPU: images/second on each, and the
results side by side.

A LeNet-style network (conv-BN-ReLU-pool twice, then two linear layers) trains for a few
steps on seeded synthetic 28x28 images on every device this machine has. Each device
starts from the same weights and sees the same batches, so the losses agree to float32
rounding; the throughput column is the point.

    python examples/cpu_vs_gpu.py [--steps 30] [--batch-size 128] [--warmup 3]

Without a usable GPU it trains on the CPU alone and says why CUDA was skipped.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import axonic
from axonic import nn, optim


def build_model() -> nn.Module:
    """(N, 1, 28, 28) -> (N, 10)."""
    return nn.Sequential(
        nn.Conv2d(1, 32, 5, padding=2), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 5, padding=2), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 256), nn.ReLU(), nn.Linear(256, 10),
    )


def synthetic_batches(steps: int, batch_size: int, seed: int) -> list[tuple[np.ndarray, ...]]:
    """Images whose class is the brightest of ten horizontal bands, under noise."""
    rng = np.random.default_rng(seed)
    batches = []
    for _ in range(steps):
        labels = rng.integers(0, 10, size=batch_size)
        images = rng.standard_normal((batch_size, 1, 28, 28)).astype(np.float32) * 0.5
        for i, label in enumerate(labels):
            images[i, 0, 2 + 2 * label:4 + 2 * label] += 2.0
        batches.append((images, labels.astype(np.int64)))
    return batches


def train(device: str, state: dict, batches, warmup: int, lr: float) -> tuple[float, float]:
    """(images/second after the warm-up steps, final loss) of training on ``device``."""
    model = build_model()
    model.load_state_dict(state)
    model.to(device)
    optimizer = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    images_timed, start = 0, None
    for step, (x, y) in enumerate(batches):
        if step == warmup:  # the first steps pay for allocation and kernel loading
            axonic.cuda.synchronize()
            start = time.perf_counter()
        loss = loss_fn(model(axonic.tensor(x, device=device)), axonic.tensor(y, device=device))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if start is not None:
            images_timed += len(y)
    final_loss = loss.item()  # waits for the GPU
    axonic.cuda.synchronize()
    return images_timed / (time.perf_counter() - start), final_loss


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--lr", type=float, default=0.02)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    for name in ("steps", "batch_size"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')}: expected a positive integer")
    if not 0 <= args.warmup < args.steps:
        parser.error(f"--warmup must be in [0, --steps), got {args.warmup}")

    axonic.manual_seed(args.seed)
    state = build_model().state_dict()
    batches = synthetic_batches(args.steps, args.batch_size, args.seed)
    devices = ["cpu"]
    if axonic.cuda.is_available():
        devices.append("cuda")
    else:
        print(f"CUDA skipped: {axonic.cuda.why_unavailable()}")

    print(f"{'device':<8}{'images/s':>12}{'final loss':>12}")
    speeds = {}
    for device in devices:
        speed, loss = train(device, state, batches, args.warmup, args.lr)
        speeds[device] = speed
        print(f"{device:<8}{speed:>12.0f}{loss:>12.4f}")
    if "cuda" in speeds:
        print(f"the GPU trains {speeds['cuda'] / speeds['cpu']:.1f}x as many images per second")
    return speeds


if __name__ == "__main__":
    main()
