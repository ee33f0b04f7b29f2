#include "bindings/array_checks.h"

#include "common/checks.h"

namespace axonic::bind {

namespace {

std::string dtype_name(const py::array& a) { return py::str(a.dtype()).cast<std::string>(); }

py::array require_c_contiguous_array(py::handle obj, const char* name) {
  if (!py::isinstance<py::array>(obj))
    throw py::type_error(concat(name, " must be a numpy.ndarray, got ",
                                py::str(py::type::of(obj).attr("__name__")).cast<std::string>()));
  auto a = py::reinterpret_borrow<py::array>(obj);
  if (!(a.flags() & py::array::c_style))
    throw std::invalid_argument(concat(name, " must be C-contiguous; pass numpy.ascontiguousarray(",
                                       name, ")"));
  return a;
}

}  // namespace

int64_t FloatArray::size() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string FloatArray::shape_string() const { return axonic::shape_string(shape); }

FloatArray float_array(py::handle obj, const char* name, bool writable) {
  py::array a = require_c_contiguous_array(obj, name);
  FloatType t;
  if (a.dtype().is(py::dtype::of<float>()))
    t = FloatType::f32;
  else if (a.dtype().is(py::dtype::of<double>()))
    t = FloatType::f64;
  else
    throw py::type_error(concat(name, " must be float32 or float64, got ", dtype_name(a)));
  if (writable && !a.writeable())
    throw std::invalid_argument(concat(name, " is an output and must be writable"));
  std::vector<int64_t> shape(a.shape(), a.shape() + a.ndim());
  return FloatArray{a, t, std::move(shape), const_cast<void*>(a.data())};
}

py::array_t<int64_t> int64_array(py::handle obj, const char* name) {
  py::array a = require_c_contiguous_array(obj, name);
  if (!a.dtype().is(py::dtype::of<int64_t>()))
    throw py::type_error(concat(name, " must be int64 class indices, got ", dtype_name(a)));
  return py::reinterpret_borrow<py::array_t<int64_t>>(a);
}

void require_same_dtype(const FloatArray& a, const char* a_name, const FloatArray& b,
                        const char* b_name) {
  if (a.dtype != b.dtype)
    throw py::type_error(concat(b_name, " must have the dtype of ", a_name, " (",
                                dtype_name(a.array), "), got ", dtype_name(b.array)));
}

void require_same_shape(const FloatArray& a, const char* a_name, const FloatArray& b,
                        const char* b_name) {
  AXONIC_CHECK(a.shape == b.shape, b_name, " must have the shape of ", a_name, " ",
               a.shape_string(), ", got ", b.shape_string());
}

void require_no_overlap(const FloatArray& out, const char* out_name, const FloatArray& in,
                        const char* in_name) {
  auto lo_out = static_cast<const char*>(out.data);
  auto lo_in = static_cast<const char*>(in.data);
  auto hi_out = lo_out + out.array.nbytes();
  auto hi_in = lo_in + in.array.nbytes();
  AXONIC_CHECK(hi_out <= lo_in || hi_in <= lo_out, out_name, " must not share memory with ",
               in_name, "; pass a separate output array");
}

}  // namespace axonic::bind
