// axonic._cpu's dropout bindings: dropout_bindings.h over NumPy arrays and the kernels
// of cpu/dropout.h.
#include <string>

#include "bindings/cpu_bindings.h"
#include "bindings/cpu_policy.h"
#include "bindings/dropout_bindings.h"
#include "cpu/dropout.h"

namespace axonic::bind {

namespace {

struct CpuDropout : CpuPolicy {
  static MaskArray mask(py::handle obj, const char* name, bool writable) {
    if (!py::isinstance<py::array>(obj))
      throw py::type_error(concat(name, " must be a numpy.ndarray of uint8, got ",
                                  std::string(py::str(py::type::of(obj).attr("__name__")))));
    auto a = py::reinterpret_borrow<py::array>(obj);
    if (!a.dtype().is(py::dtype::of<uint8_t>()))
      throw mask_dtype_error(name, std::string(py::str(a.dtype())));
    AXONIC_CHECK((a.flags() & py::array::c_style) != 0, name,
                 " must be C-contiguous; pass numpy.ascontiguousarray(", name, ")");
    AXONIC_CHECK(!writable || a.writeable(), name, " must be writable (it is an output)");
    return {a, Dims(a.shape(), a.shape() + a.ndim()),
            static_cast<uint8_t*>(const_cast<void*>(a.data()))};
  }

  template <typename T, typename... A>
  static void forward(A... a) { cpu::dropout_forward<T>(a...); }
  template <typename T, typename... A>
  static void backward(A... a) { cpu::dropout_backward<T>(a...); }
};

}  // namespace

void register_dropout(py::module_& m) { define_dropout<CpuDropout>(m); }

}  // namespace axonic::bind
