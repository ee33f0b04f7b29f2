// Python bindings of inverted dropout, with the names, argument order and defaults of
// backends/reference_dropout.py. The mask is a uint8 array of x's shape (1 kept,
// 0 dropped), written by the forward and read by the backward.
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "bindings/cpu_bindings.h"
#include "common/checks.h"
#include "cpu/dropout.h"

namespace axonic::bind {

namespace {

void check_probability(double p) {
  AXONIC_CHECK(!std::isnan(p) && p >= 0.0 && p <= 1.0,
               "dropout probability has to be between 0 and 1, got ", p);
}

// Checks `obj` is a C-contiguous uint8 numpy array of `like`'s shape (writable when it
// is an output) and returns its data pointer.
uint8_t* mask_array(py::handle obj, const char* name, const FloatArray& like,
                    const char* like_name, bool writable) {
  if (!py::isinstance<py::array>(obj))
    throw py::type_error(concat(name, " must be a numpy.ndarray of uint8, got ",
                                std::string(py::str(py::type::of(obj).attr("__name__")))));
  auto a = py::reinterpret_borrow<py::array>(obj);
  if (!a.dtype().is(py::dtype::of<uint8_t>()))
    throw py::type_error(concat(name, " must be a uint8 array (1 kept, 0 dropped), got ",
                                std::string(py::str(a.dtype()))));
  std::vector<int64_t> shape(a.shape(), a.shape() + a.ndim());
  AXONIC_CHECK(shape == like.shape, name, " must have the shape of ", like_name, " ",
               like.shape_string(), ", got ", shape_string(shape));
  AXONIC_CHECK((a.flags() & py::array::c_style) != 0, name,
               " must be C-contiguous; pass numpy.ascontiguousarray(", name, ")");
  AXONIC_CHECK(!writable || a.writeable(), name, " must be writable (it is an output)");
  return static_cast<uint8_t*>(const_cast<void*>(a.data()));
}

// Checks [lo, lo + bytes) does not meet the float array's memory.
void require_mask_apart(const uint8_t* mask, int64_t bytes, const char* mask_name,
                        const FloatArray& a, const char* a_name) {
  auto lo = reinterpret_cast<const char*>(mask);
  auto hi = lo + bytes;
  auto lo_a = static_cast<const char*>(a.data);
  auto hi_a = lo_a + a.array.nbytes();
  AXONIC_CHECK(hi <= lo_a || hi_a <= lo, mask_name, " must not share memory with ", a_name,
               "; pass a separate array");
}

void dropout_forward_binding(py::handle x_obj, py::handle out_obj, py::handle mask_obj,
                             double p, uint64_t seed, uint64_t offset) {
  check_probability(p);
  FloatArray x = float_array(x_obj, "x");
  FloatArray out = float_array(out_obj, "out", /*writable=*/true);
  require_same_dtype(x, "x", out, "out");
  require_same_shape(x, "x", out, "out");
  uint8_t* mask = mask_array(mask_obj, "mask", x, "x", /*writable=*/true);
  require_no_overlap(out, "out", x, "x");
  const int64_t n = x.size();
  require_mask_apart(mask, n, "mask", x, "x");
  require_mask_apart(mask, n, "mask", out, "out");

  dispatch_float(x.dtype, [&](auto zero) {
    using T = decltype(zero);
    const T* px = x.ptr<T>();
    T* pout = out.ptr<T>();
    py::gil_scoped_release release;
    cpu::dropout_forward<T>(px, pout, mask, n, p, seed, offset);
  });
}

void dropout_backward_binding(py::handle grad_out_obj, py::handle mask_obj,
                              py::handle grad_in_obj, double p) {
  check_probability(p);
  FloatArray grad_out = float_array(grad_out_obj, "grad_out");
  FloatArray grad_in = float_array(grad_in_obj, "grad_in", /*writable=*/true);
  require_same_dtype(grad_out, "grad_out", grad_in, "grad_in");
  require_same_shape(grad_out, "grad_out", grad_in, "grad_in");
  const uint8_t* mask = mask_array(mask_obj, "mask", grad_out, "grad_out", /*writable=*/false);
  require_no_overlap(grad_in, "grad_in", grad_out, "grad_out");
  const int64_t n = grad_out.size();
  require_mask_apart(mask, n, "mask", grad_in, "grad_in");

  dispatch_float(grad_out.dtype, [&](auto zero) {
    using T = decltype(zero);
    const T* pg = grad_out.ptr<T>();
    T* pgi = grad_in.ptr<T>();
    py::gil_scoped_release release;
    cpu::dropout_backward<T>(pg, mask, pgi, n, p);
  });
}

}  // namespace

void register_dropout(py::module_& m) {
  m.def("dropout_forward", &dropout_forward_binding, py::arg("x"), py::arg("out"),
        py::arg("mask"), py::arg("p"), py::arg("seed"), py::arg("offset") = 0,
        "Inverted dropout. x, out: C-contiguous float32/float64 arrays of one shape and\n"
        "dtype; mask: C-contiguous uint8 array of that shape. Element i is kept (mask 1,\n"
        "out = x / (1 - p)) iff the SplitMix64 uniform of (seed, offset + i) is >= p, else\n"
        "dropped (mask 0, out 0): the same mask on any thread count and in the NumPy\n"
        "reference. 0 <= p <= 1 (p = 1 gives zeros); seed, offset: unsigned 64-bit.");
  m.def("dropout_backward", &dropout_backward_binding, py::arg("grad_out"), py::arg("mask"),
        py::arg("grad_in"), py::arg("p"),
        "grad_in = mask * grad_out / (1 - p) (zeros when p = 1), with the forward's uint8\n"
        "mask. grad_out, grad_in: C-contiguous float32/float64 arrays of one shape and dtype.");
}

}  // namespace axonic::bind
