// SIMD vectors for the kernels compiled once per ISA (the csrc/cpu/*_arch.cpp files).
//
// Simd<T>::Vector is a GCC vector extension of kVectorBytes: 64 under -mavx512f (zmm),
// 32 under -mavx2 (ymm), 16 in the portable build (xmm, SSE2 on x86-64), so one source
// becomes each ISA's code; arithmetic, comparisons and `mask ? a : b` act per lane.
// Simd<T>::Bits is the signed integer vector of the same shape, for bit manipulation
// and for the masks comparisons return. Loads and stores go through memcpy, so
// pointers need no alignment.
//
// The partial loads and stores serve row and array tails: the missing lanes get a
// fill value chosen by the caller (0 for sums, -inf for maxima and exp), so a tail
// runs the same vector code as the body and needs no scalar copy of any formula.
//
// Everything here lives in axonic::cpu::<isa> (AXONIC_ISA is set per compilation by
// CMakeLists.txt), so an inline compiled with AVX-512 flags can never be merged by the
// linker into the portable path.
#pragma once

#ifndef AXONIC_ISA
#error "simd.h is included only by the per-ISA *_arch.cpp files, built with -DAXONIC_ISA=<isa>"
#endif

#include <cstdint>
#include <cstring>
#if defined(__SSE2__)
#include <immintrin.h>
#endif
#include <type_traits>
#include <utility>

namespace axonic::cpu::AXONIC_ISA {

#if defined(__AVX512F__)
constexpr int kVectorBytes = 64;
#elif defined(__AVX2__)
constexpr int kVectorBytes = 32;
#else
constexpr int kVectorBytes = 16;
#endif

template <typename T>
struct Simd;

template <>
struct Simd<float> {
  typedef float Vector __attribute__((vector_size(kVectorBytes)));
  typedef int32_t Bits __attribute__((vector_size(kVectorBytes)));
  typedef uint32_t UnsignedBits __attribute__((vector_size(kVectorBytes)));
  static constexpr int lanes = kVectorBytes / sizeof(float);
  static constexpr int mantissa_bits = 23;
  static constexpr int exponent_bias = 127;
};

template <>
struct Simd<double> {
  typedef double Vector __attribute__((vector_size(kVectorBytes)));
  typedef int64_t Bits __attribute__((vector_size(kVectorBytes)));
  typedef uint64_t UnsignedBits __attribute__((vector_size(kVectorBytes)));
  static constexpr int lanes = kVectorBytes / sizeof(double);
  static constexpr int mantissa_bits = 52;
  static constexpr int exponent_bias = 1023;
};

template <typename T>
using Vector = typename Simd<T>::Vector;

// Every lane equal to value. (value - 0, not 0 + value, which would turn -0.0 into +0.0.)
template <typename T>
inline Vector<T> broadcast(T value) {
  return value - Vector<T>{};
}

template <typename T>
inline Vector<T> load(const T* p) {
  Vector<T> v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

template <typename T>
inline void store(T* p, Vector<T> v) {
  std::memcpy(p, &v, sizeof v);
}

// The first count (< lanes) elements of p; the other lanes hold fill.
template <typename T>
inline Vector<T> load_partial(const T* p, int64_t count, T fill) {
  T lanes[Simd<T>::lanes];
  for (int i = 0; i < Simd<T>::lanes; ++i) lanes[i] = fill;
  std::memcpy(lanes, p, static_cast<size_t>(count) * sizeof(T));
  return load(lanes);
}

template <typename T>
inline void store_partial(T* p, Vector<T> v, int64_t count) {
  std::memcpy(p, &v, static_cast<size_t>(count) * sizeof(T));
}

// The element type of a vector: ScalarOf<Simd<float>::Vector> is float.
template <typename V>
using ScalarOf = std::remove_cv_t<std::remove_reference_t<decltype(std::declval<V&>()[0])>>;

template <typename V>
using BitsOf = typename Simd<ScalarOf<V>>::Bits;

// |v| by clearing the sign bit: exact, keeps NaN a NaN.
template <typename V>
inline V abs(V v) {
  const BitsOf<V> sign_bit = (BitsOf<V>)broadcast(ScalarOf<V>(-0.0));
  return (V)((BitsOf<V>)v & ~sign_bit);
}

// -|v| by setting the sign bit: exact, keeps NaN a NaN.
template <typename V>
inline V negative_abs(V v) {
  const BitsOf<V> sign_bit = (BitsOf<V>)broadcast(ScalarOf<V>(-0.0));
  return (V)((BitsOf<V>)v | sign_bit);
}

// magnitude (whose sign bit must be clear: +0, a positive number or a positive NaN)
// with the sign bit of sign_source.
template <typename V>
inline V with_sign_of(V magnitude, V sign_source) {
  const BitsOf<V> sign_bit = (BitsOf<V>)broadcast(ScalarOf<V>(-0.0));
  return (V)((BitsOf<V>)magnitude | ((BitsOf<V>)sign_source & sign_bit));
}

// a > b ? a : b and a < b ? a : b, lane by lane: b wherever either is NaN. These are
// exactly x86's MAXPS/MINPS, which GCC does not always pick for the ternary (with a
// constant operand it emits a compare and a blend, two instructions instead of one),
// so x86 builds name them. The AVX-512 forms are the masked intrinsics with every lane
// selected: the unmasked ones start from _mm512_undefined_*, which GCC 12 reports as
// maybe-uninitialized (GCC bug 105593).
template <typename V>
inline V greater_else_second(V a, V b) {
  using T = ScalarOf<V>;
#if defined(__AVX512F__)
  if constexpr (sizeof(V) == 64 && std::is_same_v<T, float>)
    return (V)_mm512_mask_max_ps((__m512)a, 0xFFFF, (__m512)a, (__m512)b);
  if constexpr (sizeof(V) == 64 && std::is_same_v<T, double>)
    return (V)_mm512_mask_max_pd((__m512d)a, 0xFF, (__m512d)a, (__m512d)b);
#endif
#if defined(__AVX__)
  if constexpr (sizeof(V) == 32 && std::is_same_v<T, float>)
    return (V)_mm256_max_ps((__m256)a, (__m256)b);
  if constexpr (sizeof(V) == 32 && std::is_same_v<T, double>)
    return (V)_mm256_max_pd((__m256d)a, (__m256d)b);
#endif
#if defined(__SSE2__)
  if constexpr (sizeof(V) == 16 && std::is_same_v<T, float>)
    return (V)_mm_max_ps((__m128)a, (__m128)b);
  if constexpr (sizeof(V) == 16 && std::is_same_v<T, double>)
    return (V)_mm_max_pd((__m128d)a, (__m128d)b);
#endif
  return a > b ? a : b;
}

template <typename V>
inline V less_else_second(V a, V b) {
  using T = ScalarOf<V>;
#if defined(__AVX512F__)
  if constexpr (sizeof(V) == 64 && std::is_same_v<T, float>)
    return (V)_mm512_mask_min_ps((__m512)a, 0xFFFF, (__m512)a, (__m512)b);
  if constexpr (sizeof(V) == 64 && std::is_same_v<T, double>)
    return (V)_mm512_mask_min_pd((__m512d)a, 0xFF, (__m512d)a, (__m512d)b);
#endif
#if defined(__AVX__)
  if constexpr (sizeof(V) == 32 && std::is_same_v<T, float>)
    return (V)_mm256_min_ps((__m256)a, (__m256)b);
  if constexpr (sizeof(V) == 32 && std::is_same_v<T, double>)
    return (V)_mm256_min_pd((__m256d)a, (__m256d)b);
#endif
#if defined(__SSE2__)
  if constexpr (sizeof(V) == 16 && std::is_same_v<T, float>)
    return (V)_mm_min_ps((__m128)a, (__m128)b);
  if constexpr (sizeof(V) == 16 && std::is_same_v<T, double>)
    return (V)_mm_min_pd((__m128d)a, (__m128d)b);
#endif
  return a < b ? a : b;
}

// max(v, bound) and min(v, bound) that keep a NaN in v.
template <typename V>
inline V at_least(V v, ScalarOf<V> bound) {
  return greater_else_second(broadcast(bound), v);
}

template <typename V>
inline V at_most(V v, ScalarOf<V> bound) {
  return less_else_second(broadcast(bound), v);
}

// Sum and maximum of the lanes, the sum accumulated in double.
template <typename V>
inline double sum_lanes(V v) {
  double sum = 0.0;
  for (int i = 0; i < Simd<ScalarOf<V>>::lanes; ++i) sum += static_cast<double>(v[i]);
  return sum;
}

template <typename V>
inline ScalarOf<V> max_lanes(V v) {
  ScalarOf<V> m = v[0];
  for (int i = 1; i < Simd<ScalarOf<V>>::lanes; ++i) m = v[i] > m ? v[i] : m;
  return m;
}

}  // namespace axonic::cpu::AXONIC_ISA
