"""axonic: a deep-learning library with hand-written C++/OpenMP kernels under a
PyTorch-like API (Tensor with autograd, nn modules, optimizers)."""

import numpy as _np

from . import backends, cuda, data, memory, metrics, models, nn, optim, train, tune
from ._cpu import __version__ as _cpu_version
from .creation import (
    arange,
    from_numpy,
    full,
    ones,
    ones_like,
    rand,
    randn,
    tensor,
    zeros,
    zeros_like,
)
from .grad_mode import enable_grad, is_grad_enabled, no_grad
from .info import build_info, get_num_threads, info, set_num_threads
from .random import manual_seed
from .tensor import Tensor, cat, clip, concatenate, matmul, stack, where

__version__ = _cpu_version

float32 = _np.float32
float64 = _np.float64
int64 = _np.int64
bool_ = _np.bool_

__all__ = [
    "Tensor", "tensor", "zeros", "ones", "full", "zeros_like", "ones_like", "arange", "randn",
    "rand", "from_numpy", "matmul", "cat", "concatenate", "stack", "where", "clip", "no_grad",
    "enable_grad", "is_grad_enabled", "manual_seed", "info", "build_info", "get_num_threads",
    "set_num_threads", "backends", "cuda", "data", "memory", "metrics", "models", "nn", "optim",
    "train", "tune", "float32", "float64", "int64", "bool_",
]
