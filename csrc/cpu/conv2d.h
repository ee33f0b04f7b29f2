// 2-D convolution (cross-correlation, as PyTorch's conv2d) over C-contiguous NCHW
// arrays, with zero padding, stride, dilation and groups:
//   x (N, C_in, H, W), weight (C_out, C_in / groups, kH, kW), bias (C_out) or none,
//   out (N, C_out, Ho, Wo), Ho = floor((H + 2 pad_h - dilation_h (kH - 1) - 1) / stride_h) + 1.
// Output channel o of group g = o / (C_out / groups) reads input channels
// [g C_in / groups, (g + 1) C_in / groups). The algorithm (im2col + the packed GEMM in
// bounded column tiles) is described in conv2d.cpp; the mathematics is that of
// python/axonic/backends/reference_conv2d.py. The geometry must pass
// check_conv2d_geometry (the binding calls it); outputs must not overlap inputs.
#pragma once

#include <cstdint>

namespace axonic::cpu {

// Sizes of one convolution; pairs are (h, w).
struct Conv2dGeometry {
  int64_t batch, in_channels, in_h, in_w;
  int64_t out_channels, out_h, out_w;
  int64_t kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w;
  int64_t groups;
};

// PyTorch's output size along one axis: floor((in + 2 pad - dilation (kernel - 1) - 1)
// / stride) + 1. May return <= 0 (kernel larger than the padded input); the caller
// checks. Needs stride >= 1.
int64_t conv2d_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad,
                           int64_t dilation);

// Throws std::invalid_argument unless channels and kernel sizes are >= 1, groups >= 1
// divides both channel counts, stride and dilation are >= 1, padding >= 0, and out_h,
// out_w match conv2d_output_size and are >= 1. `op` names the function in the message.
void check_conv2d_geometry(const Conv2dGeometry& g, const char* op);

// out = conv2d(x, weight) + bias (bias may be nullptr).
template <typename T>
void conv2d_forward(const T* x, const T* weight, const T* bias, T* out,
                    const Conv2dGeometry& g);

// grad_in (N, C_in, H, W) = the gradient of conv2d_forward's output with respect to x
// (overwritten, not accumulated).
template <typename T>
void conv2d_backward_input(const T* grad_out, const T* weight, T* grad_in,
                           const Conv2dGeometry& g);

// grad_weight (C_out, C_in / groups, kH, kW) = sum over the batch of grad_out @ columns^T
// (overwritten, not accumulated).
template <typename T>
void conv2d_backward_weight(const T* grad_out, const T* x, T* grad_weight,
                            const Conv2dGeometry& g);

// grad_bias (channels) = sum of grad_out (batch, channels, plane) over batch and plane,
// accumulated in double.
template <typename T>
void conv2d_backward_bias(const T* grad_out, T* grad_bias, int64_t batch, int64_t channels,
                          int64_t plane);

// conv2d_backward_input, _weight and _bias in one call; grad_in, grad_weight and
// grad_bias (C_out) may each be nullptr (not wanted). With both of the first two it
// makes one pass over the images where the work split allows (see conv2d.cpp).
template <typename T>
void conv2d_backward(const T* grad_out, const T* x, const T* weight, T* grad_in,
                     T* grad_weight, T* grad_bias, const Conv2dGeometry& g);

}  // namespace axonic::cpu
