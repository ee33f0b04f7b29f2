// Vectorized exp, expm1, tanh and the normal distribution's tail, for float and double
// SIMD vectors (simd.h), included by the per-ISA *_arch.cpp files.
//
// Why: libm works one element at a time (and GCC vectorizes its calls only under
// -ffast-math, which would break NaN handling), so a float32 tanh cost ~18 ns per
// element where a vector evaluation costs well under one.
//
// exp(x). Range reduction x = n ln2 + r with n = round(x / ln2), |r| <= ln2/2: n comes
// from adding 1.5 * 2^mantissa_bits, which leaves round(x/ln2) in the low mantissa bits
// (round to nearest, no float->int conversion needed), and r = (x - n ln2_hi) - n ln2_lo
// with ln2_hi short enough that n ln2_hi is exact (Cody-Waite). Then
// exp(r) = 1 + r + r^2 P(r). For float, P has degree 4, fitted to (expm1(r) - r) / r^2
// on |r| <= 1.02 ln2/2 by iteratively reweighted least squares on the relative error of
// expm1 at Chebyshev nodes: 1.5e-8, a quarter of float's half-ulp, one FMA fewer than
// the Taylor series of the same accuracy. For double, P is the Taylor series through
// r^13 (truncation < 5e-18 relative). The scaling by 2^n rounds once, so results in the
// subnormal range are right instead of flushed to 0: AVX-512 has an instruction for it
// (VSCALEF); elsewhere 2^n is built in the exponent bits and applied as two factors
// 2^(n/2) 2^(n - n/2). Inputs are clamped to [lowest, highest], just outside the range
// where exp is finite and non-zero, so overflow gives +inf, underflow 0 (or a
// subnormal), and the clamps keep NaN a NaN. Error: 1-2 ulp.
// exp_nonpositive, for the many callers whose argument is <= 0 (sigmoid's exp(-|x|),
// softmax's exp(z - max)), needs one clamp, and without VSCALEF scales by 2^(n + offset)
// and then the constant 2^-offset: three instructions fewer, the same results.
//
// expm1(x) for x <= 0 (all that elu, selu and tanh need), computed as 1 - exp(x) with
// the same reduction: 1 - exp(x) = (1 - 2^n) - 2^n expm1(r), expm1(r) = r + r^2 P(r).
// For |x| < ln2/2, n = 0 and the result is the polynomial itself, so there is no
// cancellation near 0. Below -20 (float) / -40 (double) expm1 is -1 to working
// precision; x is clamped there.
//
// tanh(x) = sign(x) * v / (2 - v) with v = 1 - exp(-2|x|) in [0, 1): accurate near 0
// (v ~ 2|x| to full precision) and exactly +-1 for large |x|; tanh(+-0) = +-0.
//
// Phi(-a), the standard normal tail, for a = |x| >= 0 (gelu):
//   Phi(-a) = exp(-a^2/2) h(t) t,   t = 1 / (1 + a p),   p = 3/8
// h is a degree-9 polynomial fitted to Phi(-a) exp(a^2/2) / t over a in [0, 14.5] (all
// of float's range: Phi(-14.5) underflows) by iteratively reweighted least squares on
// the relative error at Chebyshev nodes in t; the fit is good to 1.3e-8 and the
// float32 evaluation to about 3.5e-7 relative, dominated by the rounding of t.
// exp(-a^2/2) is evaluated from a^2 = hi + lo split exactly (a's significand cut in
// two halves), so the tail keeps its relative accuracy out to a = 14.5 where a plain
// exp(-0.5 * a * a) would lose ~a^2 ulp. One formula covers Phi over the whole line
// (Phi(x) = 1 - Phi(-x) for x >= 0), so no lane needs a different branch.
// The double instantiation of the tail calls libm's erfc lane by lane: a
// double-precision fit would need several rational pieces, and float64 gelu is not
// a hot path.
//
// All of this must build without -ffast-math and keep -ffp-contract=fast's FMAs
// harmless: FMA only ever makes these expressions more accurate.
#pragma once

#include <cmath>
#include <cstddef>
#include <type_traits>

#include "cpu/simd.h"

namespace axonic::cpu::AXONIC_ISA {

template <typename T>
struct ExpConstants;

template <>
struct ExpConstants<float> {
  static constexpr float log2e = 0x1.715476p+0f;
  static constexpr float ln2_hi = 0x1.63p-1f;  // 9 significant bits: n * ln2_hi is exact
  static constexpr float ln2_lo = -0x1.bd0106p-13f;
  static constexpr float round_magic = 0x1.8p23f;  // 1.5 * 2^23
  static constexpr float exp_lowest = -104.0f;     // exp rounds to 0 below -103.97
  static constexpr float exp_highest = 89.0f;      // exp overflows above 88.73
  static constexpr float expm1_lowest = -20.0f;    // expm1 rounds to -1 below -17.33
  static constexpr int subnormal_offset = 64;      // 2^(n + 64) is normal down to n = -190
  static constexpr float inverse_power_of_subnormal_offset = 0x1p-64f;
  static constexpr int square_split_bits = 12;     // low mantissa bits cut off a for a^2
  static constexpr float normal_tail_cutoff = 14.5f;  // Phi(-a), exp(-a^2/2) round to 0 beyond
  // expm1(r) = r + r^2 P(r): P of degree 4, fitted (see the top of the file).
  static constexpr float expm1_polynomial[] = {0.00138826598f, 0.00836785324f, 0.0416672379f,
                                               0.166665331f, 0.49999997f};
};

template <>
struct ExpConstants<double> {
  static constexpr double log2e = 0x1.71547652b82fep+0;
  static constexpr double ln2_hi = 0x1.62e42feep-1;  // 32 significant bits
  static constexpr double ln2_lo = 0x1.a39ef35793c76p-33;
  static constexpr double round_magic = 0x1.8p52;  // 1.5 * 2^52
  static constexpr double exp_lowest = -746.0;     // exp rounds to 0 below -745.13
  static constexpr double exp_highest = 710.0;     // exp overflows above 709.78
  static constexpr double expm1_lowest = -40.0;    // expm1 rounds to -1 below -37.43
  static constexpr int subnormal_offset = 600;     // 2^(n + 600) is normal down to n = -1622
  static constexpr double inverse_power_of_subnormal_offset = 0x1p-600;
  static constexpr int square_split_bits = 27;
  static constexpr double normal_tail_cutoff = 40.0;
  // expm1(r) = r + r^2 P(r): P the Taylor series, 1/k! for k = 13 down to 2.
  static constexpr double expm1_polynomial[] = {
      1.0 / 6227020800.0, 1.0 / 479001600.0, 1.0 / 39916800.0, 1.0 / 3628800.0,
      1.0 / 362880.0,     1.0 / 40320.0,     1.0 / 5040.0,     1.0 / 720.0,
      1.0 / 120.0,        1.0 / 24.0,        1.0 / 6.0,        1.0 / 2.0};
};

// sum_i coefficients[i] x^(N-1-i): coefficients from the highest degree down.
template <typename V, size_t N>
inline V polynomial(V x, const ScalarOf<V> (&coefficients)[N]) {
  V result = broadcast(coefficients[0]);
  for (size_t i = 1; i < N; ++i) result = result * x + coefficients[i];
  return result;
}

// w = n ln2 + r: n as a float vector and as an integer vector.
template <typename V>
struct MultipleOfLn2 {
  V n;
  BitsOf<V> exponent;
};

template <typename V>
inline MultipleOfLn2<V> nearest_multiple_of_ln2(V w) {
  using C = ExpConstants<ScalarOf<V>>;
  using UnsignedBits = typename Simd<ScalarOf<V>>::UnsignedBits;
  const V shifted = w * C::log2e + C::round_magic;
  const BitsOf<V> exponent =
      (BitsOf<V>)((UnsignedBits)shifted - (UnsignedBits)broadcast(C::round_magic));
  return {shifted - C::round_magic, exponent};
}

// w - n ln2, in two steps so that the first is exact.
template <typename V>
inline V subtract_multiple_of_ln2(V w, V n) {
  using C = ExpConstants<ScalarOf<V>>;
  return (w - n * C::ln2_hi) - n * C::ln2_lo;
}

// expm1(r) for |r| <~ ln2/2.
template <typename V>
inline V expm1_reduced(V r) {
  return r + r * r * polynomial(r, ExpConstants<ScalarOf<V>>::expm1_polynomial);
}

// AVX-512's VSCALEFPS/PD computes v * 2^n from n as a float, in one instruction that
// rounds once (subnormal results included) and overflows to inf. Other ISAs build 2^n
// in the exponent bits of an integer vector. (Masked intrinsics with every lane
// selected, for the reason given at greater_else_second in simd.h.)
constexpr bool kHasScalef = kVectorBytes == 64;

template <typename V>
inline V scalef(V v, V n) {
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<ScalarOf<V>, float>)
    return (V)_mm512_mask_scalef_ps((__m512)v, 0xFFFF, (__m512)v, (__m512)n);
  else
    return (V)_mm512_mask_scalef_pd((__m512d)v, 0xFF, (__m512d)v, (__m512d)n);
#else
  return v;  // not reached: kHasScalef is false
#endif
}

// 2^(k + k_offset) for k + k_offset within the normal exponent range.
template <typename V>
inline V power_of_two(BitsOf<V> k, int k_offset = 0) {
  using S = Simd<ScalarOf<V>>;
  using UnsignedBits = typename S::UnsignedBits;
  const unsigned biased_offset = static_cast<unsigned>(S::exponent_bias + k_offset);
  return (V)(((UnsignedBits)k + biased_offset) << S::mantissa_bits);
}

// 2^n for n within the normal exponent range.
template <typename V>
inline V power_of_two(const MultipleOfLn2<V>& m) {
  if constexpr (kHasScalef) return scalef(V{} + 1, m.n);
  return power_of_two<V>(m.exponent);
}

// v * 2^n. Without scalef, in two factors, so subnormal results round once and n may
// reach about twice the exponent range.
template <typename V>
inline V scale_by_power_of_two(V v, const MultipleOfLn2<V>& m) {
  if constexpr (kHasScalef) return scalef(v, m.n);
  const BitsOf<V> half = m.exponent >> 1;
  return v * power_of_two<V>(half) * power_of_two<V>(m.exponent - half);
}

// The same for n <= 0 with fewer instructions: v * 2^(n + offset) is exact and normal,
// and the constant 2^-offset then rounds a subnormal result once.
template <typename V>
inline V scale_by_nonpositive_power_of_two(V v, const MultipleOfLn2<V>& m) {
  using C = ExpConstants<ScalarOf<V>>;
  if constexpr (kHasScalef) return scalef(v, m.n);
  return v * power_of_two<V>(m.exponent, C::subnormal_offset) *
         C::inverse_power_of_subnormal_offset;
}

template <typename V>
inline V exp(V x) {
  using C = ExpConstants<ScalarOf<V>>;
  x = at_least(at_most(x, C::exp_highest), C::exp_lowest);
  const MultipleOfLn2<V> m = nearest_multiple_of_ln2(x);
  const V r = subtract_multiple_of_ln2(x, m.n);
  return scale_by_power_of_two(1 + expm1_reduced(r), m);
}

// exp(x) for x <= 0 (or NaN), the common case (sigmoid's exp(-|x|), softmax's
// exp(z - max)), with one clamp and a cheaper scaling than exp.
template <typename V>
inline V exp_nonpositive(V x) {
  x = at_least(x, ExpConstants<ScalarOf<V>>::exp_lowest);
  const MultipleOfLn2<V> m = nearest_multiple_of_ln2(x);
  const V r = subtract_multiple_of_ln2(x, m.n);
  return scale_by_nonpositive_power_of_two(1 + expm1_reduced(r), m);
}

// 1 - exp(x) = -expm1(x) for x <= 0 (NaN stays NaN), accurate near 0: with
// x = n ln2 + r, 1 - 2^n (1 + expm1(r)) = (1 - 2^n) - 2^n expm1(r), where 1 - 2^n is
// exact and, for |x| < ln2/2, n = 0 and the result is -expm1(r) itself.
template <typename V>
inline V one_minus_exp_nonpositive(V x) {
  x = at_least(x, ExpConstants<ScalarOf<V>>::expm1_lowest);
  const MultipleOfLn2<V> m = nearest_multiple_of_ln2(x);
  const V r = subtract_multiple_of_ln2(x, m.n);
  const V scale = power_of_two(m);
  return (1 - scale) - scale * expm1_reduced(r);
}

// exp(x) - 1 for x <= 0 (NaN stays NaN).
template <typename V>
inline V expm1_nonpositive(V x) {
  return 0 - one_minus_exp_nonpositive(x);  // 0 - v, not -v: expm1(0) is +0
}

// tanh |x| = (1 - e) / (1 + e) with e = exp(-2|x|), both parts from 1 - e >= 0.
template <typename V>
inline V tanh(V x) {
  const V one_minus_e = one_minus_exp_nonpositive(-2 * abs(x));
  return with_sign_of(one_minus_e / (2 - one_minus_e), x);
}

// exp(-a^2 / 2) for a in [0, normal_tail_cutoff]. a = a_hi + a_lo with a_hi holding
// the top half of the significand, so a^2 = hi + lo with hi = a_hi^2 exact and
// lo = a_lo (a + a_hi) small; lo joins r after the exact first reduction step.
template <typename V>
inline V exp_negative_half_square(V a) {
  using UnsignedBits = typename Simd<ScalarOf<V>>::UnsignedBits;
  const UnsignedBits high_part_mask =
      (UnsignedBits{} - 1) << ExpConstants<ScalarOf<V>>::square_split_bits;
  const V a_hi = (V)((UnsignedBits)a & high_part_mask);
  const V neg_half_hi = -0.5 * (a_hi * a_hi);
  const V neg_half_lo = -0.5 * ((a - a_hi) * (a + a_hi));
  const MultipleOfLn2<V> m = nearest_multiple_of_ln2(neg_half_hi + neg_half_lo);
  const V r = subtract_multiple_of_ln2(neg_half_hi, m.n) + neg_half_lo;
  return scale_by_nonpositive_power_of_two(1 + expm1_reduced(r), m);
}

template <typename V>
struct NormalTail {
  V gaussian;     // exp(-a^2 / 2)
  V probability;  // Phi(-a) = P(Z <= -a), Z standard normal
};

// Coefficients of h (see the top of the file), highest degree first.
constexpr float kNormalTailSlope = 0.375f;
constexpr float kNormalTailPolynomial[] = {
    0.0208557174f, -0.133783713f, 0.344371766f, -0.423453718f, 0.215154454f,
    -0.0559668429f, 0.108052865f, 0.125293344f, 0.149883002f,  0.149593115f,
};

// For a >= 0 (or NaN).
template <typename V>
inline NormalTail<V> normal_tail(V a) {
  using T = ScalarOf<V>;
  a = at_most(a, ExpConstants<T>::normal_tail_cutoff);
  const V gaussian = exp_negative_half_square(a);
  if constexpr (std::is_same_v<T, float>) {
    const V t = 1 / (1 + kNormalTailSlope * a);
    return {gaussian, gaussian * t * polynomial(t, kNormalTailPolynomial)};
  } else {
    V probability;
    for (int i = 0; i < Simd<T>::lanes; ++i)
      probability[i] = 0.5 * std::erfc(a[i] * 0.70710678118654752440);
    return {gaussian, probability};
  }
}

}  // namespace axonic::cpu::AXONIC_ISA
