"""``nn.Flatten``: merges a range of dimensions into one, as torch.nn.Flatten does."""

from __future__ import annotations

import math

from ..tensor import Tensor
from .module import Module


def _dim(dim: int, ndim: int, name: str) -> int:
    rank = max(ndim, 1)  # a 0-d tensor flattens like a 1-d one, as in PyTorch
    if not -rank <= dim < rank:
        raise IndexError(f"Flatten: {name}={dim} is out of range for a tensor with {ndim} "
                         f"dimensions (expected to be in [{-rank}, {rank - 1}])")
    return dim % rank


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """x with dimensions start_dim..end_dim (inclusive) merged into one; a reshape view."""
    if not isinstance(x, Tensor):
        raise TypeError(f"flatten expects a Tensor, got {type(x).__name__}")
    start = _dim(start_dim, x.ndim, "start_dim")
    end = _dim(end_dim, x.ndim, "end_dim")
    if start > end:
        raise ValueError(f"Flatten: start_dim ({start_dim}) cannot come after end_dim "
                         f"({end_dim}) for a tensor with {x.ndim} dimensions")
    shape = tuple(x.shape)
    if x.ndim == 0:
        return x.reshape((1,))
    merged = math.prod(shape[start:end + 1])
    return x.reshape(shape[:start] + (merged,) + shape[end + 1:])


class Flatten(Module):
    """Flattens dimensions start_dim..end_dim: (N, C, H, W) -> (N, C*H*W) by default."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim = int(start_dim)
        self.end_dim = int(end_dim)

    def forward(self, x: Tensor) -> Tensor:
        return flatten(x, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
