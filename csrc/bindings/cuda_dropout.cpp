// axonic._cuda's dropout bindings: dropout_bindings.h over CUDA arrays and the kernels
// of cuda/dropout.h, launched on the trailing `stream` argument. The mask is drawn
// exactly as on the CPU (common/dropout_hash.h).
#include <optional>
#include <string>

#include "bindings/cuda_bindings.h"
#include "bindings/cuda_dtype.h"
#include "bindings/cuda_policy.h"
#include "bindings/dropout_bindings.h"
#include "cuda/dropout.h"

namespace axonic::bind {

namespace {

struct CudaDropout : CudaPolicy {
  // cuda_arrays.h reads bool arrays as bytes too: the declared dtype tells them apart.
  static MaskArray mask(py::handle obj, const char* name, bool writable) {
    const std::optional<py::dtype> dtype = cuda_array_dtype(obj);
    if (dtype && (dtype->kind() != 'u' || dtype->itemsize() != 1))
      throw mask_dtype_error(name, py::str(*dtype).cast<std::string>());
    DeviceArray mask = device_array_of(obj, name, ElementType::u8, writable);
    return {mask.owner, mask.shape, mask.ptr<uint8_t>()};
  }

  template <typename T, typename... A>
  static void forward(A... a) { cuda::dropout_forward<T>(a...); }
  template <typename T, typename... A>
  static void backward(A... a) { cuda::dropout_backward<T>(a...); }
};

}  // namespace

void register_cuda_dropout(py::module_& m) {
  define_dropout<CudaDropout, uintptr_t>(m, stream_argument());
}

}  // namespace axonic::bind
