// cudaStream_t for the host-side declarations in csrc/cuda/*.h, which the bindings
// (plain C++) include: the runtime's type, or the emulator's in the CPU-side tests.
#pragma once

#ifdef AXONIC_CUDA_EMULATION
#include "cuda_emulator.h"
#else
#include <driver_types.h>
#endif
