// axonic._cuda's softmax and softmax-cross-entropy bindings: softmax_bindings.h over
// CUDA arrays and the kernels of cuda/softmax.h, launched on the trailing `stream`
// argument. The cross-entropy kernels with labels check them on the GPU and wait for
// the stream before they return (a bad label raises ValueError).
#include <optional>
#include <string>

#include "bindings/cuda_bindings.h"
#include "bindings/cuda_dtype.h"
#include "bindings/cuda_policy.h"
#include "bindings/softmax_bindings.h"
#include "cuda/softmax.h"

namespace axonic::bind {

namespace {

struct CudaSoftmax : CudaPolicy {
  static std::optional<char> dtype_kind(py::handle obj) {
    const std::optional<py::dtype> dtype = cuda_array_dtype(obj);
    if (!dtype) return std::nullopt;
    return dtype->kind();
  }
  static LabelArray labels(py::handle obj, const char* name) {
    const std::optional<py::dtype> dtype = cuda_array_dtype(obj);
    if (dtype && (dtype->kind() != 'i' || dtype->itemsize() != 8))
      throw py::type_error(concat(name, " must be int64 class indices, got ",
                                  py::str(*dtype).cast<std::string>()));
    DeviceArray labels = device_array_of(obj, name, ElementType::i64);
    return {labels.owner, labels.shape, labels.ptr<int64_t>()};
  }

  template <typename T, typename... A>
  static void forward(A... a) { cuda::softmax_forward<T>(a...); }
  template <typename T, typename... A>
  static void backward(A... a) { cuda::softmax_backward<T>(a...); }
  template <typename T, typename... A>
  static void cross_entropy_forward_labels(A... a) {
    cuda::softmax_cross_entropy_forward_labels<T>(a...);
  }
  template <typename T, typename... A>
  static void cross_entropy_forward_probabilities(A... a) {
    cuda::softmax_cross_entropy_forward_probabilities<T>(a...);
  }
  template <typename T, typename... A>
  static void cross_entropy_backward_labels(A... a) {
    cuda::softmax_cross_entropy_backward_labels<T>(a...);
  }
  template <typename T, typename... A>
  static void cross_entropy_backward_probabilities(A... a) {
    cuda::softmax_cross_entropy_backward_probabilities<T>(a...);
  }
};

}  // namespace

void register_cuda_softmax(py::module_& m) {
  define_softmax<CudaSoftmax, uintptr_t>(m, stream_argument());
}

}  // namespace axonic::bind
