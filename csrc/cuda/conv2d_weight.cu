// 2-D convolution on the GPU, backward weight and bias, and the combined backward;
// contract in conv2d.h. Forward and backward input are in conv2d.cu, the tile machinery
// in conv2d_tiles.cuh.
//
// Backward weight is an implicit GEMM per group whose reduction runs over the pixels:
//   grad_weight_g (C_out/G x C_in/G kH kW) = grad_out_g (C_out/G x N Ho Wo) @ cols^T
// with cols the im2col matrix of the forward pass, gathered from x on the fly (zero in
// the padding). The output is small (C_out x C_in/G kH kW) and the reduction long (N Ho
// Wo), so the reduction is split over the grid (split-K): split s sums its own range of
// pixel slices and writes a partial grad_weight to scratch memory; a second kernel adds
// the partials in split order. Deterministic (no floating-point atomics, a fixed order),
// at the cost of splits x |grad_weight| of scratch (capped at kMaxPartialBytes). The
// number of splits gives about two blocks per multiprocessor (as many as are resident),
// with at least kMinSlicesPerSplit slices of 16 pixels each; one split writes
// grad_weight directly.
//
// Each block decodes its BN grad_weight columns k = (c, i, j) once into a shared table
// (offset in x, tap row and column), and each 16-pixel slice into a double-buffered
// table (image offsets in grad_out and x, the window's corner) two slices ahead, so
// the copies do no divisions.
//
// The bias gradient sums each channel's N x Ho x Wo values of grad_out in double: the
// (channel, chunk) blocks of bias_partial_kernel each reduce a chunk in a fixed tree,
// and bias_finish_kernel adds a channel's chunks in order. Deterministic again.
#include <algorithm>

#include "cuda/conv2d.h"
#include "cuda/conv2d_tiles.cuh"
#include "cuda/runtime.cuh"
#include "cuda/stream_scratch.cuh"

namespace axonic::cuda {

using namespace conv_detail;

namespace {

constexpr int64_t kMinSlicesPerSplit = 16;
constexpr int64_t kMaxPartialBytes = int64_t{256} << 20;

struct WeightGemm {
  ConvWindow win;
  int m;  // C_out / G: grad_weight rows per group
  int n;  // C_in / G kH kW: grad_weight columns
  int channels_per_group;  // C_in / G
  int in_h, in_w;
  int64_t x_image;  // elements per image of x
  int out_h, out_w;
  int64_t grad_out_image;  // elements per image of grad_out
  int splits, slices_per_split;  // the reduction split into ranges of 16-pixel slices
  int64_t split_stride;          // elements between the splits' partial sums
};

template <class Tl, typename T>
__global__ void __launch_bounds__(Tl::THREADS, Tl::MIN_BLOCKS)
    weight_gemm_kernel(const T* __restrict__ grad_out, const T* __restrict__ x,
                       T* __restrict__ dst, WeightGemm p) {
  constexpr int BM = Tl::BM, BN = Tl::BN, BK = Tl::BK, TM = Tl::TM, TN = Tl::TN;
  constexpr int THREADS = Tl::THREADS, SA = Tl::SA, SB = Tl::SB;
  constexpr int A_COPIES = BM * BK / THREADS, B_COPIES = BN * BK / THREADS;
  constexpr int STEP = THREADS / BK;  // rows (A) or columns (B) between a thread's copies
  __shared__ __align__(16) T As[2][BK * SA];
  __shared__ __align__(16) T Bs[2][BK * SB];
  // The block's grad_weight columns: offset in x, tap row and column.
  __shared__ int col_src[BN], col_row[BN], col_col[BN];
  // The decoded pixel slice: image offsets (grad_out -1 past the pixels) and the
  // window's top-left corner in x.
  __shared__ int64_t pix_grad_out[2][BK], pix_x[2][BK];
  __shared__ int pix_row[2][BK], pix_col[2][BK];

  const int tid = static_cast<int>(threadIdx.x);
  const int tm = tid / Tl::THREADS_N, tn = tid % Tl::THREADS_N;  // the epilogue's
  const int in_plane = p.in_h * p.in_w, out_plane = p.out_h * p.out_w;
  const int taps = p.win.kernel_h * p.win.kernel_w;
  const int pixels = p.win.batch * out_plane;
  const int all_slices = (pixels + BK - 1) / BK;
  const int m0 = static_cast<int>(blockIdx.y) * BM, n0 = static_cast<int>(blockIdx.x) * BN;
  for (int z = static_cast<int>(blockIdx.z); z < p.win.groups * p.splits;
       z += static_cast<int>(gridDim.z)) {
    __syncthreads();  // the previous product's readers of the shared tables are done
    const int group = z / p.splits, split = z % p.splits;
    const int first = split * p.slices_per_split;
    const int slices = all_slices - first < p.slices_per_split ? all_slices - first
                                                                : p.slices_per_split;

    if (tid < BN) {
      const int k = n0 + tid;
      if (k < p.n) {
        const int c = k / taps, i = k % taps / p.win.kernel_w, j = k % taps % p.win.kernel_w;
        col_row[tid] = i * p.win.dilation_h;
        col_col[tid] = j * p.win.dilation_w;
        col_src[tid] = c * in_plane + col_row[tid] * p.in_w + col_col[tid];
      } else {
        col_src[tid] = 0;
        col_row[tid] = col_col[tid] = kNowhere;
      }
    }
    // Lane `lane` of pixel slice `first + slice` into table `buf`.
    const auto decode_slice = [&](int buf, int slice, int lane) {
      const int pixel = (first + slice) * BK + lane;
      if (pixel < pixels) {
        const int image = pixel / out_plane, oh = pixel % out_plane / p.out_w;
        const int ow = pixel % out_plane % p.out_w;
        const int row0 = oh * p.win.stride_h - p.win.pad_h;
        const int col0 = ow * p.win.stride_w - p.win.pad_w;
        pix_grad_out[buf][lane] = image * p.grad_out_image +
                                  static_cast<int64_t>(group) * p.m * out_plane + oh * p.out_w + ow;
        pix_x[buf][lane] = image * p.x_image +
                           static_cast<int64_t>(group) * p.channels_per_group * in_plane +
                           static_cast<int64_t>(row0) * p.in_w + col0;
        pix_row[buf][lane] = row0;
        pix_col[buf][lane] = col0;
      } else {
        pix_grad_out[buf][lane] = -1;
        pix_x[buf][lane] = 0;
        pix_row[buf][lane] = pix_col[buf][lane] = kNowhere;
      }
    };
    T a_copy[A_COPIES], b_copy[B_COPIES];
    const int lane = tid % BK;  // the pixel of this thread's copies
    const auto load = [&](int buf) {
      const int64_t go = pix_grad_out[buf][lane];
#pragma unroll
      for (int r = 0; r < A_COPIES; ++r) {
        const int o = m0 + tid / BK + r * STEP;
        a_copy[r] = go >= 0 && o < p.m ? grad_out[go + static_cast<int64_t>(o) * out_plane] : T(0);
      }
      const int64_t xb = pix_x[buf][lane];
      const int row0 = pix_row[buf][lane], col0 = pix_col[buf][lane];
#pragma unroll
      for (int r = 0; r < B_COPIES; ++r) {
        const int c = tid / BK + r * STEP;
        const int ih = row0 + col_row[c], iw = col0 + col_col[c];
        const bool inside = static_cast<unsigned>(ih) < static_cast<unsigned>(p.in_h) &&
                            static_cast<unsigned>(iw) < static_cast<unsigned>(p.in_w);
        b_copy[r] = inside ? x[xb + col_src[c]] : T(0);
      }
    };
    const auto store = [&](int buf) {
#pragma unroll
      for (int r = 0; r < A_COPIES; ++r) As[buf][lane * SA + tid / BK + r * STEP] = a_copy[r];
#pragma unroll
      for (int r = 0; r < B_COPIES; ++r) Bs[buf][lane * SB + tid / BK + r * STEP] = b_copy[r];
    };

    T acc[TM][TN];
    accumulate_slices<Tl>(slices, As, Bs, decode_slice, load, store, acc);

    T* out = dst + split * p.split_stride + static_cast<int64_t>(group) * p.m * p.n;
#pragma unroll
    for (int i = 0; i < TM; ++i) {
      const int o = m0 + tile_index<BM, TM>(i, tm);
      if (o >= p.m) continue;
#pragma unroll
      for (int j = 0; j < TN; ++j) {
        const int k = n0 + tile_index<BN, TN>(j, tn);
        if (k < p.n) out[static_cast<int64_t>(o) * p.n + k] = acc[i][j];
      }
    }
  }
}

// out[i] = sum over s of partial[s * stride + i], s in order.
template <typename T>
__global__ void add_partials_kernel(const T* __restrict__ partial, T* __restrict__ out,
                                    int64_t count, int splits, int64_t stride) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    T sum = partial[i];
    for (int s = 1; s < splits; ++s) sum += partial[s * stride + i];
    out[i] = sum;
  }
}

constexpr int kBiasThreads = 256;

// partial[c * chunks + chunk] = the sum, in double, of chunk `chunk` (per_chunk values)
// of channel c's count = batch x plane values of grad_out (plane >= 1).
template <typename T>
__global__ void __launch_bounds__(kBiasThreads)
    bias_partial_kernel(const T* __restrict__ grad_out, double* __restrict__ partial,
                        int64_t count, int64_t channels, int64_t plane, int64_t per_chunk) {
  __shared__ double sums[kBiasThreads];
  const int tid = static_cast<int>(threadIdx.x);
  const int64_t c = blockIdx.x, chunk = blockIdx.y;
  const int64_t begin = chunk * per_chunk;
  const int64_t end = begin + per_chunk < count ? begin + per_chunk : count;
  double sum = 0.0;
  // Element e = n * plane + i of the channel, stepped by kBiasThreads without dividing.
  int64_t e = begin + tid, n = e / plane, i = e % plane;
  const int64_t step_n = kBiasThreads / plane, step_i = kBiasThreads % plane;
  for (; e < end; e += kBiasThreads) {
    sum += static_cast<double>(grad_out[(n * channels + c) * plane + i]);
    n += step_n;
    i += step_i;
    if (i >= plane) {
      i -= plane;
      ++n;
    }
  }
  sums[tid] = sum;
  __syncthreads();
  for (int half = kBiasThreads / 2; half > 0; half /= 2) {
    if (tid < half) sums[tid] += sums[tid + half];
    __syncthreads();
  }
  if (tid == 0) partial[c * gridDim.y + chunk] = sums[0];
}

template <typename T>
__global__ void bias_finish_kernel(const double* __restrict__ partial, T* __restrict__ grad_bias,
                                   int64_t channels, int64_t chunks) {
  const int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (c >= channels) return;
  double sum = 0.0;
  for (int64_t k = 0; k < chunks; ++k) sum += partial[c * chunks + k];
  grad_bias[c] = static_cast<T>(sum);
}

}  // namespace

template <typename T>
void conv2d_backward_weight(const T* grad_out, const T* x, T* grad_weight,
                            const Conv2dGeometry& g, cudaStream_t stream) {
  const int64_t weights = g.out_channels * (g.in_channels / g.groups) * g.kernel_h * g.kernel_w;
  const int64_t pixels = g.batch * g.out_h * g.out_w;
  if (pixels == 0) {  // an empty sum
    AXONIC_CUDA_CHECK(cudaMemsetAsync(grad_weight, 0, weights * sizeof(T), stream));
    return;
  }
  WeightGemm p{};
  p.m = static_cast<int>(g.out_channels / g.groups);
  p.channels_per_group = static_cast<int>(g.in_channels / g.groups);
  p.n = static_cast<int>(p.channels_per_group * g.kernel_h * g.kernel_w);
  p.win = conv_window(g);
  p.in_h = static_cast<int>(g.in_h);
  p.in_w = static_cast<int>(g.in_w);
  p.x_image = g.in_channels * g.in_h * g.in_w;
  p.out_h = static_cast<int>(g.out_h);
  p.out_w = static_cast<int>(g.out_w);
  p.grad_out_image = g.out_channels * g.out_h * g.out_w;

  const int sms = multiprocessor_count();
  const int64_t slices = (pixels + 15) / 16;
  const int64_t max_splits = std::max<int64_t>(1, slices / kMinSlicesPerSplit);
  // The tile as if the splits supplied the blocks, then as many splits as fill the GPU.
  const TileShape shape =
      choose_tile(p.m, p.n, g.groups * max_splits, sms, sizeof(T) == sizeof(double));
  with_tile(shape, [&](auto tile) {
    using Tl = decltype(tile);
    if constexpr (sizeof(T) == sizeof(double) && Tl::TM * Tl::TN > 16) {
      return;  // never chosen for float64 (choose_tile)
    } else {
      // Splits: about two blocks per multiprocessor, within the scratch budget.
      const int64_t tiles =
          (p.m + Tl::BM - 1) / Tl::BM * ((p.n + Tl::BN - 1) / Tl::BN) * g.groups;
      const int64_t affordable = kMaxPartialBytes / (weights * int64_t{sizeof(T)});
      const int64_t splits = std::max<int64_t>(
          1, std::min({max_splits, (2 * int64_t{sms} + tiles - 1) / tiles, affordable}));
      p.slices_per_split = static_cast<int>((slices + splits - 1) / splits);
      p.splits = static_cast<int>((slices + p.slices_per_split - 1) / p.slices_per_split);
      p.split_stride = p.splits > 1 ? weights : 0;
      StreamScratch partials(p.splits > 1 ? p.splits * weights * sizeof(T) : 0, stream);
      T* dst = p.splits > 1 ? partials.get<T>() : grad_weight;
      const int64_t z_count = g.groups * p.splits;
      const dim3 grid(blocks_for(p.n, Tl::BN), blocks_for(p.m, Tl::BM),
                      static_cast<unsigned>(std::min<int64_t>(z_count, kMaxGridZ)));
      AXONIC_LAUNCH((weight_gemm_kernel<Tl, T>), grid, dim3(Tl::THREADS), 0, stream, grad_out,
                    x, dst, p);
      if (p.splits > 1) {
        const dim3 blocks(blocks_for(std::min<int64_t>(weights, 1 << 20), 256));
        AXONIC_LAUNCH((add_partials_kernel<T>), blocks, dim3(256), 0, stream,
                      static_cast<const T*>(dst), grad_weight, weights, p.splits, p.split_stride);
      }
    }
  });
}

template <typename T>
void conv2d_backward_bias(const T* grad_out, T* grad_bias, int64_t batch, int64_t channels,
                          int64_t plane, cudaStream_t stream) {
  if (channels == 0) return;
  const int64_t count = batch * plane;  // values per channel
  // Chunks of whole block sweeps, about four blocks per multiprocessor in all.
  const int64_t target_chunks = std::max<int64_t>(1, 4 * multiprocessor_count() / channels);
  const int64_t sweeps = std::max<int64_t>(1, (count + kBiasThreads - 1) / kBiasThreads);
  const int64_t per_chunk = (sweeps + target_chunks - 1) / target_chunks * kBiasThreads;
  const int64_t chunks = std::max<int64_t>(1, (count + per_chunk - 1) / per_chunk);
  StreamScratch partial(channels * chunks * sizeof(double), stream);
  AXONIC_LAUNCH((bias_partial_kernel<T>), dim3(static_cast<unsigned>(channels),
                                               static_cast<unsigned>(chunks)),
                dim3(kBiasThreads), 0, stream, grad_out, partial.get<double>(), count, channels,
                std::max<int64_t>(plane, 1), per_chunk);
  AXONIC_LAUNCH((bias_finish_kernel<T>), dim3(blocks_for(channels, 256)), dim3(256), 0, stream,
                static_cast<const double*>(partial.get<double>()), grad_bias, channels, chunks);
}

template <typename T>
void conv2d_backward(const T* grad_out, const T* x, const T* weight, T* grad_in,
                     T* grad_weight, T* grad_bias, const Conv2dGeometry& g,
                     cudaStream_t stream) {
  if (grad_bias != nullptr)
    conv2d_backward_bias(grad_out, grad_bias, g.batch, g.out_channels, g.out_h * g.out_w,
                         stream);
  if (grad_weight != nullptr) conv2d_backward_weight(grad_out, x, grad_weight, g, stream);
  if (grad_in != nullptr) conv2d_backward_input(grad_out, weight, grad_in, g, stream);
}

#define AXONIC_INSTANTIATE_CONV2D_BACKWARD(T)                                                \
  template void conv2d_backward_weight<T>(const T*, const T*, T*, const Conv2dGeometry&,     \
                                          cudaStream_t);                                     \
  template void conv2d_backward_bias<T>(const T*, T*, int64_t, int64_t, int64_t,             \
                                        cudaStream_t);                                       \
  template void conv2d_backward<T>(const T*, const T*, const T*, T*, T*, T*,                 \
                                   const Conv2dGeometry&, cudaStream_t);

AXONIC_INSTANTIATE_CONV2D_BACKWARD(float)
AXONIC_INSTANTIATE_CONV2D_BACKWARD(double)

#undef AXONIC_INSTANTIATE_CONV2D_BACKWARD

}  // namespace axonic::cuda
