// axonic._cuda's activation bindings: activation_bindings.h over CUDA arrays and the
// kernels of cuda/activations.h, launched on the trailing `stream` argument.
#include "bindings/activation_bindings.h"
#include "bindings/cuda_bindings.h"
#include "bindings/cuda_policy.h"
#include "cuda/activations.h"

namespace axonic::bind {

namespace {

struct CudaActivations : CudaPolicy {
  template <typename T, typename... A>
  static void forward(A... a) { cuda::activation_forward<T>(a...); }
  template <typename T, typename... A>
  static void backward(A... a) { cuda::activation_backward<T>(a...); }
};

}  // namespace

void register_cuda_activations(py::module_& m) {
  define_activations<CudaActivations, uintptr_t>(m, stream_argument());
}

}  // namespace axonic::bind
