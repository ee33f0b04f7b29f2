// axonic._cpu's batch normalization bindings: batch_norm_bindings.h over NumPy arrays
// and the kernels of cpu/batch_norm.h.
#include "bindings/batch_norm_bindings.h"
#include "bindings/cpu_bindings.h"
#include "bindings/cpu_policy.h"
#include "cpu/batch_norm.h"

namespace axonic::bind {

namespace {

struct CpuBatchNorm : CpuPolicy {
  template <typename T, typename... A>
  static void forward_train(A... a) { cpu::batch_norm_forward_train<T>(a...); }
  template <typename T, typename... A>
  static void forward_eval(A... a) { cpu::batch_norm_forward_eval<T>(a...); }
  template <typename T, typename... A>
  static void backward(A... a) { cpu::batch_norm_backward<T>(a...); }
};

}  // namespace

void register_batch_norm(py::module_& m) { define_batch_norm<CpuBatchNorm>(m); }

}  // namespace axonic::bind
