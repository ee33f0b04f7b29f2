// Per-ISA max-pooling forward of one plane, for the common window shapes.
// pooling_arch.cpp is compiled once per ISA in CMakeLists.txt, each time with
// -DAXONIC_ISA=<isa> and that ISA's flags, which puts its definitions in namespace
// axonic::cpu::<isa>. pooling_max.cpp keeps the general path (other shapes), the
// threading over planes and the backward pass; it fetches the active ISA's kernel once
// per call.
#pragma once

#include <cstdint>

#include "cpu/pooling.h"

namespace axonic::cpu {

// The outputs whose whole window lies inside the input plane: rows [row_lo, row_hi) x
// columns [col_lo, col_hi); either span may be empty.
struct PoolInterior {
  int64_t row_lo, row_hi, col_lo, col_hi;
};

// Max pooling of one plane, every output: x, out and argmax point at the plane's first
// element (pooling.h's layout); interior is pool_interior(g).
template <typename T>
using MaxPoolPlaneFn = void (*)(const T* x, T* out, int64_t* argmax, const Pool2dGeometry& g,
                                const PoolInterior& interior);

}  // namespace axonic::cpu

// max_pool_plane_kernel<T>(g): the kernel for g's window shape, or nullptr when the
// shape has none (pooling_windows.h's with_fixed_window lists the shapes).
#define AXONIC_DECLARE_POOLING_ISA(isa)                                      \
  namespace axonic::cpu::isa {                                               \
  template <typename T>                                                      \
  MaxPoolPlaneFn<T> max_pool_plane_kernel(const Pool2dGeometry& g);          \
  }

AXONIC_DECLARE_POOLING_ISA(generic)
#ifdef AXONIC_HAVE_ISA_avx2
AXONIC_DECLARE_POOLING_ISA(avx2)
#endif
#ifdef AXONIC_HAVE_ISA_avx512
AXONIC_DECLARE_POOLING_ISA(avx512)
#endif
