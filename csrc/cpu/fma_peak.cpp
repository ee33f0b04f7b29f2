#include "cpu/fma_peak.h"

#include <omp.h>
#include <time.h>  // clock_gettime (POSIX)

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>

#include "common/checks.h"
#include "common/cpu_features.h"
#include "cpu/fma_peak_arch.h"

namespace axonic::cpu {

namespace {

// Seconds this thread has spent on a core. Rates use it rather than wall time, so
// a neighbour that takes the core away for a while lowers the peak little: the peak
// is what a core does while it runs this thread. Wall time where POSIX lacks it.
double thread_cpu_seconds() {
#ifdef CLOCK_THREAD_CPUTIME_ID
  timespec ts;
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0) return ts.tv_sec + ts.tv_nsec * 1e-9;
#endif
  return omp_get_wtime();
}

template <typename T>
struct FmaKernel {
  double (*chains)(int64_t rounds, T c, T d);
  int64_t flops_per_round;
  int vector_bits;
};

#define AXONIC_FMA_KERNEL(isa) \
  FmaKernel<T> { &isa::fma_chains, isa::fma_flops_per_round(T{}), isa::fma_vector_bits() }

template <typename T>
FmaKernel<T> active_fma_kernel() {
  switch (active_isa()) {
#ifdef AXONIC_HAVE_ISA_avx512
    case Isa::avx512: return AXONIC_FMA_KERNEL(avx512);
#endif
#ifdef AXONIC_HAVE_ISA_avx2
    case Isa::avx2: return AXONIC_FMA_KERNEL(avx2);
#endif
    default: return AXONIC_FMA_KERNEL(generic);
  }
}

#undef AXONIC_FMA_KERNEL

}  // namespace

template <typename T>
FmaPeak fma_peak(double seconds) {
  AXONIC_CHECK(seconds > 0 && seconds <= 60, "fma_peak seconds must be in (0, 60], got ",
               seconds);
  const FmaKernel<T> kernel = active_fma_kernel<T>();
  const int threads = omp_get_max_threads();
  std::vector<double> per_thread(threads, 0.0), checksums(threads, 0.0);
  // acc -> d / (1 - c) = 1: finite and normal forever.
  const T c = T(0.75), d = T(0.25);

#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num();
    double checksum = 0.0;
    // Doubles the block until one takes >= 1 ms, so reading the clock costs nothing
    // next to it; then keeps running for a warm-up (turbo, AVX-512 clock licence).
    int64_t rounds = 256;
    for (;;) {
      const double t0 = omp_get_wtime();
      checksum += kernel.chains(rounds, c, d);
      if (omp_get_wtime() - t0 >= 1e-3 || rounds >= (int64_t{1} << 40)) break;
      rounds *= 2;
    }
    const double warm_until = omp_get_wtime() + std::min(0.05, seconds / 4);
    while (omp_get_wtime() < warm_until) checksum += kernel.chains(rounds, c, d);

#pragma omp barrier
    const double start = omp_get_wtime(), cpu_start = thread_cpu_seconds();
    int64_t blocks = 0;
    do {
      checksum += kernel.chains(rounds, c, d);
      ++blocks;
    } while (omp_get_wtime() - start < seconds);
    const double busy = std::max(thread_cpu_seconds() - cpu_start, 1e-9);
    per_thread[t] = static_cast<double>(blocks) * rounds * kernel.flops_per_round / busy / 1e9;
    checksums[t] = checksum;
  }

  // Every chain converged to 1, so a non-finite checksum means broken arithmetic.
  for (double s : checksums)
    if (!std::isfinite(s)) throw std::runtime_error("fma_peak: the FMA chains diverged");
  FmaPeak peak{0.0, per_thread, threads, isa_name(active_isa()), kernel.vector_bits};
  for (double g : per_thread) peak.gflops += g;
  return peak;
}

template FmaPeak fma_peak<float>(double);
template FmaPeak fma_peak<double>(double);

}  // namespace axonic::cpu
