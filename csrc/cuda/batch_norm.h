// Host launchers of batch normalization on CUDA arrays (batch_norm.cu): the contract
// of cpu/batch_norm.h (x viewed as (N, C, S), per-channel arrays (C), null weight,
// bias, running buffers and backward outputs allowed where it allows them) on device
// pointers, launched on `stream`, asynchronous to the host.
#pragma once

#include <cstdint>

#include "cuda/stream.h"

namespace axonic::cuda {

// Training: batch statistics (two passes in double), out, save_mean, save_invstd, and
// the running buffers updated in place with the unbiased variance. Needs N*S >= 2.
template <typename T>
void batch_norm_forward_train(const T* x, const T* weight, const T* bias, T* running_mean,
                              T* running_var, T* out, T* save_mean, T* save_invstd, int64_t n,
                              int64_t c, int64_t s, double momentum, double eps,
                              cudaStream_t stream);

// Evaluation: out = (x - running_mean) / sqrt(running_var + eps) * weight + bias.
template <typename T>
void batch_norm_forward_eval(const T* x, const T* weight, const T* bias, const T* running_mean,
                             const T* running_var, T* out, int64_t n, int64_t c, int64_t s,
                             double eps, cudaStream_t stream);

// Backward of the training forward from its saved mean and invstd.
template <typename T>
void batch_norm_backward(const T* grad_out, const T* x, const T* weight, const T* save_mean,
                         const T* save_invstd, T* grad_in, T* grad_weight, T* grad_bias,
                         int64_t n, int64_t c, int64_t s, cudaStream_t stream);

}  // namespace axonic::cuda
