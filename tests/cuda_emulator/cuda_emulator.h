// The CUDA runtime and device built-ins for running axonic's CUDA kernels on the CPU.
//
// csrc/cuda/runtime.cuh and csrc/cuda/stream.h include this header instead of
// <cuda_runtime.h> when AXONIC_CUDA_EMULATION is defined; tests/cuda_emulator/build.py
// then compiles csrc/cuda/*.cu as C++20 with g++ and links cuda_emulator.cpp, which
// holds the scheduler. See README.md beside this file for how it works and its limits.
//
// Execution model: the blocks of a launch run one after another on the calling host
// thread; the threads of a block run as cooperative fibers (one stack each) that switch
// only inside __syncthreads and the warp operations, so barriers and shuffles behave as
// on the GPU and every run is deterministic. Consequences the kernels can rely on:
//   - `__shared__` is `static`: one block runs at a time, so a static local IS the
//     block's shared memory (shared by its threads, reused, not cleared, by the next
//     block - uninitialised as on the GPU).
//   - device memory is host memory: cudaMalloc is malloc, pointers are host pointers,
//     cudaMemcpy of any kind is memcpy, streams are ignored (everything is synchronous).
//   - atomics are plain read-modify-write (nothing runs between a fiber's switches).
// __CUDACC__ and __CUDA_ARCH__ are NOT defined: code under them is not compiled here.
#pragma once

// Standard headers that spell __attribute__((__noinline__)) come first, before the
// __noinline__ macro below would break them.
#include <math.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <source_location>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

// --- qualifiers ------------------------------------------------------------------
#define __global__
#define __device__
#define __host__
#define __constant__
#define __managed__
#define __shared__ static
#define __forceinline__ inline __attribute__((always_inline))
#define __noinline__ __attribute__((noinline))
#define __align__(n) __attribute__((aligned(n)))
#define __launch_bounds__(...)
#define __grid_constant__
// __restrict__ is a GNU keyword already.

// --- vector types (sizes and alignments as in CUDA's vector_types.h) ---------------
#define AXONIC_EMULATOR_VECTOR2(name, T, align)                                   \
  struct __attribute__((aligned(align))) name {                                   \
    T x, y;                                                                       \
  };                                                                              \
  inline name make_##name(T x, T y) { return name{x, y}; }
#define AXONIC_EMULATOR_VECTOR3(name, T)                                          \
  struct name {                                                                   \
    T x, y, z;                                                                    \
  };                                                                              \
  inline name make_##name(T x, T y, T z) { return name{x, y, z}; }
#define AXONIC_EMULATOR_VECTOR4(name, T, align)                                   \
  struct __attribute__((aligned(align))) name {                                   \
    T x, y, z, w;                                                                 \
  };                                                                              \
  inline name make_##name(T x, T y, T z, T w) { return name{x, y, z, w}; }

AXONIC_EMULATOR_VECTOR2(char2, signed char, 2)
AXONIC_EMULATOR_VECTOR2(uchar2, unsigned char, 2)
AXONIC_EMULATOR_VECTOR2(short2, short, 4)
AXONIC_EMULATOR_VECTOR2(ushort2, unsigned short, 4)
AXONIC_EMULATOR_VECTOR2(int2, int, 8)
AXONIC_EMULATOR_VECTOR2(uint2, unsigned, 8)
AXONIC_EMULATOR_VECTOR2(float2, float, 8)
AXONIC_EMULATOR_VECTOR2(longlong2, long long, 16)
AXONIC_EMULATOR_VECTOR2(ulonglong2, unsigned long long, 16)
AXONIC_EMULATOR_VECTOR2(double2, double, 16)
AXONIC_EMULATOR_VECTOR3(int3, int)
AXONIC_EMULATOR_VECTOR3(uint3, unsigned)
AXONIC_EMULATOR_VECTOR3(float3, float)
AXONIC_EMULATOR_VECTOR3(double3, double)
AXONIC_EMULATOR_VECTOR4(char4, signed char, 4)
AXONIC_EMULATOR_VECTOR4(uchar4, unsigned char, 4)
AXONIC_EMULATOR_VECTOR4(short4, short, 8)
AXONIC_EMULATOR_VECTOR4(ushort4, unsigned short, 8)
AXONIC_EMULATOR_VECTOR4(int4, int, 16)
AXONIC_EMULATOR_VECTOR4(uint4, unsigned, 16)
AXONIC_EMULATOR_VECTOR4(float4, float, 16)
AXONIC_EMULATOR_VECTOR4(double4, double, 32)

#undef AXONIC_EMULATOR_VECTOR2
#undef AXONIC_EMULATOR_VECTOR3
#undef AXONIC_EMULATOR_VECTOR4

struct dim3 {
  unsigned x, y, z;
  constexpr dim3(unsigned vx = 1, unsigned vy = 1, unsigned vz = 1) : x(vx), y(vy), z(vz) {}
  constexpr dim3(uint3 v) : x(v.x), y(v.y), z(v.z) {}
  constexpr operator uint3() const { return uint3{x, y, z}; }
};

// --- runtime types ---------------------------------------------------------------
typedef struct CUstream_st* cudaStream_t;
typedef struct CUevent_st* cudaEvent_t;

// The values are CUDA's, so error names and numbers read the same in both builds.
enum cudaError_t : int {
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorMemoryAllocation = 2,
  cudaErrorInitializationError = 3,
  cudaErrorInvalidConfiguration = 9,
  cudaErrorInvalidMemcpyDirection = 21,
  cudaErrorInsufficientDriver = 35,
  cudaErrorInvalidDeviceFunction = 98,
  cudaErrorNoDevice = 100,
  cudaErrorInvalidDevice = 101,
  cudaErrorInvalidResourceHandle = 400,
  cudaErrorNotReady = 600,
  cudaErrorIllegalAddress = 700,
  cudaErrorLaunchOutOfResources = 701,
  cudaErrorLaunchFailure = 719,
  cudaErrorNotSupported = 801,
  cudaErrorUnknown = 999,
};

enum cudaMemcpyKind {
  cudaMemcpyHostToHost = 0,
  cudaMemcpyHostToDevice = 1,
  cudaMemcpyDeviceToHost = 2,
  cudaMemcpyDeviceToDevice = 3,
  cudaMemcpyDefault = 4,
};

enum cudaFuncAttribute {
  cudaFuncAttributeMaxDynamicSharedMemorySize = 8,
  cudaFuncAttributePreferredSharedMemoryCarveout = 9,
};

enum cudaDeviceAttr {
  cudaDevAttrMaxThreadsPerBlock = 1,
  cudaDevAttrMaxBlockDimX = 2,
  cudaDevAttrMaxBlockDimY = 3,
  cudaDevAttrMaxBlockDimZ = 4,
  cudaDevAttrMaxGridDimX = 5,
  cudaDevAttrMaxGridDimY = 6,
  cudaDevAttrMaxGridDimZ = 7,
  cudaDevAttrMaxSharedMemoryPerBlock = 8,
  cudaDevAttrWarpSize = 10,
  cudaDevAttrMultiProcessorCount = 16,
  cudaDevAttrL2CacheSize = 38,
  cudaDevAttrMaxThreadsPerMultiProcessor = 39,
  cudaDevAttrComputeCapabilityMajor = 75,
  cudaDevAttrComputeCapabilityMinor = 76,
  cudaDevAttrMaxSharedMemoryPerMultiprocessor = 81,
  cudaDevAttrMaxSharedMemoryPerBlockOptin = 97,
};

// The fields kernels and launchers read; the values are an H200's (emulator.cpp).
struct cudaDeviceProp {
  char name[256];
  size_t totalGlobalMem;
  size_t sharedMemPerBlock;
  size_t sharedMemPerBlockOptin;
  size_t sharedMemPerMultiprocessor;
  int regsPerBlock;
  int warpSize;
  int maxThreadsPerBlock;
  int maxThreadsDim[3];
  int maxGridSize[3];
  int maxThreadsPerMultiProcessor;
  int multiProcessorCount;
  int major;
  int minor;
  int l2CacheSize;
  int clockRate;
};

#define cudaStreamDefault 0x00
#define cudaStreamNonBlocking 0x01
#define cudaStreamLegacy (reinterpret_cast<cudaStream_t>(0x1))
#define cudaStreamPerThread (reinterpret_cast<cudaStream_t>(0x2))

namespace axonic_emulator {

// Dynamic shared memory: at most 48 KiB unless cudaFuncSetAttribute raised the kernel's
// limit, which may go up to the opt-in maximum (an H100/H200's 227 KiB).
inline constexpr size_t kDefaultDynamicShared = 48 * 1024;
inline constexpr size_t kMaxDynamicSharedOptin = 227 * 1024;

namespace detail {

void set_last_error(cudaError_t err);
void set_max_dynamic_shared(const void* kernel, int bytes);

// One launch, type-erased: run_thread(context) runs the kernel in the current fiber.
struct Launch {
  const void* kernel;  // identifies the kernel for its shared-memory limit
  dim3 grid, block;
  size_t shared_bytes;
  void (*run_thread)(const void* context);
  const void* context;
};
// Runs every block; returns false (with the error set for cudaGetLastError) on a bad
// configuration; throws what a kernel threw, or std::runtime_error on a deadlock.
void run_launch(const Launch& launch);

// Barriers and warp operations (cuda_emulator.cpp). `site` locates the call for the
// divergence and deadlock reports.
enum class BlockOp { sync, sync_or, sync_and, sync_count };
int block_barrier(BlockOp op, int predicate, const std::source_location& site);

enum class WarpOp { sync, shfl_idx, shfl_up, shfl_down, shfl_xor, ballot, any, all, reduce_add,
                    reduce_min, reduce_max, reduce_and, reduce_or, reduce_xor };
// Every live lane named in `mask` must arrive with the same op and mask. `value` is the
// lane's operand bits (shuffles: up to 8 bytes; votes: the predicate; reductions: an
// unsigned or int), `arg` the lane / delta / lane mask, `width` the shuffle width;
// returns the lane's result bits.
uint64_t warp_op(WarpOp op, unsigned mask, uint64_t value, int arg, int width, bool is_signed,
                 const std::source_location& site);
unsigned live_lanes();  // __activemask: the lanes of the caller's warp that have not exited

// A failed atomicCAS: lets the block's other threads run (a spin lock can progress).
// cas_stalls counts failures since the last progress (a successful atomicCAS, a barrier,
// a thread returning); cas_failed throws when it grows huge: a spin that never ends.
void cas_failed();
extern unsigned cas_stalls;

[[noreturn]] void device_trap(const char* what);

}  // namespace detail

template <class... P>
void launch(void (*kernel)(P...), dim3 grid, dim3 block, size_t shared_bytes, cudaStream_t,
            std::type_identity_t<P>... args) {
  // Each emulated thread calls the kernel with its own copies of the arguments.
  const std::tuple<std::decay_t<P>...> arguments(args...);
  struct Context {
    void (*kernel)(P...);
    const std::tuple<std::decay_t<P>...>* arguments;
  } context{kernel, &arguments};
  detail::Launch l{reinterpret_cast<const void*>(kernel), grid, block, shared_bytes,
                   [](const void* c) {
                     const auto* ctx = static_cast<const Context*>(c);
                     std::apply(ctx->kernel, *ctx->arguments);
                   },
                   &context};
  detail::run_launch(l);
}

// The running block's dynamic shared memory (the launch's shared_bytes, 16-byte aligned).
unsigned char* dynamic_shared_memory();

}  // namespace axonic_emulator

// --- built-in variables ------------------------------------------------------------
// Ordinary (shadowable) names, as in CUDA, for the variables the scheduler rewrites at
// every switch (cuda_emulator.cpp defines them under the same assembler names). They
// never change while a thread runs: a fiber lives within one block of one launch.
#ifndef AXONIC_EMULATOR_IMPLEMENTATION
extern const uint3 threadIdx __asm__("axonic_emulator_thread_idx");
extern const uint3 blockIdx __asm__("axonic_emulator_block_idx");
extern const dim3 blockDim __asm__("axonic_emulator_block_dim");
extern const dim3 gridDim __asm__("axonic_emulator_grid_dim");
#endif
inline constexpr int warpSize = 32;

// --- runtime API ---------------------------------------------------------------------
cudaError_t cudaGetLastError();
cudaError_t cudaPeekAtLastError();
const char* cudaGetErrorString(cudaError_t err);
const char* cudaGetErrorName(cudaError_t err);
cudaError_t cudaGetDeviceCount(int* count);
cudaError_t cudaGetDevice(int* device);
cudaError_t cudaSetDevice(int device);
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device);
cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device);
cudaError_t cudaRuntimeGetVersion(int* version);
cudaError_t cudaDriverGetVersion(int* version);
cudaError_t cudaDeviceSynchronize();
cudaError_t cudaStreamSynchronize(cudaStream_t stream);
cudaError_t cudaStreamCreate(cudaStream_t* stream);
cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned flags);
cudaError_t cudaStreamDestroy(cudaStream_t stream);
cudaError_t cudaMalloc(void** ptr, size_t bytes);
cudaError_t cudaFree(void* ptr);
cudaError_t cudaMallocAsync(void** ptr, size_t bytes, cudaStream_t stream);
cudaError_t cudaFreeAsync(void* ptr, cudaStream_t stream);
cudaError_t cudaMemset(void* ptr, int value, size_t bytes);
cudaError_t cudaMemsetAsync(void* ptr, int value, size_t bytes, cudaStream_t stream = nullptr);
cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind);
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind,
                            cudaStream_t stream = nullptr);
cudaError_t cudaMemcpy2DAsync(void* dst, size_t dpitch, const void* src, size_t spitch,
                              size_t width, size_t height, cudaMemcpyKind kind,
                              cudaStream_t stream = nullptr);

template <class T>
cudaError_t cudaMalloc(T** ptr, size_t bytes) {
  return cudaMalloc(reinterpret_cast<void**>(ptr), bytes);
}
template <class T>
cudaError_t cudaMallocAsync(T** ptr, size_t bytes, cudaStream_t stream) {
  return cudaMallocAsync(reinterpret_cast<void**>(ptr), bytes, stream);
}

// Records a kernel's raised dynamic shared-memory limit (checked at its launches).
template <class F>
cudaError_t cudaFuncSetAttribute(F* kernel, cudaFuncAttribute attr, int value) {
  if (attr == cudaFuncAttributeMaxDynamicSharedMemorySize) {
    if (value < 0 || static_cast<size_t>(value) > axonic_emulator::kMaxDynamicSharedOptin) {
      axonic_emulator::detail::set_last_error(cudaErrorInvalidValue);
      return cudaErrorInvalidValue;
    }
    axonic_emulator::detail::set_max_dynamic_shared(reinterpret_cast<const void*>(kernel), value);
  }
  return cudaSuccess;
}

// Resident blocks per SM as an H200 bounds them by threads and shared memory.
template <class F>
cudaError_t cudaOccupancyMaxActiveBlocksPerMultiprocessor(int* blocks, F*, int block_size,
                                                          size_t dynamic_shared) {
  if (block_size <= 0 || block_size > 1024) return cudaErrorInvalidValue;
  int n = std::min(32, 2048 / block_size);
  if (dynamic_shared > 0)
    n = std::min<int>(n, static_cast<int>(228 * 1024 / (dynamic_shared + 1024)));
  *blocks = n;
  return cudaSuccess;
}

template <class T>
cudaError_t cudaMemcpyToSymbol(T& symbol, const void* src, size_t bytes, size_t offset = 0,
                               cudaMemcpyKind = cudaMemcpyHostToDevice) {
  std::memcpy(reinterpret_cast<unsigned char*>(&symbol) + offset, src, bytes);
  return cudaSuccess;
}
template <class T>
cudaError_t cudaMemcpyToSymbolAsync(T& symbol, const void* src, size_t bytes, size_t offset = 0,
                                    cudaMemcpyKind = cudaMemcpyHostToDevice,
                                    cudaStream_t = nullptr) {
  return cudaMemcpyToSymbol(symbol, src, bytes, offset);
}

// --- barriers ------------------------------------------------------------------------
inline void __syncthreads(std::source_location site = std::source_location::current()) {
  axonic_emulator::detail::block_barrier(axonic_emulator::detail::BlockOp::sync, 0, site);
}
inline int __syncthreads_or(int predicate,
                            std::source_location site = std::source_location::current()) {
  return axonic_emulator::detail::block_barrier(axonic_emulator::detail::BlockOp::sync_or,
                                                predicate, site);
}
inline int __syncthreads_and(int predicate,
                             std::source_location site = std::source_location::current()) {
  return axonic_emulator::detail::block_barrier(axonic_emulator::detail::BlockOp::sync_and,
                                                predicate, site);
}
inline int __syncthreads_count(int predicate,
                               std::source_location site = std::source_location::current()) {
  return axonic_emulator::detail::block_barrier(axonic_emulator::detail::BlockOp::sync_count,
                                                predicate, site);
}
inline void __threadfence() {}
inline void __threadfence_block() {}
inline void __threadfence_system() {}
inline void __nanosleep(unsigned) {}
[[noreturn]] inline void __trap() { axonic_emulator::detail::device_trap("__trap()"); }
[[noreturn]] inline void __brkpt() { axonic_emulator::detail::device_trap("__brkpt()"); }

// --- warp operations -------------------------------------------------------------------
namespace axonic_emulator::detail {

template <class T>
concept Shuffleable = std::is_trivially_copyable_v<T> && sizeof(T) <= 8;

template <class T>
uint64_t to_bits(T value) {
  uint64_t bits = 0;
  std::memcpy(&bits, &value, sizeof(T));
  return bits;
}
template <class T>
T from_bits(uint64_t bits) {
  T value;
  std::memcpy(&value, &bits, sizeof(T));
  return value;
}
template <class T>
T shuffle(WarpOp op, unsigned mask, T var, int arg, int width, const std::source_location& site) {
  return from_bits<T>(warp_op(op, mask, to_bits(var), arg, width, false, site));
}

}  // namespace axonic_emulator::detail

inline void __syncwarp(unsigned mask = 0xffffffffu,
                       std::source_location site = std::source_location::current()) {
  axonic_emulator::detail::warp_op(axonic_emulator::detail::WarpOp::sync, mask, 0, 0, 32, false,
                                   site);
}
template <axonic_emulator::detail::Shuffleable T>
T __shfl_sync(unsigned mask, T var, int src_lane, int width = 32,
              std::source_location site = std::source_location::current()) {
  return axonic_emulator::detail::shuffle(axonic_emulator::detail::WarpOp::shfl_idx, mask, var,
                                          src_lane, width, site);
}
template <axonic_emulator::detail::Shuffleable T>
T __shfl_up_sync(unsigned mask, T var, unsigned delta, int width = 32,
                 std::source_location site = std::source_location::current()) {
  return axonic_emulator::detail::shuffle(axonic_emulator::detail::WarpOp::shfl_up, mask, var,
                                          static_cast<int>(delta), width, site);
}
template <axonic_emulator::detail::Shuffleable T>
T __shfl_down_sync(unsigned mask, T var, unsigned delta, int width = 32,
                   std::source_location site = std::source_location::current()) {
  return axonic_emulator::detail::shuffle(axonic_emulator::detail::WarpOp::shfl_down, mask, var,
                                          static_cast<int>(delta), width, site);
}
template <axonic_emulator::detail::Shuffleable T>
T __shfl_xor_sync(unsigned mask, T var, int lane_mask, int width = 32,
                  std::source_location site = std::source_location::current()) {
  return axonic_emulator::detail::shuffle(axonic_emulator::detail::WarpOp::shfl_xor, mask, var,
                                          lane_mask, width, site);
}
inline unsigned __ballot_sync(unsigned mask, int predicate,
                              std::source_location site = std::source_location::current()) {
  return static_cast<unsigned>(axonic_emulator::detail::warp_op(
      axonic_emulator::detail::WarpOp::ballot, mask, predicate != 0, 0, 32, false, site));
}
inline int __any_sync(unsigned mask, int predicate,
                      std::source_location site = std::source_location::current()) {
  return static_cast<int>(axonic_emulator::detail::warp_op(
      axonic_emulator::detail::WarpOp::any, mask, predicate != 0, 0, 32, false, site));
}
inline int __all_sync(unsigned mask, int predicate,
                      std::source_location site = std::source_location::current()) {
  return static_cast<int>(axonic_emulator::detail::warp_op(
      axonic_emulator::detail::WarpOp::all, mask, predicate != 0, 0, 32, false, site));
}
inline unsigned __activemask() { return axonic_emulator::detail::live_lanes(); }

// sm_80 warp reductions (__reduce_add_sync etc.) on int and unsigned.
#define AXONIC_EMULATOR_WARP_REDUCE(name, op)                                                 \
  inline unsigned name(unsigned mask, unsigned value,                                         \
                       std::source_location site = std::source_location::current()) {         \
    return static_cast<unsigned>(axonic_emulator::detail::warp_op(                            \
        axonic_emulator::detail::WarpOp::op, mask, value, 0, 32, false, site));               \
  }                                                                                           \
  inline int name(unsigned mask, int value,                                                   \
                  std::source_location site = std::source_location::current()) {              \
    return static_cast<int>(axonic_emulator::detail::warp_op(                                 \
        axonic_emulator::detail::WarpOp::op, mask, static_cast<uint32_t>(value), 0, 32, true, \
        site));                                                                               \
  }
AXONIC_EMULATOR_WARP_REDUCE(__reduce_add_sync, reduce_add)
AXONIC_EMULATOR_WARP_REDUCE(__reduce_min_sync, reduce_min)
AXONIC_EMULATOR_WARP_REDUCE(__reduce_max_sync, reduce_max)
#undef AXONIC_EMULATOR_WARP_REDUCE
inline unsigned __reduce_and_sync(unsigned mask, unsigned value,
                                  std::source_location site = std::source_location::current()) {
  return static_cast<unsigned>(axonic_emulator::detail::warp_op(
      axonic_emulator::detail::WarpOp::reduce_and, mask, value, 0, 32, false, site));
}
inline unsigned __reduce_or_sync(unsigned mask, unsigned value,
                                 std::source_location site = std::source_location::current()) {
  return static_cast<unsigned>(axonic_emulator::detail::warp_op(
      axonic_emulator::detail::WarpOp::reduce_or, mask, value, 0, 32, false, site));
}
inline unsigned __reduce_xor_sync(unsigned mask, unsigned value,
                                  std::source_location site = std::source_location::current()) {
  return static_cast<unsigned>(axonic_emulator::detail::warp_op(
      axonic_emulator::detail::WarpOp::reduce_xor, mask, value, 0, 32, false, site));
}

// --- atomics (plain read-modify-write: no other fiber runs in between) -----------------
#define AXONIC_EMULATOR_ATOMIC(name, T, expr) \
  inline T name(T* address, T val) {          \
    const T old = *address;                   \
    *address = (expr);                        \
    return old;                               \
  }
#define AXONIC_EMULATOR_ATOMIC_ALL_INTS(name, expr)              \
  AXONIC_EMULATOR_ATOMIC(name, int, expr)                        \
  AXONIC_EMULATOR_ATOMIC(name, unsigned, expr)                   \
  AXONIC_EMULATOR_ATOMIC(name, long long, expr)                  \
  AXONIC_EMULATOR_ATOMIC(name, unsigned long long, expr)

AXONIC_EMULATOR_ATOMIC_ALL_INTS(atomicAdd, old + val)
AXONIC_EMULATOR_ATOMIC(atomicAdd, float, old + val)
AXONIC_EMULATOR_ATOMIC(atomicAdd, double, old + val)
AXONIC_EMULATOR_ATOMIC(atomicSub, int, old - val)
AXONIC_EMULATOR_ATOMIC(atomicSub, unsigned, old - val)
AXONIC_EMULATOR_ATOMIC_ALL_INTS(atomicMax, old < val ? val : old)
AXONIC_EMULATOR_ATOMIC_ALL_INTS(atomicMin, val < old ? val : old)
AXONIC_EMULATOR_ATOMIC_ALL_INTS(atomicAnd, old & val)
AXONIC_EMULATOR_ATOMIC_ALL_INTS(atomicOr, old | val)
AXONIC_EMULATOR_ATOMIC_ALL_INTS(atomicXor, old ^ val)
AXONIC_EMULATOR_ATOMIC_ALL_INTS(atomicExch, val)
AXONIC_EMULATOR_ATOMIC(atomicExch, float, val)
AXONIC_EMULATOR_ATOMIC(atomicInc, unsigned, old >= val ? 0u : old + 1u)
AXONIC_EMULATOR_ATOMIC(atomicDec, unsigned, (old == 0u || old > val) ? val : old - 1u)
#undef AXONIC_EMULATOR_ATOMIC_ALL_INTS
#undef AXONIC_EMULATOR_ATOMIC

// A failed compare-and-swap lets the block's other threads run first, so a spin lock
// between threads of one block makes progress (spinning on another block never can).
#define AXONIC_EMULATOR_CAS(T)                                             \
  inline T atomicCAS(T* address, T compare, T val) {                       \
    const T old = *address;                                                \
    if (old == compare) {                                                  \
      *address = val;                                                      \
      axonic_emulator::detail::cas_stalls = 0;                             \
    } else {                                                               \
      axonic_emulator::detail::cas_failed();                               \
    }                                                                      \
    return old;                                                            \
  }
AXONIC_EMULATOR_CAS(int)
AXONIC_EMULATOR_CAS(unsigned)
AXONIC_EMULATOR_CAS(unsigned long long)
AXONIC_EMULATOR_CAS(unsigned short)
#undef AXONIC_EMULATOR_CAS

// The _block / _system scoped variants are the same operation here.
#define atomicAdd_block atomicAdd
#define atomicAdd_system atomicAdd
#define atomicMax_block atomicMax
#define atomicMin_block atomicMin
#define atomicExch_block atomicExch
#define atomicCAS_block atomicCAS

// --- memory access hints ---------------------------------------------------------------
template <class T> T __ldg(const T* p) { return *p; }
template <class T> T __ldcg(const T* p) { return *p; }
template <class T> T __ldca(const T* p) { return *p; }
template <class T> T __ldcs(const T* p) { return *p; }
template <class T> T __ldlu(const T* p) { return *p; }
template <class T> T __ldcv(const T* p) { return *p; }
template <class T> void __stwb(T* p, T v) { *p = v; }
template <class T> void __stcg(T* p, T v) { *p = v; }
template <class T> void __stcs(T* p, T v) { *p = v; }
template <class T> void __stwt(T* p, T v) { *p = v; }

// --- math intrinsics ---------------------------------------------------------------------
// The fast approximate intrinsics are the exact functions here (more accurate than the
// GPU's, so tolerances must allow for the GPU's error, not the other way round).
inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
inline double rsqrt(double x) { return 1.0 / sqrt(x); }
inline float rcbrtf(float x) { return 1.0f / cbrtf(x); }
inline double rcbrt(double x) { return 1.0 / cbrt(x); }
inline float __expf(float x) { return expf(x); }
inline float __exp10f(float x) { return powf(10.0f, x); }
inline float __logf(float x) { return logf(x); }
inline float __log2f(float x) { return log2f(x); }
inline float __log10f(float x) { return log10f(x); }
inline float __powf(float x, float y) { return powf(x, y); }
inline float __sinf(float x) { return sinf(x); }
inline float __cosf(float x) { return cosf(x); }
inline float __tanf(float x) { return tanf(x); }
inline void __sincosf(float x, float* s, float* c) { *s = sinf(x); *c = cosf(x); }
inline float __tanhf(float x) { return tanhf(x); }
inline float __fdividef(float a, float b) { return a / b; }
inline float __saturatef(float x) { return x >= 1.0f ? 1.0f : (x > 0.0f ? x : 0.0f); }
// Correctly rounded single operations (the _rn/_rz/_ru/_rd suffixes all give round to
// nearest here); __f*_rn keep the compiler from fusing a multiply and an add on the GPU.
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline float __frcp_rn(float x) { return 1.0f / x; }
inline float __fsqrt_rn(float x) { return sqrtf(x); }
inline float __frsqrt_rn(float x) { return 1.0f / sqrtf(x); }
inline float __fmaf_rn(float a, float b, float c) { return fmaf(a, b, c); }
inline double __dadd_rn(double a, double b) { return a + b; }
inline double __dsub_rn(double a, double b) { return a - b; }
inline double __dmul_rn(double a, double b) { return a * b; }
inline double __ddiv_rn(double a, double b) { return a / b; }
inline double __drcp_rn(double x) { return 1.0 / x; }
inline double __dsqrt_rn(double x) { return sqrt(x); }
inline double __fma_rn(double a, double b, double c) { return fma(a, b, c); }

// --- conversions and bit casts -------------------------------------------------------------
inline unsigned __float_as_uint(float x) { return std::bit_cast<unsigned>(x); }
inline float __uint_as_float(unsigned x) { return std::bit_cast<float>(x); }
inline int __float_as_int(float x) { return std::bit_cast<int>(x); }
inline float __int_as_float(int x) { return std::bit_cast<float>(x); }
inline long long __double_as_longlong(double x) { return std::bit_cast<long long>(x); }
inline double __longlong_as_double(long long x) { return std::bit_cast<double>(x); }
inline int __double2hiint(double x) {
  return static_cast<int>(std::bit_cast<unsigned long long>(x) >> 32);
}
inline int __double2loint(double x) {
  return static_cast<int>(std::bit_cast<unsigned long long>(x) & 0xffffffffu);
}

// Float to integer: rn = nearest even, rz = toward zero, rd = floor, ru = ceiling.
// Out-of-range values are undefined here (the GPU saturates); kernels clamp first.
inline int __float2int_rn(float x) { return static_cast<int>(nearbyintf(x)); }
inline int __float2int_rz(float x) { return static_cast<int>(x); }
inline int __float2int_rd(float x) { return static_cast<int>(floorf(x)); }
inline int __float2int_ru(float x) { return static_cast<int>(ceilf(x)); }
inline unsigned __float2uint_rn(float x) { return static_cast<unsigned>(nearbyintf(x)); }
inline unsigned __float2uint_rz(float x) { return static_cast<unsigned>(x); }
inline long long __float2ll_rn(float x) { return static_cast<long long>(nearbyintf(x)); }
inline long long __float2ll_rz(float x) { return static_cast<long long>(x); }
inline int __double2int_rn(double x) { return static_cast<int>(nearbyint(x)); }
inline int __double2int_rz(double x) { return static_cast<int>(x); }
inline long long __double2ll_rn(double x) { return static_cast<long long>(nearbyint(x)); }
inline float __double2float_rn(double x) { return static_cast<float>(x); }
inline float __int2float_rn(int x) { return static_cast<float>(x); }
inline float __uint2float_rn(unsigned x) { return static_cast<float>(x); }
inline float __ll2float_rn(long long x) { return static_cast<float>(x); }
inline double __int2double_rn(int x) { return static_cast<double>(x); }
inline double __ll2double_rn(long long x) { return static_cast<double>(x); }

// --- integer intrinsics ----------------------------------------------------------------------
inline int __popc(unsigned x) { return __builtin_popcount(x); }
inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz(static_cast<unsigned>(x)); }
inline int __clzll(long long x) {
  return x == 0 ? 64 : __builtin_clzll(static_cast<unsigned long long>(x));
}
inline int __ffs(int x) { return __builtin_ffs(x); }
inline int __ffsll(long long x) { return __builtin_ffsll(x); }
inline unsigned __brev(unsigned x) {
  unsigned r = 0;
  for (int i = 0; i < 32; ++i) r |= ((x >> i) & 1u) << (31 - i);
  return r;
}
inline unsigned __umulhi(unsigned a, unsigned b) {
  return static_cast<unsigned>((static_cast<unsigned long long>(a) * b) >> 32);
}
inline int __mulhi(int a, int b) {
  return static_cast<int>((static_cast<long long>(a) * b) >> 32);
}
inline unsigned long long __umul64hi(unsigned long long a, unsigned long long b) {
  return static_cast<unsigned long long>((static_cast<unsigned __int128>(a) * b) >> 64);
}
inline long long __mul64hi(long long a, long long b) {
  return static_cast<long long>((static_cast<__int128>(a) * b) >> 64);
}
inline int __mul24(int a, int b) { return a * b; }
inline unsigned __umul24(unsigned a, unsigned b) { return a * b; }
inline unsigned __funnelshift_l(unsigned lo, unsigned hi, unsigned shift) {
  const unsigned long long v = (static_cast<unsigned long long>(hi) << 32) | lo;
  return static_cast<unsigned>((v << (shift & 31u)) >> 32);
}
inline unsigned __funnelshift_r(unsigned lo, unsigned hi, unsigned shift) {
  const unsigned long long v = (static_cast<unsigned long long>(hi) << 32) | lo;
  return static_cast<unsigned>(v >> (shift & 31u));
}

// --- ::min / ::max as CUDA declares them for device code ---------------------------------------
// Same-type overloads only (a mixed call that is ambiguous here is ambiguous in CUDA too,
// or converts silently there - cast explicitly).
#define AXONIC_EMULATOR_MIN_MAX(T)                         \
  inline T min(T a, T b) { return b < a ? b : a; }         \
  inline T max(T a, T b) { return a < b ? b : a; }
AXONIC_EMULATOR_MIN_MAX(int)
AXONIC_EMULATOR_MIN_MAX(unsigned)
AXONIC_EMULATOR_MIN_MAX(long)
AXONIC_EMULATOR_MIN_MAX(unsigned long)
AXONIC_EMULATOR_MIN_MAX(long long)
AXONIC_EMULATOR_MIN_MAX(unsigned long long)
#undef AXONIC_EMULATOR_MIN_MAX
inline float min(float a, float b) { return fminf(a, b); }
inline float max(float a, float b) { return fmaxf(a, b); }
inline double min(double a, double b) { return fmin(a, b); }
inline double max(double a, double b) { return fmax(a, b); }
