// Fused optimizer updates: one pass over each parameter, its gradient and its state
// buffers, reading and writing every element once, for a whole list of parameter
// tensors in one call (multi-tensor mode: no Python loop per tensor).
//
// Each update follows PyTorch's documented algorithm (torch.optim.<Name>); the
// formulas, the state layout and the per-tensor coefficients are documented with
// the options structs in common/optimizer_options.h (shared with the CUDA kernels).
//
// Threads: the tensors' elements are cut into chunks of a few thousand and the
// chunks shared among OpenMP threads in contiguous runs, so twenty small tensors or
// one huge one load every core alike; totals too small to pay for a fork/join run on
// the calling thread. Buffers need no alignment.
#pragma once

#include <cstdint>
#include <vector>

#include "common/optimizer_options.h"

namespace axonic::cpu {

using axonic::AdadeltaOptions;
using axonic::AdagradOptions;
using axonic::AdamaxOptions;
using axonic::AdamOptions;
using axonic::NadamOptions;
using axonic::ParamSlot;
using axonic::RmspropOptions;
using axonic::SgdOptions;

template <typename T>
void sgd_update(const SgdOptions& options, const std::vector<ParamSlot<T>>& slots);
template <typename T>
void adagrad_update(const AdagradOptions& options, const std::vector<ParamSlot<T>>& slots);
template <typename T>
void rmsprop_update(const RmspropOptions& options, const std::vector<ParamSlot<T>>& slots);
template <typename T>
void adadelta_update(const AdadeltaOptions& options, const std::vector<ParamSlot<T>>& slots);
template <typename T>
void adam_update(const AdamOptions& options, const std::vector<ParamSlot<T>>& slots);
template <typename T>
void adamax_update(const AdamaxOptions& options, const std::vector<ParamSlot<T>>& slots);
template <typename T>
void nadam_update(const NadamOptions& options, const std::vector<ParamSlot<T>>& slots);

}  // namespace axonic::cpu
