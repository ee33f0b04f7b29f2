#include "bindings/cuda_arrays.h"

#include "common/checks.h"

namespace axonic::bind {

namespace {

struct TypeFacts {
  ElementType element;
  int64_t itemsize;
  const char* name;
};

// __cuda_array_interface__'s typestr ("<f4", "|u1", ...) as an element type.
bool parse_typestr(const std::string& typestr, TypeFacts& facts) {
  if (typestr.size() != 3 || typestr[0] == '>') return false;
  const std::string code = typestr.substr(1);
  if (code == "f4") facts = {ElementType::f32, 4, "float32"};
  else if (code == "f8") facts = {ElementType::f64, 8, "float64"};
  else if (code == "i8") facts = {ElementType::i64, 8, "int64"};
  else if (code == "u1" || code == "b1") facts = {ElementType::u8, 1, "uint8"};
  else return false;
  return true;
}

const char* element_name(ElementType e) {
  switch (e) {
    case ElementType::f32: return "float32";
    case ElementType::f64: return "float64";
    case ElementType::i64: return "int64";
    case ElementType::u8: return "uint8";
  }
  return "?";
}

std::string type_name(py::handle obj) {
  return py::str(py::type::of(obj).attr("__name__")).cast<std::string>();
}

// Any CUDA array with its element type and strides, C-contiguous when `contiguous`;
// checks everything but the dtype.
DeviceArray parse_device_array(py::handle obj, const char* name, bool writable,
                               bool contiguous = true) {
  if (!py::hasattr(obj, "__cuda_array_interface__"))
    throw py::type_error(concat(name, " must be a CUDA array (cupy.ndarray), got ",
                                type_name(obj), "; move CPU data with cupy.asarray or "
                                "Tensor.to('cuda')"));
  py::dict iface = obj.attr("__cuda_array_interface__");
  DeviceArray a;
  a.owner = py::reinterpret_borrow<py::object>(obj);
  for (py::handle n : iface["shape"].cast<py::tuple>()) a.shape.push_back(n.cast<int64_t>());
  const std::string typestr = iface["typestr"].cast<std::string>();
  TypeFacts facts{};
  if (!parse_typestr(typestr, facts))
    throw py::type_error(concat(name, " has an unsupported dtype (typestr ", typestr,
                                "); expected float32, float64, int64 or uint8"));
  a.element = facts.element;
  a.itemsize = facts.itemsize;
  a.dtype = facts.element == ElementType::f64 ? FloatType::f64 : FloatType::f32;
  py::tuple data = iface["data"].cast<py::tuple>();
  a.data = reinterpret_cast<void*>(data[0].cast<uintptr_t>());
  const bool readonly = data[1].cast<bool>();
  if (writable && readonly)
    throw std::invalid_argument(concat(name, " is an output and must be writable"));
  if (iface.contains("mask") && !iface["mask"].is_none())
    throw std::invalid_argument(concat(name, ": masked CUDA arrays are not supported"));
  // C-contiguous strides: what the interface means when it gives none.
  a.strides.assign(a.shape.size(), 0);
  int64_t expected = a.itemsize;
  for (int64_t i = a.ndim() - 1; i >= 0; --i) {
    a.strides[i] = expected;
    expected *= a.shape[i];
  }
  if (iface.contains("strides") && !iface["strides"].is_none()) {
    py::tuple strides = iface["strides"].cast<py::tuple>();
    for (int64_t i = 0; i < a.ndim(); ++i) {
      const int64_t given = strides[i].cast<int64_t>();
      // C-contiguous means those strides, ignoring axes of length 1 (never stepped).
      if (contiguous && a.shape[i] > 1 && given != a.strides[i])
        throw std::invalid_argument(concat(name, " must be C-contiguous; pass "
                                           "cupy.ascontiguousarray(", name, ")"));
      if (!contiguous) a.strides[i] = given;
    }
  }
  if (a.size() > 0 && reinterpret_cast<uintptr_t>(a.data) % a.itemsize != 0)
    throw std::invalid_argument(concat(name, " is not aligned to its element size"));
  return a;
}

}  // namespace

int64_t DeviceArray::size() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string DeviceArray::shape_string() const { return axonic::shape_string(shape); }

ArrayLayout DeviceArray::layout() const {
  return {shape, strides, itemsize, reinterpret_cast<uintptr_t>(data), "cupy"};
}

// Refuses a parsed array that is neither float32 nor float64.
DeviceArray require_float(DeviceArray a, const char* name) {
  if (a.element != ElementType::f32 && a.element != ElementType::f64)
    throw py::type_error(concat(name, " must be float32 or float64, got ",
                                element_name(a.element)));
  return a;
}

DeviceArray device_float_array(py::handle obj, const char* name, bool writable) {
  return require_float(parse_device_array(obj, name, writable), name);
}

DeviceArray device_float_array_view(py::handle obj, const char* name, bool writable) {
  return require_float(parse_device_array(obj, name, writable, /*contiguous=*/false), name);
}

DeviceArray device_array_of(py::handle obj, const char* name, ElementType element,
                            bool writable) {
  DeviceArray a = parse_device_array(obj, name, writable);
  if (a.element != element)
    throw py::type_error(concat(name, " must be ", element_name(element), ", got ",
                                element_name(a.element)));
  return a;
}

void require_same_dtype(const DeviceArray& a, const char* a_name, const DeviceArray& b,
                        const char* b_name) {
  if (a.element != b.element)
    throw py::type_error(concat(b_name, " must have the dtype of ", a_name, " (",
                                element_name(a.element), "), got ", element_name(b.element)));
}

void require_same_shape(const DeviceArray& a, const char* a_name, const DeviceArray& b,
                        const char* b_name) {
  AXONIC_CHECK(a.shape == b.shape, b_name, " must have the shape of ", a_name, " ",
               a.shape_string(), ", got ", b.shape_string());
}

void require_no_overlap(const DeviceArray& out, const char* out_name, const DeviceArray& in,
                        const char* in_name) {
  const auto lo_out = reinterpret_cast<uintptr_t>(out.data);
  const auto lo_in = reinterpret_cast<uintptr_t>(in.data);
  const bool overlap = out.nbytes() > 0 && in.nbytes() > 0 &&
                       lo_out < lo_in + static_cast<uintptr_t>(in.nbytes()) &&
                       lo_in < lo_out + static_cast<uintptr_t>(out.nbytes());
  AXONIC_CHECK(!overlap, out_name, " must not share memory with ", in_name,
               "; pass a fresh output (cupy.empty_like)");
}

cudaStream_t stream_arg(uintptr_t handle) { return reinterpret_cast<cudaStream_t>(handle); }

}  // namespace axonic::bind
