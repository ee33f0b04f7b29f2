// Which SIMD instruction set the dispatched kernels use. Chosen once, on first
// use, from CPUID (and the OS's register-state support, which GCC's
// __builtin_cpu_supports checks); AXONIC_ISA=generic|avx2|avx512 forces a level
// for testing, and asking for one this machine or build lacks is an error.
#pragma once

#include <string>
#include <vector>

namespace axonic {

enum class Isa { generic = 0, avx2 = 1, avx512 = 2 };

const char* isa_name(Isa isa);
// ISAs this build compiled kernels for AND this CPU can run, best last.
std::vector<Isa> supported_isas();
// The ISA in use: the best supported one unless AXONIC_ISA or set_isa chose another.
Isa active_isa();
// Switches the dispatched kernels (tests run each path in turn). Throws
// std::invalid_argument for a name that is unknown or unsupported here.
void set_isa(const std::string& name);

}  // namespace axonic
