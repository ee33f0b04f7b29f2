// axonic._cpu's fused optimizer update bindings, and accumulate (dst += src):
// optimizer_bindings.h over NumPy arrays and the kernels of cpu/optimizer_updates.h.
#include "bindings/cpu_bindings.h"
#include "bindings/cpu_policy.h"
#include "bindings/optimizer_bindings.h"
#include "cpu/optimizer_updates.h"

namespace axonic::bind {

namespace {

template <typename T>
using Slots = std::vector<ParamSlot<T>>;

struct CpuOptimizers : CpuPolicy {
  template <typename T>
  static void update(const SgdOptions& o, const Slots<T>& s) { cpu::sgd_update(o, s); }
  template <typename T>
  static void update(const AdagradOptions& o, const Slots<T>& s) { cpu::adagrad_update(o, s); }
  template <typename T>
  static void update(const RmspropOptions& o, const Slots<T>& s) { cpu::rmsprop_update(o, s); }
  template <typename T>
  static void update(const AdadeltaOptions& o, const Slots<T>& s) { cpu::adadelta_update(o, s); }
  template <typename T>
  static void update(const AdamOptions& o, const Slots<T>& s) { cpu::adam_update(o, s); }
  template <typename T>
  static void update(const AdamaxOptions& o, const Slots<T>& s) { cpu::adamax_update(o, s); }
  template <typename T>
  static void update(const NadamOptions& o, const Slots<T>& s) { cpu::nadam_update(o, s); }
};

}  // namespace

void register_optimizers(py::module_& m) {
  define_optimizer_updates<CpuOptimizers>(m);
  define_accumulate<CpuOptimizers>(
      m, "dst += src over all threads (backward's gradient accumulation).\n"
         "src, dst: C-contiguous float32/float64 arrays of one shape and dtype, not overlapping.");
}

}  // namespace axonic::bind
