"""ResNet (He et al., 2015) with basic blocks: ``BasicBlock``, ``ResNet``, ``resnet18``."""

from __future__ import annotations

from collections.abc import Sequence

from .. import nn
from ..nn import functional as F
from ..tensor import Tensor
from ._checks import positive_int


class BasicBlock(nn.Module):
    """Two 3x3 conv-BN layers with a skip connection: relu(bn2(conv2(relu(bn1(conv1(x)))))
    + shortcut(x)). (N, in_planes, H, W) -> (N, planes, H / stride, W / stride).

    The shortcut is the identity when shapes match; when ``stride != 1`` or
    ``in_planes != planes`` it is a projection: 1x1 convolution with ``stride`` (no
    bias) then BatchNorm2d. ``shortcut`` is None for the identity.
    """

    expansion = 1

    def __init__(self, in_planes: int, planes: int, stride: int = 1):
        super().__init__()
        in_planes = positive_int("BasicBlock", "in_planes", in_planes)
        planes = positive_int("BasicBlock", "planes", planes)
        stride = positive_int("BasicBlock", "stride", stride)
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, planes, 1, stride=stride, bias=False),
                nn.BatchNorm2d(planes))
        else:
            self.shortcut = None

    def forward(self, x: Tensor) -> Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        skip = x if self.shortcut is None else self.shortcut(x)
        return F.relu(out + skip)


class ResNet(nn.Module):
    """A ResNet of ``block``s: stem, four stages of ``layers[i]`` blocks with
    ``width * 2**i`` planes (stride 1 for the first stage, 2 after), global average
    pooling and a linear classifier. (N, in_channels, H, W) -> (N, num_classes).

    ``small_input`` (CIFAR-sized images): a 3x3 stride-1 stem without max pool; otherwise
    the ImageNet stem, 7x7 stride-2 convolution and 3x3 stride-2 max pool.
    """

    def __init__(self, block: type = BasicBlock, layers: Sequence[int] = (2, 2, 2, 2),
                 num_classes: int = 10, in_channels: int = 3, width: int = 64,
                 small_input: bool = True):
        super().__init__()
        who = "ResNet"
        layers = list(layers)
        if len(layers) != 4 or not all(isinstance(n, int) and not isinstance(n, bool) and n > 0
                                       for n in layers):
            raise ValueError(f"{who}: layers must be 4 positive block counts, got {layers!r}")
        num_classes = positive_int(who, "num_classes", num_classes)
        in_channels = positive_int(who, "in_channels", in_channels)
        width = positive_int(who, "width", width)
        self.small_input = bool(small_input)
        if self.small_input:
            self.stem = nn.Sequential(
                nn.Conv2d(in_channels, width, 3, stride=1, padding=1, bias=False),
                nn.BatchNorm2d(width), nn.ReLU())
        else:
            self.stem = nn.Sequential(
                nn.Conv2d(in_channels, width, 7, stride=2, padding=3, bias=False),
                nn.BatchNorm2d(width), nn.ReLU(), nn.MaxPool2d(3, stride=2, padding=1))
        expansion = getattr(block, "expansion", 1)
        in_planes = width
        for index, count in enumerate(layers):
            planes = width * 2 ** index
            stride = 1 if index == 0 else 2
            blocks = []
            for b in range(count):
                blocks.append(block(in_planes, planes, stride if b == 0 else 1))
                in_planes = planes * expansion
            setattr(self, f"layer{index + 1}", nn.Sequential(*blocks))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(in_planes, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = self.stem(x)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(self.flatten(self.pool(x)))


def resnet18(num_classes: int = 10, in_channels: int = 3, width: int = 64,
             small_input: bool = True) -> ResNet:
    """ResNet-18: ``ResNet(BasicBlock, [2, 2, 2, 2], ...)``. At width 64 with 10 classes
    it has 11,173,962 parameters with the small-input stem, 11,181,642 with the
    ImageNet one (torchvision's resnet18 with a 10-way fc)."""
    return ResNet(BasicBlock, (2, 2, 2, 2), num_classes=num_classes,
                  in_channels=in_channels, width=width, small_input=small_input)
