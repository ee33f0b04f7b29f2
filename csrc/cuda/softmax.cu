// Softmax, log-softmax and fused softmax-cross-entropy on the GPU; contract in
// softmax.h, mathematics in python/axonic/backends/reference.py.
//
// Layout: rows x cols, row-major, reduced along a row. Each row belongs to a team of
// threads (row_teams.cuh): 4 to 32 lanes of a warp for rows of up to 1024 elements
// (shuffle reductions, several short rows per warp), a whole block beyond (block
// reductions), the grid looping over rows. Per row z, with m = max_j z_j:
//   s = sum_j exp(z_j - m)                    accumulated in double, as the CPU kernel
//   softmax_j     = exp(z_j - m) * (1 / s)    1/s and log s rounded once to T
//   log_softmax_j = (z_j - m) - log s
// Subtracting m bounds every exp argument by 0 (no overflow) and makes s >= 1. The
// passes re-read the row from global memory (max, sum, write): a row is at most a few
// KB per team and the re-reads hit L1/L2, which keeps one code path for every length.
// Cross-entropy's loss terms m - z_{y_i} and (z_j - m) - log s are formed in double,
// exact for float32 logits (+-3e38, whose difference overflows float, give the right
// loss). NaN or +inf in a row makes the whole row NaN through s (exp(NaN) or
// exp(inf - inf)), and a row of -inf too, as in the reference.
//
// Backward, from the forward output as in the reference:
//   softmax      grad_in = y * (g - sum_j g_j y_j)      (g_j y_j in T, summed in double)
//   log-softmax  grad_in = g - exp(y) * sum_j g_j
//   labels       grad_ij = g_i (p_ij - [j == y_i]), 0 on ignore_index rows
//   targets      grad_ij = g_i (p_ij sum_k t_ik - t_ij)
// Labels live on the device, so the kernels check them where they read them: a bad
// label's row is skipped and atomicMin records the first bad row; the launcher copies
// that flag back, waits for the stream and throws the CPU backend's message
// (common/class_labels.h).
#include "cuda/softmax.h"

#include "common/class_labels.h"
#include "cuda/device_math.cuh"
#include "cuda/row_teams.cuh"
#include "cuda/runtime.cuh"
#include "cuda/stream_scratch.cuh"

namespace axonic::cuda {

namespace {

template <typename T>
struct RowShift {
  T max;       // m
  double sum;  // s = sum_j exp(z_j - m)
};

// m and s of the row z over the team (n = team.columns(cols) elements).
template <typename T, typename Team>
__device__ RowShift<T> row_shift(const Team& team, const T* z, int64_t n) {
  T m = -INFINITY;
  for (int64_t j = team.rank; j < n; j += team.size) m = z[j] > m ? z[j] : m;
  m = team.max(m);
  double s = 0.0;
  for (int64_t j = team.rank; j < n; j += team.size)
    s += static_cast<double>(math::exp(z[j] - m));
  return {m, team.sum(s)};
}

// probs = exp(z - m) * (1 / s) over the row.
template <typename T, typename Team>
__device__ void store_probabilities(const Team& team, const T* z, T* probs, int64_t n,
                                    const RowShift<T>& shift) {
  const T inverse_sum = static_cast<T>(1.0 / shift.sum);
  for (int64_t j = team.rank; j < n; j += team.size)
    probs[j] = math::exp(z[j] - shift.max) * inverse_sum;
}

template <typename T>
struct SoftmaxForward {
  const T* x;
  T* out;
  int64_t cols;
  bool log_softmax;

  template <typename Team>
  __device__ void operator()(const Team& team, int64_t row) const {
    const int64_t n = team.columns(cols);
    const T* z = x + row * cols;
    T* y = out + row * cols;
    const RowShift<T> shift = row_shift(team, z, n);
    if (!log_softmax) return store_probabilities(team, z, y, n, shift);
    const T log_sum = static_cast<T>(math::log(shift.sum));
    for (int64_t j = team.rank; j < n; j += team.size) y[j] = (z[j] - shift.max) - log_sum;
  }
};

template <typename T>
struct SoftmaxBackward {
  const T* y;
  const T* grad_out;
  T* grad_in;
  int64_t cols;
  bool log_softmax;

  template <typename Team>
  __device__ void operator()(const Team& team, int64_t row) const {
    const int64_t n = team.columns(cols);
    const T* yr = y + row * cols;
    const T* g = grad_out + row * cols;
    T* gi = grad_in + row * cols;
    double sum = 0.0;  // sum_j g_j y_j, or sum_j g_j for log-softmax
    for (int64_t j = team.rank; j < n; j += team.size)
      sum += static_cast<double>(log_softmax ? g[j] : g[j] * yr[j]);
    const T total = static_cast<T>(team.sum(sum));
    for (int64_t j = team.rank; j < n; j += team.size)
      gi[j] = log_softmax ? g[j] - math::exp(yr[j]) * total : yr[j] * (g[j] - total);
  }
};

// Records `row` as holding a bad label (the smallest such row wins).
__device__ __forceinline__ void flag_bad_label(unsigned long long* first_bad_row, int64_t row) {
  atomicMin(first_bad_row, static_cast<unsigned long long>(row));
}

template <typename T>
struct CrossEntropyForwardLabels {
  const T* logits;
  const int64_t* labels;
  T* loss;
  T* probs;
  int64_t classes;
  int64_t ignore_index;
  unsigned long long* first_bad_row;

  template <typename Team>
  __device__ void operator()(const Team& team, int64_t row) const {
    const int64_t label = team.active ? labels[row] : ignore_index;
    const bool valid = is_class_label(label, classes, ignore_index);
    if (!valid && team.rank == 0) flag_bad_label(first_bad_row, row);
    // The team's decision is uniform, so a bad row's team can skip the reductions.
    const int64_t n = valid ? team.columns(classes) : 0;
    const T* z = logits + row * classes;
    const RowShift<T> shift = row_shift(team, z, n);
    store_probabilities(team, z, probs + row * classes, n, shift);
    if (n == 0 || team.rank != 0) return;
    loss[row] = label == ignore_index
                    ? T(0)
                    : static_cast<T>((static_cast<double>(shift.max) -
                                      static_cast<double>(z[label])) +
                                     math::log(shift.sum));
  }
};

template <typename T>
struct CrossEntropyForwardProbabilities {
  const T* logits;
  const T* target;
  T* loss;
  T* probs;
  int64_t classes;

  template <typename Team>
  __device__ void operator()(const Team& team, int64_t row) const {
    const int64_t n = team.columns(classes);
    const T* z = logits + row * classes;
    const T* t = target + row * classes;
    const RowShift<T> shift = row_shift(team, z, n);
    store_probabilities(team, z, probs + row * classes, n, shift);
    const double max = static_cast<double>(shift.max), log_sum = math::log(shift.sum);
    double sum = 0.0;  // sum_j t_j log p_j over t_j != 0
    for (int64_t j = team.rank; j < n; j += team.size) {
      const double log_p = (static_cast<double>(z[j]) - max) - log_sum;
      sum += t[j] != T(0) ? static_cast<double>(t[j]) * log_p : 0.0;
    }
    sum = team.sum(sum);
    if (n > 0 && team.rank == 0) loss[row] = static_cast<T>(-sum);
  }
};

template <typename T>
struct CrossEntropyBackwardLabels {
  const T* probs;
  const int64_t* labels;
  const T* grad_loss;
  T* grad_logits;
  int64_t classes;
  int64_t ignore_index;
  unsigned long long* first_bad_row;

  // No reductions: a team without a row may return at once.
  template <typename Team>
  __device__ void operator()(const Team& team, int64_t row) const {
    if (!team.active) return;
    const int64_t label = labels[row];
    if (!is_class_label(label, classes, ignore_index)) {
      if (team.rank == 0) flag_bad_label(first_bad_row, row);
      return;
    }
    const T* p = probs + row * classes;
    T* gz = grad_logits + row * classes;
    if (label == ignore_index) {
      for (int64_t j = team.rank; j < classes; j += team.size) gz[j] = T(0);
      return;
    }
    const double g = static_cast<double>(grad_loss[row]);
    for (int64_t j = team.rank; j < classes; j += team.size)
      gz[j] = static_cast<T>(g * (static_cast<double>(p[j]) - (j == label ? 1.0 : 0.0)));
  }
};

template <typename T>
struct CrossEntropyBackwardProbabilities {
  const T* probs;
  const T* target;
  const T* grad_loss;
  T* grad_logits;
  int64_t classes;

  template <typename Team>
  __device__ void operator()(const Team& team, int64_t row) const {
    const int64_t n = team.columns(classes);
    const T* p = probs + row * classes;
    const T* t = target + row * classes;
    T* gz = grad_logits + row * classes;
    double target_sum = 0.0;
    for (int64_t j = team.rank; j < n; j += team.size) target_sum += static_cast<double>(t[j]);
    target_sum = team.sum(target_sum);
    const double g = n > 0 ? static_cast<double>(grad_loss[row]) : 0.0;
    for (int64_t j = team.rank; j < n; j += team.size)
      gz[j] = static_cast<T>(
          g * (static_cast<double>(p[j]) * target_sum - static_cast<double>(t[j])));
  }
};

// Runs launch(first_bad_row) (a kernel that flags rows with bad labels), waits for it
// and throws for the first flagged row.
template <typename Launch>
void launch_checking_labels(const int64_t* labels, int64_t classes, int64_t ignore_index,
                            cudaStream_t stream, const Launch& launch) {
  constexpr unsigned long long kNoBadRow = ~0ull;
  StreamScratch flag(sizeof(unsigned long long), stream);
  unsigned long long* first_bad_row = flag.get<unsigned long long>();
  AXONIC_CUDA_CHECK(cudaMemsetAsync(first_bad_row, 0xff, sizeof(unsigned long long), stream));
  launch(first_bad_row);
  unsigned long long bad_row = kNoBadRow;
  AXONIC_CUDA_CHECK(cudaMemcpyAsync(&bad_row, first_bad_row, sizeof bad_row,
                                    cudaMemcpyDeviceToHost, stream));
  AXONIC_CUDA_CHECK(cudaStreamSynchronize(stream));
  if (bad_row == kNoBadRow) return;
  int64_t label = 0;
  AXONIC_CUDA_CHECK(cudaMemcpyAsync(&label, labels + bad_row, sizeof label,
                                    cudaMemcpyDeviceToHost, stream));
  AXONIC_CUDA_CHECK(cudaStreamSynchronize(stream));
  throw_class_label_out_of_range(label, static_cast<int64_t>(bad_row), classes, ignore_index);
}

}  // namespace

template <typename T>
void softmax_forward(const T* x, T* out, int64_t rows, int64_t cols, bool log,
                     cudaStream_t stream) {
  launch_rows(SoftmaxForward<T>{x, out, cols, log}, rows, cols, stream);
}

template <typename T>
void softmax_backward(const T* y, const T* grad_out, T* grad_in, int64_t rows, int64_t cols,
                      bool log, cudaStream_t stream) {
  launch_rows(SoftmaxBackward<T>{y, grad_out, grad_in, cols, log}, rows, cols, stream);
}

template <typename T>
void softmax_cross_entropy_forward_labels(const T* logits, const int64_t* labels, T* loss,
                                          T* probs, int64_t rows, int64_t classes,
                                          int64_t ignore_index, cudaStream_t stream) {
  if (rows == 0) return;
  launch_checking_labels(labels, classes, ignore_index, stream, [&](unsigned long long* flag) {
    launch_rows(
        CrossEntropyForwardLabels<T>{logits, labels, loss, probs, classes, ignore_index, flag},
        rows, classes, stream);
  });
}

template <typename T>
void softmax_cross_entropy_forward_probabilities(const T* logits, const T* target, T* loss,
                                                 T* probs, int64_t rows, int64_t classes,
                                                 cudaStream_t stream) {
  launch_rows(CrossEntropyForwardProbabilities<T>{logits, target, loss, probs, classes}, rows,
              classes, stream);
}

template <typename T>
void softmax_cross_entropy_backward_labels(const T* probs, const int64_t* labels,
                                           const T* grad_loss, T* grad_logits, int64_t rows,
                                           int64_t classes, int64_t ignore_index,
                                           cudaStream_t stream) {
  if (rows == 0) return;
  launch_checking_labels(labels, classes, ignore_index, stream, [&](unsigned long long* flag) {
    launch_rows(CrossEntropyBackwardLabels<T>{probs, labels, grad_loss, grad_logits, classes,
                                              ignore_index, flag},
                rows, classes, stream);
  });
}

template <typename T>
void softmax_cross_entropy_backward_probabilities(const T* probs, const T* target,
                                                  const T* grad_loss, T* grad_logits,
                                                  int64_t rows, int64_t classes,
                                                  cudaStream_t stream) {
  launch_rows(CrossEntropyBackwardProbabilities<T>{probs, target, grad_loss, grad_logits, classes},
              rows, classes, stream);
}

#define AXONIC_INSTANTIATE_SOFTMAX(T)                                                          \
  template void softmax_forward<T>(const T*, T*, int64_t, int64_t, bool, cudaStream_t);        \
  template void softmax_backward<T>(const T*, const T*, T*, int64_t, int64_t, bool,            \
                                    cudaStream_t);                                             \
  template void softmax_cross_entropy_forward_labels<T>(const T*, const int64_t*, T*, T*,      \
                                                        int64_t, int64_t, int64_t,             \
                                                        cudaStream_t);                         \
  template void softmax_cross_entropy_forward_probabilities<T>(const T*, const T*, T*, T*,     \
                                                               int64_t, int64_t, cudaStream_t); \
  template void softmax_cross_entropy_backward_labels<T>(const T*, const int64_t*, const T*,   \
                                                         T*, int64_t, int64_t, int64_t,        \
                                                         cudaStream_t);                        \
  template void softmax_cross_entropy_backward_probabilities<T>(const T*, const T*, const T*,  \
                                                                T*, int64_t, int64_t,          \
                                                                cudaStream_t);

AXONIC_INSTANTIATE_SOFTMAX(float)
AXONIC_INSTANTIATE_SOFTMAX(double)

#undef AXONIC_INSTANTIATE_SOFTMAX

}  // namespace axonic::cuda
