"""LeNet-5 (LeCun et al., 1998) with ReLU and max pooling."""

from __future__ import annotations

from .. import nn
from ._checks import positive_int


def lenet5(num_classes: int = 10, in_channels: int = 1, input_size: int = 32) -> nn.Sequential:
    """LeNet-5 for square images (N, in_channels, input_size, input_size) -> (N, num_classes).

    conv 6@5x5 - pool 2 - conv 16@5x5 - pool 2 - fc 120 - fc 84 - fc num_classes, ReLU
    between. Images smaller than 32 (e.g. 28x28 MNIST) get the first convolution
    zero-padded by 2, as is usual, so 28x28 and 32x32 both give 16x5x5 features and the
    classic 61,706 parameters (1 channel, 10 classes). Other sizes work too: the flatten
    size is computed from ``input_size``.
    """
    who = "lenet5"
    num_classes = positive_int(who, "num_classes", num_classes)
    in_channels = positive_int(who, "in_channels", in_channels)
    input_size = positive_int(who, "input_size", input_size)
    padding = 2 if input_size < 32 else 0
    size = ((input_size + 2 * padding - 4) // 2 - 4) // 2
    if size < 1:
        raise ValueError(f"{who}: input_size must be at least 12, got {input_size}")
    return nn.Sequential(
        nn.Conv2d(in_channels, 6, 5, padding=padding), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * size * size, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, num_classes),
    )
