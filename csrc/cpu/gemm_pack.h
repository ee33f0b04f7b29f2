// Packing for the GEMM micro-kernel: copies a kc-deep slice of op(A) or op(B)
// into a panel of width W (MR for A, NR for B) laid out step by step,
//
//   panel[p * W + w] = X(w, p)   for w < count, 0 for count <= w < W,
//
// so the micro-kernel reads both operands with unit stride and edge tiles are
// zero-padded. Two source layouts occur:
//   contiguous along w: X(w, p) = src[p * ld + w]  (op(A) = Aᵀ, op(B) = B): row copies;
//   contiguous along p: X(w, p) = src[w * ld + p]  (op(A) = A, op(B) = Bᵀ): a transpose,
//     done 8 x 8 (float) or 4 x 4 (double) in registers where AVX is available, and
//     16 x 16 for float B panels on AVX-512 (2 threads, 128x784x256 with op(B) = Bᵀ,
//     nn.Linear's forward: 241-245 -> 259-265 GFLOP/s), since a scalar transpose
//     would cost as much as the products for the MLP shapes.
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "cpu/simd.h"

namespace axonic::cpu::AXONIC_ISA {

// dst[0:count] = row[0:count], dst[count:W] = 0: one step of a panel narrower than W.
template <typename T, int W>
inline void copy_zero_padded(const T* row, int count, T* __restrict dst) {
  int w = 0;
  for (; w < count; ++w) dst[w] = row[w];
  for (; w < W; ++w) dst[w] = T(0);
}

template <typename T, int W>
inline void pack_rows(const T* src, int64_t ld, int count, int64_t kc, T* __restrict panel) {
  if (count == W) {  // a copy of constant size is inlined as vector moves: no call per row
    for (int64_t p = 0; p < kc; ++p) std::memcpy(panel + p * W, src + p * ld, sizeof(T) * W);
    return;
  }
  for (int64_t p = 0; p < kc; ++p) copy_zero_padded<T, W>(src + p * ld, count, panel + p * W);
}

// Scalar transpose of the block w in [w0, w1), p in [p0, p1).
template <typename T, int W>
inline void transpose_scalar(const T* src, int64_t ld, int w0, int w1, int64_t p0, int64_t p1,
                             T* __restrict panel) {
  for (int64_t p = p0; p < p1; ++p)
    for (int w = w0; w < w1; ++w) panel[p * W + w] = src[w * ld + p];
}

#if defined(__AVX2__)
// out[i] = column i of the 8 x 8 block whose rows are rows[0..7] (8 floats each).
inline void transpose_8x8(const __m256 rows[8], __m256 out[8]) {
  __m256 t[8], u[8];
  for (int i = 0; i < 4; ++i) {
    t[2 * i] = _mm256_unpacklo_ps(rows[2 * i], rows[2 * i + 1]);
    t[2 * i + 1] = _mm256_unpackhi_ps(rows[2 * i], rows[2 * i + 1]);
  }
  for (int i = 0; i < 2; ++i) {
    for (int j = 0; j < 2; ++j) {
      const __m256 x = t[4 * i + j], y = t[4 * i + j + 2];
      u[4 * i + 2 * j] = _mm256_shuffle_ps(x, y, 0x44);
      u[4 * i + 2 * j + 1] = _mm256_shuffle_ps(x, y, 0xEE);
    }
  }
  for (int i = 0; i < 4; ++i) {
    out[i] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x20);
    out[i + 4] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x31);
  }
}

// out[i] = column i of the 4 x 4 block of doubles.
inline void transpose_4x4(const __m256d rows[4], __m256d out[4]) {
  const __m256d t0 = _mm256_unpacklo_pd(rows[0], rows[1]);
  const __m256d t1 = _mm256_unpackhi_pd(rows[0], rows[1]);
  const __m256d t2 = _mm256_unpacklo_pd(rows[2], rows[3]);
  const __m256d t3 = _mm256_unpackhi_pd(rows[2], rows[3]);
  out[0] = _mm256_permute2f128_pd(t0, t2, 0x20);
  out[1] = _mm256_permute2f128_pd(t1, t3, 0x20);
  out[2] = _mm256_permute2f128_pd(t0, t2, 0x31);
  out[3] = _mm256_permute2f128_pd(t1, t3, 0x31);
}

// Transposes groups of up to 8 rows (w) x 8 steps (p); a group of fewer rows
// loads zeros for the missing ones and stores only the lanes that exist.
inline void transpose_block(const float* src, int64_t ld, int w0, int rows, int64_t p0,
                            float* dst, int W) {
  __m256 in[8], out[8];
  for (int i = 0; i < 8; ++i)
    in[i] = i < rows ? _mm256_loadu_ps(src + (w0 + i) * ld + p0) : _mm256_setzero_ps();
  transpose_8x8(in, out);
  if (rows == 8) {
    for (int i = 0; i < 8; ++i) _mm256_storeu_ps(dst + (p0 + i) * W + w0, out[i]);
  } else {  // a masked store: a memcpy of a runtime size would be a call per row
    const __m256i first =
        _mm256_cmpgt_epi32(_mm256_set1_epi32(rows), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    for (int i = 0; i < 8; ++i) _mm256_maskstore_ps(dst + (p0 + i) * W + w0, first, out[i]);
  }
}

inline void transpose_block(const double* src, int64_t ld, int w0, int rows, int64_t p0,
                            double* dst, int W) {
  __m256d in[4], out[4];
  for (int i = 0; i < 4; ++i)
    in[i] = i < rows ? _mm256_loadu_pd(src + (w0 + i) * ld + p0) : _mm256_setzero_pd();
  transpose_4x4(in, out);
  const __m256i first =
      _mm256_cmpgt_epi64(_mm256_set1_epi64x(rows), _mm256_setr_epi64x(0, 1, 2, 3));
  for (int i = 0; i < 4; ++i) {
    if (rows == 4) {
      _mm256_storeu_pd(dst + (p0 + i) * W + w0, out[i]);
    } else {
      _mm256_maskstore_pd(dst + (p0 + i) * W + w0, first, out[i]);
    }
  }
}
#endif

#if defined(__AVX512F__)
// Transposes up to 16 rows (w) x 16 steps (p) of floats into a panel of width W, a
// multiple of 16: missing rows load as zeros, which land in the panel's zero padding.
// 64 shuffles per 256 floats, against 96 in 8 x 8 blocks.
inline void transpose_block_16(const float* src, int64_t ld, int w0, int rows, int64_t p0,
                               float* dst, int W) {
  __m512 r[16], t[16];
  for (int i = 0; i < 16; ++i)
    r[i] = i < rows ? _mm512_loadu_ps(src + (w0 + i) * ld + p0) : _mm512_setzero_ps();
  for (int i = 0; i < 16; i += 2) {  // pairs of rows interleaved within 128-bit lanes
    t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {  // r[i + j]: step j (+4, +8, +12 per lane) of rows i..i+3
    r[i] = _mm512_shuffle_ps(t[i], t[i + 2], 0x44);
    r[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], 0xEE);
    r[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0x44);
    r[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
  }
  for (int j = 0; j < 4; ++j) {  // gather the four 4-row groups of steps j, j+4, j+8, j+12
    const __m512 a = _mm512_shuffle_f32x4(r[j], r[4 + j], 0x88);   // steps j, j+8: rows 0-7
    const __m512 b = _mm512_shuffle_f32x4(r[j], r[4 + j], 0xDD);   // steps j+4, j+12
    const __m512 c = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0x88);  // rows 8-15
    const __m512 d = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0xDD);
    _mm512_storeu_ps(dst + (p0 + j) * W + w0, _mm512_shuffle_f32x4(a, c, 0x88));
    _mm512_storeu_ps(dst + (p0 + j + 8) * W + w0, _mm512_shuffle_f32x4(a, c, 0xDD));
    _mm512_storeu_ps(dst + (p0 + j + 4) * W + w0, _mm512_shuffle_f32x4(b, d, 0x88));
    _mm512_storeu_ps(dst + (p0 + j + 12) * W + w0, _mm512_shuffle_f32x4(b, d, 0xDD));
  }
}
#endif

template <typename T, int W>
inline void pack_columns(const T* src, int64_t ld, int count, int64_t kc, T* __restrict panel) {
  int64_t p_done = 0;
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<T, float> && W % 16 == 0) {  // B panels: 16 x 16 blocks
    p_done = kc - kc % 16;
    for (int w0 = 0; w0 < count; w0 += 16) {
      const int rows = count - w0 < 16 ? count - w0 : 16;
      for (int64_t p0 = 0; p0 < p_done; p0 += 16)
        transpose_block_16(src, ld, w0, rows, p0, panel, W);
    }
  }
#endif
#if defined(__AVX2__)
  constexpr int block = 32 / sizeof(T);  // 8 floats or 4 doubles per register
  const int64_t p_first = p_done;
  p_done += (kc - p_done) / block * block;
  for (int w0 = 0; w0 < count; w0 += block) {
    const int rows = count - w0 < block ? count - w0 : block;
    for (int64_t p0 = p_first; p0 < p_done; p0 += block)
      transpose_block(src, ld, w0, rows, p0, panel, W);
  }
#endif
  transpose_scalar<T, W>(src, ld, 0, count, p_done, kc, panel);
  if (count < W)
    for (int64_t p = 0; p < kc; ++p)
      for (int w = count; w < W; ++w) panel[p * W + w] = T(0);
}

// Packs `rows` steps of a block of op(B) = B (row p at src + p * ld, nc columns) into
// the W-wide panels of a packed block whose panels hold panel_rows steps each:
//
//   packed[(j / W) * panel_rows * W + p * W + j % W] = src[p * ld + j],
//
// zero past nc in the last panel. Row by row, so each row of B is read once, front to
// back, where the prefetcher streams it; panel by panel (pack_rows) each row is a jump of
// ld and only W elements are read there (2 threads, AVX-512, medians of 7-9 interleaved
// runs: 512^3 +3%, 1024^3 +1.6%, 2048^3 and 4096^3 +0.5-0.7%).
template <typename T, int W>
inline void pack_row_panels(const T* src, int64_t ld, int64_t nc, int64_t rows, int64_t panel_rows,
                            T* __restrict packed) {
  const int64_t full_panels = nc / W;
  const int tail = int(nc - full_panels * W);
  for (int64_t p = 0; p < rows; ++p) {
    const T* row = src + p * ld;
    for (int64_t jp = 0; jp < full_panels; ++jp)
      std::memcpy(packed + (jp * panel_rows + p) * W, row + jp * W, sizeof(T) * W);
    if (tail > 0)
      copy_zero_padded<T, W>(row + full_panels * W, tail,
                             packed + (full_panels * panel_rows + p) * W);
  }
}

// X is op(M)[., p0:p0+kc] restricted to `count` rows/columns starting at w0; see the
// layouts above. `along_p` says which one M has.
template <typename T, int W>
inline void pack_panel(const T* m, int64_t ld, bool along_p, int64_t w0, int count, int64_t p0,
                       int64_t kc, T* __restrict panel) {
  if (along_p)
    pack_columns<T, W>(m + w0 * ld + p0, ld, count, kc, panel);
  else
    pack_rows<T, W>(m + p0 * ld + w0, ld, count, kc, panel);
}

}  // namespace axonic::cpu::AXONIC_ISA
