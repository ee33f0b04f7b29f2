// CUDA GEMM: C (m x n, row stride ldc) = alpha * op(A) op(B) + beta * C, row-major,
// for a stack of products (GemmBatch; one grid row of blocks per product, batch
// stride 0 for a broadcast operand). Shapes and transposes as in common/gemm_shape.h.
//
// Three kernels, one block per output tile (tile order: gemm_tiles.cuh block_tile):
//
// gemm_simt_kernel (float32 and float64, FMA units). Per block a BM x BN tile of C,
// K swept in BK slices through a STAGES-deep ring of shared tiles: while the block
// multiplies slice t, the copies of slices t+1 .. t+STAGES-1 are in flight (cp.async),
// with one __syncthreads per slice. Shared tiles are k-major (As[k][m], Bs[k][n]) so
// a thread reads the four consecutive rows / columns of each of its sub-tiles with one
// 16-byte load; transposed storage (A not transposed, B transposed) is turned around by
// the global -> shared copy. Each thread accumulates TM x TN outputs in registers as
// (TM/4) x (TN/4) 4x4 sub-tiles 32 rows / 16 columns apart; a warp's 8 x 4 lanes cover
// a (8 TM) x (4 TN) warp tile, and its 16-byte shared loads hit 8 distinct 16-byte
// chunks or broadcast: no bank conflicts.
//   simt_128x128: 128x128x8, 256 threads, 8x8 per thread: 64 FMAs per 4 shared loads,
//     4 stages (33 KB), <= 128 registers so two blocks share a multiprocessor. The
//     large-problem float32 path.
//   simt_64x64: 64x64x16, 256 threads, 4x4 per thread: four times the blocks for a
//     problem whose 128x128 tiles would leave multiprocessors idle, and float64
//     (whose 8x8 register tile would not fit).
//
// gemm_tf32_kernel (float32 with allow_tf32, tensor cores): 128x128x16 block tiles,
// 4 warps of 64x64, each a 4 x 8 grid of mma.sync m16n8k8 TF32 products (mma.cuh),
// 3 stages (48 KB). Shared tiles are stored row.col as the instruction wants them
// when k is contiguous in memory (As[m][k], Bs[n][k], 16 k per row), else as stored
// (As[k][m], Bs[k][n]), so every copy is a straight (16-byte when aligned) cp.async;
// chunks are XOR-swizzled against bank conflicts (gemm_tiles.cuh). A 16-k slice is two
// mma k steps s = 0, 1; step s feeds the instruction's k indices j and j + 4 (j = 0..3,
// the lane's `member`) the actual k = 4j + 2s and 4j + 2s + 1, for A and B alike,
// which leaves the sum unchanged and puts a lane's k values for both steps in one
// 16-byte chunk: one shared load per fragment row when k is contiguous. Inputs are
// rounded to TF32 (cvt.rna) as they are loaded into fragments; products accumulate in
// float32.
//
// Edges: any M, N, K (tiles past them are zero-filled, stores guarded), any leading
// dimension (16-byte copies only where pointer, ld and batch stride allow, else
// element copies), K = 0 (C = beta C). beta == 0 never reads C.
#include "cuda/gemm.h"

#include <climits>
#include <type_traits>

#include "common/checks.h"
#include "cuda/gemm_tiles.cuh"
#include "cuda/mma.cuh"
#include "cuda/runtime.cuh"

namespace axonic::cuda {

using gemm_detail::GemmParams;

namespace {

// ---- SIMT kernel --------------------------------------------------------------------

template <typename T, int BM_, int BN_, int BK_, int TM_, int TN_, int STAGES_>
struct SimtTiles {
  static constexpr int BM = BM_, BN = BN_, BK = BK_, TM = TM_, TN = TN_, STAGES = STAGES_;
  static constexpr int LANES_M = 8, LANES_N = 4;  // a warp's lanes: 8 rows x 4 columns
  static constexpr int WM = TM * LANES_M, WN = TN * LANES_N;
  static constexpr int WARPS_M = BM / WM, WARPS_N = BN / WN;
  static constexpr int THREADS = 32 * WARPS_M * WARPS_N;
  static constexpr int SA = BM + 4, SB = BN + 4;  // shared row strides: 4 (mod 32) banks
  static constexpr int STAGE = BK * (SA + SB);    // elements of one stage
  static constexpr size_t shared_bytes = STAGES * STAGE * sizeof(T);
  static_assert(TM % 4 == 0 && TN % 4 == 0 && BM % WM == 0 && BN % WN == 0, "tile shape");
  static_assert(THREADS % BK == 0, "k-contiguous copies give each thread a fixed k");
};

using SimtLarge = SimtTiles<float, 128, 128, 8, 8, 8, 4>;
template <typename T>
using SimtSmall = SimtTiles<T, 64, 64, 16, 4, 4, sizeof(T) == 4 ? 3 : 2>;

template <typename T, class Tiles, bool TRANS_A, bool TRANS_B, bool VECTOR>
__global__ void __launch_bounds__(Tiles::THREADS, 2) gemm_simt_kernel(GemmParams<T> p) {
  constexpr int BM = Tiles::BM, BN = Tiles::BN, BK = Tiles::BK, TM = Tiles::TM, TN = Tiles::TN;
  constexpr int STAGES = Tiles::STAGES, THREADS = Tiles::THREADS;
  constexpr int SA = Tiles::SA, SB = Tiles::SB;
  constexpr int STEP_M = 4 * Tiles::LANES_M, STEP_N = 4 * Tiles::LANES_N;  // sub-tile spacing
  T* shared = dynamic_shared<T>();
  const gemm_detail::BlockOperands<T> tile = gemm_detail::block_operands<BM, BN>(p);

  const int warp = static_cast<int>(threadIdx.x) / 32, lane = static_cast<int>(threadIdx.x) % 32;
  const int thread_m = warp / Tiles::WARPS_N * Tiles::WM + lane % Tiles::LANES_M * 4;
  const int thread_n = warp % Tiles::WARPS_N * Tiles::WN + lane / Tiles::LANES_M * 4;

  // A stored k x m (TRANS_A) and B stored k x n copy row by row, 16 bytes at a time
  // when VECTOR; A stored m x k and B stored n x k are transposed on the way in.
  const auto copy_slice = [&](int stage, int k0) {
    using gemm_detail::copy_operand;
    using gemm_detail::PaddedColumns;
    using gemm_detail::PaddedRows;
    T* As = shared + stage * Tiles::STAGE;
    copy_operand<BM, BK, THREADS, VECTOR, !TRANS_A, PaddedColumns<SA>, PaddedRows<SA>>(
        As, tile.a, p.lda, tile.m0, p.m, k0, p.k);
    copy_operand<BN, BK, THREADS, VECTOR, TRANS_B, PaddedColumns<SB>, PaddedRows<SB>>(
        As + BK * SA, tile.b, p.ldb, tile.n0, p.n, k0, p.k);
  };

  T acc[TM][TN];
#pragma unroll
  for (int i = 0; i < TM; ++i)
#pragma unroll
    for (int j = 0; j < TN; ++j) acc[i][j] = T(0);

  gemm_detail::sweep_k<STAGES, BK>(p.k, copy_slice, [&](int stage) {
    const T* As = shared + stage * Tiles::STAGE + thread_m;
    const T* Bs = shared + stage * Tiles::STAGE + BK * SA + thread_n;
#pragma unroll
    for (int kk = 0; kk < BK; ++kk) {
      T av[TM], bv[TN];
#pragma unroll
      for (int i = 0; i < TM / 4; ++i)
        gemm_detail::load_quad(As + kk * SA + i * STEP_M, av + 4 * i);
#pragma unroll
      for (int j = 0; j < TN / 4; ++j)
        gemm_detail::load_quad(Bs + kk * SB + j * STEP_N, bv + 4 * j);
#pragma unroll
      for (int i = 0; i < TM; ++i)
#pragma unroll
        for (int j = 0; j < TN; ++j) acc[i][j] += av[i] * bv[j];
    }
  });

  // C = alpha acc + beta C, four columns at a time (one 16-byte access when aligned).
  const bool quad_ok = p.c_align >= 16;
  const bool read_c = p.beta != T(0);
#pragma unroll
  for (int i = 0; i < TM; ++i) {
    const int row = tile.m0 + thread_m + i / 4 * STEP_M + i % 4;
    if (row >= p.m) continue;
    T* c_row = tile.c + static_cast<int64_t>(row) * p.ldc;
#pragma unroll
    for (int jq = 0; jq < TN / 4; ++jq) {
      const int col = tile.n0 + thread_n + jq * STEP_N;
      T v[4];
#pragma unroll
      for (int q = 0; q < 4; ++q) v[q] = p.alpha * acc[i][4 * jq + q];
      if (quad_ok && col + 3 < p.n) {
        if (read_c) {
          T old[4];
          gemm_detail::load_quad(c_row + col, old);
#pragma unroll
          for (int q = 0; q < 4; ++q) v[q] += p.beta * old[q];
        }
        gemm_detail::store_quad(c_row + col, v);
      } else {
#pragma unroll
        for (int q = 0; q < 4; ++q)
          if (col + q < p.n) c_row[col + q] = read_c ? v[q] + p.beta * c_row[col + q] : v[q];
      }
    }
  }
}

// ---- TF32 tensor-core kernel ----------------------------------------------------------

struct Tf32Tiles {
  static constexpr int BM = 128, BN = 128, BK = 16, STAGES = 3;
  static constexpr int WARPS_M = 2, WARPS_N = 2, WM = BM / WARPS_M, WN = BN / WARPS_N;
  static constexpr int MT = WM / 16, NT = WN / 8;  // mma tiles per warp
  static constexpr int THREADS = 32 * WARPS_M * WARPS_N;
  static constexpr int STAGE = (BM + BN) * BK;
  static constexpr size_t shared_bytes = STAGES * STAGE * sizeof(float);
};

// Shared tile layouts of the TF32 kernel: the operand as stored, 16 k per row when k is
// contiguous (A not transposed, B transposed), else 128 x per row of one k.
template <bool K_CONTIGUOUS>
using Tf32Layout =
    std::conditional_t<K_CONTIGUOUS, gemm_detail::SwizzledRows16, gemm_detail::SwizzledRows128>;

// Values k = 4 member .. 4 member + 3 at x of a TF32 tile: one 16-byte load when k is
// contiguous, else four loads.
template <bool K_CONTIGUOUS>
__device__ __forceinline__ void load_k_quad(const float* S, int x, int member, float (&v)[4]) {
  using Layout = Tf32Layout<K_CONTIGUOUS>;
  if constexpr (K_CONTIGUOUS) {
    gemm_detail::load_quad(S + Layout::index(x, 4 * member), v);
  } else {
#pragma unroll
    for (int q = 0; q < 4; ++q) v[q] = S[Layout::index(4 * member + q, x)];
  }
}

template <bool TRANS_A, bool TRANS_B, bool VECTOR>
__global__ void __launch_bounds__(Tf32Tiles::THREADS) gemm_tf32_kernel(GemmParams<float> p) {
  using Tiles = Tf32Tiles;
  constexpr int BM = Tiles::BM, BN = Tiles::BN, BK = Tiles::BK, STAGES = Tiles::STAGES;
  constexpr int MT = Tiles::MT, NT = Tiles::NT, THREADS = Tiles::THREADS;
  float* shared = dynamic_shared<float>();
  const gemm_detail::BlockOperands<float> tile = gemm_detail::block_operands<BM, BN>(p);

  const int warp = static_cast<int>(threadIdx.x) / 32, lane = static_cast<int>(threadIdx.x) % 32;
  const int warp_m = warp / Tiles::WARPS_N * Tiles::WM, warp_n = warp % Tiles::WARPS_N * Tiles::WN;
  const int group = lane / 4, member = lane % 4;

  // Operands copy as stored (rows of A m x k or k x m, of B n x k or k x n).
  const auto copy_slice = [&](int stage, int k0) {
    using gemm_detail::copy_operand;
    using KRows = Tf32Layout<true>;   // rows of 16 k
    using XRows = Tf32Layout<false>;  // rows of 128 x
    float* As = shared + stage * Tiles::STAGE;
    copy_operand<BM, BK, THREADS, VECTOR, !TRANS_A, KRows, XRows>(As, tile.a, p.lda, tile.m0,
                                                                  p.m, k0, p.k);
    copy_operand<BN, BK, THREADS, VECTOR, TRANS_B, KRows, XRows>(As + BM * BK, tile.b, p.ldb,
                                                                 tile.n0, p.n, k0, p.k);
  };

  float acc[MT][NT][4];
#pragma unroll
  for (int i = 0; i < MT; ++i)
#pragma unroll
    for (int j = 0; j < NT; ++j)
#pragma unroll
      for (int q = 0; q < 4; ++q) acc[i][j][q] = 0.0f;

  gemm_detail::sweep_k<STAGES, BK>(p.k, copy_slice, [&](int stage) {
    const float* As = shared + stage * Tiles::STAGE;
    const float* Bs = As + BM * BK;
    // Lane (group, member) holds, for k step s, A[row][4 member + 2 s + (0, 1)] as the
    // instruction's k = member and member + 4 (the pairing of the file comment).
    uint32_t af[MT][2][4];
#pragma unroll
    for (int i = 0; i < MT; ++i) {
      const int row = warp_m + 16 * i + group;
      float top[4], bottom[4];
      load_k_quad<!TRANS_A>(As, row, member, top);
      load_k_quad<!TRANS_A>(As, row + 8, member, bottom);
#pragma unroll
      for (int s = 0; s < 2; ++s) {
        af[i][s][0] = to_tf32(top[2 * s]);
        af[i][s][1] = to_tf32(bottom[2 * s]);
        af[i][s][2] = to_tf32(top[2 * s + 1]);
        af[i][s][3] = to_tf32(bottom[2 * s + 1]);
      }
    }
#pragma unroll
    for (int j = 0; j < NT; ++j) {
      float col[4];  // B[4 member .. 4 member + 3][warp_n + 8 j + group]
      load_k_quad<TRANS_B>(Bs, warp_n + 8 * j + group, member, col);
      const uint32_t bf[2][2] = {{to_tf32(col[0]), to_tf32(col[1])},
                                 {to_tf32(col[2]), to_tf32(col[3])}};
#pragma unroll
      for (int i = 0; i < MT; ++i) {
        mma_tf32_m16n8k8(acc[i][j], af[i][0], bf[0]);
        mma_tf32_m16n8k8(acc[i][j], af[i][1], bf[1]);
      }
    }
  });

  // Lane (group, member) holds C[16 i + group + 8 h][8 j + 2 member + (0, 1)].
  const bool pair_ok = p.c_align >= 8;
  const bool read_c = p.beta != 0.0f;
#pragma unroll
  for (int i = 0; i < MT; ++i)
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const int row = tile.m0 + warp_m + 16 * i + group + 8 * h;
      if (row >= p.m) continue;
      float* c_row = tile.c + static_cast<int64_t>(row) * p.ldc;
#pragma unroll
      for (int j = 0; j < NT; ++j) {
        const int col = tile.n0 + warp_n + 8 * j + 2 * member;
        float v0 = p.alpha * acc[i][j][2 * h], v1 = p.alpha * acc[i][j][2 * h + 1];
        if (pair_ok && col + 1 < p.n) {
          gemm_detail::expect_aligned(c_row + col, 8, "misaligned 8-byte access to C");
          float2* pair = reinterpret_cast<float2*>(c_row + col);
          if (read_c) {
            const float2 old = *pair;
            v0 += p.beta * old.x, v1 += p.beta * old.y;
          }
          float2 out;
          out.x = v0, out.y = v1;
          *pair = out;
        } else {
          if (col < p.n) c_row[col] = read_c ? v0 + p.beta * c_row[col] : v0;
          if (col + 1 < p.n) c_row[col + 1] = read_c ? v1 + p.beta * c_row[col + 1] : v1;
        }
      }
    }
}

// ---- launch ---------------------------------------------------------------------------

// The largest power of two up to 16 dividing every address a row copy starts at:
// the pointer, the leading dimension and (for stacks) the batch stride, in bytes.
template <typename T>
int alignment_bytes(const T* ptr, int64_t ld, int64_t stride, int64_t count) {
  uint64_t bits = reinterpret_cast<uintptr_t>(ptr) | static_cast<uint64_t>(ld) * sizeof(T) | 16u;
  if (count > 1) bits |= static_cast<uint64_t>(stride) * sizeof(T);
  return static_cast<int>(bits & (~bits + 1));
}

int64_t tiles(const GemmShape& s, int bm, int bn) {
  return (s.m + bm - 1) / bm * ((s.n + bn - 1) / bn);
}

GemmKernel choose_kernel(const GemmShape& s, int64_t count, bool is_float, bool allow_tf32) {
  if (!is_float) return GemmKernel::simt_64x64;
  if (allow_tf32) return GemmKernel::tf32_128x128;
  // 128x128 tiles while they give every multiprocessor a block; else 4x the blocks.
  return tiles(s, 128, 128) * count >= multiprocessor_count() ? GemmKernel::simt_128x128
                                                               : GemmKernel::simt_64x64;
}

// Launches `kernel` once per 65535 products (the grid's y limit), one block per tile.
template <typename T>
void launch_stack(void (*kernel)(GemmParams<T>), int64_t tile_count,
                  int threads, size_t shared_bytes, GemmParams<T> p, int64_t count,
                  cudaStream_t stream) {
  AXONIC_CHECK(tile_count <= INT_MAX, "gemm output has too many tiles (", tile_count, ")");
  constexpr int64_t max_items = 65535;
  for (int64_t first = 0; first < count; first += max_items) {
    GemmParams<T> q = p;
    q.a += first * p.stride_a, q.b += first * p.stride_b, q.c += first * p.stride_c;
    const int64_t items = count - first < max_items ? count - first : max_items;
    const dim3 grid(static_cast<unsigned>(tile_count), static_cast<unsigned>(items));
    AXONIC_LAUNCH(kernel, grid, dim3(threads), shared_bytes, stream, q);
  }
}

// Pick<TRANS_A, TRANS_B, VECTOR>::kernel for the runtime flags.
template <template <bool, bool, bool> class Pick, bool VECTOR>
auto kernel_for(bool trans_a, bool trans_b) {
  if (trans_a)
    return trans_b ? Pick<true, true, VECTOR>::kernel : Pick<true, false, VECTOR>::kernel;
  return trans_b ? Pick<false, true, VECTOR>::kernel : Pick<false, false, VECTOR>::kernel;
}
template <template <bool, bool, bool> class Pick>
auto kernel_for(bool trans_a, bool trans_b, bool vector) {
  return vector ? kernel_for<Pick, true>(trans_a, trans_b)
                : kernel_for<Pick, false>(trans_a, trans_b);
}

template <typename T, class Tiles>
struct Simt {
  template <bool TA, bool TB, bool VECTOR>
  struct Pick {
    static constexpr auto kernel = &gemm_simt_kernel<T, Tiles, TA, TB, VECTOR>;
  };
  // Only operands stored with x contiguous (A transposed, B not) copy 16 bytes at a time.
  static void run(const GemmShape& s, const GemmParams<T>& p, int64_t count, bool a_aligned,
                  bool b_aligned, cudaStream_t stream) {
    const bool vector = (!s.trans_a || a_aligned) && (s.trans_b || b_aligned);
    launch_stack<T>(kernel_for<Pick>(s.trans_a, s.trans_b, vector),
                    tiles(s, Tiles::BM, Tiles::BN), Tiles::THREADS, Tiles::shared_bytes, p, count,
                    stream);
  }
};

template <bool TA, bool TB, bool VECTOR>
struct PickTf32 {
  static constexpr auto kernel = &gemm_tf32_kernel<TA, TB, VECTOR>;
};

}  // namespace

const char* gemm_kernel_name(GemmKernel kernel) {
  switch (kernel) {
    case GemmKernel::automatic: return "automatic";
    case GemmKernel::simt_128x128: return "simt_128x128";
    case GemmKernel::simt_64x64: return "simt_64x64";
    case GemmKernel::tf32_128x128: return "tf32_128x128";
  }
  return "?";
}

template <typename T>
void gemm(const GemmShape& s, T alpha, const T* a, const T* b, T beta, T* c,
          const GemmBatch& batch, bool allow_tf32, cudaStream_t stream, GemmKernel kernel) {
  check_gemm_shape(s);
  AXONIC_CHECK(batch.count >= 0 && batch.stride_a >= 0 && batch.stride_b >= 0 &&
                   batch.stride_c >= 0,
               "gemm batch count and strides must be non-negative, got count=", batch.count,
               " strides ", batch.stride_a, ", ", batch.stride_b, ", ", batch.stride_c);
  AXONIC_CHECK(s.m <= INT_MAX && s.n <= INT_MAX && s.k <= INT_MAX,
               "the CUDA gemm takes sizes below 2^31, got m=", s.m, " n=", s.n, " k=", s.k);
  constexpr bool is_float = sizeof(T) == sizeof(float);
  if (kernel == GemmKernel::automatic) kernel = choose_kernel(s, batch.count, is_float, allow_tf32);
  AXONIC_CHECK(is_float || kernel == GemmKernel::simt_64x64, "the gemm kernel ",
               gemm_kernel_name(kernel), " takes float32 only");
  if (s.m == 0 || s.n == 0 || batch.count == 0) return;

  const int64_t count = batch.count;
  const GemmParams<T> p{a, b, c, static_cast<int>(s.m), static_cast<int>(s.n),
                        static_cast<int>(s.k), s.lda, s.ldb, s.ldc, batch.stride_a,
                        batch.stride_b, batch.stride_c, alpha, beta,
                        alignment_bytes(c, s.ldc, batch.stride_c, count)};
  const bool a_aligned = alignment_bytes(a, s.lda, batch.stride_a, count) == 16;
  const bool b_aligned = alignment_bytes(b, s.ldb, batch.stride_b, count) == 16;
  if constexpr (is_float) {
    if (kernel == GemmKernel::simt_128x128)
      return Simt<float, SimtLarge>::run(s, p, count, a_aligned, b_aligned, stream);
    if (kernel == GemmKernel::tf32_128x128)
      return launch_stack<float>(
          kernel_for<PickTf32>(s.trans_a, s.trans_b, a_aligned && b_aligned),
          tiles(s, Tf32Tiles::BM, Tf32Tiles::BN), Tf32Tiles::THREADS, Tf32Tiles::shared_bytes, p,
          count, stream);
  }
  Simt<T, SimtSmall<T>>::run(s, p, count, a_aligned, b_aligned, stream);
}

template void gemm<float>(const GemmShape&, float, const float*, const float*, float, float*,
                          const GemmBatch&, bool, cudaStream_t, GemmKernel);
template void gemm<double>(const GemmShape&, double, const double*, const double*, double,
                           double*, const GemmBatch&, bool, cudaStream_t, GemmKernel);

}  // namespace axonic::cuda
