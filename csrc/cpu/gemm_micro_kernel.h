// The GEMM micro-kernel: one MR x (NV vectors) tile of C accumulated in registers.
//
//   C[0:rows, 0:cols] = alpha * sum_p A(r, p) * B(p, 0:NR) + beta * C     (NR = NV * lanes)
//                       (+ row_bias[r] when given: a convolution's bias, fused)
//
// Per step p it loads NV vectors of B's row p, broadcasts MR elements of A's
// column p and issues MR * NV independent FMAs: with MR * NV >= 2 * FMA latency
// accumulators (24 on AVX-512) the FMA units never wait on a result.
//
// Operands come packed (the BLIS layout: A panel kc x MR with MR contiguous per
// step, B panel kc x NR with NR contiguous per step, zero-padded to full tiles)
// or straight from the caller's matrix (small problems, where packing would cost
// more than it saves):
//   A direct: A(r, p) = a[r * a_row_step + p * a_k_step]; every one of the MR rows
//             must exist (the driver picks MR = the rows left).
//   B direct: B(p, j) = b[p * b_k_step + j]; columns past `cols` are masked off,
//             never read.
// C is written through masks for the last partial vector and only `rows` rows, so
// edge tiles run the same code as full ones. beta == 0 never reads C.
#pragma once

#include <cstdint>

#include "cpu/gemm_vector_ops.h"

namespace axonic::cpu::AXONIC_ISA {

enum class Operand { packed, direct };

// MR of the blocked drivers (GEMM, implicit-GEMM convolution), with NV = 2 vectors
// per tile row.
#if defined(__AVX512F__)
constexpr int kMicroTileRows = 12;  // 12 rows x 2 zmm = 24 of the 32 vector registers
#else
constexpr int kMicroTileRows = 6;  // 6 rows x 2 vectors = 12 of the 16 vector registers
#endif

template <typename T>
struct TileOutput {
  T* c;
  int64_t ldc;
  int rows, cols;  // how much of the MR x NR tile lies inside C
  T alpha, beta;
  const T* row_bias = nullptr;  // when set, row r of the tile also gets + row_bias[r]
};

template <typename T, int MR, int NV, Operand kA, Operand kB>
inline void micro_kernel(int64_t kc, const T* __restrict a, int64_t a_row_step, int64_t a_k_step,
                         const T* __restrict b, int64_t b_k_step, const TileOutput<T>& out) {
  using Ops = VectorOps<T>;
  using V = typename Ops::V;
  using Mask = typename Ops::Mask;
  constexpr int L = Ops::lanes;
  const int64_t row_step = kA == Operand::packed ? 1 : a_row_step;
  const int64_t a_step = kA == Operand::packed ? MR : a_k_step;
  const int64_t b_step = kB == Operand::packed ? NV * L : b_k_step;

  // Lanes of each B/C vector that lie inside C.
  Mask mask[NV];
  bool full = true;
#pragma GCC unroll 8
  for (int v = 0; v < NV; ++v) {
    const int n = out.cols - v * L;
    mask[v] = Ops::first(n >= L ? L : (n > 0 ? n : 0));
    full = full && n >= L;
  }

  // C's tile is needed only after the k loop: start fetching it now (rows sit
  // ldc apart, so each is a separate miss the loop would otherwise wait for). Every
  // line a row touches: numpy's large arrays start 16 bytes past a cache line, and
  // a row's last line left unfetched cost 13% at 2048^3 on AVX2.
  constexpr int kLineElems = 64 / sizeof(T);
#pragma GCC unroll 32
  for (int r = 0; r < MR; ++r) {
    if (r >= out.rows) break;
#pragma GCC unroll 8
    for (int e = 0; e < NV * L; e += kLineElems) __builtin_prefetch(out.c + r * out.ldc + e, 1, 2);
    __builtin_prefetch(out.c + r * out.ldc + NV * L - 1, 1, 2);
  }

  V acc[MR][NV];
#pragma GCC unroll 32
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) acc[r][v] = Ops::zero();

  auto step = [&](const T* ap, const T* bp, auto load_b) {
    V bv[NV];
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) bv[v] = load_b(bp, v);
#pragma GCC unroll 32
    for (int r = 0; r < MR; ++r) {
      const V av = Ops::broadcast(ap[r * row_step]);
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) acc[r][v] = Ops::fma(av, bv[v], acc[r][v]);
    }
  };
  if (kB == Operand::packed || full) {
    auto load_full = [](const T* bp, int v) { return Ops::load(bp + v * L); };
#pragma GCC unroll 4
    for (int64_t p = 0; p < kc; ++p) step(a + p * a_step, b + p * b_step, load_full);
  } else {
    auto load_masked = [&mask](const T* bp, int v) { return Ops::load(bp + v * L, mask[v]); };
#pragma GCC unroll 2
    for (int64_t p = 0; p < kc; ++p) step(a + p * a_step, b + p * b_step, load_masked);
  }

  const V alpha = Ops::broadcast(out.alpha);
  const V beta = Ops::broadcast(out.beta);
  const bool scale = out.alpha != T(1), accumulate = out.beta != T(0);
#pragma GCC unroll 32
  for (int r = 0; r < MR; ++r) {
    if (r >= out.rows) break;
    T* c_row = out.c + r * out.ldc;
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) {
      V x = scale ? Ops::mul(alpha, acc[r][v]) : acc[r][v];
      if (out.row_bias != nullptr) x = x + Ops::broadcast(out.row_bias[r]);
      if (full) {
        if (accumulate) x = Ops::fma(beta, Ops::load(c_row + v * L), x);
        Ops::store(c_row + v * L, x);
      } else {
        if (accumulate) x = Ops::fma(beta, Ops::load(c_row + v * L, mask[v]), x);
        Ops::store(c_row + v * L, x, mask[v]);
      }
    }
  }
}

}  // namespace axonic::cpu::AXONIC_ISA
