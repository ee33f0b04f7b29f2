// GEMM drivers, compiled once per ISA (see gemm_arch.h). Three paths:
//
// Blocked (the general case), in the BLIS loop order:
//   for jc over N in NC-wide blocks:
//     for pc over K in KC-deep blocks:
//       pack op(B)[pc:pc+kc, jc:jc+nc] into NR-wide panels (kc x NR)   [shared]
//       for each chunk of up to kRowChunk rows of A:
//         pack op(A)[rows, pc:pc+kc] into MR-tall panels (kc x MR)     [shared]
//         parallel over tiles of (MC rows) x (a group of NR-wide panels):
//           micro-kernel on each MR x NR block of C
//   A kc x NR panel of B stays in L1 while the MC x kc block of A streams from
//   L2 past it. Packing absorbs transposes and leading dimensions, so strided
//   views and the transposed products of backward passes need no copies.
//
// Blocked with B read in place (op(B) = B and few rows of A, or N within one
// vector): each element of B is used by few tiles, so packing it would cost more
// than it saves; the micro-kernel loads B's rows directly and masks the last
// columns.
//
// Few rows (M <= 4: batch-1 inference, tiny batches): nothing is packed. With
// op(B) = B the micro-kernel runs on 4, 2 or 1 rows of A in place over 4-vector
// column blocks; with op(B) = Bᵀ each C element is a dot product of an A row and
// a B row, computed 4 B rows at a time.

#include <omp.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <new>

#include "cpu/gemm_arch.h"
#include "cpu/gemm_micro_kernel.h"
#include "cpu/gemm_pack.h"

#ifndef AXONIC_ISA
#error "gemm_arch.cpp is compiled once per ISA with -DAXONIC_ISA=<isa>"
#endif

#define AXONIC_STRINGIFY2(x) #x
#define AXONIC_STRINGIFY(x) AXONIC_STRINGIFY2(x)

namespace axonic::cpu::AXONIC_ISA {
namespace {

#if defined(__AVX512F__)
constexpr int kTileRows = 12;  // MR: 12 rows x 2 zmm = 24 of the 32 vector registers
#else
constexpr int kTileRows = 6;  // 6 rows x 2 vectors = 12 of the 16 vector registers
#endif

template <typename T>
struct Blocking {
  static constexpr int lanes = VectorOps<T>::lanes;
  static constexpr int mr = kTileRows;
  static constexpr int nv = 2;                 // vectors per tile row in the blocked path
  static constexpr int nr = nv * lanes;
  static constexpr int64_t kc = 256;           // B micro-panel kc x nr stays in L1
  static constexpr int64_t mc = 32 * mr;       // A block mc x kc stays in L2
  static constexpr int64_t nc = 4096;          // packed B kc x nc stays in L3
  static constexpr int64_t row_chunk = 4096;   // bounds the packed-A buffer
  static constexpr int small_m = 4;            // M up to this takes the few-rows path
};

// Forking threads costs microseconds: smaller products run on the calling thread.
constexpr double kParallelFlops = 2.0 * 128 * 128 * 64;

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

// A growable 64-byte-aligned buffer per thread and purpose, kept between calls so
// small products do not pay for allocation (and large ones not for page faults).
template <typename T, int kSlot>
T* scratch(int64_t count) {
  struct Buffer {
    void* data = nullptr;
    size_t bytes = 0;
    ~Buffer() { std::free(data); }
  };
  thread_local Buffer buffer;
  const size_t bytes = ((static_cast<size_t>(count) * sizeof(T) + 63) / 64) * 64;
  if (bytes > buffer.bytes) {
    std::free(buffer.data);
    buffer.data = std::aligned_alloc(64, bytes);
    buffer.bytes = buffer.data ? bytes : 0;
    if (!buffer.data) throw std::bad_alloc();
  }
  return static_cast<T*>(buffer.data);
}

template <typename T>
void scale_c(const GemmShape& s, T beta, T* c) {
  for (int64_t i = 0; i < s.m; ++i)
    for (int64_t j = 0; j < s.n; ++j)
      c[i * s.ldc + j] = beta == T(0) ? T(0) : beta * c[i * s.ldc + j];
}

template <typename T, int NV, Operand kB>
void gemm_blocked(const GemmShape& s, T alpha, const T* a, const T* b, T beta, T* c) {
  using B = Blocking<T>;
  constexpr int MR = B::mr, NR = NV * B::lanes;
  const int64_t kc_max = min64(B::kc, s.k);
  const int64_t nc_max = min64(B::nc, s.n);
  const int64_t rows_max = min64(B::row_chunk, s.m);
  T* packed_b = kB == Operand::packed ? scratch<T, 0>(kc_max * ceil_div(nc_max, NR) * NR) : nullptr;
  T* packed_a = scratch<T, 1>(ceil_div(rows_max, MR) * MR * kc_max);

  const int threads = omp_get_max_threads();
  const bool parallel = threads > 1 && 2.0 * s.m * s.n * s.k > kParallelFlops;

#pragma omp parallel if (parallel)
  for (int64_t jc = 0; jc < s.n; jc += B::nc) {
    const int64_t nc = min64(B::nc, s.n - jc);
    const int64_t b_panels = ceil_div(nc, NR);
    for (int64_t pc = 0; pc < s.k; pc += B::kc) {
      const int64_t kc = min64(B::kc, s.k - pc);
      const T beta_now = pc == 0 ? beta : T(1);  // later K blocks accumulate onto C
      if (kB == Operand::packed) {
#pragma omp for schedule(static)
        for (int64_t jp = 0; jp < b_panels; ++jp)
          pack_panel<T, NR>(b, s.ldb, s.trans_b, jc + jp * NR, int(min64(NR, nc - jp * NR)), pc,
                            kc, packed_b + jp * kc * NR);
      }
      for (int64_t ic = 0; ic < s.m; ic += B::row_chunk) {
        const int64_t rows = min64(B::row_chunk, s.m - ic);
        const int64_t a_panels = ceil_div(rows, MR);
#pragma omp for schedule(static)
        for (int64_t ip = 0; ip < a_panels; ++ip)
          pack_panel<T, MR>(a, s.lda, !s.trans_a, ic + ip * MR, int(min64(MR, rows - ip * MR)),
                            pc, kc, packed_a + ip * kc * MR);

        // Tiles: MC-row blocks x groups of B panels, enough of them to feed every thread.
        const int64_t m_blocks = ceil_div(rows, B::mc);
        const int64_t n_groups =
            std::min(b_panels, std::max<int64_t>(1, ceil_div(4 * threads, m_blocks)));
        const int64_t group_panels = ceil_div(b_panels, n_groups);
#pragma omp for collapse(2) schedule(dynamic)
        for (int64_t mb = 0; mb < m_blocks; ++mb) {
          for (int64_t ng = 0; ng < n_groups; ++ng) {
            const int64_t ip_end = min64(a_panels, (mb + 1) * (B::mc / MR));
            const int64_t jp_end = min64(b_panels, (ng + 1) * group_panels);
            for (int64_t jp = ng * group_panels; jp < jp_end; ++jp) {
              const int64_t col = jp * NR;
              const T* b_panel = kB == Operand::packed ? packed_b + jp * kc * NR
                                                       : b + pc * s.ldb + jc + col;
              for (int64_t ip = mb * (B::mc / MR); ip < ip_end; ++ip) {
                const int64_t row = ip * MR;
                const TileOutput<T> out{c + (ic + row) * s.ldc + jc + col, s.ldc,
                                        int(min64(MR, rows - row)), int(min64(NR, nc - col)),
                                        alpha, beta_now};
                micro_kernel<T, MR, NV, Operand::packed, kB>(kc, packed_a + ip * kc * MR, 0, 0,
                                                             b_panel, s.ldb, out);
              }
            }
          }
        }
      }
    }
  }
}

// M <= small_m, op(B) = B: R rows of A in place against 4-vector column blocks of B.
template <typename T, int R>
void few_rows_block(const GemmShape& s, T alpha, const T* a, const T* b, T beta, T* c,
                    int64_t col0, int64_t col1) {
  constexpr int NV = 4, NR = NV * VectorOps<T>::lanes;
  const int64_t row_step = s.trans_a ? 1 : s.lda, k_step = s.trans_a ? s.lda : 1;
  for (int64_t col = col0; col < col1; col += NR) {
    const TileOutput<T> out{c + col, s.ldc, R, int(min64(NR, col1 - col)), alpha, beta};
    micro_kernel<T, R, NV, Operand::direct, Operand::direct>(s.k, a, row_step, k_step, b + col,
                                                             s.ldb, out);
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

// M <= small_m, op(B) = Bᵀ: C[i, j] = alpha * dot(op(A) row i, B row j) + beta * C[i, j]
// for columns j in [col0, col1), 4 B rows at a time (op(A) = A only; the caller
// handles Aᵀ by packing A first).
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
void gemm_few_rows(const GemmShape& s, T alpha, const T* a, const T* b, T beta, T* c) {
  const int threads = omp_get_max_threads();
  const bool parallel = threads > 1 && 2.0 * s.m * s.n * s.k > kParallelFlops;
  // Columns split in whole 4-vector blocks between threads.
  const int64_t unit = 4 * VectorOps<T>::lanes;
  const int64_t blocks = ceil_div(s.n, unit);

  const T* a_rows = a;
  int64_t lda = s.lda;
  if (s.trans_b && s.trans_a) {  // the dot kernel wants A's rows contiguous along k
    T* copy = scratch<T, 1>(s.m * s.k);
    for (int64_t i = 0; i < s.m; ++i)
      for (int64_t p = 0; p < s.k; ++p) copy[i * s.k + p] = a[p * s.lda + i];
    a_rows = copy;
    lda = s.k;
  }

#pragma omp parallel for if (parallel) schedule(static)
  for (int64_t block = 0; block < blocks; ++block) {
    const int64_t col0 = block * unit, col1 = min64(s.n, col0 + unit);
    if (s.trans_b) {
      few_rows_dot(s, alpha, a_rows, lda, b, beta, c, col0, col1);
      continue;
    }
    // Row r of op(A) starts at a + r * a_row_step.
    const int64_t a_row_step = s.trans_a ? 1 : s.lda;
    int64_t row = 0;
    for (; row + 4 <= s.m; row += 4)
      few_rows_block<T, 4>(s, alpha, a + row * a_row_step, b, beta, c + row * s.ldc, col0, col1);
    for (; row + 2 <= s.m; row += 2)
      few_rows_block<T, 2>(s, alpha, a + row * a_row_step, b, beta, c + row * s.ldc, col0, col1);
    for (; row < s.m; ++row)
      few_rows_block<T, 1>(s, alpha, a + row * a_row_step, b, beta, c + row * s.ldc, col0, col1);
  }
}

template <typename T>
void gemm_any(const GemmShape& s, T alpha, const T* a, const T* b, T beta, T* c) {
  using B = Blocking<T>;
  if (s.m == 0 || s.n == 0) return;
  if (s.k == 0 || alpha == T(0)) return scale_c(s, beta, c);
  if (s.m <= B::small_m) return gemm_few_rows(s, alpha, a, b, beta, c);
  const bool narrow = s.n <= B::lanes;
  const bool b_in_place = !s.trans_b && (narrow || s.m <= 4 * B::mr);
  if (narrow)
    return b_in_place ? gemm_blocked<T, 1, Operand::direct>(s, alpha, a, b, beta, c)
                      : gemm_blocked<T, 1, Operand::packed>(s, alpha, a, b, beta, c);
  return b_in_place ? gemm_blocked<T, B::nv, Operand::direct>(s, alpha, a, b, beta, c)
                    : gemm_blocked<T, B::nv, Operand::packed>(s, alpha, a, b, beta, c);
}

template <typename T>
GemmBlocking blocking_of() {
  using B = Blocking<T>;
  return {B::mr, B::nr, B::kc, B::mc, B::nc};
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
