// What axonic._cpu's bindings bring to the binding templates shared with axonic._cuda
// (batch_norm_bindings.h, optimizer_bindings.h, copy_bindings.h): NumPy arrays, and no
// stream argument. A family's Device type derives from it and adds its kernels.
#pragma once

#include "bindings/array_checks.h"

namespace axonic::bind {

struct CpuPolicy {
  using Array = FloatArray;
  static FloatArray array(py::handle obj, const char* name, bool writable) {
    return float_array(obj, name, writable);
  }
};

}  // namespace axonic::bind
