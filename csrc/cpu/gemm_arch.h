// Per-ISA GEMM entry points. gemm_arch.cpp is compiled once per ISA in
// CMakeLists.txt, each time with -DAXONIC_ISA=<isa> and that ISA's flags, which
// puts its definitions in namespace axonic::cpu::<isa>.
#pragma once

#include "cpu/gemm.h"

#define AXONIC_DECLARE_GEMM_ISA(isa)                                                      \
  namespace axonic::cpu::isa {                                                            \
  void gemm(const GemmShape& s, float alpha, const float* a, const float* b, float beta,  \
            float* c);                                                                    \
  void gemm(const GemmShape& s, double alpha, const double* a, const double* b,           \
            double beta, double* c);                                                      \
  GemmBlocking blocking(float);                                                           \
  GemmBlocking blocking(double);                                                          \
  const char* kernel_name();                                                              \
  }

AXONIC_DECLARE_GEMM_ISA(generic)
#ifdef AXONIC_HAVE_ISA_avx2
AXONIC_DECLARE_GEMM_ISA(avx2)
#endif
#ifdef AXONIC_HAVE_ISA_avx512
AXONIC_DECLARE_GEMM_ISA(avx512)
#endif
