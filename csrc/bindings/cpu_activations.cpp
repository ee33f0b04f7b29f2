// Python bindings of the elementwise activations: activation_forward(kind, x, out,
// alpha) and activation_backward(kind, saved, grad_out, grad_in, alpha), with the
// names, argument order and defaults of backends/reference.py: alpha=None means the
// kind's default (spec.DEFAULT_ALPHA).
#include <optional>

#include "bindings/cpu_bindings.h"
#include "common/checks.h"
#include "cpu/activations.h"

namespace axonic::bind {

namespace {

double alpha_or_default(cpu::ActivationKind kind, std::optional<double> alpha) {
  return alpha ? *alpha : cpu::default_activation_alpha(kind);
}

void activation_forward_binding(const std::string& kind, py::handle x_obj, py::handle out_obj,
                                std::optional<double> alpha_arg) {
  const cpu::ActivationKind parsed_kind = cpu::parse_activation_kind(kind);
  const double alpha = alpha_or_default(parsed_kind, alpha_arg);
  FloatArray x = float_array(x_obj, "x");
  FloatArray out = float_array(out_obj, "out", /*writable=*/true);
  require_same_dtype(x, "x", out, "out");
  require_same_shape(x, "x", out, "out");
  require_no_overlap(out, "out", x, "x");

  const int64_t n = x.size();
  dispatch_float(x.dtype, [&](auto zero) {
    using T = decltype(zero);
    const T* px = x.ptr<T>();
    T* pout = out.ptr<T>();
    py::gil_scoped_release release;
    cpu::activation_forward<T>(parsed_kind, px, pout, n, alpha);
  });
}

void activation_backward_binding(const std::string& kind, py::handle saved_obj,
                                 py::handle grad_out_obj, py::handle grad_in_obj,
                                 std::optional<double> alpha_arg) {
  const cpu::ActivationKind parsed_kind = cpu::parse_activation_kind(kind);
  const double alpha = alpha_or_default(parsed_kind, alpha_arg);
  FloatArray saved = float_array(saved_obj, "saved");
  FloatArray grad_out = float_array(grad_out_obj, "grad_out");
  FloatArray grad_in = float_array(grad_in_obj, "grad_in", /*writable=*/true);
  require_same_dtype(saved, "saved", grad_out, "grad_out");
  require_same_dtype(saved, "saved", grad_in, "grad_in");
  require_same_shape(saved, "saved", grad_out, "grad_out");
  require_same_shape(saved, "saved", grad_in, "grad_in");
  require_no_overlap(grad_in, "grad_in", saved, "saved");
  require_no_overlap(grad_in, "grad_in", grad_out, "grad_out");

  const int64_t n = saved.size();
  dispatch_float(saved.dtype, [&](auto zero) {
    using T = decltype(zero);
    const T* psaved = saved.ptr<T>();
    const T* pgrad_out = grad_out.ptr<T>();
    T* pgrad_in = grad_in.ptr<T>();
    py::gil_scoped_release release;
    cpu::activation_backward<T>(parsed_kind, psaved, pgrad_out, pgrad_in, n, alpha);
  });
}

}  // namespace

void register_activations(py::module_& m) {
  m.def("activation_forward", &activation_forward_binding, py::arg("kind"), py::arg("x"),
        py::arg("out"), py::arg("alpha") = py::none(),
        "out = f(x) elementwise. kind: linear, sigmoid, tanh, relu, leaky_relu, elu, selu,\n"
        "gelu, gelu_tanh or silu. x and out: C-contiguous float32/float64 arrays of one\n"
        "shape (any ndim) and dtype, not sharing memory. alpha is leaky_relu's negative\n"
        "slope and elu's alpha; the other kinds ignore it. alpha=None takes the kind's\n"
        "default (spec.DEFAULT_ALPHA: leaky_relu 0.01, elu 1.0).");
  m.def("activation_backward", &activation_backward_binding, py::arg("kind"), py::arg("saved"),
        py::arg("grad_out"), py::arg("grad_in"), py::arg("alpha") = py::none(),
        "grad_in = grad_out * f'(.) elementwise. saved is the forward output y for sigmoid\n"
        "and tanh and the forward input x for every other kind. saved, grad_out and grad_in:\n"
        "C-contiguous float32/float64 arrays of one shape and dtype; grad_in shares memory\n"
        "with neither input. alpha as in activation_forward.");
}

}  // namespace axonic::bind
