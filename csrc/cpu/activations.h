// Elementwise activations and their derivatives on flat buffers of n elements
// (the tensor's shape does not matter; the binding checks that all buffers agree):
//   activation_forward:  y[i] = f(x[i])
//   activation_backward: grad_in[i] = grad_out[i] * f'(saved[i])
// saved is the forward output y for sigmoid and tanh (spec.BACKWARD_FROM_OUTPUT)
// and the input x for every other kind. alpha is leaky_relu's negative slope and
// elu's alpha; the other kinds ignore it. The mathematics is that of
// python/axonic/backends/reference.py.
#pragma once

#include <cstdint>

#include "common/activation_kind.h"

namespace axonic::cpu {

// The kinds and their names and default alphas live in common/activation_kind.h,
// shared with the CUDA kernels and the bindings.
using axonic::ActivationKind;

template <typename T>
void activation_forward(ActivationKind kind, const T* x, T* y, int64_t n, double alpha);

template <typename T>
void activation_backward(ActivationKind kind, const T* saved, const T* grad_out, T* grad_in,
                         int64_t n, double alpha);

}  // namespace axonic::cpu
