// General matrix multiply on row-major matrices:
//   C (m x n, row stride ldc) = alpha * op(A) * op(B) + beta * C
// op(A) is m x k: A is stored m x k (lda >= k) or, with trans_a, k x m (lda >= m).
// op(B) is k x n: B is stored k x n (ldb >= n) or, with trans_b, n x k (ldb >= k).
// beta == 0 never reads C, so C may hold garbage (numpy.empty) or NaN.
// The blocked kernel itself lives in gemm_arch.cpp, compiled once per ISA.
#pragma once

#include <cstdint>

#include "common/gemm_shape.h"

namespace axonic::cpu {

// The shape and its checks are shared with the CUDA kernels (common/gemm_shape.h).
using axonic::GemmShape;
using axonic::check_gemm_shape;

template <typename T>
void gemm(const GemmShape& s, T alpha, const T* a, const T* b, T beta, T* c);

// The cache/register blocking of the active ISA's kernel for T, so tests can aim
// shapes at its edges: an mr x nr register tile (nr a whole number of vectors of
// `lanes` elements), kc-deep K blocks, mc-row A blocks and nc-column B blocks.
struct GemmBlocking {
  int mr, nr;
  int64_t kc, mc, nc;
  int lanes;
};

template <typename T>
GemmBlocking gemm_blocking();

// The name of the micro-kernel in use: "avx512 6x64", "avx2 6x16", "generic 6x8"...
const char* gemm_kernel_name();

}  // namespace axonic::cpu
