// Python binding of the CPU GEMM: out = alpha * op(a) @ op(b) + beta * out on
// 2-D matrices, or on 3-D stacks of them (one product per leading index).
#include "bindings/cpu_bindings.h"
#include "common/checks.h"
#include "cpu/gemm.h"

namespace axonic::bind {

namespace {

void gemm_binding(py::handle a_obj, py::handle b_obj, py::handle out_obj, bool trans_a,
                  bool trans_b, double alpha, double beta) {
  FloatArray a = float_array(a_obj, "a");
  FloatArray b = float_array(b_obj, "b");
  FloatArray out = float_array(out_obj, "out", /*writable=*/true);
  require_same_dtype(a, "a", b, "b");
  require_same_dtype(a, "a", out, "out");
  AXONIC_CHECK((a.ndim() == 2 || a.ndim() == 3) && b.ndim() == a.ndim() && out.ndim() == a.ndim(),
               "gemm takes 2-D matrices or 3-D stacks of them, all with the same ndim; got a ",
               a.shape_string(), ", b ", b.shape_string(), ", out ", out.shape_string());
  const bool batched = a.ndim() == 3;
  const int64_t batch = batched ? a.shape[0] : 1;
  AXONIC_CHECK(!batched || (b.shape[0] == batch && out.shape[0] == batch),
               "gemm batch sizes differ: a ", a.shape_string(), ", b ", b.shape_string(), ", out ",
               out.shape_string());
  const int64_t a_rows = a.shape[batched], a_cols = a.shape[batched + 1];
  const int64_t b_rows = b.shape[batched], b_cols = b.shape[batched + 1];
  const int64_t m = trans_a ? a_cols : a_rows, k = trans_a ? a_rows : a_cols;
  const int64_t kb = trans_b ? b_cols : b_rows, n = trans_b ? b_rows : b_cols;
  AXONIC_CHECK(k == kb, "gemm inner dimensions differ: op(a) is ", m, "x", k, " and op(b) is ", kb,
               "x", n, " (a ", a.shape_string(), trans_a ? " transposed" : "", ", b ",
               b.shape_string(), trans_b ? " transposed" : "", ")");
  AXONIC_CHECK(out.shape[batched] == m && out.shape[batched + 1] == n, "gemm out must be ", m, "x",
               n, ", got ", out.shape_string());
  require_no_overlap(out, "out", a, "a");
  require_no_overlap(out, "out", b, "b");

  const cpu::GemmShape shape{trans_a, trans_b, m, n, k, a_cols, b_cols, n};
  dispatch_float(a.dtype, [&](auto zero) {
    using T = decltype(zero);
    const T* pa = a.ptr<T>();
    const T* pb = b.ptr<T>();
    T* pc = out.ptr<T>();
    py::gil_scoped_release release;
    for (int64_t i = 0; i < batch; ++i)
      cpu::gemm<T>(shape, T(alpha), pa + i * m * k, pb + i * k * n, T(beta), pc + i * m * n);
  });
}

}  // namespace

void register_gemm(py::module_& m) {
  m.def("gemm", &gemm_binding, py::arg("a"), py::arg("b"), py::arg("out"),
        py::arg("trans_a") = false, py::arg("trans_b") = false, py::arg("alpha") = 1.0,
        py::arg("beta") = 0.0,
        "out = alpha * op(a) @ op(b) + beta * out for C-contiguous float32/float64 matrices\n"
        "(2-D, or 3-D stacks with one product per leading index). op(x) is x or x.T per\n"
        "trans_a/trans_b. out is allocated by the caller; with beta=0 it is never read.");
  m.def("gemm_kernel_name", &cpu::gemm_kernel_name, "The GEMM micro-kernel in use.");
}

}  // namespace axonic::bind
