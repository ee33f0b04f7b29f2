// Batch normalization over the channel axis of a C-contiguous array viewed as
// (N, C, S): S = H*W for (N, C, H, W), L for (N, C, L), 1 for (N, C). Statistics are
// per channel, over the M = N*S values of that channel. weight and bias (C) may be
// null (affine=False: weight 1, bias 0); so may the running buffers (C) in training
// (track_running_stats=False). save_mean and save_invstd (C) receive the batch mean
// and 1/sqrt(biased var + eps) for the backward. Outputs must not overlap inputs; the
// binding checks shapes. The algorithm is described in batch_norm.cpp, the
// mathematics is that of python/axonic/backends/reference_batch_norm.py.
#pragma once

#include <cstdint>

namespace axonic::cpu {

// Training: out = (x - mean) * invstd * weight + bias with batch statistics, and
// running = (1 - momentum) * running + momentum * stat (unbiased variance). Needs M >= 2.
template <typename T>
void batch_norm_forward_train(const T* x, const T* weight, const T* bias, T* running_mean,
                              T* running_var, T* out, T* save_mean, T* save_invstd, int64_t n,
                              int64_t c, int64_t s, double momentum, double eps);

// Evaluation: out = (x - running_mean) / sqrt(running_var + eps) * weight + bias.
template <typename T>
void batch_norm_forward_eval(const T* x, const T* weight, const T* bias, const T* running_mean,
                             const T* running_var, T* out, int64_t n, int64_t c, int64_t s,
                             double eps);

// Backward of the training forward. grad_weight and grad_bias (C) may be null (not
// wanted); weight may be null (affine=False).
template <typename T>
void batch_norm_backward(const T* grad_out, const T* x, const T* weight, const T* save_mean,
                         const T* save_invstd, T* grad_in, T* grad_weight, T* grad_bias,
                         int64_t n, int64_t c, int64_t s);

}  // namespace axonic::cpu
