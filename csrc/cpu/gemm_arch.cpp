// GEMM drivers, compiled once per ISA (see gemm_arch.h). gemm_any picks a path:
//
// Blocked (the general case, gemm_blocked.h): A and B packed into panels for the
// micro-kernel, in the BLIS loop order; B read in place instead when op(B) = B and
// A has few rows, since each element of B then meets few tiles.
//
// A read in place (M <= 4: batch-1 inference and tiny batches; or N within a few
// vectors, gemm_narrow, where each element of A meets a single column tile): nothing
// of A is packed; the micro-kernel broadcasts straight from A's rows in tiles of MR
// (2 MR for one vector of columns), 4, 2 or 1 rows.
//
// Dot products (gemm_dots.h): with op(B) = Bᵀ, when M <= 4 or N fills at most 3/4 of
// a vector, each C element is a dot product of an A row and a B row, both read along
// k, in tiles of up to 4 x 4 of them.

#include <omp.h>

#include <cstdio>
#include <type_traits>

#include "cpu/gemm_arch.h"
#include "cpu/gemm_blocked.h"
#include "cpu/gemm_blocking.h"
#include "cpu/gemm_dots.h"
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
void scale_c(const GemmShape& s, T beta, T* c) {
  for (int64_t i = 0; i < s.m; ++i)
    for (int64_t j = 0; j < s.n; ++j)
      c[i * s.ldc + j] = beta == T(0) ? T(0) : beta * c[i * s.ldc + j];
}

// Rows of the A-in-place tiles: with one vector per row, twice MR, so that the tile
// keeps 12 FMA chains in flight (6 left the FMA units idle a quarter of the time).
template <typename T, int NV>
constexpr int a_in_place_rows() {
  return NV == 1 ? 2 * Blocking<T>::mr : Blocking<T>::mr;
}

// C[rows, cols] from A read in place (nothing packed): tiles of R rows x NV vectors,
// R from {MR, 4, 2, 1} (MR = a_in_place_rows) so that every row the micro-kernel
// broadcasts exists.
// B is read in place (op(B) = B, rows b_k_step apart) or is one packed k x NR
// panel per NR columns.
template <typename T, int NV, Operand kB>
void tiles_with_a_in_place(const GemmShape& s, T alpha, const T* a, const T* b, int64_t b_k_step,
                           T beta, T* c, int64_t row0, int64_t row1, int64_t col0, int64_t col1) {
  constexpr int NR = NV * VectorOps<T>::lanes, MR = a_in_place_rows<T, NV>();
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

// Runs share(row0, row1, col0, col1) on every thread with a share of C: whole units of
// `unit` rows (split_rows) or columns, as even as the units allow. Products too small
// to fork for stay on the calling thread.
template <typename Share>
void run_shares(const GemmShape& s, bool split_rows, int64_t unit, const Share& share) {
  const int64_t units = ceil_div(split_rows ? s.m : s.n, unit);
  const bool parallel = units > 1 && fork_threads(2.0 * s.m * s.n * s.k, kParallelFlops);
  run_parallel_if(parallel, [&] {
    const int threads = omp_get_num_threads(), t = omp_get_thread_num();
    const int64_t first = units * t / threads * unit;
    const int64_t last = min64(units * (t + 1) / threads * unit, split_rows ? s.m : s.n);
    if (first < last) {
      if (split_rows) share(first, last, int64_t(0), s.n);
      else share(int64_t(0), s.m, first, last);
    }
  });
}

// The A-in-place path over all of C, split between threads by rows (split_rows) or
// by columns, in whole tiles. B is read in place (op(B) = B, rows b_k_step apart), or
// with kB = packed it is Bᵀ with N <= NR, packed into one k x NR panel by every thread
// for itself: reading a panel another core had just written cost more than packing
// it twice (2 threads, 128x256x16: 2 threads ran slower than 1).
template <typename T, int NV, Operand kB>
void gemm_a_in_place(const GemmShape& s, T alpha, const T* a, const T* b, int64_t b_k_step,
                     T beta, T* c, bool split_rows) {
  constexpr int NR = NV * VectorOps<T>::lanes;
  const int64_t unit = split_rows ? a_in_place_rows<T, NV>() : NR;
  run_shares(s, split_rows, unit, [&](int64_t row0, int64_t row1, int64_t col0, int64_t col1) {
    const T* b_rows = b;
    if (kB == Operand::packed) {
      T* panel = thread_scratch<T>(ScratchSlot::gemm_packed_b, s.k * NR);
      pack_panel<T, NR>(b, s.ldb, true, 0, int(s.n), 0, s.k, panel);
      b_rows = panel;
    }
    tiles_with_a_in_place<T, NV, kB>(s, alpha, a, b_rows, b_k_step, beta, c, row0, row1, col0,
                                     col1);
  });
}

// The dot-product path (gemm_dots.h) over all of C, for op(B) = Bᵀ, whose rows run
// along k. A's rows must too: with op(A) = Aᵀ they are copied, which the callers allow
// only when A is tiny (M <= 4), each thread making its own copy as gemm_a_in_place
// packs Bᵀ. Threads split the longer side of C.
template <typename T>
void gemm_dots(const GemmShape& s, T alpha, const T* a, const T* b, T beta, T* c) {
  const bool split_rows = s.m >= s.n;
  const int64_t unit = split_rows ? dot_tile_rows<T>() : 16;  // rows or columns per share
  run_shares(s, split_rows, unit, [&](int64_t row0, int64_t row1, int64_t col0, int64_t col1) {
    const T* a_rows = a;
    int64_t lda = s.lda;
    if (s.trans_a) {
      T* copy = thread_scratch<T>(ScratchSlot::gemm_packed_a, s.m * s.k);
      for (int64_t p = 0; p < s.k; ++p)
        for (int64_t i = 0; i < s.m; ++i) copy[i * s.k + p] = a[p * s.lda + i];
      a_rows = copy, lda = s.k;
    }
    dot_tiles<T>(s.k, a_rows, lda, b, s.ldb, alpha, beta, c, s.ldc, row0, row1, col0, col1);
  });
}

// Whether a product with N within one vector runs as dot products (gemm_dots): B's rows
// must already run along k and A's too (nothing copied), the columns leave a quarter
// of the vector or more empty, and k is deep enough that the k loop, not the sums of
// lanes after it, takes the time. 2 threads, AVX-512: 128x256x10 with op(B) = Bᵀ
// 60 -> 133 GFLOP/s; with N = 16 the A-in-place tiles fill their lanes and stay ahead.
template <typename T>
bool narrow_as_dots(const GemmShape& s) {
  constexpr int lanes = VectorOps<T>::lanes;
  return s.trans_b && !s.trans_a && 4 * s.n <= 3 * lanes && s.k >= 8 * lanes;
}

// C with N within NV vectors, all in one column tile: A read in place, B read in place
// or (op(B) = Bᵀ) packed whole by each thread. Against the blocked path, which packs
// B zero-padded to NR columns and, on 2 threads, all of it on each (2 threads, AVX-512,
// 128x256xN GFLOP/s: N = 24 61 -> 138, N = 32 81-99 -> 198-208, N = 48 165 -> 210;
// AVX2, N = 10 37-43 -> 68, N = 16 69-80 -> 121-134). At N = 64 (4 vectors) packing
// won again (2 threads, 512x512x64: 258-290 blocked, 223-234 in place). With MR = 6
// rows, 3 vectors take 18 accumulators of 32 registers, 2 take 12 of 16.
constexpr int kMaxNarrowVectors = kVectorBytes == 64 ? 3 : 2;
// With op(A) = Aᵀ, A read in place takes a new line at every k step, and a new page
// once lda passes 1024 floats: past this depth one tile's pages outgrow the TLB and
// packing wins (2 threads, AVX-512: 2048x2048x32 in place 43-60 GFLOP/s, blocked 76-80;
// 1024x1024x32 in place 91, blocked 77).
constexpr int64_t kMaxStridedDepth = 1024;

// gemm_narrow runs all of K at once, so every tile of rows reads B's whole k x N strip:
// with 2 or more vectors of columns, once the strip outgrows L2 the blocked path's K
// blocks win (2 threads, AVX-512: 1024x16384x32, 2 MiB: narrow 131 GFLOP/s, blocked
// 152; 512x65536x48, 12 MiB: 117 and 168; 2048x8192x48, 1.5 MiB: narrow 175, blocked
// 140). With one vector the blocked path's 4-vector tiles waste too much to catch up
// (256x131072x10: narrow 75, blocked 40).
constexpr double kMaxNarrowStripBytes = 1.5 * (1 << 20);

template <typename T, int NV>
void gemm_narrow(const GemmShape& s, T alpha, const T* a, const T* b, T beta, T* c) {
  if (!s.trans_b)
    return gemm_a_in_place<T, NV, Operand::direct>(s, alpha, a, b, s.ldb, beta, c, true);
  return gemm_a_in_place<T, NV, Operand::packed>(s, alpha, a, b, 0, beta, c, true);
}

template <typename T>
void gemm_any(const GemmShape& s, T alpha, const T* a, const T* b, T beta, T* c) {
  using B = Blocking<T>;
  if (s.m == 0 || s.n == 0) return;
  if (s.k == 0 || alpha == T(0)) return scale_c(s, beta, c);
  if (s.m <= B::small_m) {  // batch-1 inference, tiny batches: nothing worth packing
    if (s.trans_b) return gemm_dots(s, alpha, a, b, beta, c);
    // Wider tiles for 1-2 rows keep 8-16 FMA chains in flight while B streams past.
    if (s.m <= 2)
      return gemm_a_in_place<T, 8, Operand::direct>(s, alpha, a, b, s.ldb, beta, c, false);
    return gemm_a_in_place<T, 4, Operand::direct>(s, alpha, a, b, s.ldb, beta, c, false);
  }
  if (s.n <= B::lanes && narrow_as_dots<T>(s)) return gemm_dots(s, alpha, a, b, beta, c);
  if (!s.trans_a || s.k <= kMaxStridedDepth) {  // one column tile: A read in place
    if (s.n <= B::lanes) return gemm_narrow<T, 1>(s, alpha, a, b, beta, c);
    const bool strip_fits = double(s.k) * ceil_div(s.n, B::lanes) * B::lanes * sizeof(T) <=
                            kMaxNarrowStripBytes;
    if (strip_fits && s.n <= 2 * B::lanes) return gemm_narrow<T, 2>(s, alpha, a, b, beta, c);
    if (strip_fits && kMaxNarrowVectors >= 3 && s.n <= 3 * B::lanes)
      return gemm_narrow<T, kMaxNarrowVectors >= 3 ? 3 : 2>(s, alpha, a, b, beta, c);
  }
  return gemm_blocked(s, alpha, a, b, beta, c);
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
