// Register and cache blocking of the per-ISA GEMM drivers (gemm_arch.cpp,
// gemm_blocked.h), and when they fork threads. Included by *_arch.cpp files only:
// everything here is in namespace axonic::cpu::<isa>.
#pragma once

#include <omp.h>

#include <cstdint>

#include "cpu/gemm_micro_kernel.h"

namespace axonic::cpu::AXONIC_ISA {

template <typename T>
struct Blocking {
  static constexpr int lanes = VectorOps<T>::lanes;
#if defined(__AVX512F__)
  // 6 rows x 4 vectors: 24 accumulators fed by 4 vector loads and 6 broadcasts per
  // step. Here vector loads take issue slots from the FMAs (on a 2-core Xeon with
  // AVX-512, 6-18 independent zmm loads per 24 FMAs cost 8-27% of the FMA rate), so
  // the tile with the fewest loads per FMA wins: 6x64 ran 5-10% faster than 12x32.
  static constexpr int mr = 6;
  static constexpr int nv = 4;                 // vectors per tile row in the blocked path
#else
  static constexpr int mr = kMicroTileRows;    // 6 rows x 2 vectors of the 16 registers
  static constexpr int nv = 2;
#endif
  static constexpr int nr = nv * lanes;
  // kc: a deep K block halves the passes over C (each one a read and a write of
  // every tile, rows ldc apart) against 256. Its B micro-panel (128 KiB at 6x64)
  // streams from L2 past the A panels: an L1-sized one (kc = 128) measured 15%
  // slower for the extra passes over C, 768-2048 no faster.
  static constexpr int64_t kc = 512;
  static constexpr int64_t mc = 32 * mr;       // A block mc x kc stays in L2
  static constexpr int64_t nc = 4096;          // packed B kc x nc stays in L3
  static constexpr int small_m = 4;            // M up to this takes the few-rows path
};

// Forking threads costs a few microseconds: smaller products run on the calling thread.
// Past this the split pays on every path (2 threads, AVX-512, GFLOP/s, 1 thread ->
// 2: 64^3 135 -> 170, 100^3 116 -> 185, 128x64x128 153 -> 251); forked at this size
// (32x32x128), shares of under a microsecond each ran at 0.6x the speed of one thread.
constexpr double kParallelFlops = 2.0 * 64 * 64 * 32;

// Whether a product of this many flops should fork threads: not when it is small, and
// not from inside a parallel region (conv2d runs whole images on separate threads).
inline bool fork_threads(double flops, double threshold) {
  return omp_get_max_threads() > 1 && !omp_in_parallel() && flops > threshold;
}

// Runs body() on every thread of a new team when `parallel`, else on the calling thread
// alone. Outside any parallel region that needs no team: `omp parallel if (false)` would
// set up a team of one, about 0.2 us a call, most of a 16^3 product's time. Inside one
// (conv2d's threads each running products) it does: there the body's thread queries and
// worksharing loops would otherwise bind to the enclosing team and split the product
// among threads that are not running it.
template <typename Body>
inline void run_parallel_if(bool parallel, const Body& body) {
  if (!parallel && !omp_in_parallel()) return body();
#pragma omp parallel if (parallel)
  body();
}

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

}  // namespace axonic::cpu::AXONIC_ISA
