// The checks of gemm(a, b, out, trans_a, trans_b, ...), shared by the CPU binding
// (NumPy arrays, cpu_gemm.cpp) and the CUDA binding (CUDA arrays, cuda_gemm.cpp), so
// both accept the same operands and refuse the rest with the same messages: a, b and
// out are 2-D matrices or 3-D stacks of equal batch, read in place through their
// strides (matrix_view: row windows, transposed views, broadcast batch axes).
#pragma once

#include <cstdint>

#include "bindings/array_checks.h"
#include "common/checks.h"
#include "common/gemm_shape.h"

namespace axonic::bind {

template <class Array>
struct GemmOperands {
  StridedMatrixOf<Array> a, b, out;
  int64_t batch;
  // The kernel's shape: a view stored transposed is op(x) with the flag flipped,
  // since (x.T).T == x.
  GemmShape shape;
};

// Array: FloatArray (float_array_view) or DeviceArray (device_float_array_view); the
// overloads of require_same_dtype for it are found by argument-dependent lookup.
template <class Array>
GemmOperands<Array> gemm_operands(const Array& a_array, const Array& b_array,
                                  const Array& out_array, bool trans_a, bool trans_b) {
  require_same_dtype(a_array, "a", b_array, "b");
  require_same_dtype(a_array, "a", out_array, "out");
  AXONIC_CHECK((a_array.ndim() == 2 || a_array.ndim() == 3) && b_array.ndim() == a_array.ndim() &&
                   out_array.ndim() == a_array.ndim(),
               "gemm takes 2-D matrices or 3-D stacks of them, all with the same ndim; got a ",
               a_array.shape_string(), ", b ", b_array.shape_string(), ", out ",
               out_array.shape_string());
  const auto a = matrix_view(a_array, "a", MatrixAccess::read);
  const auto b = matrix_view(b_array, "b", MatrixAccess::read);
  const auto out = matrix_view(out_array, "out", MatrixAccess::write);
  const int64_t batch = a.batch;
  AXONIC_CHECK(b.batch == batch && out.batch == batch, "gemm batch sizes differ: a ",
               a_array.shape_string(), ", b ", b_array.shape_string(), ", out ",
               out_array.shape_string());
  const int64_t m = trans_a ? a.cols : a.rows, k = trans_a ? a.rows : a.cols;
  const int64_t kb = trans_b ? b.cols : b.rows, n = trans_b ? b.rows : b.cols;
  AXONIC_CHECK(k == kb, "gemm inner dimensions differ: op(a) is ", m, "x", k, " and op(b) is ", kb,
               "x", n, " (a ", a_array.shape_string(), trans_a ? " transposed" : "", ", b ",
               b_array.shape_string(), trans_b ? " transposed" : "", ")");
  AXONIC_CHECK(out.rows == m && out.cols == n, "gemm out must be ", m, "x", n, ", got ",
               out_array.shape_string());
  require_no_overlap(out, "out", a, "a");
  require_no_overlap(out, "out", b, "b");

  const GemmShape shape{trans_a != a.transposed, trans_b != b.transposed, m, n, k, a.ld, b.ld,
                        out.ld};
  check_gemm_shape(shape);  // holds by construction; thrown here, not GIL-free
  return {a, b, out, batch, shape};
}

}  // namespace axonic::bind
