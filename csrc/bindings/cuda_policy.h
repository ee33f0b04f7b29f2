// What axonic._cuda's bindings bring to the binding templates shared with axonic._cpu
// (batch_norm_bindings.h, optimizer_bindings.h, copy_bindings.h): CUDA arrays, and
// the trailing `stream` argument (define_*<Device, uintptr_t>(m, stream_argument())). A
// family's Device type derives from it and adds its kernels.
#pragma once

#include <cstdint>

#include "bindings/cuda_arrays.h"

namespace axonic::bind {

struct CudaPolicy {
  using Array = DeviceArray;
  static DeviceArray array(py::handle obj, const char* name, bool writable) {
    return device_float_array(obj, name, writable);
  }
  static cudaStream_t stream(uintptr_t handle) { return stream_arg(handle); }
};

// The Python declaration of the stream argument.
inline py::arg_v stream_argument() { return py::arg("stream") = 0; }

}  // namespace axonic::bind
