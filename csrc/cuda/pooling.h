// Host launchers of 2-D max and average pooling on the GPU (pooling.cu: forwards and
// average backward; pooling_max_backward.cu: max backward), the contract of
// cpu/pooling.h on C-contiguous NCHW device buffers viewed as planes = N * C planes of
// in_h x in_w (input) and out_h x out_w (output). The geometry must pass
// check_pool2d_geometry and pool2d_fits_int32 (the binding checks both); outputs must
// not overlap inputs. Results are deterministic and agree with the CPU kernels: the
// same argmax, tie and NaN rules, and max backward adds in the CPU's order.
#pragma once

#include <cstdint>

#include "common/window_geometry.h"
#include "cuda/stream.h"

namespace axonic::cuda {

// Whether the kernels' 32-bit indices fit: a plane's elements (input and output) and
// every window position.
bool pool2d_fits_int32(const Pool2dGeometry& g);

// out, argmax = the max over each window and its flat in-plane index (h * in_w + w);
// NaN wins (the last NaN), ties keep the first, a window with no input element gives
// -inf and -1. Asynchronous on `stream`.
template <typename T>
void max_pool2d_forward(const T* x, T* out, int64_t* argmax, const Pool2dGeometry& g,
                        cudaStream_t stream);

// grad_in = 0, then grad_in[argmax] += grad_out per plane (-1 entries skipped). Only
// planes, in_h, in_w, out_h and out_w of g are used. Checks argmax on the device first
// and waits for that check (a stream synchronization): throws std::invalid_argument
// naming the first entry outside [-1, in_h * in_w), with grad_in untouched.
template <typename T>
void max_pool2d_backward(const T* grad_out, const int64_t* argmax, T* grad_in,
                         const Pool2dGeometry& g, cudaStream_t stream);

// out = the mean over each window (PyTorch's divisor rules, sums in double).
// Asynchronous on `stream`.
template <typename T>
void avg_pool2d_forward(const T* x, T* out, const Pool2dGeometry& g, bool count_include_pad,
                        cudaStream_t stream);

// grad_in: each input element sums grad_out / divisor over the windows that cover it.
// Asynchronous on `stream`.
template <typename T>
void avg_pool2d_backward(const T* grad_out, T* grad_in, const Pool2dGeometry& g,
                         bool count_include_pad, cudaStream_t stream);

}  // namespace axonic::cuda
