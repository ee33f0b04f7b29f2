// Validation of the CUDA arrays Python hands to a kernel of axonic._cuda: any object
// with __cuda_array_interface__ (cupy.ndarray, a PyTorch CUDA tensor, Numba's arrays).
// The kernel contract is the CPU module's (array_checks.h): C-contiguous arrays of
// the dtypes each kernel names, outputs allocated by Python and writable. Anything
// else is refused with a Python exception naming what was expected: TypeError for a
// wrong type or dtype, ValueError for a wrong shape, layout or overlap.
//
// DeviceArray has FloatArray's facts (shape, ndim(), size(), shape_string(), ptr<T>(),
// dtype) so the shape checks shared with the CPU bindings (templates over the array
// type) take either.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bindings/array_checks.h"
#include "cuda/stream.h"

namespace axonic::bind {

enum class ElementType { f32, f64, i64, u8 };

struct DeviceArray {
  py::object owner;  // keeps the array alive while the binding runs
  ElementType element;
  FloatType dtype;  // meaningful for f32 / f64 arrays only
  Dims shape;
  Dims strides;  // bytes (C-contiguous ones when the interface gives none)
  void* data;                    // device pointer
  int64_t itemsize;

  int64_t ndim() const { return static_cast<int64_t>(shape.size()); }
  int64_t size() const;
  int64_t nbytes() const { return size() * itemsize; }
  std::string shape_string() const;
  ArrayLayout layout() const;  // for matrix_view (array_checks.h)
  template <typename T>
  T* ptr() const { return static_cast<T*>(data); }
};

// A C-contiguous float32/float64 CUDA array (writable when it is an output).
DeviceArray device_float_array(py::handle obj, const char* name, bool writable = false);

// device_float_array without the C-contiguity requirement: any strides, for kernels
// that take leading dimensions (GEMM; matrix_view says which strides they read).
DeviceArray device_float_array_view(py::handle obj, const char* name, bool writable = false);

// A C-contiguous CUDA array of exactly `element` (int64 labels and indices, uint8 masks).
DeviceArray device_array_of(py::handle obj, const char* name, ElementType element,
                            bool writable = false);

void require_same_dtype(const DeviceArray& a, const char* a_name, const DeviceArray& b,
                        const char* b_name);
void require_same_shape(const DeviceArray& a, const char* a_name, const DeviceArray& b,
                        const char* b_name);
// The output's bytes must not overlap an input's (both C-contiguous: byte ranges).
void require_no_overlap(const DeviceArray& out, const char* out_name, const DeviceArray& in,
                        const char* in_name);

// The stream argument every kernel binding takes: the cudaStream_t handle as an
// integer (cupy.cuda.get_current_stream().ptr; 0 is the legacy default stream).
cudaStream_t stream_arg(uintptr_t handle);

}  // namespace axonic::bind
