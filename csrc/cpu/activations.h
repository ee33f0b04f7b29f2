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
#include <string>

namespace axonic::cpu {

enum class ActivationKind {
  linear,
  sigmoid,
  tanh,
  relu,
  leaky_relu,
  elu,
  selu,
  gelu,       // exact: x * Phi(x), Phi the standard normal CDF
  gelu_tanh,  // the tanh approximation of gelu
  silu,       // x * sigmoid(x)
};

// The kind named `name` ("relu", "gelu_tanh", ...). Throws std::invalid_argument
// listing the valid names for anything else.
ActivationKind parse_activation_kind(const std::string& name);

// The alpha a kind uses when the caller gives none, as spec.DEFAULT_ALPHA:
// leaky_relu 0.01, elu 1.0, and 0 for the kinds that ignore alpha.
double default_activation_alpha(ActivationKind kind);

template <typename T>
void activation_forward(ActivationKind kind, const T* x, T* y, int64_t n, double alpha);

template <typename T>
void activation_backward(ActivationKind kind, const T* saved, const T* grad_out, T* grad_in,
                         int64_t n, double alpha);

}  // namespace axonic::cpu
