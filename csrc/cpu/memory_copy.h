// A multi-threaded memory copy: the yardstick for memory-bound kernels. `axonic bench
// optim` times it to measure the bandwidth a stream copy reaches on this machine
// (bytes read + bytes written per second) and compares each optimizer step with it.
#pragma once

#include <cstddef>

namespace axonic::cpu {

// Copies `bytes` bytes from src to dst (which must not overlap), each OpenMP thread
// one contiguous share, large copies with streaming stores (memory_copy.cpp says why).
void parallel_copy(const void* src, void* dst, size_t bytes);

}  // namespace axonic::cpu
