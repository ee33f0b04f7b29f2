// Blocked GEMM in the BLIS loop order, compiled once per ISA (see gemm_arch.h).
//
//   for jc over N in NC-wide blocks:
//     for pc over K in KC-deep blocks:
//       pack op(B)[pc:pc+kc, jc:jc+nc] into NR-wide panels (kc x NR, row-major)
//       for each chunk of up to kRowChunk rows of A:
//         pack op(A)[rows, pc:pc+kc] into MR-tall panels (kc x MR, k-major)
//         parallel over tiles of (MC rows) x (a group of NR-wide panels):
//           micro-kernel: an MR x NR block of C accumulated in registers over kc
//
// The micro-kernel uses GCC vector extensions: the one source becomes zmm code
// under -mavx512f, ymm under -mavx2 and xmm in the portable build, with FMAs
// from -ffp-contract=fast. Packing pads edge panels with zeros, so edge tiles
// run the same micro-kernel and only the write-back is clipped: no scalar cliff.
// Packing also absorbs the transposes and leading dimensions, so strided views
// and the transposed products of backward passes need no copies.
// Sizes are sensible defaults, not tuned per machine (that is the GEMM issue's job).

#include <omp.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

#include "cpu/gemm_arch.h"

#ifndef AXONIC_ISA
#error "gemm_arch.cpp is compiled once per ISA with -DAXONIC_ISA=<isa>"
#endif

#define AXONIC_STRINGIFY2(x) #x
#define AXONIC_STRINGIFY(x) AXONIC_STRINGIFY2(x)

namespace axonic::cpu::AXONIC_ISA {
namespace {

#if defined(__AVX512F__)
constexpr int kVectorBytes = 64;
constexpr int kTileRows = 12;  // MR: 12 rows x 2 zmm = 24 accumulators of 32 registers
#elif defined(__AVX2__)
constexpr int kVectorBytes = 32;
constexpr int kTileRows = 6;  // 6 x 2 ymm = 12 accumulators of 16 registers
#else
constexpr int kVectorBytes = 16;
constexpr int kTileRows = 6;  // 6 x 2 xmm = 12 accumulators of 16 registers
#endif

template <typename T>
struct Blocking {
  typedef T Vector __attribute__((vector_size(kVectorBytes)));
  static constexpr int lanes = kVectorBytes / sizeof(T);
  static constexpr int mr = kTileRows;
  static constexpr int nr = 2 * lanes;         // two vectors per tile row
  static constexpr int64_t kc = 256;           // B micro-panel kc x nr stays in L1
  static constexpr int64_t mc = 16 * mr;       // A block mc x kc stays in L2
  static constexpr int64_t nc = 4096;          // packed B kc x nc stays in L3
  static constexpr int64_t row_chunk = 4096;   // bounds the packed-A buffer
};

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

template <typename T>
class AlignedBuffer {
 public:
  explicit AlignedBuffer(int64_t count) {
    size_t bytes = ((static_cast<size_t>(count) * sizeof(T) + 63) / 64) * 64;
    data_ = static_cast<T*>(std::aligned_alloc(64, bytes ? bytes : 64));
    if (!data_) throw std::bad_alloc();
  }
  ~AlignedBuffer() { std::free(data_); }
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  T* get() const { return data_; }

 private:
  T* data_;
};

// dst[p * mr + r] = op(A)[row0 + r, p0 + p], zero for rows past `rows`.
template <typename T>
void pack_a_panel(const GemmShape& s, const T* a, int64_t row0, int64_t rows, int64_t p0,
                  int64_t kc, T* dst) {
  constexpr int mr = Blocking<T>::mr;
  if (s.trans_a) {  // op(A)[i, p] = A[p, i]: each k step reads a contiguous run of rows
    for (int64_t p = 0; p < kc; ++p) {
      const T* src = a + (p0 + p) * s.lda + row0;
      for (int r = 0; r < mr; ++r) dst[p * mr + r] = r < rows ? src[r] : T(0);
    }
  } else {  // op(A)[i, p] = A[i, p]: each row is contiguous along k
    for (int r = 0; r < mr; ++r) {
      if (r < rows) {
        const T* src = a + (row0 + r) * s.lda + p0;
        for (int64_t p = 0; p < kc; ++p) dst[p * mr + r] = src[p];
      } else {
        for (int64_t p = 0; p < kc; ++p) dst[p * mr + r] = T(0);
      }
    }
  }
}

// dst[p * nr + j] = op(B)[p0 + p, col0 + j], zero for columns past `cols`.
template <typename T>
void pack_b_panel(const GemmShape& s, const T* b, int64_t p0, int64_t kc, int64_t col0,
                  int64_t cols, T* dst) {
  constexpr int nr = Blocking<T>::nr;
  if (s.trans_b) {  // op(B)[p, j] = B[j, p]
    for (int j = 0; j < nr; ++j) {
      if (j < cols) {
        const T* src = b + (col0 + j) * s.ldb + p0;
        for (int64_t p = 0; p < kc; ++p) dst[p * nr + j] = src[p];
      } else {
        for (int64_t p = 0; p < kc; ++p) dst[p * nr + j] = T(0);
      }
    }
  } else {  // op(B)[p, j] = B[p, j]
    for (int64_t p = 0; p < kc; ++p) {
      const T* src = b + (p0 + p) * s.ldb + col0;
      for (int j = 0; j < nr; ++j) dst[p * nr + j] = j < cols ? src[j] : T(0);
    }
  }
}

// tile (mr x nr) = a_panel^T (mr x kc) * b_panel (kc x nr), in registers.
template <typename T>
inline void micro_kernel(int64_t kc, const T* __restrict a_panel, const T* __restrict b_panel,
                         T* __restrict tile) {
  using B = Blocking<T>;
  using V = typename B::Vector;
  V acc0[B::mr], acc1[B::mr];
#pragma GCC unroll 16
  for (int r = 0; r < B::mr; ++r) acc0[r] = acc1[r] = V{};
  for (int64_t p = 0; p < kc; ++p) {
    V b0, b1;
    std::memcpy(&b0, b_panel, sizeof(V));
    std::memcpy(&b1, b_panel + B::lanes, sizeof(V));
#pragma GCC unroll 16
    for (int r = 0; r < B::mr; ++r) {
      const V a = a_panel[r] - V{};  // broadcast (x - 0 is exact and folds away)
      acc0[r] += a * b0;
      acc1[r] += a * b1;
    }
    a_panel += B::mr;
    b_panel += B::nr;
  }
#pragma GCC unroll 16
  for (int r = 0; r < B::mr; ++r) {
    std::memcpy(tile + r * B::nr, &acc0[r], sizeof(V));
    std::memcpy(tile + r * B::nr + B::lanes, &acc1[r], sizeof(V));
  }
}

// C[0:rows, 0:cols] = alpha * tile + beta * C; beta == 0 never reads C.
template <typename T>
void write_tile(const T* tile, int64_t rows, int64_t cols, T alpha, T beta, T* c, int64_t ldc) {
  constexpr int nr = Blocking<T>::nr;
  for (int64_t r = 0; r < rows; ++r) {
    T* c_row = c + r * ldc;
    const T* t_row = tile + r * nr;
    if (beta == T(0)) {
      for (int64_t j = 0; j < cols; ++j) c_row[j] = alpha * t_row[j];
    } else {
      for (int64_t j = 0; j < cols; ++j) c_row[j] = alpha * t_row[j] + beta * c_row[j];
    }
  }
}

template <typename T>
void scale_c(const GemmShape& s, T beta, T* c) {
  for (int64_t i = 0; i < s.m; ++i)
    for (int64_t j = 0; j < s.n; ++j) c[i * s.ldc + j] = beta == T(0) ? T(0) : beta * c[i * s.ldc + j];
}

template <typename T>
void gemm_blocked(const GemmShape& s, T alpha, const T* a, const T* b, T beta, T* c) {
  using B = Blocking<T>;
  if (s.m == 0 || s.n == 0) return;
  if (s.k == 0 || alpha == T(0)) return scale_c(s, beta, c);

  const int64_t kc_max = std::min(B::kc, s.k);
  const int64_t nc_max = std::min(B::nc, s.n);
  const int64_t rows_max = std::min(B::row_chunk, s.m);
  AlignedBuffer<T> packed_b(kc_max * ceil_div(nc_max, B::nr) * B::nr);
  AlignedBuffer<T> packed_a(ceil_div(rows_max, B::mr) * B::mr * kc_max);

  const int threads = omp_get_max_threads();
  // Forking threads costs microseconds: small products run on the calling thread.
  const bool parallel = threads > 1 && double(s.m) * s.n * s.k > 128.0 * 128 * 64;

  for (int64_t jc = 0; jc < s.n; jc += B::nc) {
    const int64_t nc = std::min(B::nc, s.n - jc);
    const int64_t b_panels = ceil_div(nc, B::nr);
    for (int64_t pc = 0; pc < s.k; pc += B::kc) {
      const int64_t kc = std::min(B::kc, s.k - pc);
      const T beta_now = pc == 0 ? beta : T(1);  // later K blocks accumulate onto C
#pragma omp parallel if (parallel)
      {
#pragma omp for schedule(static)
        for (int64_t jp = 0; jp < b_panels; ++jp)
          pack_b_panel(s, b, pc, kc, jc + jp * B::nr, std::min<int64_t>(B::nr, nc - jp * B::nr),
                       packed_b.get() + jp * kc * B::nr);

        for (int64_t ic = 0; ic < s.m; ic += B::row_chunk) {
          const int64_t rows = std::min(B::row_chunk, s.m - ic);
          const int64_t a_panels = ceil_div(rows, B::mr);
#pragma omp for schedule(static)
          for (int64_t ip = 0; ip < a_panels; ++ip)
            pack_a_panel(s, a, ic + ip * B::mr, std::min<int64_t>(B::mr, rows - ip * B::mr), pc,
                         kc, packed_a.get() + ip * kc * B::mr);

          // Tiles: MC-row blocks x groups of B panels, enough of them to feed every thread.
          const int64_t m_blocks = ceil_div(rows, B::mc);
          const int64_t n_groups =
              std::min(b_panels, std::max<int64_t>(1, ceil_div(4 * threads, m_blocks)));
          const int64_t group_panels = ceil_div(b_panels, n_groups);
#pragma omp for collapse(2) schedule(dynamic)
          for (int64_t mb = 0; mb < m_blocks; ++mb) {
            for (int64_t ng = 0; ng < n_groups; ++ng) {
              alignas(64) T tile[B::mr * B::nr];
              const int64_t ip_end = std::min(a_panels, (mb + 1) * (B::mc / B::mr));
              const int64_t jp_end = std::min(b_panels, (ng + 1) * group_panels);
              for (int64_t jp = ng * group_panels; jp < jp_end; ++jp) {
                const int64_t col = jp * B::nr;
                const int64_t cols = std::min<int64_t>(B::nr, nc - col);
                for (int64_t ip = mb * (B::mc / B::mr); ip < ip_end; ++ip) {
                  const int64_t row = ip * B::mr;
                  micro_kernel(kc, packed_a.get() + ip * kc * B::mr,
                               packed_b.get() + jp * kc * B::nr, tile);
                  write_tile(tile, std::min<int64_t>(B::mr, rows - row), cols, alpha, beta_now,
                             c + (ic + row) * s.ldc + jc + col, s.ldc);
                }
              }
            }
          }
        }
      }
    }
  }
}

}  // namespace

void gemm(const GemmShape& s, float alpha, const float* a, const float* b, float beta, float* c) {
  gemm_blocked(s, alpha, a, b, beta, c);
}

void gemm(const GemmShape& s, double alpha, const double* a, const double* b, double beta,
          double* c) {
  gemm_blocked(s, alpha, a, b, beta, c);
}

template <typename T>
GemmBlocking blocking_of() {
  using B = Blocking<T>;
  return {B::mr, B::nr, B::kc, B::mc, B::nc};
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
