// Validation of the NumPy arrays Python hands to a kernel, shared by every
// binding file. The kernel contract: C-contiguous float32 or float64 arrays
// (int64 for labels), outputs allocated by Python and writable. Anything else is
// refused with a Python exception naming what was expected: TypeError for a
// wrong type or dtype, ValueError for a wrong shape, layout or overlap.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <string>
#include <vector>

namespace axonic::bind {

namespace py = pybind11;

enum class FloatType { f32, f64 };

// A validated floating-point array: the array itself (kept alive) and its facts.
struct FloatArray {
  py::array array;
  FloatType dtype;
  std::vector<int64_t> shape;
  void* data;  // writable pointer; only use as output when created with writable=true

  int64_t ndim() const { return static_cast<int64_t>(shape.size()); }
  int64_t size() const;
  std::string shape_string() const;
  template <typename T>
  T* ptr() const { return static_cast<T*>(data); }
};

// Checks `obj` is a C-contiguous numpy float32/float64 array (and writable when
// it is an output). `name` is the argument's name, used in messages.
FloatArray float_array(py::handle obj, const char* name, bool writable = false);

// Checks `obj` is a C-contiguous int64 numpy array (class labels).
py::array_t<int64_t> int64_array(py::handle obj, const char* name);

// Checks b has a's dtype ("x is float32 but out is float64").
void require_same_dtype(const FloatArray& a, const char* a_name, const FloatArray& b,
                        const char* b_name);

// Checks b has exactly a's shape.
void require_same_shape(const FloatArray& a, const char* a_name, const FloatArray& b,
                        const char* b_name);

// Checks the output does not share memory with an input the kernel still reads.
void require_no_overlap(const FloatArray& out, const char* out_name, const FloatArray& in,
                        const char* in_name);

// Calls f(T{}) with T = float or double matching the dtype.
template <typename F>
decltype(auto) dispatch_float(FloatType t, F&& f) {
  if (t == FloatType::f32) return f(float{});
  return f(double{});
}

}  // namespace axonic::bind
