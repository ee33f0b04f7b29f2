// Argument validation of the conv2d bindings, shared by axonic._cpu (NumPy arrays,
// bindings/cpu_conv2d.cpp) and axonic._cuda (CUDA arrays, bindings/cuda_conv2d.cpp), so
// both modules accept and refuse exactly the same calls with the same messages.
//
// Each function takes the module's array parser, `parse(obj, name, writable)` returning
// its array type (float_array -> FloatArray, device_float_array -> DeviceArray), checks
// dtypes, shapes, geometry and overlaps, and returns the parsed arrays with the checked
// Conv2dGeometry. stride, padding and dilation are (h, w) pairs of ints (nn.functional
// expands single ints); the kernel size and groups' channel split come from weight
// (C_out, C_in / groups, kH, kW).
#pragma once

#include <cstdint>
#include <vector>

#include "bindings/array_checks.h"
#include "bindings/window_args.h"
#include "common/checks.h"
#include "common/window_geometry.h"

namespace axonic::bind {

// The functions' docstrings, the same in both modules.
inline constexpr const char* kConv2dForwardDoc =
    "out (N, C_out, Ho, Wo) = conv2d(x (N, C_in, H, W), weight (C_out, C_in / groups,\n"
    "kH, kW)) + bias (C_out, or None), as PyTorch's conv2d with zero padding.\n"
    "stride, padding, dilation: (h, w) pairs. ValueError for a bad geometry or shape.";
inline constexpr const char* kConv2dBackwardInputDoc =
    "grad_in (N, C_in, H, W) of conv2d_forward from grad_out (N, C_out, Ho, Wo).";
inline constexpr const char* kConv2dBackwardWeightDoc =
    "grad_weight (C_out, C_in / groups, kH, kW) of conv2d_forward, summed over the batch.";
inline constexpr const char* kConv2dBackwardDoc =
    "The gradients of conv2d_forward wanted, in one call: grad_in (N, C_in, H, W),\n"
    "grad_weight (C_out, C_in / groups, kH, kW), grad_bias (C_out); each an array to\n"
    "overwrite, or None. The CPU module computes them in one pass over the images\n"
    "where it can.";
inline constexpr const char* kConv2dBackwardBiasDoc =
    "grad_bias (C_out) = grad_out (N, C_out, Ho, Wo) summed over N, Ho and Wo.";

template <class Array>
void require_4d(const Array& a, const char* op, const char* name, const char* layout) {
  AXONIC_CHECK(a.ndim() == 4, op, ": ", name, " must be 4-D ", layout, ", got shape ",
               a.shape_string());
}

// The geometry of convolving x_like (N, C_in, H, W) with weight, checked; out_like is
// the (N, C_out, Ho, Wo) array whose shape must match.
template <class Array>
Conv2dGeometry conv_geometry(const Array& x_like, const Array& weight, const Array& out_like,
                             const char* out_name, const char* op, const Pair& stride,
                             const Pair& padding, const Pair& dilation, int64_t groups) {
  require_4d(x_like, op, "x", "(N, C_in, H, W)");
  require_4d(weight, op, "weight", "(C_out, C_in / groups, kH, kW)");
  require_4d(out_like, op, out_name, "(N, C_out, Ho, Wo)");
  AXONIC_CHECK(groups >= 1, op, ": groups must be positive, got ", groups);
  Conv2dGeometry g{};
  g.batch = x_like.shape[0];
  g.in_channels = x_like.shape[1];
  g.in_h = x_like.shape[2];
  g.in_w = x_like.shape[3];
  g.out_channels = weight.shape[0];
  g.kernel_h = weight.shape[2];
  g.kernel_w = weight.shape[3];
  set_window_steps(g, stride, padding, dilation);
  g.groups = groups;
  AXONIC_CHECK(g.in_channels % groups == 0 && weight.shape[1] * groups == g.in_channels, op,
               ": weight ", weight.shape_string(), " with groups=", groups,
               " expects input with ", weight.shape[1] * groups, " channels, got x ",
               x_like.shape_string());
  // Checked before the output size, which divides by the stride.
  AXONIC_CHECK(g.stride_h >= 1 && g.stride_w >= 1, op, ": stride must be positive, got (",
               g.stride_h, ", ", g.stride_w, ")");
  g.out_h = conv2d_output_size(g.in_h, g.kernel_h, g.stride_h, g.pad_h, g.dilation_h);
  g.out_w = conv2d_output_size(g.in_w, g.kernel_w, g.stride_w, g.pad_w, g.dilation_w);
  check_conv2d_geometry(g, op);
  const Dims expected{g.batch, g.out_channels, g.out_h, g.out_w};
  AXONIC_CHECK(out_like.shape == expected, op, ": ", out_name, " must have shape ",
               shape_string(expected), ", got ", out_like.shape_string());
  return g;
}

// An optional array: None (given == false), or the parsed array.
template <class Array>
struct OptionalArray {
  Array array;
  bool given = false;

  template <typename T>
  T* ptr() const { return given ? array.template ptr<T>() : nullptr; }
};

// ----- conv2d_forward(x, weight, bias, out, stride, padding, dilation, groups) -----------

template <class Array>
struct Conv2dForwardArgs {
  Array x, weight, out;
  OptionalArray<Array> bias;
  Conv2dGeometry g;
};

template <class Parse, class Array = ParsedArray<Parse>>
Conv2dForwardArgs<Array> conv2d_forward_args(Parse parse, py::handle x_obj,
                                             py::handle weight_obj, py::handle bias_obj,
                                             py::handle out_obj, const Pair& stride,
                                             const Pair& padding, const Pair& dilation,
                                             int64_t groups) {
  const char* op = "conv2d_forward";
  Conv2dForwardArgs<Array> a{parse(x_obj, "x", false), parse(weight_obj, "weight", false),
                             parse(out_obj, "out", true), {}, {}};
  require_same_dtype(a.x, "x", a.weight, "weight");
  require_same_dtype(a.x, "x", a.out, "out");
  a.g = conv_geometry(a.x, a.weight, a.out, "out", op, stride, padding, dilation, groups);
  if (!bias_obj.is_none()) {
    a.bias = {parse(bias_obj, "bias", false), true};
    require_same_dtype(a.x, "x", a.bias.array, "bias");
    AXONIC_CHECK(a.bias.array.shape == Dims{a.g.out_channels}, op,
                 ": bias must have shape (", a.g.out_channels, ",), got ",
                 a.bias.array.shape_string());
    require_no_overlap(a.out, "out", a.bias.array, "bias");
  }
  require_no_overlap(a.out, "out", a.x, "x");
  require_no_overlap(a.out, "out", a.weight, "weight");
  return a;
}

// ----- conv2d_backward_input(grad_out, weight, grad_in, stride, padding, dilation, groups)
// ----- conv2d_backward_weight(grad_out, x, grad_weight, stride, padding, dilation, groups)

// The gradient one of those computes.
enum class Conv2dGradient { input, weight };

// The arrays of one: grad_out, the operand it multiplies (weight for the input gradient,
// x for the weight gradient) and the gradient it writes (grad_in, grad_weight).
template <class Array>
struct Conv2dGradientArgs {
  Array grad_out, operand, out;
  Conv2dGeometry g;
};

template <class Parse, class Array = ParsedArray<Parse>>
Conv2dGradientArgs<Array> conv2d_gradient_args(Parse parse, Conv2dGradient gradient,
                                               py::handle grad_out_obj, py::handle operand_obj,
                                               py::handle out_obj, const Pair& stride,
                                               const Pair& padding, const Pair& dilation,
                                               int64_t groups) {
  const bool input = gradient == Conv2dGradient::input;
  const char* op = input ? "conv2d_backward_input" : "conv2d_backward_weight";
  const char* operand_name = input ? "weight" : "x";
  const char* out_name = input ? "grad_in" : "grad_weight";
  Conv2dGradientArgs<Array> a{parse(grad_out_obj, "grad_out", false),
                              parse(operand_obj, operand_name, false),
                              parse(out_obj, out_name, true), {}};
  require_same_dtype(a.grad_out, "grad_out", a.operand, operand_name);
  require_same_dtype(a.grad_out, "grad_out", a.out, out_name);
  a.g = conv_geometry(input ? a.out : a.operand, input ? a.operand : a.out, a.grad_out,
                      "grad_out", op, stride, padding, dilation, groups);
  require_no_overlap(a.out, out_name, a.grad_out, "grad_out");
  require_no_overlap(a.out, out_name, a.operand, operand_name);
  return a;
}

// ----- conv2d_backward_bias(grad_out, grad_bias) -----------------------------------------

template <class Array>
struct Conv2dBackwardBiasArgs {
  Array grad_out, grad_bias;
  int64_t batch, channels, plane;  // grad_out is (batch, channels, plane)
};

template <class Parse, class Array = ParsedArray<Parse>>
Conv2dBackwardBiasArgs<Array> conv2d_backward_bias_args(Parse parse, py::handle grad_out_obj,
                                                        py::handle grad_bias_obj) {
  const char* op = "conv2d_backward_bias";
  Conv2dBackwardBiasArgs<Array> a{parse(grad_out_obj, "grad_out", false),
                                  parse(grad_bias_obj, "grad_bias", true), 0, 0, 0};
  require_same_dtype(a.grad_out, "grad_out", a.grad_bias, "grad_bias");
  require_4d(a.grad_out, op, "grad_out", "(N, C_out, Ho, Wo)");
  a.batch = a.grad_out.shape[0];
  a.channels = a.grad_out.shape[1];
  a.plane = a.grad_out.shape[2] * a.grad_out.shape[3];
  AXONIC_CHECK(a.grad_bias.shape == Dims{a.channels}, op,
               ": grad_bias must have shape (", a.channels, ",), got ",
               a.grad_bias.shape_string());
  require_no_overlap(a.grad_bias, "grad_bias", a.grad_out, "grad_out");
  return a;
}

// ----- conv2d_backward(grad_out, x, weight, grad_in, grad_weight, grad_bias, ...) --------

template <class Array>
struct Conv2dBackwardArgs {
  Array grad_out, x, weight;
  OptionalArray<Array> grad_in, grad_weight, grad_bias;  // each None or an output
  Conv2dGeometry g;
};

template <class Parse, class Array = ParsedArray<Parse>>
Conv2dBackwardArgs<Array> conv2d_backward_args(Parse parse, py::handle grad_out_obj,
                                               py::handle x_obj, py::handle weight_obj,
                                               py::handle grad_in_obj,
                                               py::handle grad_weight_obj,
                                               py::handle grad_bias_obj, const Pair& stride,
                                               const Pair& padding, const Pair& dilation,
                                               int64_t groups) {
  const char* op = "conv2d_backward";
  Conv2dBackwardArgs<Array> a{parse(grad_out_obj, "grad_out", false), parse(x_obj, "x", false),
                              parse(weight_obj, "weight", false), {}, {}, {}, {}};
  require_same_dtype(a.x, "x", a.grad_out, "grad_out");
  require_same_dtype(a.x, "x", a.weight, "weight");
  a.g = conv_geometry(a.x, a.weight, a.grad_out, "grad_out", op, stride, padding, dilation,
                      groups);
  // An optional output: None, or a writable array of x's dtype and the expected shape.
  const auto optional_output = [&](py::handle obj, const char* name,
                                   const Dims& shape) {
    OptionalArray<Array> out;
    if (obj.is_none()) return out;
    out = {parse(obj, name, true), true};
    require_same_dtype(a.x, "x", out.array, name);
    AXONIC_CHECK(out.array.shape == shape, op, ": ", name, " must have shape ",
                 shape_string(shape), ", got ", out.array.shape_string());
    return out;
  };
  a.grad_in = optional_output(grad_in_obj, "grad_in", a.x.shape);
  a.grad_weight = optional_output(grad_weight_obj, "grad_weight", a.weight.shape);
  a.grad_bias = optional_output(grad_bias_obj, "grad_bias", {a.g.out_channels});
  const OptionalArray<Array>* outputs[3] = {&a.grad_in, &a.grad_weight, &a.grad_bias};
  const char* names[3] = {"grad_in", "grad_weight", "grad_bias"};
  for (int i = 0; i < 3; ++i) {
    if (!outputs[i]->given) continue;
    const Array& out = outputs[i]->array;
    require_no_overlap(out, names[i], a.grad_out, "grad_out");
    require_no_overlap(out, names[i], a.x, "x");
    require_no_overlap(out, names[i], a.weight, "weight");
    for (int j = 0; j < i; ++j) {
      if (outputs[j]->given) require_no_overlap(out, names[i], outputs[j]->array, names[j]);
    }
  }
  return a;
}

}  // namespace axonic::bind
