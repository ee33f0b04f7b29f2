// Per-ISA FMA chains of the peak-throughput microbenchmark (see fma_peak.h).
// fma_peak_arch.cpp is compiled once per ISA in CMakeLists.txt, each time with
// -DAXONIC_ISA=<isa> and that ISA's flags, into namespace axonic::cpu::<isa>.
#pragma once

#include <cstdint>

#define AXONIC_DECLARE_FMA_PEAK_ISA(isa)                                               \
  namespace axonic::cpu::isa {                                                         \
  /* rounds x (chains of one multiply-add per vector lane); returns a checksum */     \
  double fma_chains(int64_t rounds, float c, float d);                                 \
  double fma_chains(int64_t rounds, double c, double d);                               \
  /* flops one round performs: chains * lanes * 2 */                                   \
  int64_t fma_flops_per_round(float);                                                  \
  int64_t fma_flops_per_round(double);                                                 \
  int fma_vector_bits();                                                               \
  }

AXONIC_DECLARE_FMA_PEAK_ISA(generic)
#ifdef AXONIC_HAVE_ISA_avx2
AXONIC_DECLARE_FMA_PEAK_ISA(avx2)
#endif
#ifdef AXONIC_HAVE_ISA_avx512
AXONIC_DECLARE_FMA_PEAK_ISA(avx512)
#endif
