"""The reference backend: every kernel in plain NumPy, written to be read.

It is the oracle the native backends are tested against, so clarity wins over
speed: each function computes in float64 and casts into ``out``. Signatures
follow the kernel contract shared by every backend (see ``backends/__init__``):
the caller allocates outputs and passes them in; nothing is returned.
"""

from __future__ import annotations

import math

import numpy as np

from .reference_batch_norm import (  # noqa: F401 - part of this backend's kernel set
    batch_norm_backward,
    batch_norm_forward_eval,
    batch_norm_forward_train,
)
from .reference_conv2d import (  # noqa: F401 - part of this backend's kernel set
    conv2d_backward,
    conv2d_backward_bias,
    conv2d_backward_input,
    conv2d_backward_weight,
    conv2d_forward,
)
from .reference_dropout import dropout_backward, dropout_forward  # noqa: F401 - kernel set
from .reference_optimizers import (  # noqa: F401 - part of this backend's kernel set
    accumulate,
    adadelta_update,
    adagrad_update,
    adam_update,
    adamax_update,
    nadam_update,
    parallel_copy,
    rmsprop_update,
    sgd_update,
)
from .reference_pooling import (  # noqa: F401 - part of this backend's kernel set
    avg_pool2d_backward,
    avg_pool2d_forward,
    max_pool2d_backward,
    max_pool2d_forward,
)
from .spec import ACTIVATIONS, DEFAULT_ALPHA, SELU_ALPHA, SELU_SCALE

name = "reference"
device = "cpu"
xp = np

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_TANH_C = 0.044715
_erf = np.vectorize(math.erf, otypes=[np.float64])


def _check_kind(kind: str) -> None:
    if kind not in ACTIVATIONS:
        raise ValueError(f"unknown activation {kind!r}; expected one of {', '.join(ACTIVATIONS)}")


def _sigmoid(x: np.ndarray) -> np.ndarray:
    # exp of a non-positive number only: no overflow for large |x|.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def gemm(a, b, out, trans_a=False, trans_b=False, alpha=1.0, beta=0.0) -> None:
    """out = alpha * op(a) @ op(b) + beta * out; 2-D (M,K)@(K,N) or 3-D stacks (B,M,K)."""
    a64 = np.asarray(a, np.float64)
    b64 = np.asarray(b, np.float64)
    op_a = np.swapaxes(a64, -1, -2) if trans_a else a64
    op_b = np.swapaxes(b64, -1, -2) if trans_b else b64
    result = alpha * (op_a @ op_b)
    if beta != 0:
        result = result + beta * out.astype(np.float64)
    out[...] = result


def activation_forward(kind: str, x, out, alpha: float | None = None) -> None:
    """out = f(x) elementwise; ``alpha`` is leaky_relu's slope or elu's alpha.

    ``alpha=None`` takes the kind's default from ``spec.DEFAULT_ALPHA``.
    """
    _check_kind(kind)
    alpha = DEFAULT_ALPHA.get(kind, 0.0) if alpha is None else alpha
    x = x.astype(np.float64)
    if kind == "linear":
        y = x
    elif kind == "sigmoid":
        y = _sigmoid(x)
    elif kind == "tanh":
        y = np.tanh(x)
    elif kind == "relu":
        y = np.maximum(x, 0.0)  # NaN propagates, as in PyTorch
    elif kind == "leaky_relu":
        y = np.where(x > 0, x, alpha * x)
    elif kind == "elu":
        y = np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))
    elif kind == "selu":
        y = SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(np.minimum(x, 0.0)))
    elif kind == "gelu":
        y = 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))
    elif kind == "gelu_tanh":
        y = 0.5 * x * (1.0 + np.tanh(_SQRT_2_OVER_PI * (x + _GELU_TANH_C * x**3)))
    else:  # silu
        y = x * _sigmoid(x)
    out[...] = y


def activation_backward(kind: str, saved, grad_out, grad_in, alpha: float | None = None) -> None:
    """grad_in = grad_out * f'(.); ``saved`` is y for BACKWARD_FROM_OUTPUT kinds, else x.

    ``alpha=None`` takes the kind's default from ``spec.DEFAULT_ALPHA``.
    """
    _check_kind(kind)
    alpha = DEFAULT_ALPHA.get(kind, 0.0) if alpha is None else alpha
    s = saved.astype(np.float64)
    if kind == "linear":
        d = np.ones_like(s)
    elif kind == "sigmoid":
        d = s * (1.0 - s)
    elif kind == "tanh":
        d = 1.0 - s * s
    elif kind == "relu":
        d = (s > 0).astype(np.float64)
    elif kind == "leaky_relu":
        d = np.where(s > 0, 1.0, alpha)
    elif kind == "elu":
        d = np.where(s > 0, 1.0, alpha * np.exp(np.minimum(s, 0.0)))
    elif kind == "selu":
        d = SELU_SCALE * np.where(s > 0, 1.0, SELU_ALPHA * np.exp(np.minimum(s, 0.0)))
    elif kind == "gelu":
        cdf = 0.5 * (1.0 + _erf(s / math.sqrt(2.0)))
        pdf = np.exp(-0.5 * s * s) / math.sqrt(2.0 * math.pi)
        d = cdf + s * pdf
    elif kind == "gelu_tanh":
        t = np.tanh(_SQRT_2_OVER_PI * (s + _GELU_TANH_C * s**3))
        d = 0.5 * (1.0 + t) + 0.5 * s * (1.0 - t * t) * _SQRT_2_OVER_PI * (
            1.0 + 3.0 * _GELU_TANH_C * s * s
        )
    else:  # silu
        sig = _sigmoid(s)
        d = sig * (1.0 + s * (1.0 - sig))
    grad_in[...] = grad_out.astype(np.float64) * d


def softmax_forward(x, out, log: bool = False) -> None:
    """Softmax (or log-softmax) over the last axis of x; shifted by the row max for stability."""
    x = x.astype(np.float64)
    shifted = x - x.max(axis=-1, keepdims=True)
    log_sum = np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    out[...] = shifted - log_sum if log else np.exp(shifted - log_sum)


def softmax_backward(y, grad_out, grad_in, log: bool = False) -> None:
    """Gradient through softmax from its output y (or through log-softmax from log y)."""
    y = y.astype(np.float64)
    g = grad_out.astype(np.float64)
    if log:
        grad_in[...] = g - np.exp(y) * g.sum(axis=-1, keepdims=True)
    else:
        grad_in[...] = y * (g - (g * y).sum(axis=-1, keepdims=True))


def _check_labels(labels: np.ndarray, classes: int, ignore_index: int) -> np.ndarray:
    valid = labels != ignore_index
    bad = valid & ((labels < 0) | (labels >= classes))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"label {int(labels[row])} at row {row} is out of range: expected 0 <= label < "
            f"{classes} (or ignore_index={ignore_index})"
        )
    return valid


def softmax_cross_entropy_forward(logits, target, loss_out, probs_out, ignore_index=-100) -> None:
    """Per-row cross-entropy of softmax(logits) against ``target``.

    logits: (N, C). target: int64 labels (N,) or probabilities (N, C) of logits' dtype.
    loss_out: (N,), loss_i = logsumexp(z_i) - z_i[y_i], or -sum_j t_ij log p_ij (terms with
    t_ij = 0 add nothing, so p_ij = 0 cannot make 0 * -inf). Rows whose label equals
    ignore_index get loss 0. probs_out: (N, C) softmax(logits), kept for the backward.
    """
    z = logits.astype(np.float64)
    shifted = z - z.max(axis=1, keepdims=True)
    log_sum = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    log_p = shifted - log_sum
    probs_out[...] = np.exp(log_p)
    if target.ndim == 1:
        valid = _check_labels(target, z.shape[1], ignore_index)
        picked = log_p[np.arange(len(target)), np.where(valid, target, 0)]
        loss_out[...] = np.where(valid, -picked, 0.0)
    else:
        t = target.astype(np.float64)
        loss_out[...] = -np.where(t != 0, t * log_p, 0.0).sum(axis=1)


def softmax_cross_entropy_backward(
    probs, target, grad_loss, grad_logits, ignore_index=-100
) -> None:
    """grad_logits_ij = g_i (p_ij - [j == y_i]); for soft targets g_i (p_ij sum_k t_ik - t_ij)."""
    p = probs.astype(np.float64)
    g = grad_loss.astype(np.float64)[:, None]
    if target.ndim == 1:
        valid = _check_labels(target, p.shape[1], ignore_index)
        one_hot = np.zeros_like(p)
        rows = np.flatnonzero(valid)
        one_hot[rows, target[rows]] = 1.0
        grad_logits[...] = np.where(valid[:, None], g * (p - one_hot), 0.0)
    else:
        t = target.astype(np.float64)
        grad_logits[...] = g * (p * t.sum(axis=1, keepdims=True) - t)
