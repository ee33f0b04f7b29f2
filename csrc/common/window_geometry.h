// The geometry of the sliding-window kernels, 2-D convolution and 2-D pooling, over
// C-contiguous NCHW arrays: the sizes of one call, PyTorch's output-size formulas and
// the argument checks. Shared by the CPU kernels (cpu/conv2d.h, cpu/pooling.h, which
// alias these names into axonic::cpu), the CUDA launchers and both modules' bindings.
// The mathematics is python/axonic/backends/reference_conv2d.py's and
// reference_pooling.py's.
#pragma once

#include <cstdint>

namespace axonic {

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

// Sizes of one pooling call; pairs are (h, w). dilation is 1 for average pooling.
struct Pool2dGeometry {
  int64_t planes;  // N * C
  int64_t in_h, in_w, out_h, out_w;
  int64_t kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w;
};

// PyTorch's pooling_output_shape for one axis: floor (or ceil with ceil_mode) of
// (in + 2 pad - dilation (kernel - 1) - 1) / stride + 1, and with ceil_mode the last
// window must start inside the input or the left padding. May return <= 0; the
// caller checks. Needs stride >= 1.
int64_t pool2d_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad,
                           int64_t dilation, bool ceil_mode);

// Throws std::invalid_argument unless kernel, stride and dilation are >= 1, padding
// is in [0, kernel / 2] and the output is at least 1 x 1, as PyTorch checks. `op`
// names the function in the message.
void check_pool2d_geometry(const Pool2dGeometry& g, const char* op);

// Throws std::invalid_argument for max_pool2d_backward's argmax entry `value`, found at
// flat position `position`, outside [-1, in_h * in_w): the message every backend gives.
[[noreturn]] void throw_pool2d_argmax_out_of_range(int64_t value, int64_t position,
                                                   const Pool2dGeometry& g);

}  // namespace axonic
