// GEMM drivers, compiled once per ISA (see gemm_arch.h). Three paths:
//
// Blocked (the general case), in the BLIS loop order:
//   for jc over N in NC-wide blocks:
//     for pc over K in KC-deep blocks:
//       pack op(B)[pc:pc+kc, jc:jc+nc] into NR-wide panels (kc x NR)   [shared]
//       parallel over tasks of MC rows (x a group of B panels when M is short):
//         pack op(A)[rows, pc:pc+kc] into MR-tall panels (kc x MR)     [per thread]
//         micro-kernel on each MR x NR block of C
//   A kc x NR panel of B stays close (L1/L2) while the MC x kc block of A, packed
//   by the thread that uses it, streams from its L2 past it. Packing absorbs
//   transposes and leading dimensions, so strided views and the transposed
//   products of backward passes need no copies.
//
// Blocked with B read in place (op(B) = B and few rows of A, or N within one
// vector): each element of B is used by few tiles, so packing it would cost more
// than it saves; the micro-kernel loads B's rows directly and masks the last
// columns.
//
// A read in place (M <= 4: batch-1 inference and tiny batches; or N within one
// vector, where each element of A meets a single column tile): nothing of A is
// packed; the micro-kernel broadcasts straight from A's rows in tiles of MR, 4, 2
// or 1 rows. With M <= 4 and op(B) = Bᵀ each C element is instead a dot product of
// an A row and a B row, 4 B rows at a time, both read along k.

#include <omp.h>

#include <algorithm>
#include <cstdio>
#include <type_traits>

#include "cpu/gemm_arch.h"
#include "cpu/gemm_micro_kernel.h"
#include "cpu/gemm_pack.h"
#include "cpu/thread_scratch.h"

#ifndef AXONIC_ISA
#error "gemm_arch.cpp is compiled once per ISA with -DAXONIC_ISA=<isa>"
#endif

#define AXONIC_STRINGIFY2(x) #x
#define AXONIC_STRINGIFY(x) AXONIC_STRINGIFY2(x)

namespace axonic::cpu::AXONIC_ISA {
namespace {

template <typename T>
struct Blocking {
  static constexpr int lanes = VectorOps<T>::lanes;
#if defined(__AVX512F__)
  // 6 rows x 4 vectors: 24 accumulators fed by 4 vector loads and 6 broadcasts per
  // step. Here vector loads take issue slots from the FMAs (on a 2-core Xeon with
  // AVX-512, 6-18 independent zmm loads per 24 FMAs cost 8-27% of the FMA rate), so
  // the tile with the fewest loads per FMA wins: 6x64 ran 5-10% faster than 12x32.
  static constexpr int mr = 6;
  static constexpr int nv = 4;                 // vectors per tile row in the blocked path
#else
  static constexpr int mr = kMicroTileRows;    // 6 rows x 2 vectors of the 16 registers
  static constexpr int nv = 2;
#endif
  static constexpr int nr = nv * lanes;
  // kc: a deep K block halves the passes over C (each one a read and a write of
  // every tile, rows ldc apart) against 256. Its B micro-panel (128 KiB at 6x64)
  // streams from L2 past the A panels: an L1-sized one (kc = 128) measured 15%
  // slower for the extra passes over C, 768-2048 no faster.
  static constexpr int64_t kc = 512;
  static constexpr int64_t mc = 32 * mr;       // A block mc x kc stays in L2
  static constexpr int64_t nc = 4096;          // packed B kc x nc stays in L3
  static constexpr int small_m = 4;            // M up to this takes the few-rows path
};

// A group of B panels a task sweeps is at least this wide when groups are made for
// L2 affinity, so that repacking A for each group costs a few percent at most.
constexpr int64_t kMinGroupPanels = 16;

// Forking threads costs microseconds: smaller products run on the calling thread.
constexpr double kParallelFlops = 2.0 * 128 * 128 * 64;

// Whether a product of this many flops should fork threads: not when it is small, and
// not from inside a parallel region (conv2d runs whole images on separate threads).
bool fork_threads(double flops, double threshold) {
  return omp_get_max_threads() > 1 && !omp_in_parallel() && flops > threshold;
}

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

template <typename T>
void scale_c(const GemmShape& s, T beta, T* c) {
  for (int64_t i = 0; i < s.m; ++i)
    for (int64_t j = 0; j < s.n; ++j)
      c[i * s.ldc + j] = beta == T(0) ? T(0) : beta * c[i * s.ldc + j];
}

// One tile of the blocked path: a packed A panel times B's panel (packed, rows NR
// apart, or in place, rows ldb apart). A tile whose columns fit in fewer vectors (the
// last panel of N = 784 is 16 of 64 columns) runs only the vectors it needs, reading B
// as a direct operand, instead of multiplying zero padding.
template <typename T, int MR, int NV, Operand kB>
inline void block_tile(int64_t kc, const T* a_panel, const T* b_panel, int64_t b_k_step,
                       const TileOutput<T>& out) {
  if constexpr (NV > 1) {
    if (out.cols <= (NV - 1) * VectorOps<T>::lanes)
      return block_tile<T, MR, NV - 1, Operand::direct>(kc, a_panel, b_panel, b_k_step, out);
  }
  micro_kernel<T, MR, NV, Operand::packed, kB>(kc, a_panel, 0, 0, b_panel, b_k_step, out);
}

template <typename T, int NV, Operand kB>
void gemm_blocked(const GemmShape& s, T alpha, const T* a, const T* b, T beta, T* c) {
  using B = Blocking<T>;
  constexpr int MR = B::mr, NR = NV * B::lanes;
  const int64_t kc_max = min64(B::kc, s.k);
  const int64_t nc_max = min64(B::nc, s.n);
  T* packed_b = kB == Operand::packed
                    ? thread_scratch<T>(ScratchSlot::gemm_packed_b,
                                        kc_max * ceil_div(nc_max, NR) * NR)
                    : nullptr;
  const bool parallel = fork_threads(2.0 * s.m * s.n * s.k, kParallelFlops);

#pragma omp parallel if (parallel)
  {
    const int threads = omp_get_num_threads();
    // Row blocks of at most about MC rows, split as evenly as whole MR tiles allow;
    // when there are more blocks than threads, a multiple of the thread count, so
    // every thread gets the same share (4096 rows in 11 blocks left one thread 13%
    // more work at each K block's barrier).
    const int64_t m_tiles = ceil_div(s.m, MR);
    int64_t m_blocks = ceil_div(s.m, B::mc);
    if (m_blocks > threads) m_blocks = ceil_div(m_blocks, threads) * threads;
    m_blocks = min64(m_blocks, m_tiles);
    // Each thread packs the A block it works on into its own buffer, which then
    // sits in that core's L2 for every B panel the task sweeps.
    T* packed_a = thread_scratch<T>(ScratchSlot::gemm_packed_a,
                                    ceil_div(m_tiles, m_blocks) * MR * kc_max);
    for (int64_t jc = 0; jc < s.n; jc += B::nc) {
      const int64_t nc = min64(B::nc, s.n - jc);
      const int64_t b_panels = ceil_div(nc, NR);
      for (int64_t pc = 0; pc < s.k; pc += B::kc) {
        const int64_t kc = min64(B::kc, s.k - pc);
        const T beta_now = pc == 0 ? beta : T(1);  // later K blocks accumulate onto C
        if (kB == Operand::packed) {
#pragma omp for schedule(static)
          for (int64_t jp = 0; jp < b_panels; ++jp)
            pack_panel<T, NR>(b, s.ldb, s.trans_b, jc + jp * NR, int(min64(NR, nc - jp * NR)),
                              pc, kc, packed_b + jp * kc * NR);
        }
        // Tasks: the row blocks, each split into groups of B panels when there are too
        // few blocks to keep every thread busy, and into one group per thread when the
        // groups stay wide (kMinGroupPanels): a thread then mostly sweeps the same group
        // from one row block to the next, and finds its packed panels still in its L2
        // (2 threads, n = 1024-4096: 3-6% faster). A split repacks the A block.
        int64_t n_groups =
            m_blocks >= 2 * threads ? 1 : min64(b_panels, ceil_div(2 * threads, m_blocks));
        if (b_panels >= threads * kMinGroupPanels) n_groups = std::max<int64_t>(n_groups, threads);
        int64_t packed_block = -1;
#pragma omp for collapse(2) schedule(dynamic)
        for (int64_t mb = 0; mb < m_blocks; ++mb) {
          for (int64_t ng = 0; ng < n_groups; ++ng) {
            const int64_t row0 = m_tiles * mb / m_blocks * MR;
            const int64_t rows = min64(m_tiles * (mb + 1) / m_blocks * MR, s.m) - row0;
            const int64_t a_panels = ceil_div(rows, MR);
            if (packed_block != mb) {
              for (int64_t ip = 0; ip < a_panels; ++ip)
                pack_panel<T, MR>(a, s.lda, !s.trans_a, row0 + ip * MR,
                                  int(min64(MR, rows - ip * MR)), pc, kc, packed_a + ip * kc * MR);
              packed_block = mb;
            }
            // Groups as even as whole panels allow (13 panels in 4 groups: 3, 3, 3, 4).
            const int64_t jp_end = b_panels * (ng + 1) / n_groups;
            for (int64_t jp = b_panels * ng / n_groups; jp < jp_end; ++jp) {
              const int64_t col = jp * NR;
              const T* b_panel = kB == Operand::packed ? packed_b + jp * kc * NR
                                                       : b + pc * s.ldb + jc + col;
              for (int64_t ip = 0; ip < a_panels; ++ip) {
                const int64_t row = row0 + ip * MR;
                const TileOutput<T> out{c + row * s.ldc + jc + col, s.ldc,
                                        int(min64(MR, s.m - row)), int(min64(NR, nc - col)),
                                        alpha, beta_now};
                block_tile<T, MR, NV, kB>(kc, packed_a + ip * kc * MR, b_panel,
                                          kB == Operand::packed ? NR : s.ldb, out);
              }
            }
          }
        }
      }
    }
  }
}

// C[rows, cols] from A read in place (nothing packed): tiles of R rows x NV vectors,
// R from {MR, 4, 2, 1} so that every row the micro-kernel broadcasts exists.
// B is read in place (op(B) = B, rows b_k_step apart) or is one packed k x NR
// panel per NR columns.
template <typename T, int NV, Operand kB>
void tiles_with_a_in_place(const GemmShape& s, T alpha, const T* a, const T* b, int64_t b_k_step,
                           T beta, T* c, int64_t row0, int64_t row1, int64_t col0, int64_t col1) {
  constexpr int NR = NV * VectorOps<T>::lanes, MR = Blocking<T>::mr;
  const int64_t row_step = s.trans_a ? 1 : s.lda, k_step = s.trans_a ? s.lda : 1;
  for (int64_t col = col0; col < col1; col += NR) {
    const T* b_cols = kB == Operand::direct ? b + col : b + (col / NR) * s.k * NR;
    for (int64_t row = row0; row < row1;) {
      TileOutput<T> out{c + row * s.ldc + col, s.ldc, 0, int(min64(NR, col1 - col)), alpha, beta};
      auto run = [&](auto rows) {
        out.rows = rows();
        micro_kernel<T, rows(), NV, Operand::direct, kB>(s.k, a + row * row_step, row_step, k_step,
                                                         b_cols, b_k_step, out);
        row += rows();
      };
      const int64_t left = row1 - row;
      if (left >= MR) run(std::integral_constant<int, MR>{});
      else if (left >= 4) run(std::integral_constant<int, 4>{});
      else if (left >= 2) run(std::integral_constant<int, 2>{});
      else run(std::integral_constant<int, 1>{});
    }
  }
}

// The A-in-place path over all of C, split between threads by rows (split_rows) or
// by columns, in whole tiles.
template <typename T, int NV, Operand kB>
void gemm_a_in_place(const GemmShape& s, T alpha, const T* a, const T* b, int64_t b_k_step,
                     T beta, T* c, bool split_rows) {
  const int64_t unit = split_rows ? Blocking<T>::mr : NV * VectorOps<T>::lanes;
  const int64_t units = ceil_div(split_rows ? s.m : s.n, unit);
  const bool parallel = units > 1 && fork_threads(2.0 * s.m * s.n * s.k, kParallelFlops / 8);
#pragma omp parallel if (parallel)
  {
    const int threads = omp_get_num_threads(), t = omp_get_thread_num();
    const int64_t first = units * t / threads * unit, last = units * (t + 1) / threads * unit;
    if (split_rows)
      tiles_with_a_in_place<T, NV, kB>(s, alpha, a, b, b_k_step, beta, c, first,
                                       min64(last, s.m), 0, s.n);
    else
      tiles_with_a_in_place<T, NV, kB>(s, alpha, a, b, b_k_step, beta, c, 0, s.m, first,
                                       min64(last, s.n));
  }
}

template <typename T>
T sum_lanes(typename VectorOps<T>::V v) {
  T lanes[VectorOps<T>::lanes];
  VectorOps<T>::store(lanes, v);
  T sum = 0;
  for (T x : lanes) sum += x;
  return sum;
}

// Few rows with op(B) = Bᵀ: C[i, j] = alpha * dot(A row i, B row j) + beta * C[i, j]
// for columns j in [col0, col1), 4 B rows at a time; A's rows are a[i * lda + p].
template <typename T>
void few_rows_dot(const GemmShape& s, T alpha, const T* a, int64_t lda, const T* b, T beta, T* c,
                  int64_t col0, int64_t col1) {
  using Ops = VectorOps<T>;
  using V = typename Ops::V;
  constexpr int L = Ops::lanes, J = 4;
  const int64_t k_full = s.k - s.k % L;
  for (int64_t i = 0; i < s.m; ++i) {
    const T* a_row = a + i * lda;
    for (int64_t j0 = col0; j0 < col1; j0 += J) {
      const int js = int(min64(J, col1 - j0));
      V acc[J];
      for (int j = 0; j < J; ++j) acc[j] = Ops::zero();
      for (int64_t p = 0; p < k_full; p += L) {
        const V x = Ops::load(a_row + p);
#pragma GCC unroll 4
        for (int j = 0; j < J; ++j)
          if (j < js) acc[j] = Ops::fma(x, Ops::load(b + (j0 + j) * s.ldb + p), acc[j]);
      }
      if (k_full < s.k) {
        const auto mask = Ops::first(int(s.k - k_full));
        const V x = Ops::load(a_row + k_full, mask);
        for (int j = 0; j < js; ++j)
          acc[j] = Ops::fma(x, Ops::load(b + (j0 + j) * s.ldb + k_full, mask), acc[j]);
      }
      for (int j = 0; j < js; ++j) {
        T* out = c + i * s.ldc + j0 + j;
        const T value = alpha * sum_lanes<T>(acc[j]);
        *out = beta == T(0) ? value : value + beta * *out;
      }
    }
  }
}

template <typename T>
void gemm_few_rows_transposed_b(const GemmShape& s, T alpha, const T* a, const T* b, T beta,
                                T* c) {
  const T* a_rows = a;
  int64_t lda = s.lda;
  if (s.trans_a) {  // the dot products want A's rows contiguous along k
    T* copy = thread_scratch<T>(ScratchSlot::gemm_packed_a, s.m * s.k);
    for (int64_t i = 0; i < s.m; ++i)
      for (int64_t p = 0; p < s.k; ++p) copy[i * s.k + p] = a[p * s.lda + i];
    a_rows = copy;
    lda = s.k;
  }
  constexpr int64_t unit = 16;  // columns per parallel work item
  const int64_t blocks = ceil_div(s.n, unit);
  const bool parallel = fork_threads(2.0 * s.m * s.n * s.k, kParallelFlops / 8);
#pragma omp parallel for if (parallel) schedule(static)
  for (int64_t block = 0; block < blocks; ++block)
    few_rows_dot(s, alpha, a_rows, lda, b, beta, c, block * unit, min64(s.n, (block + 1) * unit));
}

template <typename T>
void gemm_any(const GemmShape& s, T alpha, const T* a, const T* b, T beta, T* c) {
  using B = Blocking<T>;
  if (s.m == 0 || s.n == 0) return;
  if (s.k == 0 || alpha == T(0)) return scale_c(s, beta, c);
  if (s.m <= B::small_m) {  // batch-1 inference, tiny batches: nothing worth packing
    if (s.trans_b) return gemm_few_rows_transposed_b(s, alpha, a, b, beta, c);
    // Wider tiles for 1-2 rows keep 8-16 FMA chains in flight while B streams past.
    if (s.m <= 2)
      return gemm_a_in_place<T, 8, Operand::direct>(s, alpha, a, b, s.ldb, beta, c, false);
    return gemm_a_in_place<T, 4, Operand::direct>(s, alpha, a, b, s.ldb, beta, c, false);
  }
  if (s.n <= B::lanes) {  // one vector of columns: each A element is used once
    if (!s.trans_b)
      return gemm_a_in_place<T, 1, Operand::direct>(s, alpha, a, b, s.ldb, beta, c, true);
    T* panel = thread_scratch<T>(ScratchSlot::gemm_packed_b, s.k * B::lanes);
    pack_panel<T, B::lanes>(b, s.ldb, true, 0, int(s.n), 0, s.k, panel);
    return gemm_a_in_place<T, 1, Operand::packed>(s, alpha, a, panel, 0, beta, c, true);
  }
  // Few rows: each element of B is used by few tiles, so it is read in place.
  if (!s.trans_b && s.m <= 4 * B::mr)
    return gemm_blocked<T, B::nv, Operand::direct>(s, alpha, a, b, beta, c);
  return gemm_blocked<T, B::nv, Operand::packed>(s, alpha, a, b, beta, c);
}

template <typename T>
GemmBlocking blocking_of() {
  using B = Blocking<T>;
  return {B::mr, B::nr, B::kc, B::mc, B::nc, B::lanes};
}

}  // namespace

void gemm(const GemmShape& s, float alpha, const float* a, const float* b, float beta, float* c) {
  gemm_any(s, alpha, a, b, beta, c);
}

void gemm(const GemmShape& s, double alpha, const double* a, const double* b, double beta,
          double* c) {
  gemm_any(s, alpha, a, b, beta, c);
}

GemmBlocking blocking(float) { return blocking_of<float>(); }
GemmBlocking blocking(double) { return blocking_of<double>(); }

const char* kernel_name() {
  static const char* name = [] {
    static char buf[64];
    std::snprintf(buf, sizeof buf, "%s %dx%d (float32)", AXONIC_STRINGIFY(AXONIC_ISA),
                  Blocking<float>::mr, Blocking<float>::nr);
    return buf;
  }();
  return name;
}

}  // namespace axonic::cpu::AXONIC_ISA
