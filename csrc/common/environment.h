// Reading integer settings from environment variables, with one error style.
#pragma once

#include <optional>

namespace axonic {

// The value of environment variable `name` when it is set and not empty; nullopt
// otherwise. Anything but an integer in [min, max] throws std::invalid_argument
// naming the variable and `meaning` ("the number of threads"), so a typo fails the
// import instead of silently running with a default.
std::optional<long long> integer_variable(const char* name, long long min, long long max,
                                          const char* meaning);

}  // namespace axonic
