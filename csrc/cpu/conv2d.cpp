// 2-D convolution; contract in conv2d.h.
//
// The mathematics is an im2col GEMM. For one image, the column matrix has
// C_in kH kW rows (channel-major, then kernel row, then kernel column) and one
// column per output pixel: column (oh, ow), row (c, i, j) holds
// x[c, oh stride_h - pad_h + i dilation_h, ow stride_w - pad_w + j dilation_w], or 0
// where that falls in the padding. Group g owns the K = (C_in / groups) kH kW rows of
// its input channels, so per image and group:
//   forward          out_g (C_out/groups x P)  = weight_g (C_out/groups x K) @ cols_g
//   backward input   cols_g                    = weight_g^T @ grad_out_g, then col2im
//                    scatter-adds every column entry back to the input pixel it copied
//   backward weight  grad_weight_g            += grad_out_g @ cols_g^T
// The column matrix is never built whole. conv2d_arch.cpp's implicit-GEMM kernels
// gather (or scatter) it a panel of pixels at a time in L1, straight in the GEMM
// micro-kernel's operand layout; this file shares the work between threads:
//   forward, backward weight: (image, block of kPixelBlock pixels) items in contiguous
//     runs per thread (whole images when the batch divides evenly, pixel ranges of an
//     image when there are fewer images than threads); backward weight sums into a
//     buffer per thread, added up at the end (with fewer threads when the buffers
//     would pass kWeightSumsBytes).
//   backward input: whole images per thread (the scatter of one image's pixel ranges
//     would overlap); with fewer images than threads, each thread takes a share of
//     every image's input channels, whose planes only it writes.
//   conv2d_backward (all gradients): when both backward passes would give whole images
//     to threads, one pass per image computes grad_in, the weight sums and the bias
//     sums from that image's grad_out while it is in cache.
// A 1x1, stride-1, unpadded convolution needs no im2col: the input plane already is
// the column matrix (P = H W), so the GEMMs read x / write grad_in directly.
#include "cpu/conv2d.h"

#include <omp.h>

#include <algorithm>
#include <memory>
#include <new>

#include "common/cpu_features.h"
#include "cpu/conv2d_arch.h"
#include "cpu/conv2d_windows.h"
#include "cpu/gemm.h"
#include "cpu/parallel_items.h"
#include "cpu/thread_scratch.h"

namespace axonic::cpu {

namespace {

// Forking threads costs microseconds: smaller convolutions run on the calling thread.
constexpr double kParallelFlops = 2.0 * 128 * 128 * 64;
// The unit of work of forward and backward weight: whole pixel panels of every ISA's
// implicit-GEMM kernel.
constexpr int64_t kPixelBlock = 32;
// Backward weight: column-matrix rows shorter than this take im2col + the GEMM, built
// this many pixels at a time.
constexpr int64_t kShortColumns = 64;
constexpr int64_t kShortColumnPixels = 1024;
// Backward weight keeps one C_out x K partial sum per thread; past this many bytes in
// all, fewer threads share the work, so that a wide layer on many cores cannot take
// several times its weights in scratch (512 x 512 3x3 on 16 threads would be 150 MB).
constexpr int64_t kWeightSumsBytes = int64_t{128} << 20;

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

bool is_pointwise(const Conv2dGeometry& g) {
  return g.kernel_h == 1 && g.kernel_w == 1 && g.stride_h == 1 && g.stride_w == 1 &&
         g.pad_h == 0 && g.pad_w == 0;
}

template <typename T>
void fill_zero(T* data, int64_t count, bool parallel) {
#pragma omp parallel for schedule(static) if (parallel && count >= 4 * kParallelElements)
  for (int64_t i = 0; i < count; ++i) data[i] = T(0);
}

// out[n, c, p] += bias[c] for every image and pixel (the pointwise path; the implicit
// GEMM adds the bias as it writes each tile).
template <typename T>
void add_bias(const T* bias, T* out, const Conv2dGeometry& g) {
  const int64_t plane_out = g.out_h * g.out_w, planes = g.batch * g.out_channels;
#pragma omp parallel for schedule(static) if (planes * plane_out >= kParallelElements)
  for (int64_t p = 0; p < planes; ++p) {
    const T b = bias[p % g.out_channels];
    T* o = out + p * plane_out;
#pragma omp simd
    for (int64_t i = 0; i < plane_out; ++i) o[i] += b;
  }
}

// Whether the convolution is worth sharing between threads: there are several, this
// is not already one of them, and the work pays for the fork.
bool worth_forking(const Conv2dGeometry& g) {
  const double flops = 2.0 * g.batch * g.out_channels * g.out_h * g.out_w *
                       (g.in_channels / g.groups) * g.kernel_h * g.kernel_w;
  return omp_get_max_threads() > 1 && !omp_in_parallel() && flops >= kParallelFlops;
}

// Threads for the image-parallel split, or 1 to work on one thread (not worth_forking)
// or with threads inside each image. Whole images per thread need at least one image
// per thread, shared evenly enough (a batch of 3 on 2 threads would idle one a third
// of the time).
int image_parallel_threads(const Conv2dGeometry& g) {
  const int64_t threads = omp_get_max_threads();
  if (!worth_forking(g) || g.batch < threads) return 1;
  if (g.batch % threads != 0 && g.batch < 3 * threads) return 1;
  return static_cast<int>(threads);
}

// The active ISA's implicit-GEMM kernels.
template <typename T>
const ImplicitConvKernels<T>& implicit_conv() {
  switch (active_isa()) {
#ifdef AXONIC_HAVE_ISA_avx512
    case Isa::avx512: return avx512::implicit_conv_kernels(T{});
#endif
#ifdef AXONIC_HAVE_ISA_avx2
    case Isa::avx2: return avx2::implicit_conv_kernels(T{});
#endif
    default: return generic::implicit_conv_kernels(T{});
  }
}

// Inside a parallel region: calls body(n, p_begin, p_end) for this thread's share of
// the batch's (image, block of kPixelBlock output pixels) items, in contiguous runs,
// so that each thread gets whole images when the batch divides evenly.
template <typename Body>
void share_pixel_blocks(const Conv2dGeometry& g, Body&& body) {
  const int64_t plane_out = g.out_h * g.out_w;
  const int64_t blocks = ceil_div(plane_out, kPixelBlock), items = g.batch * blocks;
  const int64_t threads = omp_get_num_threads(), t = omp_get_thread_num();
  const int64_t last = items * (t + 1) / threads;
  for (int64_t item = items * t / threads; item < last;) {
    const int64_t n = item / blocks, block = item % blocks;
    const int64_t block_end = std::min(blocks, block + (last - item));
    body(n, block * kPixelBlock, std::min(plane_out, block_end * kPixelBlock));
    item += block_end - block;
  }
}

// This thread's column scratch, or nullptr with out_of_memory set: an exception must
// not leave a parallel region, so the caller throws after it.
template <typename T>
T* claim_scratch(int64_t size, bool& out_of_memory) {
  try {
    return thread_scratch<T>(ScratchSlot::conv_columns, size);
  } catch (const std::bad_alloc&) {
#pragma omp atomic write
    out_of_memory = true;
    return nullptr;
  }
}

// grad_weight (C_out, C_in / groups, kH, kW) = the sum of `threads` partial sums (each
// C_out x K), which are tap-major (the implicit GEMM's order) or in weight's order.
template <typename T>
void add_weight_sums(const T* sums, int threads, bool tap_major, T* grad_weight,
                     const Conv2dGeometry& g) {
  const int64_t cg = g.in_channels / g.groups, taps = g.kernel_h * g.kernel_w;
  const int64_t k = cg * taps, size = g.out_channels * k;
#pragma omp parallel for schedule(static) if (threads > 1 && size >= kParallelElements)
  for (int64_t o = 0; o < g.out_channels; ++o) {
    for (int64_t c = 0; c < cg; ++c) {
      for (int64_t t = 0; t < taps; ++t) {
        const int64_t from = o * k + (tap_major ? t * cg + c : c * taps + t);
        T total = T(0);
        for (int w = 0; w < threads; ++w) total += sums[w * size + from];
        grad_weight[o * k + c * taps + t] = total;
      }
    }
  }
}

// The sum of `count` values, accumulated in double (the bias gradient's precision).
template <typename T>
double sum_in_double(const T* values, int64_t count) {
  double sum = 0.0;
#pragma omp simd reduction(+ : sum)
  for (int64_t i = 0; i < count; ++i) sum += static_cast<double>(values[i]);
  return sum;
}

// The threads backward weight may use out of `threads`: as many partial sums of
// `element`-byte values as fit kWeightSumsBytes (at least one).
int weight_sum_threads(const Conv2dGeometry& g, int threads, int64_t element) {
  const int64_t bytes =
      g.out_channels * (g.in_channels / g.groups) * g.kernel_h * g.kernel_w * element;
  return static_cast<int>(std::clamp<int64_t>(kWeightSumsBytes / bytes, 1, threads));
}

// Whether backward input and weight can share one pass over whole images: both take
// their implicit-GEMM paths, and the images go whole to threads (or to one thread),
// each of which can have its own weight sums.
bool fusable_backward(const Conv2dGeometry& g, int64_t element) {
  const int64_t k = (g.in_channels / g.groups) * g.kernel_h * g.kernel_w;
  if (is_pointwise(g) || k < kShortColumns) return false;
  if (!worth_forking(g)) return true;
  const int threads = image_parallel_threads(g);
  return threads > 1 && g.batch % threads == 0 &&
         weight_sum_threads(g, threads, element) == threads;
}

// conv2d_backward on fusable_backward geometry: per image, grad_in, this thread's
// weight and bias sums, from the image's grad_out while it is in cache.
template <typename T>
void backward_fused(const T* grad_out, const T* x, const T* weight, T* grad_in,
                    T* grad_weight, T* grad_bias, const Conv2dGeometry& g) {
  const ImplicitConvKernels<T>& kernels = implicit_conv<T>();
  const int64_t image_in = g.in_channels * g.in_h * g.in_w;
  const int64_t plane_out = g.out_h * g.out_w, image_out = g.out_channels * plane_out;
  const int64_t size = g.out_channels * (g.in_channels / g.groups) * g.kernel_h * g.kernel_w;
  const int threads = worth_forking(g) ? image_parallel_threads(g) : 1;
  std::unique_ptr<T[]> packed(new T[static_cast<size_t>(kernels.packed_backward_input_size(g))]);
  kernels.pack_backward_input(weight, g, packed.get());
  std::unique_ptr<T[]> sums(new T[static_cast<size_t>(threads * size)]());
  std::unique_ptr<double[]> bias_sums(new double[static_cast<size_t>(threads * g.out_channels)]());
  const int64_t scratch_size = kernels.backward_weight_scratch_size(g);
  bool out_of_memory = false;
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    T* scratch = claim_scratch<T>(scratch_size, out_of_memory);
#pragma omp barrier
    if (!out_of_memory) {
      const int t = omp_get_thread_num();
#pragma omp for schedule(static)
      for (int64_t n = 0; n < g.batch; ++n) {
        const T* go = grad_out + n * image_out;
        T* gi = grad_in + n * image_in;
        std::fill(gi, gi + image_in, T(0));
        kernels.backward_input_channels(go, packed.get(), gi, g, 0, g.in_channels);
        kernels.backward_weight_pixels(go, x + n * image_in, sums.get() + t * size, g, 0,
                                       plane_out, scratch);
        for (int64_t c = 0; grad_bias != nullptr && c < g.out_channels; ++c)
          bias_sums[t * g.out_channels + c] += sum_in_double(go + c * plane_out, plane_out);
      }
    }
  }
  if (out_of_memory) throw std::bad_alloc();
  add_weight_sums(sums.get(), threads, /*tap_major=*/true, grad_weight, g);
  if (grad_bias == nullptr) return;
  for (int64_t c = 0; c < g.out_channels; ++c) {
    double total = 0.0;
    for (int w = 0; w < threads; ++w) total += bias_sums[w * g.out_channels + c];
    grad_bias[c] = static_cast<T>(total);
  }
}

}  // namespace

template <typename T>
void conv2d_forward(const T* x, const T* weight, const T* bias, T* out,
                    const Conv2dGeometry& g) {
  const int64_t cg = g.in_channels / g.groups, cog = g.out_channels / g.groups;
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
    if (bias != nullptr) add_bias(bias, out, g);
    return;
  }
  // Implicit GEMM, shared out as (image, block of kPixelBlock pixels) items: whole
  // images per thread when the batch allows, pixel ranges of an image otherwise.
  const ImplicitConvKernels<T>& kernels = implicit_conv<T>();
  std::unique_ptr<T[]> packed(new T[static_cast<size_t>(kernels.packed_forward_size(g))]);
  kernels.pack_forward(weight, g, packed.get());
#pragma omp parallel if (worth_forking(g))
  share_pixel_blocks(g, [&](int64_t n, int64_t p_begin, int64_t p_end) {
    kernels.forward_pixels(x + n * g.in_channels * plane_in, packed.get(), bias,
                           out + n * g.out_channels * plane_out, g, p_begin, p_end);
  });
}

template <typename T>
void conv2d_backward_input(const T* grad_out, const T* weight, T* grad_in,
                           const Conv2dGeometry& g) {
  const int64_t cg = g.in_channels / g.groups, cog = g.out_channels / g.groups;
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
  // Whole images to threads when the batch allows; otherwise every thread takes a share
  // of the input channels of each image (its own planes, so the scatters never meet).
  const ImplicitConvKernels<T>& kernels = implicit_conv<T>();
  std::unique_ptr<T[]> packed(new T[static_cast<size_t>(kernels.packed_backward_input_size(g))]);
  kernels.pack_backward_input(weight, g, packed.get());
  const int image_threads = image_parallel_threads(g);
  if (image_threads > 1 || !worth_forking(g)) {
#pragma omp parallel for schedule(static) num_threads(image_threads) if (image_threads > 1)
    for (int64_t n = 0; n < g.batch; ++n) {
      T* image = grad_in + n * g.in_channels * plane_in;
      std::fill(image, image + g.in_channels * plane_in, T(0));
      kernels.backward_input_channels(grad_out + n * g.out_channels * plane_out, packed.get(),
                                      image, g, 0, g.in_channels);
    }
    return;
  }
#pragma omp parallel
  {
    const int64_t t = omp_get_thread_num(), threads = omp_get_num_threads();
    const int64_t c0 = g.in_channels * t / threads, c1 = g.in_channels * (t + 1) / threads;
    for (int64_t n = 0; n < g.batch && c0 < c1; ++n) {
      T* image = grad_in + n * g.in_channels * plane_in;
      std::fill(image + c0 * plane_in, image + c1 * plane_in, T(0));
      kernels.backward_input_channels(grad_out + n * g.out_channels * plane_out, packed.get(),
                                      image, g, c0, c1);
    }
  }
}

template <typename T>
void conv2d_backward_weight(const T* grad_out, const T* x, T* grad_weight,
                            const Conv2dGeometry& g) {
  const int64_t cg = g.in_channels / g.groups, cog = g.out_channels / g.groups;
  const int64_t k = cg * g.kernel_h * g.kernel_w;
  const int64_t plane_out = g.out_h * g.out_w, plane_in = g.in_h * g.in_w;
  const int64_t size = g.out_channels * k;
  if (is_pointwise(g)) {
    fill_zero(grad_weight, size, true);
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
  // The same (image, pixel block) items as forward; each thread sums into its own
  // buffer, and the buffers are added up at the end. Short column-matrix rows
  // (K < kShortColumns: a few input channels) take im2col + the GEMM, which reads the
  // columns transposed for little; otherwise the implicit GEMM, whose sums are
  // tap-major and are permuted back to (C_out, C_in / groups, kH, kW).
  const ImplicitConvKernels<T>& kernels = implicit_conv<T>();
  const bool short_columns = k < kShortColumns;
  const int threads =
      worth_forking(g) ? weight_sum_threads(g, omp_get_max_threads(), sizeof(T)) : 1;
  const bool parallel = threads > 1;
  std::unique_ptr<T[]> sums(new T[static_cast<size_t>(threads * size)]());
  const int64_t scratch_size = short_columns ? g.groups * k * kShortColumnPixels
                                             : kernels.backward_weight_scratch_size(g);
  bool out_of_memory = false;
#pragma omp parallel num_threads(threads) if (parallel)
  {
    T* scratch = claim_scratch<T>(scratch_size, out_of_memory);
#pragma omp barrier
    if (!out_of_memory) {
      T* sum = sums.get() + omp_get_thread_num() * size;
      share_pixel_blocks(g, [&](int64_t n, int64_t p_begin, int64_t p_end) {
        const T* go = grad_out + n * g.out_channels * plane_out;
        const T* image = x + n * g.in_channels * plane_in;
        if (!short_columns) {
          kernels.backward_weight_pixels(go, image, sum, g, p_begin, p_end, scratch);
          return;
        }
        for (int64_t p0 = p_begin; p0 < p_end; p0 += kShortColumnPixels) {
          const int64_t pixels = std::min(kShortColumnPixels, p_end - p0);
          kernels.gather_columns(image, g, p0, p0 + pixels, scratch);
          for (int64_t grp = 0; grp < g.groups; ++grp) {
            const GemmShape s{false, true, cog, k, pixels, plane_out, pixels, k};
            gemm<T>(s, T(1), go + grp * cog * plane_out + p0, scratch + grp * k * pixels,
                    T(1), sum + grp * cog * k);
          }
        }
      });
    }
  }
  if (out_of_memory) throw std::bad_alloc();
  add_weight_sums(sums.get(), threads, /*tap_major=*/!short_columns, grad_weight, g);
}

template <typename T>
void conv2d_backward_bias(const T* grad_out, T* grad_bias, int64_t batch, int64_t channels,
                          int64_t plane) {
#pragma omp parallel for schedule(static) if (batch * channels * plane >= kParallelElements)
  for (int64_t c = 0; c < channels; ++c) {
    double sum = 0.0;
    for (int64_t n = 0; n < batch; ++n)
      sum += sum_in_double(grad_out + (n * channels + c) * plane, plane);
    grad_bias[c] = static_cast<T>(sum);
  }
}

template <typename T>
void conv2d_backward(const T* grad_out, const T* x, const T* weight, T* grad_in,
                     T* grad_weight, T* grad_bias, const Conv2dGeometry& g) {
  if (grad_in != nullptr && grad_weight != nullptr && fusable_backward(g, sizeof(T)))
    return backward_fused(grad_out, x, weight, grad_in, grad_weight, grad_bias, g);
  if (grad_in != nullptr) conv2d_backward_input(grad_out, weight, grad_in, g);
  if (grad_weight != nullptr) conv2d_backward_weight(grad_out, x, grad_weight, g);
  if (grad_bias != nullptr)
    conv2d_backward_bias(grad_out, grad_bias, g.batch, g.out_channels, g.out_h * g.out_w);
}

#define AXONIC_INSTANTIATE_CONV2D(T)                                                     \
  template void conv2d_forward<T>(const T*, const T*, const T*, T*,                      \
                                  const Conv2dGeometry&);                                \
  template void conv2d_backward_input<T>(const T*, const T*, T*, const Conv2dGeometry&); \
  template void conv2d_backward_weight<T>(const T*, const T*, T*, const Conv2dGeometry&); \
  template void conv2d_backward_bias<T>(const T*, T*, int64_t, int64_t, int64_t);         \
  template void conv2d_backward<T>(const T*, const T*, const T*, T*, T*, T*,             \
                                   const Conv2dGeometry&);

AXONIC_INSTANTIATE_CONV2D(float)
AXONIC_INSTANTIATE_CONV2D(double)

#undef AXONIC_INSTANTIATE_CONV2D

}  // namespace axonic::cpu
