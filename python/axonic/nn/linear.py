"""Fully connected layers."""

from __future__ import annotations

import math

import numpy as np

from ..autograd.ops_linalg import Linear as LinearFunction
from ..tensor import Tensor
from . import init
from .module import Module
from .parameter import Parameter


class Identity(Module):
    """Returns its input unchanged (a placeholder, e.g. for a removed head)."""

    def forward(self, x: Tensor) -> Tensor:
        return x


class Linear(Module):
    """y = x @ weight.T + bias. x: (..., in_features) -> y: (..., out_features).

    weight: (out_features, in_features), bias: (out_features,). Default init as
    PyTorch: kaiming_uniform_(a=sqrt(5)) for the weight, U(-1/sqrt(in), 1/sqrt(in))
    for the bias.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, dtype=None):
        super().__init__()
        for name, n in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(n, (int, np.integer)) or n <= 0:
                raise ValueError(f"Linear: {name} must be a positive integer, got {n!r}")
        self.in_features, self.out_features = int(in_features), int(out_features)
        dtype = np.float32 if dtype is None else dtype
        self.weight = Parameter(Tensor(np.zeros((out_features, in_features)), dtype=dtype))
        self.bias = Parameter(Tensor(np.zeros(out_features), dtype=dtype)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1.0 / math.sqrt(self.in_features)
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x: Tensor) -> Tensor:
        if not isinstance(x, Tensor):
            raise TypeError(f"Linear expects a Tensor, got {type(x).__name__}")
        # From the table: self.weight fails the normal lookup before Module.__getattr__
        # finds it, half a microsecond a lookup. A plain tensor assigned in place of a
        # Parameter (or bias=False's None) is an ordinary attribute.
        params = self._parameters
        weight = params["weight"] if "weight" in params else self.weight
        bias = params["bias"] if "bias" in params else self.bias
        if x.dtype != weight.dtype:
            raise TypeError(f"Linear: input is {x.dtype} but the layer's weights are "
                            f"{weight.dtype}; convert the input with .astype("
                            f"{weight.dtype}) or the model with .to({x.dtype})")
        if bias is None:
            return LinearFunction.apply(x, weight)
        return LinearFunction.apply(x, weight, bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")
