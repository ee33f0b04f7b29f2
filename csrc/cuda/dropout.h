// Host launchers of inverted dropout on the GPU (dropout.cu), the contract of
// cpu/dropout.h on flat device buffers of n elements: the mask (uint8, 1 kept) of
// element i depends only on (seed, offset + i) through common/dropout_hash.h, so the
// GPU, the CPU and the NumPy reference draw the same mask bit for bit, and the
// outputs (scaled in double, rounded once) agree exactly. 0 <= p <= 1, checked by the
// binding. Buffers must not overlap. Asynchronous on `stream`.
#pragma once

#include <cstdint>

#include "cuda/stream.h"

namespace axonic::cuda {

// mask[i] = uniform(seed, offset + i) >= p; out[i] = mask[i] ? x[i] / (1 - p) : 0.
template <typename T>
void dropout_forward(const T* x, T* out, uint8_t* mask, int64_t n, double p, uint64_t seed,
                     uint64_t offset, cudaStream_t stream);

// grad_in[i] = mask[i] ? grad_out[i] / (1 - p) : 0 (zeros when p = 1).
template <typename T>
void dropout_backward(const T* grad_out, const uint8_t* mask, T* grad_in, int64_t n, double p,
                      cudaStream_t stream);

}  // namespace axonic::cuda
