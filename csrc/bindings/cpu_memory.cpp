// Python binding of the multi-threaded copy (csrc/cpu/memory_copy.h).
#include "bindings/cpu_bindings.h"
#include "common/checks.h"
#include "cpu/memory_copy.h"

namespace axonic::bind {

void register_memory(py::module_& m) {
  m.def(
      "parallel_copy",
      [](py::handle src_obj, py::handle dst_obj) {
        FloatArray src = float_array(src_obj, "src");
        FloatArray dst = float_array(dst_obj, "dst", /*writable=*/true);
        require_same_dtype(src, "src", dst, "dst");
        require_same_shape(src, "src", dst, "dst");
        require_no_overlap(dst, "dst", src, "src");
        const size_t bytes = static_cast<size_t>(src.size()) * src.array.itemsize();
        py::gil_scoped_release release;
        cpu::parallel_copy(src.data, dst.data, bytes);
      },
      py::arg("src"), py::arg("dst"),
      "dst[...] = src over all threads (a stream copy, for measuring memory bandwidth).\n"
      "src, dst: C-contiguous float32/float64 arrays of one shape and dtype, not overlapping.");
}

}  // namespace axonic::bind
