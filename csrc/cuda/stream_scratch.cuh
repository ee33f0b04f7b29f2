// Device scratch memory whose lifetime is ordered on a stream: allocated with
// cudaMallocAsync and freed with cudaFreeAsync on the same stream when the owner
// goes out of scope, so kernels launched on that stream in between may use it and
// the host never waits. For small per-call buffers (a launch's table of tensors,
// per-block partial sums); the stream-ordered pool makes repeated calls cheap.
#pragma once

#include <cstddef>

#include "cuda/runtime.cuh"

namespace axonic::cuda {

class StreamScratch {
 public:
  StreamScratch(size_t bytes, cudaStream_t stream) : stream_(stream) {
    if (bytes > 0) AXONIC_CUDA_CHECK(cudaMallocAsync(&data_, bytes, stream));
  }
  ~StreamScratch() {
    if (data_ != nullptr) cudaFreeAsync(data_, stream_);  // no throw from a destructor
  }
  StreamScratch(const StreamScratch&) = delete;
  StreamScratch& operator=(const StreamScratch&) = delete;

  template <typename T>
  T* get() const { return static_cast<T*>(data_); }

 private:
  void* data_ = nullptr;
  cudaStream_t stream_;
};

}  // namespace axonic::cuda
