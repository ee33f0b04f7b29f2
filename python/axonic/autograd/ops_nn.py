"""Neural-network operations on the backend's hand-written kernels."""

from __future__ import annotations

import math

from ..backends.spec import BACKWARD_FROM_OUTPUT
from .function import Function


class Activation(Function):
    """y = f(x) for one of backends.spec.ACTIVATIONS; alpha is leaky_relu's slope / elu's alpha."""

    @staticmethod
    def forward(ctx, x, kind, alpha):
        if x.dtype.kind != "f":
            raise TypeError(f"{kind} needs a float32 or float64 tensor, got {x.dtype}")
        x = ctx.xp.ascontiguousarray(x)
        out = ctx.xp.empty_like(x)
        ctx.backend.activation_forward(kind, x, out, alpha)
        ctx.kind, ctx.alpha = kind, alpha
        ctx.save_for_backward(out if kind in BACKWARD_FROM_OUTPUT else x)
        return out

    @staticmethod
    def backward(ctx, grad):
        grad = ctx.xp.ascontiguousarray(grad)
        grad_in = ctx.xp.empty_like(grad)
        ctx.backend.activation_backward(ctx.kind, ctx.saved[0], grad, grad_in, ctx.alpha)
        return grad_in


class Softmax(Function):
    """softmax or log_softmax along ``axis``; the kernel works on the last axis."""

    @staticmethod
    def forward(ctx, x, axis, log):
        if x.dtype.kind != "f":
            raise TypeError(f"softmax needs a float32 or float64 tensor, got {x.dtype}")
        xp = ctx.xp
        if x.ndim == 0:
            raise ValueError("softmax needs at least one dimension, got a scalar")
        axis = axis % x.ndim
        moved = xp.ascontiguousarray(xp.moveaxis(x, axis, -1))
        out = xp.empty_like(moved)
        ctx.backend.softmax_forward(moved, out, log)
        ctx.axis, ctx.log = axis, log
        ctx.save_for_backward(out)
        return xp.moveaxis(out, -1, axis)

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        (y,) = ctx.saved
        moved = xp.ascontiguousarray(xp.moveaxis(grad, ctx.axis, -1))
        grad_in = xp.empty_like(moved)
        ctx.backend.softmax_backward(y, moved, grad_in, ctx.log)
        return xp.moveaxis(grad_in, -1, ctx.axis)


class SoftmaxCrossEntropy(Function):
    """Softmax cross-entropy of logits (N, C) against labels (N,) or probabilities (N, C),
    reduced in the same operation.

    loss_i = row_weight_i * CE(softmax(logits_i), target_i), row_weight (N,) optional;
    reduction 'none' returns loss (N,), 'sum' its sum and 'mean' its sum / divisor, both
    0-d. The target and row_weight are constants (no gradient). One fused kernel
    computes the softmax and the loss; the backward reuses the saved probabilities.
    Reducing here rather than with Tensor operations saves a training step three graph
    nodes (weights, sum, division), each a forward and a backward call.
    """

    @staticmethod
    def forward(ctx, logits, target, ignore_index, row_weight=None, reduction="none",
                divisor=1.0):
        xp = ctx.xp
        logits = xp.ascontiguousarray(logits)
        target = xp.ascontiguousarray(target)
        loss = xp.empty(logits.shape[:1], dtype=logits.dtype)
        probs = xp.empty_like(logits)
        ctx.backend.softmax_cross_entropy_forward(logits, target, loss, probs, ignore_index)
        ctx.save_for_backward(probs, target)
        ctx.ignore_index, ctx.row_weight = ignore_index, row_weight
        ctx.reduction, ctx.divisor = reduction, divisor
        if row_weight is not None:
            loss *= row_weight
        if reduction == "none":
            return loss
        total = loss.sum()
        if reduction == "sum":
            return total
        if divisor == 0:  # zero total weight (every row ignored or weighted 0): NaN, as
            # PyTorch gives, without NumPy's 0 / 0 warning
            return total * math.nan
        return total / divisor

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        probs, target = ctx.saved
        if ctx.reduction != "none":  # d(sum)/d(loss_i) = 1, d(mean)/d(loss_i) = 1 / divisor
            rows = xp.empty(probs.shape[:1], dtype=probs.dtype)
            if ctx.reduction == "mean":
                # A total weight of 0 gives NaN, as in PyTorch; the kernel still writes 0
                # into ignored rows, so a batch with every row ignored gets zeros.
                grad = grad * (1.0 / ctx.divisor if ctx.divisor else math.nan)
            rows[...] = grad
            grad = rows
        if ctx.row_weight is not None:
            grad = grad * ctx.row_weight
        grad_logits = xp.empty_like(probs)
        ctx.backend.softmax_cross_entropy_backward(
            probs, target, xp.ascontiguousarray(grad), grad_logits, ctx.ignore_index
        )
        return grad_logits
