// Python bindings of the CUDA GEMM (cuda/gemm.h), the CPU module's gemm on CUDA arrays:
//   gemm(a, b, out, trans_a, trans_b, alpha, beta, allow_tf32=False, stream=0)
//       the CPU binding's operands, checks and messages (gemm_checks.h): 2-D matrices or
//       3-D stacks read in place through their strides (row windows, transposed views,
//       broadcast batch axes); allow_tf32 lets float32 use the TF32 tensor cores.
//   gemm_using(kernel, a, b, out, ...)   the same on a named kernel, so tests reach each
//   gemm_kernels()                       one whatever the shape; their names.
#include <string>

#include "bindings/cuda_arrays.h"
#include "bindings/cuda_bindings.h"
#include "bindings/gemm_checks.h"
#include "common/checks.h"
#include "cuda/gemm.h"

namespace axonic::bind {

namespace {

constexpr cuda::GemmKernel kNamedKernels[] = {cuda::GemmKernel::simt_128x128,
                                              cuda::GemmKernel::simt_64x64,
                                              cuda::GemmKernel::tf32_128x128};

void run_gemm(cuda::GemmKernel kernel, py::handle a_obj, py::handle b_obj, py::handle out_obj,
              bool trans_a, bool trans_b, double alpha, double beta, bool allow_tf32,
              uintptr_t stream) {
  const DeviceArray a_array = device_float_array_view(a_obj, "a");
  const DeviceArray b_array = device_float_array_view(b_obj, "b");
  const DeviceArray out_array = device_float_array_view(out_obj, "out", /*writable=*/true);
  const GemmOperands<DeviceArray> ops =
      gemm_operands(a_array, b_array, out_array, trans_a, trans_b);
  if (out_array.size() == 0) return;  // no products, or empty matrices: nothing to write
  const cuda::GemmBatch batch{ops.batch, ops.a.batch_stride, ops.b.batch_stride,
                              ops.out.batch_stride};
  dispatch_float(a_array.dtype, [&](auto zero) {
    using T = decltype(zero);
    const T* a = ops.a.template matrix<T>(0);
    const T* b = ops.b.template matrix<T>(0);
    T* out = ops.out.template matrix<T>(0);
    py::gil_scoped_release release;
    cuda::gemm<T>(ops.shape, T(alpha), a, b, T(beta), out, batch, allow_tf32, stream_arg(stream),
                  kernel);
  });
}

void gemm_binding(py::handle a, py::handle b, py::handle out, bool trans_a, bool trans_b,
                  double alpha, double beta, bool allow_tf32, uintptr_t stream) {
  run_gemm(cuda::GemmKernel::automatic, a, b, out, trans_a, trans_b, alpha, beta, allow_tf32,
           stream);
}

cuda::GemmKernel kernel_arg(const std::string& name) {
  std::string names;
  for (cuda::GemmKernel k : kNamedKernels) {
    if (name == cuda::gemm_kernel_name(k)) return k;
    names += concat(names.empty() ? "" : ", ", cuda::gemm_kernel_name(k));
  }
  throw std::invalid_argument(concat("unknown gemm kernel '", name, "'; the kernels are ", names));
}

void gemm_using_binding(const std::string& kernel, py::handle a, py::handle b, py::handle out,
                        bool trans_a, bool trans_b, double alpha, double beta, uintptr_t stream) {
  run_gemm(kernel_arg(kernel), a, b, out, trans_a, trans_b, alpha, beta, false, stream);
}

py::tuple gemm_kernels_binding() {
  py::list names;
  for (cuda::GemmKernel k : kNamedKernels) names.append(cuda::gemm_kernel_name(k));
  return py::tuple(names);
}

}  // namespace

void register_cuda_gemm(py::module_& m) {
  m.def("gemm", &gemm_binding, py::arg("a"), py::arg("b"), py::arg("out"),
        py::arg("trans_a") = false, py::arg("trans_b") = false, py::arg("alpha") = 1.0,
        py::arg("beta") = 0.0, py::arg("allow_tf32") = false,
        py::arg("stream") = 0,
        "out = alpha * op(a) @ op(b) + beta * out for float32/float64 CUDA arrays (2-D, or 3-D\n"
        "stacks with one product per leading index), as the CPU module's gemm: op(x) is x or\n"
        "x.T per trans_a/trans_b; a and b are read in place through their strides (unit stride\n"
        "along one of the last two axes, any batch stride, 0 included); out needs unit stride\n"
        "along its last axis and must not overlap a, b or itself. With beta=0 out is never read.\n"
        "allow_tf32=True lets float32 run on the tensor cores with inputs rounded to TF32 (10\n"
        "mantissa bits; float64 ignores it). Launches on `stream` (a cudaStream_t as an int).");
  m.def("gemm_using", &gemm_using_binding, py::arg("kernel"), py::arg("a"), py::arg("b"),
        py::arg("out"), py::arg("trans_a") = false, py::arg("trans_b") = false,
        py::arg("alpha") = 1.0, py::arg("beta") = 0.0, py::arg("stream") = 0,
        "gemm on the named kernel (one of gemm_kernels()) whatever the shape, for tests and\n"
        "benchmarks; the tf32 and 128x128 kernels take float32 only.");
  m.def("gemm_kernels", &gemm_kernels_binding,
        "The names of the CUDA gemm kernels gemm_using takes.");
}

}  // namespace axonic::bind
