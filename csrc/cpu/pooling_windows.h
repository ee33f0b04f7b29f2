// Window arithmetic shared by pooling.cpp (geometry, average
// pooling) and pooling_max.cpp (max pooling). Kept in an unnamed namespace, like
// conv2d_windows.h: each file gets its own copy.
#pragma once

#include <algorithm>
#include <cstdint>

#include "cpu/parallel_items.h"
#include "cpu/pooling.h"
#include "cpu/pooling_arch.h"

namespace axonic::cpu {
namespace {

// floor(a / b) for b > 0 and any sign of a (PyTorch's div_rtn).
inline int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && (a < 0)) --q;
  return q;
}

// [lo, hi): the outputs along one axis whose whole window lies inside [0, size):
// start = o * stride - pad >= 0 and start + dilation (kernel - 1) < size.
inline void interior_axis(int64_t out, int64_t size, int64_t kernel, int64_t stride,
                          int64_t pad, int64_t dilation, int64_t& lo, int64_t& hi) {
  lo = std::min((pad + stride - 1) / stride, out);
  hi = std::clamp<int64_t>(floor_div(size - 1 - dilation * (kernel - 1) + pad, stride) + 1, lo,
                           out);
}

inline PoolInterior pool_interior(const Pool2dGeometry& g) {
  PoolInterior in{};
  interior_axis(g.out_h, g.in_h, g.kernel_h, g.stride_h, g.pad_h, g.dilation_h, in.row_lo,
                in.row_hi);
  interior_axis(g.out_w, g.in_w, g.kernel_w, g.stride_w, g.pad_w, g.dilation_w, in.col_lo,
                in.col_hi);
  return in;
}

// The interior columns [lo, hi) of output row oh; (out_w, out_w) outside the interior
// rows, so a row's border outputs are always [0, lo) and [hi, out_w).
struct ColumnSpan {
  int64_t lo, hi;
};

inline ColumnSpan interior_columns(const PoolInterior& in, int64_t oh, int64_t out_w) {
  if (oh >= in.row_lo && oh < in.row_hi) return {in.col_lo, in.col_hi};
  return {out_w, out_w};
}

// A window shape with a fixed path, whose loops over the window have compile-time trip
// counts: kernel KH x KW, column stride SW, dilation 1. KH == 0 means none (the general
// path everywhere).
template <int KH, int KW, int SW>
struct FixedWindow {
  static constexpr int kernel_h = KH, kernel_w = KW, stride_w = SW;
};
using NoFixedWindow = FixedWindow<0, 0, 0>;

// body(FixedWindow<...>{}) for the common CNN shapes (2x2 and 3x3 kernels, column
// stride 1 or 2), body(NoFixedWindow{}) otherwise. Window offsets within a row band
// must fit the 32-bit lane indices of the max kernels, hence the bound on in_w.
template <typename Body>
void with_fixed_window(const Pool2dGeometry& g, const Body& body) {
  const int64_t kh = g.kernel_h, kw = g.kernel_w, sw = g.stride_w;
  if (g.dilation_h == 1 && g.dilation_w == 1 && g.in_w < (int64_t{1} << 28)) {
    if (kh == 2 && kw == 2 && sw == 2) return body(FixedWindow<2, 2, 2>{});
    if (kh == 2 && kw == 2 && sw == 1) return body(FixedWindow<2, 2, 1>{});
    if (kh == 3 && kw == 3 && sw == 2) return body(FixedWindow<3, 3, 2>{});
    if (kh == 3 && kw == 3 && sw == 1) return body(FixedWindow<3, 3, 1>{});
  }
  body(NoFixedWindow{});
}

}  // namespace
}  // namespace axonic::cpu
