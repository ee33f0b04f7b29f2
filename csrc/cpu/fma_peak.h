// Peak floating-point throughput of this CPU for the ISA in use, measured rather than
// read from a datasheet, so "% of peak" means the same on any machine, VM or clock.
//
// Every OpenMP thread runs many independent chains acc = acc * c + d on full SIMD
// vectors (fma_peak_arch.cpp), enough of them to cover the FMA latency times the number
// of FMA ports, so nothing but FMA throughput limits the loop. A fused multiply-add
// counts 2 flops per lane; the portable build has no FMA instruction on x86-64 and
// issues a multiply and an add instead, which also count 2 flops per lane.
#pragma once

#include <vector>

namespace axonic::cpu {

struct FmaPeak {
  double gflops;                   // sum over threads
  std::vector<double> per_thread;  // GFLOP/s of each thread, in thread order
  int threads;                     // omp_get_max_threads() at the call
  const char* isa;                 // "avx512", "avx2" or "generic"
  int vector_bits;                 // 512, 256 or 128
};

// Runs for at least `seconds` (wall time) after a warm-up of at most 50 ms, on every
// OpenMP thread at once. A thread's rate is its flops over the CPU time it got, so
// time a busy machine gives to other processes does not count against the core. T is float or double. Throws std::invalid_argument unless 0 < seconds <= 60.
template <typename T>
FmaPeak fma_peak(double seconds);

}  // namespace axonic::cpu
