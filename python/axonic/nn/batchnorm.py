"""Batch normalization layers, as in PyTorch: BatchNorm1d and BatchNorm2d."""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from . import functional as F
from .module import Module
from .parameter import Parameter


class _BatchNorm(Module):
    """Per-channel normalization with learned scale/shift and running statistics.

    weight (C,) = 1 and bias (C,) = 0 when affine; buffers running_mean (C,) = 0,
    running_var (C,) = 1 and num_batches_tracked (int64 scalar) when
    track_running_stats. Training uses the batch statistics and updates the running
    ones with ``momentum`` (None: a cumulative average over the batches seen);
    evaluation uses the running ones (the batch's without track_running_stats).
    """

    _expected_ndims: tuple[int, ...] = ()

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, dtype=None):
        super().__init__()
        if not isinstance(num_features, (int, np.integer)) or num_features <= 0:
            raise ValueError(f"{type(self).__name__}: num_features must be a positive integer, "
                             f"got {num_features!r}")
        if momentum is not None and not 0.0 <= momentum <= 1.0:
            raise ValueError(f"{type(self).__name__}: momentum must be in [0, 1] or None, "
                             f"got {momentum}")
        self.num_features = int(num_features)
        self.eps = float(eps)
        self.momentum = None if momentum is None else float(momentum)
        self.affine = bool(affine)
        self.track_running_stats = bool(track_running_stats)
        dtype = np.float32 if dtype is None else dtype
        if self.affine:
            self.weight = Parameter(Tensor(np.ones(num_features), dtype=dtype))
            self.bias = Parameter(Tensor(np.zeros(num_features), dtype=dtype))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if self.track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(num_features), dtype=dtype))
            self.register_buffer("running_var", Tensor(np.ones(num_features), dtype=dtype))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, dtype=np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean._data[...] = 0
            self.running_var._data[...] = 1
            self.num_batches_tracked._data[...] = 0

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.affine:
            self.weight._data[...] = 1
            self.bias._data[...] = 0

    def _check_input(self, x: Tensor) -> None:
        name = type(self).__name__
        if not isinstance(x, Tensor):
            raise TypeError(f"{name} expects a Tensor, got {type(x).__name__}")
        if x.ndim not in self._expected_ndims:
            wanted = " or ".join(f"{n}D" for n in self._expected_ndims)
            raise ValueError(f"{name}: expected {wanted} input (got {x.ndim}D input of shape "
                             f"{tuple(x.shape)})")
        if x.shape[1] != self.num_features:
            raise ValueError(f"{name}: expected input with {self.num_features} channels "
                             f"(axis 1, num_features), got shape {tuple(x.shape)}")
        reference = self.weight if self.affine else self.running_mean
        if reference is not None and x.dtype != reference.dtype:
            raise TypeError(f"{name}: input is {x.dtype} but the layer's tensors are "
                            f"{reference.dtype}; convert the input with .astype("
                            f"{reference.dtype}) or the layer with .to({x.dtype})")

    def forward(self, x: Tensor) -> Tensor:
        self._check_input(x)
        use_batch_stats = self.training or self.running_mean is None
        update = self.training and self.track_running_stats
        if update and self.momentum is None:
            factor = 1.0 / (int(self.num_batches_tracked.item()) + 1)  # cumulative average
        else:
            factor = 0.0 if self.momentum is None else self.momentum
        tracked = not self.training or self.track_running_stats
        out = F.batch_norm(
            x,
            self.running_mean if tracked else None,
            self.running_var if tracked else None,
            self.weight,
            self.bias,
            use_batch_stats,
            factor,
            self.eps,
        )
        if update:  # after the forward, so a rejected batch is not counted
            self.num_batches_tracked._data += 1
        return out

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch norm over (N, C) or (N, C, L): statistics per channel C."""

    _expected_ndims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch norm over (N, C, H, W): statistics per channel C over N, H and W."""

    _expected_ndims = (4,)
