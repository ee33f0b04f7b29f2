"""Ready-made network architectures: ``axonic.models``.

``lenet5`` (LeNet-5 for 28x28 or 32x32 images), ``vgg`` (VGG-11/16 or a custom
configuration, channel counts scaled by ``width``) and ``resnet18`` / ``ResNet`` built
from ``BasicBlock``. Every model maps images (N, C, H, W) to logits (N, num_classes).
"""

from .lenet import lenet5
from .resnet import BasicBlock, ResNet, resnet18
from .vgg import VGG_CONFIGS, vgg

__all__ = ["lenet5", "vgg", "VGG_CONFIGS", "BasicBlock", "ResNet", "resnet18"]
