#include "common/gemm_shape.h"

#include "common/checks.h"

namespace axonic {

void check_gemm_shape(const GemmShape& s) {
  AXONIC_CHECK(s.m >= 0 && s.n >= 0 && s.k >= 0, "gemm sizes must be non-negative, got m=", s.m,
               " n=", s.n, " k=", s.k);
  const int64_t a_row = s.trans_a ? s.m : s.k;
  const int64_t b_row = s.trans_b ? s.k : s.n;
  AXONIC_CHECK(s.lda >= a_row, "lda=", s.lda, " is smaller than a row of ",
               s.trans_a ? "A^T" : "A", " (", a_row, " elements)");
  AXONIC_CHECK(s.ldb >= b_row, "ldb=", s.ldb, " is smaller than a row of ",
               s.trans_b ? "B^T" : "B", " (", b_row, " elements)");
  AXONIC_CHECK(s.ldc >= s.n, "ldc=", s.ldc, " is smaller than a row of C (", s.n,
               " elements)");
}

}  // namespace axonic
