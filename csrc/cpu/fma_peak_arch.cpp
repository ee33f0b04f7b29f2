// FMA chains for the peak-throughput microbenchmark, compiled once per ISA.
//
// kChains independent accumulators, each a full vector register, advance by
// acc = acc * c + d once per round. Chains must outnumber latency x ports:
//   avx512: 4-cycle FMA on up to 2 ports -> >= 8 chains; 24 zmm (of 32) leave slack.
//   avx2:   4-5-cycle FMA on 2 ports -> >= 10 chains; 12 ymm (of 16) plus c and d.
//   generic (SSE2, no FMA): a multiply then a dependent add, ~8 cycles per step on
//           2 ports -> >= 8 chains; 12 xmm (of 16) plus c and d.
// With 0 < c < 1 every chain converges to d / (1 - c), so values stay finite and
// normal (no denormal slow path) however long the loop runs. The chains start from
// distinct values, so the compiler cannot fold two of them into one, and the caller
// checks the returned checksum, so it cannot drop the loop either.
#include "cpu/fma_peak_arch.h"

#include "cpu/gemm_vector_ops.h"

#ifndef AXONIC_ISA
#error "fma_peak_arch.cpp is compiled once per ISA with -DAXONIC_ISA=<isa>"
#endif

namespace axonic::cpu::AXONIC_ISA {

namespace {

#if defined(__AVX512F__)
constexpr int kChains = 24;
#else
constexpr int kChains = 12;
#endif

template <typename T>
double run_chains(int64_t rounds, T c, T d) {
  using Ops = VectorOps<T>;  // the GEMM micro-kernels' FMA, so the peak is theirs
  const typename Ops::V vc = Ops::broadcast(c), vd = Ops::broadcast(d);
  typename Ops::V acc[kChains];
  for (int j = 0; j < kChains; ++j) acc[j] = Ops::broadcast(T(1) + T(j) / T(kChains));
  for (int64_t r = 0; r < rounds; ++r) {
#pragma GCC unroll 24
    for (int j = 0; j < kChains; ++j) acc[j] = Ops::fma(acc[j], vc, vd);
  }
  typename Ops::V total = Ops::zero();
  for (int j = 0; j < kChains; ++j) total += acc[j];
  return sum_lanes(total);
}

}  // namespace

double fma_chains(int64_t rounds, float c, float d) { return run_chains(rounds, c, d); }
double fma_chains(int64_t rounds, double c, double d) { return run_chains(rounds, c, d); }

int64_t fma_flops_per_round(float) { return int64_t{kChains} * Simd<float>::lanes * 2; }
int64_t fma_flops_per_round(double) { return int64_t{kChains} * Simd<double>::lanes * 2; }

int fma_vector_bits() { return kVectorBytes * 8; }

}  // namespace axonic::cpu::AXONIC_ISA
