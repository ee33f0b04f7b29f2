// Host launchers of the fused optimizer updates on CUDA arrays (optimizer_updates.cu),
// and the device-to-device copy they are measured against. Formulas, state layout
// and per-tensor coefficients: common/optimizer_options.h. The slots' pointers are
// device pointers of C-contiguous buffers of n elements each; coef are host values.
// Each call is one kernel launch on `stream` over every slot, asynchronous to the host.
#pragma once

#include <cstdint>
#include <vector>

#include "common/optimizer_options.h"
#include "cuda/stream.h"

namespace axonic::cuda {

// One launch of the update that `options` names (SgdOptions, AdagradOptions,
// RmspropOptions, AdadeltaOptions, AdamOptions, AdamaxOptions or NadamOptions) over
// every slot; T = float or double. Instantiated for these in optimizer_updates.cu.
template <typename T, typename Options>
void fused_update(const Options& options, const std::vector<ParamSlot<T>>& slots,
                  cudaStream_t stream);

// dst[0, bytes) = src[0, bytes) on the stream (cudaMemcpyAsync, device to device).
void device_copy(const void* src, void* dst, int64_t bytes, cudaStream_t stream);

}  // namespace axonic::cuda
