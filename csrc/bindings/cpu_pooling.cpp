// Python bindings of 2-D max and average pooling over NCHW arrays, with the names and
// argument order of backends/reference_pooling.py. Outputs are allocated by Python; every
// shape is checked (bindings/pool2d_args.h, shared with axonic._cuda) before the kernel
// runs.
#include "bindings/cpu_bindings.h"
#include "bindings/pool2d_args.h"
#include "common/checks.h"
#include "cpu/pooling.h"

namespace axonic::bind {

namespace {

// A C-contiguous int64 array: max pooling's argmax (an output of the forward).
py::array_t<int64_t> argmax_array(py::handle obj, const char* op, bool writable) {
  py::array_t<int64_t> a = int64_array(obj, "argmax");
  AXONIC_CHECK(!writable || a.writeable(), op, ": argmax must be a writable array");
  return a;
}

void max_pool2d_forward_binding(py::handle x_obj, py::handle out_obj, py::handle argmax_obj,
                                const Pair& kernel_size, const Pair& stride,
                                const Pair& padding, const Pair& dilation, bool ceil_mode) {
  auto a = max_pool2d_forward_args(float_array, argmax_array, x_obj, out_obj, argmax_obj,
                                   kernel_size, stride, padding, dilation, ceil_mode);
  int64_t* pargmax = a.argmax.mutable_data();
  dispatch_float(a.x.dtype, [&](auto zero) {
    using T = decltype(zero);
    py::gil_scoped_release release;
    cpu::max_pool2d_forward<T>(a.x.ptr<T>(), a.out.ptr<T>(), pargmax, a.g);
  });
}

void max_pool2d_backward_binding(py::handle grad_out_obj, py::handle argmax_obj,
                                 py::handle grad_in_obj) {
  const auto a =
      max_pool2d_backward_args(float_array, argmax_array, grad_out_obj, argmax_obj, grad_in_obj);
  const int64_t* pargmax = a.argmax.data();
  dispatch_float(a.grad_out.dtype, [&](auto zero) {
    using T = decltype(zero);
    py::gil_scoped_release release;
    cpu::max_pool2d_backward<T>(a.grad_out.ptr<T>(), pargmax, a.grad_in.ptr<T>(), a.g);
  });
}

// avg_pool2d_forward (x, out, ...) or avg_pool2d_backward (grad_out, grad_in, ...).
template <AvgPoolPass pass>
void avg_pool2d_binding(py::handle in_obj, py::handle out_obj, const Pair& kernel_size,
                        const Pair& stride, const Pair& padding, bool ceil_mode,
                        bool count_include_pad) {
  const auto a = avg_pool2d_args(float_array, pass, in_obj, out_obj, kernel_size, stride, padding,
                                 ceil_mode);
  dispatch_float(a.in.dtype, [&](auto zero) {
    using T = decltype(zero);
    py::gil_scoped_release release;
    if constexpr (pass == AvgPoolPass::forward)
      cpu::avg_pool2d_forward<T>(a.in.ptr<T>(), a.out.ptr<T>(), a.g, count_include_pad);
    else
      cpu::avg_pool2d_backward<T>(a.in.ptr<T>(), a.out.ptr<T>(), a.g, count_include_pad);
  });
}

}  // namespace

void register_pooling(py::module_& m) {
  m.def("max_pool2d_forward", &max_pool2d_forward_binding, py::arg("x"), py::arg("out"),
        py::arg("argmax"), py::arg("kernel_size"), py::arg("stride"), py::arg("padding"),
        py::arg("dilation"), py::arg("ceil_mode"), kMaxPool2dForwardDoc);
  m.def("max_pool2d_backward", &max_pool2d_backward_binding, py::arg("grad_out"),
        py::arg("argmax"), py::arg("grad_in"), kMaxPool2dBackwardDoc);
  m.def("avg_pool2d_forward", &avg_pool2d_binding<AvgPoolPass::forward>, py::arg("x"),
        py::arg("out"), py::arg("kernel_size"), py::arg("stride"), py::arg("padding"),
        py::arg("ceil_mode"), py::arg("count_include_pad"), kAvgPool2dForwardDoc);
  m.def("avg_pool2d_backward", &avg_pool2d_binding<AvgPoolPass::backward>, py::arg("grad_out"),
        py::arg("grad_in"), py::arg("kernel_size"), py::arg("stride"), py::arg("padding"),
        py::arg("ceil_mode"), py::arg("count_include_pad"), kAvgPool2dBackwardDoc);
}

}  // namespace axonic::bind
