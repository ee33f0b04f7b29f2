// axonic._cuda's batch normalization bindings: batch_norm_bindings.h over CUDA arrays
// and the kernels of cuda/batch_norm.h, launched on the trailing `stream` argument.
#include "bindings/batch_norm_bindings.h"
#include "bindings/cuda_bindings.h"
#include "bindings/cuda_policy.h"
#include "cuda/batch_norm.h"

namespace axonic::bind {

namespace {

struct CudaBatchNorm : CudaPolicy {
  template <typename T, typename... A>
  static void forward_train(A... a) { cuda::batch_norm_forward_train<T>(a...); }
  template <typename T, typename... A>
  static void forward_eval(A... a) { cuda::batch_norm_forward_eval<T>(a...); }
  template <typename T, typename... A>
  static void backward(A... a) { cuda::batch_norm_backward<T>(a...); }
};

}  // namespace

void register_cuda_batch_norm(py::module_& m) {
  define_batch_norm<CudaBatchNorm, uintptr_t>(m, stream_argument());
}

}  // namespace axonic::bind
