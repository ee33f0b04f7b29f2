// The Python binding of parallel_copy, written once for axonic._cpu (cpu_memory.cpp)
// and axonic._cuda (cuda_optimizers.cpp): dst[...] = src for C-contiguous float32 /
// float64 arrays of one shape and dtype that do not overlap, the yardstick of memory
// bandwidth that the fused updates are measured against. The Device type is that of
// optimizer_bindings.h, with
//   static void copy(const void* src, void* dst, int64_t bytes, ...streams).
#pragma once

#include <cstdint>

#include "bindings/array_checks.h"

namespace axonic::bind {

template <typename Device, typename... Stream, typename... Extra>
void define_parallel_copy(py::module_& m, const char* doc, const Extra&... extra) {
  m.def(
      "parallel_copy",
      [](py::handle src_obj, py::handle dst_obj, Stream... stream) {
        const auto src = Device::array(src_obj, "src", false);
        const auto dst = Device::array(dst_obj, "dst", /*writable=*/true);
        require_same_dtype(src, "src", dst, "dst");
        require_same_shape(src, "src", dst, "dst");
        require_no_overlap(dst, "dst", src, "src");
        const int64_t bytes = src.size() * (src.dtype == FloatType::f64 ? 8 : 4);
        py::gil_scoped_release release;
        Device::copy(src.data, dst.data, bytes, Device::stream(stream)...);
      },
      py::arg("src"), py::arg("dst"), extra..., doc);
}

}  // namespace axonic::bind
