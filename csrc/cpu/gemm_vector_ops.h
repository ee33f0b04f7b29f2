// The handful of vector operations the GEMM micro-kernels need, per ISA:
// load/store (full, or the lanes of a mask: the first n, or any set where bit_masks),
// broadcast and FMA.
//
// AVX-512 and AVX2 use intrinsics: the micro-kernel's speed depends on the exact
// instructions (a broadcast straight from memory, one FMA per accumulator, masked
// loads and stores for edge columns instead of a scalar tail). The portable build
// uses GCC vector extensions (simd.h), which on x86-64 become SSE2 code.
//
// Included only by gemm_arch.cpp, so everything lands in axonic::cpu::<isa>.
#pragma once

#include "cpu/simd.h"

namespace axonic::cpu::AXONIC_ISA {

template <typename T>
struct VectorOps;

#if defined(__AVX512F__)

template <>
struct VectorOps<float> {
  using V = __m512;
  using Mask = __mmask16;
  static constexpr int lanes = 16;
  static V zero() { return _mm512_setzero_ps(); }
  static V broadcast(float x) { return _mm512_set1_ps(x); }
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
  // Lanes [0, n) for 0 <= n <= lanes.
  static Mask first(int n) { return static_cast<Mask>((1u << n) - 1u); }
  static constexpr bool bit_masks = true;
  // Lane l is active where bit l of `bits` is set.
  static Mask from_bits(uint64_t bits) { return static_cast<Mask>(bits); }
  static V load(const float* p, Mask m) { return _mm512_maskz_loadu_ps(m, p); }
  static void store(float* p, V v, Mask m) { _mm512_mask_storeu_ps(p, m, v); }
};

template <>
struct VectorOps<double> {
  using V = __m512d;
  using Mask = __mmask8;
  static constexpr int lanes = 8;
  static V zero() { return _mm512_setzero_pd(); }
  static V broadcast(double x) { return _mm512_set1_pd(x); }
  static V load(const double* p) { return _mm512_loadu_pd(p); }
  static void store(double* p, V v) { _mm512_storeu_pd(p, v); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_pd(a, b, c); }
  static V mul(V a, V b) { return _mm512_mul_pd(a, b); }
  static Mask first(int n) { return static_cast<Mask>((1u << n) - 1u); }
  static constexpr bool bit_masks = true;
  static Mask from_bits(uint64_t bits) { return static_cast<Mask>(bits); }
  static V load(const double* p, Mask m) { return _mm512_maskz_loadu_pd(m, p); }
  static void store(double* p, V v, Mask m) { _mm512_mask_storeu_pd(p, m, v); }
};

#elif defined(__AVX2__)

// AVX2 masks are vectors whose lanes have the sign bit set where active.
inline __m256i first_lanes_mask(int n, int lanes) {
  const __m256i index = lanes == 8 ? _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)
                                   : _mm256_setr_epi64x(0, 1, 2, 3);
  return lanes == 8 ? _mm256_cmpgt_epi32(_mm256_set1_epi32(n), index)
                    : _mm256_cmpgt_epi64(_mm256_set1_epi64x(n), index);
}

template <>
struct VectorOps<float> {
  using V = __m256;
  using Mask = __m256i;
  static constexpr int lanes = 8;
  static V zero() { return _mm256_setzero_ps(); }
  static V broadcast(float x) { return _mm256_set1_ps(x); }
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static Mask first(int n) { return first_lanes_mask(n, lanes); }
  static constexpr bool bit_masks = true;
  static Mask from_bits(uint64_t bits) {
    const __m256i bit = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
    return _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32(int(bits & 0xff)), bit), bit);
  }
  static V load(const float* p, Mask m) { return _mm256_maskload_ps(p, m); }
  static void store(float* p, V v, Mask m) { _mm256_maskstore_ps(p, m, v); }
};

template <>
struct VectorOps<double> {
  using V = __m256d;
  using Mask = __m256i;
  static constexpr int lanes = 4;
  static V zero() { return _mm256_setzero_pd(); }
  static V broadcast(double x) { return _mm256_set1_pd(x); }
  static V load(const double* p) { return _mm256_loadu_pd(p); }
  static void store(double* p, V v) { _mm256_storeu_pd(p, v); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_pd(a, b, c); }
  static V mul(V a, V b) { return _mm256_mul_pd(a, b); }
  static Mask first(int n) { return first_lanes_mask(n, lanes); }
  static constexpr bool bit_masks = true;
  static Mask from_bits(uint64_t bits) {
    const __m256i bit = _mm256_setr_epi64x(1, 2, 4, 8);
    return _mm256_cmpeq_epi64(_mm256_and_si256(_mm256_set1_epi64x(int64_t(bits & 0xf)), bit),
                              bit);
  }
  static V load(const double* p, Mask m) { return _mm256_maskload_pd(p, m); }
  static void store(double* p, V v, Mask m) { _mm256_maskstore_pd(p, m, v); }
};

#else

template <typename T>
struct VectorOps {
  using V = Vector<T>;
  using Mask = int;  // the number of leading lanes
  static constexpr int lanes = Simd<T>::lanes;
  static V zero() { return V{}; }
  static V broadcast(T x) { return cpu::AXONIC_ISA::broadcast(x); }
  static V load(const T* p) { return cpu::AXONIC_ISA::load(p); }
  static void store(T* p, V v) { cpu::AXONIC_ISA::store(p, v); }
  static V fma(V a, V b, V c) { return a * b + c; }
  static V mul(V a, V b) { return a * b; }
  static Mask first(int n) { return n; }
  static constexpr bool bit_masks = false;  // a mask is a count of leading lanes only
  static V load(const T* p, Mask n) { return load_partial(p, n, T(0)); }
  static void store(T* p, V v, Mask n) { store_partial(p, v, n); }
};

#endif

}  // namespace axonic::cpu::AXONIC_ISA
