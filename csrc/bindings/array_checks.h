// Validation of the NumPy arrays Python hands to a kernel, shared by every
// binding file. The kernel contract: C-contiguous float32 or float64 arrays
// (int64 for labels), outputs allocated by Python and writable; kernels that take
// leading dimensions (GEMM) read strided views in place through matrix_view.
// Anything else is refused with a Python exception naming what was expected: TypeError for a
// wrong type or dtype, ValueError for a wrong shape, layout or overlap.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/dims.h"

namespace axonic::bind {

namespace py = pybind11;

enum class FloatType { f32, f64 };

// Where an array's elements lie, for the checks of strided views (matrix_view) that
// NumPy arrays and CUDA arrays (cuda_arrays.h) share: a view of the array's own facts,
// valid while that FloatArray or DeviceArray lives (layout() is taken once per check,
// with no copies). `data` is only compared and offset, never read, so it may be a
// device address.
struct ArrayLayout {
  const Dims& shape;
  const Dims& strides;  // bytes, one per axis
  int64_t itemsize;
  uintptr_t data;      // address of element (0, ..., 0)
  const char* module;  // "numpy" or "cupy": whose ascontiguousarray a message suggests

  int64_t size() const;
};

// A validated floating-point array: the array itself (kept alive) and its facts.
struct FloatArray {
  py::array array;
  FloatType dtype;
  Dims shape;
  Dims strides;  // bytes, one per axis
  void* data;  // writable pointer; only use as output when created with writable=true

  int64_t ndim() const { return static_cast<int64_t>(shape.size()); }
  int64_t size() const;
  std::string shape_string() const;
  ArrayLayout layout() const;
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

// float_array without the C-contiguity requirement: any strides, for kernels that
// take leading dimensions (matrix_view says which strides they can read).
FloatArray float_array_view(py::handle obj, const char* name, bool writable = false);

// Parses a dtype argument (numpy.float32, numpy.dtype('float64'), 'float32', ...);
// TypeError for anything that is not float32 or float64.
FloatType float_dtype_arg(py::handle dtype, const char* name);

// How a kernel uses a matrix_view: `read` accepts a transposed view (flip the
// kernel's trans flag) and a batch stride of 0 (numpy.broadcast_to); `write` needs
// rows with unit inner stride and no two elements at one address.
enum class MatrixAccess { read, write };

// The last two axes of a 2-D array, or of each item of a 3-D stack, as a BLAS
// matrix read in place. The array's matrix is rows x cols; in memory it is a
// row-major block `stored_rows() x stored_cols()` with `ld` elements from one
// stored row to the next, and with `transposed` that block is its transpose (x.T
// of a row-major x: the kernel flips its trans flag instead of copying). Matrix i
// of a stack starts `batch_stride` elements after matrix 0. Strides along axes of
// length 1 (and all strides of an empty array) are never stepped along, so they
// are ignored: NumPy may report any value there.
struct MatrixLayout {
  int64_t batch;         // 1 for a 2-D array
  int64_t rows, cols;    // the array's last two axes
  int64_t ld;            // >= stored_cols()
  int64_t batch_stride;  // >= 0; 0 for a single matrix or a broadcast stack
  bool transposed;

  int64_t stored_rows() const { return transposed ? cols : rows; }
  int64_t stored_cols() const { return transposed ? rows : cols; }
};

// Checks `x` (2-D or 3-D, any strides) has a layout a BLAS-style kernel reads in
// place for `access`: non-negative strides in whole elements, an aligned pointer,
// unit stride along one of the last two axes (the last one for `write`) and at
// least a row between rows; a `write` array must not overlap itself. ValueError
// otherwise, naming the strides and the <module>.ascontiguousarray fix.
MatrixLayout matrix_layout(const ArrayLayout& x, const char* name, MatrixAccess access);

// A matrix_layout together with its array (FloatArray, or DeviceArray of cuda_arrays.h),
// which it refers to and which must outlive it (a binding's validated arguments do).
template <class Array>
struct StridedMatrixOf : MatrixLayout {
  const Array* array;  // the validated array; array->data is element (0, 0[, 0])

  template <typename T>
  T* matrix(int64_t i) const { return array->template ptr<T>() + i * batch_stride; }
};
using StridedMatrix = StridedMatrixOf<FloatArray>;

// `x` (float_array_view, device_float_array_view) read in place as matrix_layout says.
template <class Array>
StridedMatrixOf<Array> matrix_view(const Array& x, const char* name, MatrixAccess access) {
  return {matrix_layout(x.layout(), name, access), &x};
}
template <class Array>  // a temporary would be gone before the view is used
StridedMatrixOf<Array> matrix_view(const Array&& x, const char* name, MatrixAccess access) = delete;

// Checks the output does not share an element with an input, exactly for strided
// views: arrays whose byte ranges interleave (two column slices of one buffer) pass.
void require_no_shared_elements(const ArrayLayout& out, const char* out_name,
                                const ArrayLayout& in, const char* in_name);

template <class Array>
void require_no_overlap(const StridedMatrixOf<Array>& out, const char* out_name,
                        const StridedMatrixOf<Array>& in, const char* in_name) {
  require_no_shared_elements(out.array->layout(), out_name, in.array->layout(), in_name);
}

// Calls f(T{}) with T = float or double matching the dtype.
template <typename F>
decltype(auto) dispatch_float(FloatType t, F&& f) {
  if (t == FloatType::f32) return f(float{});
  return f(double{});
}

}  // namespace axonic::bind
