// 2-D max and average pooling on the GPU: both forwards and the average backward;
// contract in pooling.h. Max backward is in pooling_max_backward.cu.
//
// Layout: NCHW, C-contiguous, viewed as planes = N * C independent planes. Output
// (oh, ow) pools the window whose top-left corner is (oh * stride_h - pad_h, ow *
// stride_w - pad_w); padding is never materialized.
//
// Forwards: one thread per output element (grid-stride over planes x out_h x out_w).
//   max      scans the window clipped to the input with the CPU's keep rule: keep v
//            when v > best or v is NaN, starting from best = -inf and the first
//            element's index, so NaN propagates (the last NaN wins), ties keep the first
//            maximum and an all -inf window gives its first element; a window with no
//            element inside gives -inf and -1.
//   average  sums the clipped window in double and divides by the size of the window
//            clipped to the padded input (count_include_pad) or by the number of input
//            elements it covers (0 when that is 0).
// Average backward is a gather, not a scatter: one thread per grad_in element sums
// grad_out / divisor over the outputs whose windows cover it (a row range and a column
// range, from the stride and kernel), in double. Every element is written once: no
// atomics, deterministic, and overlapping windows (stride < kernel) need nothing special.
#include "cuda/pooling.h"

#include "cuda/pooling_windows.cuh"
#include "cuda/runtime.cuh"

namespace axonic::cuda {

using namespace pool_detail;

namespace {

// The first and one-past-last input index of a dilated window along one axis, clipped
// to [0, size): first is a whole number of dilations past the (possibly negative) start.
struct DilatedRange {
  int begin, end;
};

__device__ __forceinline__ DilatedRange dilated_range(int start, int kernel, int dilation,
                                                     int size) {
  const int last = start + (kernel - 1) * dilation + 1;
  const int begin = start < 0 ? start + (-start + dilation - 1) / dilation * dilation : start;
  return {begin, last < size ? last : size};
}

template <typename T>
__global__ void __launch_bounds__(kPoolThreads)
    max_pool_forward_kernel(const T* __restrict__ x, T* __restrict__ out,
                            int64_t* __restrict__ argmax, PoolParams p) {
  for_each_plane_position(p.planes, p.out_plane, [&](int64_t plane, int position) {
    const int oh = position / p.out_w, ow = position % p.out_w;
    const DilatedRange rh =
        dilated_range(oh * p.stride_h - p.pad_h, p.kernel_h, p.dilation_h, p.in_h);
    const DilatedRange rw =
        dilated_range(ow * p.stride_w - p.pad_w, p.kernel_w, p.dilation_w, p.in_w);
    T best = -INFINITY;
    int best_index = -1;
    if (rh.begin < rh.end && rw.begin < rw.end) {
      const T* xp = x + plane * p.in_plane;
      best_index = rh.begin * p.in_w + rw.begin;
      for (int h = rh.begin; h < rh.end; h += p.dilation_h) {
        for (int w = rw.begin; w < rw.end; w += p.dilation_w) {
          const T v = xp[h * p.in_w + w];
          if (v > best || v != v) {
            best = v;
            best_index = h * p.in_w + w;
          }
        }
      }
    }
    const int64_t i = plane * p.out_plane + position;
    out[i] = best;
    argmax[i] = best_index;
  });
}

// The average window along one axis: [begin, end) inside the input and the size of the
// window clipped only to the padded input.
struct AvgRange {
  int begin, end, padded_size;
};

__device__ __forceinline__ AvgRange avg_range(int start, int kernel, int pad, int size) {
  const int padded_end = start + kernel < size + pad ? start + kernel : size + pad;
  return {start > 0 ? start : 0, padded_end < size ? padded_end : size, padded_end - start};
}

__device__ __forceinline__ double avg_divisor(const AvgRange& rh, const AvgRange& rw,
                                              bool count_include_pad) {
  if (count_include_pad) return static_cast<double>(rh.padded_size) * rw.padded_size;
  return static_cast<double>(rh.end - rh.begin) * (rw.end - rw.begin);
}

template <typename T>
__global__ void __launch_bounds__(kPoolThreads)
    avg_pool_forward_kernel(const T* __restrict__ x, T* __restrict__ out, PoolParams p,
                            bool count_include_pad) {
  for_each_plane_position(p.planes, p.out_plane, [&](int64_t plane, int position) {
    const int oh = position / p.out_w, ow = position % p.out_w;
    const AvgRange rh = avg_range(oh * p.stride_h - p.pad_h, p.kernel_h, p.pad_h, p.in_h);
    const AvgRange rw = avg_range(ow * p.stride_w - p.pad_w, p.kernel_w, p.pad_w, p.in_w);
    const double divisor = avg_divisor(rh, rw, count_include_pad);
    const T* xp = x + plane * p.in_plane;
    double sum = 0.0;
    for (int h = rh.begin; h < rh.end; ++h) {
      for (int w = rw.begin; w < rw.end; ++w) sum += static_cast<double>(xp[h * p.in_w + w]);
    }
    out[plane * p.out_plane + position] = divisor > 0 ? static_cast<T>(sum / divisor) : T(0);
  });
}

// [first, last] of the outputs along one axis whose (undilated) windows cover input
// index i: start = o * stride - pad <= i < start + kernel. Empty when first > last.
__device__ __forceinline__ void covering_outputs(int i, int kernel, int stride, int pad,
                                                 int out, int& first, int& last) {
  const int lowest = i + pad - kernel + 1;  // o * stride >= lowest
  first = lowest <= 0 ? 0 : (lowest + stride - 1) / stride;
  last = (i + pad) / stride;
  if (last > out - 1) last = out - 1;
}

template <typename T>
__global__ void __launch_bounds__(kPoolThreads)
    avg_pool_backward_kernel(const T* __restrict__ grad_out, T* __restrict__ grad_in,
                             PoolParams p, bool count_include_pad) {
  for_each_plane_position(p.planes, p.in_plane, [&](int64_t plane, int position) {
    const int h = position / p.in_w, w = position % p.in_w;
    int oh_first, oh_last, ow_first, ow_last;
    covering_outputs(h, p.kernel_h, p.stride_h, p.pad_h, p.out_h, oh_first, oh_last);
    covering_outputs(w, p.kernel_w, p.stride_w, p.pad_w, p.out_w, ow_first, ow_last);
    const T* gp = grad_out + plane * p.out_plane;
    double sum = 0.0;
    for (int oh = oh_first; oh <= oh_last; ++oh) {
      const AvgRange rh = avg_range(oh * p.stride_h - p.pad_h, p.kernel_h, p.pad_h, p.in_h);
      for (int ow = ow_first; ow <= ow_last; ++ow) {
        const AvgRange rw = avg_range(ow * p.stride_w - p.pad_w, p.kernel_w, p.pad_w, p.in_w);
        // Never 0 here: the window holds (h, w).
        sum += static_cast<double>(gp[oh * p.out_w + ow]) / avg_divisor(rh, rw, count_include_pad);
      }
    }
    grad_in[plane * p.in_plane + position] = static_cast<T>(sum);
  });
}

}  // namespace

bool pool2d_fits_int32(const Pool2dGeometry& g) {
  constexpr int64_t kLimit = int64_t{1} << 31, kPositions = int64_t{1} << 30;
  return g.in_h * g.in_w < kLimit && g.out_h * g.out_w < kLimit &&
         g.in_h + 2 * g.pad_h + g.dilation_h * g.kernel_h + g.stride_h < kPositions &&
         g.in_w + 2 * g.pad_w + g.dilation_w * g.kernel_w + g.stride_w < kPositions;
}

template <typename T>
void max_pool2d_forward(const T* x, T* out, int64_t* argmax, const Pool2dGeometry& g,
                        cudaStream_t stream) {
  const int64_t outputs = g.planes * g.out_h * g.out_w;
  if (outputs == 0) return;
  AXONIC_LAUNCH((max_pool_forward_kernel<T>), dim3(pool_blocks(outputs)), dim3(kPoolThreads), 0,
                stream, x, out, argmax, pool_params(g));
}

template <typename T>
void avg_pool2d_forward(const T* x, T* out, const Pool2dGeometry& g, bool count_include_pad,
                        cudaStream_t stream) {
  const int64_t outputs = g.planes * g.out_h * g.out_w;
  if (outputs == 0) return;
  AXONIC_LAUNCH((avg_pool_forward_kernel<T>), dim3(pool_blocks(outputs)), dim3(kPoolThreads), 0,
                stream, x, out, pool_params(g), count_include_pad);
}

template <typename T>
void avg_pool2d_backward(const T* grad_out, T* grad_in, const Pool2dGeometry& g,
                         bool count_include_pad, cudaStream_t stream) {
  const int64_t inputs = g.planes * g.in_h * g.in_w;
  if (inputs == 0) return;
  AXONIC_LAUNCH((avg_pool_backward_kernel<T>), dim3(pool_blocks(inputs)), dim3(kPoolThreads), 0,
                stream, grad_out, grad_in, pool_params(g), count_include_pad);
}

#define AXONIC_INSTANTIATE_POOLING(T)                                                         \
  template void max_pool2d_forward<T>(const T*, T*, int64_t*, const Pool2dGeometry&,          \
                                      cudaStream_t);                                          \
  template void avg_pool2d_forward<T>(const T*, T*, const Pool2dGeometry&, bool, cudaStream_t); \
  template void avg_pool2d_backward<T>(const T*, T*, const Pool2dGeometry&, bool, cudaStream_t);

AXONIC_INSTANTIATE_POOLING(float)
AXONIC_INSTANTIATE_POOLING(double)

#undef AXONIC_INSTANTIATE_POOLING

}  // namespace axonic::cuda
