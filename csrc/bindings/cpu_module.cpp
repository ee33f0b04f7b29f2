// axonic._cpu: the C++/OpenMP kernels. Python allocates every output and
// passes it in; each binding validates its arrays, releases the GIL and calls
// the kernel. Bad input raises TypeError/ValueError; nothing aborts.
#include <omp.h>

#include "bindings/cpu_bindings.h"
#include "common/checks.h"
#include "common/cpu_features.h"
#include "cpu/gemm.h"

namespace axonic::bind {

void register_runtime(py::module_& m) {
  m.attr("__version__") = AXONIC_VERSION;
  m.attr("build_type") = AXONIC_BUILD_TYPE;
  m.attr("openmp_version") = _OPENMP;
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
}
