#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

#include "cuda/device_query.h"

namespace axonic::cuda {

DeviceReport query_devices() {
  int count = 0;
  cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    cudaGetLastError();  // clear the sticky error so later queries start clean
    return {0, std::string(cudaGetErrorName(err)) + ": " + cudaGetErrorString(err)};
  }
  if (count == 0) return {0, "the CUDA driver reports no devices"};
  return {count, ""};
}

int runtime_version() {
  int version = 0;
  cudaRuntimeGetVersion(&version);
  return version;
}

std::string device_name(int index) {
  cudaDeviceProp prop;
  cudaError_t err = cudaGetDeviceProperties(&prop, index);
  if (err != cudaSuccess)
    throw std::invalid_argument("no CUDA device " + std::to_string(index) + ": " +
                                cudaGetErrorString(err));
  return prop.name;
}

}  // namespace axonic::cuda
