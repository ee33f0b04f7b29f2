"""``nn.Dropout``: inverted dropout, active in training mode and the identity in eval."""

from __future__ import annotations

from ..autograd.ops_dropout import check_dropout_probability
from ..tensor import Tensor
from . import functional as F
from .module import Module


class Dropout(Module):
    """Zeroes each element with probability p in training and scales the rest by 1 / (1 - p).

    Every training forward draws a fresh mask seed from ``axonic.random.generator()``,
    so ``axonic.manual_seed`` makes the masks repeat. In eval mode it returns its input.
    Input: any shape; output: the same shape.
    """

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        self.p = check_dropout_probability(p)
        if inplace:
            raise NotImplementedError("Dropout(inplace=True) is not supported: axonic tensors "
                                      "have no in-place autograd; use inplace=False")
        self.inplace = False

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
