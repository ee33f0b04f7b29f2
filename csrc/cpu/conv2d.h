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

#include "common/window_geometry.h"

namespace axonic::cpu {

// The geometry (Conv2dGeometry, conv2d_output_size, check_conv2d_geometry) lives in
// common/window_geometry.h, shared with the CUDA kernels and the bindings.
using axonic::check_conv2d_geometry;
using axonic::Conv2dGeometry;
using axonic::conv2d_output_size;

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
