// Python bindings of 2-D convolution over NCHW arrays, with the names and argument
// order of backends/reference_conv2d.py. stride, padding and dilation are (h, w) pairs
// of ints (nn.functional expands single ints); the kernel size and groups' channel
// split come from weight (C_out, C_in / groups, kH, kW). Outputs are allocated by
// Python; every shape is checked here before the kernel runs.
#include <array>
#include <vector>

#include "bindings/cpu_bindings.h"
#include "common/checks.h"
#include "cpu/conv2d.h"

namespace axonic::bind {

namespace {

using Pair = std::array<int64_t, 2>;

void require_4d(const FloatArray& a, const char* op, const char* name, const char* layout) {
  AXONIC_CHECK(a.ndim() == 4, op, ": ", name, " must be 4-D ", layout, ", got shape ",
               a.shape_string());
}

// The geometry of convolving x_like (N, C_in, H, W) with weight, checked; out_like is
// the (N, C_out, Ho, Wo) array whose shape must match.
cpu::Conv2dGeometry conv_geometry(const FloatArray& x_like, const FloatArray& weight,
                                  const FloatArray& out_like, const char* out_name,
                                  const char* op, const Pair& stride, const Pair& padding,
                                  const Pair& dilation, int64_t groups) {
  require_4d(x_like, op, "x", "(N, C_in, H, W)");
  require_4d(weight, op, "weight", "(C_out, C_in / groups, kH, kW)");
  require_4d(out_like, op, out_name, "(N, C_out, Ho, Wo)");
  AXONIC_CHECK(groups >= 1, op, ": groups must be positive, got ", groups);
  cpu::Conv2dGeometry g{};
  g.batch = x_like.shape[0];
  g.in_channels = x_like.shape[1];
  g.in_h = x_like.shape[2];
  g.in_w = x_like.shape[3];
  g.out_channels = weight.shape[0];
  g.kernel_h = weight.shape[2];
  g.kernel_w = weight.shape[3];
  g.stride_h = stride[0];
  g.stride_w = stride[1];
  g.pad_h = padding[0];
  g.pad_w = padding[1];
  g.dilation_h = dilation[0];
  g.dilation_w = dilation[1];
  g.groups = groups;
  AXONIC_CHECK(g.in_channels % groups == 0 && weight.shape[1] * groups == g.in_channels, op,
               ": weight ", weight.shape_string(), " with groups=", groups,
               " expects input with ", weight.shape[1] * groups, " channels, got x ",
               x_like.shape_string());
  // Checked before the output size, which divides by the stride.
  AXONIC_CHECK(g.stride_h >= 1 && g.stride_w >= 1, op, ": stride must be positive, got (",
               g.stride_h, ", ", g.stride_w, ")");
  g.out_h = cpu::conv2d_output_size(g.in_h, g.kernel_h, g.stride_h, g.pad_h, g.dilation_h);
  g.out_w = cpu::conv2d_output_size(g.in_w, g.kernel_w, g.stride_w, g.pad_w, g.dilation_w);
  cpu::check_conv2d_geometry(g, op);
  const std::vector<int64_t> expected{g.batch, g.out_channels, g.out_h, g.out_w};
  AXONIC_CHECK(out_like.shape == expected, op, ": ", out_name, " must have shape ",
               shape_string(expected), ", got ", out_like.shape_string());
  return g;
}

void conv2d_forward_binding(py::handle x_obj, py::handle weight_obj, py::handle bias_obj,
                            py::handle out_obj, const Pair& stride, const Pair& padding,
                            const Pair& dilation, int64_t groups) {
  const char* op = "conv2d_forward";
  FloatArray x = float_array(x_obj, "x");
  FloatArray weight = float_array(weight_obj, "weight");
  FloatArray out = float_array(out_obj, "out", /*writable=*/true);
  require_same_dtype(x, "x", weight, "weight");
  require_same_dtype(x, "x", out, "out");
  const cpu::Conv2dGeometry g =
      conv_geometry(x, weight, out, "out", op, stride, padding, dilation, groups);
  const void* bias_data = nullptr;
  FloatArray bias;
  if (!bias_obj.is_none()) {
    bias = float_array(bias_obj, "bias");
    require_same_dtype(x, "x", bias, "bias");
    AXONIC_CHECK(bias.shape == std::vector<int64_t>{g.out_channels}, op,
                 ": bias must have shape (", g.out_channels, ",), got ", bias.shape_string());
    require_no_overlap(out, "out", bias, "bias");
    bias_data = bias.data;
  }
  require_no_overlap(out, "out", x, "x");
  require_no_overlap(out, "out", weight, "weight");

  dispatch_float(x.dtype, [&](auto zero) {
    using T = decltype(zero);
    const T* px = x.ptr<T>();
    const T* pw = weight.ptr<T>();
    const T* pb = static_cast<const T*>(bias_data);
    T* pout = out.ptr<T>();
    py::gil_scoped_release release;
    cpu::conv2d_forward<T>(px, pw, pb, pout, g);
  });
}

void conv2d_backward_input_binding(py::handle grad_out_obj, py::handle weight_obj,
                                   py::handle grad_in_obj, const Pair& stride,
                                   const Pair& padding, const Pair& dilation, int64_t groups) {
  const char* op = "conv2d_backward_input";
  FloatArray grad_out = float_array(grad_out_obj, "grad_out");
  FloatArray weight = float_array(weight_obj, "weight");
  FloatArray grad_in = float_array(grad_in_obj, "grad_in", /*writable=*/true);
  require_same_dtype(grad_out, "grad_out", weight, "weight");
  require_same_dtype(grad_out, "grad_out", grad_in, "grad_in");
  const cpu::Conv2dGeometry g = conv_geometry(grad_in, weight, grad_out, "grad_out", op,
                                              stride, padding, dilation, groups);
  require_no_overlap(grad_in, "grad_in", grad_out, "grad_out");
  require_no_overlap(grad_in, "grad_in", weight, "weight");

  dispatch_float(grad_out.dtype, [&](auto zero) {
    using T = decltype(zero);
    const T* pgrad_out = grad_out.ptr<T>();
    const T* pw = weight.ptr<T>();
    T* pgrad_in = grad_in.ptr<T>();
    py::gil_scoped_release release;
    cpu::conv2d_backward_input<T>(pgrad_out, pw, pgrad_in, g);
  });
}

void conv2d_backward_weight_binding(py::handle grad_out_obj, py::handle x_obj,
                                    py::handle grad_weight_obj, const Pair& stride,
                                    const Pair& padding, const Pair& dilation,
                                    int64_t groups) {
  const char* op = "conv2d_backward_weight";
  FloatArray grad_out = float_array(grad_out_obj, "grad_out");
  FloatArray x = float_array(x_obj, "x");
  FloatArray grad_weight = float_array(grad_weight_obj, "grad_weight", /*writable=*/true);
  require_same_dtype(grad_out, "grad_out", x, "x");
  require_same_dtype(grad_out, "grad_out", grad_weight, "grad_weight");
  const cpu::Conv2dGeometry g = conv_geometry(x, grad_weight, grad_out, "grad_out", op,
                                              stride, padding, dilation, groups);
  require_no_overlap(grad_weight, "grad_weight", grad_out, "grad_out");
  require_no_overlap(grad_weight, "grad_weight", x, "x");

  dispatch_float(x.dtype, [&](auto zero) {
    using T = decltype(zero);
    const T* pgrad_out = grad_out.ptr<T>();
    const T* px = x.ptr<T>();
    T* pgw = grad_weight.ptr<T>();
    py::gil_scoped_release release;
    cpu::conv2d_backward_weight<T>(pgrad_out, px, pgw, g);
  });
}

void conv2d_backward_bias_binding(py::handle grad_out_obj, py::handle grad_bias_obj) {
  const char* op = "conv2d_backward_bias";
  FloatArray grad_out = float_array(grad_out_obj, "grad_out");
  FloatArray grad_bias = float_array(grad_bias_obj, "grad_bias", /*writable=*/true);
  require_same_dtype(grad_out, "grad_out", grad_bias, "grad_bias");
  require_4d(grad_out, op, "grad_out", "(N, C_out, Ho, Wo)");
  const int64_t batch = grad_out.shape[0], channels = grad_out.shape[1];
  const int64_t plane = grad_out.shape[2] * grad_out.shape[3];
  AXONIC_CHECK(grad_bias.shape == std::vector<int64_t>{channels}, op,
               ": grad_bias must have shape (", channels, ",), got ",
               grad_bias.shape_string());
  require_no_overlap(grad_bias, "grad_bias", grad_out, "grad_out");

  dispatch_float(grad_out.dtype, [&](auto zero) {
    using T = decltype(zero);
    const T* pgrad_out = grad_out.ptr<T>();
    T* pgb = grad_bias.ptr<T>();
    py::gil_scoped_release release;
    cpu::conv2d_backward_bias<T>(pgrad_out, pgb, batch, channels, plane);
  });
}

// An optional output: None, or a writable array of x's dtype and the expected shape.
struct OptionalOutput {
  FloatArray array;
  bool given = false;
};

OptionalOutput optional_output(py::handle obj, const char* name, const FloatArray& like,
                               const std::vector<int64_t>& shape, const char* op) {
  OptionalOutput out;
  if (obj.is_none()) return out;
  out.array = float_array(obj, name, /*writable=*/true);
  out.given = true;
  require_same_dtype(like, "x", out.array, name);
  AXONIC_CHECK(out.array.shape == shape, op, ": ", name, " must have shape ",
               shape_string(shape), ", got ", out.array.shape_string());
  return out;
}

void conv2d_backward_binding(py::handle grad_out_obj, py::handle x_obj, py::handle weight_obj,
                             py::handle grad_in_obj, py::handle grad_weight_obj,
                             py::handle grad_bias_obj, const Pair& stride,
                             const Pair& padding, const Pair& dilation, int64_t groups) {
  const char* op = "conv2d_backward";
  FloatArray grad_out = float_array(grad_out_obj, "grad_out");
  FloatArray x = float_array(x_obj, "x");
  FloatArray weight = float_array(weight_obj, "weight");
  require_same_dtype(x, "x", grad_out, "grad_out");
  require_same_dtype(x, "x", weight, "weight");
  const cpu::Conv2dGeometry g =
      conv_geometry(x, weight, grad_out, "grad_out", op, stride, padding, dilation, groups);
  const OptionalOutput outputs[3] = {
      optional_output(grad_in_obj, "grad_in", x, x.shape, op),
      optional_output(grad_weight_obj, "grad_weight", x, weight.shape, op),
      optional_output(grad_bias_obj, "grad_bias", x, {g.out_channels}, op)};
  const char* names[3] = {"grad_in", "grad_weight", "grad_bias"};
  for (int i = 0; i < 3; ++i) {
    if (!outputs[i].given) continue;
    require_no_overlap(outputs[i].array, names[i], grad_out, "grad_out");
    require_no_overlap(outputs[i].array, names[i], x, "x");
    require_no_overlap(outputs[i].array, names[i], weight, "weight");
    for (int j = 0; j < i; ++j) {
      if (outputs[j].given)
        require_no_overlap(outputs[i].array, names[i], outputs[j].array, names[j]);
    }
  }

  dispatch_float(x.dtype, [&](auto zero) {
    using T = decltype(zero);
    auto out_ptr = [](const OptionalOutput& o) { return o.given ? o.array.ptr<T>() : nullptr; };
    const T* pgrad_out = grad_out.ptr<T>();
    const T* px = x.ptr<T>();
    const T* pw = weight.ptr<T>();
    T* pgi = out_ptr(outputs[0]);
    T* pgw = out_ptr(outputs[1]);
    T* pgb = out_ptr(outputs[2]);
    py::gil_scoped_release release;
    cpu::conv2d_backward<T>(pgrad_out, px, pw, pgi, pgw, pgb, g);
  });
}

}  // namespace

void register_conv2d(py::module_& m) {
  m.def("conv2d_forward", &conv2d_forward_binding, py::arg("x"), py::arg("weight"),
        py::arg("bias"), py::arg("out"), py::arg("stride"), py::arg("padding"),
        py::arg("dilation"), py::arg("groups"),
        "out (N, C_out, Ho, Wo) = conv2d(x (N, C_in, H, W), weight (C_out, C_in / groups,\n"
        "kH, kW)) + bias (C_out, or None), as PyTorch's conv2d with zero padding.\n"
        "stride, padding, dilation: (h, w) pairs. ValueError for a bad geometry or shape.");
  m.def("conv2d_backward_input", &conv2d_backward_input_binding, py::arg("grad_out"),
        py::arg("weight"), py::arg("grad_in"), py::arg("stride"), py::arg("padding"),
        py::arg("dilation"), py::arg("groups"),
        "grad_in (N, C_in, H, W) of conv2d_forward from grad_out (N, C_out, Ho, Wo).");
  m.def("conv2d_backward_weight", &conv2d_backward_weight_binding, py::arg("grad_out"),
        py::arg("x"), py::arg("grad_weight"), py::arg("stride"), py::arg("padding"),
        py::arg("dilation"), py::arg("groups"),
        "grad_weight (C_out, C_in / groups, kH, kW) of conv2d_forward, summed over the batch.");
  m.def("conv2d_backward", &conv2d_backward_binding, py::arg("grad_out"), py::arg("x"),
        py::arg("weight"), py::arg("grad_in"), py::arg("grad_weight"), py::arg("grad_bias"),
        py::arg("stride"), py::arg("padding"), py::arg("dilation"), py::arg("groups"),
        "The gradients of conv2d_forward wanted, in one call: grad_in (N, C_in, H, W),\n"
        "grad_weight (C_out, C_in / groups, kH, kW), grad_bias (C_out); each an array to\n"
        "overwrite, or None. Computes them in one pass over the images where it can.");
  m.def("conv2d_backward_bias", &conv2d_backward_bias_binding, py::arg("grad_out"),
        py::arg("grad_bias"),
        "grad_bias (C_out) = grad_out (N, C_out, Ho, Wo) summed over N, Ho and Wo.");
}

}  // namespace axonic::bind
