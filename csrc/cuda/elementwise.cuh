// Grid-stride loops over flat arrays, shared by the elementwise kernels (activations,
// dropout). A launch has at most kMaxElementwiseBlocks blocks of kElementwiseThreads
// threads, enough to fill an H100/H200 (132 SMs x 2048 threads) several times over;
// larger arrays loop. Each thread handles groups of `lanes` consecutive elements
// loaded as one 16-byte vector (float4 / double2: one 128-bit load per group) when
// every array of the call is 16-byte aligned; otherwise lanes = 1. The elements after
// the last whole group (fewer than `lanes`) go one per thread.
#pragma once

#include <cstdint>

#include "cuda/runtime.cuh"

namespace axonic::cuda {

inline constexpr int kElementwiseThreads = 256;
inline constexpr int64_t kMaxElementwiseBlocks = 4096;

// `lanes` consecutive elements as one aligned vector.
template <typename T, int lanes>
struct alignas(sizeof(T) * lanes) Lanes {
  T v[lanes];
};

// The vector width of T: 16 bytes (4 floats, 2 doubles, 16 mask bytes).
template <typename T>
inline constexpr int kVectorLanes = static_cast<int>(16 / sizeof(T));

template <typename T, int lanes>
__device__ __forceinline__ Lanes<T, lanes> load_lanes(const T* p) {
  return *reinterpret_cast<const Lanes<T, lanes>*>(p);
}

template <typename T, int lanes>
__device__ __forceinline__ void store_lanes(T* p, const Lanes<T, lanes>& v) {
  *reinterpret_cast<Lanes<T, lanes>*>(p) = v;
}

__device__ __forceinline__ int64_t global_thread() {
  return static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}

__device__ __forceinline__ int64_t grid_threads() {
  return static_cast<int64_t>(gridDim.x) * blockDim.x;
}

// Calls group(first) for the first index of every whole group of `lanes` elements,
// then single(i) for each element of the last partial group, over the grid.
template <int lanes, typename Group, typename Single>
__device__ __forceinline__ void for_each_group(int64_t n, const Group& group,
                                               const Single& single) {
  const int64_t groups = n / lanes;
  for (int64_t g = global_thread(); g < groups; g += grid_threads()) group(g * lanes);
  for (int64_t i = groups * lanes + global_thread(); i < n; i += grid_threads()) single(i);
}

// The grid for `n` elements in groups of `lanes`.
inline unsigned elementwise_blocks(int64_t n, int lanes) {
  const unsigned blocks = blocks_for((n + lanes - 1) / lanes, kElementwiseThreads);
  return blocks < kMaxElementwiseBlocks ? blocks : static_cast<unsigned>(kMaxElementwiseBlocks);
}

// Whether p is 16-byte aligned (a vector group may be loaded from it).
inline bool vector_aligned(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

}  // namespace axonic::cuda
