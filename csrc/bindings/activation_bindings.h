// The Python bindings of the elementwise activations, written once for axonic._cpu
// (cpu_activations.cpp) and axonic._cuda (cuda_activations.cpp): activation_forward(kind,
// x, out, alpha) and activation_backward(kind, saved, grad_out, grad_in, alpha), with the
// names, argument order and defaults of backends/reference.py (alpha=None means the
// kind's default, spec.DEFAULT_ALPHA), and one set of checks over the module's arrays.
//
// A module describes itself by a Device type (cpu_policy.h / cuda_policy.h):
//   using Array; static Array array(py::handle obj, const char* name, bool writable);
//   template <typename T, typename... A> static void forward(A...), backward(A...): the
//       kernels of cpu/activations.h, called with its arguments and then the module's
//       Stream arguments converted by static auto stream(Stream).
// define_activations<Device, Stream...>(m, extra...) adds one trailing Python argument
// per Stream type, declared by extra (py::arg("stream") = 0).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "bindings/array_checks.h"
#include "bindings/elementwise_checks.h"
#include "common/activation_kind.h"

namespace axonic::bind {

template <typename Device, typename... Stream, typename... Extra>
void define_activations(py::module_& m, const Extra&... extra) {
  using Array = typename Device::Array;

  m.def(
      "activation_forward",
      [](const std::string& kind, py::handle x_obj, py::handle out_obj,
         std::optional<double> alpha_arg, Stream... stream) {
        const ActivationKind parsed_kind = parse_activation_kind(kind);
        const double alpha = alpha_arg ? *alpha_arg : default_activation_alpha(parsed_kind);
        const Array x = Device::array(x_obj, "x", false);
        const Array out = Device::array(out_obj, "out", /*writable=*/true);
        require_output_like(x, "x", out, "out");
        const int64_t n = x.size();
        if (n == 0) return;
        dispatch_float(x.dtype, [&](auto zero) {
          using T = decltype(zero);
          const T* px = x.template ptr<T>();
          T* pout = out.template ptr<T>();
          py::gil_scoped_release release;
          Device::template forward<T>(parsed_kind, px, pout, n, alpha,
                                      Device::stream(stream)...);
        });
      },
      py::arg("kind"), py::arg("x"), py::arg("out"), py::arg("alpha") = py::none(), extra...,
      "out = f(x) elementwise. kind: linear, sigmoid, tanh, relu, leaky_relu, elu, selu,\n"
      "gelu, gelu_tanh or silu. x and out: C-contiguous float32/float64 arrays of one\n"
      "shape (any ndim) and dtype, not sharing memory. alpha is leaky_relu's negative\n"
      "slope and elu's alpha; the other kinds ignore it. alpha=None takes the kind's\n"
      "default (spec.DEFAULT_ALPHA: leaky_relu 0.01, elu 1.0).");

  m.def(
      "activation_backward",
      [](const std::string& kind, py::handle saved_obj, py::handle grad_out_obj,
         py::handle grad_in_obj, std::optional<double> alpha_arg, Stream... stream) {
        const ActivationKind parsed_kind = parse_activation_kind(kind);
        const double alpha = alpha_arg ? *alpha_arg : default_activation_alpha(parsed_kind);
        const Array saved = Device::array(saved_obj, "saved", false);
        const Array grad_out = Device::array(grad_out_obj, "grad_out", false);
        const Array grad_in = Device::array(grad_in_obj, "grad_in", /*writable=*/true);
        require_gradient_like(saved, "saved", grad_out, grad_in);
        const int64_t n = saved.size();
        if (n == 0) return;
        dispatch_float(saved.dtype, [&](auto zero) {
          using T = decltype(zero);
          const T* psaved = saved.template ptr<T>();
          const T* pgrad_out = grad_out.template ptr<T>();
          T* pgrad_in = grad_in.template ptr<T>();
          py::gil_scoped_release release;
          Device::template backward<T>(parsed_kind, psaved, pgrad_out, pgrad_in, n, alpha,
                                       Device::stream(stream)...);
        });
      },
      py::arg("kind"), py::arg("saved"), py::arg("grad_out"), py::arg("grad_in"),
      py::arg("alpha") = py::none(), extra...,
      "grad_in = grad_out * f'(.) elementwise. saved is the forward output y for sigmoid\n"
      "and tanh and the forward input x for every other kind. saved, grad_out and grad_in:\n"
      "C-contiguous float32/float64 arrays of one shape and dtype; grad_in shares memory\n"
      "with neither input. alpha as in activation_forward.");
}

}  // namespace axonic::bind
