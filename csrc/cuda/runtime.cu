#include "cuda/runtime.cuh"

#include <stdexcept>
#include <string>

namespace axonic::cuda {

void throw_cuda_error(cudaError_t err, const char* what, const char* file, int line) {
  cudaGetLastError();  // clear it, so the next launch check does not report it again
  throw std::runtime_error(std::string("CUDA error ") + cudaGetErrorName(err) + " (" +
                           cudaGetErrorString(err) + ") in " + what + " at " + file + ":" +
                           std::to_string(line));
}

int multiprocessor_count() {
  int device = 0, count = 0;
  AXONIC_CUDA_CHECK(cudaGetDevice(&device));
  AXONIC_CUDA_CHECK(cudaDeviceGetAttribute(&count, cudaDevAttrMultiProcessorCount, device));
  return count;
}

}  // namespace axonic::cuda
