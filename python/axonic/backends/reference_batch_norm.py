"""Batch normalization in plain NumPy: the oracle for the native kernels.

x is (N, C, *spatial), viewed as (N, C, S) with S the product of the spatial axes
(S = 1 for (N, C)). Statistics are per channel over the M = N * S values of that
channel; every per-channel array is (C,). Computed in float64, cast into the outputs.

Training::

    mean   = sum(x) / M
    var    = sum((x - mean)^2) / M                       (biased: normalizes)
    invstd = 1 / sqrt(var + eps)
    out    = (x - mean) * invstd * weight + bias
    running_mean = (1 - momentum) * running_mean + momentum * mean
    running_var  = (1 - momentum) * running_var  + momentum * var * M / (M - 1)

Evaluation: out = (x - running_mean) / sqrt(running_var + eps) * weight + bias.

Backward of training, with xhat = (x - mean) * invstd and sums per channel::

    grad_bias   = sum(g)
    grad_weight = sum(g * xhat)
    grad_in     = weight * invstd / M * (M * g - sum(g) - xhat * sum(g * xhat))

weight and bias may be None (affine=False: 1 and 0), and so may the running
buffers in training (track_running_stats=False).
"""

from __future__ import annotations

import numpy as np

_TRAINING_MESSAGE = "Expected more than 1 value per channel when training, got input size "


def _as_ncs(x: np.ndarray, name: str = "x") -> np.ndarray:
    if x.ndim < 2:
        raise ValueError(f"batch_norm expects {name} of shape (N, C) or (N, C, *spatial) "
                         f"(ndim >= 2), got shape {x.shape}")
    spatial = int(np.prod(x.shape[2:], dtype=np.int64))
    return x.astype(np.float64).reshape(x.shape[0], x.shape[1], spatial)


def _check_channel(a, name: str, channels: int, optional: bool = True) -> None:
    if a is None:
        if not optional:
            raise ValueError(f"{name} must be an array of shape ({channels},), got None")
        return
    if a.shape != (channels,):
        raise ValueError(f"{name} must have shape ({channels},) (one value per channel), "
                         f"got shape {a.shape}")


def _per_channel(a, fallback: float) -> np.ndarray:
    if a is None:
        return np.float64(fallback)
    return a.astype(np.float64)[None, :, None]


def batch_norm_forward_train(x, weight, bias, running_mean, running_var, out, save_mean,
                             save_invstd, momentum: float = 0.1, eps: float = 1e-5) -> None:
    """Normalizes with batch statistics and updates the running buffers in place."""
    xs = _as_ncs(x)
    n, c, s = xs.shape
    m = n * s
    if m <= 1:
        raise ValueError(_TRAINING_MESSAGE + str(tuple(x.shape)))
    for a, name in ((weight, "weight"), (bias, "bias"), (running_mean, "running_mean"),
                    (running_var, "running_var")):
        _check_channel(a, name, c)
    mean = xs.mean(axis=(0, 2))
    var = ((xs - mean[None, :, None]) ** 2).mean(axis=(0, 2))
    invstd = 1.0 / np.sqrt(var + eps)
    xhat = (xs - mean[None, :, None]) * invstd[None, :, None]
    result = xhat * _per_channel(weight, 1.0) + _per_channel(bias, 0.0)
    out[...] = result.reshape(x.shape)
    save_mean[...] = mean
    save_invstd[...] = invstd
    if running_mean is not None:
        running_mean[...] = (1.0 - momentum) * running_mean.astype(np.float64) + momentum * mean
    if running_var is not None:
        unbiased = var * m / (m - 1)
        running_var[...] = (1.0 - momentum) * running_var.astype(np.float64) + momentum * unbiased


def batch_norm_forward_eval(x, weight, bias, running_mean, running_var, out,
                            eps: float = 1e-5) -> None:
    """Normalizes with the running statistics."""
    xs = _as_ncs(x)
    c = xs.shape[1]
    for a, name, optional in ((weight, "weight", True), (bias, "bias", True),
                              (running_mean, "running_mean", False),
                              (running_var, "running_var", False)):
        _check_channel(a, name, c, optional)
    invstd = 1.0 / np.sqrt(_per_channel(running_var, 0.0) + eps)
    result = (xs - _per_channel(running_mean, 0.0)) * invstd * _per_channel(weight, 1.0)
    out[...] = (result + _per_channel(bias, 0.0)).reshape(x.shape)


def batch_norm_backward(grad_out, x, weight, save_mean, save_invstd, grad_in, grad_weight,
                        grad_bias) -> None:
    """Gradients of the training forward; None outputs are skipped."""
    xs = _as_ncs(x)
    gs = _as_ncs(grad_out, "grad_out")
    n, c, s = xs.shape
    m = n * s
    if m <= 1:
        raise ValueError(_TRAINING_MESSAGE + str(tuple(x.shape)))
    invstd = _per_channel(save_invstd, 1.0)
    xhat = (xs - _per_channel(save_mean, 0.0)) * invstd
    sum_g = gs.sum(axis=(0, 2))
    sum_g_xhat = (gs * xhat).sum(axis=(0, 2))
    if grad_bias is not None:
        grad_bias[...] = sum_g
    if grad_weight is not None:
        grad_weight[...] = sum_g_xhat
    if grad_in is not None:
        scale = _per_channel(weight, 1.0) * invstd / m
        result = scale * (m * gs - sum_g[None, :, None] - xhat * sum_g_xhat[None, :, None])
        grad_in[...] = result.reshape(x.shape)
