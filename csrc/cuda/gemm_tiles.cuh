// Building blocks of the CUDA GEMM kernels (gemm.cu): the kernel parameters, the
// order in which blocks take output tiles, and the copies of operand tiles from
// global to shared memory.
//
// Copies are asynchronous on sm_80+ (cp.async: the next tiles load while the block
// computes on the current one) and plain loads and stores elsewhere (the CPU
// emulator, pre-Ampere GPUs), where copy_commit/copy_wait do nothing; the kernels'
// __syncthreads make either kind visible to the whole block. Out-of-range elements
// (past M, N or K) are zero-filled, never read, so edge tiles need no special path.
#pragma once

#include <cstdint>

#include "cuda/runtime.cuh"

namespace axonic::cuda::gemm_detail {

// op(A) is m x k and op(B) k x n, row-major C m x n (common/gemm_shape.h); a, b, c
// point at product 0 of the stack, product blockIdx.y at `stride_*` elements further.
template <typename T>
struct GemmParams {
  const T* a;
  const T* b;
  T* c;
  int m, n, k;
  int64_t lda, ldb, ldc;
  int64_t stride_a, stride_b, stride_c;
  T alpha, beta;
  int c_align;  // largest power of two <= 16 dividing C's pointer, ldc and stride (bytes)
};

__device__ __forceinline__ int min_int(int x, int y) { return x < y ? x : y; }
__device__ __forceinline__ int clamp_int(int x, int lo, int hi) {
  return x < lo ? lo : x > hi ? hi : x;
}

struct TileCoord {
  int m, n;  // tile row and column
};

// Block `index`'s output tile. Blocks run in index order, so consecutive blocks take
// the tiles of GROUP tile-rows column by column: the A rows and B columns the blocks
// running at one time read stay in L2, rather than one full row of B tiles per A tile.
__device__ __forceinline__ TileCoord block_tile(int index, int tiles_m, int tiles_n) {
  constexpr int GROUP = 8;
  const int per_group = GROUP * tiles_n;
  const int first_m = index / per_group * GROUP;
  const int rows = min_int(tiles_m - first_m, GROUP);
  const int in_group = index % per_group;
  return {first_m + in_group % rows, in_group / rows};
}

// On the GPU a misaligned vector access faults; on the emulator's host it would just
// work, so the emulator checks every one (the host code's choice of the vector paths).
__device__ __forceinline__ void expect_aligned(const void* p, unsigned bytes, const char* what) {
#ifdef AXONIC_CUDA_EMULATION
  if (reinterpret_cast<uintptr_t>(p) % bytes != 0) axonic_emulator::detail::device_trap(what);
#endif
}

// The block's output tile and the matrices of its product (blockIdx.y of the stack).
template <typename T>
struct BlockOperands {
  int m0, n0;  // the tile's first row and column of C
  const T* a;
  const T* b;
  T* c;
};

template <int BM, int BN, typename T>
__device__ __forceinline__ BlockOperands<T> block_operands(const GemmParams<T>& p) {
  const TileCoord tile =
      block_tile(static_cast<int>(blockIdx.x), (p.m + BM - 1) / BM, (p.n + BN - 1) / BN);
  const int64_t item = blockIdx.y;
  return {tile.m * BM, tile.n * BN, p.a + item * p.stride_a, p.b + item * p.stride_b,
          p.c + item * p.stride_c};
}

// Copies N elements (4, 8 or 16 bytes) from global `src` to shared `dst`: the first
// `valid` read, the rest zeroed (src is never read past them, and with valid == 0
// only needs to be some valid address).
template <typename T, int N>
__device__ __forceinline__ void copy_to_shared(T* dst, const T* src, int valid) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  constexpr int bytes = N * static_cast<int>(sizeof(T));
  static_assert(bytes == 4 || bytes == 8 || bytes == 16, "cp.async copies 4, 8 or 16 bytes");
  const unsigned dst_shared = static_cast<unsigned>(__cvta_generic_to_shared(dst));
  const int src_bytes = valid * static_cast<int>(sizeof(T));
  if constexpr (bytes == 16) {  // .cg: straight to shared memory, not kept in L1
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst_shared), "l"(src),
                 "r"(src_bytes));
  } else {
    asm volatile("cp.async.ca.shared.global [%0], [%1], %2, %3;\n" ::"r"(dst_shared), "l"(src),
                 "n"(bytes), "r"(src_bytes));
  }
#else
  if (N * sizeof(T) == 16) {
    expect_aligned(dst, 16, "misaligned 16-byte copy to shared memory");
    if (valid > 0) expect_aligned(src, 16, "misaligned 16-byte copy from global memory");
  }
#pragma unroll
  for (int i = 0; i < N; ++i) dst[i] = i < valid ? src[i] : T(0);
#endif
}

// Closes the group of copies issued since the last commit.
__device__ __forceinline__ void copy_commit() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile("cp.async.commit_group;\n" ::);
#endif
}

// Waits until at most `PENDING` of this thread's committed groups are still in flight.
template <int PENDING>
__device__ __forceinline__ void copy_wait() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile("cp.async.wait_group %0;\n" ::"n"(PENDING));
#endif
}

// Sweeps K in BK-deep slices through a ring of STAGES shared stages: copy_slice(stage,
// k0) issues the copies of slice k0 into a stage, multiply(stage) consumes one. While
// slice t is multiplied the copies of slices t+1 .. t+STAGES-1 are in flight; one
// __syncthreads per slice both publishes slice t and tells that slice t-1's stage,
// which the next copies overwrite, has been consumed by every thread.
template <int STAGES, int BK, class CopySlice, class Multiply>
__device__ __forceinline__ void sweep_k(int K, const CopySlice& copy_slice,
                                        const Multiply& multiply) {
  static_assert(STAGES >= 2, "a ring needs a stage to fill while one is consumed");
  const int slices = (K + BK - 1) / BK;
#pragma unroll
  for (int s = 0; s < STAGES - 1; ++s) {
    if (s < slices) copy_slice(s, s * BK);
    copy_commit();  // empty groups too: the group count stays one per slice
  }
  for (int t = 0; t < slices; ++t) {
    copy_wait<STAGES - 2>();  // slice t's copies (this thread's) have landed
    __syncthreads();
    const int next = t + STAGES - 1;
    if (next < slices) copy_slice(next % STAGES, next * BK);
    copy_commit();
    multiply(t % STAGES);
  }
}

// Four consecutive elements, 16-byte aligned, as one (float) or two (double) vector accesses.
__device__ __forceinline__ void load_quad(const float* p, float* r) {
  expect_aligned(p, 16, "misaligned 16-byte load");
  const float4 v = *reinterpret_cast<const float4*>(p);
  r[0] = v.x, r[1] = v.y, r[2] = v.z, r[3] = v.w;
}
__device__ __forceinline__ void load_quad(const double* p, double* r) {
  expect_aligned(p, 16, "misaligned 16-byte load");
  const double2 lo = reinterpret_cast<const double2*>(p)[0];
  const double2 hi = reinterpret_cast<const double2*>(p)[1];
  r[0] = lo.x, r[1] = lo.y, r[2] = hi.x, r[3] = hi.y;
}
__device__ __forceinline__ void store_quad(float* p, const float* r) {
  expect_aligned(p, 16, "misaligned 16-byte store");
  float4 v;
  v.x = r[0], v.y = r[1], v.z = r[2], v.w = r[3];
  *reinterpret_cast<float4*>(p) = v;
}
__device__ __forceinline__ void store_quad(double* p, const double* r) {
  expect_aligned(p, 16, "misaligned 16-byte store");
  double2 lo, hi;
  lo.x = r[0], lo.y = r[1], hi.x = r[2], hi.y = r[3];
  reinterpret_cast<double2*>(p)[0] = lo;
  reinterpret_cast<double2*>(p)[1] = hi;
}

// Shared layouts of operand tiles: index(r, c) of element (r, c) of a tile of the
// operand as stored (r a stored row, c the contiguous axis), in elements.
//
// PaddedRows / PaddedColumns (SIMT kernel): k-major tiles S[k * STRIDE + x], x a row of
// op(A) or a column of op(B), so a thread reads four consecutive x at one k with one
// 16-byte load. Storage with k contiguous is transposed on the way in; STRIDE = 4
// (mod 32) spreads those stores (8 k x 4 x per warp) over all 32 banks.
template <int STRIDE>
struct PaddedRows {  // stored rows are k: element (k, x)
  static constexpr bool keeps_quads = true;  // four consecutive c stay consecutive
  __device__ static int index(int r, int c) { return r * STRIDE + c; }
};
template <int STRIDE>
struct PaddedColumns {  // stored rows are x: element (x, k)
  static constexpr bool keeps_quads = false;
  __device__ static int index(int r, int c) { return c * STRIDE + r; }
};

// SwizzledRows16 / SwizzledRows128 (tensor-core kernel): the tile as stored, 16 k per
// row (rows are x) or 128 x per row (rows are k), each row's 16-byte chunks permuted by
// XOR with bits of the row so that the mma fragment loads (gemm.cu) and the stores of
// a warp each touch all 32 banks once: rows of 16 read a 16-byte chunk per lane from
// rows x, x + 1 (chunk ^= bits 1-2 of the row); rows of 128 read one element per lane,
// 8 consecutive x at 4 k a multiple of 4 apart (chunk ^= 2 * bits 2-3 of the row).
struct SwizzledRows16 {
  static constexpr bool keeps_quads = true;
  __device__ static int index(int r, int c) {
    return r * 16 + ((((c >> 2) ^ (r >> 1)) & 3) << 2) + (c & 3);
  }
};
struct SwizzledRows128 {
  static constexpr bool keeps_quads = true;
  __device__ static int index(int r, int c) {
    return r * 128 + (((c >> 2) ^ (((r >> 2) & 3) << 1)) << 2) + (c & 3);
  }
};

// Copies the ROWS x COLS tile at (r0, c0) of a stored R x C matrix (row stride ld)
// into S at Layout::index, zero past R and C. Consecutive threads take consecutive
// columns of a row (whole 32-byte sectors), 16 bytes each when VECTOR (the caller
// checked g, ld and the batch stride are 16-byte multiples), else one element.
template <int ROWS, int COLS, int THREADS, bool VECTOR, class Layout, typename T>
__device__ __forceinline__ void copy_tile(T* S, const T* g, int64_t ld, int r0, int R, int c0,
                                          int C) {
  static_assert(!VECTOR || Layout::keeps_quads, "16-byte copies need consecutive columns");
  constexpr int V = VECTOR ? 16 / static_cast<int>(sizeof(T)) : 1;
  constexpr int PER_ROW = COLS / V, UNITS = ROWS * PER_ROW;
  static_assert(COLS % V == 0 && UNITS % THREADS == 0 && THREADS % PER_ROW == 0,
                "each thread copies the same columns of rows THREADS / PER_ROW apart");
  const int tid = static_cast<int>(threadIdx.x);
  const int r = tid / PER_ROW, c = tid % PER_ROW * V;
  const int columns = clamp_int(C - (c0 + c), 0, V);  // of this thread's V, inside C
  const T* src = g + static_cast<int64_t>(r0 + r) * ld + (c0 + c);
  const int64_t step = static_cast<int64_t>(THREADS / PER_ROW) * ld;
#pragma unroll
  for (int j = 0; j < UNITS / THREADS; ++j) {
    const int row = r + j * (THREADS / PER_ROW);
    const int valid = r0 + row < R ? columns : 0;
    copy_to_shared<T, V>(S + Layout::index(row, c), valid > 0 ? src + j * step : g, valid);
  }
}

// One operand's slice, k in [k0, k0 + BK) and x (rows of op(A), or columns of op(B)) in
// [x0, x0 + BX) of its K x X values, copied as the operand is stored: rows of k values
// (K_CONTIGUOUS: A, or B transposed) into KLayout, else rows of x values into XLayout.
// VECTOR allows 16-byte copies where the layout keeps four consecutive values together.
template <int BX, int BK, int THREADS, bool VECTOR, bool K_CONTIGUOUS, class KLayout,
          class XLayout, typename T>
__device__ __forceinline__ void copy_operand(T* S, const T* g, int64_t ld, int x0, int X,
                                             int k0, int K) {
  if constexpr (K_CONTIGUOUS)
    copy_tile<BX, BK, THREADS, VECTOR && KLayout::keeps_quads, KLayout>(S, g, ld, x0, X, k0, K);
  else
    copy_tile<BK, BX, THREADS, VECTOR, XLayout>(S, g, ld, k0, K, x0, X);
}

}  // namespace axonic::cuda::gemm_detail
