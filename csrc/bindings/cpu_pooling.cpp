// Python bindings of 2-D max and average pooling over NCHW arrays, with the names and
// argument order of backends/reference_pooling.py. kernel_size, stride, padding and
// dilation are (h, w) pairs of ints (the functional layer expands single ints and
// stride=None). Outputs are allocated by Python with the shape pool2d_output_size
// gives; every shape is checked here before the kernel runs.
#include <array>
#include <string>
#include <vector>

#include "bindings/cpu_bindings.h"
#include "common/checks.h"
#include "cpu/pooling.h"

namespace axonic::bind {

namespace {

using Pair = std::array<int64_t, 2>;

void require_nchw(const FloatArray& a, const char* op, const char* name) {
  AXONIC_CHECK(a.ndim() == 4, op, ": ", name, " must be 4-D (N, C, H, W), got shape ",
               a.shape_string());
}

// The geometry of pooling x_like (N, C, H, W) with these parameters, checked.
cpu::Pool2dGeometry pool_geometry(const FloatArray& x_like, const char* op, const Pair& kernel,
                                  const Pair& stride, const Pair& padding, const Pair& dilation,
                                  bool ceil_mode) {
  cpu::Pool2dGeometry g{};
  g.planes = x_like.shape[0] * x_like.shape[1];
  g.in_h = x_like.shape[2];
  g.in_w = x_like.shape[3];
  g.kernel_h = kernel[0];
  g.kernel_w = kernel[1];
  g.stride_h = stride[0];
  g.stride_w = stride[1];
  g.pad_h = padding[0];
  g.pad_w = padding[1];
  g.dilation_h = dilation[0];
  g.dilation_w = dilation[1];
  // Checked before pool2d_output_size, which divides by the stride.
  AXONIC_CHECK(g.stride_h >= 1 && g.stride_w >= 1, op, ": stride must be positive, got (",
               g.stride_h, ", ", g.stride_w, ")");
  g.out_h = cpu::pool2d_output_size(g.in_h, g.kernel_h, g.stride_h, g.pad_h, g.dilation_h,
                                    ceil_mode);
  g.out_w = cpu::pool2d_output_size(g.in_w, g.kernel_w, g.stride_w, g.pad_w, g.dilation_w,
                                    ceil_mode);
  cpu::check_pool2d_geometry(g, op);
  return g;
}

void require_output_shape(const std::vector<int64_t>& shape, const char* shape_text,
                          const char* op, const char* name, const FloatArray& x_like,
                          const cpu::Pool2dGeometry& g) {
  const std::vector<int64_t> expected{x_like.shape[0], x_like.shape[1], g.out_h, g.out_w};
  AXONIC_CHECK(shape == expected, op, ": ", name, " must have shape ", shape_string(expected),
               ", got ", shape_text);
}

std::vector<int64_t> array_shape(const py::array& a) {
  return std::vector<int64_t>(a.shape(), a.shape() + a.ndim());
}

// A writable C-contiguous int64 array: max pooling's argmax output.
py::array_t<int64_t> argmax_array(py::handle obj, const char* op, bool writable) {
  py::array_t<int64_t> a = int64_array(obj, "argmax");
  AXONIC_CHECK(!writable || a.writeable(), op, ": argmax must be a writable array");
  return a;
}

void max_pool2d_forward_binding(py::handle x_obj, py::handle out_obj, py::handle argmax_obj,
                                const Pair& kernel_size, const Pair& stride,
                                const Pair& padding, const Pair& dilation, bool ceil_mode) {
  const char* op = "max_pool2d_forward";
  FloatArray x = float_array(x_obj, "x");
  FloatArray out = float_array(out_obj, "out", /*writable=*/true);
  py::array_t<int64_t> argmax = argmax_array(argmax_obj, op, /*writable=*/true);
  require_same_dtype(x, "x", out, "out");
  require_nchw(x, op, "x");
  const cpu::Pool2dGeometry g =
      pool_geometry(x, op, kernel_size, stride, padding, dilation, ceil_mode);
  require_output_shape(out.shape, out.shape_string().c_str(), op, "out", x, g);
  require_output_shape(array_shape(argmax), shape_string(array_shape(argmax)).c_str(), op,
                       "argmax", x, g);
  require_no_overlap(out, "out", x, "x");

  int64_t* pargmax = argmax.mutable_data();
  dispatch_float(x.dtype, [&](auto zero) {
    using T = decltype(zero);
    const T* px = x.ptr<T>();
    T* pout = out.ptr<T>();
    py::gil_scoped_release release;
    cpu::max_pool2d_forward<T>(px, pout, pargmax, g);
  });
}

void max_pool2d_backward_binding(py::handle grad_out_obj, py::handle argmax_obj,
                                 py::handle grad_in_obj) {
  const char* op = "max_pool2d_backward";
  FloatArray grad_out = float_array(grad_out_obj, "grad_out");
  py::array_t<int64_t> argmax = argmax_array(argmax_obj, op, /*writable=*/false);
  FloatArray grad_in = float_array(grad_in_obj, "grad_in", /*writable=*/true);
  require_same_dtype(grad_out, "grad_out", grad_in, "grad_in");
  require_nchw(grad_out, op, "grad_out");
  require_nchw(grad_in, op, "grad_in");
  const std::vector<int64_t> argmax_shape = array_shape(argmax);
  AXONIC_CHECK(argmax_shape == grad_out.shape, op, ": argmax must have the shape of grad_out ",
               grad_out.shape_string(), ", got ", shape_string(argmax_shape));
  AXONIC_CHECK(grad_in.shape[0] == grad_out.shape[0] && grad_in.shape[1] == grad_out.shape[1],
               op, ": grad_in ", grad_in.shape_string(), " and grad_out ",
               grad_out.shape_string(), " must agree in N and C");
  require_no_overlap(grad_in, "grad_in", grad_out, "grad_out");

  cpu::Pool2dGeometry g{};
  g.planes = grad_in.shape[0] * grad_in.shape[1];
  g.in_h = grad_in.shape[2];
  g.in_w = grad_in.shape[3];
  g.out_h = grad_out.shape[2];
  g.out_w = grad_out.shape[3];
  const int64_t* pargmax = argmax.data();
  dispatch_float(grad_out.dtype, [&](auto zero) {
    using T = decltype(zero);
    const T* pgrad_out = grad_out.ptr<T>();
    T* pgrad_in = grad_in.ptr<T>();
    py::gil_scoped_release release;
    cpu::max_pool2d_backward<T>(pgrad_out, pargmax, pgrad_in, g);
  });
}

void avg_pool2d_forward_binding(py::handle x_obj, py::handle out_obj, const Pair& kernel_size,
                                const Pair& stride, const Pair& padding, bool ceil_mode,
                                bool count_include_pad) {
  const char* op = "avg_pool2d_forward";
  FloatArray x = float_array(x_obj, "x");
  FloatArray out = float_array(out_obj, "out", /*writable=*/true);
  require_same_dtype(x, "x", out, "out");
  require_nchw(x, op, "x");
  const cpu::Pool2dGeometry g =
      pool_geometry(x, op, kernel_size, stride, padding, Pair{1, 1}, ceil_mode);
  require_output_shape(out.shape, out.shape_string().c_str(), op, "out", x, g);
  require_no_overlap(out, "out", x, "x");

  dispatch_float(x.dtype, [&](auto zero) {
    using T = decltype(zero);
    const T* px = x.ptr<T>();
    T* pout = out.ptr<T>();
    py::gil_scoped_release release;
    cpu::avg_pool2d_forward<T>(px, pout, g, count_include_pad);
  });
}

void avg_pool2d_backward_binding(py::handle grad_out_obj, py::handle grad_in_obj,
                                 const Pair& kernel_size, const Pair& stride,
                                 const Pair& padding, bool ceil_mode, bool count_include_pad) {
  const char* op = "avg_pool2d_backward";
  FloatArray grad_out = float_array(grad_out_obj, "grad_out");
  FloatArray grad_in = float_array(grad_in_obj, "grad_in", /*writable=*/true);
  require_same_dtype(grad_out, "grad_out", grad_in, "grad_in");
  require_nchw(grad_in, op, "grad_in");
  const cpu::Pool2dGeometry g =
      pool_geometry(grad_in, op, kernel_size, stride, padding, Pair{1, 1}, ceil_mode);
  require_output_shape(grad_out.shape, grad_out.shape_string().c_str(), op, "grad_out",
                       grad_in, g);
  require_no_overlap(grad_in, "grad_in", grad_out, "grad_out");

  dispatch_float(grad_out.dtype, [&](auto zero) {
    using T = decltype(zero);
    const T* pgrad_out = grad_out.ptr<T>();
    T* pgrad_in = grad_in.ptr<T>();
    py::gil_scoped_release release;
    cpu::avg_pool2d_backward<T>(pgrad_out, pgrad_in, g, count_include_pad);
  });
}

}  // namespace

void register_pooling(py::module_& m) {
  m.def("max_pool2d_forward", &max_pool2d_forward_binding, py::arg("x"), py::arg("out"),
        py::arg("argmax"), py::arg("kernel_size"), py::arg("stride"), py::arg("padding"),
        py::arg("dilation"), py::arg("ceil_mode"),
        "2-D max pooling of x (N, C, H, W) into out (N, C, Ho, Wo) of x's dtype and argmax\n"
        "(N, C, Ho, Wo) int64, the flat index h * W + w of each maximum in its input plane.\n"
        "kernel_size, stride, padding, dilation: (h, w) pairs; output size as PyTorch's.\n"
        "NaN propagates; -inf padding. ValueError for a bad geometry or shape.");
  m.def("max_pool2d_backward", &max_pool2d_backward_binding, py::arg("grad_out"),
        py::arg("argmax"), py::arg("grad_in"),
        "grad_in (N, C, H, W) = 0, then grad_in[argmax] += grad_out per plane. argmax:\n"
        "int64 of grad_out's shape, from max_pool2d_forward (-1 entries are skipped).");
  m.def("avg_pool2d_forward", &avg_pool2d_forward_binding, py::arg("x"), py::arg("out"),
        py::arg("kernel_size"), py::arg("stride"), py::arg("padding"), py::arg("ceil_mode"),
        py::arg("count_include_pad"),
        "2-D average pooling of x (N, C, H, W) into out (N, C, Ho, Wo), as PyTorch's\n"
        "avg_pool2d: kernel_size, stride, padding are (h, w) pairs.");
  m.def("avg_pool2d_backward", &avg_pool2d_backward_binding, py::arg("grad_out"),
        py::arg("grad_in"), py::arg("kernel_size"), py::arg("stride"), py::arg("padding"),
        py::arg("ceil_mode"), py::arg("count_include_pad"),
        "grad_in (N, C, H, W) of avg_pool2d_forward from grad_out (N, C, Ho, Wo), with the\n"
        "forward's parameters.");
}

}  // namespace axonic::bind
