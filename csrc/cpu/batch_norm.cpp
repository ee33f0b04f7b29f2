// Batch normalization kernels; contract in batch_norm.h.
//
// Layout (N, C, S) row-major: channel c of sample i is the contiguous run
// x[(i*C + c)*S .. +S). Each channel is one independent job, so the channels are
// split over OpenMP threads (dynamic schedule: channels are equal work, but the
// fork/join is skipped below kParallelElements where it costs more than the work).
// Within a channel the N runs of S values are walked in order.
// A batch with few channels (C = 1) therefore runs on few threads; convolutional
// layers have tens to hundreds of channels, and (N, C) inputs read with stride C.
//
// Training forward, per channel, M = N*S, two passes in double (exact enough for
// float32 inputs and free of the cancellation of the one-pass E[x^2] - E[x]^2):
//   mean   = sum(x) / M
//   var    = sum((x - mean)^2) / M             biased, used to normalize
//   invstd = 1 / sqrt(var + eps)
//   out    = (x - mean) * invstd * w + b       folded into out = x * scale + shift
//   running_mean = (1 - momentum) running_mean + momentum mean
//   running_var  = (1 - momentum) running_var  + momentum var * M / (M - 1)
// as PyTorch does (the running variance is the unbiased estimate).
//
// Backward, with xhat = (x - mean) * invstd, sums over the channel's M values:
//   grad_bias   = sum(g)
//   grad_weight = sum(g * xhat)
//   grad_in     = w * invstd / M * (M g - sum(g) - xhat sum(g * xhat))
//
// NaN or inf in a channel spreads to that channel's statistics and outputs, as in
// the reference.
#include "cpu/batch_norm.h"

#include <cmath>

#include "cpu/parallel_items.h"

namespace axonic::cpu {

namespace {


template <typename ChannelFn>
void for_each_channel(int64_t n, int64_t c, int64_t s, const ChannelFn& channel_fn) {
  if (c > 1 && n * c * s >= kParallelElements) {
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t ch = 0; ch < c; ++ch) channel_fn(ch);
  } else {
    for (int64_t ch = 0; ch < c; ++ch) channel_fn(ch);
  }
}

// sum over channel ch of f(value) for one input, in double.
template <typename T, typename F>
double channel_sum(const T* x, int64_t n, int64_t c, int64_t s, int64_t ch, const F& f) {
  double total = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const T* row = x + (i * c + ch) * s;
    double partial = 0.0;
#pragma omp simd reduction(+ : partial)
    for (int64_t j = 0; j < s; ++j) partial += f(static_cast<double>(row[j]));
    total += partial;
  }
  return total;
}

// out = x * scale + shift over channel ch.
template <typename T>
void channel_affine(const T* x, T* out, int64_t n, int64_t c, int64_t s, int64_t ch,
                    double scale, double shift) {
  for (int64_t i = 0; i < n; ++i) {
    const int64_t base = (i * c + ch) * s;
    const T* row = x + base;
    T* out_row = out + base;
#pragma omp simd
    for (int64_t j = 0; j < s; ++j)
      out_row[j] = static_cast<T>(static_cast<double>(row[j]) * scale + shift);
  }
}

template <typename T>
double value_or(const T* p, int64_t ch, double fallback) {
  return p == nullptr ? fallback : static_cast<double>(p[ch]);
}

}  // namespace

template <typename T>
void batch_norm_forward_train(const T* x, const T* weight, const T* bias, T* running_mean,
                              T* running_var, T* out, T* save_mean, T* save_invstd, int64_t n,
                              int64_t c, int64_t s, double momentum, double eps) {
  const int64_t m = n * s;
  for_each_channel(n, c, s, [=](int64_t ch) {
    const double mean = channel_sum(x, n, c, s, ch, [](double v) { return v; }) / m;
    const double var =
        channel_sum(x, n, c, s, ch, [mean](double v) { return (v - mean) * (v - mean); }) / m;
    const double invstd = 1.0 / std::sqrt(var + eps);
    save_mean[ch] = static_cast<T>(mean);
    save_invstd[ch] = static_cast<T>(invstd);
    if (running_mean != nullptr)
      running_mean[ch] = static_cast<T>((1.0 - momentum) * running_mean[ch] + momentum * mean);
    if (running_var != nullptr) {
      const double unbiased = var * static_cast<double>(m) / static_cast<double>(m - 1);
      running_var[ch] = static_cast<T>((1.0 - momentum) * running_var[ch] + momentum * unbiased);
    }
    const double scale = invstd * value_or(weight, ch, 1.0);
    const double shift = value_or(bias, ch, 0.0) - mean * scale;
    channel_affine(x, out, n, c, s, ch, scale, shift);
  });
}

template <typename T>
void batch_norm_forward_eval(const T* x, const T* weight, const T* bias, const T* running_mean,
                             const T* running_var, T* out, int64_t n, int64_t c, int64_t s,
                             double eps) {
  for_each_channel(n, c, s, [=](int64_t ch) {
    const double invstd = 1.0 / std::sqrt(static_cast<double>(running_var[ch]) + eps);
    const double scale = invstd * value_or(weight, ch, 1.0);
    const double shift = value_or(bias, ch, 0.0) - static_cast<double>(running_mean[ch]) * scale;
    channel_affine(x, out, n, c, s, ch, scale, shift);
  });
}

template <typename T>
void batch_norm_backward(const T* grad_out, const T* x, const T* weight, const T* save_mean,
                         const T* save_invstd, T* grad_in, T* grad_weight, T* grad_bias,
                         int64_t n, int64_t c, int64_t s) {
  const int64_t m = n * s;
  for_each_channel(n, c, s, [=](int64_t ch) {
    const double mean = static_cast<double>(save_mean[ch]);
    const double invstd = static_cast<double>(save_invstd[ch]);
    double sum_g = 0.0, sum_g_centered = 0.0;  // sum(g), sum(g * (x - mean))
    for (int64_t i = 0; i < n; ++i) {
      const int64_t base = (i * c + ch) * s;
      const T* g = grad_out + base;
      const T* row = x + base;
      double partial_g = 0.0, partial_gc = 0.0;
#pragma omp simd reduction(+ : partial_g, partial_gc)
      for (int64_t j = 0; j < s; ++j) {
        const double gj = static_cast<double>(g[j]);
        partial_g += gj;
        partial_gc += gj * (static_cast<double>(row[j]) - mean);
      }
      sum_g += partial_g;
      sum_g_centered += partial_gc;
    }
    const double sum_g_xhat = sum_g_centered * invstd;
    if (grad_bias != nullptr) grad_bias[ch] = static_cast<T>(sum_g);
    if (grad_weight != nullptr) grad_weight[ch] = static_cast<T>(sum_g_xhat);
    if (grad_in == nullptr) return;
    // grad_in = k * (g - mean_g - (x - mean) * c2), k = w * invstd, c2 = invstd * sum(g xhat) / M
    const double k = value_or(weight, ch, 1.0) * invstd;
    const double mean_g = sum_g / m;
    const double c2 = invstd * sum_g_xhat / m;
    for (int64_t i = 0; i < n; ++i) {
      const int64_t base = (i * c + ch) * s;
      const T* g = grad_out + base;
      const T* row = x + base;
      T* gi = grad_in + base;
#pragma omp simd
      for (int64_t j = 0; j < s; ++j)
        gi[j] = static_cast<T>(
            k * (static_cast<double>(g[j]) - mean_g - (static_cast<double>(row[j]) - mean) * c2));
    }
  });
}

#define AXONIC_INSTANTIATE_BATCH_NORM(T)                                                        \
  template void batch_norm_forward_train<T>(const T*, const T*, const T*, T*, T*, T*, T*, T*,  \
                                            int64_t, int64_t, int64_t, double, double);        \
  template void batch_norm_forward_eval<T>(const T*, const T*, const T*, const T*, const T*,   \
                                           T*, int64_t, int64_t, int64_t, double);             \
  template void batch_norm_backward<T>(const T*, const T*, const T*, const T*, const T*, T*,   \
                                       T*, T*, int64_t, int64_t, int64_t);

AXONIC_INSTANTIATE_BATCH_NORM(float)
AXONIC_INSTANTIATE_BATCH_NORM(double)

#undef AXONIC_INSTANTIATE_BATCH_NORM

}  // namespace axonic::cpu
