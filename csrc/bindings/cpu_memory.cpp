// Python binding of the multi-threaded copy (csrc/cpu/memory_copy.h), through
// copy_bindings.h.
#include "bindings/copy_bindings.h"
#include "bindings/cpu_bindings.h"
#include "bindings/cpu_policy.h"
#include "cpu/memory_copy.h"

namespace axonic::bind {

namespace {

struct CpuCopy : CpuPolicy {
  static void copy(const void* src, void* dst, int64_t bytes) {
    cpu::parallel_copy(src, dst, static_cast<size_t>(bytes));
  }
};

}  // namespace

void register_memory(py::module_& m) {
  define_parallel_copy<CpuCopy>(
      m, "dst[...] = src over all threads (a stream copy, for measuring memory bandwidth).\n"
         "src, dst: C-contiguous float32/float64 arrays of one shape and dtype, not overlapping.");
}

}  // namespace axonic::bind
