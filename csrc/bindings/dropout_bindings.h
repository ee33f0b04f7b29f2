// The Python bindings of inverted dropout, written once for axonic._cpu (cpu_dropout.cpp)
// and axonic._cuda (cuda_dropout.cpp): the names, argument order and defaults of
// backends/reference_dropout.py, and one set of checks over the module's arrays. The
// mask is a uint8 array of x's shape (1 kept, 0 dropped), written by the forward and
// read by the backward.
//
// A module describes itself by a Device type (cpu_policy.h / cuda_policy.h):
//   using Array; static Array array(py::handle obj, const char* name, bool writable);
//   static MaskArray mask(py::handle obj, const char* name, bool writable): a
//       C-contiguous uint8 array of the module (mask_dtype_error for another dtype);
//   template <typename T, typename... A> static void forward(A...), backward(A...): the
//       kernels of cpu/dropout.h, called with its arguments and then the module's
//       Stream arguments converted by static auto stream(Stream).
// define_dropout<Device, Stream...>(m, extra...) adds one trailing Python argument per
// Stream type, declared by extra (py::arg("stream") = 0).
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "bindings/array_checks.h"
#include "bindings/elementwise_checks.h"
#include "common/checks.h"

namespace axonic::bind {

// A dropout mask as a module holds it: uint8, C-contiguous, in the module's memory.
struct MaskArray {
  py::object owner;  // keeps the array alive while the binding runs
  Dims shape;
  uint8_t* data;
};

// The mask is uint8 (bool is refused too, as in the reference backend).
inline py::type_error mask_dtype_error(const char* name, const std::string& got) {
  return py::type_error(concat(name, " must be a uint8 array (1 kept, 0 dropped), got ", got));
}

namespace dropout_checks {

inline void require_probability(double p) {
  AXONIC_CHECK(!std::isnan(p) && p >= 0.0 && p <= 1.0,
               "dropout probability has to be between 0 and 1, got ", p);
}

// A mask of `like`'s shape.
template <typename Device, typename Array = typename Device::Array>
MaskArray mask_like(py::handle obj, const char* name, const Array& like, const char* like_name,
                    bool writable) {
  MaskArray mask = Device::mask(obj, name, writable);
  AXONIC_CHECK(mask.shape == like.shape, name, " must have the shape of ", like_name, " ",
               like.shape_string(), ", got ", shape_string(mask.shape));
  return mask;
}

// The mask's bytes do not meet a float array's (both C-contiguous: byte ranges).
template <typename Array>
void require_apart(const MaskArray& mask, const char* mask_name, const Array& a,
                   const char* a_name) {
  const auto lo = reinterpret_cast<uintptr_t>(mask.data);
  const auto hi = lo + static_cast<uintptr_t>(a.size());  // the mask has a's element count
  const auto lo_a = reinterpret_cast<uintptr_t>(a.data);
  const auto hi_a = lo_a + static_cast<uintptr_t>(a.size() * (a.dtype == FloatType::f64 ? 8 : 4));
  AXONIC_CHECK(a.size() == 0 || hi <= lo_a || hi_a <= lo, mask_name,
               " must not share memory with ", a_name, "; pass a separate array");
}

}  // namespace dropout_checks

template <typename Device, typename... Stream, typename... Extra>
void define_dropout(py::module_& m, const Extra&... extra) {
  using namespace dropout_checks;
  using Array = typename Device::Array;

  m.def(
      "dropout_forward",
      [](py::handle x_obj, py::handle out_obj, py::handle mask_obj, double p, uint64_t seed,
         uint64_t offset, Stream... stream) {
        require_probability(p);
        const Array x = Device::array(x_obj, "x", false);
        const Array out = Device::array(out_obj, "out", /*writable=*/true);
        require_output_like(x, "x", out, "out");
        const MaskArray mask = mask_like<Device>(mask_obj, "mask", x, "x", /*writable=*/true);
        require_apart(mask, "mask", x, "x");
        require_apart(mask, "mask", out, "out");
        const int64_t n = x.size();
        if (n == 0) return;
        dispatch_float(x.dtype, [&](auto zero) {
          using T = decltype(zero);
          const T* px = x.template ptr<T>();
          T* pout = out.template ptr<T>();
          py::gil_scoped_release release;
          Device::template forward<T>(px, pout, mask.data, n, p, seed, offset,
                                      Device::stream(stream)...);
        });
      },
      py::arg("x"), py::arg("out"), py::arg("mask"), py::arg("p"), py::arg("seed"),
      py::arg("offset") = 0, extra...,
      "Inverted dropout. x, out: C-contiguous float32/float64 arrays of one shape and\n"
      "dtype; mask: C-contiguous uint8 array of that shape. Element i is kept (mask 1,\n"
      "out = x / (1 - p)) iff the SplitMix64 uniform of (seed, offset + i) is >= p, else\n"
      "dropped (mask 0, out 0): the same mask on any thread count, on the GPU and in the\n"
      "NumPy reference. 0 <= p <= 1 (p = 1 gives zeros); seed, offset: unsigned 64-bit.");

  m.def(
      "dropout_backward",
      [](py::handle grad_out_obj, py::handle mask_obj, py::handle grad_in_obj, double p,
         Stream... stream) {
        require_probability(p);
        const Array grad_out = Device::array(grad_out_obj, "grad_out", false);
        const Array grad_in = Device::array(grad_in_obj, "grad_in", /*writable=*/true);
        require_output_like(grad_out, "grad_out", grad_in, "grad_in");
        const MaskArray mask =
            mask_like<Device>(mask_obj, "mask", grad_out, "grad_out", /*writable=*/false);
        require_apart(mask, "mask", grad_in, "grad_in");
        const int64_t n = grad_out.size();
        if (n == 0) return;
        dispatch_float(grad_out.dtype, [&](auto zero) {
          using T = decltype(zero);
          const T* pg = grad_out.template ptr<T>();
          T* pgi = grad_in.template ptr<T>();
          py::gil_scoped_release release;
          Device::template backward<T>(pg, mask.data, pgi, n, p, Device::stream(stream)...);
        });
      },
      py::arg("grad_out"), py::arg("mask"), py::arg("grad_in"), py::arg("p"), extra...,
      "grad_in = mask * grad_out / (1 - p) (zeros when p = 1), with the forward's uint8\n"
      "mask. grad_out, grad_in: C-contiguous float32/float64 arrays of one shape and dtype.");
}

}  // namespace axonic::bind
