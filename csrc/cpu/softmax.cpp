// Softmax, log-softmax and fused softmax-cross-entropy; contract in softmax.h.
//
// Layout: rows x cols, row-major, the reduction running along a row (the last
// axis). Per row z, with m = max_j z_j:
//   s = sum_j exp(z_j - m)                    returned in double
//   softmax_j     = exp(z_j - m) / s
//   log_softmax_j = (z_j - m) - log s
// Subtracting m bounds every exp argument by 0, so no logit can overflow it, and
// the largest term is exp(0) = 1, so s >= 1 and log s never meets 0. The loss terms
// m - z_{y_i} and (z_j - m) - log s of cross-entropy are formed in double, which is
// exact for float32 logits: logits of +-3e38, whose difference overflows float32,
// still give the right losses. The forward stores exp(z_j - m) in out while summing
// and scales it by 1/s after, one exp per element instead of two.
//
// The loops over a row that evaluate exp (and the max and scaling passes next to
// them) are SIMD row kernels compiled once per ISA in softmax_arch.cpp, which also
// gives their accuracy; each call fetches the active ISA's kernels once.
//
// Backward, from the forward output as in the reference:
//   softmax      grad_in = y * (g - sum_j g_j y_j)
//   log-softmax  grad_in = g - exp(y) * sum_j g_j
// Cross-entropy of row i, with p = softmax(z):
//   label y_i    loss_i = (m - z_{y_i}) + log s          grad_ij = g_i (p_ij - [j == y_i])
//                rows whose label is ignore_index get loss 0 and gradient 0.
//   target t_i   loss_i = -sum_{j: t_ij != 0} t_ij log p_ij
//                grad_ij = g_i (p_ij sum_k t_ik - t_ij)
//                Skipping t_ij = 0 keeps 0 * log 0 = 0 * -inf out of the sum.
// Labels are checked on the calling thread before anything is written, and the first
// bad one in row order is reported, as the reference does.
//
// Rows are independent: once rows x cols reaches kParallelElements the rows are split
// over OpenMP threads, each row reduced serially by one thread. Smaller problems stay
// on the calling thread, where a fork/join would cost more than the work. (Few very
// long rows therefore use few threads; no model here has them.)
//
// NaN or +inf in a row makes the whole row NaN (through m or s), as in the reference.
#include "cpu/softmax.h"

#include <algorithm>
#include <cmath>

#include "common/class_labels.h"
#include "common/cpu_features.h"
#include "cpu/parallel_items.h"
#include "cpu/softmax_arch.h"

namespace axonic::cpu {

namespace {

template <typename T>
SoftmaxRowKernels<T> active_row_kernels() {
  switch (active_isa()) {
#ifdef AXONIC_HAVE_ISA_avx512
    case Isa::avx512: return avx512::softmax_row_kernels<T>();
#endif
#ifdef AXONIC_HAVE_ISA_avx2
    case Isa::avx2: return avx2::softmax_row_kernels<T>();
#endif
    default: return generic::softmax_row_kernels<T>();
  }
}

// probs = softmax(z) for one row; returns m and log s (see the top of the file).
struct RowShift {
  double max;
  double log_sum;
};

template <typename T>
RowShift softmax_row(const SoftmaxRowKernels<T>& kernels, const T* z, T* probs, int64_t cols) {
  const T m = kernels.max(z, cols);
  const double s = kernels.store_exp_and_sum(z, probs, cols, m);
  kernels.scale(probs, cols, static_cast<T>(1.0 / s));
  return {static_cast<double>(m), std::log(s)};
}

}  // namespace

template <typename T>
void softmax_forward(const T* x, T* out, int64_t rows, int64_t cols, bool log) {
  const SoftmaxRowKernels<T> kernels = active_row_kernels<T>();
  for_each_item(rows, cols, [=](int64_t r) {
    const T* z = x + r * cols;
    T* y = out + r * cols;
    if (!log) {
      softmax_row(kernels, z, y, cols);
      return;
    }
    const T m = kernels.max(z, cols);
    const double log_sum = std::log(kernels.sum_exp(z, cols, m));
    kernels.log_softmax(z, y, cols, m, static_cast<T>(log_sum));
  });
}

template <typename T>
void softmax_backward(const T* y, const T* grad_out, T* grad_in, int64_t rows, int64_t cols,
                      bool log) {
  const SoftmaxRowKernels<T> kernels = active_row_kernels<T>();
  for_each_item(rows, cols, [=](int64_t r) {
    const T* yr = y + r * cols;
    const T* g = grad_out + r * cols;
    T* gi = grad_in + r * cols;
    if (log)
      kernels.log_softmax_backward(yr, g, gi, cols);
    else
      kernels.softmax_backward(yr, g, gi, cols);
  });
}

void check_class_labels(const int64_t* labels, int64_t rows, int64_t classes,
                        int64_t ignore_index) {
  for (int64_t r = 0; r < rows; ++r) {
    if (!is_class_label(labels[r], classes, ignore_index))
      throw_class_label_out_of_range(labels[r], r, classes, ignore_index);
  }
}

template <typename T>
void softmax_cross_entropy_forward_labels(const T* logits, const int64_t* labels, T* loss,
                                          T* probs, int64_t rows, int64_t classes,
                                          int64_t ignore_index) {
  check_class_labels(labels, rows, classes, ignore_index);
  const SoftmaxRowKernels<T> kernels = active_row_kernels<T>();
  for_each_item(rows, classes, [=](int64_t r) {
    const T* z = logits + r * classes;
    const RowShift shift = softmax_row(kernels, z, probs + r * classes, classes);
    const int64_t label = labels[r];
    loss[r] = label == ignore_index
                  ? T(0)
                  : static_cast<T>((shift.max - static_cast<double>(z[label])) + shift.log_sum);
  });
}

template <typename T>
void softmax_cross_entropy_forward_probabilities(const T* logits, const T* target, T* loss,
                                                 T* probs, int64_t rows, int64_t classes) {
  const SoftmaxRowKernels<T> kernels = active_row_kernels<T>();
  for_each_item(rows, classes, [=](int64_t r) {
    const T* z = logits + r * classes;
    const T* t = target + r * classes;
    const RowShift shift = softmax_row(kernels, z, probs + r * classes, classes);
    double sum = 0.0;  // sum_j t_j log p_j over t_j != 0
#pragma omp simd reduction(+ : sum)
    for (int64_t j = 0; j < classes; ++j) {
      const double log_p = (static_cast<double>(z[j]) - shift.max) - shift.log_sum;
      sum += t[j] != T(0) ? static_cast<double>(t[j]) * log_p : 0.0;
    }
    loss[r] = static_cast<T>(-sum);
  });
}

template <typename T>
void softmax_cross_entropy_backward_labels(const T* probs, const int64_t* labels,
                                           const T* grad_loss, T* grad_logits, int64_t rows,
                                           int64_t classes, int64_t ignore_index) {
  check_class_labels(labels, rows, classes, ignore_index);
  for_each_item(rows, classes, [=](int64_t r) {
    const T* p = probs + r * classes;
    T* gz = grad_logits + r * classes;
    const int64_t label = labels[r];
    if (label == ignore_index) {
      std::fill(gz, gz + classes, T(0));
      return;
    }
    const double g = static_cast<double>(grad_loss[r]);
#pragma omp simd
    for (int64_t j = 0; j < classes; ++j) gz[j] = static_cast<T>(g * static_cast<double>(p[j]));
    gz[label] = static_cast<T>(g * (static_cast<double>(p[label]) - 1.0));
  });
}

template <typename T>
void softmax_cross_entropy_backward_probabilities(const T* probs, const T* target,
                                                  const T* grad_loss, T* grad_logits,
                                                  int64_t rows, int64_t classes) {
  for_each_item(rows, classes, [=](int64_t r) {
    const T* p = probs + r * classes;
    const T* t = target + r * classes;
    T* gz = grad_logits + r * classes;
    double target_sum = 0.0;
#pragma omp simd reduction(+ : target_sum)
    for (int64_t j = 0; j < classes; ++j) target_sum += static_cast<double>(t[j]);
    const double g = static_cast<double>(grad_loss[r]);
#pragma omp simd
    for (int64_t j = 0; j < classes; ++j)
      gz[j] = static_cast<T>(
          g * (static_cast<double>(p[j]) * target_sum - static_cast<double>(t[j])));
  });
}

#define AXONIC_INSTANTIATE_SOFTMAX(T)                                                          \
  template void softmax_forward<T>(const T*, T*, int64_t, int64_t, bool);                      \
  template void softmax_backward<T>(const T*, const T*, T*, int64_t, int64_t, bool);           \
  template void softmax_cross_entropy_forward_labels<T>(const T*, const int64_t*, T*, T*,      \
                                                        int64_t, int64_t, int64_t);            \
  template void softmax_cross_entropy_forward_probabilities<T>(const T*, const T*, T*, T*,     \
                                                               int64_t, int64_t);              \
  template void softmax_cross_entropy_backward_labels<T>(const T*, const int64_t*, const T*,   \
                                                         T*, int64_t, int64_t, int64_t);       \
  template void softmax_cross_entropy_backward_probabilities<T>(const T*, const T*, const T*,  \
                                                                T*, int64_t, int64_t);

AXONIC_INSTANTIATE_SOFTMAX(float)
AXONIC_INSTANTIATE_SOFTMAX(double)

#undef AXONIC_INSTANTIATE_SOFTMAX

}  // namespace axonic::cpu
