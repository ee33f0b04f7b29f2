// Inverted dropout; contract in dropout.h.
//
// Random numbers: counter-based SplitMix64 (Steele, Lea and Flood 2014; the
// generator Java's SplittableRandom and xoshiro's seeding use). Element i of a call
// with (seed, offset) uses the counter c = offset + i (mod 2^64) and hashes
//   z = seed + (c + 1) * 0x9E3779B97F4A7C15            (mod 2^64)
//   z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
//   z = (z ^ (z >> 27)) * 0x94D049BB133111EB
//   z =  z ^ (z >> 31)
// which is the (c + 1)-th output of a sequential SplitMix64 started at `seed`,
// computed without stepping through the first c. Its top 53 bits give the uniform
//   u = (z >> 11) * 2^-53  in [0, 1 - 2^-53], exact in double,
// and the element is kept iff u >= p. So p = 0 keeps every element and p = 1 keeps
// none (u < 1). The comparison and the scaling by 1 / (1 - p) are done in double,
// then rounded once to T, exactly as the NumPy reference does, so both backends
// agree bit for bit. Dropped elements are written as 0 (not x * 0), so a dropped
// NaN or inf becomes 0, as dropping means.
//
// Every element is independent: from kParallelElements on, the elements are split
// over OpenMP threads with a static schedule; since each mask bit depends only on its
// index, the result does not depend on the thread count.
#include "cpu/dropout.h"

#include "cpu/parallel_items.h"

namespace axonic::cpu {

namespace {


inline uint64_t splitmix64_at(uint64_t seed, uint64_t counter) {
  uint64_t z = seed + (counter + 1) * 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

inline double keep_scale(double p) { return p < 1.0 ? 1.0 / (1.0 - p) : 0.0; }

template <typename Body>
void for_each_element(int64_t n, const Body& body) {
  if (n >= kParallelElements) {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; ++i) body(i);
  } else {
    for (int64_t i = 0; i < n; ++i) body(i);
  }
}

}  // namespace

double dropout_uniform(uint64_t seed, uint64_t counter) {
  return static_cast<double>(splitmix64_at(seed, counter) >> 11) * 0x1.0p-53;
}

template <typename T>
void dropout_forward(const T* x, T* out, uint8_t* mask, int64_t n, double p, uint64_t seed,
                     uint64_t offset) {
  const double scale = keep_scale(p);
  for_each_element(n, [=](int64_t i) {
    const bool keep = dropout_uniform(seed, offset + static_cast<uint64_t>(i)) >= p;
    mask[i] = keep ? 1 : 0;
    out[i] = keep ? static_cast<T>(static_cast<double>(x[i]) * scale) : T(0);
  });
}

template <typename T>
void dropout_backward(const T* grad_out, const uint8_t* mask, T* grad_in, int64_t n, double p) {
  const double scale = keep_scale(p);
  for_each_element(n, [=](int64_t i) {
    grad_in[i] = mask[i] != 0 ? static_cast<T>(static_cast<double>(grad_out[i]) * scale) : T(0);
  });
}

template void dropout_forward<float>(const float*, float*, uint8_t*, int64_t, double, uint64_t,
                                     uint64_t);
template void dropout_forward<double>(const double*, double*, uint8_t*, int64_t, double,
                                      uint64_t, uint64_t);
template void dropout_backward<float>(const float*, const uint8_t*, float*, int64_t, double);
template void dropout_backward<double>(const double*, const uint8_t*, double*, int64_t, double);

}  // namespace axonic::cpu
