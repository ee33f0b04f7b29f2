#include "common/environment.h"

#include <cerrno>
#include <cstdlib>

#include "common/checks.h"

namespace axonic {

std::optional<long long> integer_variable(const char* name, long long min, long long max,
                                          const char* meaning) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const long long value = std::strtoll(text, &end, 10);
  AXONIC_CHECK(errno == 0 && *end == '\0' && value >= min && value <= max, name,
               " must be an integer from ", min, " to ", max, " (", meaning, "), got '", text,
               "'");
  return value;
}

}  // namespace axonic
