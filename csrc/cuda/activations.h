// Host launchers of the elementwise activations on the GPU (activations.cu): flat
// device buffers of n elements, the contract of cpu/activations.h:
//   activation_forward:  y[i] = f(x[i])
//   activation_backward: grad_in[i] = grad_out[i] * f'(saved[i])
// saved is the forward output y for sigmoid and tanh and the input x otherwise; alpha
// is leaky_relu's slope and elu's alpha. Buffers must not overlap. Asynchronous on
// `stream`.
#pragma once

#include <cstdint>

#include "common/activation_kind.h"
#include "cuda/stream.h"

namespace axonic::cuda {

template <typename T>
void activation_forward(ActivationKind kind, const T* x, T* y, int64_t n, double alpha,
                        cudaStream_t stream);

template <typename T>
void activation_backward(ActivationKind kind, const T* saved, const T* grad_out, T* grad_in,
                         int64_t n, double alpha, cudaStream_t stream);

}  // namespace axonic::cuda
