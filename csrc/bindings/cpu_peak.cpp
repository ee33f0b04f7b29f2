// Python binding of the FMA peak-throughput microbenchmark (cpu/fma_peak.h), the
// denominator of "% of peak" in `axonic bench`.
#include <string>

#include "bindings/cpu_bindings.h"
#include "common/checks.h"
#include "cpu/fma_peak.h"

namespace axonic::bind {

namespace {

py::dict fma_peak_binding(py::handle dtype_obj, double seconds) {
  // np.dtype(...) accepts "float32", numpy.float32 or a dtype, and raises TypeError
  // for anything that is not a dtype at all.
  const py::dtype dtype = py::dtype::from_args(py::reinterpret_borrow<py::object>(dtype_obj));
  const bool is_float = dtype.kind() == 'f' && (dtype.itemsize() == 4 || dtype.itemsize() == 8);
  AXONIC_CHECK(is_float, "fma_peak dtype must be float32 or float64, got ",
               std::string(py::str(dtype)));
  AXONIC_CHECK(seconds > 0 && seconds <= 60, "fma_peak seconds must be in (0, 60], got ",
               seconds);

  cpu::FmaPeak peak;
  {
    py::gil_scoped_release release;
    peak = dtype.itemsize() == 4 ? cpu::fma_peak<float>(seconds) : cpu::fma_peak<double>(seconds);
  }
  py::dict result;
  result["gflops"] = peak.gflops;
  result["per_thread"] = peak.per_thread;
  result["threads"] = peak.threads;
  result["isa"] = peak.isa;
  result["vector_bits"] = peak.vector_bits;
  return result;
}

}  // namespace

void register_peak(py::module_& m) {
  m.def("fma_peak", &fma_peak_binding, py::arg("dtype") = "float32", py::arg("seconds") = 0.2,
        "Measured peak GFLOP/s of the active ISA: every OpenMP thread runs independent\n"
        "fused multiply-add chains on full vectors for at least `seconds` (0 < s <= 60)\n"
        "after a short warm-up. dtype: float32 or float64. Returns a dict: gflops (sum over\n"
        "threads), per_thread (list), threads, isa, vector_bits (512, 256 or 128).");
}

}  // namespace axonic::bind
