"""VGG (Simonyan and Zisserman, 2014): stacks of 3x3 convolutions and 2x2 max pools."""

from __future__ import annotations

from collections.abc import Sequence

from .. import nn
from ._checks import positive_int, positive_number

# Output channels of each 3x3 convolution; "M" is a 2x2 max pool.
VGG_CONFIGS: dict[str, list] = {
    "vgg11": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M",
              512, 512, 512, "M"],
}


def _scaled(channels: int, width: float) -> int:
    return max(1, int(round(channels * width)))


def vgg(config: str | Sequence = "vgg11", num_classes: int = 10, in_channels: int = 3,
        width: float = 1.0, batch_norm: bool = True, input_size: int = 32) -> nn.Sequential:
    """A VGG network for (N, in_channels, input_size, input_size) -> (N, num_classes).

    ``config``: "vgg11", "vgg16" or a list of channel counts and "M" (2x2 max pool).
    Each count is scaled by ``width`` (at least 1 channel), so ``width=0.125`` gives a
    small network. Each convolution is 3x3, padding 1 (with bias, as torchvision), then
    BatchNorm2d when ``batch_norm``, then ReLU. The classifier is sized for the input:
    flatten (C * s * s with s = input_size / 2**pools) - Linear(hidden) - ReLU - Dropout
    - Linear(hidden) - ReLU - Dropout - Linear(num_classes), with hidden = 512 * width.
    """
    who = "vgg"
    if isinstance(config, str):
        if config not in VGG_CONFIGS:
            raise ValueError(f"{who}: unknown config {config!r}; expected one of "
                             f"{sorted(VGG_CONFIGS)} or a list of channel counts and 'M'")
        layout = VGG_CONFIGS[config]
    else:
        layout = list(config)
        if not layout or not all(v == "M" or (isinstance(v, int) and not isinstance(v, bool)
                                              and v > 0) for v in layout):
            raise ValueError(f"{who}: a config list must be non-empty, of positive channel "
                             f"counts and 'M', got {config!r}")
    num_classes = positive_int(who, "num_classes", num_classes)
    in_channels = positive_int(who, "in_channels", in_channels)
    input_size = positive_int(who, "input_size", input_size)
    width = positive_number(who, "width", width)
    pools = layout.count("M")
    size = input_size // 2 ** pools
    if size < 1:
        raise ValueError(f"{who}: input_size {input_size} is too small for {pools} 2x2 "
                         f"max pools (at least {2 ** pools} needed)")

    layers: list[nn.Module] = []
    channels = in_channels
    for item in layout:
        if item == "M":
            layers.append(nn.MaxPool2d(2))
            continue
        out = _scaled(item, width)
        layers.append(nn.Conv2d(channels, out, 3, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(out))
        layers.append(nn.ReLU())
        channels = out
    hidden = _scaled(512, width)
    return nn.Sequential(
        *layers, nn.Flatten(),
        nn.Linear(channels * size * size, hidden), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(hidden, num_classes),
    )
