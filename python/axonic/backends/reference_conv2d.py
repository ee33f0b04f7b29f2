"""Reference (NumPy) 2-D convolution: the oracle for csrc/cpu/conv2d.

Arrays are NCHW: x (N, C_in, H, W), weight (C_out, C_in / groups, kH, kW), bias (C_out)
or None, out (N, C_out, Ho, Wo); ``stride``, ``padding`` and ``dilation`` are (h, w)
pairs. As PyTorch's conv2d (a cross-correlation with zero padding)::

    out[n, o, oh, ow] = bias[o] + sum_{c, i, j} weight[o, c, i, j]
        * xpad[n, g * C_in / groups + c, oh * stride_h + i * dilation_h,
               ow * stride_w + j * dilation_w]

with g = o // (C_out / groups), xpad = x zero-padded by pad_h rows and pad_w columns on
each side, and Ho = floor((H + 2 pad_h - dilation_h (kH - 1) - 1) / stride_h) + 1 (Wo
alike). The backward functions are the adjoints of that sum. Arithmetic is in float64,
cast into the outputs. Written for clarity (sliding windows and einsum), not speed.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .reference_windows import check_window_steps


def conv2d_output_size(size: int, kernel: int, stride: int, pad: int, dilation: int) -> int:
    """One axis of the output (may be <= 0; check_conv2d rejects that)."""
    return (size + 2 * pad - dilation * (kernel - 1) - 1) // stride + 1


def check_conv2d(op: str, x_shape, weight_shape, stride, padding, dilation,
                 groups: int) -> tuple[int, int]:
    """Validates convolving an NCHW array of ``x_shape`` with a weight of
    ``weight_shape``; returns (out_h, out_w). Raises ValueError, as the kernels do."""
    if len(x_shape) != 4:
        raise ValueError(f"{op}: x must be 4-D (N, C_in, H, W), got shape {tuple(x_shape)}")
    if len(weight_shape) != 4:
        raise ValueError(f"{op}: weight must be 4-D (C_out, C_in / groups, kH, kW), got "
                         f"shape {tuple(weight_shape)}")
    stride, padding, dilation = (tuple(int(v) for v in p) for p in (stride, padding, dilation))
    groups = int(groups)
    if groups < 1:
        raise ValueError(f"{op}: groups must be positive, got {groups}")
    c_out, c_per_group, k_h, k_w = (int(v) for v in weight_shape)
    c_in = int(x_shape[1])
    if c_in < 1 or c_out < 1 or min(k_h, k_w) < 1:
        raise ValueError(f"{op}: channels and kernel sizes must be positive, got x "
                         f"{tuple(x_shape)} and weight {tuple(weight_shape)}")
    if c_per_group * groups != c_in:
        raise ValueError(f"{op}: weight {tuple(weight_shape)} with groups={groups} expects "
                         f"input with {c_per_group * groups} channels, got x {tuple(x_shape)}")
    if c_out % groups != 0:
        raise ValueError(f"{op}: out_channels {c_out} must be divisible by groups {groups}")
    check_window_steps(op, stride, padding, dilation)
    out = tuple(conv2d_output_size(int(x_shape[2 + a]), (k_h, k_w)[a], stride[a], padding[a],
                                   dilation[a]) for a in range(2))
    if min(out) < 1:
        raise ValueError(f"{op}: the (dilated) kernel {(k_h, k_w)} is larger than the padded "
                         f"input {(x_shape[2] + 2 * padding[0], x_shape[3] + 2 * padding[1])}")
    return out


def _windows(x, weight_shape, stride, padding, dilation, groups):
    """Sliding windows of the padded x as (N, G, C_in / G, Ho, Wo, kH, kW), float64."""
    n, c_in, _, _ = x.shape
    k_h, k_w = weight_shape[2:]
    xpad = np.pad(np.asarray(x, np.float64),
                  ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2))
    span = (dilation[0] * (k_h - 1) + 1, dilation[1] * (k_w - 1) + 1)
    win = sliding_window_view(xpad, span, axis=(2, 3))
    win = win[:, :, ::stride[0], ::stride[1], ::dilation[0], ::dilation[1]]
    return win.reshape(n, groups, c_in // groups, *win.shape[2:])


def _grouped_weight(weight, groups):
    """weight as (G, C_out / G, C_in / G, kH, kW), float64."""
    w = np.asarray(weight, np.float64)
    return w.reshape(groups, w.shape[0] // groups, *w.shape[1:])


def conv2d_forward(x, weight, bias, out, stride, padding, dilation, groups) -> None:
    """out = conv2d(x, weight) + bias (bias may be None)."""
    out_h, out_w = check_conv2d("conv2d_forward", x.shape, weight.shape, stride, padding,
                                dilation, groups)
    win = _windows(x, weight.shape, stride, padding, dilation, groups)
    y = np.einsum("ngchwij,gocij->ngohw", win, _grouped_weight(weight, groups))
    y = y.reshape(x.shape[0], weight.shape[0], out_h, out_w)
    if bias is not None:
        y = y + np.asarray(bias, np.float64)[None, :, None, None]
    out[...] = y


def conv2d_backward_input(grad_out, weight, grad_in, stride, padding, dilation,
                          groups) -> None:
    """grad_in (N, C_in, H, W): each output's grad_out times weight, added to the inputs
    its window read (padding positions dropped)."""
    out_h, out_w = check_conv2d("conv2d_backward_input", grad_in.shape, weight.shape, stride,
                                padding, dilation, groups)
    n, c_in, h, w = grad_in.shape
    k_h, k_w = weight.shape[2:]
    g_out = np.asarray(grad_out, np.float64).reshape(n, groups, -1, out_h, out_w)
    # (N, G, C_in / G, Ho, Wo, kH, kW): the gradient of every window element.
    g_win = np.einsum("ngohw,gocij->ngchwij", g_out, _grouped_weight(weight, groups))
    g_pad = np.zeros((n, c_in, h + 2 * padding[0], w + 2 * padding[1]))
    g_win = g_win.reshape(n, c_in, out_h, out_w, k_h, k_w)
    for i in range(k_h):
        for j in range(k_w):
            r0, c0 = i * dilation[0], j * dilation[1]
            g_pad[:, :, r0:r0 + stride[0] * (out_h - 1) + 1:stride[0],
                  c0:c0 + stride[1] * (out_w - 1) + 1:stride[1]] += g_win[..., i, j]
    grad_in[...] = g_pad[:, :, padding[0]:padding[0] + h, padding[1]:padding[1] + w]


def conv2d_backward_weight(grad_out, x, grad_weight, stride, padding, dilation,
                           groups) -> None:
    """grad_weight (C_out, C_in / groups, kH, kW) = sum over the batch and output pixels of
    grad_out times the window it came from."""
    check_conv2d("conv2d_backward_weight", x.shape, grad_weight.shape, stride, padding,
                 dilation, groups)
    win = _windows(x, grad_weight.shape, stride, padding, dilation, groups)
    n = x.shape[0]
    g_out = np.asarray(grad_out, np.float64).reshape(n, groups, -1, *grad_out.shape[2:])
    gw = np.einsum("ngohw,ngchwij->gocij", g_out, win)
    grad_weight[...] = gw.reshape(grad_weight.shape)


def conv2d_backward_bias(grad_out, grad_bias) -> None:
    """grad_bias (C_out) = grad_out (N, C_out, Ho, Wo) summed over N, Ho and Wo."""
    if grad_out.ndim != 4:
        raise ValueError(f"conv2d_backward_bias: grad_out must be 4-D (N, C_out, Ho, Wo), got "
                         f"shape {tuple(grad_out.shape)}")
    grad_bias[...] = np.asarray(grad_out, np.float64).sum(axis=(0, 2, 3))


def conv2d_backward(grad_out, x, weight, grad_in, grad_weight, grad_bias, stride, padding,
                    dilation, groups) -> None:
    """The gradients wanted, in one call: grad_in, grad_weight and grad_bias are arrays to
    overwrite or None, as in the three functions above."""
    if grad_in is not None:
        conv2d_backward_input(grad_out, weight, grad_in, stride, padding, dilation, groups)
    if grad_weight is not None:
        conv2d_backward_weight(grad_out, x, grad_weight, stride, padding, dilation, groups)
    if grad_bias is not None:
        conv2d_backward_bias(grad_out, grad_bias)
