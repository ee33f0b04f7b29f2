// Per-ISA loops over one row of softmax / log-softmax / softmax-cross-entropy.
// softmax_arch.cpp is compiled once per ISA in CMakeLists.txt, each time with
// -DAXONIC_ISA=<isa> and that ISA's flags, which puts its definitions in namespace
// axonic::cpu::<isa>. softmax.cpp keeps the algorithm, the threading over rows and the
// loss arithmetic; it fetches the active ISA's row kernels once per call.
#pragma once

#include <cstdint>

namespace axonic::cpu {

// Each function works on one row of cols >= 1 elements; sums are returned in double.
template <typename T>
struct SoftmaxRowKernels {
  // max_j z_j (a NaN may or may not win; exp carries it into the sum either way).
  T (*max)(const T* z, int64_t cols);
  // e_j = exp(z_j - shift); returns sum_j e_j.
  double (*store_exp_and_sum)(const T* z, T* e, int64_t cols, T shift);
  // sum_j exp(z_j - shift), nothing stored.
  double (*sum_exp)(const T* z, int64_t cols, T shift);
  // values_j *= factor.
  void (*scale)(T* values, int64_t cols, T factor);
  // y_j = (z_j - max) - log_sum.
  void (*log_softmax)(const T* z, T* y, int64_t cols, T max, T log_sum);
  // grad_in_j = y_j (grad_out_j - sum_k grad_out_k y_k), y the softmax output.
  void (*softmax_backward)(const T* y, const T* grad_out, T* grad_in, int64_t cols);
  // grad_in_j = grad_out_j - exp(y_j) sum_k grad_out_k, y the log-softmax output.
  void (*log_softmax_backward)(const T* y, const T* grad_out, T* grad_in, int64_t cols);
};

}  // namespace axonic::cpu

#define AXONIC_DECLARE_SOFTMAX_ISA(isa)  \
  namespace axonic::cpu::isa {           \
  template <typename T>                  \
  SoftmaxRowKernels<T> softmax_row_kernels(); \
  }

AXONIC_DECLARE_SOFTMAX_ISA(generic)
#ifdef AXONIC_HAVE_ISA_avx2
AXONIC_DECLARE_SOFTMAX_ISA(avx2)
#endif
#ifdef AXONIC_HAVE_ISA_avx512
AXONIC_DECLARE_SOFTMAX_ISA(avx512)
#endif
