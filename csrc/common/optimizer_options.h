// The per-tensor slot and the options of the fused optimizer updates, shared by the
// CPU kernels (cpu/optimizer_updates.h) and the CUDA ones (cuda/optimizer_updates.h),
// which implement the same formulas; the NumPy twin of each is in
// python/axonic/backends/reference_optimizers.py. Every formula starts from:
//   g = maximize ? -grad : grad
//   g = g + weight_decay * p            (coupled L2; AdamW and NAdam's decoupled
//                                        form instead scale p by 1 - lr*weight_decay)
// Scalars that depend on the step count (bias corrections, Adagrad's decayed lr,
// NAdam's momentum schedule) are computed by the Python optimizer, per tensor, and
// arrive in ParamSlot::coef, so the kernels are pure element maps.
#pragma once

#include <array>
#include <cstdint>

namespace axonic {

// One parameter tensor of a multi-tensor update; every buffer holds n elements.
// state[k] are the optimizer's state buffers in the order its options struct
// lists them; an unused one is nullptr. coef are the per-tensor scalars its
// options struct documents.
template <typename T>
struct ParamSlot {
  T* param;
  const T* grad;
  std::array<T*, 3> state;
  std::array<double, 3> coef;
  int64_t n;
};

// SGD. state: {momentum_buffer} (nullptr when momentum == 0).
// coef: {buffer_decay, grad_weight}: momentum and 1 - dampening, or 0 and 1 on a
// buffer's first step (PyTorch starts the buffer at b = g).
//   b = buffer_decay * b + grad_weight * g
//   g = nesterov ? g + momentum * b : b
//   p = p - lr * g
struct SgdOptions {
  double lr, momentum, weight_decay;
  bool nesterov, maximize;
};

// Adagrad. state: {sum}. coef: {clr = lr / (1 + (step - 1) * lr_decay)}.
//   sum = sum + g^2;  p = p - clr * g / (sqrt(sum) + eps)
struct AdagradOptions {
  double weight_decay, eps;
  bool maximize;
};

// RMSprop. state: {square_avg, grad_avg (centered only), momentum_buffer
// (momentum > 0 only)}. No coef.
//   v = alpha v + (1 - alpha) g^2
//   centered: a = lerp(a, g, 1 - alpha);  d = sqrt(v - a^2) + eps  else d = sqrt(v) + eps
//   momentum: b = momentum b + g / d;  p = p - lr b      else p = p - lr g / d
struct RmspropOptions {
  double lr, alpha, eps, weight_decay, momentum;
  bool centered, maximize;
};

// Adadelta. state: {square_avg, acc_delta}. No coef.
//   v = rho v + (1 - rho) g^2
//   delta = sqrt(u + eps) / sqrt(v + eps) * g
//   u = rho u + (1 - rho) delta^2;  p = p - lr delta
struct AdadeltaOptions {
  double lr, rho, eps, weight_decay;
  bool maximize;
};

// Adam and AdamW (decoupled_weight_decay). state: {exp_avg, exp_avg_sq,
// max_exp_avg_sq (amsgrad only)}. coef: {step_size = lr / (1 - beta1^t),
// bias_correction2_sqrt = sqrt(1 - beta2^t)}.
//   decoupled: p = p * (1 - lr * weight_decay)   else g = g + weight_decay * p
//   m = lerp(m, g, 1 - beta1);  v = beta2 v + (1 - beta2) g^2
//   amsgrad: vmax = max(vmax, v), used for v below
//   p = p - step_size * m / (sqrt(v) / bias_correction2_sqrt + eps)
struct AdamOptions {
  double lr, beta1, beta2, eps, weight_decay;
  bool decoupled_weight_decay, amsgrad, maximize;
};

// Adamax. state: {exp_avg, exp_inf}. coef: {clr = lr / (1 - beta1^t)}.
//   m = lerp(m, g, 1 - beta1);  u = max(beta2 u, |g| + eps);  p = p - clr m / u
struct AdamaxOptions {
  double beta1, beta2, eps, weight_decay;
  bool maximize;
};

// NAdam. state: {exp_avg, exp_avg_sq}. coef: {grad_step = lr (1 - mu_t) /
// (1 - prod mu_1..t), avg_step = lr mu_t+1 / (1 - prod mu_1..t+1),
// bias_correction2 = 1 - beta2^t}.
//   decoupled: p = p * (1 - lr * weight_decay)   else g = g + weight_decay * p
//   m = lerp(m, g, 1 - beta1);  v = beta2 v + (1 - beta2) g^2
//   d = sqrt(v / bias_correction2) + eps
//   p = p - grad_step g / d - avg_step m / d
struct NadamOptions {
  double lr, beta1, beta2, eps, weight_decay;
  bool decoupled_weight_decay, maximize;
};

}  // namespace axonic
