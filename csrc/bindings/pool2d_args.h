// Argument validation of the pooling bindings, shared by axonic._cpu (NumPy arrays,
// bindings/cpu_pooling.cpp) and axonic._cuda (CUDA arrays, bindings/cuda_pooling.cpp), so
// both modules accept and refuse exactly the same calls with the same messages.
//
// Each function takes the module's parsers: `parse(obj, name, writable)` for float
// arrays (float_array / device_float_array) and, for max pooling, `parse_argmax(obj, op,
// writable)` for the int64 argmax array; it checks dtypes, shapes, geometry and
// overlaps, and returns the parsed arrays with the checked Pool2dGeometry.
// kernel_size, stride, padding and dilation are (h, w) pairs of ints (the functional
// layer expands single ints and stride=None). Outputs are allocated by Python with the
// shape pool2d_output_size gives.
#pragma once

#include <cstdint>
#include <type_traits>
#include <vector>

#include "bindings/array_checks.h"
#include "bindings/window_args.h"
#include "common/checks.h"
#include "common/window_geometry.h"

namespace axonic::bind {

// The functions' docstrings, the same in both modules.
inline constexpr const char* kMaxPool2dForwardDoc =
    "2-D max pooling of x (N, C, H, W) into out (N, C, Ho, Wo) of x's dtype and argmax\n"
    "(N, C, Ho, Wo) int64, the flat index h * W + w of each maximum in its input plane.\n"
    "kernel_size, stride, padding, dilation: (h, w) pairs; output size as PyTorch's.\n"
    "NaN propagates; -inf padding. ValueError for a bad geometry or shape.";
inline constexpr const char* kMaxPool2dBackwardDoc =
    "grad_in (N, C, H, W) = 0, then grad_in[argmax] += grad_out per plane. argmax:\n"
    "int64 of grad_out's shape, from max_pool2d_forward (-1 entries are skipped).";
inline constexpr const char* kAvgPool2dForwardDoc =
    "2-D average pooling of x (N, C, H, W) into out (N, C, Ho, Wo), as PyTorch's\n"
    "avg_pool2d: kernel_size, stride, padding are (h, w) pairs.";
inline constexpr const char* kAvgPool2dBackwardDoc =
    "grad_in (N, C, H, W) of avg_pool2d_forward from grad_out (N, C, Ho, Wo), with the\n"
    "forward's parameters.";

// The shape of a parsed array: a NumPy array's, or the shape member of the others.
template <class Array>
Dims parsed_shape(const Array& a) {
  if constexpr (std::is_base_of_v<py::array, Array>)
    return Dims(a.shape(), a.shape() + a.ndim());
  else
    return a.shape;
}

template <class Array>
void require_nchw(const Array& a, const char* op, const char* name) {
  AXONIC_CHECK(a.ndim() == 4, op, ": ", name, " must be 4-D (N, C, H, W), got shape ",
               a.shape_string());
}

// The geometry of pooling x_like (N, C, H, W) with these parameters, checked.
template <class Array>
Pool2dGeometry pool_geometry(const Array& x_like, const char* op, const Pair& kernel,
                             const Pair& stride, const Pair& padding, const Pair& dilation,
                             bool ceil_mode) {
  Pool2dGeometry g{};
  g.planes = x_like.shape[0] * x_like.shape[1];
  g.in_h = x_like.shape[2];
  g.in_w = x_like.shape[3];
  g.kernel_h = kernel[0];
  g.kernel_w = kernel[1];
  set_window_steps(g, stride, padding, dilation);
  // Checked before pool2d_output_size, which divides by the stride.
  AXONIC_CHECK(g.stride_h >= 1 && g.stride_w >= 1, op, ": stride must be positive, got (",
               g.stride_h, ", ", g.stride_w, ")");
  g.out_h = pool2d_output_size(g.in_h, g.kernel_h, g.stride_h, g.pad_h, g.dilation_h, ceil_mode);
  g.out_w = pool2d_output_size(g.in_w, g.kernel_w, g.stride_w, g.pad_w, g.dilation_w, ceil_mode);
  check_pool2d_geometry(g, op);
  return g;
}

// `shape` (of the array called `name`) must be (N, C, out_h, out_w) for x_like (N, C, H, W).
template <class Array>
void require_output_shape(const Dims& shape, const char* op, const char* name,
                          const Array& x_like, const Pool2dGeometry& g) {
  const Dims expected{x_like.shape[0], x_like.shape[1], g.out_h, g.out_w};
  AXONIC_CHECK(shape == expected, op, ": ", name, " must have shape ", shape_string(expected),
               ", got ", shape_string(shape));
}

// ----- max_pool2d_forward(x, out, argmax, kernel_size, stride, padding, dilation, ceil_mode)

template <class Array, class Index>
struct MaxPoolForwardArgs {
  Array x, out;
  Index argmax;
  Pool2dGeometry g;
};

template <class Parse, class ParseArgmax, class Array = ParsedArray<Parse>,
          class Index = std::invoke_result_t<ParseArgmax, py::handle, const char*, bool>>
MaxPoolForwardArgs<Array, Index> max_pool2d_forward_args(
    Parse parse, ParseArgmax parse_argmax, py::handle x_obj, py::handle out_obj,
    py::handle argmax_obj, const Pair& kernel_size, const Pair& stride, const Pair& padding,
    const Pair& dilation, bool ceil_mode) {
  const char* op = "max_pool2d_forward";
  MaxPoolForwardArgs<Array, Index> a{parse(x_obj, "x", false), parse(out_obj, "out", true),
                                     parse_argmax(argmax_obj, op, true), {}};
  require_same_dtype(a.x, "x", a.out, "out");
  require_nchw(a.x, op, "x");
  a.g = pool_geometry(a.x, op, kernel_size, stride, padding, dilation, ceil_mode);
  require_output_shape(a.out.shape, op, "out", a.x, a.g);
  require_output_shape(parsed_shape(a.argmax), op, "argmax", a.x, a.g);
  require_no_overlap(a.out, "out", a.x, "x");
  return a;
}

// ----- max_pool2d_backward(grad_out, argmax, grad_in) -----------------------------------

template <class Array, class Index>
struct MaxPoolBackwardArgs {
  Array grad_out;
  Index argmax;
  Array grad_in;
  Pool2dGeometry g;  // planes and the in / out plane sizes (argmax carries no window)
};

template <class Parse, class ParseArgmax, class Array = ParsedArray<Parse>,
          class Index = std::invoke_result_t<ParseArgmax, py::handle, const char*, bool>>
MaxPoolBackwardArgs<Array, Index> max_pool2d_backward_args(Parse parse,
                                                           ParseArgmax parse_argmax,
                                                           py::handle grad_out_obj,
                                                           py::handle argmax_obj,
                                                           py::handle grad_in_obj) {
  const char* op = "max_pool2d_backward";
  MaxPoolBackwardArgs<Array, Index> a{parse(grad_out_obj, "grad_out", false),
                                      parse_argmax(argmax_obj, op, false),
                                      parse(grad_in_obj, "grad_in", true), {}};
  require_same_dtype(a.grad_out, "grad_out", a.grad_in, "grad_in");
  require_nchw(a.grad_out, op, "grad_out");
  require_nchw(a.grad_in, op, "grad_in");
  const Dims argmax_shape = parsed_shape(a.argmax);
  AXONIC_CHECK(argmax_shape == a.grad_out.shape, op, ": argmax must have the shape of grad_out ",
               a.grad_out.shape_string(), ", got ", shape_string(argmax_shape));
  AXONIC_CHECK(a.grad_in.shape[0] == a.grad_out.shape[0] &&
                   a.grad_in.shape[1] == a.grad_out.shape[1],
               op, ": grad_in ", a.grad_in.shape_string(), " and grad_out ",
               a.grad_out.shape_string(), " must agree in N and C");
  require_no_overlap(a.grad_in, "grad_in", a.grad_out, "grad_out");
  a.g.planes = a.grad_in.shape[0] * a.grad_in.shape[1];
  a.g.in_h = a.grad_in.shape[2];
  a.g.in_w = a.grad_in.shape[3];
  a.g.out_h = a.grad_out.shape[2];
  a.g.out_w = a.grad_out.shape[3];
  return a;
}

// ----- avg_pool2d_forward(x, out, kernel_size, stride, padding, ceil_mode, count_include_pad)
// ----- avg_pool2d_backward(grad_out, grad_in, kernel_size, stride, padding, ceil_mode, ...)

enum class AvgPoolPass { forward, backward };

// The arrays of either: `in` is read (x, grad_out), `out` written (out, grad_in); the
// geometry is that of pooling x or grad_in.
template <class Array>
struct AvgPoolArgs {
  Array in, out;
  Pool2dGeometry g;
};

template <class Parse, class Array = ParsedArray<Parse>>
AvgPoolArgs<Array> avg_pool2d_args(Parse parse, AvgPoolPass pass, py::handle in_obj,
                                   py::handle out_obj, const Pair& kernel_size,
                                   const Pair& stride, const Pair& padding, bool ceil_mode) {
  const bool forward = pass == AvgPoolPass::forward;
  const char* op = forward ? "avg_pool2d_forward" : "avg_pool2d_backward";
  const char* in_name = forward ? "x" : "grad_out";
  const char* out_name = forward ? "out" : "grad_in";
  AvgPoolArgs<Array> a{parse(in_obj, in_name, false), parse(out_obj, out_name, true), {}};
  require_same_dtype(a.in, in_name, a.out, out_name);
  const Array& x_like = forward ? a.in : a.out;  // (N, C, H, W)
  const Array& pooled = forward ? a.out : a.in;  // (N, C, Ho, Wo)
  require_nchw(x_like, op, forward ? in_name : out_name);
  a.g = pool_geometry(x_like, op, kernel_size, stride, padding, Pair{1, 1}, ceil_mode);
  require_output_shape(pooled.shape, op, forward ? out_name : in_name, x_like, a.g);
  require_no_overlap(a.out, out_name, a.in, in_name);
  return a;
}

}  // namespace axonic::bind
