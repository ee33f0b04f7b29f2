"""Batch normalization on the backend's fused kernels.

x is (N, C, *spatial); statistics are per channel. Training normalizes with the
batch statistics (saved for the fused backward) and updates the running buffers in
place; evaluation normalizes with the running statistics, a per-channel affine map
whose backward is elementwise.
"""

from __future__ import annotations

from .function import Function


def _channel_shape(x) -> tuple[int, ...]:
    """(1, C, 1, ...): a (C,) array reshaped to broadcast against x."""
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


class BatchNorm(Function):
    """y = (x - mean) * invstd * weight + bias per channel.

    Tensor arguments: x, then weight and bias when they are not None (affine=False
    passes None). running_mean / running_var are raw (C,) arrays or None; training
    updates them in place.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, training, momentum, eps):
        xp = ctx.xp
        x = xp.ascontiguousarray(x)
        out = xp.empty_like(x)
        ctx.has_weight, ctx.has_bias = weight is not None, bias is not None
        ctx.training = training
        channels = x.shape[1]
        if training:
            save_mean = xp.empty(channels, dtype=x.dtype)
            save_invstd = xp.empty(channels, dtype=x.dtype)
            ctx.backend.batch_norm_forward_train(x, weight, bias, running_mean, running_var, out,
                                                 save_mean, save_invstd, momentum, eps)
        else:
            ctx.backend.batch_norm_forward_eval(x, weight, bias, running_mean, running_var, out,
                                                eps)
            # copies: a later training step may update the buffers before this backward
            save_mean = running_mean.astype(x.dtype, copy=True)
            save_invstd = (1.0 / xp.sqrt(running_var.astype(xp.float64) + eps)).astype(x.dtype)
        ctx.save_for_backward(x, weight, save_mean, save_invstd)
        return out

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        x, weight, save_mean, save_invstd = ctx.saved
        grad = xp.ascontiguousarray(grad, dtype=x.dtype)
        needs = list(ctx.needs_input_grad)
        needs_x = needs.pop(0)
        needs_weight = needs.pop(0) if ctx.has_weight else False
        needs_bias = needs.pop(0) if ctx.has_bias else False
        channels = x.shape[1]
        grad_in = xp.empty_like(x) if needs_x else None
        grad_weight = xp.empty(channels, dtype=x.dtype) if needs_weight else None
        grad_bias = xp.empty(channels, dtype=x.dtype) if needs_bias else None
        if ctx.training:
            ctx.backend.batch_norm_backward(grad, x, weight, save_mean, save_invstd, grad_in,
                                            grad_weight, grad_bias)
        else:
            shape = _channel_shape(x)
            axes = (0,) + tuple(range(2, x.ndim))
            invstd = save_invstd.reshape(shape)
            if grad_in is not None:
                scale = invstd if weight is None else invstd * weight.reshape(shape)
                grad_in[...] = grad * scale
            if grad_weight is not None:
                xhat = (x - save_mean.reshape(shape)) * invstd
                grad_weight[...] = (grad * xhat).sum(axis=axes, dtype=xp.float64)
            if grad_bias is not None:
                grad_bias[...] = grad.sum(axis=axes, dtype=xp.float64)
        grads = [grad_in]
        if ctx.has_weight:
            grads.append(grad_weight)
        if ctx.has_bias:
            grads.append(grad_bias)
        return tuple(grads)
