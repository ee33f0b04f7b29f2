// <cuda_runtime.h> for the emulated build: files that include the runtime directly
// (csrc/cuda/device_query.cu) get the emulator (build.py puts this folder on the
// include path; the real toolkit's headers are not).
#pragma once

#include "cuda_emulator.h"
