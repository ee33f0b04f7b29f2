// 2-D max and average pooling over C-contiguous NCHW arrays, as PyTorch's
// max_pool2d / avg_pool2d. Every (n, c) plane of H x W elements is pooled on its
// own, so the N * C planes are the unit of work (one plane per OpenMP iteration).
// Output planes are out_h x out_w, from pool2d_output_size. The geometry must pass
// check_pool2d_geometry (the binding calls it); outputs must not overlap inputs.
// The mathematics is that of python/axonic/backends/reference_pooling.py; the
// algorithms are described in pooling.cpp (average) and pooling_max.cpp (max).
#pragma once

#include <cstdint>

namespace axonic::cpu {

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

// out, argmax (planes x out_h x out_w) = max over each window of x (planes x in_h x
// in_w); argmax is the flat index h * in_w + w of the maximum within its input plane
// (PyTorch's return_indices). NaN wins (the last NaN of a window); ties keep the
// first. A window with no element inside the input (possible only with dilation)
// gives -inf and argmax -1 (PyTorch leaves an index outside the plane there).
template <typename T>
void max_pool2d_forward(const T* x, T* out, int64_t* argmax, const Pool2dGeometry& g);

// Throws std::invalid_argument naming the first argmax entry outside [-1, in_h * in_w).
void check_pool2d_argmax(const int64_t* argmax, const Pool2dGeometry& g);

// grad_in (planes x in_h x in_w) = 0, then grad_in[argmax] += grad_out per plane
// (entries of -1 are skipped). Checks argmax before writing anything.
template <typename T>
void max_pool2d_backward(const T* grad_out, const int64_t* argmax, T* grad_in,
                         const Pool2dGeometry& g);

// out = mean over each window of x. The window is clipped to input + padding; the
// divisor is that clipped window's size with count_include_pad, else the number of
// input elements it covers (PyTorch's rule).
template <typename T>
void avg_pool2d_forward(const T* x, T* out, const Pool2dGeometry& g, bool count_include_pad);

// grad_in = 0, then each output's grad_out / divisor is added to its window's inputs.
template <typename T>
void avg_pool2d_backward(const T* grad_out, T* grad_in, const Pool2dGeometry& g,
                         bool count_include_pad);

}  // namespace axonic::cpu
