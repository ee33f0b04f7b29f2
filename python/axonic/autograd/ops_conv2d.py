"""2-D convolution on the backend's kernels (implicit GEMM on the CPU backend).

x is (N, C_in, H, W) or unbatched (C_in, H, W) (viewed as N = 1); weight is
(C_out, C_in / groups, kH, kW); bias (C_out,) or None. stride, padding and dilation
arrive as (h, w) pairs of ints (nn.functional expands the user's arguments). The
kernels see C-contiguous arrays of one float dtype.
"""

from __future__ import annotations

from ..backends.reference_conv2d import check_conv2d
from .function import Function


class Conv2d(Function):
    """out = conv2d(x, weight) + bias, as PyTorch's conv2d; saves x and weight."""

    fresh_grads = True  # backward allocates grad_x, grad_w and grad_b anew

    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, dilation, groups):
        xp = ctx.xp
        for name, a in (("weight", weight), ("bias", bias)):
            if a is not None and a.dtype != x.dtype:
                raise TypeError(f"conv2d: input is {x.dtype} but {name} is {a.dtype}; convert "
                                "one with .float() or .double()")
        if x.dtype.kind != "f":
            raise TypeError(f"conv2d needs a float32 or float64 tensor, got {x.dtype}")
        if x.ndim not in (3, 4):
            raise ValueError(f"conv2d expects a 3-D (C, H, W) or 4-D (N, C, H, W) input, got "
                             f"shape {tuple(x.shape)}")
        ctx.unbatched = x.ndim == 3
        x = xp.ascontiguousarray(x[None] if ctx.unbatched else x)
        weight = xp.ascontiguousarray(weight)
        out_h, out_w = check_conv2d("conv2d", x.shape, weight.shape, stride, padding, dilation,
                                    groups)
        if bias is not None:
            bias = xp.ascontiguousarray(bias)
            if tuple(bias.shape) != (weight.shape[0],):
                raise ValueError(f"conv2d: bias must have shape ({weight.shape[0]},), got "
                                 f"{tuple(bias.shape)}")
        out = xp.empty((x.shape[0], weight.shape[0], out_h, out_w), dtype=x.dtype)
        ctx.backend.conv2d_forward(x, weight, bias, out, stride, padding, dilation, groups)
        ctx.save_for_backward(x, weight)
        ctx.params = (stride, padding, dilation, groups)
        ctx.has_bias = bias is not None
        return out[0] if ctx.unbatched else out

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        x, weight = ctx.saved
        grad = xp.ascontiguousarray(grad[None] if ctx.unbatched else grad, dtype=x.dtype)
        need = ctx.needs_input_grad
        grad_x = xp.empty(x.shape, dtype=x.dtype) if need[0] else None
        grad_w = xp.empty(weight.shape, dtype=x.dtype) if need[1] else None
        grad_b = None
        if ctx.has_bias and need[2]:
            grad_b = xp.empty((weight.shape[0],), dtype=x.dtype)
        # One call: the CPU backend computes them in one pass over the images.
        ctx.backend.conv2d_backward(grad, x, weight, grad_x, grad_w, grad_b, *ctx.params)
        if grad_x is not None and ctx.unbatched:
            grad_x = grad_x[0]
        if ctx.has_bias:
            return grad_x, grad_w, grad_b
        return grad_x, grad_w
