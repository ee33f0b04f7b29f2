// 2-D average pooling; contract in pooling.h. Max pooling is in pooling_max.cpp, the
// window arithmetic both share in pooling_windows.h, the geometry (output size,
// argument checks) in common/window_geometry.cpp.
//
// Layout: NCHW, C-contiguous, viewed as planes = N * C independent H x W planes, split
// over OpenMP threads (for_each_item). Output (oh, ow) averages the window whose
// top-left corner is (oh * stride_h - pad_h, ow * stride_w - pad_w); padding is never
// materialized. Along each axis [start, min(start + kernel, in + pad)) is the padded
// window (its size is the divisor with count_include_pad), clipped to [0, in) (its
// size is the divisor without). Sums are accumulated in double.
//
// Per output row:
//   general path  the column windows (avg_range) are computed once per call, the row
//                 window once per output row; a loop over the clipped window. Serves
//                 the border outputs and every shape without a fixed kernel.
//   fixed path    for the CNN shapes of pooling_windows.h (2x2 and 3x3, column stride
//                 1 or 2), the outputs whose window lies inside the input (the block
//                 pool_interior gives) run a loop over output columns with the window
//                 unrolled at compile time and the divisor kernel_h * kernel_w (such a
//                 window touches no padding), plain C++ that the compiler vectorizes.
// Backward zeroes the plane of grad_in, then adds grad_out / divisor to every input
// of each window, by the same two paths. Windows overlap when stride < kernel, so all
// the adds into one plane run on one thread; planes never share memory. Only max
// pooling has per-ISA kernels (pooling_arch.cpp): average pooling carries no index, and
// the compiler's vectorization of these plain loops serves it well enough.
#include "cpu/pooling.h"

#include <algorithm>
#include <vector>

#include "cpu/pooling_windows.h"

namespace axonic::cpu {

namespace {

// The average-pooling window along one axis: [begin, end) inside the input, and the
// size of the window clipped only to the padded input.
struct AvgRange {
  int64_t begin, end, padded_size;
};

AvgRange avg_range(int64_t start, int64_t kernel, int64_t pad, int64_t size) {
  const int64_t padded_end = std::min(start + kernel, size + pad);
  return {std::max<int64_t>(start, 0), std::min(padded_end, size), padded_end - start};
}

std::vector<AvgRange> avg_column_ranges(const Pool2dGeometry& g) {
  std::vector<AvgRange> cols(static_cast<size_t>(g.out_w));
  for (int64_t ow = 0; ow < g.out_w; ++ow)
    cols[ow] = avg_range(ow * g.stride_w - g.pad_w, g.kernel_w, g.pad_w, g.in_w);
  return cols;
}

double avg_divisor(const AvgRange& rh, const AvgRange& rw, bool count_include_pad) {
  if (count_include_pad) return static_cast<double>(rh.padded_size * rw.padded_size);
  return static_cast<double>((rh.end - rh.begin) * (rw.end - rw.begin));
}

// The fixed path, forward: count interior outputs of one row, x at the first one's
// window corner, outputs Window::stride_w columns apart.
template <typename T, class Window>
void avg_row_interior(const T* __restrict x, int64_t in_w, int64_t count, T* __restrict out) {
  constexpr int kh = Window::kernel_h, kw = Window::kernel_w, sw = Window::stride_w;
  constexpr double divisor = kh * kw;
  for (int64_t i = 0; i < count; ++i) {
    double sum = 0.0;
#pragma GCC unroll 16
    for (int j = 0; j < kh * kw; ++j)
      sum += static_cast<double>(x[i * sw + j / kw * in_w + j % kw]);
    out[i] = static_cast<T>(sum / divisor);
  }
}

// The fixed path, backward: adds each of count grad_out / divisor to its window of
// grad_in, gi at the first one's window corner. With column stride 1 the windows of
// neighbouring outputs overlap, so the adds go position by position over a chunk of
// outputs: each inner loop then adds to distinct elements, and vectorizes. With stride 2
// they go output by output (for 2x2 windows, which do not overlap, that vectorizes as
// it is; strided position-by-position loops measured slower).
template <typename T, class Window>
void avg_row_interior_backward(const T* __restrict grad_out, int64_t in_w, int64_t count,
                               T* __restrict gi) {
  constexpr int kh = Window::kernel_h, kw = Window::kernel_w, sw = Window::stride_w;
  constexpr double divisor = kh * kw;
  if constexpr (sw == 1) {
    constexpr int64_t kChunk = 64;
    T share[kChunk];
    for (int64_t c = 0; c < count; c += kChunk) {
      const int64_t n = std::min(kChunk, count - c);
      for (int64_t i = 0; i < n; ++i)
        share[i] = static_cast<T>(static_cast<double>(grad_out[c + i]) / divisor);
#pragma GCC unroll 16
      for (int j = 0; j < kh * kw; ++j) {
        T* __restrict target = gi + c + j / kw * in_w + j % kw;
        for (int64_t i = 0; i < n; ++i) target[i] += share[i];
      }
    }
  } else {
    for (int64_t i = 0; i < count; ++i) {
      const T share = static_cast<T>(static_cast<double>(grad_out[i]) / divisor);
#pragma GCC unroll 16
      for (int j = 0; j < kh * kw; ++j) gi[i * sw + j / kw * in_w + j % kw] += share;
    }
  }
}

template <typename T, class Window>
void avg_forward_planes(const T* x, T* out, const Pool2dGeometry& g, bool count_include_pad) {
  const std::vector<AvgRange> cols = avg_column_ranges(g);
  const PoolInterior interior = Window::kernel_h > 0 ? pool_interior(g) : PoolInterior{};
  const int64_t in_plane = g.in_h * g.in_w, out_plane = g.out_h * g.out_w;
  for_each_item(g.planes, out_plane * g.kernel_h * g.kernel_w, [&](int64_t p) {
    const T* xp = x + p * in_plane;
    for (int64_t oh = 0; oh < g.out_h; ++oh) {
      const AvgRange rh = avg_range(oh * g.stride_h - g.pad_h, g.kernel_h, g.pad_h, g.in_h);
      T* orow = out + p * out_plane + oh * g.out_w;
      const auto general = [&](int64_t ow) {
        const AvgRange& rw = cols[ow];
        const double divisor = avg_divisor(rh, rw, count_include_pad);
        double sum = 0.0;
        for (int64_t h = rh.begin; h < rh.end; ++h) {
          const T* row = xp + h * g.in_w;
          for (int64_t w = rw.begin; w < rw.end; ++w) sum += static_cast<double>(row[w]);
        }
        orow[ow] = divisor > 0 ? static_cast<T>(sum / divisor) : T(0);
      };
      const ColumnSpan fixed = interior_columns(interior, oh, g.out_w);
      for (int64_t ow = 0; ow < fixed.lo; ++ow) general(ow);
      if constexpr (Window::kernel_h > 0) {
        if (fixed.lo < fixed.hi)
          avg_row_interior<T, Window>(xp + rh.begin * g.in_w + fixed.lo * g.stride_w - g.pad_w,
                                      g.in_w, fixed.hi - fixed.lo, orow + fixed.lo);
      }
      for (int64_t ow = fixed.hi; ow < g.out_w; ++ow) general(ow);
    }
  });
}

template <typename T, class Window>
void avg_backward_planes(const T* grad_out, T* grad_in, const Pool2dGeometry& g,
                         bool count_include_pad) {
  const std::vector<AvgRange> cols = avg_column_ranges(g);
  const PoolInterior interior = Window::kernel_h > 0 ? pool_interior(g) : PoolInterior{};
  const int64_t in_plane = g.in_h * g.in_w, out_plane = g.out_h * g.out_w;
  for_each_item(g.planes, in_plane + out_plane * g.kernel_h * g.kernel_w, [&](int64_t p) {
    T* gi = grad_in + p * in_plane;
    std::fill(gi, gi + in_plane, T(0));
    for (int64_t oh = 0; oh < g.out_h; ++oh) {
      const AvgRange rh = avg_range(oh * g.stride_h - g.pad_h, g.kernel_h, g.pad_h, g.in_h);
      const T* grow = grad_out + p * out_plane + oh * g.out_w;
      const auto general = [&](int64_t ow) {
        const AvgRange& rw = cols[ow];
        const double divisor = avg_divisor(rh, rw, count_include_pad);
        if (!(divisor > 0)) return;
        const T share = static_cast<T>(static_cast<double>(grow[ow]) / divisor);
        for (int64_t h = rh.begin; h < rh.end; ++h) {
          T* row = gi + h * g.in_w;
          for (int64_t w = rw.begin; w < rw.end; ++w) row[w] += share;
        }
      };
      const ColumnSpan fixed = interior_columns(interior, oh, g.out_w);
      for (int64_t ow = 0; ow < fixed.lo; ++ow) general(ow);
      if constexpr (Window::kernel_h > 0) {
        if (fixed.lo < fixed.hi)
          avg_row_interior_backward<T, Window>(
              grow + fixed.lo, g.in_w, fixed.hi - fixed.lo,
              gi + rh.begin * g.in_w + fixed.lo * g.stride_w - g.pad_w);
      }
      for (int64_t ow = fixed.hi; ow < g.out_w; ++ow) general(ow);
    }
  });
}

}  // namespace

template <typename T>
void avg_pool2d_forward(const T* x, T* out, const Pool2dGeometry& g, bool count_include_pad) {
  with_fixed_window(g, [&](auto window) {
    avg_forward_planes<T, decltype(window)>(x, out, g, count_include_pad);
  });
}

template <typename T>
void avg_pool2d_backward(const T* grad_out, T* grad_in, const Pool2dGeometry& g,
                         bool count_include_pad) {
  with_fixed_window(g, [&](auto window) {
    avg_backward_planes<T, decltype(window)>(grad_out, grad_in, g, count_include_pad);
  });
}

#define AXONIC_INSTANTIATE_AVG_POOLING(T)                                         \
  template void avg_pool2d_forward<T>(const T*, T*, const Pool2dGeometry&, bool); \
  template void avg_pool2d_backward<T>(const T*, T*, const Pool2dGeometry&, bool);

AXONIC_INSTANTIATE_AVG_POOLING(float)
AXONIC_INSTANTIATE_AVG_POOLING(double)

#undef AXONIC_INSTANTIATE_AVG_POOLING

}  // namespace axonic::cpu
