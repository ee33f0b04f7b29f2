// Max pooling of one plane for the fixed window shapes, compiled once per ISA (see
// pooling_arch.h); pooling_max.cpp describes the algorithm and the rule for which
// element wins.
//
// The outputs of a row are taken a SIMD vector (simd.h) at a time: lane i holds output
// column c + i, whose window starts at input column (c + i) stride_w - pad_w. The
// window is unrolled at compile time (FixedWindow), and for each of its kernel_h x
// kernel_w positions, in row-major order, one vector load fetches that position for
// every lane: a plain load for column stride 1; for stride 2 the even elements of
// 2 lanes - 1 consecutive ones, two loads and one two-source permute, the second load
// starting at element lanes - 1 so that nothing past the last element needed is read.
// The keep rule is the select
//     keep = (v > best) | (v != v); best = keep ? v : best; offset = keep ? j : offset
// with the window offset j = r in_w + k in integer lanes of T's width (int32 for float),
// which share the comparison mask; the offsets become int64 flat indices at the store.
//   inside   a vector whose windows all lie inside the input (pool_interior): every
//            position is loaded for every lane, and best starts at position 0.
//   clipped  any other vector, at the plane's borders: window rows outside the input
//            are skipped, columns outside are masked off at the load (never read) and
//            in the select, and a lane keeps its first position inside regardless of
//            value (seen), which is the scan's start at -inf with the window's first
//            element as argmax.
// A row is cut into vectors from column 0; the last vector is partial, with masked
// loads and stores (a 28 x 28 input pooled 2 x 2 has 14 outputs per row, under
// AVX-512 one partial vector of 16 float lanes), so no row has a scalar tail. The
// AVX-512 and AVX2 builds use the ISA's masked loads and stores, which touch nothing
// in the masked-off lanes; the portable build copies through a buffer.
#include "cpu/pooling_arch.h"

#include <algorithm>
#include <type_traits>
#include <utility>

#include "cpu/pooling_windows.h"
#include "cpu/simd.h"

#ifndef AXONIC_ISA
#error "pooling_arch.cpp is compiled once per ISA with -DAXONIC_ISA=<isa>"
#endif

namespace axonic::cpu::AXONIC_ISA {

namespace {

// Integer lanes as wide as T's (the masks comparisons return) and their element type.
template <typename T>
using Bits = typename Simd<T>::Bits;
template <typename T>
using Lane = std::conditional_t<sizeof(T) == 4, int32_t, int64_t>;

// 0, 1, ..., lanes - 1.
template <typename T>
inline Bits<T> lane_numbers() {
  Bits<T> iota{};
  for (int i = 0; i < Simd<T>::lanes; ++i) iota[i] = i;
  return iota;
}

// Lanes [begin, end) set, 0 <= begin <= end <= lanes.
template <typename T>
inline Bits<T> lanes_in(int64_t begin, int64_t end) {
  const Bits<T> iota = lane_numbers<T>();
  return (iota >= static_cast<Lane<T>>(begin)) & (iota < static_cast<Lane<T>>(end));
}

// Elements [begin, end) of p (0 <= begin <= end <= lanes) in their lanes, zeros
// elsewhere; reads nothing else, so p + lane may lie outside the array for the other
// lanes.
template <typename T>
inline Vector<T> load_range(const T* p, int64_t begin, int64_t end) {
  constexpr int lanes = Simd<T>::lanes;
  if (begin == 0 && end == lanes) return load(p);
#if defined(__AVX512F__)
  const unsigned mask = ((1u << end) - 1) & ~((1u << begin) - 1);
  if constexpr (std::is_same_v<T, float>)
    return (Vector<T>)_mm512_maskz_loadu_ps(static_cast<__mmask16>(mask), p);
  else
    return (Vector<T>)_mm512_maskz_loadu_pd(static_cast<__mmask8>(mask), p);
#elif defined(__AVX2__)
  if constexpr (std::is_same_v<T, float>)
    return (Vector<T>)_mm256_maskload_ps(p, (__m256i)lanes_in<T>(begin, end));
  else
    return (Vector<T>)_mm256_maskload_pd(p, (__m256i)lanes_in<T>(begin, end));
#else
  T buffer[lanes] = {};
  if (begin < end)
    std::memcpy(buffer + begin, p + begin, static_cast<size_t>(end - begin) * sizeof(T));
  return load(buffer);
#endif
}

// Stores the first count (<= lanes) lanes of v; writes nothing past them.
template <typename T>
inline void store_first(T* p, Vector<T> v, int64_t count) {
  if (count == Simd<T>::lanes) return store(p, v);
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<T, float>)
    _mm512_mask_storeu_ps(p, static_cast<__mmask16>((1u << count) - 1), (__m512)v);
  else
    _mm512_mask_storeu_pd(p, static_cast<__mmask8>((1u << count) - 1), (__m512d)v);
#elif defined(__AVX2__)
  if constexpr (std::is_same_v<T, float>)
    _mm256_maskstore_ps(p, (__m256i)lanes_in<T>(0, count), (__m256)v);
  else
    _mm256_maskstore_pd(p, (__m256i)lanes_in<T>(0, count), (__m256d)v);
#else
  store_partial(p, v, count);
#endif
}

// Lanes [Offset, Offset + sizeof...(I)) of an int32 vector, widened to int64.
template <int Offset, typename Narrow, int... I>
inline Bits<double> widen_lanes(Narrow lane, std::integer_sequence<int, I...>) {
  return __builtin_convertvector(__builtin_shufflevector(lane, lane, (Offset + I)...),
                                 Bits<double>);
}

// p[i] = base + lane[i] for i < count (<= lanes), lane in T-width integer lanes, stored
// a native int64 vector (Simd<double>::Bits) at a time: float has twice as many lanes.
// Writes nothing past p[count - 1]. (The masked stores are those of double: they move
// bits.)
template <typename T>
inline void store_first_indices(int64_t* p, Bits<T> lane, int64_t base, int64_t count) {
  const auto store_wide = [&](int64_t* q, Bits<double> wide, int64_t n) {
    store_first(reinterpret_cast<double*>(q), (Vector<double>)(wide + base), n);
  };
  if constexpr (sizeof(T) == sizeof(int64_t)) {
    store_wide(p, lane, count);
  } else {
    constexpr int wide_lanes = Simd<double>::lanes;
    constexpr auto half = std::make_integer_sequence<int, wide_lanes>{};
    store_wide(p, widen_lanes<0>(lane, half), std::min<int64_t>(count, wide_lanes));
    if (count > wide_lanes)
      store_wide(p + wide_lanes, widen_lanes<wide_lanes>(lane, half), count - wide_lanes);
  }
}

// Lane i = p[i SW] where i SW lies in [begin, end), else 0, for 0 <= begin <= end <=
// (lanes - 1) SW + 1; reads only elements [begin, end) of p.
template <typename T, int SW>
inline Vector<T> load_strided(const T* p, int64_t begin, int64_t end) {
  static_assert(SW == 1 || SW == 2, "column stride 1 or 2");
  constexpr int lanes = Simd<T>::lanes;
  if constexpr (SW == 1) {
    return load_range(p, begin, end);
  } else {
    // Even elements of p[0 .. 2 lanes - 2]: lo = p[0 .. lanes), hi = p[lanes - 1 ..
    // 2 lanes - 1); element 2i is lo[2i] below lanes and hi[2i + 1 - lanes] from there.
    const Vector<T> lo =
        load_range(p, std::min<int64_t>(begin, lanes), std::min<int64_t>(end, lanes));
    const int64_t hi_begin = std::max<int64_t>(begin - (lanes - 1), 0);
    const int64_t hi_end = std::max<int64_t>(end - (lanes - 1), hi_begin);
    const Vector<T> hi =
        hi_begin < hi_end ? load_range(p + lanes - 1, hi_begin, hi_end) : Vector<T>{};
    Bits<T> even{};
    for (int i = 0; i < lanes; ++i) even[i] = 2 * i + (2 * i < lanes ? 0 : 1);
    return __builtin_shuffle(lo, hi, even);
  }
}

// Stores count (<= lanes) outputs: values best, argmax corner + lane i's column offset
// i SW + best_offset.
template <typename T, int SW>
inline void store_max(Vector<T> best, Bits<T> best_offset, int64_t corner, int64_t count,
                      T* out, int64_t* argmax) {
  store_first(out, best, count);
  store_first_indices<T>(argmax, best_offset + lane_numbers<T>() * SW, corner, count);
}

// count (<= lanes) outputs of one row whose windows lie inside the input, window corner
// of the first one at flat index corner: every position is loaded for every lane.
template <typename T, class Window>
inline void max_vector_inside(const T* x, int64_t in_w, int64_t corner, int64_t count, T* out,
                              int64_t* argmax) {
  constexpr int kh = Window::kernel_h, kw = Window::kernel_w, sw = Window::stride_w;
  const int64_t end = (count - 1) * sw + 1;  // elements a position's load needs
  const T* window = x + corner;
  Vector<T> best = load_strided<T, sw>(window, 0, end);
  Bits<T> best_offset{};
#pragma GCC unroll 16
  for (int j = 1; j < kh * kw; ++j) {  // row-major position j in the window
    const int64_t offset = j / kw * in_w + j % kw;
    const Vector<T> v = load_strided<T, sw>(window + offset, 0, end);
    const Bits<T> keep = (v > best) | (v != v);
    best = keep ? v : best;
    best_offset = keep ? static_cast<Lane<T>>(offset) - Bits<T>{} : best_offset;
  }
  store_max<T, sw>(best, best_offset, corner, count, out, argmax);
}

// count (<= lanes) outputs of output row oh from output column first on, windows
// clipped to the input: positions outside the input are neither loaded nor kept, so a
// lane keeps its first position inside (seen), then follows the keep rule. Every
// window of a fixed shape has a position inside (dilation 1, padding <= kernel / 2, a
// ceil_mode window starts inside the input or its left padding).
template <typename T, class Window>
inline void max_vector_clipped(const T* x, const Pool2dGeometry& g, int64_t oh, int64_t first,
                               int64_t count, T* out, int64_t* argmax) {
  constexpr int kh = Window::kernel_h, kw = Window::kernel_w, sw = Window::stride_w;
  const int64_t h0 = oh * g.stride_h - g.pad_h, w0 = first * sw - g.pad_w;
  const int64_t corner = h0 * g.in_w + w0;  // of lane 0's window; may lie outside
  const int64_t end = (count - 1) * sw + 1;
  // Window rows [r_lo, r_hi) and, for column k, the elements [lo[k], hi[k]) of each row
  // segment (lanes inside[k]) lie inside the input.
  const int64_t r_lo = std::max<int64_t>(-h0, 0), r_hi = std::min<int64_t>(g.in_h - h0, kh);
  int64_t lo[kw], hi[kw];
  Bits<T> inside[kw];
  for (int k = 0; k < kw; ++k) {
    lo[k] = std::clamp<int64_t>(-(w0 + k), 0, end);
    hi[k] = std::clamp<int64_t>(g.in_w - (w0 + k), lo[k], end);
    const Bits<T> element = lane_numbers<T>() * sw;
    inside[k] = (element >= static_cast<Lane<T>>(lo[k])) & (element < static_cast<Lane<T>>(hi[k]));
  }
  Vector<T> best = broadcast(T(0));
  Bits<T> best_offset{}, seen{};
  for (int64_t r = r_lo; r < r_hi; ++r) {
#pragma GCC unroll 4
    for (int k = 0; k < kw; ++k) {
      const int64_t offset = r * g.in_w + k;
      const Vector<T> v = load_strided<T, sw>(x + corner + offset, lo[k], hi[k]);
      const Bits<T> keep = inside[k] & (~seen | (v > best) | (v != v));
      best = keep ? v : best;
      best_offset = keep ? static_cast<Lane<T>>(offset) - Bits<T>{} : best_offset;
      seen |= inside[k];
    }
  }
  store_max<T, sw>(best, best_offset, corner, count, out, argmax);
}

// Every output of one plane, a vector of output columns at a time: vectors whose
// windows all lie inside the input take max_vector_inside, the others (at the plane's
// borders) max_vector_clipped.
template <typename T, class Window>
void max_plane(const T* x, T* out, int64_t* argmax, const Pool2dGeometry& g,
               const PoolInterior& in) {
  constexpr int64_t lanes = Simd<T>::lanes;
  for (int64_t oh = 0; oh < g.out_h; ++oh) {
    const bool row_inside = oh >= in.row_lo && oh < in.row_hi;
    T* orow = out + oh * g.out_w;
    int64_t* arow = argmax + oh * g.out_w;
    for (int64_t i = 0; i < g.out_w; i += lanes) {
      const int64_t n = std::min(lanes, g.out_w - i);
      if (row_inside && i >= in.col_lo && i + n <= in.col_hi) {
        const int64_t corner =
            (oh * g.stride_h - g.pad_h) * g.in_w + i * Window::stride_w - g.pad_w;
        max_vector_inside<T, Window>(x, g.in_w, corner, n, orow + i, arow + i);
      } else {
        max_vector_clipped<T, Window>(x, g, oh, i, n, orow + i, arow + i);
      }
    }
  }
}

}  // namespace

template <typename T>
MaxPoolPlaneFn<T> max_pool_plane_kernel(const Pool2dGeometry& g) {
  MaxPoolPlaneFn<T> kernel = nullptr;
  with_fixed_window(g, [&](auto window) {
    if constexpr (decltype(window)::kernel_h > 0) kernel = &max_plane<T, decltype(window)>;
  });
  return kernel;
}

template MaxPoolPlaneFn<float> max_pool_plane_kernel<float>(const Pool2dGeometry&);
template MaxPoolPlaneFn<double> max_pool_plane_kernel<double>(const Pool2dGeometry&);

}  // namespace axonic::cpu::AXONIC_ISA
