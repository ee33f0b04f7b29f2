// The activation kinds of activation_forward / activation_backward, shared by the CPU
// kernels (cpu/activations.h), the CUDA kernels (cuda/activations.h) and both modules'
// bindings: the names spec.ACTIVATIONS lists, in that order, and each kind's default
// alpha (spec.DEFAULT_ALPHA). The mathematics is python/axonic/backends/reference.py's.
#pragma once

#include <string>

namespace axonic {

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

}  // namespace axonic
