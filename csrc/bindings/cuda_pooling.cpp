// axonic._cuda's 2-D max and average pooling on CUDA arrays, with the CPU module's
// names, argument order and checks (bindings/pool2d_args.h) plus the stream the kernels
// run on. argmax is an int64 CUDA array. max_pool2d_backward waits for its device-side
// check of argmax (cuda/pooling.h) so that a bad entry raises ValueError, as on the CPU.
#include <cstdint>

#include "bindings/cuda_arrays.h"
#include "bindings/cuda_bindings.h"
#include "bindings/pool2d_args.h"
#include "cuda/pooling.h"

namespace axonic::bind {

namespace {

// The int64 CUDA array argmax (an output of the forward).
DeviceArray argmax_array(py::handle obj, const char* /*op*/, bool writable) {
  return device_array_of(obj, "argmax", ElementType::i64, writable);
}

void require_int32_indexing(const Pool2dGeometry& g, const char* op) {
  AXONIC_CHECK(cuda::pool2d_fits_int32(g), op,
               ": the planes are too large for the CUDA kernels' 32-bit indexing (2^31 "
               "elements or more in one plane)");
}

void max_pool2d_forward_binding(py::handle x_obj, py::handle out_obj, py::handle argmax_obj,
                                const Pair& kernel_size, const Pair& stride,
                                const Pair& padding, const Pair& dilation, bool ceil_mode,
                                uintptr_t stream) {
  const auto a = max_pool2d_forward_args(device_float_array, argmax_array, x_obj, out_obj,
                                         argmax_obj, kernel_size, stride, padding, dilation,
                                         ceil_mode);
  require_int32_indexing(a.g, "max_pool2d_forward");
  dispatch_float(a.x.dtype, [&](auto zero) {
    using T = decltype(zero);
    py::gil_scoped_release release;
    cuda::max_pool2d_forward<T>(a.x.ptr<T>(), a.out.ptr<T>(), a.argmax.ptr<int64_t>(), a.g,
                                stream_arg(stream));
  });
}

void max_pool2d_backward_binding(py::handle grad_out_obj, py::handle argmax_obj,
                                 py::handle grad_in_obj, uintptr_t stream) {
  const auto a = max_pool2d_backward_args(device_float_array, argmax_array, grad_out_obj,
                                          argmax_obj, grad_in_obj);
  require_int32_indexing(a.g, "max_pool2d_backward");
  dispatch_float(a.grad_out.dtype, [&](auto zero) {
    using T = decltype(zero);
    py::gil_scoped_release release;
    cuda::max_pool2d_backward<T>(a.grad_out.ptr<T>(), a.argmax.ptr<int64_t>(),
                                 a.grad_in.ptr<T>(), a.g, stream_arg(stream));
  });
}

// avg_pool2d_forward (x, out, ...) or avg_pool2d_backward (grad_out, grad_in, ...).
template <AvgPoolPass pass>
void avg_pool2d_binding(py::handle in_obj, py::handle out_obj, const Pair& kernel_size,
                        const Pair& stride, const Pair& padding, bool ceil_mode,
                        bool count_include_pad, uintptr_t stream) {
  const auto a = avg_pool2d_args(device_float_array, pass, in_obj, out_obj, kernel_size, stride,
                                 padding, ceil_mode);
  require_int32_indexing(a.g, pass == AvgPoolPass::forward ? "avg_pool2d_forward"
                                                           : "avg_pool2d_backward");
  dispatch_float(a.in.dtype, [&](auto zero) {
    using T = decltype(zero);
    py::gil_scoped_release release;
    if constexpr (pass == AvgPoolPass::forward)
      cuda::avg_pool2d_forward<T>(a.in.ptr<T>(), a.out.ptr<T>(), a.g, count_include_pad,
                                  stream_arg(stream));
    else
      cuda::avg_pool2d_backward<T>(a.in.ptr<T>(), a.out.ptr<T>(), a.g, count_include_pad,
                                   stream_arg(stream));
  });
}

}  // namespace

void register_cuda_pooling(py::module_& m) {
  m.def("max_pool2d_forward", &max_pool2d_forward_binding, py::arg("x"), py::arg("out"),
        py::arg("argmax"), py::arg("kernel_size"), py::arg("stride"), py::arg("padding"),
        py::arg("dilation"), py::arg("ceil_mode"), py::arg("stream") = 0,
        kMaxPool2dForwardDoc);
  m.def("max_pool2d_backward", &max_pool2d_backward_binding, py::arg("grad_out"),
        py::arg("argmax"), py::arg("grad_in"), py::arg("stream") = 0, kMaxPool2dBackwardDoc);
  m.def("avg_pool2d_forward", &avg_pool2d_binding<AvgPoolPass::forward>, py::arg("x"),
        py::arg("out"), py::arg("kernel_size"), py::arg("stride"), py::arg("padding"),
        py::arg("ceil_mode"), py::arg("count_include_pad"), py::arg("stream") = 0,
        kAvgPool2dForwardDoc);
  m.def("avg_pool2d_backward", &avg_pool2d_binding<AvgPoolPass::backward>, py::arg("grad_out"),
        py::arg("grad_in"), py::arg("kernel_size"), py::arg("stride"), py::arg("padding"),
        py::arg("ceil_mode"), py::arg("count_include_pad"), py::arg("stream") = 0,
        kAvgPool2dBackwardDoc);
}

}  // namespace axonic::bind
