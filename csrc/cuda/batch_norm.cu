// Batch normalization on CUDA; contract in batch_norm.h, mathematics in
// cpu/batch_norm.cpp and backends/reference_batch_norm.py.
//
// Layout (N, C, S) row-major: channel c's M = N*S values are N runs of S contiguous
// values, C*S apart. Every kernel runs on a grid (C, parts): block (c, p) owns part p
// of channel c, the values k in [p*M/parts, (p+1)*M/parts) of its (sample, position)
// order, which its threads walk with stride blockDim (channel_walk: consecutive
// threads touch consecutive addresses within a run, and no division per step). One
// part per channel when the channels alone fill the GPU; a channel is split into up
// to M/kMinPartValues parts when there are few channels (C = 3, or a BatchNorm1d of
// (N, 1)) so that a huge channel still spreads over kTargetBlocks blocks.
//
// Reductions are in double, with no atomics: each block sums its part (threads, then
// a shared-memory tree in a fixed order) into a partial per (c, p) in stream-ordered
// scratch; the next kernel's blocks each add up their channel's partials in the same
// fixed order, so every block of a channel sees bit-identical statistics and the
// result does not depend on scheduling. Training (three kernels, x read three times):
//   1. partial sums of x                           -> mean = sum / M
//   2. partial sums of (x - mean)^2                -> var = sum / M (biased)
//   3. invstd = 1/sqrt(var + eps); block (c, 0) writes save_mean, save_invstd and
//      the running buffers (unbiased variance var * M / (M - 1)); every block writes
//      out = x * scale + shift for its part (scale = invstd w, shift = b - mean scale)
// Two passes in double, as the CPU kernel, so a channel mean of 1e4 with unit variance
// loses nothing to cancellation in float32 or float64.
// Backward (two kernels): partial sums of g and g (x - mean); then grad_bias =
// sum(g), grad_weight = sum(g xhat) from block (c, 0) and, when wanted,
// grad_in = w invstd (g - sum(g)/M - (x - mean) invstd sum(g xhat)/M) from every block.
// Evaluation is kernel 3 with the running statistics, in one launch.
// NaN or inf in a channel spreads to that channel's statistics and outputs only.
#include "cuda/batch_norm.h"

#include <algorithm>
#include <cmath>

#include "cuda/runtime.cuh"
#include "cuda/stream_scratch.cuh"

namespace axonic::cuda {

namespace {

constexpr int kThreads = 256;              // a power of two (block_sum's tree)
constexpr int64_t kTargetBlocks = 1024;    // a few resident waves of a large GPU
constexpr int64_t kMinPartValues = 4096;   // 16 values per thread at least

// The launch geometry shared by a call's kernels.
struct ChannelGrid {
  int64_t n, channels, s;
  int64_t parts;

  __host__ __device__ int64_t values() const { return n * s; }  // M, per channel
};

ChannelGrid channel_grid(int64_t n, int64_t c, int64_t s) {
  const int64_t m = n * s;
  const int64_t wanted = (kTargetBlocks + c - 1) / c;
  const int64_t most = (m + kMinPartValues - 1) / kMinPartValues;
  return {n, c, s, std::max<int64_t>(1, std::min(wanted, most))};
}

// Two tables of per-(channel, part) partial sums, [c * parts + p], in scratch that
// lives until the call's kernels have run.
class PartialSums {
 public:
  PartialSums(const ChannelGrid& g, cudaStream_t stream)
      : size_(g.channels * g.parts), scratch_(2 * size_ * sizeof(double), stream) {}
  double* first() const { return scratch_.get<double>(); }
  double* second() const { return first() + size_; }

 private:
  int64_t size_;
  StreamScratch scratch_;
};

dim3 grid_of(const ChannelGrid& g, int64_t parts) {
  return dim3(static_cast<unsigned>(g.channels), static_cast<unsigned>(parts));
}

// f(offset) for every value of this block's part of channel blockIdx.x, offset being
// the value's index in x (N, C, S); thread t takes values t, t + blockDim.x, ...
template <typename F>
__device__ void channel_walk(const ChannelGrid& g, const F& f) {
  const int64_t c = blockIdx.x, part = blockIdx.y, m = g.values();
  const int64_t end = m * (part + 1) / g.parts;
  int64_t k = m * part / g.parts + threadIdx.x;
  if (k >= end) return;
  const int64_t step = blockDim.x, run_gap = (g.channels - 1) * g.s;
  int64_t position = k % g.s;
  int64_t offset = (k / g.s * g.channels + c) * g.s + position;
  // k + step is step / S samples and step % S positions further, plus one sample
  // (a jump over the other channels' runs) when the position wraps.
  const int64_t step_position = step % g.s;
  const int64_t step_offset = step / g.s * g.channels * g.s + step_position;
  for (; k < end; k += step) {
    f(offset);
    position += step_position;
    offset += step_offset;
    if (position >= g.s) {
      position -= g.s;
      offset += run_gap;
    }
  }
}

// The sum of every thread's v, returned to all threads, in a fixed order. `shared`
// holds blockDim.x doubles (a power of two).
__device__ double block_sum(double v, double* shared) {
  shared[threadIdx.x] = v;
  __syncthreads();
  for (unsigned width = blockDim.x / 2; width > 0; width /= 2) {
    if (threadIdx.x < width) shared[threadIdx.x] += shared[threadIdx.x + width];
    __syncthreads();
  }
  const double total = shared[0];
  __syncthreads();  // shared is free for the next sum
  return total;
}

// The sum of channel blockIdx.x's per-part partials, identical in every block.
__device__ double channel_total(const double* partials, const ChannelGrid& g, double* shared) {
  const double* row = partials + blockIdx.x * g.parts;
  double v = 0.0;
  for (int64_t p = threadIdx.x; p < g.parts; p += blockDim.x) v += row[p];
  return block_sum(v, shared);
}

// This block's part of channel blockIdx.x of out = x * scale + shift.
template <typename T>
__device__ void affine_part(const T* x, T* out, const ChannelGrid& g, double scale,
                            double shift) {
  channel_walk(g, [&](int64_t at) {
    out[at] = static_cast<T>(static_cast<double>(x[at]) * scale + shift);
  });
}

template <typename T>
__device__ double value_or(const T* p, double fallback) {
  return p == nullptr ? fallback : static_cast<double>(p[blockIdx.x]);
}

// partials[c * parts + p] = sum of x over part p of channel c.
template <typename T>
__global__ void sum_kernel(const T* x, ChannelGrid g, double* partials) {
  __shared__ double shared[kThreads];
  double sum = 0.0;
  channel_walk(g, [&](int64_t at) { sum += static_cast<double>(x[at]); });
  sum = block_sum(sum, shared);
  if (threadIdx.x == 0) partials[blockIdx.x * g.parts + blockIdx.y] = sum;
}

// squares[c * parts + p] = sum of (x - mean_c)^2 over part p of channel c.
template <typename T>
__global__ void centered_square_sum_kernel(const T* x, ChannelGrid g, const double* sums,
                                           double* squares) {
  __shared__ double shared[kThreads];
  const double mean = channel_total(sums, g, shared) / static_cast<double>(g.values());
  double sum = 0.0;
  channel_walk(g, [&](int64_t at) {
    const double d = static_cast<double>(x[at]) - mean;
    sum += d * d;
  });
  sum = block_sum(sum, shared);
  if (threadIdx.x == 0) squares[blockIdx.x * g.parts + blockIdx.y] = sum;
}

template <typename T>
struct TrainOutputs {
  T* out;
  T* save_mean;
  T* save_invstd;
  T* running_mean;
  T* running_var;
};

template <typename T>
__global__ void normalize_train_kernel(const T* x, const T* weight, const T* bias,
                                       TrainOutputs<T> o, ChannelGrid g, double momentum,
                                       double eps, const double* sums, const double* squares) {
  __shared__ double shared[kThreads];
  const auto m = static_cast<double>(g.values());
  const double mean = channel_total(sums, g, shared) / m;
  const double var = channel_total(squares, g, shared) / m;
  const double invstd = 1.0 / std::sqrt(var + eps);
  const int64_t c = blockIdx.x;
  if (blockIdx.y == 0 && threadIdx.x == 0) {
    o.save_mean[c] = static_cast<T>(mean);
    o.save_invstd[c] = static_cast<T>(invstd);
    if (o.running_mean != nullptr)
      o.running_mean[c] = static_cast<T>((1.0 - momentum) * o.running_mean[c] + momentum * mean);
    if (o.running_var != nullptr) {
      const double unbiased = var * m / (m - 1.0);
      o.running_var[c] = static_cast<T>((1.0 - momentum) * o.running_var[c] + momentum * unbiased);
    }
  }
  const double scale = invstd * value_or(weight, 1.0);
  affine_part(x, o.out, g, scale, value_or(bias, 0.0) - mean * scale);
}

template <typename T>
__global__ void normalize_eval_kernel(const T* x, const T* weight, const T* bias,
                                      const T* running_mean, const T* running_var, T* out,
                                      ChannelGrid g, double eps) {
  const int64_t c = blockIdx.x;
  const double invstd = 1.0 / std::sqrt(static_cast<double>(running_var[c]) + eps);
  const double scale = invstd * value_or(weight, 1.0);
  const double shift = value_or(bias, 0.0) - static_cast<double>(running_mean[c]) * scale;
  affine_part(x, out, g, scale, shift);
}

// sums_g / sums_gc[c * parts + p] = sum of g / of g (x - mean_c) over part p of channel c.
template <typename T>
__global__ void gradient_sum_kernel(const T* grad_out, const T* x, const T* save_mean,
                                    ChannelGrid g, double* sums_g, double* sums_gc) {
  __shared__ double shared[kThreads];
  const double mean = static_cast<double>(save_mean[blockIdx.x]);
  double sum_g = 0.0, sum_gc = 0.0;
  channel_walk(g, [&](int64_t at) {
    const double gv = static_cast<double>(grad_out[at]);
    sum_g += gv;
    sum_gc += gv * (static_cast<double>(x[at]) - mean);
  });
  sum_g = block_sum(sum_g, shared);
  sum_gc = block_sum(sum_gc, shared);
  if (threadIdx.x == 0) {
    sums_g[blockIdx.x * g.parts + blockIdx.y] = sum_g;
    sums_gc[blockIdx.x * g.parts + blockIdx.y] = sum_gc;
  }
}

template <typename T>
struct BackwardOutputs {
  T* grad_in;
  T* grad_weight;
  T* grad_bias;
};

template <typename T>
__global__ void grad_input_kernel(const T* grad_out, const T* x, const T* weight,
                                  const T* save_mean, const T* save_invstd,
                                  BackwardOutputs<T> o, ChannelGrid g, const double* sums_g,
                                  const double* sums_gc) {
  __shared__ double shared[kThreads];
  const int64_t c = blockIdx.x;
  const double mean = static_cast<double>(save_mean[c]);
  const double invstd = static_cast<double>(save_invstd[c]);
  const double sum_g = channel_total(sums_g, g, shared);
  const double sum_g_xhat = channel_total(sums_gc, g, shared) * invstd;
  if (blockIdx.y == 0 && threadIdx.x == 0) {
    if (o.grad_bias != nullptr) o.grad_bias[c] = static_cast<T>(sum_g);
    if (o.grad_weight != nullptr) o.grad_weight[c] = static_cast<T>(sum_g_xhat);
  }
  if (o.grad_in == nullptr) return;
  const auto m = static_cast<double>(g.values());
  const double k = value_or(weight, 1.0) * invstd;
  const double mean_g = sum_g / m;
  const double c2 = invstd * sum_g_xhat / m;
  channel_walk(g, [&](int64_t at) {
    const double centered = static_cast<double>(x[at]) - mean;
    o.grad_in[at] =
        static_cast<T>(k * (static_cast<double>(grad_out[at]) - mean_g - centered * c2));
  });
}

}  // namespace

template <typename T>
void batch_norm_forward_train(const T* x, const T* weight, const T* bias, T* running_mean,
                              T* running_var, T* out, T* save_mean, T* save_invstd, int64_t n,
                              int64_t c, int64_t s, double momentum, double eps,
                              cudaStream_t stream) {
  if (n * c * s == 0) return;
  const ChannelGrid g = channel_grid(n, c, s);
  const PartialSums sums(g, stream);  // of x, then of (x - mean)^2
  const dim3 grid = grid_of(g, g.parts);
  AXONIC_LAUNCH((sum_kernel<T>), grid, dim3(kThreads), 0, stream, x, g, sums.first());
  AXONIC_LAUNCH((centered_square_sum_kernel<T>), grid, dim3(kThreads), 0, stream, x, g,
                sums.first(), sums.second());
  const TrainOutputs<T> outputs{out, save_mean, save_invstd, running_mean, running_var};
  AXONIC_LAUNCH((normalize_train_kernel<T>), grid, dim3(kThreads), 0, stream, x, weight, bias,
                outputs, g, momentum, eps, sums.first(), sums.second());
}

template <typename T>
void batch_norm_forward_eval(const T* x, const T* weight, const T* bias, const T* running_mean,
                             const T* running_var, T* out, int64_t n, int64_t c, int64_t s,
                             double eps, cudaStream_t stream) {
  if (n * c * s == 0) return;
  const ChannelGrid g = channel_grid(n, c, s);
  AXONIC_LAUNCH((normalize_eval_kernel<T>), grid_of(g, g.parts), dim3(kThreads), 0, stream, x,
                weight, bias, running_mean, running_var, out, g, eps);
}

template <typename T>
void batch_norm_backward(const T* grad_out, const T* x, const T* weight, const T* save_mean,
                         const T* save_invstd, T* grad_in, T* grad_weight, T* grad_bias,
                         int64_t n, int64_t c, int64_t s, cudaStream_t stream) {
  if (n * c * s == 0) return;
  const ChannelGrid g = channel_grid(n, c, s);
  const PartialSums sums(g, stream);  // of g, and of g (x - mean)
  AXONIC_LAUNCH((gradient_sum_kernel<T>), grid_of(g, g.parts), dim3(kThreads), 0, stream,
                grad_out, x, save_mean, g, sums.first(), sums.second());
  // Without grad_in only block (c, 0) has work: one block per channel.
  const BackwardOutputs<T> outputs{grad_in, grad_weight, grad_bias};
  AXONIC_LAUNCH((grad_input_kernel<T>), grid_of(g, grad_in != nullptr ? g.parts : 1),
                dim3(kThreads), 0, stream, grad_out, x, weight, save_mean, save_invstd, outputs,
                g, sums.first(), sums.second());
}

#define AXONIC_INSTANTIATE_BATCH_NORM(T)                                                       \
  template void batch_norm_forward_train<T>(const T*, const T*, const T*, T*, T*, T*, T*, T*, \
                                            int64_t, int64_t, int64_t, double, double,        \
                                            cudaStream_t);                                    \
  template void batch_norm_forward_eval<T>(const T*, const T*, const T*, const T*, const T*,  \
                                           T*, int64_t, int64_t, int64_t, double,             \
                                           cudaStream_t);                                     \
  template void batch_norm_backward<T>(const T*, const T*, const T*, const T*, const T*, T*,  \
                                       T*, T*, int64_t, int64_t, int64_t, cudaStream_t);

AXONIC_INSTANTIATE_BATCH_NORM(float)
AXONIC_INSTANTIATE_BATCH_NORM(double)

#undef AXONIC_INSTANTIATE_BATCH_NORM

}  // namespace axonic::cuda
