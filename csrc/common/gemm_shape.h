// The shape of one row-major GEMM, C (m x n, row stride ldc) = alpha * op(A) op(B) + beta * C,
// shared by the CPU kernel (cpu/gemm.h), the CUDA kernels (cuda/gemm.h) and their bindings.
// op(A) is m x k: A is stored m x k (lda >= k) or, with trans_a, k x m (lda >= m).
// op(B) is k x n: B is stored k x n (ldb >= n) or, with trans_b, n x k (ldb >= k).
#pragma once

#include <cstdint>

namespace axonic {

struct GemmShape {
  bool trans_a, trans_b;
  int64_t m, n, k;
  int64_t lda, ldb, ldc;
};

// Throws std::invalid_argument for negative sizes or leading dimensions shorter
// than the rows they describe.
void check_gemm_shape(const GemmShape& s);

}  // namespace axonic
