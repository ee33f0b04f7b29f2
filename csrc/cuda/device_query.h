// Device queries through the statically linked CUDA runtime: they work (and
// answer "no device") on machines with no driver or GPU, so the module always imports.
#pragma once

#include <string>

namespace axonic::cuda {

struct DeviceReport {
  int count;           // usable CUDA devices, 0 when none
  std::string reason;  // why count is 0 ("no CUDA driver", ...), empty otherwise
};

DeviceReport query_devices();
int runtime_version();
std::string device_name(int index);

}  // namespace axonic::cuda
