// 2-D max and average pooling over C-contiguous NCHW arrays, as PyTorch's
// max_pool2d / avg_pool2d. Every (n, c) plane of H x W elements is pooled on its
// own, so the N * C planes are the unit of work (one plane per OpenMP iteration).
// Output planes are out_h x out_w, from pool2d_output_size. The geometry must pass
// check_pool2d_geometry (the binding calls it); outputs must not overlap inputs.
// The mathematics is that of python/axonic/backends/reference_pooling.py; the
// algorithms are described in pooling.cpp (average) and pooling_max.cpp (max).
#pragma once

#include <cstdint>

#include "common/window_geometry.h"

namespace axonic::cpu {

// The geometry (Pool2dGeometry, pool2d_output_size, check_pool2d_geometry) lives in
// common/window_geometry.h, shared with the CUDA kernels and the bindings.
using axonic::check_pool2d_geometry;
using axonic::Pool2dGeometry;
using axonic::pool2d_output_size;

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
