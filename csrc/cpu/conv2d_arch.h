// Implicit-GEMM convolution kernels (conv2d_arch.cpp), compiled once per ISA in
// CMakeLists.txt like gemm_arch.cpp. conv2d.cpp picks the active ISA's table and
// decides how images and pixels are shared between threads; each function here runs
// on the calling thread only.
#pragma once

#include <cstdint>

#include "cpu/conv2d.h"

namespace axonic::cpu {

// Per image: pixels [p_begin, p_end) of the output plane (Ho Wo), or input channels
// [c_begin, c_end). Weights are packed once per call (pack_*), into buffers of
// packed_*_size(g) elements.
template <typename T>
struct ImplicitConvKernels {
  int64_t (*packed_forward_size)(const Conv2dGeometry& g);
  void (*pack_forward)(const T* weight, const Conv2dGeometry& g, T* packed);
  // out_image (C_out, Ho, Wo) at those pixels, every channel, = the convolution of
  // x_image (C_in, H, W) + bias (C_out,) when bias is not null.
  void (*forward_pixels)(const T* x_image, const T* packed, const T* bias, T* out_image,
                         const Conv2dGeometry& g, int64_t p_begin, int64_t p_end);
  int64_t (*packed_backward_input_size)(const Conv2dGeometry& g);
  void (*pack_backward_input)(const T* weight, const Conv2dGeometry& g, T* packed);
  // Input channels [c_begin, c_end) of grad_in_image (C_in, H, W) += the gradient
  // through every output pixel of grad_out_image (C_out, Ho, Wo). Writes only those
  // channels' planes, so threads may share an image by channels (pixel ranges would
  // scatter into overlapping input pixels).
  void (*backward_input_channels)(const T* grad_out_image, const T* packed,
                                  T* grad_in_image, const Conv2dGeometry& g, int64_t c_begin,
                                  int64_t c_end);
  // Elements of scratch backward_weight_pixels needs.
  int64_t (*backward_weight_scratch_size)(const Conv2dGeometry& g);
  // grad_weight_taps += the gradient through those output pixels of grad_out_image for
  // input x_image, laid out (C_out, taps, C_in / groups): tap-major, not weight's
  // (C_out, C_in / groups, taps), which the caller restores once at the end.
  void (*backward_weight_pixels)(const T* grad_out_image, const T* x_image,
                                 T* grad_weight_taps, const Conv2dGeometry& g,
                                 int64_t p_begin, int64_t p_end, T* scratch);
  // im2col of output pixels [p_begin, p_end) of x_image: cols (groups, K, p_end -
  // p_begin), K = C_in / groups kH kW rows per group as in conv2d.cpp.
  void (*gather_columns)(const T* x_image, const Conv2dGeometry& g, int64_t p_begin,
                         int64_t p_end, T* cols);
};

}  // namespace axonic::cpu

#define AXONIC_DECLARE_CONV_ISA(isa)                             \
  namespace axonic::cpu::isa {                                   \
  const ImplicitConvKernels<float>& implicit_conv_kernels(float);   \
  const ImplicitConvKernels<double>& implicit_conv_kernels(double); \
  }

AXONIC_DECLARE_CONV_ISA(generic)
#ifdef AXONIC_HAVE_ISA_avx2
AXONIC_DECLARE_CONV_ISA(avx2)
#endif
#ifdef AXONIC_HAVE_ISA_avx512
AXONIC_DECLARE_CONV_ISA(avx512)
#endif
