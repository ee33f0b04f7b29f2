#include "common/activation_kind.h"

#include "common/checks.h"

namespace axonic {

namespace {

// Names in ActivationKind order; spec.ACTIVATIONS lists the same.
constexpr const char* kActivationNames[] = {
    "linear", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu", "gelu", "gelu_tanh", "silu",
};

}  // namespace

ActivationKind parse_activation_kind(const std::string& name) {
  constexpr int count = sizeof(kActivationNames) / sizeof(kActivationNames[0]);
  std::string valid;
  for (int i = 0; i < count; ++i) {
    if (name == kActivationNames[i]) return static_cast<ActivationKind>(i);
    valid += (i ? ", " : "");
    valid += kActivationNames[i];
  }
  throw std::invalid_argument(concat("unknown activation '", name, "'; expected one of ", valid));
}

double default_activation_alpha(ActivationKind kind) {
  switch (kind) {
    case ActivationKind::leaky_relu: return 0.01;
    case ActivationKind::elu: return 1.0;
    default: return 0.0;
  }
}

}  // namespace axonic
