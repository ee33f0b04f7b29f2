// Host launchers of 2-D convolution on the GPU (conv2d.cu: forward and backward input;
// conv2d_weight.cu: backward weight, bias and the combined backward), the contract of
// cpu/conv2d.h on C-contiguous NCHW device buffers: x (N, C_in, H, W), weight (C_out,
// C_in / groups, kH, kW), bias (C_out) or nullptr, out (N, C_out, Ho, Wo). The geometry
// must pass check_conv2d_geometry and conv2d_fits_int32 (the binding checks both);
// outputs must not overlap inputs. Outputs are overwritten, never accumulated into.
// Asynchronous on `stream`; results are deterministic (no floating-point atomics).
#pragma once

#include <cstdint>

#include "common/window_geometry.h"
#include "cuda/stream.h"

namespace axonic::cuda {

// Whether every index the kernels form in 32 bits fits: the elements of one image of x
// and of out, of weight, and the pixels of the batch (N H W, N Ho Wo).
bool conv2d_fits_int32(const Conv2dGeometry& g);

// out = conv2d(x, weight) + bias.
template <typename T>
void conv2d_forward(const T* x, const T* weight, const T* bias, T* out,
                    const Conv2dGeometry& g, cudaStream_t stream);

// grad_in (N, C_in, H, W): the gradient of conv2d_forward's output with respect to x.
template <typename T>
void conv2d_backward_input(const T* grad_out, const T* weight, T* grad_in,
                           const Conv2dGeometry& g, cudaStream_t stream);

// grad_weight (C_out, C_in / groups, kH, kW), summed over the batch.
template <typename T>
void conv2d_backward_weight(const T* grad_out, const T* x, T* grad_weight,
                            const Conv2dGeometry& g, cudaStream_t stream);

// grad_bias (channels) = grad_out (batch, channels, plane) summed over batch and plane,
// accumulated in double.
template <typename T>
void conv2d_backward_bias(const T* grad_out, T* grad_bias, int64_t batch, int64_t channels,
                          int64_t plane, cudaStream_t stream);

// The three backward passes; any of grad_in, grad_weight, grad_bias may be nullptr.
template <typename T>
void conv2d_backward(const T* grad_out, const T* x, const T* weight, T* grad_in,
                     T* grad_weight, T* grad_bias, const Conv2dGeometry& g,
                     cudaStream_t stream);

}  // namespace axonic::cuda
