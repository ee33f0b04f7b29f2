#include "bindings/array_checks.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <utility>

#include "common/checks.h"

namespace axonic::bind {

namespace {

std::string dtype_name(const py::array& a) { return py::str(a.dtype()).cast<std::string>(); }

py::array require_array(py::handle obj, const char* name) {
  if (!py::isinstance<py::array>(obj))
    throw py::type_error(concat(name, " must be a numpy.ndarray, got ",
                                py::str(py::type::of(obj).attr("__name__")).cast<std::string>()));
  return py::reinterpret_borrow<py::array>(obj);
}

py::array require_c_contiguous_array(py::handle obj, const char* name) {
  py::array a = require_array(obj, name);
  if (!(a.flags() & py::array::c_style))
    throw std::invalid_argument(concat(name, " must be C-contiguous; pass numpy.ascontiguousarray(",
                                       name, ")"));
  return a;
}

FloatArray to_float_array(py::array a, const char* name, bool writable) {
  FloatType t;
  if (a.dtype().is(py::dtype::of<float>()))
    t = FloatType::f32;
  else if (a.dtype().is(py::dtype::of<double>()))
    t = FloatType::f64;
  else
    throw py::type_error(concat(name, " must be float32 or float64, got ", dtype_name(a)));
  if (writable && !a.writeable())
    throw std::invalid_argument(concat(name, " is an output and must be writable"));
  Dims shape(a.shape(), a.shape() + a.ndim());
  Dims strides(a.strides(), a.strides() + a.ndim());
  void* data = const_cast<void*>(a.data());
  return FloatArray{std::move(a), t, shape, strides, data};
}

// [lo, hi): the bytes an array touches; empty for an array without elements.
std::pair<uintptr_t, uintptr_t> byte_range(const ArrayLayout& x) {
  uintptr_t lo = x.data;
  if (x.size() == 0) return {lo, lo};
  uintptr_t hi = lo + x.itemsize;
  for (size_t i = 0; i < x.shape.size(); ++i) {
    const int64_t stride = x.strides[i];
    const auto span = static_cast<uintptr_t>((x.shape[i] - 1) * std::abs(stride));
    (stride < 0 ? lo -= span : hi += span);
  }
  return {lo, hi};
}

// Whether two distinct elements of x may sit at one address (a broadcast axis, or
// rows longer than the row stride). Visiting the stepped axes from the smallest
// |stride| up, each stride must clear the bytes the smaller axes already span: never
// passes an overlapping layout, and refuses only exotic non-overlapping ones. For
// matrices and stacks of them (up to 3 axes, as matrix_layout checks first); any
// more axes are refused.
bool may_overlap_itself(const ArrayLayout& x) {
  if (x.size() == 0) return false;
  if (x.shape.size() > 3) return true;
  std::array<std::pair<int64_t, int64_t>, 3> axes;  // (|stride| in bytes, length)
  size_t stepped = 0;
  for (size_t i = 0; i < x.shape.size(); ++i)
    if (x.shape[i] > 1) axes[stepped++] = {std::abs(x.strides[i]), x.shape[i]};
  std::sort(axes.begin(), axes.begin() + stepped);
  int64_t span = x.itemsize;
  for (size_t i = 0; i < stepped; ++i) {
    const auto [stride, length] = axes[i];
    if (stride < span) return true;
    span += (length - 1) * stride;
  }
  return false;
}

std::string layout_fix(const ArrayLayout& x, const char* name) {
  return concat("; pass ", x.module, ".ascontiguousarray(", name, ")");
}

// A NumPy array with x's layout at x's address (never read: numpy.shares_memory
// looks at addresses and strides only), so device arrays get NumPy's exact answer.
py::object layout_shadow(const ArrayLayout& x) {
  py::dict iface;
  iface["version"] = 3;
  const auto as_tuple = [](const Dims& values) {
    py::tuple t(values.size());
    for (size_t i = 0; i < values.size(); ++i) t[i] = values[i];
    return t;
  };
  iface["shape"] = as_tuple(x.shape);
  iface["strides"] = as_tuple(x.strides);
  iface["typestr"] = concat("|V", x.itemsize);
  iface["data"] = py::make_tuple(x.data, true);
  py::object holder = py::module_::import("types").attr("SimpleNamespace")();
  holder.attr("__array_interface__") = iface;
  return py::module_::import("numpy").attr("asarray")(holder);
}

}  // namespace

int64_t FloatArray::size() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string FloatArray::shape_string() const { return axonic::shape_string(shape); }

ArrayLayout FloatArray::layout() const {
  return {shape, strides, static_cast<int64_t>(array.itemsize()), reinterpret_cast<uintptr_t>(data),
          "numpy"};
}

int64_t ArrayLayout::size() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

FloatArray float_array(py::handle obj, const char* name, bool writable) {
  return to_float_array(require_c_contiguous_array(obj, name), name, writable);
}

FloatArray float_array_view(py::handle obj, const char* name, bool writable) {
  return to_float_array(require_array(obj, name), name, writable);
}

FloatType float_dtype_arg(py::handle dtype, const char* name) {
  const auto refuse = [&] {
    return py::type_error(concat(name, " must be float32 or float64, got ",
                                 py::repr(dtype).cast<std::string>()));
  };
  if (dtype.is_none()) throw refuse();  // numpy.dtype(None) would mean float64
  py::dtype parsed;
  try {
    parsed = py::dtype::from_args(py::reinterpret_borrow<py::object>(dtype));
  } catch (py::error_already_set&) {
    throw refuse();
  }
  if (parsed.is(py::dtype::of<float>())) return FloatType::f32;
  if (parsed.is(py::dtype::of<double>())) return FloatType::f64;
  throw refuse();
}

MatrixLayout matrix_layout(const ArrayLayout& x, const char* name, MatrixAccess access) {
  const int64_t ndim = static_cast<int64_t>(x.shape.size());
  // The messages' shape and strides are formatted only on failure: formatting them on
  // every call took most of the 2.6 us a 1x1 product cost from Python.
  const auto shape = [&x] { return shape_string(x.shape); };
  const auto strides = [&x] { return shape_string(x.strides); };
  AXONIC_CHECK(ndim == 2 || ndim == 3, name, " must be a 2-D matrix or a 3-D stack of them, got ",
               shape());
  const int64_t item = x.itemsize;
  const bool empty = x.size() == 0;
  // Element strides of the axes the kernel steps along; -1 marks an axis it never
  // steps along (length 1, or any axis of an empty array), whose stride is ignored.
  std::array<int64_t, 3> step{-1, -1, -1};
  for (int64_t i = 0; i < ndim; ++i) {
    if (empty || x.shape[i] == 1) continue;
    const int64_t stride = x.strides[i];
    AXONIC_CHECK(stride >= 0, name, " has a negative stride (strides ", strides(),
                 " bytes for shape ", shape(), "); gemm reads memory forward only",
                 layout_fix(x, name));
    AXONIC_CHECK(stride % item == 0, name, " has strides ", strides(), " bytes for shape ", shape(),
                 ", not whole ", item, "-byte elements", layout_fix(x, name));
    step[i] = stride / item;
  }
  AXONIC_CHECK(empty || x.data % item == 0, name, " is not aligned to its ", item,
               "-byte elements", layout_fix(x, name));

  const int64_t rows = x.shape[ndim - 2], cols = x.shape[ndim - 1];
  const int64_t row_step = step[ndim - 2], col_step = step[ndim - 1];
  // A stored row-major block needs unit steps within a row and a whole row between rows.
  const auto unit = [](int64_t s) { return s == -1 || s == 1; };
  const auto clears = [](int64_t s, int64_t row) { return s == -1 || s >= row; };
  const bool row_major = unit(col_step) && clears(row_step, cols);
  const bool transposed = !row_major && unit(row_step) && clears(col_step, rows);
  if (access == MatrixAccess::write) {
    AXONIC_CHECK(row_major, name, " must have unit stride along its last axis and a whole row "
                 "between rows (it is written in place, and cannot be read transposed); got "
                 "strides ", strides(), " bytes for shape ", shape(), "; pass a C-contiguous array "
                 "such as ", x.module, ".empty");
    AXONIC_CHECK(!may_overlap_itself(x), name, " must not overlap itself, but strides ", strides(),
                 " bytes for shape ", shape(),
                 " put several elements at one address (a broadcast view?); pass a separate "
                 "array such as ", x.module, ".empty");
  } else {
    AXONIC_CHECK(row_major || transposed, name, " must have unit stride along one of its last "
                 "two axes (a row-major matrix or a transposed view of one) and at least a whole "
                 "row between rows; got strides ", strides(), " bytes for shape ", shape(),
                 layout_fix(x, name));
  }

  MatrixLayout m{ndim == 3 ? x.shape[0] : 1, rows, cols, 0, 0, transposed};
  const int64_t ld_step = transposed ? col_step : row_step;
  m.ld = ld_step == -1 ? m.stored_cols() : ld_step;
  m.batch_stride = ndim == 3 && step[0] != -1 ? step[0] : 0;
  return m;
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

void require_no_shared_elements(const ArrayLayout& out, const char* out_name,
                                const ArrayLayout& in, const char* in_name) {
  const auto [out_lo, out_hi] = byte_range(out);
  const auto [in_lo, in_hi] = byte_range(in);
  if (out_hi <= in_lo || in_hi <= out_lo) return;
  // The byte ranges meet; views such as two column slices of one buffer still need
  // not share an element. numpy.shares_memory answers exactly for these small
  // strided problems; if it gives up (TooHardError), assume they share.
  bool shared = true;
  try {
    shared = py::module_::import("numpy")
                 .attr("shares_memory")(layout_shadow(out), layout_shadow(in),
                                        py::arg("max_work") = 1 << 20)
                 .cast<bool>();
  } catch (py::error_already_set&) {
  }
  AXONIC_CHECK(!shared, out_name, " must not share memory with ", in_name,
               "; pass a separate output array");
}

}  // namespace axonic::bind
