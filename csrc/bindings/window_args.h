// What the argument checks of the sliding-window bindings (conv2d_args.h, pool2d_args.h)
// share: the (h, w) pairs, the array type a module's parser returns, and the window steps
// of a geometry. Templates over the array type, so that axonic._cpu (NumPy arrays) and
// axonic._cuda (CUDA arrays) run the same checks.
#pragma once

#include <array>
#include <cstdint>
#include <type_traits>

#include <pybind11/pybind11.h>

namespace axonic::bind {

// stride, padding, dilation, kernel_size: (h, w) pairs of ints (nn.functional expands
// single ints).
using Pair = std::array<int64_t, 2>;

// The array type of a module's parser, `parse(obj, name, writable)`: float_array ->
// FloatArray, device_float_array -> DeviceArray.
template <class Parse>
using ParsedArray = std::invoke_result_t<Parse, pybind11::handle, const char*, bool>;

// Sets a geometry's stride, padding and dilation (Conv2dGeometry, Pool2dGeometry).
template <class Geometry>
void set_window_steps(Geometry& g, const Pair& stride, const Pair& padding,
                      const Pair& dilation) {
  g.stride_h = stride[0];
  g.stride_w = stride[1];
  g.pad_h = padding[0];
  g.pad_w = padding[1];
  g.dilation_h = dilation[0];
  g.dilation_w = dilation[1];
}

}  // namespace axonic::bind
