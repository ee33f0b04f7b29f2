// axonic._cpu's softmax and softmax-cross-entropy bindings: softmax_bindings.h over
// NumPy arrays and the kernels of cpu/softmax.h.
#include <optional>

#include "bindings/cpu_bindings.h"
#include "bindings/cpu_policy.h"
#include "bindings/softmax_bindings.h"
#include "cpu/softmax.h"

namespace axonic::bind {

namespace {

struct CpuSoftmax : CpuPolicy {
  static std::optional<char> dtype_kind(py::handle obj) {
    if (!py::isinstance<py::array>(obj)) return std::nullopt;
    return py::reinterpret_borrow<py::array>(obj).dtype().kind();
  }
  static LabelArray labels(py::handle obj, const char* name) {
    py::array_t<int64_t> labels = int64_array(obj, name);
    return {labels, Dims(labels.shape(), labels.shape() + labels.ndim()),
            labels.data()};
  }

  template <typename T, typename... A>
  static void forward(A... a) { cpu::softmax_forward<T>(a...); }
  template <typename T, typename... A>
  static void backward(A... a) { cpu::softmax_backward<T>(a...); }
  template <typename T, typename... A>
  static void cross_entropy_forward_labels(A... a) {
    cpu::softmax_cross_entropy_forward_labels<T>(a...);
  }
  template <typename T, typename... A>
  static void cross_entropy_forward_probabilities(A... a) {
    cpu::softmax_cross_entropy_forward_probabilities<T>(a...);
  }
  template <typename T, typename... A>
  static void cross_entropy_backward_labels(A... a) {
    cpu::softmax_cross_entropy_backward_labels<T>(a...);
  }
  template <typename T, typename... A>
  static void cross_entropy_backward_probabilities(A... a) {
    cpu::softmax_cross_entropy_backward_probabilities<T>(a...);
  }
};

}  // namespace

void register_softmax(py::module_& m) { define_softmax<CpuSoftmax>(m); }

}  // namespace axonic::bind
