#include "common/window_geometry.h"

#include "common/checks.h"

namespace axonic {

namespace {

// floor(a / b) for b > 0 and any sign of a (PyTorch's div_rtn).
int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && (a < 0)) --q;
  return q;
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

void throw_pool2d_argmax_out_of_range(int64_t value, int64_t position, const Pool2dGeometry& g) {
  throw std::invalid_argument(concat(
      "max_pool2d_backward: argmax ", value, " at flat position ", position,
      " is out of range: expected -1 <= argmax < ", g.in_h * g.in_w, " (the input plane's ",
      g.in_h, " x ", g.in_w, " elements)"));
}

}  // namespace axonic
