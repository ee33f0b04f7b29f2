// axonic._cpu: the C++/OpenMP kernels. Python allocates every output and
// passes it in; each binding validates its arrays, releases the GIL and calls
// the kernel. Bad input raises TypeError/ValueError; nothing aborts.
#include <omp.h>

#include "bindings/cpu_bindings.h"
#include "common/checks.h"
#include "common/cpu_features.h"
#include "common/environment.h"
#include "cpu/gemm.h"

namespace axonic::bind {

namespace {

// AXONIC_NUM_THREADS=n sets the kernels' threads at import and wins over
// OMP_NUM_THREADS, which the OpenMP runtime has already read. Unset or empty leaves
// OpenMP's choice; anything but a positive integer fails the import (pybind11 turns
// the exception into ImportError) rather than silently running on the wrong count.
void apply_num_threads_variable() {
  if (auto n = integer_variable("AXONIC_NUM_THREADS", 1, 65536, "the number of threads"))
    omp_set_num_threads(static_cast<int>(*n));
}

}  // namespace

void register_runtime(py::module_& m) {
  m.attr("__version__") = AXONIC_VERSION;
  m.attr("build_type") = AXONIC_BUILD_TYPE;
  m.attr("openmp_version") = _OPENMP;
  apply_num_threads_variable();
  m.def("get_num_threads", [] { return omp_get_max_threads(); },
        "Threads the kernels use (OpenMP's max threads).");
  m.def(
      "set_num_threads",
      [](int n) {
        AXONIC_CHECK(n >= 1, "set_num_threads expects n >= 1, got ", n);
        omp_set_num_threads(n);
      },
      py::arg("n"), "Sets the number of threads the kernels use.");
  m.def("simd_level", [] { return isa_name(active_isa()); }, "The instruction set in use.");
  m.def(
      "supported_simd_levels",
      [] {
        std::vector<std::string> names;
        for (Isa isa : supported_isas()) names.emplace_back(isa_name(isa));
        return names;
      },
      "Instruction sets this build and CPU can run, best last.");
  m.def("set_simd_level", &set_isa, py::arg("name"),
        "Forces 'generic', 'avx2' or 'avx512' (for testing each kernel path).");
}

}  // namespace axonic::bind

PYBIND11_MODULE(_cpu, m) {
  m.doc() = "axonic's C++/OpenMP CPU kernels";
  axonic::bind::register_runtime(m);
  axonic::bind::register_gemm(m);
  axonic::bind::register_activations(m);
  axonic::bind::register_softmax(m);
  axonic::bind::register_peak(m);
  axonic::bind::register_optimizers(m);
  axonic::bind::register_memory(m);
  axonic::bind::register_array_allocator(m);
  axonic::bind::register_batch_norm(m);
  axonic::bind::register_dropout(m);
  axonic::bind::register_pooling(m);
  axonic::bind::register_conv2d(m);
  axonic::bind::register_function_apply(m);
}
