// 2-D max and average pooling; contract in pooling.h.
//
// Layout: NCHW, C-contiguous, viewed as planes = N * C independent H x W planes.
// Output (oh, ow) reads the window whose top-left corner is (oh * stride_h - pad_h,
// ow * stride_w - pad_w) in input coordinates; padding is never materialized, the
// window is clipped to the input instead:
//   max  rows h0, h0 + dilation_h, ... below h0 + dilation_h (kernel_h - 1) + 1, the
//        first one stepped forward by whole dilations until it is >= 0, the last one
//        < in_h (columns alike). Padding acts as -inf: it never wins.
//        The scan keeps v when v > best or v is NaN, as PyTorch's CPU kernel does, so
//        NaN propagates (the last NaN of the window is the argmax) and ties keep the
//        first maximum in row-major order. best starts at -inf with the window's first
//        element as argmax, so an all -inf window still points inside it.
//   avg  [h0, min(h0 + kernel_h, in_h + pad_h)) is the padded window (its size is the
//        divisor with count_include_pad), then clipped to [0, in_h) (its size is the
//        divisor without). Sums are accumulated in double.
// Backward passes zero the plane of grad_in and scatter-add into it: max adds each
// grad_out to grad_in[argmax]; avg adds grad_out / divisor to every input of the
// window. Windows overlap when stride < kernel, so the scatter within a plane is
// serial; planes never share memory, so they run in parallel without atomics.
//
// Once planes x (plane size) reaches kParallelElements the planes are split over
// OpenMP threads; smaller problems stay on the calling thread, where a fork/join
// would cost more than the work. (A batch of one single-channel image therefore
// runs on one thread; CNN feature maps have many channels.)
#include "cpu/pooling.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/checks.h"

namespace axonic::cpu {

namespace {

constexpr int64_t kParallelElements = int64_t{1} << 15;

template <typename PlaneFn>
void for_each_plane(int64_t planes, int64_t work_per_plane, const PlaneFn& plane_fn) {
  if (planes > 1 && planes * work_per_plane >= kParallelElements) {
#pragma omp parallel for schedule(static)
    for (int64_t p = 0; p < planes; ++p) plane_fn(p);
  } else {
    for (int64_t p = 0; p < planes; ++p) plane_fn(p);
  }
}

// floor(a / b) for b > 0 and any sign of a (PyTorch's div_rtn).
int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && (a < 0)) --q;
  return q;
}

// The clipped index range [begin, end) of a max-pooling window along one axis, with
// begin a whole number of dilations past the (possibly negative) window start.
struct DilatedRange {
  int64_t begin, end;
};

DilatedRange dilated_range(int64_t start, int64_t kernel, int64_t dilation, int64_t size) {
  int64_t end = std::min(start + (kernel - 1) * dilation + 1, size);
  if (start < 0) start += ((-start + dilation - 1) / dilation) * dilation;
  return {start, end};
}

// The average-pooling window along one axis: [begin, end) inside the input, and the
// size of the window clipped only to the padded input.
struct AvgRange {
  int64_t begin, end, padded_size;
};

AvgRange avg_range(int64_t start, int64_t kernel, int64_t pad, int64_t size) {
  const int64_t padded_end = std::min(start + kernel, size + pad);
  return {std::max<int64_t>(start, 0), std::min(padded_end, size), padded_end - start};
}

double avg_divisor(const AvgRange& rh, const AvgRange& rw, bool count_include_pad) {
  if (count_include_pad) return static_cast<double>(rh.padded_size * rw.padded_size);
  return static_cast<double>((rh.end - rh.begin) * (rw.end - rw.begin));
}

}  // namespace

int64_t pool2d_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad,
                           int64_t dilation, bool ceil_mode) {
  const int64_t span = in + 2 * pad - dilation * (kernel - 1) - 1 + (ceil_mode ? stride - 1 : 0);
  int64_t out = floor_div(span, stride) + 1;
  if (ceil_mode && (out - 1) * stride >= in + pad) --out;
  return out;
}

void check_pool2d_geometry(const Pool2dGeometry& g, const char* op) {
  AXONIC_CHECK(g.kernel_h >= 1 && g.kernel_w >= 1, op, ": kernel_size must be positive, got (",
               g.kernel_h, ", ", g.kernel_w, ")");
  AXONIC_CHECK(g.stride_h >= 1 && g.stride_w >= 1, op, ": stride must be positive, got (",
               g.stride_h, ", ", g.stride_w, ")");
  AXONIC_CHECK(g.dilation_h >= 1 && g.dilation_w >= 1, op, ": dilation must be positive, got (",
               g.dilation_h, ", ", g.dilation_w, ")");
  AXONIC_CHECK(g.pad_h >= 0 && g.pad_w >= 0, op, ": padding must be non-negative, got (",
               g.pad_h, ", ", g.pad_w, ")");
  AXONIC_CHECK(g.pad_h <= g.kernel_h / 2 && g.pad_w <= g.kernel_w / 2, op,
               ": padding should be at most half of kernel size, got padding (", g.pad_h, ", ",
               g.pad_w, ") for kernel_size (", g.kernel_h, ", ", g.kernel_w, ")");
  AXONIC_CHECK(g.in_h >= 1 && g.in_w >= 1, op, ": input planes must be non-empty, got ",
               g.in_h, " x ", g.in_w);
  AXONIC_CHECK(g.out_h >= 1 && g.out_w >= 1, op, ": input size (", g.in_h, ", ", g.in_w,
               ") is too small for kernel_size (", g.kernel_h, ", ", g.kernel_w,
               "), padding (", g.pad_h, ", ", g.pad_w, "), dilation (", g.dilation_h, ", ",
               g.dilation_w, "): calculated output size (", g.out_h, ", ", g.out_w, ")");
}

template <typename T>
void max_pool2d_forward(const T* x, T* out, int64_t* argmax, const Pool2dGeometry& g) {
  const int64_t in_plane = g.in_h * g.in_w, out_plane = g.out_h * g.out_w;
  for_each_plane(g.planes, out_plane * g.kernel_h * g.kernel_w, [&](int64_t p) {
    const T* xp = x + p * in_plane;
    T* op = out + p * out_plane;
    int64_t* ap = argmax + p * out_plane;
    for (int64_t oh = 0; oh < g.out_h; ++oh) {
      const DilatedRange rh =
          dilated_range(oh * g.stride_h - g.pad_h, g.kernel_h, g.dilation_h, g.in_h);
      for (int64_t ow = 0; ow < g.out_w; ++ow) {
        const DilatedRange rw =
            dilated_range(ow * g.stride_w - g.pad_w, g.kernel_w, g.dilation_w, g.in_w);
        T best = -std::numeric_limits<T>::infinity();
        int64_t best_index = -1;
        if (rh.begin < rh.end && rw.begin < rw.end) {
          best_index = rh.begin * g.in_w + rw.begin;
          for (int64_t h = rh.begin; h < rh.end; h += g.dilation_h) {
            const T* row = xp + h * g.in_w;
            for (int64_t w = rw.begin; w < rw.end; w += g.dilation_w) {
              const T v = row[w];
              if (v > best || std::isnan(v)) {
                best = v;
                best_index = h * g.in_w + w;
              }
            }
          }
        }
        op[oh * g.out_w + ow] = best;
        ap[oh * g.out_w + ow] = best_index;
      }
    }
  });
}

void check_pool2d_argmax(const int64_t* argmax, const Pool2dGeometry& g) {
  const int64_t in_plane = g.in_h * g.in_w, count = g.planes * g.out_h * g.out_w;
  for (int64_t i = 0; i < count; ++i) {
    AXONIC_CHECK(argmax[i] >= -1 && argmax[i] < in_plane, "max_pool2d_backward: argmax ",
                 argmax[i], " at flat position ", i, " is out of range: expected -1 <= argmax < ",
                 in_plane, " (the input plane's ", g.in_h, " x ", g.in_w, " elements)");
  }
}

template <typename T>
void max_pool2d_backward(const T* grad_out, const int64_t* argmax, T* grad_in,
                         const Pool2dGeometry& g) {
  check_pool2d_argmax(argmax, g);
  const int64_t in_plane = g.in_h * g.in_w, out_plane = g.out_h * g.out_w;
  for_each_plane(g.planes, in_plane + out_plane, [&](int64_t p) {
    const T* gp = grad_out + p * out_plane;
    const int64_t* ap = argmax + p * out_plane;
    T* gi = grad_in + p * in_plane;
    std::fill(gi, gi + in_plane, T(0));
    for (int64_t i = 0; i < out_plane; ++i)
      if (ap[i] >= 0) gi[ap[i]] += gp[i];
  });
}

template <typename T>
void avg_pool2d_forward(const T* x, T* out, const Pool2dGeometry& g, bool count_include_pad) {
  const int64_t in_plane = g.in_h * g.in_w, out_plane = g.out_h * g.out_w;
  for_each_plane(g.planes, out_plane * g.kernel_h * g.kernel_w, [&](int64_t p) {
    const T* xp = x + p * in_plane;
    T* op = out + p * out_plane;
    for (int64_t oh = 0; oh < g.out_h; ++oh) {
      const AvgRange rh = avg_range(oh * g.stride_h - g.pad_h, g.kernel_h, g.pad_h, g.in_h);
      for (int64_t ow = 0; ow < g.out_w; ++ow) {
        const AvgRange rw = avg_range(ow * g.stride_w - g.pad_w, g.kernel_w, g.pad_w, g.in_w);
        const double divisor = avg_divisor(rh, rw, count_include_pad);
        double sum = 0.0;
        for (int64_t h = rh.begin; h < rh.end; ++h) {
          const T* row = xp + h * g.in_w;
#pragma omp simd reduction(+ : sum)
          for (int64_t w = rw.begin; w < rw.end; ++w) sum += static_cast<double>(row[w]);
        }
        op[oh * g.out_w + ow] = divisor > 0 ? static_cast<T>(sum / divisor) : T(0);
      }
    }
  });
}

template <typename T>
void avg_pool2d_backward(const T* grad_out, T* grad_in, const Pool2dGeometry& g,
                         bool count_include_pad) {
  const int64_t in_plane = g.in_h * g.in_w, out_plane = g.out_h * g.out_w;
  for_each_plane(g.planes, in_plane + out_plane * g.kernel_h * g.kernel_w, [&](int64_t p) {
    const T* gp = grad_out + p * out_plane;
    T* gi = grad_in + p * in_plane;
    std::fill(gi, gi + in_plane, T(0));
    for (int64_t oh = 0; oh < g.out_h; ++oh) {
      const AvgRange rh = avg_range(oh * g.stride_h - g.pad_h, g.kernel_h, g.pad_h, g.in_h);
      for (int64_t ow = 0; ow < g.out_w; ++ow) {
        const AvgRange rw = avg_range(ow * g.stride_w - g.pad_w, g.kernel_w, g.pad_w, g.in_w);
        const double divisor = avg_divisor(rh, rw, count_include_pad);
        if (!(divisor > 0)) continue;
        const T share = static_cast<T>(static_cast<double>(gp[oh * g.out_w + ow]) / divisor);
        for (int64_t h = rh.begin; h < rh.end; ++h) {
          T* row = gi + h * g.in_w;
#pragma omp simd
          for (int64_t w = rw.begin; w < rw.end; ++w) row[w] += share;
        }
      }
    }
  });
}

#define AXONIC_INSTANTIATE_POOLING(T)                                                       \
  template void max_pool2d_forward<T>(const T*, T*, int64_t*, const Pool2dGeometry&);       \
  template void max_pool2d_backward<T>(const T*, const int64_t*, T*, const Pool2dGeometry&); \
  template void avg_pool2d_forward<T>(const T*, T*, const Pool2dGeometry&, bool);           \
  template void avg_pool2d_backward<T>(const T*, T*, const Pool2dGeometry&, bool);

AXONIC_INSTANTIATE_POOLING(float)
AXONIC_INSTANTIATE_POOLING(double)

#undef AXONIC_INSTANTIATE_POOLING

}  // namespace axonic::cpu
