// The dropout mask's generator, one definition for the CPU kernel (cpu/dropout.cpp),
// the CUDA kernel (cuda/dropout.cu) and, in NumPy, backends/reference_dropout.py: all
// three draw the same mask bit for bit.
//
// Counter-based SplitMix64 (Steele, Lea and Flood 2014; the generator Java's
// SplittableRandom and xoshiro's seeding use). Element i of a call with (seed, offset)
// uses the counter c = offset + i (mod 2^64) and hashes
//   z = seed + (c + 1) * 0x9E3779B97F4A7C15            (mod 2^64)
//   z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
//   z = (z ^ (z >> 27)) * 0x94D049BB133111EB
//   z =  z ^ (z >> 31)
// which is the (c + 1)-th output of a sequential SplitMix64 started at `seed`,
// computed without stepping through the first c. Its top 53 bits give the uniform
//   u = (z >> 11) * 2^-53  in [0, 1 - 2^-53], exact in double,
// and the element is kept iff u >= p: p = 0 keeps every element and p = 1 none.
// Kept elements are scaled by 1 / (1 - p), computed in double; the product with x is
// formed in double and rounded once to the element type.
#pragma once

#include <cstdint>

#include "common/host_device.h"

namespace axonic {

AXONIC_HOST_DEVICE uint64_t splitmix64_at(uint64_t seed, uint64_t counter) {
  uint64_t z = seed + (counter + 1) * 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// The uniform in [0, 1) (53 bits, exact in double) of counter `counter` under `seed`.
AXONIC_HOST_DEVICE double dropout_uniform(uint64_t seed, uint64_t counter) {
  return static_cast<double>(splitmix64_at(seed, counter) >> 11) * 0x1.0p-53;
}

// Whether element `counter` is kept: its uniform is at least p.
AXONIC_HOST_DEVICE bool dropout_keeps(uint64_t seed, uint64_t counter, double p) {
  return dropout_uniform(seed, counter) >= p;
}

// The factor kept elements are scaled by: 1 / (1 - p), and 0 for p = 1 (nothing is
// kept then, and nothing divides by zero).
AXONIC_HOST_DEVICE double dropout_keep_scale(double p) { return p < 1.0 ? 1.0 / (1.0 - p) : 0.0; }

// An element's output: x * scale in double, rounded once to T, where it is kept, and 0
// (not x * 0: a dropped NaN or inf becomes 0) where it is dropped.
template <typename T>
AXONIC_HOST_DEVICE T dropout_value(bool keep, T x, double scale) {
  return keep ? static_cast<T>(static_cast<double>(x) * scale) : T(0);
}

}  // namespace axonic
