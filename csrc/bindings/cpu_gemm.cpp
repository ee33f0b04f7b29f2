// Python bindings of the CPU GEMM, C = alpha * op(A) @ op(B) + beta * C:
//   gemm(a, b, out, ...)   NumPy matrices (2-D) or stacks of them (3-D), read in place
//                          through their strides (gemm_checks.h): row slices of larger
//                          arrays, transposed views (x.T flips the kernel's trans flag)
//                          and broadcast stacks of a and b need no copy.
//   gemm_raw(...)          the BLAS sgemm/dgemm contract in row-major order on flat
//                          buffers with explicit m, n, k and leading dimensions.
//   gemm_blocking(dtype)   the active kernel's register/cache blocking, for tests.
#include <limits>
#include <optional>
#include <string>

#include "bindings/cpu_bindings.h"
#include "bindings/gemm_checks.h"
#include "common/checks.h"
#include "cpu/gemm.h"

namespace axonic::bind {

namespace {

// Releases the GIL for its scope when the product is long enough for another Python
// thread to use the time. Releasing and taking it back costs about 60 ns, a sixth of a
// whole 8x8 call (0.38 -> 0.32 us), while a product under kHeldGilMacs multiply-adds
// (64^3 / 4: about a microsecond) ends before another thread could do much.
class GilReleasedFor {
 public:
  static constexpr double kHeldGilMacs = 64.0 * 64 * 64 / 4;
  explicit GilReleasedFor(double multiply_adds) {
    if (multiply_adds > kHeldGilMacs) release_.emplace();
  }

 private:
  std::optional<py::gil_scoped_release> release_;
};

void gemm_binding(py::handle a_obj, py::handle b_obj, py::handle out_obj, bool trans_a,
                  bool trans_b, double alpha, double beta) {
  const FloatArray a_array = float_array_view(a_obj, "a");
  const FloatArray b_array = float_array_view(b_obj, "b");
  const FloatArray out_array = float_array_view(out_obj, "out", /*writable=*/true);
  const GemmOperands<FloatArray> ops =
      gemm_operands(a_array, b_array, out_array, trans_a, trans_b);
  dispatch_float(a_array.dtype, [&](auto zero) {
    using T = decltype(zero);
    const GilReleasedFor release(double(ops.batch) * ops.shape.m * ops.shape.n * ops.shape.k);
    for (int64_t i = 0; i < ops.batch; ++i)
      cpu::gemm<T>(ops.shape, T(alpha), ops.a.template matrix<T>(i),
                   ops.b.template matrix<T>(i), T(beta), ops.out.template matrix<T>(i));
  });
}

// A BLAS buffer: a C-contiguous 1-D float array.
FloatArray flat_buffer(py::handle obj, const char* name, bool writable = false) {
  FloatArray x = float_array(obj, name, writable);
  AXONIC_CHECK(x.ndim() == 1, name, " must be a 1-D buffer, got shape ", x.shape_string(),
               "; pass ", name, ".reshape(-1)");
  return x;
}

// Checks `buffer` holds a row-major rows x row_length matrix with leading
// dimension ld: (rows - 1) * ld + row_length elements, none when it is empty.
// ld >= row_length already holds (check_gemm_shape).
void require_buffer_holds(const FloatArray& buffer, const char* name, int64_t rows,
                          int64_t row_length, const char* ld_name, int64_t ld,
                          const char* layout) {
  if (rows == 0 || row_length == 0) return;
  const bool overflows =
      rows - 1 > (std::numeric_limits<int64_t>::max() - row_length) / ld;
  const int64_t needed = overflows ? 0 : (rows - 1) * ld + row_length;
  AXONIC_CHECK(!overflows && buffer.size() >= needed, name, " holds ", buffer.size(),
               " elements but a ", rows, "x", row_length, " matrix (", layout, ") with ",
               ld_name, "=", ld, " needs (", rows, " - 1) * ", ld, " + ", row_length, " = ",
               overflows ? std::string("more than int64 can count") : std::to_string(needed),
               "; pass a larger buffer or check the sizes and ", ld_name);
}

void gemm_raw_binding(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha,
                      py::handle a_obj, int64_t lda, py::handle b_obj, int64_t ldb, double beta,
                      py::handle c_obj, int64_t ldc) {
  FloatArray a = flat_buffer(a_obj, "a");
  FloatArray b = flat_buffer(b_obj, "b");
  FloatArray c = flat_buffer(c_obj, "c", /*writable=*/true);
  require_same_dtype(a, "a", b, "b");
  require_same_dtype(a, "a", c, "c");
  const cpu::GemmShape shape{trans_a, trans_b, m, n, k, lda, ldb, ldc};
  cpu::check_gemm_shape(shape);
  require_buffer_holds(a, "a", trans_a ? k : m, trans_a ? m : k, "lda", lda,
                       trans_a ? "A stored k x m, trans_a" : "A stored m x k");
  require_buffer_holds(b, "b", trans_b ? n : k, trans_b ? k : n, "ldb", ldb,
                       trans_b ? "B stored n x k, trans_b" : "B stored k x n");
  require_buffer_holds(c, "c", m, n, "ldc", ldc, "C, m x n");
  require_no_overlap(c, "c", a, "a");
  require_no_overlap(c, "c", b, "b");

  dispatch_float(a.dtype, [&](auto zero) {
    using T = decltype(zero);
    const T* pa = a.ptr<T>();
    const T* pb = b.ptr<T>();
    T* pc = c.ptr<T>();
    const GilReleasedFor release(double(m) * n * k);
    cpu::gemm<T>(shape, T(alpha), pa, pb, T(beta), pc);
  });
}

py::dict gemm_blocking_binding(py::handle dtype) {
  const cpu::GemmBlocking blocking =
      dispatch_float(float_dtype_arg(dtype, "dtype"),
                     [](auto zero) { return cpu::gemm_blocking<decltype(zero)>(); });
  py::dict out;
  out["mr"] = blocking.mr;
  out["nr"] = blocking.nr;
  out["kc"] = blocking.kc;
  out["mc"] = blocking.mc;
  out["nc"] = blocking.nc;
  out["lanes"] = blocking.lanes;
  return out;
}

}  // namespace

void register_gemm(py::module_& m) {
  m.def("gemm", &gemm_binding, py::arg("a"), py::arg("b"), py::arg("out"),
        py::arg("trans_a") = false, py::arg("trans_b") = false, py::arg("alpha") = 1.0,
        py::arg("beta") = 0.0,
        "out = alpha * op(a) @ op(b) + beta * out for float32/float64 matrices (2-D, or 3-D\n"
        "stacks with one product per leading index). op(x) is x or x.T per trans_a/trans_b.\n"
        "Operands are read in place through their strides: a and b may be any view with unit\n"
        "stride along one of their last two axes (row slices of a larger array, x.T) and any\n"
        "batch stride, 0 included (numpy.broadcast_to); out needs unit stride along its last\n"
        "axis and must not overlap itself or a, b. Negative strides, or strides that are not\n"
        "whole elements, raise ValueError (pass numpy.ascontiguousarray). out is allocated by\n"
        "the caller; with beta=0 it is never read.");
  m.def("gemm_raw", &gemm_raw_binding, py::arg("trans_a"), py::arg("trans_b"), py::arg("m"),
        py::arg("n"), py::arg("k"), py::arg("alpha"), py::arg("a"), py::arg("lda"), py::arg("b"),
        py::arg("ldb"), py::arg("beta"), py::arg("c"), py::arg("ldc"),
        "BLAS sgemm/dgemm in row-major order on 1-D C-contiguous float32/float64 buffers:\n"
        "C = alpha * op(A) @ op(B) + beta * C, C m x n with row stride ldc. A is m x k (lda >=\n"
        "k) or, with trans_a, k x m (lda >= m); B is k x n (ldb >= n) or, with trans_b, n x k\n"
        "(ldb >= k). Each buffer must hold (rows - 1) * ld + row_length elements. c is written\n"
        "and must not overlap a or b; with beta=0 it is never read.");
  m.def("gemm_blocking", &gemm_blocking_binding, py::arg("dtype"),
        "The active GEMM kernel's blocking for dtype (float32 or float64): a dict with mr, nr\n"
        "(register tile), kc (K block), mc (rows of A per block), nc (columns of B per block).");
  m.def("gemm_kernel_name", &cpu::gemm_kernel_name, "The GEMM micro-kernel in use.");
}

}  // namespace axonic::bind
