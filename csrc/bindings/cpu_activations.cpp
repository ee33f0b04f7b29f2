// axonic._cpu's activation bindings: activation_bindings.h over NumPy arrays and the
// kernels of cpu/activations.h.
#include "bindings/activation_bindings.h"
#include "bindings/cpu_bindings.h"
#include "bindings/cpu_policy.h"
#include "cpu/activations.h"

namespace axonic::bind {

namespace {

struct CpuActivations : CpuPolicy {
  template <typename T, typename... A>
  static void forward(A... a) { cpu::activation_forward<T>(a...); }
  template <typename T, typename... A>
  static void backward(A... a) { cpu::activation_backward<T>(a...); }
};

}  // namespace

void register_activations(py::module_& m) { define_activations<CpuActivations>(m); }

}  // namespace axonic::bind
