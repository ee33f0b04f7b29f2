// Argument checks shared by every kernel. A failed check throws
// std::invalid_argument, which pybind11 turns into a Python ValueError, with the
// offending values in the message. Kernels never abort, exit or index unchecked.
#pragma once

#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/dims.h"

namespace axonic {

// Streams every argument into one string: concat("got ", 3, " rows").
template <typename... Args>
std::string concat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}

// "(2, 3, 4)", the way NumPy prints a shape.
std::string shape_string(const Dims& shape);

}  // namespace axonic

// Throws std::invalid_argument built from the message parts unless `cond` holds.
#define AXONIC_CHECK(cond, ...)                                        \
  do {                                                                 \
    if (!(cond)) throw std::invalid_argument(::axonic::concat(__VA_ARGS__)); \
  } while (0)
