// Python bindings of 2-D convolution over NCHW arrays, with the names and argument
// order of backends/reference_conv2d.py. Outputs are allocated by Python; every shape
// is checked (bindings/conv2d_args.h, shared with axonic._cuda) before the kernel runs.
#include "bindings/conv2d_args.h"
#include "bindings/cpu_bindings.h"
#include "cpu/conv2d.h"

namespace axonic::bind {

namespace {

void conv2d_forward_binding(py::handle x_obj, py::handle weight_obj, py::handle bias_obj,
                            py::handle out_obj, const Pair& stride, const Pair& padding,
                            const Pair& dilation, int64_t groups) {
  const auto a = conv2d_forward_args(float_array, x_obj, weight_obj, bias_obj, out_obj, stride,
                                     padding, dilation, groups);
  dispatch_float(a.x.dtype, [&](auto zero) {
    using T = decltype(zero);
    py::gil_scoped_release release;
    cpu::conv2d_forward<T>(a.x.ptr<T>(), a.weight.ptr<T>(), a.bias.template ptr<T>(),
                           a.out.ptr<T>(), a.g);
  });
}

// conv2d_backward_input (grad_out, weight, grad_in) or conv2d_backward_weight
// (grad_out, x, grad_weight).
template <Conv2dGradient gradient>
void conv2d_gradient_binding(py::handle grad_out_obj, py::handle operand_obj,
                             py::handle out_obj, const Pair& stride, const Pair& padding,
                             const Pair& dilation, int64_t groups) {
  const auto a = conv2d_gradient_args(float_array, gradient, grad_out_obj, operand_obj, out_obj,
                                      stride, padding, dilation, groups);
  dispatch_float(a.grad_out.dtype, [&](auto zero) {
    using T = decltype(zero);
    py::gil_scoped_release release;
    if constexpr (gradient == Conv2dGradient::input)
      cpu::conv2d_backward_input<T>(a.grad_out.ptr<T>(), a.operand.ptr<T>(), a.out.ptr<T>(),
                                    a.g);
    else
      cpu::conv2d_backward_weight<T>(a.grad_out.ptr<T>(), a.operand.ptr<T>(), a.out.ptr<T>(),
                                     a.g);
  });
}

void conv2d_backward_bias_binding(py::handle grad_out_obj, py::handle grad_bias_obj) {
  const auto a = conv2d_backward_bias_args(float_array, grad_out_obj, grad_bias_obj);
  dispatch_float(a.grad_out.dtype, [&](auto zero) {
    using T = decltype(zero);
    py::gil_scoped_release release;
    cpu::conv2d_backward_bias<T>(a.grad_out.ptr<T>(), a.grad_bias.ptr<T>(), a.batch,
                                 a.channels, a.plane);
  });
}

void conv2d_backward_binding(py::handle grad_out_obj, py::handle x_obj, py::handle weight_obj,
                             py::handle grad_in_obj, py::handle grad_weight_obj,
                             py::handle grad_bias_obj, const Pair& stride,
                             const Pair& padding, const Pair& dilation, int64_t groups) {
  const auto a = conv2d_backward_args(float_array, grad_out_obj, x_obj, weight_obj, grad_in_obj,
                                      grad_weight_obj, grad_bias_obj, stride, padding,
                                      dilation, groups);
  dispatch_float(a.x.dtype, [&](auto zero) {
    using T = decltype(zero);
    py::gil_scoped_release release;
    cpu::conv2d_backward<T>(a.grad_out.ptr<T>(), a.x.ptr<T>(), a.weight.ptr<T>(),
                            a.grad_in.template ptr<T>(), a.grad_weight.template ptr<T>(),
                            a.grad_bias.template ptr<T>(), a.g);
  });
}

}  // namespace

void register_conv2d(py::module_& m) {
  m.def("conv2d_forward", &conv2d_forward_binding, py::arg("x"), py::arg("weight"),
        py::arg("bias"), py::arg("out"), py::arg("stride"), py::arg("padding"),
        py::arg("dilation"), py::arg("groups"), kConv2dForwardDoc);
  m.def("conv2d_backward_input", &conv2d_gradient_binding<Conv2dGradient::input>,
        py::arg("grad_out"), py::arg("weight"), py::arg("grad_in"), py::arg("stride"),
        py::arg("padding"), py::arg("dilation"), py::arg("groups"), kConv2dBackwardInputDoc);
  m.def("conv2d_backward_weight", &conv2d_gradient_binding<Conv2dGradient::weight>,
        py::arg("grad_out"), py::arg("x"), py::arg("grad_weight"), py::arg("stride"),
        py::arg("padding"), py::arg("dilation"), py::arg("groups"), kConv2dBackwardWeightDoc);
  m.def("conv2d_backward", &conv2d_backward_binding, py::arg("grad_out"), py::arg("x"),
        py::arg("weight"), py::arg("grad_in"), py::arg("grad_weight"), py::arg("grad_bias"),
        py::arg("stride"), py::arg("padding"), py::arg("dilation"), py::arg("groups"),
        kConv2dBackwardDoc);
  m.def("conv2d_backward_bias", &conv2d_backward_bias_binding, py::arg("grad_out"),
        py::arg("grad_bias"), kConv2dBackwardBiasDoc);
}

}  // namespace axonic::bind
