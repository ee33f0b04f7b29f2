// Per-ISA element loops of the fused optimizer updates. optimizer_updates_arch.cpp is
// compiled once per ISA (CMakeLists.txt), each time into namespace
// axonic::cpu::<isa>; optimizer_updates.cpp cuts the tensors into chunks, shares
// them over threads and calls the active ISA's loop on each chunk (a ParamSlot whose
// pointers start at the chunk and whose n is its length).
#pragma once

#include "cpu/optimizer_updates.h"

#define AXONIC_DECLARE_OPTIMIZER_UPDATES_ISA(isa)                              \
  namespace axonic::cpu::isa {                                                 \
  template <typename T>                                                        \
  void sgd_update_chunk(const SgdOptions& options, const ParamSlot<T>& chunk); \
  template <typename T>                                                        \
  void adagrad_update_chunk(const AdagradOptions& options,                     \
                            const ParamSlot<T>& chunk);                        \
  template <typename T>                                                        \
  void rmsprop_update_chunk(const RmspropOptions& options,                     \
                            const ParamSlot<T>& chunk);                        \
  template <typename T>                                                        \
  void adadelta_update_chunk(const AdadeltaOptions& options,                   \
                             const ParamSlot<T>& chunk);                       \
  template <typename T>                                                        \
  void adam_update_chunk(const AdamOptions& options, const ParamSlot<T>& chunk); \
  template <typename T>                                                        \
  void adamax_update_chunk(const AdamaxOptions& options,                       \
                           const ParamSlot<T>& chunk);                         \
  template <typename T>                                                        \
  void nadam_update_chunk(const NadamOptions& options, const ParamSlot<T>& chunk); \
  }

AXONIC_DECLARE_OPTIMIZER_UPDATES_ISA(generic)
#ifdef AXONIC_HAVE_ISA_avx2
AXONIC_DECLARE_OPTIMIZER_UPDATES_ISA(avx2)
#endif
#ifdef AXONIC_HAVE_ISA_avx512
AXONIC_DECLARE_OPTIMIZER_UPDATES_ISA(avx512)
#endif
