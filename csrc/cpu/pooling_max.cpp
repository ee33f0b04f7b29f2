// 2-D max pooling, forward and backward; contract in pooling.h, window arithmetic shared
// with average pooling in pooling_windows.h, geometry checks in common/window_geometry.cpp.
//
// Layout: NCHW, C-contiguous, viewed as planes = N * C independent H x W planes, split
// over OpenMP threads (for_each_item). Output (oh, ow) reads rows h0, h0 + dilation_h,
// ... up to h0 + dilation_h (kernel_h - 1), h0 = oh * stride_h - pad_h (columns alike),
// clipped to the input: padding is never materialized and acts as -inf, so it never
// wins. A window with no row or no column inside gives -inf and argmax -1.
//
// Which element wins. The scan keeps v when v > best or v is NaN, as PyTorch's CPU
// kernel does: NaN propagates (the last NaN of the window is the argmax) and ties keep
// the first maximum in row-major order. That is the maximum under a total order (any
// NaN above any number, a later NaN above an earlier one, of equal numbers the earlier
// one), so a scan may start from best = the window's first element: the same result as
// best = -inf with the first element as argmax, which an all -inf window must return.
//
// Forward, one plane at a time:
//   fixed shapes  dilation 1 and the CNN window shapes of pooling_windows.h (2x2 and
//                 3x3, column stride 1 or 2): the active ISA's kernel from
//                 pooling_arch.cpp, which runs the keep rule as a comparison select on
//                 SIMD vectors of output columns, the window unrolled at compile time.
//   other shapes  a scalar scan of each clipped window, with the clipped column ranges
//                 computed once per call (column_ranges) and the row range once per
//                 output row.
// Backward: grad_in plane = 0, then grad_in[argmax] += grad_out. The binding passes no
// window geometry (argmax is just indices), so overlapping windows, where one input
// is the argmax of several outputs, are always allowed: the scatter within a plane is
// serial, planes run in parallel without atomics. A plane (its argmax, grad_out and
// grad_in) stays in L1/L2 while it is zeroed and scattered into, so the pass runs at
// about the speed of memory. check_pool2d_argmax runs first, so nothing is written when
// it throws: an OR of sign bits over all of argmax, which vectorizes, split over the
// threads about as the planes are (each thread then finds most of its part of argmax
// in its own cache); only when it fails is argmax scanned again for the entry to name.
#include "cpu/pooling.h"

#include <algorithm>
#include <limits>
#include <vector>

#include "common/cpu_features.h"
#include "cpu/pooling_arch.h"
#include "cpu/pooling_windows.h"

namespace axonic::cpu {

namespace {

// The clipped index range [begin, end) of a window along one axis, begin a whole
// number of dilations past the (possibly negative) window start.
struct DilatedRange {
  int64_t begin, end;
};

DilatedRange dilated_range(int64_t start, int64_t kernel, int64_t dilation, int64_t size) {
  int64_t end = std::min(start + (kernel - 1) * dilation + 1, size);
  if (start < 0) start += ((-start + dilation - 1) / dilation) * dilation;
  return {start, end};
}

std::vector<DilatedRange> column_ranges(const Pool2dGeometry& g) {
  std::vector<DilatedRange> cols(static_cast<size_t>(g.out_w));
  for (int64_t ow = 0; ow < g.out_w; ++ow)
    cols[ow] = dilated_range(ow * g.stride_w - g.pad_w, g.kernel_w, g.dilation_w, g.in_w);
  return cols;
}

// The general path: one output from its clipped window.
template <typename T>
inline void max_window(const T* xp, const Pool2dGeometry& g, DilatedRange rh, DilatedRange rw,
                       T* out, int64_t* argmax) {
  T best = -std::numeric_limits<T>::infinity();
  int64_t best_index = -1;
  if (rh.begin < rh.end && rw.begin < rw.end) {
    best_index = rh.begin * g.in_w + rw.begin;
    for (int64_t h = rh.begin; h < rh.end; h += g.dilation_h) {
      const T* row = xp + h * g.in_w;
      for (int64_t w = rw.begin; w < rw.end; w += g.dilation_w) {
        const T v = row[w];
        const bool keep = (v > best) | (v != v);
        best = keep ? v : best;
        best_index = keep ? h * g.in_w + w : best_index;
      }
    }
  }
  *out = best;
  *argmax = best_index;
}

// The active ISA's kernel for g's window shape, or nullptr (general path only).
template <typename T>
MaxPoolPlaneFn<T> active_plane_kernel(const Pool2dGeometry& g) {
  switch (active_isa()) {
#ifdef AXONIC_HAVE_ISA_avx512
    case Isa::avx512: return avx512::max_pool_plane_kernel<T>(g);
#endif
#ifdef AXONIC_HAVE_ISA_avx2
    case Isa::avx2: return avx2::max_pool_plane_kernel<T>(g);
#endif
    default: return generic::max_pool_plane_kernel<T>(g);
  }
}

}  // namespace

template <typename T>
void max_pool2d_forward(const T* x, T* out, int64_t* argmax, const Pool2dGeometry& g) {
  const int64_t in_plane = g.in_h * g.in_w, out_plane = g.out_h * g.out_w;
  const int64_t work = out_plane * g.kernel_h * g.kernel_w;
  if (const MaxPoolPlaneFn<T> plane_kernel = active_plane_kernel<T>(g)) {
    const PoolInterior interior = pool_interior(g);
    for_each_item(g.planes, work, [&](int64_t p) {
      plane_kernel(x + p * in_plane, out + p * out_plane, argmax + p * out_plane, g, interior);
    });
    return;
  }
  const std::vector<DilatedRange> cols = column_ranges(g);
  for_each_item(g.planes, work, [&](int64_t p) {
    const T* xp = x + p * in_plane;
    for (int64_t oh = 0; oh < g.out_h; ++oh) {
      const DilatedRange rh =
          dilated_range(oh * g.stride_h - g.pad_h, g.kernel_h, g.dilation_h, g.in_h);
      const int64_t row = p * out_plane + oh * g.out_w;
      for (int64_t ow = 0; ow < g.out_w; ++ow)
        max_window(xp, g, rh, cols[ow], out + row + ow, argmax + row + ow);
    }
  });
}

void check_pool2d_argmax(const int64_t* argmax, const Pool2dGeometry& g) {
  const int64_t in_plane = g.in_h * g.in_w, count = g.planes * g.out_h * g.out_w;
  // a is in [-1, in_plane) iff a + 1 and in_plane - 1 - a are both >= 0, so the OR of
  // those over all of argmax, in wrapping uint64 arithmetic, has its top bit clear iff
  // every entry is in range: adds and ORs, which vectorize on every ISA.
  const uint64_t last = static_cast<uint64_t>(in_plane) - 1;
  uint64_t signs = 0;
#pragma omp parallel for simd reduction(| : signs) if (parallel : count >= 4 * kParallelElements)
  for (int64_t i = 0; i < count; ++i) {
    const uint64_t a = static_cast<uint64_t>(argmax[i]);
    signs |= (a + 1) | (last - a);
  }
  if ((signs >> 63) == 0) return;
  for (int64_t i = 0; i < count; ++i) {
    if (argmax[i] < -1 || argmax[i] >= in_plane) throw_pool2d_argmax_out_of_range(argmax[i], i, g);
  }
}

template <typename T>
void max_pool2d_backward(const T* grad_out, const int64_t* argmax, T* grad_in,
                         const Pool2dGeometry& g) {
  check_pool2d_argmax(argmax, g);
  const int64_t in_plane = g.in_h * g.in_w, out_plane = g.out_h * g.out_w;
  for_each_item(g.planes, in_plane + out_plane, [&](int64_t p) {
    const T* gp = grad_out + p * out_plane;
    const int64_t* ap = argmax + p * out_plane;
    T* gi = grad_in + p * in_plane;
    std::fill(gi, gi + in_plane, T(0));
    for (int64_t i = 0; i < out_plane; ++i)
      if (ap[i] >= 0) gi[ap[i]] += gp[i];
  });
}

#define AXONIC_INSTANTIATE_MAX_POOLING(T)                                             \
  template void max_pool2d_forward<T>(const T*, T*, int64_t*, const Pool2dGeometry&); \
  template void max_pool2d_backward<T>(const T*, const int64_t*, T*, const Pool2dGeometry&);

AXONIC_INSTANTIATE_MAX_POOLING(float)
AXONIC_INSTANTIATE_MAX_POOLING(double)

#undef AXONIC_INSTANTIATE_MAX_POOLING

}  // namespace axonic::cpu
