// Index arithmetic shared by the im2col convolution (conv2d.cpp) and the
// implicit-GEMM kernels (conv2d_arch.cpp). Kept in an unnamed namespace: the arch
// files are compiled with other ISA flags, and an inline function shared across
// them could be linked from the AVX-512 copy into the portable path.
#pragma once

#include <algorithm>
#include <cstdint>

#include "cpu/conv2d.h"

namespace axonic::cpu {
namespace {

// Floor division for a possibly negative numerator and a positive divisor.
inline int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

// [lo, hi): the output columns ow whose input column ow * stride_w + w_offset lies in
// [0, in_w). w_offset = j * dilation_w - pad_w for kernel column j.
inline void valid_columns(const Conv2dGeometry& g, int64_t w_offset, int64_t& lo, int64_t& hi) {
  lo = w_offset >= 0 ? 0 : (-w_offset + g.stride_w - 1) / g.stride_w;
  hi = floor_div(g.in_w - 1 - w_offset, g.stride_w) + 1;
  lo = std::min(lo, g.out_w);
  hi = std::clamp<int64_t>(hi, lo, g.out_w);
}

}  // namespace
}  // namespace axonic::cpu
