// The NumPy dtype a CUDA array declares (its __cuda_array_interface__ typestr), for the
// bindings that tell arrays apart by dtype before parsing them with cuda_arrays.h:
// cross-entropy targets (integer labels or float probabilities) and dropout masks
// (uint8, not bool, which cuda_arrays.h reads as bytes too).
#pragma once

#include <optional>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

namespace axonic::bind {

// std::nullopt for an object that is no CUDA array (the parse reports that).
inline std::optional<pybind11::dtype> cuda_array_dtype(pybind11::handle obj) {
  if (!pybind11::hasattr(obj, "__cuda_array_interface__")) return std::nullopt;
  const pybind11::object typestr = obj.attr("__cuda_array_interface__")["typestr"];
  return pybind11::dtype::from_args(typestr);
}

}  // namespace axonic::bind
