// 2-D convolution; contract in conv2d.h.
//
// Algorithm: im2col + the packed GEMM of gemm.h. For one image, the column matrix
// has C_in kH kW rows (channel-major, then kernel row, then kernel column) and one
// column per output pixel: column (oh, ow), row (c, i, j) holds
// x[c, oh stride_h - pad_h + i dilation_h, ow stride_w - pad_w + j dilation_w], or 0
// where that falls in the padding. Group g owns the K = (C_in / groups) kH kW rows of
// its input channels, so per image and group:
//   forward          out_g (C_out/groups x P)  = weight_g (C_out/groups x K) @ cols_g
//   backward input   cols_g                    = weight_g^T @ grad_out_g, then col2im
//                    scatter-adds every column entry back to the input pixel it copied
//   backward weight  grad_weight_g            += grad_out_g @ cols_g^T  (beta = 1)
// Memory stays bounded: columns are built for a tile of whole images when one image's
// columns fit kColumnBudgetBytes (several images per tile when they are small), else
// for a band of output rows of one image; out / grad_out rows of a band are contiguous
// runs of the output plane, so the GEMM writes them in place through ldc = Ho Wo.
// A 1x1, stride-1, unpadded convolution needs no im2col: the input plane already is
// the column matrix (P = H W), so the GEMMs read x / write grad_in directly.
//
// im2col and col2im run in parallel over (image, channel) pairs of a tile: each pair
// owns its rows of the column matrix and its input plane, so col2im's scatter-add
// needs no atomics. The GEMM parallelizes internally, outside those loops, so no
// parallel region is nested. Small tiles stay on the calling thread.
#include "cpu/conv2d.h"

#include <algorithm>
#include <memory>

#include "common/checks.h"
#include "cpu/gemm.h"

namespace axonic::cpu {

namespace {

constexpr int64_t kColumnBudgetBytes = int64_t{4} << 20;
constexpr int64_t kParallelElements = int64_t{1} << 15;

// Floor division for a possibly negative numerator and a positive divisor.
int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

bool is_pointwise(const Conv2dGeometry& g) {
  return g.kernel_h == 1 && g.kernel_w == 1 && g.stride_h == 1 && g.stride_w == 1 &&
         g.pad_h == 0 && g.pad_w == 0;
}

// How the batch is cut into column tiles: `images` whole images at a time when
// rows == out_h, else one image at a time in bands of `rows` output rows.
struct TilePlan {
  int64_t images, rows;
};

template <typename T>
TilePlan plan_tiles(const Conv2dGeometry& g) {
  const int64_t budget = std::max<int64_t>(1, kColumnBudgetBytes / int64_t(sizeof(T)));
  const int64_t row_elements = g.in_channels * g.kernel_h * g.kernel_w * g.out_w;
  const int64_t image_elements = row_elements * g.out_h;
  if (image_elements <= budget) {
    return {std::max<int64_t>(1, std::min(g.batch, budget / image_elements)), g.out_h};
  }
  return {1, std::clamp<int64_t>(budget / row_elements, 1, g.out_h)};
}

// The output columns ow whose input column ow * stride_w + w_offset lies in [0, in_w).
void valid_columns(const Conv2dGeometry& g, int64_t w_offset, int64_t& lo, int64_t& hi) {
  lo = w_offset >= 0 ? 0 : (-w_offset + g.stride_w - 1) / g.stride_w;
  hi = floor_div(g.in_w - 1 - w_offset, g.stride_w) + 1;
  lo = std::min(lo, g.out_w);
  hi = std::clamp<int64_t>(hi, lo, g.out_w);
}

// Rows (i, j) of one channel's block of the column matrix (kH kW x band columns) for
// output rows [r0, r1), copied from that channel's input plane.
template <typename T>
void im2col_channel(const T* plane, T* col, const Conv2dGeometry& g, int64_t r0, int64_t r1) {
  const int64_t band = (r1 - r0) * g.out_w;
  for (int64_t i = 0; i < g.kernel_h; ++i) {
    for (int64_t j = 0; j < g.kernel_w; ++j) {
      T* dst = col + (i * g.kernel_w + j) * band;
      const int64_t w_offset = j * g.dilation_w - g.pad_w;
      int64_t lo, hi;
      valid_columns(g, w_offset, lo, hi);
      for (int64_t oh = r0; oh < r1; ++oh) {
        T* row = dst + (oh - r0) * g.out_w;
        const int64_t ih = oh * g.stride_h - g.pad_h + i * g.dilation_h;
        if (ih < 0 || ih >= g.in_h) {
          std::fill(row, row + g.out_w, T(0));
          continue;
        }
        // Input row ih; output column ow reads its column ow * stride_w + w_offset.
        const T* src = plane + ih * g.in_w;
        std::fill(row, row + lo, T(0));
        if (g.stride_w == 1) {
          std::copy(src + (lo + w_offset), src + (hi + w_offset), row + lo);
        } else {
          for (int64_t ow = lo; ow < hi; ++ow) row[ow] = src[ow * g.stride_w + w_offset];
        }
        std::fill(row + hi, row + g.out_w, T(0));
      }
    }
  }
}

// The adjoint of im2col_channel: adds every column entry to the input pixel it copies.
template <typename T>
void col2im_channel(const T* col, T* plane, const Conv2dGeometry& g, int64_t r0, int64_t r1) {
  const int64_t band = (r1 - r0) * g.out_w;
  for (int64_t i = 0; i < g.kernel_h; ++i) {
    for (int64_t j = 0; j < g.kernel_w; ++j) {
      const T* src = col + (i * g.kernel_w + j) * band;
      const int64_t w_offset = j * g.dilation_w - g.pad_w;
      int64_t lo, hi;
      valid_columns(g, w_offset, lo, hi);
      for (int64_t oh = r0; oh < r1; ++oh) {
        const int64_t ih = oh * g.stride_h - g.pad_h + i * g.dilation_h;
        if (ih < 0 || ih >= g.in_h) continue;
        const T* row = src + (oh - r0) * g.out_w;
        T* dst = plane + ih * g.in_w;
        if (g.stride_w == 1) {
#pragma omp simd
          for (int64_t ow = lo; ow < hi; ++ow) dst[ow + w_offset] += row[ow];
        } else {
          for (int64_t ow = lo; ow < hi; ++ow) dst[ow * g.stride_w + w_offset] += row[ow];
        }
      }
    }
  }
}

// Columns of images [n0, n0 + images), output rows [r0, r1), into cols laid out
// [image][channel][i][j][band].
template <typename T>
void im2col_tile(const T* x, T* cols, const Conv2dGeometry& g, int64_t n0, int64_t images,
                 int64_t r0, int64_t r1) {
  const int64_t plane = g.in_h * g.in_w;
  const int64_t block = g.kernel_h * g.kernel_w * (r1 - r0) * g.out_w;
  const int64_t pairs = images * g.in_channels;
#pragma omp parallel for schedule(static) if (pairs * block >= kParallelElements)
  for (int64_t p = 0; p < pairs; ++p) {
    im2col_channel(x + (n0 * g.in_channels + p) * plane, cols + p * block, g, r0, r1);
  }
}

template <typename T>
void col2im_tile(const T* cols, T* grad_in, const Conv2dGeometry& g, int64_t n0,
                 int64_t images, int64_t r0, int64_t r1) {
  const int64_t plane = g.in_h * g.in_w;
  const int64_t block = g.kernel_h * g.kernel_w * (r1 - r0) * g.out_w;
  const int64_t pairs = images * g.in_channels;
#pragma omp parallel for schedule(static) if (pairs * block >= kParallelElements)
  for (int64_t p = 0; p < pairs; ++p) {
    col2im_channel(cols + p * block, grad_in + (n0 * g.in_channels + p) * plane, g, r0, r1);
  }
}

template <typename T>
void parallel_zero(T* data, int64_t count) {
#pragma omp parallel for schedule(static) if (count >= 4 * kParallelElements)
  for (int64_t i = 0; i < count; ++i) data[i] = T(0);
}

// Calls body(n0, images, r0, r1, cols) for every column tile, cols holding that tile's
// im2col when fill_columns (else uninitialized scratch of the tile's size).
template <typename T, typename Body>
void for_each_tile(const T* x, const Conv2dGeometry& g, bool fill_columns, Body&& body) {
  const TilePlan plan = plan_tiles<T>(g);
  const int64_t size =
      plan.images * g.in_channels * g.kernel_h * g.kernel_w * plan.rows * g.out_w;
  std::unique_ptr<T[]> cols(new T[static_cast<size_t>(size)]);
  for (int64_t n0 = 0; n0 < g.batch; n0 += plan.images) {
    const int64_t images = std::min(plan.images, g.batch - n0);
    for (int64_t r0 = 0; r0 < g.out_h; r0 += plan.rows) {
      const int64_t r1 = std::min(g.out_h, r0 + plan.rows);
      if (fill_columns) im2col_tile(x, cols.get(), g, n0, images, r0, r1);
      body(n0, images, r0, r1, cols.get());
    }
  }
}

}  // namespace

int64_t conv2d_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad,
                           int64_t dilation) {
  return floor_div(in + 2 * pad - dilation * (kernel - 1) - 1, stride) + 1;
}

void check_conv2d_geometry(const Conv2dGeometry& g, const char* op) {
  AXONIC_CHECK(g.batch >= 0 && g.in_h >= 0 && g.in_w >= 0, op, ": negative input size");
  AXONIC_CHECK(g.groups >= 1, op, ": groups must be positive, got ", g.groups);
  AXONIC_CHECK(g.in_channels >= 1 && g.out_channels >= 1, op,
               ": channel counts must be positive, got in_channels ", g.in_channels,
               ", out_channels ", g.out_channels);
  AXONIC_CHECK(g.in_channels % g.groups == 0 && g.out_channels % g.groups == 0, op,
               ": in_channels ", g.in_channels, " and out_channels ", g.out_channels,
               " must both be divisible by groups ", g.groups);
  AXONIC_CHECK(g.kernel_h >= 1 && g.kernel_w >= 1, op, ": kernel size must be positive, got (",
               g.kernel_h, ", ", g.kernel_w, ")");
  AXONIC_CHECK(g.stride_h >= 1 && g.stride_w >= 1, op, ": stride must be positive, got (",
               g.stride_h, ", ", g.stride_w, ")");
  AXONIC_CHECK(g.dilation_h >= 1 && g.dilation_w >= 1, op,
               ": dilation must be positive, got (", g.dilation_h, ", ", g.dilation_w, ")");
  AXONIC_CHECK(g.pad_h >= 0 && g.pad_w >= 0, op, ": padding must be non-negative, got (",
               g.pad_h, ", ", g.pad_w, ")");
  const int64_t out_h =
      conv2d_output_size(g.in_h, g.kernel_h, g.stride_h, g.pad_h, g.dilation_h);
  const int64_t out_w =
      conv2d_output_size(g.in_w, g.kernel_w, g.stride_w, g.pad_w, g.dilation_w);
  AXONIC_CHECK(out_h >= 1 && out_w >= 1, op, ": the (dilated) kernel (", g.kernel_h, ", ",
               g.kernel_w, ") is larger than the padded input (", g.in_h + 2 * g.pad_h, ", ",
               g.in_w + 2 * g.pad_w, ")");
  AXONIC_CHECK(g.out_h == out_h && g.out_w == out_w, op, ": output size must be (", out_h,
               ", ", out_w, "), got (", g.out_h, ", ", g.out_w, ")");
}

template <typename T>
void conv2d_forward(const T* x, const T* weight, const T* bias, T* out,
                    const Conv2dGeometry& g) {
  const int64_t cg = g.in_channels / g.groups, cog = g.out_channels / g.groups;
  const int64_t k = cg * g.kernel_h * g.kernel_w;
  const int64_t plane_out = g.out_h * g.out_w, plane_in = g.in_h * g.in_w;
  if (is_pointwise(g)) {
    for (int64_t n = 0; n < g.batch; ++n) {
      for (int64_t grp = 0; grp < g.groups; ++grp) {
        const GemmShape s{false, false, cog, plane_out, cg, cg, plane_in, plane_out};
        gemm<T>(s, T(1), weight + grp * cog * cg,
                x + (n * g.in_channels + grp * cg) * plane_in, T(0),
                out + (n * g.out_channels + grp * cog) * plane_out);
      }
    }
  } else {
    for_each_tile(x, g, true, [&](int64_t n0, int64_t images, int64_t r0, int64_t r1,
                                  const T* cols) {
      const int64_t band = (r1 - r0) * g.out_w;
      for (int64_t img = 0; img < images; ++img) {
        for (int64_t grp = 0; grp < g.groups; ++grp) {
          const GemmShape s{false, false, cog, band, k, k, band, plane_out};
          gemm<T>(s, T(1), weight + grp * cog * k,
                  cols + (img * g.groups + grp) * k * band, T(0),
                  out + ((n0 + img) * g.out_channels + grp * cog) * plane_out +
                      r0 * g.out_w);
        }
      }
    });
  }
  if (bias != nullptr) {
    const int64_t planes = g.batch * g.out_channels;
#pragma omp parallel for schedule(static) if (planes * plane_out >= kParallelElements)
    for (int64_t p = 0; p < planes; ++p) {
      const T b = bias[p % g.out_channels];
      T* o = out + p * plane_out;
#pragma omp simd
      for (int64_t i = 0; i < plane_out; ++i) o[i] += b;
    }
  }
}

template <typename T>
void conv2d_backward_input(const T* grad_out, const T* weight, T* grad_in,
                           const Conv2dGeometry& g) {
  const int64_t cg = g.in_channels / g.groups, cog = g.out_channels / g.groups;
  const int64_t k = cg * g.kernel_h * g.kernel_w;
  const int64_t plane_out = g.out_h * g.out_w, plane_in = g.in_h * g.in_w;
  if (is_pointwise(g)) {
    for (int64_t n = 0; n < g.batch; ++n) {
      for (int64_t grp = 0; grp < g.groups; ++grp) {
        const GemmShape s{true, false, cg, plane_in, cog, cg, plane_out, plane_in};
        gemm<T>(s, T(1), weight + grp * cog * cg,
                grad_out + (n * g.out_channels + grp * cog) * plane_out, T(0),
                grad_in + (n * g.in_channels + grp * cg) * plane_in);
      }
    }
    return;
  }
  parallel_zero(grad_in, g.batch * g.in_channels * plane_in);
  for_each_tile(static_cast<const T*>(nullptr), g, false,
                [&](int64_t n0, int64_t images, int64_t r0, int64_t r1, T* cols) {
    const int64_t band = (r1 - r0) * g.out_w;
    for (int64_t img = 0; img < images; ++img) {
      for (int64_t grp = 0; grp < g.groups; ++grp) {
        const GemmShape s{true, false, k, band, cog, k, plane_out, band};
        gemm<T>(s, T(1), weight + grp * cog * k,
                grad_out + ((n0 + img) * g.out_channels + grp * cog) * plane_out +
                    r0 * g.out_w,
                T(0), cols + (img * g.groups + grp) * k * band);
      }
    }
    col2im_tile(static_cast<const T*>(cols), grad_in, g, n0, images, r0, r1);
  });
}

template <typename T>
void conv2d_backward_weight(const T* grad_out, const T* x, T* grad_weight,
                            const Conv2dGeometry& g) {
  const int64_t cg = g.in_channels / g.groups, cog = g.out_channels / g.groups;
  const int64_t k = cg * g.kernel_h * g.kernel_w;
  const int64_t plane_out = g.out_h * g.out_w, plane_in = g.in_h * g.in_w;
  parallel_zero(grad_weight, g.out_channels * k);
  if (is_pointwise(g)) {
    for (int64_t n = 0; n < g.batch; ++n) {
      for (int64_t grp = 0; grp < g.groups; ++grp) {
        const GemmShape s{false, true, cog, cg, plane_out, plane_out, plane_in, cg};
        gemm<T>(s, T(1), grad_out + (n * g.out_channels + grp * cog) * plane_out,
                x + (n * g.in_channels + grp * cg) * plane_in, T(1),
                grad_weight + grp * cog * cg);
      }
    }
    return;
  }
  for_each_tile(x, g, true, [&](int64_t n0, int64_t images, int64_t r0, int64_t r1,
                                const T* cols) {
    const int64_t band = (r1 - r0) * g.out_w;
    for (int64_t img = 0; img < images; ++img) {
      for (int64_t grp = 0; grp < g.groups; ++grp) {
        const GemmShape s{false, true, cog, k, band, plane_out, band, k};
        gemm<T>(s, T(1),
                grad_out + ((n0 + img) * g.out_channels + grp * cog) * plane_out +
                    r0 * g.out_w,
                cols + (img * g.groups + grp) * k * band, T(1), grad_weight + grp * cog * k);
      }
    }
  });
}

template <typename T>
void conv2d_backward_bias(const T* grad_out, T* grad_bias, int64_t batch, int64_t channels,
                          int64_t plane) {
#pragma omp parallel for schedule(static) if (batch * channels * plane >= kParallelElements)
  for (int64_t c = 0; c < channels; ++c) {
    double sum = 0.0;
    for (int64_t n = 0; n < batch; ++n) {
      const T* g = grad_out + (n * channels + c) * plane;
#pragma omp simd reduction(+ : sum)
      for (int64_t i = 0; i < plane; ++i) sum += static_cast<double>(g[i]);
    }
    grad_bias[c] = static_cast<T>(sum);
  }
}

#define AXONIC_INSTANTIATE_CONV2D(T)                                                     \
  template void conv2d_forward<T>(const T*, const T*, const T*, T*,                      \
                                  const Conv2dGeometry&);                                \
  template void conv2d_backward_input<T>(const T*, const T*, T*, const Conv2dGeometry&); \
  template void conv2d_backward_weight<T>(const T*, const T*, T*, const Conv2dGeometry&); \
  template void conv2d_backward_bias<T>(const T*, T*, int64_t, int64_t, int64_t);

AXONIC_INSTANTIATE_CONV2D(float)
AXONIC_INSTANTIATE_CONV2D(double)

#undef AXONIC_INSTANTIATE_CONV2D

}  // namespace axonic::cpu
