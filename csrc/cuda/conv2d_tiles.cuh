// Building blocks of the implicit-GEMM convolution kernels (conv2d.cu: forward and
// backward input; conv2d_weight.cu: backward weight): the block tile shapes, the
// register-tile multiply of two shared tiles, the kernel taps of one axis, and the
// choice of a tile shape for a problem.
//
// Every kernel computes C (M x N) = A (M x K) B (K x N) per block tile of BM x BN, K
// swept in slices of BK = 16 through two shared buffers (the next slice's global loads
// are in flight while the block multiplies the current one). Shared tiles are k-major,
// As[k][m] and Bs[k][n], rows padded by 4 elements, so a thread reads four consecutive
// m (or n) at one k with one 16-byte load. Thread t of the block owns the TM x TN
// outputs of (TM / 4) x (TN / 4) sub-tiles of 4 x 4: rows tm * 4 + [0, 4) of each
// sub-tile row, sub-tile rows BM / (TM / 4) apart (columns alike), tm = t / THREADS_N,
// tn = t % THREADS_N. A warp's 16-byte loads of Bs then touch consecutive 16-byte
// chunks, and of As at most two addresses (broadcasts): no bank conflicts.
#pragma once

#include <cstdint>

#include "common/window_geometry.h"
#include "cuda/gemm_tiles.cuh"
#include "cuda/runtime.cuh"

namespace axonic::cuda::conv_detail {

// The grid's z limit: the kernels loop over z items past it.
constexpr int kMaxGridZ = 65535;

template <int BM_, int BN_, int TM_, int TN_>
struct Tile {
  static constexpr int BM = BM_, BN = BN_, TM = TM_, TN = TN_, BK = 16;
  static constexpr int THREADS_M = BM / TM, THREADS_N = BN / TN;
  static constexpr int THREADS = THREADS_M * THREADS_N;
  static constexpr int SA = BM + 4, SB = BN + 4;  // shared row strides (16-byte multiples)
  // Resident blocks per multiprocessor the registers must allow (__launch_bounds__): 512
  // threads, at most 128 registers each.
  static constexpr int MIN_BLOCKS = 512 / THREADS;
  static_assert(TM % 4 == 0 && TN % 4 == 0, "4 x 4 sub-tiles");
  static_assert(THREADS % BK == 0 && THREADS % BN == 0 && THREADS >= BN,
                "copies give each thread a fixed k (A) and a fixed column (B)");
  static_assert((BM * BK) % THREADS == 0 && (BN * BK) % THREADS == 0, "whole copies");
};

// The tile shapes, largest first. float32 takes any; float64 the ones from Tile64x64 on
// (an 8 x 8 register tile of doubles would spill).
using Tile128x128 = Tile<128, 128, 8, 8>;  // 256 threads, 64 FMAs per 4 shared loads
using Tile64x128 = Tile<64, 128, 4, 8>;    // 256 threads
using Tile64x64 = Tile<64, 64, 4, 4>;      // 256 threads
using Tile32x128 = Tile<32, 128, 4, 4>;    // 256 threads: M <= 32 (early layers)
using Tile16x128 = Tile<16, 128, 4, 4>;    // 128 threads: M <= 16 (depthwise, tiny layers)

enum class TileShape { t128x128, t64x128, t64x64, t32x128, t16x128 };

// body(Tile{}) for the shape.
template <class Body>
void with_tile(TileShape shape, Body&& body) {
  switch (shape) {
    case TileShape::t128x128: return body(Tile128x128{});
    case TileShape::t64x128: return body(Tile64x128{});
    case TileShape::t64x64: return body(Tile64x64{});
    case TileShape::t32x128: return body(Tile32x128{});
    case TileShape::t16x128: return body(Tile16x128{});
  }
}

// The tile shape for `z_count` products of M x N each on a GPU with `sms`
// multiprocessors: the smallest BM that covers M (up to 128), so few rows of a tile are
// wasted, and of those shapes the widest that still gives every multiprocessor a block
// (as the GEMM's choice, gemm.cu); when none does, the one that gives the most blocks.
// float64 starts at 64 x 64.
inline TileShape choose_tile(int64_t m, int64_t n, int64_t z_count, int sms, bool is_double) {
  struct Option {
    TileShape shape;
    int bm, bn;
  };
  static constexpr Option options[] = {{TileShape::t128x128, 128, 128},
                                       {TileShape::t64x128, 64, 128},
                                       {TileShape::t64x64, 64, 64},
                                       {TileShape::t32x128, 32, 128},
                                       {TileShape::t16x128, 16, 128}};
  const int64_t bm_cap = m <= 16 ? 16 : m <= 32 ? 32 : m <= 64 ? 64 : 128;
  const auto blocks = [&](const Option& o) {
    return (m + o.bm - 1) / o.bm * ((n + o.bn - 1) / o.bn) * z_count;
  };
  const Option* most = nullptr;
  for (const Option& o : options) {
    if (o.bm > bm_cap || (is_double && o.shape == TileShape::t128x128) ||
        (is_double && o.shape == TileShape::t64x128))
      continue;
    if (blocks(o) >= sms) return o.shape;
    if (most == nullptr || blocks(o) > blocks(*most)) most = &o;
  }
  return most->shape;
}

// The batch and window of a convolution, in the kernels' ints (conv2d_fits_int32).
struct ConvWindow {
  int batch, groups, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, dilation_h,
      dilation_w;
};

inline ConvWindow conv_window(const Conv2dGeometry& g) {
  return {static_cast<int>(g.batch),    static_cast<int>(g.groups),
          static_cast<int>(g.kernel_h), static_cast<int>(g.kernel_w),
          static_cast<int>(g.stride_h), static_cast<int>(g.stride_w),
          static_cast<int>(g.pad_h),    static_cast<int>(g.pad_w),
          static_cast<int>(g.dilation_h), static_cast<int>(g.dilation_w)};
}


// The row (or column) within the block tile of a thread's register index i, for a tile
// side of SIDE elements, T_ register elements per thread and thread coordinate t.
template <int SIDE, int T_>
__device__ __forceinline__ int tile_index(int i, int t) {
  return (i / 4) * (SIDE / (T_ / 4)) + t * 4 + i % 4;
}

// acc += As (BK x BM, row stride SA) ^T Bs (BK x BN, row stride SB) over the thread's
// TM x TN outputs.
template <class Tl, typename T>
__device__ __forceinline__ void multiply_tiles(const T* As, const T* Bs, int tm, int tn,
                                               T (&acc)[Tl::TM][Tl::TN]) {
#pragma unroll
  for (int k = 0; k < Tl::BK; ++k) {
    T a[Tl::TM], b[Tl::TN];
#pragma unroll
    for (int i = 0; i < Tl::TM; i += 4)
      gemm_detail::load_quad(As + k * Tl::SA + tile_index<Tl::BM, Tl::TM>(i, tm), a + i);
#pragma unroll
    for (int j = 0; j < Tl::TN; j += 4)
      gemm_detail::load_quad(Bs + k * Tl::SB + tile_index<Tl::BN, Tl::TN>(j, tn), b + j);
#pragma unroll
    for (int i = 0; i < Tl::TM; ++i) {
#pragma unroll
      for (int j = 0; j < Tl::TN; ++j) acc[i][j] += a[i] * b[j];
    }
  }
}

// acc = the sum over `slices` K slices of As^T Bs (the block's register tiles), through
// two shared buffers: decode(buf, slice, lane) decodes lane `lane` of slice `slice` into
// copy table `buf` (threads 0 .. BK - 1 run it), load(buf) fetches the slice decoded
// there into the thread's registers, store(buf) puts those into As[buf] and Bs[buf].
// The next slice's loads are in flight while the block multiplies this one, and the
// slice after that is decoded into the table this one's loads are done with. The caller
// makes sure nothing still reads the tables or tiles of a previous product (a barrier).
template <class Tl, typename T, int A_SIZE, int B_SIZE, class Decode, class Load, class Store>
__device__ __forceinline__ void accumulate_slices(int slices, T (&As)[2][A_SIZE],
                                                  T (&Bs)[2][B_SIZE], const Decode& decode,
                                                  const Load& load, const Store& store,
                                                  T (&acc)[Tl::TM][Tl::TN]) {
  constexpr int BK = Tl::BK;
  const int tid = static_cast<int>(threadIdx.x);
  const int tm = tid / Tl::THREADS_N, tn = tid % Tl::THREADS_N;
#pragma unroll
  for (int i = 0; i < Tl::TM; ++i) {
#pragma unroll
    for (int j = 0; j < Tl::TN; ++j) acc[i][j] = T(0);
  }
  if (slices <= 0) return;
  if (tid < 2 * BK) decode(tid / BK, tid / BK, tid % BK);
  __syncthreads();
  load(0);
  store(0);
  __syncthreads();
  for (int s = 0; s < slices; ++s) {
    const int cur = s & 1;
    if (s + 1 < slices) load(cur ^ 1);
    multiply_tiles<Tl>(As[cur], Bs[cur], tm, tn, acc);
    if (s + 1 < slices) store(cur ^ 1);
    // Table `cur` served slice s's copies (in the previous step): free for s + 2.
    if (s + 2 < slices && tid < BK) decode(cur, s + 2, tid);
    __syncthreads();
  }
}

// Far outside any image: a row or column that fails every bounds check, even after a
// tap's offset is added (positions and offsets stay below 2^28: conv2d_fits_int32).
constexpr int kNowhere = -(1 << 29);

// The taps of the kernel along one axis that a pixel grid reads, as a progression:
// tap t is kernel index first + t * step, at source offset (base + sign * index *
// dilation) / divisor from the pixel's origin (an exact division).
//   forward (and backward weight): every index; offset index * dilation.
//   backward input, phase r of the input positions (r + stride * a): the indices with
//   (r + pad - index * dilation) divisible by stride, offset (r + pad - index *
//   dilation) / stride output rows from a (the output row that index reads r from).
struct AxisTaps {
  int count, first, step;
  int base, sign, divisor, dilation;

  __device__ __forceinline__ int index(int t) const { return first + t * step; }
  __device__ __forceinline__ int offset(int t) const {
    return (base + sign * index(t) * dilation) / divisor;
  }
};

__device__ __forceinline__ AxisTaps forward_taps(int kernel, int dilation) {
  return {kernel, 0, 1, 0, 1, 1, dilation};
}

__device__ __forceinline__ AxisTaps phase_taps(int kernel, int stride, int pad, int dilation,
                                               int phase) {
  AxisTaps taps{0, 0, 1, phase + pad, -1, stride, dilation};
  int first = 0;
  while (first < kernel && (phase + pad - first * dilation) % stride != 0) ++first;
  if (first == kernel) return taps;  // no tap of this phase: count 0
  // The next index whose dilation step is a multiple of the stride.
  int step = 1;
  while ((step * dilation) % stride != 0) ++step;
  taps.first = first;
  taps.step = step;
  taps.count = (kernel - 1 - first) / step + 1;
  return taps;
}

}  // namespace axonic::cuda::conv_detail
