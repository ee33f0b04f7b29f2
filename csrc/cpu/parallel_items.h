// When the element-wise and per-row kernels fork OpenMP threads, and the static split
// they share. Kept in an unnamed namespace: arch files (compiled with other ISA flags)
// include it too, and an inline function shared across them could be linked from the
// AVX-512 copy into the portable path.
#pragma once

#include <cstdint>

namespace axonic::cpu {
namespace {

// Below this many elements of work a fork/join costs more than it saves, so the
// calling thread does it all.
constexpr int64_t kParallelElements = int64_t{1} << 15;

// item_fn(i) for every i in [0, count), statically split over the threads once count x
// work_per_item reaches kParallelElements. Items must not share memory they write;
// item_fn must not throw or allocate (it may run inside a parallel region).
template <typename ItemFn>
void for_each_item(int64_t count, int64_t work_per_item, const ItemFn& item_fn) {
  if (count > 1 && count * work_per_item >= kParallelElements) {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < count; ++i) item_fn(i);
  } else {
    for (int64_t i = 0; i < count; ++i) item_fn(i);
  }
}

}  // namespace
}  // namespace axonic::cpu
