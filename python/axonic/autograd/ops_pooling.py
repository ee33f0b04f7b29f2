"""2-D pooling on the backend's kernels: max, average and adaptive average.

Inputs are (N, C, H, W) or unbatched (C, H, W) arrays (viewed as N = 1); the
kernels see C-contiguous NCHW arrays. kernel_size, stride, padding and dilation
arrive here as (h, w) pairs of ints (nn.functional expands the user's arguments).
"""

from __future__ import annotations

import math

from ..backends.reference_pooling import check_pool2d
from .function import Function


def _as_nchw(ctx, x, op: str):
    """x as a C-contiguous 4-D array; remembers whether it was unbatched (C, H, W)."""
    if x.dtype.kind != "f":
        raise TypeError(f"{op} needs a float32 or float64 tensor, got {x.dtype}")
    if x.ndim not in (3, 4):
        raise ValueError(f"{op} expects a 3-D (C, H, W) or 4-D (N, C, H, W) input, got shape "
                         f"{tuple(x.shape)}")
    ctx.unbatched = x.ndim == 3
    return ctx.xp.ascontiguousarray(x[None] if ctx.unbatched else x)


def _restore(ctx, array):
    return array[0] if ctx.unbatched else array


class MaxPool2d(Function):
    """out = max over each (dilated) window; ``indices_sink`` (a list, or None) receives
    the int64 argmax array (flat index within each input plane) for return_indices."""

    @staticmethod
    def forward(ctx, x, kernel_size, stride, padding, dilation, ceil_mode, indices_sink):
        xp = ctx.xp
        x = _as_nchw(ctx, x, "max_pool2d")
        out_h, out_w = check_pool2d("max_pool2d", x.shape, kernel_size, stride, padding,
                                    dilation, ceil_mode)
        out = xp.empty((*x.shape[:2], out_h, out_w), dtype=x.dtype)
        argmax = xp.empty(out.shape, dtype=xp.int64)
        ctx.backend.max_pool2d_forward(x, out, argmax, kernel_size, stride, padding, dilation,
                                       ceil_mode)
        ctx.input_shape = x.shape
        ctx.save_for_backward(argmax)
        if indices_sink is not None:
            indices_sink.append(_restore(ctx, argmax))
        return _restore(ctx, out)

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        (argmax,) = ctx.saved
        grad = xp.ascontiguousarray(grad[None] if ctx.unbatched else grad)
        grad_in = xp.empty(ctx.input_shape, dtype=grad.dtype)
        ctx.backend.max_pool2d_backward(grad, argmax, grad_in)
        return _restore(ctx, grad_in)


class AvgPool2d(Function):
    """out = mean over each window (PyTorch's avg_pool2d divisor rules)."""

    @staticmethod
    def forward(ctx, x, kernel_size, stride, padding, ceil_mode, count_include_pad):
        x = _as_nchw(ctx, x, "avg_pool2d")
        out_h, out_w = check_pool2d("avg_pool2d", x.shape, kernel_size, stride, padding,
                                    (1, 1), ceil_mode)
        out = ctx.xp.empty((*x.shape[:2], out_h, out_w), dtype=x.dtype)
        ctx.backend.avg_pool2d_forward(x, out, kernel_size, stride, padding, ceil_mode,
                                       count_include_pad)
        ctx.params = (kernel_size, stride, padding, ceil_mode, count_include_pad)
        ctx.input_shape = x.shape
        return _restore(ctx, out)

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        grad = xp.ascontiguousarray(grad[None] if ctx.unbatched else grad)
        grad_in = xp.empty(ctx.input_shape, dtype=grad.dtype)
        ctx.backend.avg_pool2d_backward(grad, grad_in, *ctx.params)
        return _restore(ctx, grad_in)


def adaptive_windows(size: int, out: int) -> list[tuple[int, int]]:
    """PyTorch's adaptive pooling windows along one axis: output i averages
    [floor(i * size / out), ceil((i + 1) * size / out))."""
    return [(i * size // out, -(-(i + 1) * size // out)) for i in range(out)]


class AdaptiveAvgPool2d(Function):
    """Average pooling to a fixed (out_h, out_w). Evenly dividing sizes (global average
    pooling included) run on the avg_pool2d kernel; other sizes, whose windows differ
    in size and may overlap, use NumPy/CuPy glue over PyTorch's adaptive windows."""

    @staticmethod
    def forward(ctx, x, output_size):
        xp = ctx.xp
        x = _as_nchw(ctx, x, "adaptive_avg_pool2d")
        in_h, in_w = x.shape[2], x.shape[3]
        out_h, out_w = output_size
        if in_h < 1 or in_w < 1:
            raise ValueError(f"adaptive_avg_pool2d: input planes must be non-empty, got "
                             f"{in_h} x {in_w}")
        ctx.input_shape = x.shape
        ctx.output_size = (out_h, out_w)
        ctx.uniform = in_h % out_h == 0 and in_w % out_w == 0
        if ctx.uniform:
            kernel = (in_h // out_h, in_w // out_w)
            ctx.params = (kernel, kernel, (0, 0), False, True)
            out = xp.empty((*x.shape[:2], out_h, out_w), dtype=x.dtype)
            ctx.backend.avg_pool2d_forward(x, out, *ctx.params)
            return _restore(ctx, out)
        out = xp.empty((*x.shape[:2], out_h, out_w), dtype=x.dtype)
        for oh, (h0, h1) in enumerate(adaptive_windows(in_h, out_h)):
            for ow, (w0, w1) in enumerate(adaptive_windows(in_w, out_w)):
                out[:, :, oh, ow] = x[:, :, h0:h1, w0:w1].mean(axis=(2, 3))
        return _restore(ctx, out)

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        grad = xp.ascontiguousarray(grad[None] if ctx.unbatched else grad)
        if ctx.uniform:
            grad_in = xp.empty(ctx.input_shape, dtype=grad.dtype)
            ctx.backend.avg_pool2d_backward(grad, grad_in, *ctx.params)
            return _restore(ctx, grad_in)
        grad_in = xp.zeros(ctx.input_shape, dtype=grad.dtype)
        in_h, in_w = ctx.input_shape[2:]
        out_h, out_w = ctx.output_size
        for oh, (h0, h1) in enumerate(adaptive_windows(in_h, out_h)):
            for ow, (w0, w1) in enumerate(adaptive_windows(in_w, out_w)):
                share = grad[:, :, oh, ow] / math.prod((h1 - h0, w1 - w0))
                grad_in[:, :, h0:h1, w0:w1] += share[:, :, None, None]
        return _restore(ctx, grad_in)
