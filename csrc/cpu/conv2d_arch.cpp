// Implicit-GEMM convolution, compiled once per ISA (see conv2d_arch.h).
//
// conv2d.cpp's im2col GEMM without the column matrix. For one image and group, with
// K = (C_in / groups) kH kW rows of columns and P = Ho Wo pixels:
//   forward         out (C_out/groups x P) = W (C_out/groups x K) @ cols (K x P)
//   backward input  cols (K x P) = Wᵀ @ grad_out (C_out/groups x P), then each column
//                   entry is added to the input pixel it would have been copied from
// The weights are packed once per call into the GEMM's MR-row A panels. Forward walks
// the output plane in panels of NR pixels: it gathers a kc x NR slice of cols straight
// into the micro-kernel's packed-B layout (40 KiB, in L1) and runs every A panel past
// it, writing MR channels x NR pixels of out in place (a channel's pixels are a row of
// C, so ldc = P). Backward input reads NR pixels of grad_out in place as B, computes a
// chunk of cols rows into an L1 buffer and scatters it at once. Nothing is allocated,
// and the gathered data is used while it is in L1: the separate im2col pass, the GEMM's
// repacking of its output and the per-image packing of W are all gone.
// Edge tiles use narrower kernels: the last A panel is 4 or 8 rows when that covers the
// channels left, and a last pixel panel of at most one vector is one vector wide.
// A stride-1 "same" convolution (input rows as long as output rows) takes a shortcut in
// the gather and scatter: each tap's row of a panel is one shifted, masked run of the
// input plane (move_shifted_panel).

#include <algorithm>
#include <type_traits>

#include "cpu/conv2d_arch.h"
#include "cpu/conv2d_windows.h"
#include "cpu/gemm_micro_kernel.h"
#include "cpu/gemm_pack.h"

#ifndef AXONIC_ISA
#error "conv2d_arch.cpp is compiled once per ISA with -DAXONIC_ISA=<isa>"
#endif

namespace axonic::cpu::AXONIC_ISA {
namespace {

template <typename T>
struct Tiles {
  static constexpr int lanes = VectorOps<T>::lanes;
  static constexpr int mr = kMicroTileRows;
  static constexpr int nr = 2 * lanes;
  // Rows of a gathered B panel (forward) or of a cols chunk (backward input): 40 KiB,
  // inside a 48 KiB L1 with room for the A panel's stream.
  static constexpr int64_t panel_rows = (int64_t{40} << 10) / (nr * sizeof(T)) / mr * mr;
};

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Width of the A panel that starts at row `row` of `rows`: MR, or for the last,
// partial one the narrowest of 4, 8, MR that covers what is left.
template <typename T>
int panel_width(int64_t row, int64_t rows) {
  constexpr int mr = Tiles<T>::mr;
  const int64_t left = rows - row;
  if (left >= mr) return mr;
  if (left <= 4) return 4;
  return left <= 8 && mr > 8 ? 8 : mr;
}

// Rows of all of A's panels, the last one's padding included.
template <typename T>
int64_t padded_rows(int64_t rows) {
  const int64_t last = rows / Tiles<T>::mr * Tiles<T>::mr;
  return last + (last < rows ? panel_width<T>(last, rows) : 0);
}

// Calls f(std::integral_constant<int, width>) for a panel width from panel_width.
template <typename T, typename F>
void with_width(int width, F&& f) {
  constexpr int mr = Tiles<T>::mr;
  if (width == 4) return f(std::integral_constant<int, 4>{});
  if constexpr (mr > 8) {
    if (width == 8) return f(std::integral_constant<int, 8>{});
  }
  f(std::integral_constant<int, mr>{});
}

// Forward's K blocks: as few as keep a gathered panel within panel_rows, equal in size.
template <typename T>
int64_t k_block_rows(int64_t k) {
  return ceil_div(k, ceil_div(k, Tiles<T>::panel_rows));
}

// Pixels [p0, p0 + count) split by output row: run r covers output row oh, columns
// [ow0, ow0 + len), and panel columns [q0, q0 + len).
struct PixelRun {
  int64_t oh, ow0, len, q0;
};

int pixel_runs(const Conv2dGeometry& g, int64_t p0, int64_t count, PixelRun* runs) {
  int n = 0;
  for (int64_t q = 0; q < count;) {
    const int64_t p = p0 + q, oh = p / g.out_w, ow = p % g.out_w;
    const int64_t len = std::min(count - q, g.out_w - ow);
    runs[n++] = {oh, ow, len, q};
    q += len;
  }
  return n;
}

// Calls f(std::integral_constant<int, NV>, p0, count, runs, n_runs) for each panel of
// at most NR pixels [p0, p0 + count) of [p_begin, p_end), split into output-row runs:
// NV = 2 vectors of columns, or 1 for a last panel that fits in one.
template <typename T, typename F>
void for_each_pixel_panel(const Conv2dGeometry& g, int64_t p_begin, int64_t p_end, F&& f) {
  using Tl = Tiles<T>;
  PixelRun runs[Tl::nr];
  for (int64_t p0 = p_begin; p0 < p_end; p0 += Tl::nr) {
    const int64_t count = std::min<int64_t>(Tl::nr, p_end - p0);
    const int n_runs = pixel_runs(g, p0, count, runs);
    if (count > Tl::lanes)
      f(std::integral_constant<int, 2>{}, p0, count, runs, n_runs);
    else
      f(std::integral_constant<int, 1>{}, p0, count, runs, n_runs);
  }
}

// The pieces of one kernel tap's row of columns that read the input: panel columns
// [slot, slot + len) take input pixels src, src + stride_w, ... of a channel plane
// (src is an index into the plane); len <= NR, so at most two vectors, whose lane
// masks are worked out once per tap. Columns outside every segment read padding.
template <typename T>
struct Segment {
  int64_t slot, len, src;
  typename VectorOps<T>::Mask first, second;
};

// The segments of tap (i, j) for the pixels of `runs` (at most one per run); sets
// `covered` when they fill panel columns [0, count) (no padding to zero).
template <typename T>
int tap_segments(const Conv2dGeometry& g, int64_t i, int64_t j, const PixelRun* runs,
                 int n_runs, Segment<T>* segments, bool& covered) {
  using Ops = VectorOps<T>;
  constexpr int L = Ops::lanes;
  const int64_t w_offset = j * g.dilation_w - g.pad_w;
  int64_t lo, hi;
  valid_columns(g, w_offset, lo, hi);
  int n = 0;
  covered = true;
  for (int r = 0; r < n_runs; ++r) {
    const PixelRun& run = runs[r];
    const int64_t ih = run.oh * g.stride_h - g.pad_h + i * g.dilation_h;
    const int64_t a = std::max(lo, run.ow0), b = std::min(hi, run.ow0 + run.len);
    if (ih < 0 || ih >= g.in_h || a >= b) {
      covered = false;
      continue;
    }
    covered = covered && b - a == run.len;
    const int64_t len = b - a;
    segments[n++] = {run.q0 + (a - run.ow0), len, ih * g.in_w + a * g.stride_w + w_offset,
                     Ops::first(int(std::min<int64_t>(L, len))),
                     Ops::first(int(std::max<int64_t>(0, len - L)))};
  }
  return n;
}

// One segment: gather row[q] = plane[q * step], or scatter plane[q * step] += row[q],
// for q < seg.len.
template <bool kScatter, typename T>
inline void move_segment(std::conditional_t<kScatter, T*, const T*> plane,
                         std::conditional_t<kScatter, const T*, T*> row, const Segment<T>& seg,
                         int64_t step) {
  using Ops = VectorOps<T>;
  constexpr int L = Ops::lanes;
  if (step != 1) {
    for (int64_t q = 0; q < seg.len; ++q) {
      if constexpr (kScatter) plane[q * step] += row[q];
      else row[q] = plane[q * step];
    }
    return;
  }
  auto move = [&](int64_t q, auto mask) {
    if constexpr (kScatter) {
      Ops::store(plane + q, Ops::load(plane + q, mask) + Ops::load(row + q, mask), mask);
    } else {
      Ops::store(row + q, Ops::load(plane + q, mask), mask);
    }
  };
  move(0, seg.first);
  if (seg.len > L) move(L, seg.second);
}

// Whether tap (i, j) reads input pixel (output pixel index + a fixed shift) for every
// pixel: stride_w 1 and stride_h in_w == out_w, as in a stride-1 "same" convolution
// (input and output rows equally long). A tap's row of a pixel panel is then one run
// of the input plane with the lanes that fall in the padding masked off: one
// unconditional masked vector per NR/NV columns, instead of a copy per output row.
inline bool taps_are_shifts(const Conv2dGeometry& g) {
  return g.stride_w == 1 && g.stride_h * g.in_w == g.out_w;
}

// Bit q set where panel column q of tap (i, j) reads inside the input (q < count): the
// lanes of tap_segments' segments.
template <typename T>
uint64_t tap_lanes(const Conv2dGeometry& g, int64_t i, int64_t j, const PixelRun* runs,
                   int n_runs) {
  Segment<T> segments[Tiles<T>::nr];
  bool covered;
  const int n = tap_segments<T>(g, i, j, runs, n_runs, segments, covered);
  uint64_t bits = 0;
  for (int s = 0; s < n; ++s)
    bits |= ((uint64_t{1} << segments[s].len) - 1) << segments[s].slot;
  return bits;
}

// move_panel (below) for taps_are_shifts geometry and a panel of NV full vectors per
// row. Needs masks of any lanes (VectorOps::bit_masks). A masked-off lane may point
// outside the plane; masked loads and stores never touch it.
template <bool kScatter, int NV, typename T>
void move_shifted_panel(std::conditional_t<kScatter, T*, const T*> image,
                        const Conv2dGeometry& g, int64_t k0, int64_t k1, const PixelRun* runs,
                        int n_runs, std::conditional_t<kScatter, const T*, T*> panel) {
  using Ops = VectorOps<T>;
  constexpr int L = Ops::lanes, width = NV * L;
  const int64_t taps = g.kernel_h * g.kernel_w, plane = g.in_h * g.in_w;
  const int64_t p0 = runs[0].oh * g.out_w + runs[0].ow0;
  for (int64_t t = 0; t < taps; ++t) {
    const int64_t k_first = k0 + ((t - k0 % taps) + taps) % taps;  // rows c * taps + t
    if (k_first >= k1) continue;
    const int64_t i = t / g.kernel_w, j = t % g.kernel_w;
    const uint64_t bits = tap_lanes<T>(g, i, j, runs, n_runs);
    if (kScatter && bits == 0) continue;
    typename Ops::Mask mask[NV];
    for (int v = 0; v < NV; ++v) mask[v] = Ops::from_bits(bits >> (v * L));
    const int64_t shift = (i * g.dilation_h - g.pad_h) * g.in_w + j * g.dilation_w - g.pad_w;
    auto src = image + (k_first / taps) * plane + p0 + shift;
    auto row = panel + (k_first - k0) * width;
    for (int64_t k = k_first; k < k1; k += taps, src += plane, row += taps * width) {
      for (int v = 0; v < NV; ++v) {
        if constexpr (kScatter) {
          // row's lanes past the panel's pixels were never written: masked off too
          Ops::store(src + v * L,
                     Ops::load(src + v * L, mask[v]) + Ops::load(row + v * L, mask[v]), mask[v]);
        } else {
          Ops::store(row + v * L, Ops::load(src + v * L, mask[v]));
        }
      }
    }
  }
}

// Rows [k0, k1) of one group's column matrix at the pixels of `runs` (count of them),
// in a panel of `width` columns, rows `stride` apart. Row k = (c, i, j) and pixel
// (oh, ow) pair with input pixel (oh stride_h - pad_h + i dilation_h, ow stride_w -
// pad_w + j dilation_w) of channel c of `image` (the group's first channel), or with
// the padding.
//   gather (kScatter false): panel[k - k0][q] = that input value, 0 in the padding and
//                            in columns count <= q < width;
//   scatter (kScatter true): that input value += panel[k - k0][q].
// Tap by tap, so that each tap's segments are worked out once for all its channels.
template <bool kScatter, typename T>
void move_panel(std::conditional_t<kScatter, T*, const T*> image, const Conv2dGeometry& g,
                int64_t k0, int64_t k1, const PixelRun* runs, int n_runs, int64_t count,
                std::conditional_t<kScatter, const T*, T*> panel, int64_t width,
                int64_t stride) {
  if constexpr (VectorOps<T>::bit_masks) {
    constexpr int L = VectorOps<T>::lanes;
    if (width == stride && (width == L || width == 2 * L) && taps_are_shifts(g)) {
      if (width == L)
        return move_shifted_panel<kScatter, 1, T>(image, g, k0, k1, runs, n_runs, panel);
      return move_shifted_panel<kScatter, 2, T>(image, g, k0, k1, runs, n_runs, panel);
    }
  }
  const int64_t taps = g.kernel_h * g.kernel_w, plane = g.in_h * g.in_w;
  Segment<T> segments[Tiles<T>::nr];
  for (int64_t t = 0; t < taps; ++t) {
    bool covered;
    const int n =
        tap_segments<T>(g, t / g.kernel_w, t % g.kernel_w, runs, n_runs, segments, covered);
    const bool zero_row = !kScatter && (!covered || count < width);
    if (n == 0 && !zero_row) continue;
    // Rows k = c * taps + t in [k0, k1): one per channel from k_first on.
    const int64_t k_first = k0 + ((t - k0 % taps) + taps) % taps;
    if (k_first >= k1) continue;
    const int64_t rows = (k1 - 1 - k_first) / taps + 1;
    auto first_row = panel + (k_first - k0) * stride;
    auto first_channel = image + (k_first / taps) * plane;
    if constexpr (!kScatter) {
      if (zero_row) {
        for (int64_t c = 0; c < rows; ++c) {
          std::fill(first_row + c * taps * stride, first_row + c * taps * stride + width, T(0));
        }
      }
    }
    // Segment-major: consecutive scatters then go to different channels. Two runs'
    // segments lie next to each other in the input (one output row further on),
    // and a load that overlaps the span of a masked store still in flight waits for it.
    for (int s = 0; s < n; ++s) {
      for (int64_t c = 0; c < rows; ++c) {
        move_segment<kScatter, T>(first_channel + c * plane + segments[s].src,
                                  first_row + c * taps * stride + segments[s].slot, segments[s],
                                  g.stride_w);
      }
    }
  }
}

template <typename T>
struct GroupSizes {
  int64_t cg, cog, k, plane_in, plane_out;
  explicit GroupSizes(const Conv2dGeometry& g)
      : cg(g.in_channels / g.groups),
        cog(g.out_channels / g.groups),
        k(cg * g.kernel_h * g.kernel_w),
        plane_in(g.in_h * g.in_w),
        plane_out(g.out_h * g.out_w) {}
};

// Forward packing, per group: K blocks of k_block_rows rows; in each, the A panels of
// the group's C_out/groups weight rows (padded_rows of them), kc x width each. Block
// [k0, k0 + kc) of group grp starts at grp * padded * K + k0 * padded; its panel of
// rows [row, ...) at row * kc within.
template <typename T>
int64_t packed_forward_size(const Conv2dGeometry& g) {
  const GroupSizes<T> s(g);
  return g.groups * padded_rows<T>(s.cog) * s.k;
}

template <typename T>
void pack_forward(const T* weight, const Conv2dGeometry& g, T* packed) {
  const GroupSizes<T> s(g);
  const int64_t padded = padded_rows<T>(s.cog), kc_max = k_block_rows<T>(s.k);
  for (int64_t grp = 0; grp < g.groups; ++grp) {
    const T* w = weight + grp * s.cog * s.k;  // (C_out/groups, K), rows K apart
    for (int64_t k0 = 0; k0 < s.k; k0 += kc_max) {
      const int64_t kc = std::min(kc_max, s.k - k0);
      T* block = packed + grp * padded * s.k + k0 * padded;
      for (int64_t row = 0; row < s.cog; row += Tiles<T>::mr) {
        with_width<T>(panel_width<T>(row, s.cog), [&](auto width) {
          pack_panel<T, width()>(w, s.k, /*along_p=*/true, row,
                                 int(std::min<int64_t>(width(), s.cog - row)), k0, kc,
                                 block + row * kc);
        });
      }
    }
  }
}

template <typename T, int NV>
void forward_panel(const T* x, const T* packed, const T* bias, T* out, const Conv2dGeometry& g,
                   const GroupSizes<T>& s, int64_t p0, int64_t count, const PixelRun* runs,
                   int n_runs, T* panel) {
  constexpr int width = NV * Tiles<T>::lanes;
  const int64_t padded = padded_rows<T>(s.cog), kc_max = k_block_rows<T>(s.k);
  for (int64_t grp = 0; grp < g.groups; ++grp) {
    for (int64_t k0 = 0; k0 < s.k; k0 += kc_max) {
      const int64_t kc = std::min(kc_max, s.k - k0);
      move_panel<false, T>(x + grp * s.cg * s.plane_in, g, k0, k0 + kc, runs, n_runs, count,
                           panel, width, width);
      const T* block = packed + grp * padded * s.k + k0 * padded;
      for (int64_t row = 0; row < s.cog; row += Tiles<T>::mr) {
        // The first K block writes the tile (with the bias), later ones add to it.
        const bool first = k0 == 0;
        const TileOutput<T> tile{out + (grp * s.cog + row) * s.plane_out + p0, s.plane_out,
                                 int(std::min<int64_t>(Tiles<T>::mr, s.cog - row)),
                                 int(count), T(1), first ? T(0) : T(1),
                                 first && bias ? bias + grp * s.cog + row : nullptr};
        with_width<T>(panel_width<T>(row, s.cog), [&](auto rows) {
          micro_kernel<T, rows(), NV, Operand::packed, Operand::packed>(
              kc, block + row * kc, 0, 0, panel, 0, tile);
        });
      }
    }
  }
}

template <typename T>
void forward_pixels(const T* x, const T* packed, const T* bias, T* out,
                    const Conv2dGeometry& g, int64_t p_begin, int64_t p_end) {
  const GroupSizes<T> s(g);
  alignas(64) T panel[Tiles<T>::panel_rows * Tiles<T>::nr];
  for_each_pixel_panel<T>(g, p_begin, p_end, [&](auto nv, int64_t p0, int64_t count,
                                                 const PixelRun* runs, int n_runs) {
    forward_panel<T, nv()>(x, packed, bias, out, g, s, p0, count, runs, n_runs, panel);
  });
}

// Backward-input packing, per group: the A panels of Wᵀ (K rows, padded_rows of them,
// each C_out/groups deep x width); group grp starts at grp * padded * cog, its panel of
// rows [row, ...) at row * cog within.
template <typename T>
int64_t packed_backward_input_size(const Conv2dGeometry& g) {
  const GroupSizes<T> s(g);
  return g.groups * padded_rows<T>(s.k) * s.cog;
}

template <typename T>
void pack_backward_input(const T* weight, const Conv2dGeometry& g, T* packed) {
  const GroupSizes<T> s(g);
  const int64_t padded = padded_rows<T>(s.k);
  for (int64_t grp = 0; grp < g.groups; ++grp) {
    const T* w = weight + grp * s.cog * s.k;  // Wᵀ(k, o) = w[o * K + k]
    for (int64_t row = 0; row < s.k; row += Tiles<T>::mr) {
      with_width<T>(panel_width<T>(row, s.k), [&](auto width) {
        pack_panel<T, width()>(w, s.k, /*along_p=*/false, row,
                               int(std::min<int64_t>(width(), s.k - row)), 0, s.cog,
                               packed + grp * padded * s.cog + row * s.cog);
      });
    }
  }
}

// Input channels [c_begin, c_end) of the image: per group, the column-matrix rows of
// those channels, in chunks of panel_rows that start on an A panel, each computed into
// `cols` and scattered at once (rows of a straddling panel outside the range are
// computed, not scattered: another thread owns their planes).
template <typename T, int NV>
void backward_input_panel(const T* grad_out, const T* packed, T* grad_in,
                          const Conv2dGeometry& g, const GroupSizes<T>& s, int64_t c_begin,
                          int64_t c_end, int64_t p0, int64_t count, const PixelRun* runs,
                          int n_runs, T* cols) {
  constexpr int width = NV * Tiles<T>::lanes, mr = Tiles<T>::mr;
  const int64_t padded = padded_rows<T>(s.k), taps = g.kernel_h * g.kernel_w;
  for (int64_t grp = 0; grp < g.groups; ++grp) {
    const int64_t c0 = std::max(c_begin, grp * s.cg), c1 = std::min(c_end, (grp + 1) * s.cg);
    if (c0 >= c1) continue;
    const int64_t k_begin = (c0 - grp * s.cg) * taps, k_end = (c1 - grp * s.cg) * taps;
    const T* b = grad_out + grp * s.cog * s.plane_out + p0;  // B(o, q) = b[o * P + q]
    const T* a = packed + grp * padded * s.cog;
    for (int64_t r0 = k_begin / mr * mr; r0 < k_end; r0 += Tiles<T>::panel_rows) {
      const int64_t r1 = std::min(k_end, r0 + Tiles<T>::panel_rows);
      for (int64_t row = r0; row < r1; row += mr) {
        const TileOutput<T> tile{cols + (row - r0) * width, width,
                                 int(std::min<int64_t>(mr, s.k - row)), int(count), T(1), T(0)};
        with_width<T>(panel_width<T>(row, s.k), [&](auto rows) {
          micro_kernel<T, rows(), NV, Operand::packed, Operand::direct>(
              s.cog, a + row * s.cog, 0, 0, b, s.plane_out, tile);
        });
      }
      const int64_t first = std::max(r0, k_begin);
      move_panel<true, T>(grad_in + grp * s.cg * s.plane_in, g, first, r1, runs, n_runs, count,
                          cols + (first - r0) * width, width, width);
    }
  }
}

template <typename T>
void backward_input_channels(const T* grad_out, const T* packed, T* grad_in,
                             const Conv2dGeometry& g, int64_t c_begin, int64_t c_end) {
  const GroupSizes<T> s(g);
  alignas(64) T cols[Tiles<T>::panel_rows * Tiles<T>::nr];
  for_each_pixel_panel<T>(g, 0, s.plane_out, [&](auto nv, int64_t p0, int64_t count,
                                                 const PixelRun* runs, int n_runs) {
    backward_input_panel<T, nv()>(grad_out, packed, grad_in, g, s, c_begin, c_end, p0, count,
                                  runs, n_runs, cols);
  });
}

// Backward weight, per group: grad_weight (C_out/groups x K) += grad_out (C_out/groups x
// P) @ colsᵀ (P x K), a reduction over pixels, along which both operands are
// contiguous in NCHW. So the columns are built transposed ("im2row"), from a
// channels-last copy of the image, where a row (pixel) is the C_in/groups channels of
// every tap, each tap one contiguous copy. Columns then come tap-major,
// K' = (tap, channel), and grad_weight is accumulated in that order (the caller
// permutes it back once). B = colsᵀ and A = the grad_out rows are read in place by the
// micro-kernel (only a partial last panel of A is packed, once per pixel block).

// Pixels per block: colsᵀ (block x K) within 256 KiB of L2.
template <typename T>
int64_t weight_pixel_block(const Conv2dGeometry& g) {
  const GroupSizes<T> s(g);
  return std::clamp<int64_t>((int64_t{256} << 10) / int64_t(sizeof(T)) / s.k, 16, 512);
}

template <typename T>
int64_t backward_weight_scratch_size(const Conv2dGeometry& g) {
  const GroupSizes<T> s(g);
  const int64_t block = weight_pixel_block<T>(g);
  return s.cg * s.plane_in + block * s.k + Tiles<T>::mr * block + 64 / sizeof(T);
}

// dst[0:n] = src[0:n]: full vectors, then one masked one. The runs of im2row are a few
// vectors long, where a call to memmove would cost more than the copy.
template <typename T>
inline void copy_run(const T* __restrict src, T* __restrict dst, int64_t n) {
  using Ops = VectorOps<T>;
  constexpr int L = Ops::lanes;
  int64_t c = 0;
  for (; c + L <= n; c += L) Ops::store(dst + c, Ops::load(src + c));
  if (c < n) {
    const auto mask = Ops::first(int(n - c));
    Ops::store(dst + c, Ops::load(src + c, mask), mask);
  }
}

// rows[q][t * cg + c] for the pixels [p0, p0 + count): channels-last input `hwc`
// (H, W, cg) at tap t = (i, j)'s input pixel, or 0 in the padding. With dilation_w 1
// the taps of one kernel row that lie inside the input read consecutive input pixels:
// one run of (taps) x cg values.
template <typename T>
void im2row(const T* hwc, const Conv2dGeometry& g, const GroupSizes<T>& s, int64_t p0,
            int64_t count, T* rows) {
  const int64_t kernel_row = g.kernel_w * s.cg;  // the columns of one kernel row
  int64_t oh = p0 / g.out_w, ow = p0 % g.out_w;
  for (int64_t q = 0; q < count; ++q) {
    T* dst = rows + q * s.k;
    const int64_t iw0 = ow * g.stride_w - g.pad_w;
    for (int64_t i = 0; i < g.kernel_h; ++i, dst += kernel_row) {
      const int64_t ih = oh * g.stride_h - g.pad_h + i * g.dilation_h;
      if (ih < 0 || ih >= g.in_h) {
        std::fill(dst, dst + kernel_row, T(0));
        continue;
      }
      const T* src_row = hwc + ih * g.in_w * s.cg;
      if (g.dilation_w == 1) {
        const int64_t j_lo = std::clamp<int64_t>(-iw0, 0, g.kernel_w);
        const int64_t j_hi = std::clamp<int64_t>(g.in_w - iw0, j_lo, g.kernel_w);
        std::fill(dst, dst + j_lo * s.cg, T(0));
        copy_run(src_row + (iw0 + j_lo) * s.cg, dst + j_lo * s.cg, (j_hi - j_lo) * s.cg);
        std::fill(dst + j_hi * s.cg, dst + kernel_row, T(0));
        continue;
      }
      for (int64_t j = 0; j < g.kernel_w; ++j) {
        const int64_t iw = iw0 + j * g.dilation_w;
        if (iw < 0 || iw >= g.in_w) {
          std::fill(dst + j * s.cg, dst + (j + 1) * s.cg, T(0));
        } else {
          copy_run(src_row + iw * s.cg, dst + j * s.cg, s.cg);
        }
      }
    }
    if (++ow == g.out_w) {
      ow = 0;
      ++oh;
    }
  }
}

// hwc (plane, channels) = chw (channels, plane): in 8 x 8 (float) or 4 x 4 (double)
// register transposes where AVX is available, as the GEMM's packing does.
template <typename T>
void to_channels_last(const T* chw, int64_t channels, int64_t plane, T* hwc) {
  int64_t done = 0;
#if defined(__AVX2__)
  constexpr int block = 32 / sizeof(T);
  done = plane - plane % block;
  for (int64_t c0 = 0; c0 < channels; c0 += block) {
    const int rows = int(std::min<int64_t>(block, channels - c0));
    for (int64_t p0 = 0; p0 < done; p0 += block)
      transpose_block(chw, plane, int(c0), rows, p0, hwc, int(channels));
  }
#endif
  for (int64_t p = done; p < plane; ++p)
    for (int64_t c = 0; c < channels; ++c) hwc[p * channels + c] = chw[c * plane + p];
}

// grad_weight[:, col : col + NV lanes] += A @ rows[:, col : ...] over `depth` pixels. A's
// panels are read in place from grad_out (`go`, at the block's first pixel; row r at
// go + r P) where all their rows exist, and the last panel, when it is partial, from
// `tail` (packed, zero rows past the channels).
template <typename T, int NV>
void weight_tiles(const T* go, const T* tail, const T* rows, T* grad_weight,
                  const GroupSizes<T>& s, int64_t depth, int64_t col) {
  for (int64_t row = 0; row < s.cog; row += Tiles<T>::mr) {
    const TileOutput<T> tile{grad_weight + row * s.k + col, s.k,
                             int(std::min<int64_t>(Tiles<T>::mr, s.cog - row)),
                             int(std::min<int64_t>(NV * Tiles<T>::lanes, s.k - col)), T(1),
                             T(1)};
    with_width<T>(panel_width<T>(row, s.cog), [&](auto width) {
      if (row + width() <= s.cog) {
        micro_kernel<T, width(), NV, Operand::direct, Operand::direct>(
            depth, go + row * s.plane_out, s.plane_out, 1, rows + col, s.k, tile);
      } else {
        micro_kernel<T, width(), NV, Operand::packed, Operand::direct>(depth, tail, 0, 0,
                                                                      rows + col, s.k, tile);
      }
    });
  }
}

template <typename T>
void backward_weight_pixels(const T* grad_out, const T* x, T* grad_weight,
                            const Conv2dGeometry& g, int64_t p_begin, int64_t p_end,
                            T* scratch) {
  using Tl = Tiles<T>;
  const GroupSizes<T> s(g);
  const int64_t block = weight_pixel_block<T>(g);
  const int64_t last = (s.cog - 1) / Tl::mr * Tl::mr;  // the last A panel's first row
  T* hwc = scratch;
  T* rows = hwc + s.cg * s.plane_in;
  T* tail = rows + block * s.k;
  for (int64_t grp = 0; grp < g.groups; ++grp) {
    const T* image = x + grp * s.cg * s.plane_in;
    to_channels_last(image, s.cg, s.plane_in, hwc);
    const T* go = grad_out + grp * s.cog * s.plane_out;
    T* gw = grad_weight + grp * s.cog * s.k;
    for (int64_t p0 = p_begin; p0 < p_end; p0 += block) {
      const int64_t depth = std::min(block, p_end - p0);
      im2row(hwc, g, s, p0, depth, rows);
      with_width<T>(panel_width<T>(last, s.cog), [&](auto width) {
        if (last + width() > s.cog)
          pack_panel<T, width()>(go, s.plane_out, /*along_p=*/true, last, int(s.cog - last),
                                 p0, depth, tail);
      });
      for (int64_t col = 0; col < s.k; col += Tl::nr) {
        if (s.k - col > Tl::lanes)
          weight_tiles<T, 2>(go + p0, tail, rows, gw, s, depth, col);
        else
          weight_tiles<T, 1>(go + p0, tail, rows, gw, s, depth, col);
      }
    }
  }
}

// im2col of pixels [p_begin, p_end): cols (groups x K x (p_end - p_begin)), row
// (group, k) holding column matrix row k of that group at those pixels.
template <typename T>
void gather_columns(const T* x, const Conv2dGeometry& g, int64_t p_begin, int64_t p_end,
                    T* cols) {
  const GroupSizes<T> s(g);
  const int64_t pixels = p_end - p_begin;
  for_each_pixel_panel<T>(g, p_begin, p_end, [&](auto, int64_t p0, int64_t count,
                                                 const PixelRun* runs, int n_runs) {
    for (int64_t grp = 0; grp < g.groups; ++grp) {
      move_panel<false, T>(x + grp * s.cg * s.plane_in, g, 0, s.k, runs, n_runs, count,
                           cols + grp * s.k * pixels + (p0 - p_begin), count, pixels);
    }
  });
}

template <typename T>
const ImplicitConvKernels<T>& kernels() {
  static const ImplicitConvKernels<T> table{
      packed_forward_size<T>,        pack_forward<T>,        forward_pixels<T>,
      packed_backward_input_size<T>, pack_backward_input<T>, backward_input_channels<T>,
      backward_weight_scratch_size<T>, backward_weight_pixels<T>, gather_columns<T>};
  return table;
}

}  // namespace

const ImplicitConvKernels<float>& implicit_conv_kernels(float) { return kernels<float>(); }
const ImplicitConvKernels<double>& implicit_conv_kernels(double) { return kernels<double>(); }

}  // namespace axonic::cpu::AXONIC_ISA
