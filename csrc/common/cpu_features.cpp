#include "common/cpu_features.h"

#include <atomic>
#include <cstdlib>

#include "common/checks.h"

namespace axonic {

namespace {

bool cpu_has(Isa isa) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  switch (isa) {
    case Isa::avx512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
             __builtin_cpu_supports("avx512vl");
    case Isa::avx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case Isa::generic:
      return true;
  }
  return false;
#else
  return isa == Isa::generic;
#endif
}

bool built_for(Isa isa) {
  switch (isa) {
    case Isa::generic: return true;
#ifdef AXONIC_HAVE_ISA_avx2
    case Isa::avx2: return true;
#endif
#ifdef AXONIC_HAVE_ISA_avx512
    case Isa::avx512: return true;
#endif
    default: return false;
  }
}

Isa parse_isa(const std::string& name) {
  for (Isa isa : {Isa::generic, Isa::avx2, Isa::avx512})
    if (name == isa_name(isa)) return isa;
  throw std::invalid_argument(
      concat("unknown ISA '", name, "': expected one of generic, avx2, avx512"));
}

Isa require_supported(Isa isa) {
  AXONIC_CHECK(built_for(isa) && cpu_has(isa), "ISA '", isa_name(isa),
               "' is not available on this machine/build; supported: ",
               [] {
                 std::string s;
                 for (Isa i : supported_isas()) s += std::string(s.empty() ? "" : ", ") + isa_name(i);
                 return s;
               }());
  return isa;
}

Isa initial_isa() {
  if (const char* forced = std::getenv("AXONIC_ISA"); forced && *forced)
    return require_supported(parse_isa(forced));
  return supported_isas().back();
}

std::atomic<int>& isa_slot() {
  static std::atomic<int> slot{static_cast<int>(initial_isa())};
  return slot;
}

}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::avx512: return "avx512";
    case Isa::avx2: return "avx2";
    default: return "generic";
  }
}

std::vector<Isa> supported_isas() {
  std::vector<Isa> out;
  for (Isa isa : {Isa::generic, Isa::avx2, Isa::avx512})
    if (built_for(isa) && cpu_has(isa)) out.push_back(isa);
  return out;
}

Isa active_isa() { return static_cast<Isa>(isa_slot().load()); }

void set_isa(const std::string& name) {
  isa_slot().store(static_cast<int>(require_supported(parse_isa(name))));
}

}  // namespace axonic
