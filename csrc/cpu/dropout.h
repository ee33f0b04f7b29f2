// Inverted dropout over a flat C-contiguous array of n elements (any shape, viewed
// as its n elements in row-major order). The mask is uint8, 1 where the element is
// kept and 0 where it is dropped; kept elements are scaled by 1 / (1 - p), so the
// expected output equals the input and evaluation needs no rescaling. The mask of
// element i depends only on (seed, offset + i): every thread count, and the NumPy
// reference (python/axonic/backends/reference_dropout.py), draw the same mask. The
// generator is common/dropout_hash.h. The binding checks p in [0, 1], shapes and
// dtypes; outputs must not overlap inputs.
#pragma once

#include <cstdint>

namespace axonic::cpu {


// mask[i] = uniform(seed, offset + i) >= p; out[i] = mask[i] ? x[i] / (1 - p) : 0.
// p = 1 drops everything (out all zeros, no division); p = 0 keeps everything.
template <typename T>
void dropout_forward(const T* x, T* out, uint8_t* mask, int64_t n, double p, uint64_t seed,
                     uint64_t offset);

// grad_in[i] = mask[i] ? grad_out[i] / (1 - p) : 0 (zeros when p = 1).
template <typename T>
void dropout_backward(const T* grad_out, const uint8_t* mask, T* grad_in, int64_t n, double p);

}  // namespace axonic::cpu
