#include "cpu/gemm.h"

#include "common/checks.h"
#include "common/cpu_features.h"
#include "cpu/gemm_arch.h"

namespace axonic::cpu {

template <typename T>
void gemm(const GemmShape& s, T alpha, const T* a, const T* b, T beta, T* c) {
  check_gemm_shape(s);
  switch (active_isa()) {
#ifdef AXONIC_HAVE_ISA_avx512
    case Isa::avx512: return avx512::gemm(s, alpha, a, b, beta, c);
#endif
#ifdef AXONIC_HAVE_ISA_avx2
    case Isa::avx2: return avx2::gemm(s, alpha, a, b, beta, c);
#endif
    default: return generic::gemm(s, alpha, a, b, beta, c);
  }
}

template void gemm<float>(const GemmShape&, float, const float*, const float*, float, float*);
template void gemm<double>(const GemmShape&, double, const double*, const double*, double,
                           double*);

template <typename T>
GemmBlocking gemm_blocking() {
  switch (active_isa()) {
#ifdef AXONIC_HAVE_ISA_avx512
    case Isa::avx512: return avx512::blocking(T{});
#endif
#ifdef AXONIC_HAVE_ISA_avx2
    case Isa::avx2: return avx2::blocking(T{});
#endif
    default: return generic::blocking(T{});
  }
}

template GemmBlocking gemm_blocking<float>();
template GemmBlocking gemm_blocking<double>();

const char* gemm_kernel_name() {
  switch (active_isa()) {
#ifdef AXONIC_HAVE_ISA_avx512
    case Isa::avx512: return avx512::kernel_name();
#endif
#ifdef AXONIC_HAVE_ISA_avx2
    case Isa::avx2: return avx2::kernel_name();
#endif
    default: return generic::kernel_name();
  }
}

}  // namespace axonic::cpu
