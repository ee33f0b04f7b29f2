// Elementwise activations on one chunk of an array, compiled once per ISA (see
// activations_arch.h); the contract is in activations.h.
//
// Every kind is a small function of one SIMD vector (simd.h), applied to whole
// vectors and then once to the tail, loaded into a vector padded with zeros, so a
// kind's formula exists once and short arrays take the same path as long ones. Each
// computes in T: float32 no longer widens to double, and the transcendental parts
// come from vector_math.h (exp, expm1, tanh, the normal tail), not from scalar libm.
// That is what makes them fast: a float32 tanh went from ~15 ns per element to 0.3.
// Accuracy, float32, against float64 on dense grids (tests/test_kernels_activations.py),
// relative, where the result is at least 1e-6: sigmoid, tanh, elu, selu and silu within
// 2.5 ulp (2.3e-7), gelu 3.5e-7, gelu_tanh 1.8e-6 (float's rounding of u, amplified
// by exp(-2|u|) in the far negative tail); the tests' float32 rtol is 1e-4. Float64
// stays within a few ulps, except gelu's Phi, which comes from libm's erfc lane by
// lane (see vector_math.h).
//
// Numerics. Each formula equals the reference's (python/axonic/backends/reference.py);
// some are rearranged to avoid overflow or cancellation:
//   sigmoid    only exp(-|x|) is evaluated: x >= 0 ? 1/(1+e) : e/(1+e), so large
//              |x| cannot overflow. sigmoid(-x) = 1 - sigmoid(x) comes from the
//              same e without the subtraction, which silu's derivative uses.
//   tanh'      1 - y^2 as (1 - y)(1 + y): 1 - y is exact for y >= 1/2, so the
//              derivative keeps its digits near |y| = 1 without widening to double.
//   elu, selu  alpha * expm1(min(x, 0)): accurate near 0, never exp of a large x.
//   gelu       Phi(x) = x >= 0 ? 1 - Phi(-|x|) : Phi(-|x|), with Phi(-|x|) and
//              exp(-x^2/2) from vector_math's normal_tail; this equals the
//              reference's 0.5 (1 + erf(x/sqrt2)) without its cancellation for
//              negative x.
//   gelu_tanh  with u = sqrt(2/pi) (x + 0.044715 x^3) and e = exp(-2|u|):
//              0.5 (1 + tanh u) = sigmoid(2u) and 1 - tanh(u)^2 = 4e / (1+e)^2,
//              again no cancellation for large |u|. Where 1 - tanh^2 underflows
//              to 0 its term of the derivative is taken as 0, so |x| beyond where
//              x^3 overflows T, and x = +-inf, get the derivative's limits 1 and 0
//              (the reference forms inf * 0 = NaN there).
//   NaN        propagates where the reference propagates it: relu is
//              (x < 0 ? 0 : x), which keeps NaN, not (x > 0 ? x : 0), which would
//              not; min(x, 0) is (x > 0 ? 0 : x) for the same reason; the
//              derivatives built from comparisons (relu, leaky_relu) are finite at
//              NaN, as in the reference.
#include "cpu/activations_arch.h"

#include "cpu/simd.h"
#include "cpu/vector_math.h"

#ifndef AXONIC_ISA
#error "activations_arch.cpp is compiled once per ISA with -DAXONIC_ISA=<isa>"
#endif

namespace axonic::cpu::AXONIC_ISA {

namespace {

constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
constexpr double kSeluScale = 1.0507009873554804934193349852946;
constexpr double kSqrt2OverPi = 0.79788456080286535587989211986876;  // sqrt(2/pi)
constexpr double kInvSqrt2Pi = 0.39894228040143267793994605993438;   // 1/sqrt(2 pi)
constexpr double kGeluTanhCubic = 0.044715;

// y = f(x) over n elements, f taking and returning a Vector<T>.
template <typename T, typename F>
void map_vectors(const T* x, T* y, int64_t n, F f) {
  constexpr int lanes = Simd<T>::lanes;
  int64_t i = 0;
  for (; i + lanes <= n; i += lanes) store(y + i, f(load(x + i)));
  if (i < n) store_partial(y + i, f(load_partial(x + i, n - i, T(0))), n - i);
}

// grad_in = grad_out * derivative(saved), the derivative as f in map_vectors.
template <typename T, typename F>
void map_gradient_vectors(const T* saved, const T* grad_out, T* grad_in, int64_t n,
                          F derivative) {
  constexpr int lanes = Simd<T>::lanes;
  int64_t i = 0;
  for (; i + lanes <= n; i += lanes)
    store(grad_in + i, load(grad_out + i) * derivative(load(saved + i)));
  if (i < n) {
    const int64_t rest = n - i;
    store_partial(grad_in + i,
                  load_partial(grad_out + i, rest, T(0)) *
                      derivative(load_partial(saved + i, rest, T(0))),
                  rest);
  }
}

// min(x, 0), keeping NaN.
template <typename V>
V nonpositive_part(V x) {
  return x > 0 ? V{} : x;
}

template <typename V>
struct SigmoidPair {
  V of_x;      // sigmoid(x)
  V of_neg_x;  // sigmoid(-x) = 1 - sigmoid(x)
};

template <typename V>
SigmoidPair<V> sigmoid_pair(V x) {
  const V e = exp_nonpositive(negative_abs(x));
  const V near_one = 1 / (1 + e);
  const V near_zero = e * near_one;
  const auto positive = x >= 0;
  return {positive ? near_one : near_zero, positive ? near_zero : near_one};
}

template <typename V>
struct GeluTanhTerms {
  V half_one_plus_tanh;  // 0.5 (1 + tanh u) = sigmoid(2u)
  V one_minus_tanh_sq;   // 1 - tanh(u)^2
};

template <typename V>
GeluTanhTerms<V> gelu_tanh_terms(V x) {
  using T = ScalarOf<V>;
  const V u = T(kSqrt2OverPi) * (x + T(kGeluTanhCubic) * x * x * x);
  const V e = exp_nonpositive(2 * negative_abs(u));
  const V inverse = 1 / (1 + e);
  return {u >= 0 ? inverse : e * inverse, 4 * e * inverse * inverse};
}

// Phi(x), and exp(-x^2/2) for the derivative.
template <typename V>
struct NormalCdf {
  V cdf;
  V gaussian;
};

template <typename V>
NormalCdf<V> normal_cdf(V x) {
  const NormalTail<V> tail = normal_tail(abs(x));
  return {x >= 0 ? 1 - tail.probability : tail.probability, tail.gaussian};
}

}  // namespace

template <typename T>
void activation_forward_chunk(ActivationKind kind, const T* x, T* y, int64_t n, double alpha) {
  using V = Vector<T>;
  const T alpha_t = static_cast<T>(alpha);
  switch (kind) {
    case ActivationKind::linear:
      return map_vectors(x, y, n, [](V v) { return v; });
    case ActivationKind::sigmoid:
      return map_vectors(x, y, n, [](V v) { return sigmoid_pair(v).of_x; });
    case ActivationKind::tanh:
      return map_vectors(x, y, n, [](V v) { return tanh(v); });
    case ActivationKind::relu:
      return map_vectors(x, y, n, [](V v) { return v < 0 ? V{} : v; });
    case ActivationKind::leaky_relu:
      return map_vectors(x, y, n, [alpha_t](V v) { return v > 0 ? v : alpha_t * v; });
    case ActivationKind::elu:
      return map_vectors(x, y, n, [alpha_t](V v) {
        return v > 0 ? v : alpha_t * expm1_nonpositive(nonpositive_part(v));
      });
    case ActivationKind::selu:
      return map_vectors(x, y, n, [](V v) {
        const V negative_side = T(kSeluAlpha) * expm1_nonpositive(nonpositive_part(v));
        return T(kSeluScale) * (v > 0 ? v : negative_side);
      });
    case ActivationKind::gelu:
      return map_vectors(x, y, n, [](V v) { return v * normal_cdf(v).cdf; });
    case ActivationKind::gelu_tanh:
      return map_vectors(x, y, n, [](V v) { return v * gelu_tanh_terms(v).half_one_plus_tanh; });
    case ActivationKind::silu:
      return map_vectors(x, y, n, [](V v) { return v * sigmoid_pair(v).of_x; });
  }
}

template <typename T>
void activation_backward_chunk(ActivationKind kind, const T* saved, const T* grad_out,
                               T* grad_in, int64_t n, double alpha) {
  using V = Vector<T>;
  const T alpha_t = static_cast<T>(alpha);
  switch (kind) {
    case ActivationKind::linear:
      return map_gradient_vectors(saved, grad_out, grad_in, n, [](V) { return V{} + 1; });
    case ActivationKind::sigmoid:  // saved = y
      return map_gradient_vectors(saved, grad_out, grad_in, n, [](V y) { return y * (1 - y); });
    case ActivationKind::tanh:  // saved = y
      return map_gradient_vectors(saved, grad_out, grad_in, n,
                                  [](V y) { return (1 - y) * (1 + y); });
    case ActivationKind::relu:
      return map_gradient_vectors(saved, grad_out, grad_in, n,
                                  [](V v) { return v > 0 ? V{} + 1 : V{}; });
    case ActivationKind::leaky_relu:
      return map_gradient_vectors(saved, grad_out, grad_in, n,
                                  [alpha_t](V v) { return v > 0 ? V{} + 1 : V{} + alpha_t; });
    case ActivationKind::elu:
      return map_gradient_vectors(saved, grad_out, grad_in, n, [alpha_t](V v) {
        return v > 0 ? V{} + 1 : alpha_t * exp_nonpositive(nonpositive_part(v));
      });
    case ActivationKind::selu:
      return map_gradient_vectors(saved, grad_out, grad_in, n, [](V v) {
        const V negative_side = T(kSeluAlpha) * exp_nonpositive(nonpositive_part(v));
        return T(kSeluScale) * (v > 0 ? V{} + 1 : negative_side);
      });
    case ActivationKind::gelu:
      return map_gradient_vectors(saved, grad_out, grad_in, n, [](V v) {
        const NormalCdf<V> phi = normal_cdf(v);
        return phi.cdf + v * (T(kInvSqrt2Pi) * phi.gaussian);
      });
    case ActivationKind::gelu_tanh:
      return map_gradient_vectors(saved, grad_out, grad_in, n, [](V v) {
        const GeluTanhTerms<V> t = gelu_tanh_terms(v);
        const V slope_term = T(0.5) * v * t.one_minus_tanh_sq * T(kSqrt2OverPi) *
                             (1 + T(3 * kGeluTanhCubic) * v * v);
        return t.half_one_plus_tanh + (t.one_minus_tanh_sq == 0 ? V{} : slope_term);
      });
    case ActivationKind::silu:
      return map_gradient_vectors(saved, grad_out, grad_in, n, [](V v) {
        const SigmoidPair<V> s = sigmoid_pair(v);
        return s.of_x * (1 + v * s.of_neg_x);
      });
  }
}

template void activation_forward_chunk<float>(ActivationKind, const float*, float*, int64_t,
                                              double);
template void activation_forward_chunk<double>(ActivationKind, const double*, double*, int64_t,
                                               double);
template void activation_backward_chunk<float>(ActivationKind, const float*, const float*,
                                               float*, int64_t, double);
template void activation_backward_chunk<double>(ActivationKind, const double*, const double*,
                                                double*, int64_t, double);

}  // namespace axonic::cpu::AXONIC_ISA
