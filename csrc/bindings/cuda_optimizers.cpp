// axonic._cuda's fused optimizer update bindings and accumulate (optimizer_bindings.h
// over CUDA arrays and cuda/optimizer_updates.h) and its parallel_copy (copy_bindings.h:
// a device-to-device cudaMemcpyAsync), each launched on the trailing `stream` argument.
// The coefficients stay a host NumPy array: the launcher bakes them into the
// launch's table of tensors.
#include "bindings/copy_bindings.h"
#include "bindings/cuda_bindings.h"
#include "bindings/cuda_policy.h"
#include "bindings/optimizer_bindings.h"
#include "cuda/optimizer_updates.h"

namespace axonic::bind {

namespace {

struct CudaOptimizers : CudaPolicy {
  template <typename Options, typename T>
  static void update(const Options& o, const std::vector<ParamSlot<T>>& s, cudaStream_t stream) {
    cuda::fused_update(o, s, stream);
  }
  static void copy(const void* src, void* dst, int64_t bytes, cudaStream_t stream) {
    cuda::device_copy(src, dst, bytes, stream);
  }
};

}  // namespace

void register_cuda_optimizers(py::module_& m) {
  define_optimizer_updates<CudaOptimizers, uintptr_t>(m, stream_argument());
  define_parallel_copy<CudaOptimizers, uintptr_t>(
      m, "dst[...] = src on the stream (cudaMemcpyAsync, device to device; the bandwidth\n"
         "yardstick of the fused updates). src, dst: C-contiguous float32/float64 CUDA\n"
         "arrays of one shape and dtype, not overlapping.",
      stream_argument());
  define_accumulate<CudaOptimizers, uintptr_t>(
      m, "dst += src on the stream (backward's gradient accumulation). src, dst:\n"
         "C-contiguous float32/float64 CUDA arrays of one shape and dtype, not overlapping.",
      stream_argument());
}

}  // namespace axonic::bind
