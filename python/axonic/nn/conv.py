"""2-D convolution layer, named and parameterized as torch.nn.Conv2d."""

from __future__ import annotations

import math

import numpy as np

from ..tensor import Tensor
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter


def _pair(value, name: str) -> tuple[int, int]:
    pair = (value, value) if isinstance(value, (int, np.integer)) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) for v in pair):
        raise TypeError(f"Conv2d: {name} must be an int or a pair of ints, got {value!r}")
    return int(pair[0]), int(pair[1])


class Conv2d(Module):
    """Convolution of input (N, C_in, H, W) or (C_in, H, W) into (N, C_out, Ho, Wo).

    weight: (out_channels, in_channels / groups, kH, kW); bias: (out_channels,). Output
    size as nn.functional.conv2d. Default init as PyTorch: kaiming_uniform_(a=sqrt(5))
    for the weight, i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in =
    in_channels / groups * kH * kW, and the same bound for the bias, drawn from
    axonic's generator (manual_seed reproduces them).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, dtype=None):
        super().__init__()
        for name, n in (("in_channels", in_channels), ("out_channels", out_channels),
                        ("groups", groups)):
            if not isinstance(n, (int, np.integer)) or n <= 0:
                raise ValueError(f"Conv2d: {name} must be a positive integer, got {n!r}")
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"Conv2d: in_channels {in_channels} and out_channels "
                             f"{out_channels} must be divisible by groups {groups}")
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = _pair(kernel_size, "kernel_size")
        if min(self.kernel_size) < 1:
            raise ValueError(f"Conv2d: kernel_size must be positive, got {kernel_size!r}")
        self.stride = _pair(stride, "stride")
        self.padding = padding if isinstance(padding, str) else _pair(padding, "padding")
        self.dilation = _pair(dilation, "dilation")
        self.groups = int(groups)
        dtype = np.float32 if dtype is None else dtype
        shape = (self.out_channels, self.in_channels // self.groups, *self.kernel_size)
        self.weight = Parameter(Tensor(np.zeros(shape), dtype=dtype))
        self.bias = Parameter(Tensor(np.zeros(self.out_channels), dtype=dtype)) if bias \
            else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init.fan_in_and_fan_out(self.weight)
            bound = 1.0 / math.sqrt(fan_in)
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:
        if not isinstance(input, Tensor):
            raise TypeError(f"Conv2d expects a Tensor, got {type(input).__name__}")
        if input.dtype != self.weight.dtype:
            raise TypeError(f"Conv2d: input is {input.dtype} but the layer's weights are "
                            f"{self.weight.dtype}; convert the input with .astype("
                            f"{self.weight.dtype}) or the model with .to({input.dtype})")
        return F.conv2d(input, self.weight, self.bias, self.stride, self.padding,
                        self.dilation, self.groups)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}, dilation={self.dilation}, "
                f"groups={self.groups}, bias={self.bias is not None}")
