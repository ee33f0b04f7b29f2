"""Inverted dropout as a differentiable operation on the backend's dropout kernels."""

from __future__ import annotations

import math

from .function import Function


def check_dropout_probability(p) -> float:
    """p as a float; ValueError unless 0 <= p <= 1 (NaN included)."""
    try:
        value = float(p)
    except (TypeError, ValueError):
        raise TypeError(f"dropout probability must be a number, got {type(p).__name__}") from None
    if math.isnan(value) or not 0.0 <= value <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    return value


class Dropout(Function):
    """y = x * mask / (1 - p), mask (uint8, x's shape) drawn from (seed, element index).

    The mask is saved for the backward: grad_in = grad * mask / (1 - p).
    """

    @staticmethod
    def forward(ctx, x, p, seed):
        if x.dtype.kind != "f":
            raise TypeError(f"dropout needs a float32 or float64 tensor, got {x.dtype}")
        xp = ctx.xp
        x = xp.ascontiguousarray(x)
        out = xp.empty_like(x)
        mask = xp.empty(x.shape, dtype=xp.uint8)
        ctx.backend.dropout_forward(x, out, mask, p, seed, 0)
        ctx.p = p
        ctx.save_for_backward(mask)
        return out

    @staticmethod
    def backward(ctx, grad):
        (mask,) = ctx.saved
        grad = ctx.xp.ascontiguousarray(grad)
        grad_in = ctx.xp.empty_like(grad)
        ctx.backend.dropout_backward(grad, mask, grad_in, ctx.p)
        return grad_in
