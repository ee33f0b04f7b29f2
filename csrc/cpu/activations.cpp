// Elementwise activations, forward and backward; contract and shapes in activations.h.
//
// The arithmetic lives in activations_arch.cpp, compiled once per ISA (AVX-512,
// AVX2+FMA, portable) with SIMD versions of exp, expm1, tanh and the normal tail
// (vector_math.h); its top comment gives each kind's formula and accuracy. This file
// splits the array over threads and dispatches each piece to the ISA chosen at import
// (common/cpu_features.h). The kind names are parsed in common/activation_kind.cpp.
//
// Arrays of kParallelElements or more are cut into chunks of kChunkElements, shared
// over OpenMP threads in contiguous runs (schedule(static)); smaller ones run on the
// calling thread, where a fork/join would cost more than the work. The chunk is a
// multiple of every vector width, so only the array's last chunk has a partial vector.
#include "cpu/activations.h"

#include <algorithm>

#include "common/cpu_features.h"
#include "cpu/activations_arch.h"
#include "cpu/parallel_items.h"

namespace axonic::cpu {

namespace {

constexpr int64_t kChunkElements = int64_t{1} << 13;

// Runs chunk(begin, end) over [0, n), in kChunkElements pieces over threads once n is
// large enough to pay for them.
template <typename Chunk>
void for_each_chunk(int64_t n, const Chunk& chunk) {
  if (n < kParallelElements) {
    chunk(int64_t{0}, n);
    return;
  }
  const int64_t chunks = (n + kChunkElements - 1) / kChunkElements;
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t begin = c * kChunkElements;
    chunk(begin, std::min(n, begin + kChunkElements));
  }
}

template <typename T>
void forward_chunk(Isa isa, ActivationKind kind, const T* x, T* y, int64_t n, double alpha) {
  switch (isa) {
#ifdef AXONIC_HAVE_ISA_avx512
    case Isa::avx512: return avx512::activation_forward_chunk(kind, x, y, n, alpha);
#endif
#ifdef AXONIC_HAVE_ISA_avx2
    case Isa::avx2: return avx2::activation_forward_chunk(kind, x, y, n, alpha);
#endif
    default: return generic::activation_forward_chunk(kind, x, y, n, alpha);
  }
}

template <typename T>
void backward_chunk(Isa isa, ActivationKind kind, const T* saved, const T* grad_out, T* grad_in,
                    int64_t n, double alpha) {
  switch (isa) {
#ifdef AXONIC_HAVE_ISA_avx512
    case Isa::avx512:
      return avx512::activation_backward_chunk(kind, saved, grad_out, grad_in, n, alpha);
#endif
#ifdef AXONIC_HAVE_ISA_avx2
    case Isa::avx2:
      return avx2::activation_backward_chunk(kind, saved, grad_out, grad_in, n, alpha);
#endif
    default: return generic::activation_backward_chunk(kind, saved, grad_out, grad_in, n, alpha);
  }
}

}  // namespace

template <typename T>
void activation_forward(ActivationKind kind, const T* x, T* y, int64_t n, double alpha) {
  const Isa isa = active_isa();  // read once: one call never mixes two paths
  for_each_chunk(n, [=](int64_t begin, int64_t end) {
    forward_chunk(isa, kind, x + begin, y + begin, end - begin, alpha);
  });
}

template <typename T>
void activation_backward(ActivationKind kind, const T* saved, const T* grad_out, T* grad_in,
                         int64_t n, double alpha) {
  const Isa isa = active_isa();
  for_each_chunk(n, [=](int64_t begin, int64_t end) {
    backward_chunk(isa, kind, saved + begin, grad_out + begin, grad_in + begin, end - begin,
                   alpha);
  });
}

template void activation_forward<float>(ActivationKind, const float*, float*, int64_t, double);
template void activation_forward<double>(ActivationKind, const double*, double*, int64_t, double);
template void activation_backward<float>(ActivationKind, const float*, const float*, float*,
                                         int64_t, double);
template void activation_backward<double>(ActivationKind, const double*, const double*, double*,
                                          int64_t, double);

}  // namespace axonic::cpu
