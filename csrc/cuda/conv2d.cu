// 2-D convolution on the GPU, forward and backward input; contract in conv2d.h. The
// backward weight and bias passes are in conv2d_weight.cu, the tile machinery both
// share in conv2d_tiles.cuh.
//
// Both passes are one implicit GEMM per group (gather_gemm_kernel): the column matrix of
// im2col is never built; each block gathers its B tile straight from the source tensor,
// zero where a tap falls in the padding.
//
//   forward         out_g (C_out/G x N Ho Wo) = weight_g (C_out/G x C_in/G kH kW) @ cols
//                   B[(c, i, j)][(n, oh, ow)] = x[n, c, oh sh - ph + i dh, ow sw - pw + j dw]
//   backward input  grad_in_g (C_in/G x N H W) = weight_g^T @ grad_out columns, as a
//                   gather: input pixel (ih, iw) sums weight[o, c, i, j] grad_out[n, o, oh,
//                   ow] over the taps with ih = oh sh - ph + i dh (same for w). With a
//                   stride, only the taps with (ih + ph - i dh) divisible by sh reach a
//                   given ih, and which ones depends only on ih mod sh: the input pixels
//                   are split into sh x sw phases (ih = rh + sh a), each its own GEMM over
//                   just its taps (phase_taps), so no multiply-add is spent on a zero.
//                   Every grad_in element is written once, by one thread: deterministic,
//                   no atomics, and grad_in needs no zeroing first.
//
// A block's slice of K (16 values of k = (channel q, tap t)) is decoded once into a
// shared table of source offsets, tap rows and columns and weight offsets, double
// buffered and decoded two slices ahead, so the copies do no divisions. Each thread's B
// copies always serve one pixel (one column of the tile), decoded once per block.
//
// Grid: x = pixel tiles (N), y = row tiles (M), z = groups x phases (looped when past the
// grid's z limit). float32 and float64 share the kernels; float64 takes tiles of at most
// 64 x 64 (conv2d_tiles.cuh choose_tile).
#include "cuda/conv2d.h"

#include <algorithm>

#include "cuda/conv2d_tiles.cuh"
#include "cuda/runtime.cuh"

namespace axonic::cuda {

using namespace conv_detail;

namespace {


// One gathered GEMM per (group, phase). "Source" is the tensor B is gathered from (x
// forward, grad_out backward), "destination" the one written (out, grad_in).
struct GatherGemm {
  ConvWindow win;
  int m;        // GEMM rows per group: C_out / G (forward), C_in / G (backward)
  int q_count;  // source channels per group, summed over: C_in / G, C_out / G
  int src_h, src_w;
  int64_t src_image;  // elements per source image
  int dst_h, dst_w;
  int64_t dst_image;
  int64_t w_group;  // weight elements per group
  int w_m_stride;   // weight elements from GEMM row m to m + 1
  int w_q_stride;   // weight elements from source channel q to q + 1
  int phases_h, phases_w;  // 1 x 1 forward, stride_h x stride_w backward
};

__device__ __forceinline__ int ceil_div_positive(int a, int b) {
  return a > 0 ? (a + b - 1) / b : 0;
}

template <class Tl, bool BACKWARD, typename T>
__global__ void __launch_bounds__(Tl::THREADS, Tl::MIN_BLOCKS)
    gather_gemm_kernel(const T* __restrict__ src, const T* __restrict__ weight,
                       const T* __restrict__ bias, T* __restrict__ dst, GatherGemm p) {
  constexpr int BM = Tl::BM, BN = Tl::BN, BK = Tl::BK, TM = Tl::TM, TN = Tl::TN;
  constexpr int THREADS = Tl::THREADS, SA = Tl::SA, SB = Tl::SB;
  constexpr int A_COPIES = BM * BK / THREADS, B_COPIES = BN * BK / THREADS;
  constexpr int A_STEP = THREADS / BK;  // rows m between a thread's A copies
  constexpr int B_STEP = THREADS / BN;  // k between a thread's B copies
  __shared__ __align__(16) T As[2][BK * SA];
  __shared__ __align__(16) T Bs[2][BK * SB];
  // The decoded K slice: source offset, tap row and column offsets, weight offset (-1
  // past K).
  __shared__ int tap_src[2][BK], tap_row[2][BK], tap_col[2][BK], tap_weight[2][BK];

  const int tid = static_cast<int>(threadIdx.x);
  const int tm = tid / Tl::THREADS_N, tn = tid % Tl::THREADS_N;  // the epilogue's
  const int src_plane = p.src_h * p.src_w, dst_plane = p.dst_h * p.dst_w;
  const int phases = p.phases_h * p.phases_w;
  for (int z = static_cast<int>(blockIdx.z); z < p.win.groups * phases;
       z += static_cast<int>(gridDim.z)) {
    __syncthreads();  // the previous product's readers of the shared tables are done
    const int group = z / phases, rh = z % phases / p.phases_w, rw = z % phases % p.phases_w;
    AxisTaps th, tw;
    int grid_h, grid_w;  // the pixel grid of one image: out (forward), this phase of grad_in
    if constexpr (BACKWARD) {
      th = phase_taps(p.win.kernel_h, p.win.stride_h, p.win.pad_h, p.win.dilation_h, rh);
      tw = phase_taps(p.win.kernel_w, p.win.stride_w, p.win.pad_w, p.win.dilation_w, rw);
      grid_h = ceil_div_positive(p.dst_h - rh, p.win.stride_h);
      grid_w = ceil_div_positive(p.dst_w - rw, p.win.stride_w);
    } else {
      th = forward_taps(p.win.kernel_h, p.win.dilation_h);
      tw = forward_taps(p.win.kernel_w, p.win.dilation_w);
      grid_h = p.dst_h;
      grid_w = p.dst_w;
    }
    const int grid_plane = grid_h * grid_w, n_total = p.win.batch * grid_plane;
    const int n0 = static_cast<int>(blockIdx.x) * BN, m0 = static_cast<int>(blockIdx.y) * BM;
    if (n0 >= n_total) continue;  // a phase with fewer pixels than the largest
    const int taps = th.count * tw.count, k_total = p.q_count * taps;

    // The pixel whose B elements this thread copies (tile column tid % BN).
    int row0 = kNowhere, col0 = kNowhere;
    int64_t src_pixel = 0;
    if (const int n = n0 + tid % BN; n < n_total) {
      const int image = n / grid_plane, a = n % grid_plane / grid_w, b = n % grid_plane % grid_w;
      row0 = BACKWARD ? a : a * p.win.stride_h - p.win.pad_h;
      col0 = BACKWARD ? b : b * p.win.stride_w - p.win.pad_w;
      src_pixel = image * p.src_image + static_cast<int64_t>(group) * p.q_count * src_plane +
                  static_cast<int64_t>(row0) * p.src_w + col0;
    }
    const T* w = weight + group * p.w_group;

    // Lane `lane` of K slice `slice` into table `buf`.
    const auto decode = [&](int buf, int slice, int lane) {
      const int k = slice * BK + lane;
      if (k < k_total) {
        const int q = k / taps, t = k % taps, t_h = t / tw.count, t_w = t % tw.count;
        const int di = th.offset(t_h), dj = tw.offset(t_w);
        tap_src[buf][lane] = q * src_plane + di * p.src_w + dj;
        tap_row[buf][lane] = di;
        tap_col[buf][lane] = dj;
        tap_weight[buf][lane] = q * p.w_q_stride + th.index(t_h) * p.win.kernel_w + tw.index(t_w);
      } else {
        tap_src[buf][lane] = 0;
        tap_row[buf][lane] = kNowhere;
        tap_col[buf][lane] = kNowhere;
        tap_weight[buf][lane] = -1;
      }
    };
    T a_copy[A_COPIES], b_copy[B_COPIES];
    const auto load = [&](int buf) {
      const int w_offset = tap_weight[buf][tid % BK];
#pragma unroll
      for (int r = 0; r < A_COPIES; ++r) {
        const int m = m0 + tid / BK + r * A_STEP;
        a_copy[r] = w_offset >= 0 && m < p.m ? w[static_cast<int64_t>(m) * p.w_m_stride + w_offset]
                                             : T(0);
      }
#pragma unroll
      for (int r = 0; r < B_COPIES; ++r) {
        const int k = tid / BN + r * B_STEP;
        const int ih = row0 + tap_row[buf][k], iw = col0 + tap_col[buf][k];
        const bool inside = static_cast<unsigned>(ih) < static_cast<unsigned>(p.src_h) &&
                            static_cast<unsigned>(iw) < static_cast<unsigned>(p.src_w);
        b_copy[r] = inside ? src[src_pixel + tap_src[buf][k]] : T(0);
      }
    };
    const auto store = [&](int buf) {
#pragma unroll
      for (int r = 0; r < A_COPIES; ++r)
        As[buf][tid % BK * SA + tid / BK + r * A_STEP] = a_copy[r];
#pragma unroll
      for (int r = 0; r < B_COPIES; ++r)
        Bs[buf][(tid / BN + r * B_STEP) * SB + tid % BN] = b_copy[r];
    };

    T acc[TM][TN];
    accumulate_slices<Tl>((k_total + BK - 1) / BK, As, Bs, decode, load, store, acc);

#pragma unroll
    for (int j = 0; j < TN; ++j) {
      const int n = n0 + tile_index<BN, TN>(j, tn);
      if (n >= n_total) continue;
      const int image = n / grid_plane, a = n % grid_plane / grid_w, b = n % grid_plane % grid_w;
      const int row = BACKWARD ? rh + a * p.win.stride_h : a;
      const int col = BACKWARD ? rw + b * p.win.stride_w : b;
      T* out = dst + image * p.dst_image + static_cast<int64_t>(group) * p.m * dst_plane +
               static_cast<int64_t>(row) * p.dst_w + col;
#pragma unroll
      for (int i = 0; i < TM; ++i) {
        const int m = m0 + tile_index<BM, TM>(i, tm);
        if (m >= p.m) continue;
        T v = acc[i][j];
        if (!BACKWARD && bias != nullptr) v += bias[group * p.m + m];
        out[static_cast<int64_t>(m) * dst_plane] = v;
      }
    }
  }
}

template <bool BACKWARD, typename T>
void launch_gather_gemm(const T* src, const T* weight, const T* bias, T* dst,
                        const GatherGemm& p, int64_t pixels, cudaStream_t stream) {
  const int64_t z_count = int64_t{p.win.groups} * p.phases_h * p.phases_w;
  const TileShape shape = choose_tile(p.m, pixels, z_count, multiprocessor_count(),
                                      sizeof(T) == sizeof(double));
  with_tile(shape, [&](auto tile) {
    using Tl = decltype(tile);
    if constexpr (sizeof(T) == sizeof(double) && Tl::TM * Tl::TN > 16) {
      return;  // never chosen for float64 (choose_tile)
    } else {
      const dim3 grid(blocks_for(pixels, Tl::BN), blocks_for(p.m, Tl::BM),
                      static_cast<unsigned>(std::min<int64_t>(z_count, kMaxGridZ)));
      AXONIC_LAUNCH((gather_gemm_kernel<Tl, BACKWARD, T>), grid, dim3(Tl::THREADS), 0, stream,
                    src, weight, bias, dst, p);
    }
  });
}

// The forward (x -> out) or the backward input (grad_out -> grad_in) as a GatherGemm.
GatherGemm gather_params(const Conv2dGeometry& g, bool backward) {
  const int64_t taps = g.kernel_h * g.kernel_w;
  const int64_t per_group_in = g.in_channels / g.groups, per_group_out = g.out_channels / g.groups;
  GatherGemm p{};
  p.win = conv_window(g);
  p.m = static_cast<int>(backward ? per_group_in : per_group_out);
  p.q_count = static_cast<int>(backward ? per_group_out : per_group_in);
  p.src_h = static_cast<int>(backward ? g.out_h : g.in_h);
  p.src_w = static_cast<int>(backward ? g.out_w : g.in_w);
  p.dst_h = static_cast<int>(backward ? g.in_h : g.out_h);
  p.dst_w = static_cast<int>(backward ? g.in_w : g.out_w);
  p.src_image = (backward ? g.out_channels : g.in_channels) * p.src_h * p.src_w;
  p.dst_image = (backward ? g.in_channels : g.out_channels) * p.dst_h * p.dst_w;
  p.w_group = per_group_out * per_group_in * taps;
  // weight[o][c][i][j]: row m is o forward, c backward; the summed channel q the other.
  p.w_m_stride = static_cast<int>(backward ? taps : per_group_in * taps);
  p.w_q_stride = static_cast<int>(backward ? per_group_in * taps : taps);
  p.phases_h = backward ? static_cast<int>(g.stride_h) : 1;
  p.phases_w = backward ? static_cast<int>(g.stride_w) : 1;
  return p;
}

}  // namespace

bool conv2d_fits_int32(const Conv2dGeometry& g) {
  constexpr int64_t kLimit = int64_t{1} << 31;
  // Positions and tap offsets stay far from kNowhere (conv2d_tiles.cuh).
  constexpr int64_t kPositions = int64_t{1} << 28;
  const int64_t taps = g.kernel_h * g.kernel_w;
  return g.in_channels * g.in_h * g.in_w < kLimit &&
         g.out_channels * g.out_h * g.out_w < kLimit &&
         g.out_channels * (g.in_channels / g.groups) * taps < kLimit &&
         g.batch * g.in_h * g.in_w < kLimit && g.batch * g.out_h * g.out_w < kLimit &&
         g.in_h + 2 * g.pad_h + g.dilation_h * g.kernel_h + g.stride_h < kPositions &&
         g.in_w + 2 * g.pad_w + g.dilation_w * g.kernel_w + g.stride_w < kPositions &&
         g.groups * g.stride_h * g.stride_w < kLimit;
}

template <typename T>
void conv2d_forward(const T* x, const T* weight, const T* bias, T* out,
                    const Conv2dGeometry& g, cudaStream_t stream) {
  if (g.batch == 0) return;
  launch_gather_gemm<false>(x, weight, bias, out, gather_params(g, false),
                            g.batch * g.out_h * g.out_w, stream);
}

template <typename T>
void conv2d_backward_input(const T* grad_out, const T* weight, T* grad_in,
                           const Conv2dGeometry& g, cudaStream_t stream) {
  if (g.batch * g.in_channels * g.in_h * g.in_w == 0) return;
  // The largest phase: ceil(H / sh) x ceil(W / sw) pixels per image.
  const int64_t pixels = g.batch * ((g.in_h + g.stride_h - 1) / g.stride_h) *
                         ((g.in_w + g.stride_w - 1) / g.stride_w);
  launch_gather_gemm<true>(grad_out, weight, static_cast<const T*>(nullptr), grad_in,
                           gather_params(g, true), pixels, stream);
}

#define AXONIC_INSTANTIATE_CONV2D(T)                                                       \
  template void conv2d_forward<T>(const T*, const T*, const T*, T*, const Conv2dGeometry&, \
                                  cudaStream_t);                                           \
  template void conv2d_backward_input<T>(const T*, const T*, T*, const Conv2dGeometry&,    \
                                         cudaStream_t);

AXONIC_INSTANTIATE_CONV2D(float)
AXONIC_INSTANTIATE_CONV2D(double)

#undef AXONIC_INSTANTIATE_CONV2D

}  // namespace axonic::cuda
