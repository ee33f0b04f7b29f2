// What every CUDA kernel file includes: the CUDA runtime (or, for the CPU-side
// kernel tests, tests/cuda_emulator/cuda_emulator.h, which runs the same kernels on
// host threads), the error check, the checked launch and dynamic shared memory.
//
// Kernels are launched only through AXONIC_LAUNCH, never with <<<...>>> directly:
// the emulator cannot parse that syntax, and every launch must be checked.
#pragma once

#ifdef AXONIC_CUDA_EMULATION
#include "cuda_emulator.h"
#else
#include <cuda_runtime.h>
#endif

#include <cstddef>
#include <cstdint>
#include <utility>

namespace axonic::cuda {

// Throws std::runtime_error "CUDA error <name> (<text>) in <what> at <file>:<line>";
// pybind11 turns it into a Python RuntimeError.
[[noreturn]] void throw_cuda_error(cudaError_t err, const char* what, const char* file, int line);

// The current device's multiprocessors (for choosing tile sizes and grid widths).
int multiprocessor_count();

// Blocks of `threads` threads that cover `items` work items (at least one block).
inline unsigned blocks_for(int64_t items, int threads) {
  const int64_t blocks = (items + threads - 1) / threads;
  return static_cast<unsigned>(blocks < 1 ? 1 : blocks);
}

// kernel<<<grid, block, shared_bytes, stream>>>(args...), then the launch error check.
template <typename... Params, typename... Args>
void launch_checked(void (*kernel)(Params...), dim3 grid, dim3 block, size_t shared_bytes,
                    cudaStream_t stream, const char* what, const char* file, int line,
                    Args&&... args) {
  if (grid.x == 0 || grid.y == 0 || grid.z == 0) return;  // nothing to do (empty arrays)
#ifdef AXONIC_CUDA_EMULATION
  axonic_emulator::launch(kernel, grid, block, shared_bytes, stream,
                          static_cast<Params>(std::forward<Args>(args))...);
#else
  kernel<<<grid, block, shared_bytes, stream>>>(static_cast<Params>(std::forward<Args>(args))...);
#endif
  const cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess) throw_cuda_error(err, what, file, line);
}

// The block's dynamic shared memory (the launch's shared_bytes), 16-byte aligned.
template <typename T>
__device__ __forceinline__ T* dynamic_shared() {
#ifdef AXONIC_CUDA_EMULATION
  return reinterpret_cast<T*>(axonic_emulator::dynamic_shared_memory());
#else
  extern __shared__ __align__(16) unsigned char axonic_dynamic_shared[];
  return reinterpret_cast<T*>(axonic_dynamic_shared);
#endif
}

}  // namespace axonic::cuda

// AXONIC_CUDA_CHECK(cudaMemsetAsync(...)): throws with the call, file and line on failure.
#define AXONIC_CUDA_CHECK(call)                                                   \
  do {                                                                            \
    const cudaError_t axonic_err_ = (call);                                       \
    if (axonic_err_ != cudaSuccess)                                               \
      ::axonic::cuda::throw_cuda_error(axonic_err_, #call, __FILE__, __LINE__);   \
  } while (0)

// AXONIC_LAUNCH((kernel<float, 4>), grid, block, shared_bytes, stream, args...): a
// checked launch; a template kernel goes in parentheses.
#define AXONIC_LAUNCH(kernel, grid, block, shared_bytes, stream, ...)                     \
  ::axonic::cuda::launch_checked(kernel, grid, block, shared_bytes, stream, #kernel,     \
                                 __FILE__, __LINE__, __VA_ARGS__)
