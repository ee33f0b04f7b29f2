"""Reference (NumPy) 2-D max and average pooling: the oracle for csrc/cpu/pooling.

Arrays are NCHW; ``kernel_size``, ``stride``, ``padding`` and ``dilation`` are (h, w)
pairs. Output (oh, ow) pools the window whose top-left corner is
(oh * stride_h - pad_h, ow * stride_w - pad_w) in input coordinates. The output size
along an axis is PyTorch's::

    out = floor((in + 2 pad - dilation (kernel - 1) - 1 [+ stride - 1 with ceil_mode])
                / stride) + 1
    with ceil_mode, out -= 1 when the last window would start at or past in + pad

and the checks are PyTorch's: positive kernel, stride and dilation, 0 <= padding <=
kernel / 2, non-empty input planes and an output of at least 1 x 1 (ValueError).

Max pooling treats padding as -inf and returns ``argmax``, the flat index
h * W + w of each maximum within its input plane (PyTorch's return_indices). Like
PyTorch's CPU kernel, a NaN in the window wins (the last NaN when there are several)
and ties keep the first maximum in row-major order. A window with no element in the
input (possible only with dilation) gives -inf and argmax -1.

Average pooling divides the window's sum by the size of the window clipped to the
padded input when ``count_include_pad``, else by the number of input elements it
covers. Arithmetic is in float64, cast into the outputs.
"""

from __future__ import annotations

import numpy as np

from .reference_windows import check_window_steps


def pool2d_output_size(size: int, kernel: int, stride: int, pad: int, dilation: int,
                       ceil_mode: bool) -> int:
    """One axis of the pooled output (may be <= 0; check_pool2d rejects that)."""
    span = size + 2 * pad - dilation * (kernel - 1) - 1 + (stride - 1 if ceil_mode else 0)
    out = span // stride + 1  # floor division, also for a negative span
    if ceil_mode and (out - 1) * stride >= size + pad:
        out -= 1
    return out


def check_pool2d(op: str, shape, kernel_size, stride, padding, dilation=(1, 1),
                 ceil_mode: bool = False) -> tuple[int, int]:
    """Validates a pooling of an NCHW array of ``shape``; returns (out_h, out_w)."""
    if len(shape) != 4:
        raise ValueError(f"{op}: x must be 4-D (N, C, H, W), got shape {tuple(shape)}")
    kernel_size, stride, padding, dilation = (
        tuple(int(v) for v in pair) for pair in (kernel_size, stride, padding, dilation))
    if min(kernel_size) < 1:
        raise ValueError(f"{op}: kernel_size must be positive, got {kernel_size}")
    check_window_steps(op, stride, padding, dilation)
    if padding[0] > kernel_size[0] // 2 or padding[1] > kernel_size[1] // 2:
        raise ValueError(f"{op}: padding should be at most half of kernel size, got padding "
                         f"{padding} for kernel_size {kernel_size}")
    in_h, in_w = shape[2], shape[3]
    if in_h < 1 or in_w < 1:
        raise ValueError(f"{op}: input planes must be non-empty, got {in_h} x {in_w}")
    out = tuple(pool2d_output_size(shape[2 + a], kernel_size[a], stride[a], padding[a],
                                   dilation[a], ceil_mode) for a in (0, 1))
    if min(out) < 1:
        raise ValueError(f"{op}: input size ({in_h}, {in_w}) is too small for kernel_size "
                         f"{kernel_size}, padding {padding}, dilation {dilation}: calculated "
                         f"output size {out}")
    return out


def _require_shape(op: str, name: str, array, expected) -> None:
    if tuple(array.shape) != tuple(expected):
        raise ValueError(f"{op}: {name} must have shape {tuple(expected)}, got "
                         f"{tuple(array.shape)}")


def _max_window(start: int, kernel: int, dilation: int, size: int) -> np.ndarray:
    """Input indices of a max-pooling window along one axis, clipped to [0, size)."""
    positions = start + dilation * np.arange(kernel)
    return positions[(positions >= 0) & (positions < size)]


def _avg_window(start: int, kernel: int, pad: int, size: int) -> tuple[int, int, int]:
    """(begin, end) of an average-pooling window inside the input, and its size
    clipped to the padded input (the divisor with count_include_pad)."""
    padded_end = min(start + kernel, size + pad)
    return max(start, 0), min(padded_end, size), padded_end - start


def max_pool2d_forward(x, out, argmax, kernel_size, stride, padding, dilation,
                       ceil_mode) -> None:
    """out, argmax (N, C, Ho, Wo) = max and its flat in-plane index over each window."""
    op = "max_pool2d_forward"
    out_h, out_w = check_pool2d(op, x.shape, kernel_size, stride, padding, dilation, ceil_mode)
    n, c, in_h, in_w = x.shape
    _require_shape(op, "out", out, (n, c, out_h, out_w))
    _require_shape(op, "argmax", argmax, (n, c, out_h, out_w))
    x64 = np.asarray(x, np.float64).reshape(n, c, in_h * in_w)
    for oh in range(out_h):
        rows = _max_window(oh * stride[0] - padding[0], kernel_size[0], dilation[0], in_h)
        for ow in range(out_w):
            cols = _max_window(ow * stride[1] - padding[1], kernel_size[1], dilation[1], in_w)
            if rows.size == 0 or cols.size == 0:
                out[:, :, oh, ow] = -np.inf
                argmax[:, :, oh, ow] = -1
                continue
            flat = (rows[:, None] * in_w + cols[None, :]).ravel()  # row-major window order
            values = x64[:, :, flat]
            nan = np.isnan(values)
            first_max = np.argmax(values, axis=-1)  # first of ties (NaN handled below)
            last_nan = flat.size - 1 - np.argmax(nan[..., ::-1], axis=-1)
            pick = np.where(nan.any(axis=-1), last_nan, first_max)
            out[:, :, oh, ow] = np.take_along_axis(values, pick[..., None], -1)[..., 0]
            argmax[:, :, oh, ow] = flat[pick]


def max_pool2d_backward(grad_out, argmax, grad_in) -> None:
    """grad_in (N, C, H, W) = 0, then grad_in[argmax] += grad_out within each plane."""
    op = "max_pool2d_backward"
    for name, array in (("grad_out", grad_out), ("grad_in", grad_in)):
        if array.ndim != 4:
            raise ValueError(f"{op}: {name} must be 4-D (N, C, H, W), got shape {array.shape}")
    _require_shape(op, "argmax", argmax, grad_out.shape)
    n, c, in_h, in_w = grad_in.shape
    if grad_out.shape[:2] != (n, c):
        raise ValueError(f"{op}: grad_in {grad_in.shape} and grad_out {grad_out.shape} must "
                         f"agree in N and C")
    flat_argmax = np.asarray(argmax).reshape(n * c, -1)
    bad = (flat_argmax < -1) | (flat_argmax >= in_h * in_w)
    if bad.any():
        position = int(np.flatnonzero(bad.ravel())[0])
        raise ValueError(f"{op}: argmax {int(flat_argmax.ravel()[position])} at flat position "
                         f"{position} is out of range: expected -1 <= argmax < {in_h * in_w}")
    result = np.zeros((n * c, in_h * in_w), np.float64)
    g = np.asarray(grad_out, np.float64).reshape(n * c, -1)
    for plane in range(n * c):
        kept = flat_argmax[plane] >= 0
        np.add.at(result[plane], flat_argmax[plane][kept], g[plane][kept])
    grad_in[...] = result.reshape(grad_in.shape)


def _avg_windows(shape, out_h, out_w, kernel_size, stride, padding, count_include_pad):
    """Yields (oh, ow, row slice, column slice, divisor) for every output position."""
    in_h, in_w = shape[2], shape[3]
    for oh in range(out_h):
        h0, h1, padded_h = _avg_window(oh * stride[0] - padding[0], kernel_size[0], padding[0],
                                       in_h)
        for ow in range(out_w):
            w0, w1, padded_w = _avg_window(ow * stride[1] - padding[1], kernel_size[1],
                                           padding[1], in_w)
            divisor = padded_h * padded_w if count_include_pad else (h1 - h0) * (w1 - w0)
            yield oh, ow, slice(h0, h1), slice(w0, w1), divisor


def avg_pool2d_forward(x, out, kernel_size, stride, padding, ceil_mode,
                       count_include_pad) -> None:
    """out (N, C, Ho, Wo) = sum over each window / its divisor (see the module docstring)."""
    op = "avg_pool2d_forward"
    out_h, out_w = check_pool2d(op, x.shape, kernel_size, stride, padding, (1, 1), ceil_mode)
    _require_shape(op, "out", out, (*x.shape[:2], out_h, out_w))
    x64 = np.asarray(x, np.float64)
    for oh, ow, rows, cols, divisor in _avg_windows(x.shape, out_h, out_w, kernel_size, stride,
                                                    padding, count_include_pad):
        window_sum = x64[:, :, rows, cols].sum(axis=(2, 3))
        out[:, :, oh, ow] = window_sum / divisor if divisor > 0 else 0.0


def avg_pool2d_backward(grad_out, grad_in, kernel_size, stride, padding, ceil_mode,
                        count_include_pad) -> None:
    """grad_in (N, C, H, W): each grad_out / divisor added to every input of its window."""
    op = "avg_pool2d_backward"
    out_h, out_w = check_pool2d(op, grad_in.shape, kernel_size, stride, padding, (1, 1),
                                ceil_mode)
    _require_shape(op, "grad_out", grad_out, (*grad_in.shape[:2], out_h, out_w))
    g = np.asarray(grad_out, np.float64)
    result = np.zeros(grad_in.shape, np.float64)
    for oh, ow, rows, cols, divisor in _avg_windows(grad_in.shape, out_h, out_w, kernel_size,
                                                    stride, padding, count_include_pad):
        if divisor > 0:
            result[:, :, rows, cols] += (g[:, :, oh, ow] / divisor)[:, :, None, None]
    grad_in[...] = result
