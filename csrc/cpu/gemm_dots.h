// GEMM as dot products along k, for the shapes where one side of C is tiny:
//
//   C[i, j] = alpha * dot(A row i, Bᵀ row j) + beta * C[i, j]
//
// with A's rows and Bᵀ's rows both contiguous along k. It serves M <= 4 with
// op(B) = Bᵀ (batch-1 inference against weights stored out x in) and N within one
// vector with op(A) = A (a classifier's output layer, 128x256x10): the blocked and
// A-in-place tiles would leave most lanes of each C vector empty there, while a dot
// product fills every lane with k. A tile of R A rows x J Bᵀ rows keeps R * J
// accumulators; each k step loads R + J vectors for R * J FMAs, and the lanes of
// the R * J accumulators are summed together at the end (sum_lanes_of_each).
//
// Included only by gemm_arch.cpp, so everything lands in axonic::cpu::<isa>.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "cpu/gemm_vector_ops.h"
#include "cpu/simd.h"

namespace axonic::cpu::AXONIC_ISA {

// The shuffle that halves segments of width W: output lanes [0, L/2) come from the
// first vector, [L/2, L) from the second, each a run of its segments at width W / 2,
// taking the lower (Upper = false) or upper half of each. A constant in memory: one
// load, where building it in registers took dozens of instructions.
template <typename T, int W, bool Upper>
inline typename Simd<T>::Bits halving_lanes() {
  using Index = std::conditional_t<sizeof(T) == 4, int32_t, int64_t>;
  constexpr int L = VectorOps<T>::lanes, h = W / 2;
  alignas(64) static constexpr std::array<Index, L> index = [] {
    std::array<Index, L> lanes{};
    for (int i = 0; i < L; ++i) {
      const int j = i % (L / 2);
      lanes[i] = (i < L / 2 ? 0 : L) + j / h * W + j % h + (Upper ? h : 0);
    }
    return lanes;
  }();
  typename Simd<T>::Bits bits;
  std::memcpy(&bits, index.data(), sizeof bits);
  return bits;
}

// Folds x[0, Count), vectors of segments of width W, down to one vector of segments
// of width 1: pairs are folded into one (each half holding one vector's segments,
// halved by adding the two halves of each), then pairs of those; a single vector is
// folded with itself. Lane q of x[0] ends up holding segment q's sum, cycling
// through the segments when there are fewer than lanes.
template <typename T, int W, int Count>
inline void fold_segments(typename VectorOps<T>::V* x) {
  if constexpr (W > 1) {
    using V = typename VectorOps<T>::V;
    constexpr int pairs = Count > 1 ? Count / 2 : 1;
    const auto lower = halving_lanes<T, W, false>(), upper = halving_lanes<T, W, true>();
#pragma GCC unroll 16
    for (int q = 0; q < pairs; ++q) {
      const V a = x[2 * q], b = Count > 1 ? x[2 * q + 1] : x[0];
      x[q] = __builtin_shuffle(a, b, lower) + __builtin_shuffle(a, b, upper);
    }
    fold_segments<T, W / 2, pairs>(x);
  }
}

// sums[q] = the sum of v[q]'s lanes, for N a power of two: about 3 shuffles and adds
// per vector, against 2 log2(lanes) for each one alone. sums holds max(N, lanes).
template <typename T, int N>
inline void sum_lanes_of_each(typename VectorOps<T>::V (&v)[N], T* sums) {
  static_assert(N > 0 && (N & (N - 1)) == 0, "a power of two");
  using V = typename VectorOps<T>::V;
  constexpr int L = VectorOps<T>::lanes;
  static_assert(sizeof(V) == sizeof(typename Simd<T>::Bits), "one vector width");
  constexpr int groups = N > L ? N / L : 1;
#pragma GCC unroll 4
  for (int g = 0; g < groups; ++g) {
    fold_segments<T, L, N / groups>(v + g * (N / groups));
    VectorOps<T>::store(sums + g * L, v[g * (N / groups)]);
  }
}

// Accumulator rows per dot tile: R A rows x 4 Bᵀ rows of accumulators, plus R + 1
// loaded vectors, fit 32 registers at R = 4 and 16 at R = 2.
template <typename T>
constexpr int dot_tile_rows() {
  return kVectorBytes == 64 ? 4 : 2;
}

// R x J entries of C from R rows of A (lda apart) and J rows of Bᵀ (ldbt apart).
template <typename T, int R, int J>
inline void dot_tile(int64_t k, const T* a, int64_t lda, const T* bt, int64_t ldbt, T alpha,
                     T beta, T* c, int64_t ldc) {
  using Ops = VectorOps<T>;
  using V = typename Ops::V;
  constexpr int L = Ops::lanes;
  V acc[R * J];
#pragma GCC unroll 16
  for (int q = 0; q < R * J; ++q) acc[q] = Ops::zero();
  auto step = [&](int64_t p, auto load) {
    V x[R];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) x[r] = load(a + r * lda + p);
#pragma GCC unroll 4
    for (int j = 0; j < J; ++j) {
      const V y = load(bt + j * ldbt + p);
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) acc[r * J + j] = Ops::fma(x[r], y, acc[r * J + j]);
    }
  };
  const int64_t k_full = k - k % L;
#pragma GCC unroll 2
  for (int64_t p = 0; p < k_full; p += L) step(p, [](const T* x) { return Ops::load(x); });
  if (k_full < k) {
    const auto mask = Ops::first(int(k - k_full));
    step(k_full, [&mask](const T* x) { return Ops::load(x, mask); });
  }
  constexpr int kSums = R * J > L ? R * J : L;
  alignas(64) T sums[kSums];
  sum_lanes_of_each<T, R * J>(acc, sums);
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int j = 0; j < J; ++j) {
      T* out = c + r * ldc + j;
      const T value = alpha * sums[r * J + j];
      *out = beta == T(0) ? value : value + beta * *out;
    }
}

// C[row0:row1, col0:col1] in dot tiles: R from {dot_tile_rows, 2, 1}, J from {4, 2, 1}.
template <typename T>
void dot_tiles(int64_t k, const T* a, int64_t lda, const T* bt, int64_t ldbt, T alpha, T beta,
               T* c, int64_t ldc, int64_t row0, int64_t row1, int64_t col0, int64_t col1) {
  constexpr int R = dot_tile_rows<T>();
  for (int64_t i = row0; i < row1;) {
    auto rows_of = [&](auto rows) {
      for (int64_t j = col0; j < col1;) {
        auto tile = [&](auto cols) {
          dot_tile<T, rows(), cols()>(k, a + i * lda, lda, bt + j * ldbt, ldbt, alpha, beta,
                                      c + i * ldc + j, ldc);
          j += cols();
        };
        const int64_t left = col1 - j;
        if (left >= 4) tile(std::integral_constant<int, 4>{});
        else if (left >= 2) tile(std::integral_constant<int, 2>{});
        else tile(std::integral_constant<int, 1>{});
      }
      i += rows();
    };
    const int64_t left = row1 - i;
    if (left >= R) rows_of(std::integral_constant<int, R>{});
    else if (left >= 2) rows_of(std::integral_constant<int, 2>{});
    else rows_of(std::integral_constant<int, 1>{});
  }
}

}  // namespace axonic::cpu::AXONIC_ISA
