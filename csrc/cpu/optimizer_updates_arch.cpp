// The element loops of the fused optimizer updates, compiled once per ISA (see
// optimizer_updates_arch.h); formulas and state layout in optimizer_updates.h.
//
// Each loop is written per element, in the order of operations of PyTorch's
// single-tensor implementation (so results agree to a few ulps), and marked
// `omp simd`: the compiler turns it into this ISA's vectors (zmm under AVX-512),
// sqrt and division included (-fno-math-errno). An update reads and writes each
// element once, so it runs at memory bandwidth as long as the arithmetic keeps up,
// which vectors make sure of. Options that change the formula (weight decay,
// momentum, nesterov, centered, amsgrad) are template flags, so no loop tests them
// per element; maximize is a multiplication by -1, which is exact.
#include <cmath>
#include <type_traits>

#include "cpu/optimizer_updates_arch.h"

#ifndef AXONIC_ISA
#error "optimizer_updates_arch.cpp is compiled once per ISA with -DAXONIC_ISA=<isa>"
#endif

namespace axonic::cpu::AXONIC_ISA {

namespace {

// Calls f(flags...) with each runtime bool as std::true_type or std::false_type, so
// the loop f instantiates knows its options at compile time.
template <typename F>
void with_flags(F&& f) {
  f();
}

template <typename F, typename... Rest>
void with_flags(F&& f, bool first, Rest... rest) {
  if (first) {
    with_flags([&](auto... flags) { f(std::true_type{}, flags...); }, rest...);
  } else {
    with_flags([&](auto... flags) { f(std::false_type{}, flags...); }, rest...);
  }
}

// torch.lerp(a, b, w): a + w (b - a) for w < 0.5, else b - (b - a)(1 - w), which is
// exact at both ends.
template <typename T>
inline T lerp(T a, T b, T w) {
  return w < T(0.5) ? a + w * (b - a) : b - (b - a) * (T(1) - w);
}

// torch.maximum: NaN if either is NaN.
template <typename T>
inline T nan_max(T a, T b) {
  return (a > b || a != a) ? a : b;
}

// The scalars every update starts from. grad_sign is -1 under maximize.
template <typename T>
struct GradientTerms {
  T grad_sign, weight_decay;
  // p is scaled by this before the update: 1 - lr * weight_decay for decoupled
  // weight decay (AdamW, NAdam's option), else 1 (and then never applied).
  T param_scale;

  GradientTerms(bool maximize, double weight_decay_, double decoupled_lr = 0)
      : grad_sign(maximize ? T(-1) : T(1)),
        weight_decay(T(weight_decay_)),
        param_scale(T(1 - decoupled_lr * weight_decay_)) {}

  // g = (maximize ? -grad : grad) + weight_decay * p, the decay only when coupled.
  template <bool kCoupledDecay>
  T effective(T grad, T p) const {
    const T g = grad_sign * grad;
    if constexpr (kCoupledDecay) return g + weight_decay * p;
    return g;
  }
};

// Which weight decay an optimizer with a decoupled_weight_decay option applies:
// coupled (added to g), decoupled (p scaled), or none when weight_decay is 0.
struct WeightDecayMode {
  bool coupled, decoupled;

  template <typename Options>
  explicit WeightDecayMode(const Options& o)
      : coupled(o.weight_decay != 0 && !o.decoupled_weight_decay),
        decoupled(o.weight_decay != 0 && o.decoupled_weight_decay) {}
};

template <typename T, bool kDecay, bool kMomentum, bool kNesterov>
void sgd_loop(const SgdOptions& o, const ParamSlot<T>& s) {
  T* p = s.param;
  const T* grad = s.grad;
  T* buffer = s.state[0];
  const GradientTerms<T> terms(o.maximize, o.weight_decay);
  const T lr = T(o.lr), momentum = T(o.momentum);
  const T buffer_decay = T(s.coef[0]), grad_weight = T(s.coef[1]);
#pragma omp simd
  for (int64_t i = 0; i < s.n; ++i) {
    T g = terms.template effective<kDecay>(grad[i], p[i]);
    if constexpr (kMomentum) {
      const T b = buffer_decay * buffer[i] + grad_weight * g;
      buffer[i] = b;
      g = kNesterov ? g + momentum * b : b;
    }
    p[i] = p[i] - lr * g;
  }
}

template <typename T, bool kDecay>
void adagrad_loop(const AdagradOptions& o, const ParamSlot<T>& s) {
  T* p = s.param;
  const T* grad = s.grad;
  T* sum = s.state[0];
  const GradientTerms<T> terms(o.maximize, o.weight_decay);
  const T eps = T(o.eps), clr = T(s.coef[0]);
#pragma omp simd
  for (int64_t i = 0; i < s.n; ++i) {
    const T g = terms.template effective<kDecay>(grad[i], p[i]);
    const T accumulated = sum[i] + g * g;
    sum[i] = accumulated;
    p[i] = p[i] - clr * (g / (std::sqrt(accumulated) + eps));
  }
}

template <typename T, bool kDecay, bool kCentered, bool kMomentum>
void rmsprop_loop(const RmspropOptions& o, const ParamSlot<T>& s) {
  T* p = s.param;
  const T* grad = s.grad;
  T* square_avg = s.state[0];
  T* grad_avg = s.state[1];
  T* buffer = s.state[2];
  const GradientTerms<T> terms(o.maximize, o.weight_decay);
  const T lr = T(o.lr), alpha = T(o.alpha), eps = T(o.eps), momentum = T(o.momentum);
  const T one_minus_alpha = T(1 - o.alpha);
#pragma omp simd
  for (int64_t i = 0; i < s.n; ++i) {
    const T g = terms.template effective<kDecay>(grad[i], p[i]);
    const T v = square_avg[i] * alpha + one_minus_alpha * (g * g);
    square_avg[i] = v;
    T variance = v;
    if constexpr (kCentered) {
      const T a = lerp(grad_avg[i], g, one_minus_alpha);
      grad_avg[i] = a;
      variance = v - a * a;
    }
    const T denom = std::sqrt(variance) + eps;
    if constexpr (kMomentum) {
      const T b = buffer[i] * momentum + g / denom;
      buffer[i] = b;
      p[i] = p[i] - lr * b;
    } else {
      p[i] = p[i] - lr * (g / denom);
    }
  }
}

template <typename T, bool kDecay>
void adadelta_loop(const AdadeltaOptions& o, const ParamSlot<T>& s) {
  T* p = s.param;
  const T* grad = s.grad;
  T* square_avg = s.state[0];
  T* acc_delta = s.state[1];
  const GradientTerms<T> terms(o.maximize, o.weight_decay);
  const T lr = T(o.lr), rho = T(o.rho), eps = T(o.eps), one_minus_rho = T(1 - o.rho);
#pragma omp simd
  for (int64_t i = 0; i < s.n; ++i) {
    const T g = terms.template effective<kDecay>(grad[i], p[i]);
    const T v = square_avg[i] * rho + one_minus_rho * (g * g);
    square_avg[i] = v;
    // sqrt(u + eps) / sqrt(v + eps) as one root of the quotient: one square root fewer
    // per element (the vector square root is the slowest step of this loop) for a
    // rounding difference of an ulp.
    const T delta = std::sqrt((acc_delta[i] + eps) / (v + eps)) * g;
    acc_delta[i] = acc_delta[i] * rho + one_minus_rho * (delta * delta);
    p[i] = p[i] - lr * delta;
  }
}

template <typename T, bool kCoupledDecay, bool kDecoupledDecay, bool kAmsgrad>
void adam_loop(const AdamOptions& o, const ParamSlot<T>& s) {
  T* p = s.param;
  const T* grad = s.grad;
  T* exp_avg = s.state[0];
  T* exp_avg_sq = s.state[1];
  T* max_exp_avg_sq = s.state[2];
  const GradientTerms<T> terms(o.maximize, o.weight_decay, o.lr);
  const T beta2 = T(o.beta2), eps = T(o.eps);
  const T one_minus_beta1 = T(1 - o.beta1), one_minus_beta2 = T(1 - o.beta2);
  const T step_size = T(s.coef[0]), bias_correction2_sqrt = T(s.coef[1]);
#pragma omp simd
  for (int64_t i = 0; i < s.n; ++i) {
    T param = p[i];
    if constexpr (kDecoupledDecay) param = param * terms.param_scale;
    const T g = terms.template effective<kCoupledDecay>(grad[i], param);
    const T m = lerp(exp_avg[i], g, one_minus_beta1);
    exp_avg[i] = m;
    T v = exp_avg_sq[i] * beta2 + one_minus_beta2 * (g * g);
    exp_avg_sq[i] = v;
    if constexpr (kAmsgrad) {
      v = nan_max(max_exp_avg_sq[i], v);
      max_exp_avg_sq[i] = v;
    }
    const T denom = std::sqrt(v) / bias_correction2_sqrt + eps;
    p[i] = param - step_size * (m / denom);
  }
}

template <typename T, bool kDecay>
void adamax_loop(const AdamaxOptions& o, const ParamSlot<T>& s) {
  T* p = s.param;
  const T* grad = s.grad;
  T* exp_avg = s.state[0];
  T* exp_inf = s.state[1];
  const GradientTerms<T> terms(o.maximize, o.weight_decay);
  const T beta2 = T(o.beta2), eps = T(o.eps), one_minus_beta1 = T(1 - o.beta1);
  const T clr = T(s.coef[0]);
#pragma omp simd
  for (int64_t i = 0; i < s.n; ++i) {
    const T g = terms.template effective<kDecay>(grad[i], p[i]);
    const T m = lerp(exp_avg[i], g, one_minus_beta1);
    exp_avg[i] = m;
    const T u = nan_max(exp_inf[i] * beta2, std::abs(g) + eps);
    exp_inf[i] = u;
    p[i] = p[i] - clr * (m / u);
  }
}

template <typename T, bool kCoupledDecay, bool kDecoupledDecay>
void nadam_loop(const NadamOptions& o, const ParamSlot<T>& s) {
  T* p = s.param;
  const T* grad = s.grad;
  T* exp_avg = s.state[0];
  T* exp_avg_sq = s.state[1];
  const GradientTerms<T> terms(o.maximize, o.weight_decay, o.lr);
  const T beta2 = T(o.beta2), eps = T(o.eps);
  const T one_minus_beta1 = T(1 - o.beta1), one_minus_beta2 = T(1 - o.beta2);
  const T grad_step = T(s.coef[0]), avg_step = T(s.coef[1]), bias_correction2 = T(s.coef[2]);
#pragma omp simd
  for (int64_t i = 0; i < s.n; ++i) {
    T param = p[i];
    if constexpr (kDecoupledDecay) param = param * terms.param_scale;
    const T g = terms.template effective<kCoupledDecay>(grad[i], param);
    const T m = lerp(exp_avg[i], g, one_minus_beta1);
    exp_avg[i] = m;
    const T v = exp_avg_sq[i] * beta2 + one_minus_beta2 * (g * g);
    exp_avg_sq[i] = v;
    const T denom = std::sqrt(v / bias_correction2) + eps;
    param = param - grad_step * (g / denom);
    p[i] = param - avg_step * (m / denom);
  }
}

}  // namespace

template <typename T>
void sgd_update_chunk(const SgdOptions& options, const ParamSlot<T>& chunk) {
  with_flags([&](auto decay, auto momentum, auto nesterov) {
    sgd_loop<T, decltype(decay)::value, decltype(momentum)::value, decltype(nesterov)::value>(
        options, chunk);
  }, options.weight_decay != 0, chunk.state[0] != nullptr, options.nesterov);
}

template <typename T>
void adagrad_update_chunk(const AdagradOptions& options, const ParamSlot<T>& chunk) {
  with_flags([&](auto decay) { adagrad_loop<T, decltype(decay)::value>(options, chunk); },
             options.weight_decay != 0);
}

template <typename T>
void rmsprop_update_chunk(const RmspropOptions& options, const ParamSlot<T>& chunk) {
  with_flags([&](auto decay, auto centered, auto momentum) {
    rmsprop_loop<T, decltype(decay)::value, decltype(centered)::value,
                 decltype(momentum)::value>(options, chunk);
  }, options.weight_decay != 0, options.centered, options.momentum > 0);
}

template <typename T>
void adadelta_update_chunk(const AdadeltaOptions& options, const ParamSlot<T>& chunk) {
  with_flags([&](auto decay) { adadelta_loop<T, decltype(decay)::value>(options, chunk); },
             options.weight_decay != 0);
}

template <typename T>
void adam_update_chunk(const AdamOptions& options, const ParamSlot<T>& chunk) {
  const WeightDecayMode decay(options);
  with_flags([&](auto coupled, auto decoupled, auto amsgrad) {
    adam_loop<T, decltype(coupled)::value, decltype(decoupled)::value,
              decltype(amsgrad)::value>(options, chunk);
  }, decay.coupled, decay.decoupled, options.amsgrad);
}

template <typename T>
void adamax_update_chunk(const AdamaxOptions& options, const ParamSlot<T>& chunk) {
  with_flags([&](auto decay) { adamax_loop<T, decltype(decay)::value>(options, chunk); },
             options.weight_decay != 0);
}

template <typename T>
void nadam_update_chunk(const NadamOptions& options, const ParamSlot<T>& chunk) {
  const WeightDecayMode decay(options);
  with_flags([&](auto coupled, auto decoupled) {
    nadam_loop<T, decltype(coupled)::value, decltype(decoupled)::value>(options, chunk);
  }, decay.coupled, decay.decoupled);
}

#define AXONIC_INSTANTIATE_OPTIMIZER_UPDATES(T)                                             \
  template void sgd_update_chunk<T>(const SgdOptions&, const ParamSlot<T>&);               \
  template void adagrad_update_chunk<T>(const AdagradOptions&, const ParamSlot<T>&);       \
  template void rmsprop_update_chunk<T>(const RmspropOptions&, const ParamSlot<T>&);       \
  template void adadelta_update_chunk<T>(const AdadeltaOptions&, const ParamSlot<T>&);     \
  template void adam_update_chunk<T>(const AdamOptions&, const ParamSlot<T>&);             \
  template void adamax_update_chunk<T>(const AdamaxOptions&, const ParamSlot<T>&);         \
  template void nadam_update_chunk<T>(const NadamOptions&, const ParamSlot<T>&);

AXONIC_INSTANTIATE_OPTIMIZER_UPDATES(float)
AXONIC_INSTANTIATE_OPTIMIZER_UPDATES(double)

}  // namespace axonic::cpu::AXONIC_ISA
