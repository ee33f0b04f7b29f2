// Per-ISA activation loops. activations_arch.cpp is compiled once per ISA in
// CMakeLists.txt, each time with -DAXONIC_ISA=<isa> and that ISA's flags, which puts
// its definitions in namespace axonic::cpu::<isa>. activations.cpp splits an array
// into chunks over threads and calls the active ISA's function on each chunk.
#pragma once

#include "cpu/activations.h"

#define AXONIC_DECLARE_ACTIVATIONS_ISA(isa)                                                  \
  namespace axonic::cpu::isa {                                                               \
  template <typename T>                                                                      \
  void activation_forward_chunk(ActivationKind kind, const T* x, T* y, int64_t n,            \
                                double alpha);                                               \
  template <typename T>                                                                      \
  void activation_backward_chunk(ActivationKind kind, const T* saved, const T* grad_out,      \
                                 T* grad_in, int64_t n, double alpha);                       \
  }

AXONIC_DECLARE_ACTIVATIONS_ISA(generic)
#ifdef AXONIC_HAVE_ISA_avx2
AXONIC_DECLARE_ACTIVATIONS_ISA(avx2)
#endif
#ifdef AXONIC_HAVE_ISA_avx512
AXONIC_DECLARE_ACTIVATIONS_ISA(avx512)
#endif
