// Elementwise activations, forward and backward; contract and shapes in activations.h.
//
// The kind switch sits outside the loop: every kind runs its own loop over a small
// inlined lambda, in one of two loops:
//   - linear, relu, leaky_relu (forward and backward) work in T on whole 16-byte
//     GCC vectors, compare and select without a branch (see Simd below for why
//     the auto-vectorizer cannot be left to do it).
//   - every other kind evaluates in double and rounds once into T. sigmoid and tanh
//     backward are polynomials that GCC still vectorizes (with conversions); the
//     transcendental kinds call scalar libm per element (GCC vectorizes libm calls
//     only under -ffast-math, which would break NaN handling), where double costs
//     about what float does. In double, float32 results are the reference's float64
//     values rounded, tanh's 1 - y*y keeps its digits near |y| = 1, and x^3 in
//     gelu_tanh cannot overflow for any float32 input.
//
// Arrays of kParallelElements or more are split over OpenMP threads; smaller
// ones run on the calling thread, where a fork/join would cost more than the work.
//
// Numerics. Each formula equals the reference's; some are rearranged to avoid
// overflow or cancellation:
//   sigmoid    only exp(-|x|) is evaluated: x >= 0 ? 1/(1+e) : e/(1+e), so large
//              |x| cannot overflow. sigmoid(-x) = 1 - sigmoid(x) comes from the
//              same e without the subtraction, which silu's derivative uses.
//   elu, selu  alpha * expm1(min(x, 0)): accurate near 0, never exp of a large x.
//   gelu       Phi(x) = 0.5 erfc(-x/sqrt2), equal to the reference's
//              0.5 (1 + erf(x/sqrt2)) without its cancellation for negative x.
//   gelu_tanh  with u = sqrt(2/pi) (x + 0.044715 x^3) and e = exp(-2|u|):
//              0.5 (1 + tanh u) = sigmoid(2u) and 1 - tanh(u)^2 = 4e / (1+e)^2,
//              again no cancellation for large |u|. Where 1 - tanh^2 underflows
//              to 0 its term of the derivative is taken as 0, so float64 |x| > 1e102,
//              where x^3 overflows, gets the derivative 0 or 1 (the reference's
//              0 * inf gives NaN there).
//   NaN        propagates where the reference propagates it: relu is
//              (x < 0 ? 0 : x), which keeps NaN, not (x > 0 ? x : 0), which would
//              not; the derivatives built from comparisons (relu, leaky_relu)
//              are finite at NaN, as in the reference.
#include "cpu/activations.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "common/checks.h"

namespace axonic::cpu {

namespace {

constexpr int64_t kParallelElements = int64_t{1} << 15;

// Names in ActivationKind order; spec.ACTIVATIONS lists the same.
constexpr const char* kActivationNames[] = {
    "linear", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu", "gelu", "gelu_tanh", "silu",
};

constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
constexpr double kSeluScale = 1.0507009873554804934193349852946;
constexpr double kSqrt2OverPi = 0.79788456080286535587989211986876;   // sqrt(2/pi)
constexpr double kInvSqrt2 = 0.70710678118654752440084436210485;      // 1/sqrt(2)
constexpr double kInvSqrt2Pi = 0.39894228040143267793994605993438;    // 1/sqrt(2 pi)
constexpr double kGeluTanhCubic = 0.044715;

// Runs body(i) for i < count; index i covers elements_per_index elements of the array,
// which decide whether the loop is worth splitting over threads.
template <typename Body>
void for_each_index(int64_t count, int64_t elements_per_index, const Body& body) {
  if (count * elements_per_index >= kParallelElements) {
#pragma omp parallel for simd schedule(static)
    for (int64_t i = 0; i < count; ++i) body(i);
  } else {
#pragma omp simd
    for (int64_t i = 0; i < count; ++i) body(i);
  }
}

// y[i] = f(x[i]), f evaluated in Compute (T or double) and rounded once into T.
template <typename Compute, typename T, typename F>
void map_elements(const T* x, T* y, int64_t n, F f) {
  for_each_index(n, 1, [=](int64_t i) { y[i] = static_cast<T>(f(static_cast<Compute>(x[i]))); });
}

// grad_in[i] = grad_out[i] * derivative(saved[i]), evaluated in Compute.
template <typename Compute, typename T, typename F>
void map_gradient(const T* saved, const T* grad_out, T* grad_in, int64_t n, F derivative) {
  for_each_index(n, 1, [=](int64_t i) {
    grad_in[i] = static_cast<T>(static_cast<Compute>(grad_out[i]) *
                                derivative(static_cast<Compute>(saved[i])));
  });
}

// GCC does not if-convert a floating-point comparison under its default
// -ftrapping-math, so a loop over (x > 0 ? x : alpha * x) stays a branch per element,
// mispredicted half the time on signed data. The piecewise-linear kinds are
// therefore written once as generic lambdas and applied to whole GCC vectors
// (compare and select, no branch), then to the scalar tail. 16 bytes is what every
// x86-64 and arm64 CPU has; these kinds are memory-bound, so wider vectors would
// gain little.
template <typename T>
struct Simd {
  typedef T Vector __attribute__((vector_size(16)));
  static constexpr int64_t lanes = 16 / sizeof(T);
  static Vector load(const T* p) {
    Vector v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
  static void store(T* p, Vector v) { std::memcpy(p, &v, sizeof v); }
};

// y = f(x) with f taking and returning a T or a Simd<T>::Vector.
template <typename T, typename F>
void map_vectors(const T* x, T* y, int64_t n, F f) {
  using S = Simd<T>;
  const int64_t vectors = n / S::lanes;
  for_each_index(vectors, S::lanes, [=](int64_t v) {
    S::store(y + v * S::lanes, f(S::load(x + v * S::lanes)));
  });
  for (int64_t i = vectors * S::lanes; i < n; ++i) y[i] = f(x[i]);
}

// grad_in = grad_out * derivative(saved), the derivative generic as in map_vectors.
template <typename T, typename F>
void map_gradient_vectors(const T* saved, const T* grad_out, T* grad_in, int64_t n,
                          F derivative) {
  using S = Simd<T>;
  const int64_t vectors = n / S::lanes;
  for_each_index(vectors, S::lanes, [=](int64_t v) {
    const int64_t i = v * S::lanes;
    S::store(grad_in + i, S::load(grad_out + i) * derivative(S::load(saved + i)));
  });
  for (int64_t i = vectors * S::lanes; i < n; ++i) grad_in[i] = grad_out[i] * derivative(saved[i]);
}

struct SigmoidPair {
  double of_x;      // sigmoid(x)
  double of_neg_x;  // sigmoid(-x) = 1 - sigmoid(x)
};

inline SigmoidPair sigmoid_pair(double x) {
  const double e = std::exp(-std::fabs(x));
  const double near_one = 1.0 / (1.0 + e), near_zero = e / (1.0 + e);
  return x >= 0.0 ? SigmoidPair{near_one, near_zero} : SigmoidPair{near_zero, near_one};
}

inline double normal_cdf(double x) { return 0.5 * std::erfc(-x * kInvSqrt2); }

struct GeluTanhTerms {
  double half_one_plus_tanh;  // 0.5 (1 + tanh u) = sigmoid(2u)
  double one_minus_tanh_sq;   // 1 - tanh(u)^2
};

inline GeluTanhTerms gelu_tanh_terms(double x) {
  const double u = kSqrt2OverPi * (x + kGeluTanhCubic * x * x * x);
  const double e = std::exp(-2.0 * std::fabs(u));
  const double half_one_plus_tanh = u >= 0.0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
  return {half_one_plus_tanh, 4.0 * e / ((1.0 + e) * (1.0 + e))};
}

}  // namespace

ActivationKind parse_activation_kind(const std::string& name) {
  constexpr int count = sizeof(kActivationNames) / sizeof(kActivationNames[0]);
  std::string valid;
  for (int i = 0; i < count; ++i) {
    if (name == kActivationNames[i]) return static_cast<ActivationKind>(i);
    valid += (i ? ", " : "");
    valid += kActivationNames[i];
  }
  throw std::invalid_argument(concat("unknown activation '", name, "'; expected one of ", valid));
}

template <typename T>
void activation_forward(ActivationKind kind, const T* x, T* y, int64_t n, double alpha) {
  const T alpha_t = static_cast<T>(alpha);
  switch (kind) {
    case ActivationKind::linear:
      return map_vectors(x, y, n, [](auto v) { return v; });
    case ActivationKind::sigmoid:
      return map_elements<double>(x, y, n, [](double v) { return sigmoid_pair(v).of_x; });
    case ActivationKind::tanh:
      return map_elements<double>(x, y, n, [](double v) { return std::tanh(v); });
    case ActivationKind::relu:
      return map_vectors(x, y, n, [](auto v) { return v < T(0) ? decltype(v){} : v; });
    case ActivationKind::leaky_relu:
      return map_vectors(x, y, n, [alpha_t](auto v) { return v > T(0) ? v : alpha_t * v; });
    case ActivationKind::elu:
      return map_elements<double>(x, y, n, [alpha](double v) {
        return v > 0.0 ? v : alpha * std::expm1(std::min(v, 0.0));
      });
    case ActivationKind::selu:
      return map_elements<double>(x, y, n, [](double v) {
        return kSeluScale * (v > 0.0 ? v : kSeluAlpha * std::expm1(std::min(v, 0.0)));
      });
    case ActivationKind::gelu:
      return map_elements<double>(x, y, n, [](double v) { return v * normal_cdf(v); });
    case ActivationKind::gelu_tanh:
      return map_elements<double>(
          x, y, n, [](double v) { return v * gelu_tanh_terms(v).half_one_plus_tanh; });
    case ActivationKind::silu:
      return map_elements<double>(x, y, n, [](double v) { return v * sigmoid_pair(v).of_x; });
  }
}

template <typename T>
void activation_backward(ActivationKind kind, const T* saved, const T* grad_out, T* grad_in,
                         int64_t n, double alpha) {
  const T alpha_t = static_cast<T>(alpha);
  switch (kind) {
    case ActivationKind::linear:
      return map_gradient_vectors(saved, grad_out, grad_in, n,
                                  [](auto v) { return decltype(v){} + T(1); });
    case ActivationKind::sigmoid:  // saved = y
      return map_gradient<double>(saved, grad_out, grad_in, n,
                                  [](double y) { return y * (1.0 - y); });
    case ActivationKind::tanh:  // saved = y
      return map_gradient<double>(saved, grad_out, grad_in, n,
                                  [](double y) { return 1.0 - y * y; });
    case ActivationKind::relu:
      return map_gradient_vectors(saved, grad_out, grad_in, n, [](auto v) {
        using V = decltype(v);
        return v > T(0) ? V{} + T(1) : V{};
      });
    case ActivationKind::leaky_relu:
      return map_gradient_vectors(saved, grad_out, grad_in, n, [alpha_t](auto v) {
        using V = decltype(v);
        return v > T(0) ? V{} + T(1) : V{} + alpha_t;
      });
    case ActivationKind::elu:
      return map_gradient<double>(saved, grad_out, grad_in, n, [alpha](double v) {
        return v > 0.0 ? 1.0 : alpha * std::exp(std::min(v, 0.0));
      });
    case ActivationKind::selu:
      return map_gradient<double>(saved, grad_out, grad_in, n, [](double v) {
        return kSeluScale * (v > 0.0 ? 1.0 : kSeluAlpha * std::exp(std::min(v, 0.0)));
      });
    case ActivationKind::gelu:
      return map_gradient<double>(saved, grad_out, grad_in, n, [](double v) {
        return normal_cdf(v) + v * kInvSqrt2Pi * std::exp(-0.5 * v * v);
      });
    case ActivationKind::gelu_tanh:
      return map_gradient<double>(saved, grad_out, grad_in, n, [](double v) {
        const GeluTanhTerms t = gelu_tanh_terms(v);
        const double slope_term =
            t.one_minus_tanh_sq == 0.0
                ? 0.0
                : 0.5 * v * t.one_minus_tanh_sq * kSqrt2OverPi *
                      (1.0 + 3.0 * kGeluTanhCubic * v * v);
        return t.half_one_plus_tanh + slope_term;
      });
    case ActivationKind::silu:
      return map_gradient<double>(saved, grad_out, grad_in, n, [](double v) {
        const SigmoidPair s = sigmoid_pair(v);
        return s.of_x * (1.0 + v * s.of_neg_x);
      });
  }
}

template void activation_forward<float>(ActivationKind, const float*, float*, int64_t, double);
template void activation_forward<double>(ActivationKind, const double*, double*, int64_t, double);
template void activation_backward<float>(ActivationKind, const float*, const float*, float*,
                                         int64_t, double);
template void activation_backward<double>(ActivationKind, const double*, const double*, double*,
                                          int64_t, double);

}  // namespace axonic::cpu
