// Elementwise activations on the GPU; contract in activations.h, mathematics in
// python/axonic/backends/reference.py.
//
// Layout: flat C-contiguous buffers of n elements (any tensor shape). One kernel per
// (kind, dtype, direction), the kind a functor type, so each kernel holds one formula
// and no switch. Grid-stride loops (elementwise.cuh); when every buffer is 16-byte
// aligned each thread loads and stores 16-byte vectors (4 floats / 2 doubles), else
// one element at a time (an offset view of a larger allocation). float32 is computed
// in float with CUDA's accurate expf/expm1f/tanhf/erfcf; float64 in double.
//
// The formulas are cpu/activations_arch.cpp's, rearranged as there to avoid overflow
// and cancellation, so both backends agree on NaN, infinities and the far tails:
//   sigmoid    e = exp(-|x|): x >= 0 ? 1/(1+e) : e/(1+e) (never exp of a large x);
//              sigmoid(-x) from the same e for silu's derivative.
//   tanh'      (1 - y)(1 + y) instead of 1 - y^2.
//   elu, selu  alpha * expm1(min(x, 0)).
//   gelu       Phi(x) = erfc(-x / sqrt 2) / 2, accurate in both tails (the reference's
//              1 + erf(x / sqrt 2) cancels for negative x).
//   gelu_tanh  u = sqrt(2/pi) (x + 0.044715 x^3), e = exp(-2|u|): 0.5 (1 + tanh u) =
//              sigmoid(2u) and 1 - tanh(u)^2 = 4e / (1+e)^2; where the latter
//              underflows its term of the derivative is 0 (limits 1 and 0 at +-inf,
//              where the reference forms inf * 0).
//   NaN        relu is (x < 0 ? 0 : x), which keeps NaN; min(x, 0) is (x > 0 ? 0 : x);
//              derivatives built from comparisons (relu, leaky_relu) are finite at NaN,
//              as in the reference.
#include "cuda/activations.h"

#include "cuda/device_math.cuh"
#include "cuda/elementwise.cuh"
#include "cuda/runtime.cuh"

namespace axonic::cuda {

namespace {

constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
constexpr double kSeluScale = 1.0507009873554804934193349852946;
constexpr double kSqrt2OverPi = 0.79788456080286535587989211986876;  // sqrt(2/pi)
constexpr double kInvSqrt2Pi = 0.39894228040143267793994605993438;   // 1/sqrt(2 pi)
constexpr double kInvSqrt2 = 0.70710678118654752440084436210485;     // 1/sqrt(2)
constexpr double kGeluTanhCubic = 0.044715;

// min(x, 0), keeping NaN.
template <typename T>
__device__ __forceinline__ T nonpositive_part(T x) {
  return x > T(0) ? T(0) : x;
}

template <typename T>
struct SigmoidPair {
  T of_x;      // sigmoid(x)
  T of_neg_x;  // sigmoid(-x) = 1 - sigmoid(x)
};

template <typename T>
__device__ __forceinline__ SigmoidPair<T> sigmoid_pair(T x) {
  const T e = math::exp(-math::abs(x));
  const T near_one = T(1) / (T(1) + e);
  const T near_zero = e * near_one;
  if (x >= T(0)) return {near_one, near_zero};
  return {near_zero, near_one};
}

// Each kind: forward(x) = f(x) and derivative(saved) = f'(.) from what the backward reads.
template <typename T>
struct Linear {
  __device__ T forward(T x) const { return x; }
  __device__ T derivative(T) const { return T(1); }
};

template <typename T>
struct Sigmoid {
  __device__ T forward(T x) const { return sigmoid_pair(x).of_x; }
  __device__ T derivative(T y) const { return y * (T(1) - y); }
};

template <typename T>
struct Tanh {
  __device__ T forward(T x) const { return math::tanh(x); }
  __device__ T derivative(T y) const { return (T(1) - y) * (T(1) + y); }
};

template <typename T>
struct Relu {
  __device__ T forward(T x) const { return x < T(0) ? T(0) : x; }
  __device__ T derivative(T x) const { return x > T(0) ? T(1) : T(0); }
};

template <typename T>
struct LeakyRelu {
  T alpha;
  __device__ T forward(T x) const { return x > T(0) ? x : alpha * x; }
  __device__ T derivative(T x) const { return x > T(0) ? T(1) : alpha; }
};

template <typename T>
struct Elu {
  T alpha;
  __device__ T forward(T x) const {
    return x > T(0) ? x : alpha * math::expm1(nonpositive_part(x));
  }
  __device__ T derivative(T x) const {
    return x > T(0) ? T(1) : alpha * math::exp(nonpositive_part(x));
  }
};

template <typename T>
struct Selu {
  __device__ T forward(T x) const {
    return T(kSeluScale) * (x > T(0) ? x : T(kSeluAlpha) * math::expm1(nonpositive_part(x)));
  }
  __device__ T derivative(T x) const {
    return T(kSeluScale) * (x > T(0) ? T(1) : T(kSeluAlpha) * math::exp(nonpositive_part(x)));
  }
};

template <typename T>
struct Gelu {
  __device__ static T normal_cdf(T x) { return T(0.5) * math::erfc(-x * T(kInvSqrt2)); }
  __device__ T forward(T x) const { return x * normal_cdf(x); }
  __device__ T derivative(T x) const {
    return normal_cdf(x) + x * (T(kInvSqrt2Pi) * math::exp(T(-0.5) * x * x));
  }
};

template <typename T>
struct GeluTanh {
  struct Terms {
    T half_one_plus_tanh;  // 0.5 (1 + tanh u) = sigmoid(2u)
    T one_minus_tanh_sq;   // 1 - tanh(u)^2
  };
  __device__ static Terms terms(T x) {
    const T u = T(kSqrt2OverPi) * (x + T(kGeluTanhCubic) * x * x * x);
    const T e = math::exp(T(-2) * math::abs(u));
    const T inverse = T(1) / (T(1) + e);
    return {u >= T(0) ? inverse : e * inverse, T(4) * e * inverse * inverse};
  }
  __device__ T forward(T x) const { return x * terms(x).half_one_plus_tanh; }
  __device__ T derivative(T x) const {
    const Terms t = terms(x);
    if (t.one_minus_tanh_sq == T(0)) return t.half_one_plus_tanh;
    return t.half_one_plus_tanh + T(0.5) * x * t.one_minus_tanh_sq * T(kSqrt2OverPi) *
                                      (T(1) + T(3 * kGeluTanhCubic) * x * x);
  }
};

template <typename T>
struct Silu {
  __device__ T forward(T x) const { return x * sigmoid_pair(x).of_x; }
  __device__ T derivative(T x) const {
    const SigmoidPair<T> s = sigmoid_pair(x);
    return s.of_x * (T(1) + x * s.of_neg_x);
  }
};

template <typename T, typename Kind, int lanes>
__global__ void activation_forward_kernel(const T* __restrict__ x, T* __restrict__ y, int64_t n,
                                          Kind kind) {
  for_each_group<lanes>(
      n,
      [&](int64_t i) {
        Lanes<T, lanes> v = load_lanes<T, lanes>(x + i);
#pragma unroll
        for (int l = 0; l < lanes; ++l) v.v[l] = kind.forward(v.v[l]);
        store_lanes(y + i, v);
      },
      [&](int64_t i) { y[i] = kind.forward(x[i]); });
}

template <typename T, typename Kind, int lanes>
__global__ void activation_backward_kernel(const T* __restrict__ saved,
                                           const T* __restrict__ grad_out,
                                           T* __restrict__ grad_in, int64_t n, Kind kind) {
  for_each_group<lanes>(
      n,
      [&](int64_t i) {
        const Lanes<T, lanes> s = load_lanes<T, lanes>(saved + i);
        Lanes<T, lanes> g = load_lanes<T, lanes>(grad_out + i);
#pragma unroll
        for (int l = 0; l < lanes; ++l) g.v[l] = g.v[l] * kind.derivative(s.v[l]);
        store_lanes(grad_in + i, g);
      },
      [&](int64_t i) { grad_in[i] = grad_out[i] * kind.derivative(saved[i]); });
}

// Calls f(functor) with the functor of `kind` (alpha rounded to T, as the CPU kernel).
template <typename T, typename F>
void with_kind(ActivationKind kind, double alpha, const F& f) {
  const T a = static_cast<T>(alpha);
  switch (kind) {
    case ActivationKind::linear: return f(Linear<T>{});
    case ActivationKind::sigmoid: return f(Sigmoid<T>{});
    case ActivationKind::tanh: return f(Tanh<T>{});
    case ActivationKind::relu: return f(Relu<T>{});
    case ActivationKind::leaky_relu: return f(LeakyRelu<T>{a});
    case ActivationKind::elu: return f(Elu<T>{a});
    case ActivationKind::selu: return f(Selu<T>{});
    case ActivationKind::gelu: return f(Gelu<T>{});
    case ActivationKind::gelu_tanh: return f(GeluTanh<T>{});
    case ActivationKind::silu: return f(Silu<T>{});
  }
}

}  // namespace

template <typename T>
void activation_forward(ActivationKind kind, const T* x, T* y, int64_t n, double alpha,
                        cudaStream_t stream) {
  if (n == 0) return;
  with_kind<T>(kind, alpha, [&](auto functor) {
    using Kind = decltype(functor);
    constexpr int lanes = kVectorLanes<T>;
    if (vector_aligned(x) && vector_aligned(y))
      AXONIC_LAUNCH((activation_forward_kernel<T, Kind, lanes>), elementwise_blocks(n, lanes),
                    kElementwiseThreads, 0, stream, x, y, n, functor);
    else
      AXONIC_LAUNCH((activation_forward_kernel<T, Kind, 1>), elementwise_blocks(n, 1),
                    kElementwiseThreads, 0, stream, x, y, n, functor);
  });
}

template <typename T>
void activation_backward(ActivationKind kind, const T* saved, const T* grad_out, T* grad_in,
                         int64_t n, double alpha, cudaStream_t stream) {
  if (n == 0) return;
  with_kind<T>(kind, alpha, [&](auto functor) {
    using Kind = decltype(functor);
    constexpr int lanes = kVectorLanes<T>;
    if (vector_aligned(saved) && vector_aligned(grad_out) && vector_aligned(grad_in))
      AXONIC_LAUNCH((activation_backward_kernel<T, Kind, lanes>), elementwise_blocks(n, lanes),
                    kElementwiseThreads, 0, stream, saved, grad_out, grad_in, n, functor);
    else
      AXONIC_LAUNCH((activation_backward_kernel<T, Kind, 1>), elementwise_blocks(n, 1),
                    kElementwiseThreads, 0, stream, saved, grad_out, grad_in, n, functor);
  });
}

template void activation_forward<float>(ActivationKind, const float*, float*, int64_t, double,
                                        cudaStream_t);
template void activation_forward<double>(ActivationKind, const double*, double*, int64_t, double,
                                         cudaStream_t);
template void activation_backward<float>(ActivationKind, const float*, const float*, float*,
                                         int64_t, double, cudaStream_t);
template void activation_backward<double>(ActivationKind, const double*, const double*, double*,
                                          int64_t, double, cudaStream_t);

}  // namespace axonic::cuda
